import { readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { stage } from '../support/stage.js';
import { deadPid } from '../support/spawner.js';

/*
 * `build -o out/pack.tgz` killed while it wrote the archive (SIGKILL, a cancelled CI job: no handler runs) left
 * `out/pack.tgz.tmp-<pid>-<hex>`, up to the archive's size (measured: 5 MB of a 200 MB pack's), beside the file for
 * good; the next build wrote under another name and left it. Now a build removes the temp files of its -o that a
 * process gone on this host left and nothing wrote for ten minutes; a live run's, a recent one and other files stay.
 */

const stack = stage();

describe('temp files a killed build -o left beside the file', () => {
  it('are removed by the next build to the same file once their run is gone and they are ten minutes old (was: kept for good); others stay', async () => {
    const root = await stack.tempDir('packpub-build-temp-');
    const pack = await writePack(join(root, 'pack'), { name: 'templeft', version: '1.0.0' });
    const out = join(root, 'out');
    expectRun(await runCli(['build', pack, '-o', join(out, 'pack.tgz')]), { code: 0 });
    const dead = await deadPid();
    const old = new Date(Date.now() - 11 * 60_000);
    const files = {
      oldDead: `pack.tgz.tmp-${dead}-0123abcd`,
      recentDead: `pack.tgz.tmp-${dead}-fedcba98`,
      oldLive: `pack.tgz.tmp-${process.pid}-00112233`,
      otherFile: `other.tgz.tmp-${dead}-44556677`,
    };
    for (const name of Object.values(files)) await writeFile(join(out, name), 'half an archive');
    for (const name of [files.oldDead, files.oldLive, files.otherFile]) await utimes(join(out, name), old, old);

    expectRun(await runCli(['build', pack, '-o', join(out, 'pack.tgz')]), { code: 0, stdout: [`built ${join(out, 'pack.tgz')}`] });
    expect((await readdir(out)).sort()).toEqual(['pack.tgz', files.recentDead, files.oldLive, files.otherFile].sort());
  });
});
