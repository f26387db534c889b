import { PackpubError } from '../errors.js';

// Apart from util/fs.ts, so that the CLI's entry (cli/io.ts) can name a failed local write without loading
// node:crypto, node:fs and streams at start-up.

/** What the machine answered when a local write failed for want of room, a working disk or permission, not for a bug of ours. */
const LOCAL_WRITE_CAUSES: Readonly<Record<string, { cause: string; hint: string }>> = {
  ENOSPC: { cause: 'no space left on the device', hint: 'free space on that filesystem (or write elsewhere: --oci-layout, -o, TMPDIR), then run again' },
  EDQUOT: { cause: 'disk quota exceeded', hint: 'free space within your quota (or write elsewhere: --oci-layout, -o, TMPDIR), then run again' },
  EROFS: { cause: 'read-only file system', hint: 'write to a writable folder (--oci-layout, -o, TMPDIR), or remount it read-write' },
  EIO: { cause: 'input/output error', hint: 'the disk or filesystem failed (check the system log); write elsewhere, then run again' },
  // A folder of another user (left by a step run as root, a checkout mounted read-only): the machine's answer, not a bug.
  EACCES: { cause: 'permission denied', hint: 'write to a folder this user may write to (--oci-layout, -o, TMPDIR), or fix its owner or mode' },
  EPERM: { cause: 'operation not permitted', hint: 'write to a folder this user may write to (--oci-layout, -o, TMPDIR), or fix its owner, mode or attributes' },
};

/** Refusals that reads meet too (a pack file of mode 0): a local write's only when the call was one (deniedWrite). */
const DENIED = new Set(['EACCES', 'EPERM']);
/** System calls that only write. */
const WRITE_CALLS = new Set(['mkdir', 'mkdtemp', 'rename', 'unlink', 'rmdir', 'link', 'symlink', 'copyfile', 'write', 'ftruncate', 'fsync', 'fchmod', 'chmod', 'utime', 'futime']);
/** A temp file packpub writes through (util/fs.ts tempPathFor: `<path>.tmp-<pid>-<8 hex>`), which it opens only to write. */
const OWN_TEMP = /\.tmp-\d+-[0-9a-f]{8}$/;

/**
 * A permission refusal of a write: a call that only writes, or an `open` of one of packpub's temp files or of
 * `path`, what the caller was writing; an `open` of anything else may have been a read (an unreadable pack file
 * while its archive is built), which stays as it came.
 */
function deniedWrite(errno: NodeJS.ErrnoException, path: string | undefined): boolean {
  const syscall = errno.syscall ?? '';
  if (WRITE_CALLS.has(syscall)) return true;
  return syscall === 'open' && errno.path !== undefined && (OWN_TEMP.test(errno.path) || errno.path === path);
}

/**
 * A local write that failed for a reason of the machine (disk full, quota, read-only filesystem, I/O error, permission)
 * as a `LOCAL_WRITE` error naming `path` (what was being written) and the cause; any other error as it came.
 * Without `path`, the error's own path is named, if it has one.
 */
export function localWriteError(err: unknown, path?: string): unknown {
  if (err instanceof PackpubError || !(err instanceof Error)) return err;
  const errno = err as NodeJS.ErrnoException;
  const known = errno.code === undefined ? undefined : LOCAL_WRITE_CAUSES[errno.code];
  if (known === undefined || (DENIED.has(errno.code ?? '') && !deniedWrite(errno, path))) return err;
  const where = path ?? errno.path ?? 'a local file';
  return new PackpubError('LOCAL_WRITE', `cannot write ${where}: ${known.cause} (${errno.code})`, { hint: known.hint, cause: err });
}
