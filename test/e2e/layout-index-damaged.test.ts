import { randomBytes } from 'node:crypto';
import { rename, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';

/*
 * chaos s22 F10: an OCI layout's index.json cut short or emptied (a host crash before its data reached the disk, a
 * copy of the layout killed mid-file) stopped every command on that repository with "is not a valid OCI index" and
 * no way forward. The tags live only there; the blobs are still in blobs/sha256. The error now says so and what to
 * do, and doing it works: with the index moved aside, the push writes the tags again without sending a blob twice.
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-index-damaged-');
  const pack = await writePack(join(root, 'pack'), { name: 'idx', version: '1.0.0', files: { 'payload.bin': randomBytes(40_000) } });
  return { root, pack, env: { SOURCE_DATE_EPOCH: '1700000000' } };
});

describe('an OCI layout whose index.json is cut short', () => {
  it('refused with a hint naming the way on; following it, the next push tags again without writing the blobs twice', async () => {
    const layout = join(w.root, 'layout');
    expectRun(await runCli(['push', w.pack, '--oci-layout', layout], { env: w.env }), { code: 0 });
    const index = join(layout, 'spectro-packs/archive/idx/index.json');
    await truncate(index, 40);

    const refused = await runCli(['push', w.pack, '--oci-layout', layout], { env: w.env });
    expectRun(refused, {
      code: 1,
      stderr: [
        `${index} is not a valid OCI index`,
        "the layout's index is damaged (a crash, or a copy of the layout cut short?) and its tags with it: restore it from where the layout came from, or move it aside and push or copy the versions again",
      ],
    });
    await rename(index, `${index}.damaged`);
    const again = await runCli(['push', w.pack, '--oci-layout', layout], { env: w.env });
    expectRun(again, { code: 0, stdout: ['1 published', 'uploaded 0 B'] });
    expect((await layoutHoldings(layout)).problems).toEqual([]);
    expectRun(await runCli(['pull', 'idx:1.0.0', '--oci-layout', layout, '-o', join(w.root, 'pulled')]), { code: 0 });
  });
});
