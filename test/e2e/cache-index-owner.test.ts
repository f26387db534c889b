import { chmod, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runBin, runCli } from '../support/cli.js';
import { pushStatuses, rerunTree } from '../support/push-setup.js';
import { setup } from '../support/stage.js';

/*
 * The cache index (PACKPUB_CACHE_DIR/index.json) tells a re-run which pack folders are unchanged without reading
 * them: whoever may write it can make a changed pack read "unchanged" (exit 0, the registry keeping the old
 * version). Before, a run under umask 000 (some CI images, shared build hosts) made the folder 0777 and the index
 * 0666, and an index another user may write was believed. Now the folder is made 0700 and the index 0600, and an
 * index another user may write (or owns) is read as none: the run checks every pack and writes its own index.
 */

const world = setup((stack) => rerunTree(stack, 2, { seed: 77, prefix: 'cache-owner' }));

describe('the cache index', () => {
  it('is written only this user may read or write it, even under umask 000', async () => {
    const { work } = world;
    const cache = work.env['PACKPUB_CACHE_DIR']!;
    // The same CLI code in-process, under umask 000 for the run (a process attribute, not read at start).
    const umask = process.umask(0o000);
    let run;
    try {
      run = await runCli(world.pushArgs('umask'), { env: work.env });
    } finally {
      process.umask(umask);
    }
    expectRun(run, { code: 0 });
    expect((await stat(cache)).mode & 0o777).toBe(0o700);
    expect((await stat(join(cache, 'index.json'))).mode & 0o777).toBe(0o600);
  });

  it('that others may write is not believed: the re-run checks the packs itself and writes its own index', async () => {
    const { work } = world;
    const index = join(work.env['PACKPUB_CACHE_DIR']!, 'index.json');
    const args = world.pushArgs('writable');
    // The first publish in-process; the re-run is a process of the built CLI, whose worker checking the
    // remembered folders ahead (bin/packpub.js) reads the index too.
    expectRun(await runCli(args, { env: work.env }), { code: 0 });
    await chmod(index, 0o666);
    const again = await runBin(args, { env: work.env });
    expectRun(again, { code: 0 });
    expect(pushStatuses(again.stdout)).toEqual(['unchanged', 'unchanged']);
    // Read as none, the run learned every pack again and replaced the file with its own (believed, it was left as it was).
    expect((await stat(index)).mode & 0o777).toBe(0o600);
  });
});
