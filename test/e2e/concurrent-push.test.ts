import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, spawnCli } from '../support/cli.js';
import { packTree, proxiedRegistry } from '../support/push-setup.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';

/*
 * issue 6: two publishers pushing the same packs at the same time both finish successfully with identical
 * results, on a registry and on one OCI layout directory (whose index.json is guarded by a lock file).
 * SOURCE_DATE_EPOCH makes both build the same manifests. One publisher is a process of the built CLI, the
 * other the same CLI code in this (test) process: two processes race on the target, as two users' do, for
 * one CLI start-up instead of two.
 */

interface Report {
  ok: boolean;
  results: Array<{ name: string; version: string; status: string; digest?: string }>;
}

function digests(report: Report): Record<string, string | undefined> {
  return Object.fromEntries(report.results.map((r) => [`${r.name}:${r.version}`, r.digest]));
}

describe('two publishers at the same time', () => {
  const w = setup(async (stack) => {
    const reg = await proxiedRegistry(stack);
    const work = await packTree(stack, 12, { seed: 13, prefix: 'twin', payloadBytes: [20_000, 300_000] });
    return { reg, work };
  });

  /** Start both runs before awaiting either; different concurrency so their requests interleave differently. */
  async function both(target: string[]): Promise<[Report, Report]> {
    const args = (c: number) => ['push', w.work.tree, '--recursive', ...target, '--concurrency', String(c), '--json'];
    const [a, b] = await Promise.all([spawnCli(args(2), { env: w.work.env }).done, runCli(args(3), { env: w.work.env })]);
    expect(a?.code, a?.stderr).toBe(0);
    expect(b?.code, b?.stderr).toBe(0);
    return [JSON.parse(a?.stdout ?? '') as Report, JSON.parse(b?.stdout ?? '') as Report];
  }

  const expectedTags = (prefix: string) => w.work.packs.map((p) => `${prefix}spectro-packs/archive/${p.name}:${p.version}`).sort();

  it('to one registry: both succeed with identical manifest digests per tag', async () => {
    const [a, b] = await both(['--registry', `${w.reg.registry.host}/twins`]);
    for (const report of [a, b]) {
      expect(report.ok).toBe(true);
      expect(report.results.filter((r) => r.status !== 'published' && r.status !== 'unchanged')).toEqual([]);
    }
    expect(digests(a)).toEqual(digests(b));
    const holdings = await w.reg.reader.holdings('twins');
    expect(holdings.problems).toEqual([]);
    expect([...holdings.tags.keys()].sort()).toEqual(expectedTags('twins/'));
    for (const r of a.results) expect(holdings.tags.get(`twins/spectro-packs/archive/${r.name}:${r.version}`)).toBe(r.digest);
  });

  it('to one OCI layout directory: both succeed, and index.json names every tag once', async () => {
    const layout = join(w.work.root, 'layout');
    const [a, b] = await both(['--oci-layout', layout]);
    expect(digests(a)).toEqual(digests(b));
    const holdings = await layoutHoldings(layout);
    expect(holdings.problems).toEqual([]);
    expect([...holdings.tags.keys()].sort()).toEqual(expectedTags(''));
    for (const r of a.results) expect(holdings.tags.get(`spectro-packs/archive/${r.name}:${r.version}`)).toBe(r.digest);
    for (const p of w.work.packs) {
      const dir = join(layout, 'spectro-packs/archive', p.name);
      const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: unknown[] };
      expect(index.manifests).toHaveLength(1);
      // no temp or lock file left behind
      expect((await readdir(dir)).filter((f) => f.includes('.tmp-') || f.endsWith('.lock'))).toEqual([]);
    }
  });
});
