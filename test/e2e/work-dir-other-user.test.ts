import { randomBytes } from 'node:crypto';
import { chown, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runBin } from '../support/cli.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { writePack } from '../support/packs.js';
import { stage } from '../support/stage.js';

/*
 * `$TMPDIR/packpub-work`, where push builds archives, left by another user: a run as root (`sudo packpub push`
 * once), or a container step sharing /tmp, made it mode 0755. Every later push by anyone else failed with
 * "cannot create packpub's work folder" (exit 2) until someone removed it. Now such a push works in
 * `packpub-work-<uid>` beside it, which must be its own. The tests run as root: the CLI runs as root the
 * file modes bind (modesBind), the folders belong to uid 65534.
 */

const stack = stage();
const OTHER = 65_534;
const uid = process.getuid?.() ?? 0;

async function world(name: string): Promise<{ root: string; tmp: string; pack: string; layout: string; env: NodeJS.ProcessEnv }> {
  const root = await stack.tempDir('packpub-work-user-');
  // Over 1 MiB of incompressible bytes: the archive is built into the work folder, not in memory.
  const pack = await writePack(join(root, 'pack'), { name, version: '1.0.0' });
  await writeFile(join(pack, 'blob.bin'), randomBytes(1536 * 1024));
  const tmp = join(root, 'tmp');
  await mkdir(tmp);
  return { root, tmp, pack, layout: join(root, 'layout'), env: { TMPDIR: tmp, PACKPUB_CACHE_DIR: join(root, 'cache') } };
}

/** A folder of the other user, mode 0755, as `mkdir` under umask 022 leaves it. */
async function othersFolder(path: string): Promise<void> {
  await mkdir(path, { mode: 0o755 });
  await chown(path, OTHER, OTHER);
}

describe('a work folder parent another user made', () => {
  it('push builds in packpub-work-<uid> instead: exit 0, published, the other user\'s folders untouched', async () => {
    const w = await world('work-other-user');
    await othersFolder(join(w.tmp, 'packpub-work'));
    await othersFolder(join(w.tmp, 'packpub-work', '1-ns1-theirs'));
    const run = await runBin(['push', w.pack, '--oci-layout', w.layout], { env: w.env, modesBind: true });
    expectRun(run, { code: 0, stdout: ['published work-other-user:1.0.0'] });
    expect([...(await layoutHoldings(w.layout)).tags.keys()]).toEqual(['spectro-packs/archive/work-other-user:1.0.0']);
    expect((await readdir(w.tmp)).sort()).toEqual(['packpub-work', `packpub-work-${uid}`]);
    expect(await readdir(join(w.tmp, 'packpub-work'))).toEqual(['1-ns1-theirs']);
    // The run removed its own folder.
    expect(await readdir(join(w.tmp, `packpub-work-${uid}`))).toEqual([]);
  });

  it('packpub-work-<uid> made by another user too: exit 2 naming it before anything is published', async () => {
    const w = await world('work-other-user-twice');
    await othersFolder(join(w.tmp, 'packpub-work'));
    await othersFolder(join(w.tmp, `packpub-work-${uid}`));
    const run = await runBin(['push', w.pack, '--oci-layout', w.layout], { env: w.env, modesBind: true });
    expectRun(run, {
      code: 2,
      stderr: [`error: cannot create packpub's work folder in ${w.tmp} (the temp folder, TMPDIR): ${w.tmp}/packpub-work-${uid} is not a folder of this user (uid ${uid}): another user made it; ${w.pack} (work-other-user-twice:1.0.0) needs it`, 'hint: set TMPDIR to a writable folder'],
    });
    expect([...(await layoutHoldings(w.layout)).tags.keys()]).toEqual([]);
    expect(await readdir(join(w.tmp, `packpub-work-${uid}`))).toEqual([]);
  });
});
