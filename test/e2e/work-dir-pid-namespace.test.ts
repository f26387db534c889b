import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createWorkDir, removeStaleWorkDirs, STALE_FOREIGN_MS } from '../../src/operations/work-dir.js';
import { pidNamespace } from '../../src/util/pid.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';
import { deadPid } from '../support/spawner.js';

/*
 * review s21 L3: push's work folders `<tmpdir>/packpub-work/<pid>-<random>` were judged dead by the pid alone.
 * A run in another PID namespace sharing TMPDIR (containers with a bind-mounted /tmp) has pids that mean
 * nothing here: the next push here removed a live run's folder (seen with `unshare --pid`). The folder now
 * names its PID namespace; one of another namespace is removed only once nothing changed in it for a day.
 */

const w = setup(async (stack) => ({ root: await stack.tempDir('packpub-work-ns-') }));

describe('work folders and PID namespaces', () => {
  it('a run names its namespace in its folder', async () => {
    const ns = pidNamespace();
    expect(ns).toMatch(/^\d+$/); // Linux: /proc/self/ns/pid
    const parent = join(w.root, 'own');
    const made = await createWorkDir(parent);
    expect(made.slice(parent.length + 1)).toMatch(new RegExp(`^${process.pid}-ns${ns}-[A-Za-z0-9]{6}$`));
  });

  it("another namespace's folder stays while it is in use, whatever its pid is here; this namespace's dead ones go (push)", async () => {
    const ns = pidNamespace() ?? '';
    const other = String(Number(ns) + 1);
    const dead = await deadPid();
    const tmp = join(w.root, 'tmp');
    const parent = join(tmp, 'packpub-work');
    const folders = {
      // A live run in another container: its pid is free here (was: removed under it).
      foreignLive: `${dead}-ns${other}-abc123`,
      // Another container's run killed a day ago.
      foreignOld: `${dead}-ns${other}-def456`,
      // Killed here.
      oursDead: `${dead}-ns${ns}-ghi789`,
      // Alive here.
      oursLive: `${process.pid}-ns${ns}-jkl012`,
      // Left by an older packpub (no namespace): judged by its pid, as it was.
      olderDead: `${dead}-mno345`,
    };
    for (const name of Object.values(folders)) {
      await mkdir(join(parent, name), { recursive: true });
      await writeFile(join(parent, name, 'hello__hello-1.0.0.tar.gz'), 'archive being built');
    }
    const dayAgo = (Date.now() - STALE_FOREIGN_MS - 60_000) / 1000;
    await utimes(join(parent, folders.foreignOld), dayAgo, dayAgo);

    const pack = await writePack(join(w.root, 'hello'), { name: 'hello', version: '1.0.0' });
    const layout = join(w.root, 'layout');
    const push = await runCli(['push', pack, '--oci-layout', layout], { tmpdir: tmp });
    expect(push.code, push.stderr).toBe(0);
    expect((await readdir(parent)).sort()).toEqual([folders.foreignLive, folders.oursLive].sort());
    expect(await readdir(join(parent, folders.foreignLive))).toEqual(['hello__hello-1.0.0.tar.gz']);

    // A day later, the foreign folder untouched since: removed.
    await removeStaleWorkDirs(parent, Date.now() + STALE_FOREIGN_MS + 60_000);
    expect(await readdir(parent)).toEqual([folders.oursLive]);
  });
});
