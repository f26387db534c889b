import { constants } from 'node:fs';
import { open, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { isGone } from './pid.js';

/*
 * A lock file beside a file that several processes read, change and rename back (Docker's config, an OCI
 * layout's index.json): created
 * with O_EXCL, holding its owner's pid and host. One whose owner is gone (a killed run on this host) or older
 * than `staleMs` is taken over; waiting longer than `waitMs` for it is the caller's error.
 */

export interface LockFileOptions {
  /** A lock older than this is taken over (its owner hung or was killed on another host). */
  staleMs: number;
  /** Give up waiting after this long: the error to throw. */
  waitMs: number;
  busy: () => Error;
}

/** The owner a lock file names; '' for one that is no regular file (opened without waiting: a named pipe put there is never waited on). */
async function ownerOf(lock: string): Promise<string> {
  const handle = await open(lock, constants.O_RDONLY | constants.O_NONBLOCK).catch(() => undefined);
  if (handle === undefined) return '';
  try {
    return (await handle.stat()).isFile() ? await handle.readFile('utf8') : '';
  } catch {
    return '';
  } finally {
    await handle.close();
  }
}

/** Whether the lock at `lock` was left by a process that is gone, or is older than `staleMs`. */
async function isStale(lock: string, staleMs: number): Promise<boolean> {
  const [info, text] = await Promise.all([stat(lock).catch(() => undefined), ownerOf(lock)]);
  if (info === undefined) return false; // released meanwhile: try again
  const [pid, host] = text.split(' ');
  if (host === hostname() && pid !== undefined && /^\d+$/.test(pid) && isGone(Number(pid))) return true;
  return Date.now() - info.mtimeMs > staleMs;
}

/** Run `fn` holding the lock file `lock` (created, and removed after, by this call). */
export async function withLockFile<T>(lock: string, options: LockFileOptions, fn: () => Promise<T>): Promise<T> {
  const started = Date.now();
  for (;;) {
    try {
      await writeFile(lock, `${process.pid} ${hostname()}`, { flag: 'wx', mode: 0o600 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (await isStale(lock, options.staleMs)) await unlink(lock).catch(() => undefined);
    else if (Date.now() - started > options.waitMs) throw options.busy();
    else await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 20));
  }
  try {
    return await fn();
  } finally {
    await unlink(lock).catch(() => undefined);
  }
}
