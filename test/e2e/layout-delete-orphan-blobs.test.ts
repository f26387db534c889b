import { createHash } from 'node:crypto';
import { readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * chaos s22 F4: a `delete` on an OCI layout killed between its index.json write and its blob removals leaves the
 * version's blobs (a layer can be hundreds of MB) in blobs/sha256 with nothing naming them, and no later run removed
 * them. Now a delete also removes, under the index lock, the blobs no remaining entry references that have not
 * changed for an hour; a fresh unreferenced blob (a live push writes its blobs before it tags them) stays.
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-layout-orphans-');
  const layout = join(root, 'layout');
  for (const version of ['1.0.0', '1.1.0']) {
    const push = await runCli(['push', await writePack(join(root, version), { name: 'd', version }), '--oci-layout', layout]);
    if (push.code !== 0) throw new Error(push.stderr);
  }
  return { root, layout, blobs: join(layout, 'spectro-packs/archive/d/blobs/sha256') };
});

/** A blob file no manifest names, last changed `ageMs` ago. */
async function orphan(text: string, ageMs: number): Promise<string> {
  const hex = createHash('sha256').update(text).digest('hex');
  await writeFile(join(w.blobs, hex), text);
  const at = (Date.now() - ageMs) / 1000;
  await utimes(join(w.blobs, hex), at, at);
  return hex;
}

describe('delete on an OCI layout', () => {
  it('removes blobs an earlier killed delete left unreferenced, an hour old; a fresh one and every referenced blob stay', async () => {
    const old = await orphan('a layer a killed delete left', 2 * 3_600_000);
    const fresh = await orphan('a layer a live push is about to tag', 60_000);
    const before = await readdir(w.blobs);
    const run = await runCli(['delete', 'd:1.0.0', '--oci-layout', w.layout, '--force']);
    expect(run.code, run.stderr).toBe(0);
    const after = await readdir(w.blobs);
    expect(after).not.toContain(old);
    expect(after).toContain(fresh);
    // 1.1.0 is whole: it pulls.
    const pull = await runCli(['pull', 'd:1.1.0', '--oci-layout', w.layout, '-o', join(w.root, 'pulled')]);
    expect(pull.code, pull.stderr).toBe(0);
    // Only 1.0.0's own blobs (its manifest and layer) and the old orphan went.
    expect(before.length - after.length).toBe(3);
  });
});
