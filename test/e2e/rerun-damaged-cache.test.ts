import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { settledPackTree } from '../support/push-setup.js';
import { RegistryReader, layoutHoldings } from '../support/registry-reader.js';
import { sharedRegistry } from '../support/registry.js';
import { setup } from '../support/stage.js';
import { deadPid } from '../support/spawner.js';

/*
 * chaos s22: the cache folder a killed run or a crashed host leaves (its index cut short, a block of it zeroed, a
 * temp file of a dead run beside it), while the targets lost a version since (deleted, or never written by the
 * killed run). The re-run must converge: publish what the target lacks, say `unchanged` only for what it holds,
 * exit 0, every tag whole; a damaged cache only costs speed. Two targets at once (a registry and an OCI layout),
 * one cache; every run in-process.
 */

interface PushJson {
  results: Array<{ name: string; target: string; status: string }>;
}

describe('a re-run on a damaged cache folder, after the targets lost a version', () => {
  const w = setup(async (stack) => {
    const registry = await sharedRegistry();
    const work = await settledPackTree(stack, 3, { seed: 2212, prefix: 'dmg' });
    const layout = join(work.root, 'layout');
    const base = `${registry.base}/dmg`;
    const config = join(work.root, 'packpub.yaml');
    await writeFile(config, `targets:\n  reg:\n    registry: ${registry.host}/${base}\n  lay:\n    ociLayout: ${layout}\n`);
    const first = await runCli(['push', work.tree, '--recursive', '--target', 'reg', '--target', 'lay', '--config', config], { env: work.env });
    expect(first.code, first.stderr).toBe(0);
    return { registry, work, layout, base, config, reader: new RegistryReader(registry.url) };
  });

  const index = () => join(w.work.env['PACKPUB_CACHE_DIR'] as string, 'index.json');
  /** What a killed run or a crashed host leaves of the cache index. */
  const damages: Array<[string, (text: Buffer) => Buffer]> = [
    ['cut at half', (t) => t.subarray(0, t.length >> 1)],
    ['cut one byte short', (t) => t.subarray(0, t.length - 1)],
    ['a zeroed block in the middle (a crash before the data reached the disk)', (t) => Buffer.concat([t.subarray(0, t.length >> 2), Buffer.alloc(t.length >> 1), t.subarray((t.length >> 2) + (t.length >> 1))])],
    ['only its first line', (t) => t.subarray(0, t.indexOf(10) + 1)],
  ];

  it.each(damages.map(([what], i) => [what, i] as const))('%s: publishes the lost version on both targets, unchanged for the rest, exit 0', async (_what, i) => {
    const [, damage] = damages[i]!;
    const lost = w.work.packs[i % w.work.packs.length]!;
    const ref = `${lost.name}:${lost.version}`;
    for (const target of ['reg', 'lay']) {
      expectRun(await runCli(['delete', ref, '--target', target, '--config', w.config, '--force'], { env: w.work.env }), { code: 0 });
    }
    await writeFile(index(), damage(await readFile(index())));
    // A dead run's temp file beside it, holding a valid-looking but foreign index: never read.
    const dead = await deadPid();
    await writeFile(`${index()}.tmp-${dead}-0badc0de`, '{"version":5}\n{}\n{}\n{}\n{}\n');

    const run = await runCli(['push', w.work.tree, '--recursive', '--target', 'reg', '--target', 'lay', '--config', w.config, '--json'], { env: w.work.env });
    expect(run.code, run.stderr).toBe(0);
    const statuses = (JSON.parse(run.stdout) as PushJson).results.map((r) => `${r.name} ${r.target.startsWith('registry') ? 'reg' : 'lay'} ${r.status}`).sort();
    const want = w.work.packs.flatMap((p) => ['lay', 'reg'].map((t) => `${p.name} ${t} ${p === lost ? 'published' : 'unchanged'}`)).sort();
    expect(statuses).toEqual(want);

    const tags = w.work.packs.map((p) => `spectro-packs/archive/${p.name}:${p.version}`).sort();
    const onRegistry = await w.reader.holdings(w.base);
    const onLayout = await layoutHoldings(w.layout);
    expect(onRegistry.problems).toEqual([]);
    expect(onLayout.problems).toEqual([]);
    expect([...onRegistry.tags.keys()].sort()).toEqual(tags.map((t) => `${w.base}/${t}`));
    expect([...onLayout.tags.keys()].sort()).toEqual(tags);
  });
});
