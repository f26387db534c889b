import { describe, expect, it } from 'vitest';
import { Prng } from '../support/prng.js';
import { runCli, spawnCli, type SpawnedCli } from '../support/cli.js';
import { packTree, proxiedRegistry } from '../support/push-setup.js';
import { setup } from '../support/stage.js';

/*
 * issue 6, "Order guarantees": the built CLI pushing a tree of packs is SIGKILLed at seeded random points,
 * some counted in registry requests, some in milliseconds. After every kill, each tag must point at a
 * manifest whose blobs are all present; then a normal run completes. distribution itself refuses a manifest
 * whose blobs it lacks, so the same is done against the OCI layout store (kill-sigkill-layout.test.ts).
 */

const BASE = 'killed';

describe('push killed with SIGKILL at random points', () => {
  const w = setup(async (stack) => {
    const reg = await proxiedRegistry(stack);
    const work = await packTree(stack, 14, { seed: 9, prefix: 'kill', payloadBytes: [100_000, 600_000] });
    return { reg, work };
  });

  const args = () => ['push', w.work.tree, '--recursive', '--registry', `${w.reg.proxy.host}/${BASE}`, '--concurrency', '3'];
  const push = (): SpawnedCli => spawnCli(args(), { env: w.work.env });

  it('never leaves a tag pointing at missing content, and the next run completes', async () => {
    const prng = new Prng(20261122);
    const tagCounts: number[] = [];
    let interrupted = 0;
    for (let round = 0; round < 6; round++) {
      const byRequests = round % 2 === 0;
      const point = byRequests ? prng.int(2, 30) : prng.int(20, 700);
      let seen = 0;
      let timer: NodeJS.Timeout | undefined;
      const run = push();
      const kill = () => run.child.kill('SIGKILL');
      w.reg.proxy.onRequest = () => {
        seen++;
        if (byRequests && seen === point) kill();
        if (!byRequests && seen === 1) timer = setTimeout(kill, point);
        return 'pass';
      };
      const result = await run.done;
      clearTimeout(timer);
      w.reg.proxy.onRequest = undefined;
      // A run that finished before its kill point is fine too; the invariant must hold either way.
      expect(result.signal === 'SIGKILL' || result.code === 0, `round ${round}: ${result.stderr}`).toBe(true);
      const holdings = await w.reg.reader.holdings(BASE);
      expect(holdings.problems, `round ${round} (${byRequests ? `${point} requests` : `${point} ms`})`).toEqual([]);
      tagCounts.push(holdings.tags.size);
      if (result.signal === 'SIGKILL' && holdings.tags.size < w.work.packs.length) interrupted++;
    }
    // Work accumulates across killed runs (never lost, never corrupted).
    for (let i = 1; i < tagCounts.length; i++) expect(tagCounts[i]).toBeGreaterThanOrEqual(tagCounts[i - 1] ?? 0);
    expect(interrupted).toBeGreaterThan(0); // the first kill, 2 to 30 requests into an empty registry, always interrupts

    // The run that completes the work is in-process: what it proves is the registry's state, not a process.
    const final = await runCli(args(), { env: w.work.env });
    expect(final.code, final.stderr).toBe(0);
    expect(final.stdout).toMatch(new RegExp(`${w.work.packs.length} pack\\(s\\) to registry ${w.reg.proxy.host}/${BASE}: .*`));
    expect(final.stdout).not.toMatch(/failed/);
    const holdings = await w.reg.reader.holdings(BASE);
    expect(holdings.problems).toEqual([]);
    expect([...holdings.tags.keys()].sort()).toEqual(w.work.packs.map((p) => `${BASE}/spectro-packs/archive/${p.name}:${p.version}`).sort());
  }, 300_000); // seven runs of the built CLI over 14 packs: minutes on a loaded 2-core machine
});
