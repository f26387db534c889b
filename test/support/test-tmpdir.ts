import { mkdtempSync, readdirSync, rmSync, statSync, statfsSync } from 'node:fs';
import { freemem } from 'node:os';
import { basename, join } from 'node:path';
import { isGone } from '../../src/util/pid.js';

/*
 * The suite's temp folders on a memory file system when the machine has one with room (issue 11).
 * Every test's temp folders, the docker-registry processes' storage (distribution's filesystem driver
 * fsyncs every file it writes), the CLI runs' work folders and the cache are made under os.tmpdir(). On a
 * disk file system (ext4 /tmp) creating, syncing and removing those files is a large part of the suite's
 * system time and waits on the disk; on a tmpfs it is neither.
 * Called once by vitest.config.ts in vitest's main process, before it starts its workers: it points TMPDIR at
 * a fresh folder on /dev/shm, which the workers and every process the tests start inherit (support/cli.ts
 * passes it on to the CLI runs), and removes that folder when vitest exits. Without a usable tmpfs (not
 * Linux, no /dev/shm, not a tmpfs, not writable, too little room or memory), or when the user has set TMPDIR,
 * nothing changes: os.tmpdir() as before.
 * A run killed by SIGTERM or SIGKILL never reaches its exit handler, so its folder stays (in memory, until
 * the machine restarts). The folder is named after vitest's pid (`packpub-test-<pid>-XXXXXX`), and each run
 * first removes the folders of runs whose process is gone: only folders of that name, owned by this user,
 * whose pid no longer runs (a live pid, even another user's or another run's, is left alone).
 */

const TMPFS_MAGIC = 0x01021994;
const PREFIX = 'packpub-test-';
const RUN_DIR = /^packpub-test-(\d+)-[A-Za-z0-9]{6}$/;
/** `dir` is the folder useTmpfsForTests made for this run (its workers see it as their tmpdir()). */
export function isRunDir(dir: string): boolean {
  return RUN_DIR.test(basename(dir));
}
/** Room the suite needs at its peak, with a wide margin (a tmpfs's pages are memory). */
const NEEDED_BYTES = 4 * 1024 ** 3;

export function useTmpfsForTests(candidate = '/dev/shm'): string | undefined {
  if (process.env['TMPDIR'] !== undefined && process.env['TMPDIR'] !== '') return undefined;
  let dir: string;
  try {
    const fs = statfsSync(candidate);
    if (fs.type !== TMPFS_MAGIC || fs.bavail * fs.bsize < NEEDED_BYTES || freemem() < NEEDED_BYTES) return undefined;
    removeDeadRunDirs(candidate);
    dir = mkdtempSync(join(candidate, `${PREFIX}${process.pid}-`));
  } catch {
    return undefined;
  }
  process.env['TMPDIR'] = dir;
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Remove the folders under `parent` that runs of this suite left when they were killed; returns their names. */
export function removeDeadRunDirs(parent: string): string[] {
  const removed: string[] = [];
  const uid = process.getuid?.();
  for (const name of readdirSync(parent)) {
    const pid = RUN_DIR.exec(name)?.[1];
    if (pid === undefined || Number(pid) === process.pid || !isGone(Number(pid))) continue;
    const path = join(parent, name);
    try {
      const st = statSync(path);
      if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) continue;
      rmSync(path, { recursive: true, force: true });
      removed.push(name);
    } catch {
      // Gone already, or not ours to remove: leave it.
    }
  }
  return removed;
}
