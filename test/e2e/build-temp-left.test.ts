import { randomBytes } from 'node:crypto';
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectLocalWriteRefused, expectRun, runCli, spawnCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { stage } from '../support/stage.js';
import { deadPid, runChildText } from '../support/spawner.js';

/*
 * `build -o out/pack.tgz` killed while it wrote the archive (SIGKILL, a cancelled CI job: no handler runs) left
 * `out/pack.tgz.tmp-<pid>-<hex>`, up to the archive's size (measured: 5 MB of a 200 MB pack's), beside the file for
 * good; the next build wrote under another name and left it. Now a build removes the temp files of its -o that a
 * process gone on this host left and nothing wrote for ten minutes; a live run's, a recent one and other files stay.
 * A build interrupted by Ctrl-C or SIGTERM ("SIGINT: interrupted", exit 130) left its temp file the same way: removed
 * as the process ends now.
 */

const SIGNAL_AFTER_OPEN = resolve('test/fixtures/node-options/signal-after-open.cjs');

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

describe('build -o interrupted while it writes the archive', () => {
  it('exit 130, and neither the archive nor its temp file is left (was: FILE.tmp-<pid>-<hex> kept for good)', async () => {
    const root = await stack.tempDir('packpub-build-temp-');
    // Several gzip members: the archive is still being written when the signal is handled.
    const pack = await writePack(join(root, 'pack'), { name: 'interrupted', version: '1.0.0', files: { 'manifests/data.bin': randomBytes(6 * 1024 * 1024) } });
    // -o in folders not there yet: made by the build, and removed with its temp file (were left, empty).
    const out = join(root, 'out', 'deeper');
    const run = await spawnCli(['build', pack, '-o', join(out, 'pack.tgz')], {
      nodeArgs: ['--require', SIGNAL_AFTER_OPEN],
      env: { PACKPUB_TEST_SIGNAL_PREFIX: join(out, 'pack.tgz.tmp-') },
    }).done;
    expectRun(run, { code: 130, stdout: '', stderr: ['SIGINT: interrupted'] });
    expect((await readdir(root)).sort()).toEqual(['pack']);
  });

  it('a full disk: exit 1 naming the file, and the folders it made for -o removed (were left, empty)', async () => {
    const root = await stack.tempDir('packpub-build-temp-');
    const pack = await writePack(join(root, 'pack'), { name: 'full', version: '1.0.0', files: { 'manifests/data.bin': randomBytes(1024 * 1024) } });
    const disk = join(root, 'disk');
    await mkdir(disk);
    await runChildText('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', disk]);
    stack.defer(() => runChildText('umount', [disk]));
    const file = join(disk, 'new', 'deeper', 'pack.tgz');
    expectLocalWriteRefused(await runCli(['build', pack, '-o', file]), file, 'no space left on the device (ENOSPC)', 'free space on that filesystem');
    expect(await readdir(disk)).toEqual([]);
  });
});
