import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prng } from '../support/prng.js';
import { startRecordingProxy, type RecordingProxy } from '../support/recording-proxy.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { spawnCli, type SpawnedCli } from '../support/cli.js';
import { tempDir } from '../support/files.js';
import { type GeneratedPack, generatePacks } from '../support/packs.js';
import { layoutHoldings, RegistryReader } from '../support/registry-reader.js';
import { stage } from '../support/stage.js';

/*
 * issue 6, "Order guarantees": the built CLI pushing a tree of packs is SIGKILLed at seeded random points,
 * some counted in registry requests, some in milliseconds. After every kill, each tag must point at a
 * manifest whose blobs are all present; then a normal run completes. distribution itself refuses a manifest
 * whose blobs it lacks, so the same is done against the OCI layout store, which checks nothing.
 */

const BASE = 'killed';

describe('push killed with SIGKILL at random points', () => {
  const stack = stage();
  let registry: RunningRegistry;
  let proxy: RecordingProxy;
  let reader: RegistryReader;
  let root: string;
  let packs: GeneratedPack[];
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    root = await stack.tempDir('packpub-kill-');
    registry = stack.add(await startRegistry());
    proxy = stack.add(await startRecordingProxy(registry.host));
    reader = new RegistryReader(registry.url);
    packs = await generatePacks(join(root, 'tree'), 14, { seed: 9, prefix: 'kill', payloadBytes: [100_000, 600_000] });
    // Temp files of killed runs land in a folder of the test's own.
    env = { SOURCE_DATE_EPOCH: '1700000000', TMPDIR: join(root, 'tmp'), PACKPUB_CACHE_DIR: join(root, 'cache') };
    await mkdir(join(root, 'tmp'));
  });

  const push = (): SpawnedCli => spawnCli(['push', join(root, 'tree'), '--recursive', '--registry', `${proxy.host}/${BASE}`, '--concurrency', '3'], { env });

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
      proxy.onRequest = () => {
        seen++;
        if (byRequests && seen === point) kill();
        if (!byRequests && seen === 1) timer = setTimeout(kill, point);
        return 'pass';
      };
      const result = await run.done;
      clearTimeout(timer);
      proxy.onRequest = undefined;
      // A run that finished before its kill point is fine too; the invariant must hold either way.
      expect(result.signal === 'SIGKILL' || result.code === 0, `round ${round}: ${result.stderr}`).toBe(true);
      const holdings = await reader.holdings(BASE);
      expect(holdings.problems, `round ${round} (${byRequests ? `${point} requests` : `${point} ms`})`).toEqual([]);
      tagCounts.push(holdings.tags.size);
      if (result.signal === 'SIGKILL' && holdings.tags.size < packs.length) interrupted++;
    }
    // Work accumulates across killed runs (never lost, never corrupted).
    for (let i = 1; i < tagCounts.length; i++) expect(tagCounts[i]).toBeGreaterThanOrEqual(tagCounts[i - 1] ?? 0);
    expect(interrupted).toBeGreaterThan(0); // the first kill, 2 to 30 requests into an empty registry, always interrupts

    const final = await push().done;
    expect(final.code, final.stderr).toBe(0);
    expect(final.stdout).toMatch(new RegExp(`${packs.length} pack\\(s\\) to registry ${proxy.host}/${BASE}: .*`));
    expect(final.stdout).not.toMatch(/failed/);
    const holdings = await reader.holdings(BASE);
    expect(holdings.problems).toEqual([]);
    expect([...holdings.tags.keys()].sort()).toEqual(packs.map((p) => `${BASE}/spectro-packs/archive/${p.name}:${p.version}`).sort());
  });
});


describe('push to an OCI layout killed with SIGKILL at random points', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let packs: GeneratedPack[];
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    ({ dir: root, cleanup } = await tempDir('packpub-kill-layout-'));
    packs = await generatePacks(join(root, 'tree'), 14, { seed: 10, prefix: 'lay', payloadBytes: [300_000, 2_500_000] });
    env = { SOURCE_DATE_EPOCH: '1700000000', TMPDIR: join(root, 'tmp'), PACKPUB_CACHE_DIR: join(root, 'cache') };
    await mkdir(join(root, 'tmp'));
  });

  afterAll(async () => cleanup?.());

  it('never leaves a tag pointing at a missing or partial blob, and the next run completes', async () => {
    const layout = join(root, 'store');
    const push = () => spawnCli(['push', join(root, 'tree'), '--recursive', '--oci-layout', layout, '--concurrency', '3'], { env });
    const prng = new Prng(1122);
    let interrupted = 0;
    for (let round = 0; round < 6; round++) {
      // Killed a little after the k-th pack result line: anchored in progress, not in wall time, so the
      // first round (k <= 6 of 14 packs, no extra delay) always interrupts the work on any machine.
      const k = prng.int(1, 6);
      const extraMs = round === 0 ? 0 : prng.int(0, 60);
      const run = push();
      let lines = 0;
      run.child.stdout?.on('data', (chunk: Buffer) => {
        lines += (chunk.toString().match(/^(published|unchanged) /gm) ?? []).length;
        if (lines >= k) setTimeout(() => run.child.kill('SIGKILL'), extraMs);
      });
      const result = await run.done;
      expect(result.signal === 'SIGKILL' || result.code === 0, `round ${round}: ${result.stderr}`).toBe(true);
      const holdings = await layoutHoldings(layout);
      expect(holdings.problems, `round ${round} (killed ${extraMs} ms after ${k} results)`).toEqual([]);
      if (result.signal === 'SIGKILL' && holdings.tags.size < packs.length) interrupted++;
    }
    expect(interrupted).toBeGreaterThan(0);

    const final = await push().done;
    expect(final.code, final.stderr).toBe(0);
    const holdings = await layoutHoldings(layout);
    expect(holdings.problems).toEqual([]);
    expect([...holdings.tags.keys()].sort()).toEqual(
      packs.map((p) => `spectro-packs/archive/${p.name}:${p.version}`).sort(),
    );
  });
});
