import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { sharedRegistry } from '../support/registry.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';

/*
 * `copy --to oci:DIR` again after a blob of the copied version was removed from the layout (by hand, a cleanup):
 * the tag still held the source's digest, so the copy said "unchanged", exit 0, and pull then failed on the
 * missing blob. The copy now finds the version's blobs missing from the layout (a file check each), writes them
 * again from the source and says so; the version stays unchanged (same digest).
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-copy-repair-');
  const registry = await sharedRegistry();
  const R = `${registry.host}/${registry.base}/src`;
  const push = await runCli(['push', await writePack(join(root, 'hello'), { name: 'hello', version: '1.0.0' }), '--registry', R]);
  if (push.code !== 0) throw new Error(push.stderr);
  return { root, R };
});

describe('copy to an OCI layout missing a blob of the version', () => {
  it('writes the blob again and says so (was: "unchanged", exit 0, pull failing); the next copy is plain unchanged', async () => {
    const layout = join(w.root, 'layout');
    const copy = ['copy', 'hello:1.0.0', '--from', w.R, '--to', `oci:${layout}`];
    expect((await runCli(copy)).code).toBe(0);
    const repo = join(layout, 'spectro-packs/archive/hello');
    const inspect = await runCli(['inspect', 'hello:1.0.0', '--oci-layout', layout, '--json']);
    const layer = (JSON.parse(inspect.stdout) as { layer: { digest: string } }).layer.digest;
    const blob = join(repo, 'blobs/sha256', layer.slice('sha256:'.length));
    const bytes = await readFile(blob);
    await rm(blob);

    const dry = await runCli([...copy, '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    expect((JSON.parse(dry.stdout) as { results: Array<Record<string, unknown>> }).results[0]).toMatchObject({ status: 'planned', plan: 'unchanged', bytesToCopy: bytes.length });
    expect(existsSync(blob)).toBe(false);

    const again = await runCli([...copy, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(stackLines(again.stderr)).toEqual([]);
    const result = (JSON.parse(again.stdout) as { results: Array<Record<string, unknown>> }).results[0];
    expect(result).toMatchObject({ status: 'unchanged', copiedBytes: bytes.length });
    expect(result?.['warnings']).toEqual([{ message: `oci:${repo}:1.0.0 held this manifest, but ${layer} was missing from the layout: written again from the source` }]);
    expect((await readFile(blob)).equals(bytes)).toBe(true);
    const pulled = await runCli(['pull', 'hello:1.0.0', '--oci-layout', layout, '-o', join(w.root, 'pulled')]);
    expect(pulled.code, pulled.stderr).toBe(0);

    const text = await runCli(copy);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('1 unchanged');
    expect(text.stderr).toBe('');
  });
});
