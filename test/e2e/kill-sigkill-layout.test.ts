import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Prng } from '../support/prng.js';
import { runCli, spawnCli } from '../support/cli.js';
import { packTree } from '../support/push-setup.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';

/*
 * issue 6, "Order guarantees", on the OCI layout store, which (unlike distribution) checks nothing: the built
 * CLI pushing a tree of packs is SIGKILLed a little after its k-th result line; after every kill, each tag
 * must point at a manifest whose blobs are all present and whole; then a normal run completes.
 */

describe('push to an OCI layout killed with SIGKILL at random points', () => {
  const w = setup(async (stack) => {
    const work = await packTree(stack, 14, { seed: 10, prefix: 'lay', payloadBytes: [300_000, 2_500_000] });
    return { work };
  });

  it('never leaves a tag pointing at a missing or partial blob, and the next run completes', async () => {
    const layout = join(w.work.root, 'store');
    const args = ['push', w.work.tree, '--recursive', '--oci-layout', layout, '--concurrency', '3'];
    const push = () => spawnCli(args, { env: w.work.env });
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
      if (result.signal === 'SIGKILL' && holdings.tags.size < w.work.packs.length) interrupted++;
    }
    expect(interrupted).toBeGreaterThan(0);

    // The run that completes the work is in-process: what it proves is the layout's state, not a process.
    const final = await runCli(args, { env: w.work.env });
    expect(final.code, final.stderr).toBe(0);
    const holdings = await layoutHoldings(layout);
    expect(holdings.problems).toEqual([]);
    expect([...holdings.tags.keys()].sort()).toEqual(
      w.work.packs.map((p) => `spectro-packs/archive/${p.name}:${p.version}`).sort(),
    );
  });
});
