import { closeSync, constants, fstatSync, openSync, statSync, unlinkSync, writeFileSync, type Stats } from 'node:fs';
import { hostname } from 'node:os';
import { randomHex, readWhole } from './fs.js';
import { isGone, pidNamespace } from './pid.js';

/*
 * A lock file beside a file that several processes read, change and rename back (Docker's config, an OCI
 * layout's index.json): created
 * with O_EXCL, holding its owner's pid, host, a nonce of its own and its PID namespace. One whose owner is gone (a
 * killed run on this host) is taken over at once; one of a live process on this host never is, however old: a
 * writer stopped or stalled inside the lock (SIGSTOP, a paused VM, a hung disk) would otherwise write its stale view
 * over the taker's, and both runs report success (chaos s22 F3). Only a lock of another host, or of another PID
 * namespace on this one (a container sharing the folder and the hostname), whose process cannot be asked, is taken
 * over once older than `staleMs`. Waiting longer than `waitMs` for it is the caller's error.
 */

/** Nonces of the locks this process holds now: a lock naming this pid with none of them was left by an earlier process with the same pid. */
const held = new Set<string>();

export interface LockFileOptions {
  /** A lock of another host older than this is taken over (its owner hung or was killed there). */
  staleMs: number;
  /** Give up waiting after this long: the error to throw. */
  waitMs: number;
  busy: () => Error;
  /** The error to throw when the lock cannot be written (a full or read-only disk); default: the system's. */
  cannotLock?: (err: unknown) => unknown;
}

/*
 * The lock's calls (open, a few bytes read or written, stat, unlink) are made on this thread: through the thread pool
 * each cost ~25-110 µs of CPU in hand-offs, ~5 µs here, and a layout's tag update made ~15 of them (issue 16). Waiting
 * for a lock held by another run stays a timer.
 */

/** The owner a lock file names; '' for one that is no regular file (opened without waiting: a named pipe put there is never waited on). */
function ownerOf(lock: string): string {
  let fd: number;
  try {
    fd = openSync(lock, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return '';
  }
  try {
    const info = fstatSync(fd);
    return info.isFile() ? readWhole(fd, info.size).toString('utf8') : '';
  } catch {
    return '';
  } finally {
    closeSync(fd);
  }
}

/** statSync, or undefined on any error (an absent path throws nothing: throwIfNoEntry). */
function statOrNone(path: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/** unlinkSync, errors ignored (as `unlink(...).catch(() => undefined)`). */
function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // gone already, or not ours to remove: as before
  }
}

/** This process's PID namespace as a lock names it (`ns-` where there is none to read). */
function ownerNamespace(): string {
  return `ns${pidNamespace() ?? '-'}`;
}

/** Whether the lock at `lock` was left by a process that is gone, or is older than `staleMs`. */
async function isStaleLock(lock: string, staleMs: number): Promise<boolean> {
  const info = statOrNone(lock);
  const text = ownerOf(lock);
  if (info === undefined) return false; // released meanwhile: try again
  return isStale(text, info.mtimeMs, staleMs);
}

function isStale(text: string, mtimeMs: number, staleMs: number): boolean {
  const [pid, host, nonce, ns] = text.split(' ');
  // A pid of another PID namespace (a container sharing the folder and the hostname: --uts=host, a pod on the host
  // network) means nothing here: such a lock is judged by its age, as another host's (chaos s22 F8). A lock without
  // one is an older packpub's, judged by its pid as it was.
  const here = ns === undefined || ns === ownerNamespace();
  if (host === hostname() && here && pid !== undefined && /^\d+$/.test(pid)) {
    if (Number(pid) === process.pid) return nonce === undefined || !held.has(nonce);
    return isGone(Number(pid));
  }
  return Date.now() - mtimeMs > staleMs;
}

/**
 * Remove the lock at `lock` if it is still stale, judged again under `<lock>.takeover` (created with O_EXCL, for
 * the microseconds of the check and the removal). A removal by path after a judgement made earlier removed the
 * wrong lock: its owner had released it and ended (its pid gone) and another run had made a fresh one meanwhile,
 * or another taker had already replaced it; both runs then wrote (chaos s22 F11, and six logins at once losing an
 * entry). Under the takeover lock, the lock judged stale cannot change before it is removed: its owner is gone or
 * stale, and every other taker waits. A takeover lock older than `staleMs` (a taker killed in those microseconds)
 * is removed.
 */
async function takeOver(lock: string, staleMs: number): Promise<boolean> {
  const guard = `${lock}.takeover`;
  let fd: number;
  try {
    fd = openSync(guard, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return false; // judged again on the next turn
    const info = statOrNone(guard);
    if (info !== undefined && Date.now() - info.mtimeMs > staleMs) unlinkQuietly(guard);
    return false;
  }
  try {
    closeSync(fd);
    if (!(await isStaleLock(lock, staleMs))) return false;
    unlinkQuietly(lock);
    return true;
  } finally {
    unlinkQuietly(guard);
  }
}

/** What `fn` of withLockFile may ask about its lock. */
export interface HeldLock {
  /**
   * Whether the lock is still this call's (its nonce): false once another host's or another PID namespace's run took
   * it over, which it does when this one stalled past `staleMs` (a paused VM, a hung disk). Asked right before the
   * rename that publishes what was read and changed under the lock: written after a takeover, it would drop what the
   * taker wrote meanwhile, and both runs would report success. One read of the lock (a few syscalls).
   */
  held(): Promise<boolean>;
}

/** Run `fn` holding the lock file `lock` (created, and removed after, by this call). */
export async function withLockFile<T>(lock: string, options: LockFileOptions, fn: (lock: HeldLock) => Promise<T>): Promise<T> {
  const started = Date.now();
  const owner = `${process.pid} ${hostname()} ${randomHex(8)} ${ownerNamespace()}`;
  for (;;) {
    let fd: number | undefined;
    try {
      fd = openSync(lock, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw options.cannotLock?.(err) ?? err;
    }
    if (fd !== undefined) {
      // Created by this call: a failed write of its owner (a full disk) must not leave it empty, since an empty
      // lock names no process and every later run waits `staleMs` for it.
      try {
        writeFileSync(fd, owner);
      } catch (err) {
        try {
          closeSync(fd);
        } catch {
          // closed or not, the lock goes
        }
        unlinkQuietly(lock);
        throw options.cannotLock?.(err) ?? err;
      }
      closeSync(fd);
      break;
    }
    // Removed a stale lock: try at once. Otherwise (a live owner, another taker at work, or one killed while taking
    // over) wait a little: never a busy loop, and never past waitMs.
    if ((await isStaleLock(lock, options.staleMs)) && (await takeOver(lock, options.staleMs))) continue;
    if (Date.now() - started > options.waitMs) throw options.busy();
    await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 20));
  }
  const nonce = owner.split(' ')[2] ?? '';
  held.add(nonce);
  try {
    return await fn({ held: async () => ownerOf(lock) === owner });
  } finally {
    // Only while it is still this call's: a lock taken over meanwhile (another host's run, after staleMs) is the taker's.
    // The nonce stays held until it is gone: a waiter of this process would judge a lock naming this pid with a nonce
    // no longer held a dead restart's, and take it over while it is being removed.
    if (ownerOf(lock) === owner) unlinkQuietly(lock);
    held.delete(nonce);
  }
}
