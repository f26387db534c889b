import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { freemem } from 'node:os';
import { join } from 'node:path';

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
 */

const TMPFS_MAGIC = 0x01021994;
/** Room the suite needs at its peak, with a wide margin (a tmpfs's pages are memory). */
const NEEDED_BYTES = 4 * 1024 ** 3;

export function useTmpfsForTests(candidate = '/dev/shm'): string | undefined {
  if (process.env['TMPDIR'] !== undefined && process.env['TMPDIR'] !== '') return undefined;
  let dir: string;
  try {
    const fs = statfsSync(candidate);
    if (fs.type !== TMPFS_MAGIC || fs.bavail * fs.bsize < NEEDED_BYTES || freemem() < NEEDED_BYTES) return undefined;
    dir = mkdtempSync(join(candidate, 'packpub-test-'));
  } catch {
    return undefined;
  }
  process.env['TMPDIR'] = dir;
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
