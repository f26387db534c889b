import { readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';
import { deadPid } from '../support/spawner.js';

/*
 * review s21 L6: a push or copy into an OCI layout abandoned mid-write (a second Ctrl-C, the grace period over, a
 * SIGKILL) leaves its temp file, `blobs/sha256/<hex>.tmp-<pid>-<random>` (77 MB of a 400 MB layer when seen), in
 * the layout for good: the next run writes under another name. Now a run that writes into the repository removes
 * the temp files of processes that are gone, once they have not been written for an hour; others stay.
 */

describe('temp files a dead run left in an OCI layout repository', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir();
    return { root, v1: await writePack(join(root, 'v1'), { name: 'tmpleft', version: '1.0.0' }), v2: await writePack(join(root, 'v2'), { name: 'tmpleft', version: '1.1.0' }) };
  });

  it('are removed by the next run writing there when their process is gone and they are an hour old; live, recent or foreign ones stay', async () => {
    const layout = join(w.root, 'layout');
    expectRun(await runCli(['push', w.v1, '--oci-layout', layout]), { code: 0 });
    const repo = join(layout, 'spectro-packs/archive/tmpleft');
    const blobs = join(repo, 'blobs', 'sha256');
    // A pid that ran and is gone now.
    const dead = await deadPid();
    const hex = 'ab'.repeat(32);
    const hourAgo = new Date(Date.now() - 2 * 60 * 60_000);
    const files = {
      oldDead: join(blobs, `${hex}.tmp-${dead}-0123abcd`),
      oldDeadIndex: join(repo, `index.json.tmp-${dead}-89abcdef`),
      recentDead: join(blobs, `${hex}.tmp-${dead}-fedcba98`),
      oldLive: join(blobs, `${hex}.tmp-${process.ppid}-00112233`),
      notOurs: join(blobs, `${hex}.partial`),
    };
    for (const path of Object.values(files)) await writeFile(path, 'left behind');
    for (const path of [files.oldDead, files.oldDeadIndex, files.oldLive, files.notOurs]) await utimes(path, hourAgo, hourAgo);

    expectRun(await runCli(['push', w.v2, '--oci-layout', layout]), { code: 0, stdout: ['published tmpleft:1.1.0'] });
    const left = [...(await readdir(blobs)), ...(await readdir(repo))];
    expect(left).not.toContain(`${hex}.tmp-${dead}-0123abcd`);
    expect(left).not.toContain(`index.json.tmp-${dead}-89abcdef`);
    for (const kept of [files.recentDead, files.oldLive, files.notOurs]) expect(left).toContain(kept.slice(kept.lastIndexOf('/') + 1));
    // The layout itself is whole: both versions, every blob there.
    const held = await layoutHoldings(layout);
    expect(held.problems).toEqual([]);
    expect([...held.tags.keys()].sort()).toEqual(['spectro-packs/archive/tmpleft:1.0.0', 'spectro-packs/archive/tmpleft:1.1.0']);
  });
});
