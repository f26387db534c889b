import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, spawnCli } from '../support/cli.js';
import { packTree, sharedProxiedRegistry } from '../support/push-setup.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';

/*
 * issue 6: two publishers pushing the same packs at the same time both finish successfully with identical
 * results, on a registry and on one OCI layout directory (whose index.json is guarded by a lock file).
 * SOURCE_DATE_EPOCH makes both build the same manifests. Each run publishes to the registry and the layout at
 * once (one build per pack for both), so one race covers both stores. One publisher is a process of the built
 * CLI, the other the same CLI code in this (test) process: two processes race on the targets, as two users'
 * do, for one CLI start-up instead of two.
 */

interface Report {
  ok: boolean;
  results: Array<{ target: string; name: string; version: string; status: string; digest?: string }>;
}

function digests(report: Report): Record<string, string | undefined> {
  return Object.fromEntries(report.results.map((r) => [`${r.name}:${r.version}`, r.digest]));
}

describe('two publishers at the same time', () => {
  const w = setup(async (stack) => {
    const reg = await sharedProxiedRegistry(stack);
    const work = await packTree(stack, 12, { seed: 13, prefix: 'twin', payloadBytes: [20_000, 300_000] });
    const layout = join(work.root, 'layout');
    // Each run publishes to both targets (each pack built once, written to both), so the two publishers race
    // on the registry and on the layout at once.
    await writeFile(join(work.root, 'packpub.yaml'), `targets:\n  reg:\n    registry: ${reg.registry.host}/${reg.registry.base}/twins\n  lay:\n    ociLayout: ${layout}\n`);
    return { reg, work, layout };
  });

  const expectedTags = (prefix: string) => w.work.packs.map((p) => `${prefix}spectro-packs/archive/${p.name}:${p.version}`).sort();

  it('to one registry and one OCI layout directory: both succeed with identical manifest digests per tag, and index.json names every tag once', async () => {
    // Both start before either is awaited; different concurrency so their requests interleave differently.
    const args = (c: number) => ['push', w.work.tree, '--recursive', '--target', 'reg', '--target', 'lay', '--concurrency', String(c), '--json'];
    const runs = await Promise.all([spawnCli(args(2), { env: w.work.env, cwd: w.work.root }).done, runCli(args(3), { env: w.work.env, cwd: w.work.root })]);
    const reports = runs.map((run) => {
      expect(run.code, run.stderr).toBe(0);
      return JSON.parse(run.stdout) as Report;
    });
    const registryResults = reports.map((r) => ({ ...r, results: r.results.filter((x) => x.target.startsWith('registry ')) }));
    const layoutResults = reports.map((r) => ({ ...r, results: r.results.filter((x) => x.target.startsWith('oci-layout ')) }));
    for (const report of reports) {
      expect(report.ok).toBe(true);
      expect(report.results).toHaveLength(w.work.packs.length * 2);
      expect(report.results.filter((r) => r.status !== 'published' && r.status !== 'unchanged')).toEqual([]);
    }

    // The registry: identical digests from both runs, each tag holding what they reported.
    const [a, b] = registryResults as [Report, Report];
    expect(a.results).toHaveLength(w.work.packs.length);
    expect(digests(a)).toEqual(digests(b));
    const holdings = await w.reg.reader.holdings(`${w.reg.registry.base}/twins`);
    expect(holdings.problems).toEqual([]);
    expect([...holdings.tags.keys()].sort()).toEqual(expectedTags(`${w.reg.registry.base}/twins/`));
    for (const r of a.results) expect(holdings.tags.get(`${w.reg.registry.base}/twins/spectro-packs/archive/${r.name}:${r.version}`)).toBe(r.digest);

    // The layout: the same, and index.json names every tag once, with no temp or lock file left behind.
    const [la, lb] = layoutResults as [Report, Report];
    expect(la.results).toHaveLength(w.work.packs.length);
    expect(digests(la)).toEqual(digests(lb));
    const held = await layoutHoldings(w.layout);
    expect(held.problems).toEqual([]);
    expect([...held.tags.keys()].sort()).toEqual(expectedTags(''));
    for (const r of la.results) expect(held.tags.get(`spectro-packs/archive/${r.name}:${r.version}`)).toBe(r.digest);
    for (const p of w.work.packs) {
      const dir = join(w.layout, 'spectro-packs/archive', p.name);
      const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: unknown[] };
      expect(index.manifests).toHaveLength(1);
      expect((await readdir(dir)).filter((f) => f.includes('.tmp-') || f.endsWith('.lock'))).toEqual([]);
    }
  });
});
