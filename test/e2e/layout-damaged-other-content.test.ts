import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';

/*
 * review4 (s23): an OCI layout version whose layer blob is gone (removed by hand, a crash), pushed again with OTHER
 * content: push said "was replaced by another publisher during this run" (exit 1), when nothing else ran, and
 * --force, the way to replace it, failed the same way, so the version could not be repaired by a push. Now it is
 * the conflict it is, saying the blobs are missing (exit 1, the layout as it was), and --force replaces it (exit 0,
 * the layout whole). The same pack pushed again is still unchanged with its blobs written again.
 */

const REPO = 'spectro-packs/archive/dmgother';

describe('a push over an OCI layout version whose blob is gone, with other content', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir();
    const one = await writePack(join(root, 'one'), { name: 'dmgother', version: '1.0.0', files: { 'a.txt': 'one' } });
    const two = await writePack(join(root, 'two'), { name: 'dmgother', version: '1.0.0', files: { 'a.txt': 'two' } });
    return { root, one, two, env: { PACKPUB_CACHE_DIR: join(root, 'cache'), SOURCE_DATE_EPOCH: '1700000000' } };
  });

  /** Publish `one` into a new layout, then remove its layer blob; the digest of the manifest the tag holds. */
  async function damaged(layout: string): Promise<string> {
    expectRun(await runCli(['push', w.one, '--oci-layout', layout], { env: w.env }), { code: 0 });
    const index = JSON.parse(await readFile(join(layout, REPO, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
    const digest = index.manifests[0]!.digest;
    const manifest = JSON.parse(await readFile(join(layout, REPO, 'blobs', 'sha256', digest.slice(7)), 'utf8')) as { layers: Array<{ digest: string }> };
    await rm(join(layout, REPO, 'blobs', 'sha256', manifest.layers[0]!.digest.slice(7)));
    return digest;
  }

  it('without --force: a conflict that says the blobs are missing (was: "replaced by another publisher"), the tag as it was', async () => {
    const layout = join(w.root, 'conflict');
    const held = await damaged(layout);
    const run = await runCli(['push', w.two, '--oci-layout', layout, '--json'], { env: w.env });
    expectRun(run, { code: 1, stderr: ['some of whose blobs are missing from the layout', 'pass --force to replace it'] });
    expect(run.stderr).not.toContain('another publisher');
    const report = JSON.parse(run.stdout) as { results: Array<{ status: string; error?: { code: string } }> };
    expect(report.results).toMatchObject([{ status: 'conflict', error: { code: 'CONFLICT' } }]);
    expect((await layoutHoldings(layout)).tags.get(`${REPO}:1.0.0`)).toBe(held);
  });

  it('with --force: replaced, exit 0, the layout whole and pull gets the new content', async () => {
    const layout = join(w.root, 'force');
    const held = await damaged(layout);
    const run = await runCli(['push', w.two, '--oci-layout', layout, '--force'], { env: w.env });
    expectRun(run, { code: 0, stdout: ['overwritten dmgother:1.0.0'] });
    const holdings = await layoutHoldings(layout);
    expect(holdings.problems).toEqual([]);
    expect(holdings.tags.get(`${REPO}:1.0.0`)).not.toBe(held);
    const out = join(w.root, 'pulled');
    expectRun(await runCli(['pull', `oci:${layout}/${REPO}:1.0.0`, '-o', out], { env: w.env }), { code: 0 });
    expect(await readFile(join(out, 'a.txt'), 'utf8')).toBe('two');
  });

  it('the same pack again: unchanged, its blob written again, the tag as it was', async () => {
    const layout = join(w.root, 'same');
    const held = await damaged(layout);
    expectRun(await runCli(['push', w.one, '--oci-layout', layout], { env: w.env }), { code: 0, stdout: ['unchanged dmgother:1.0.0'] });
    const holdings = await layoutHoldings(layout);
    expect(holdings.problems).toEqual([]);
    expect(holdings.tags.get(`${REPO}:1.0.0`)).toBe(held);
  });
});
