import { PackpubError } from '../errors.js';

// Apart from util/fs.ts, so that the CLI's entry (cli/io.ts) can name a failed local write without loading
// node:crypto, node:fs and streams at start-up.

/** What the machine answered when a local write failed for want of room or a working disk, not for a bug of ours. */
const LOCAL_WRITE_CAUSES: Readonly<Record<string, { cause: string; hint: string }>> = {
  ENOSPC: { cause: 'no space left on the device', hint: 'free space on that filesystem (or write elsewhere: --oci-layout, -o, TMPDIR), then run again' },
  EDQUOT: { cause: 'disk quota exceeded', hint: 'free space within your quota (or write elsewhere: --oci-layout, -o, TMPDIR), then run again' },
  EROFS: { cause: 'read-only file system', hint: 'write to a writable folder (--oci-layout, -o, TMPDIR), or remount it read-write' },
  EIO: { cause: 'input/output error', hint: 'the disk or filesystem failed (check the system log); write elsewhere, then run again' },
};

/**
 * A local write that failed for a reason of the machine (disk full, quota, read-only filesystem, I/O error)
 * as a `LOCAL_WRITE` error naming `path` (what was being written) and the cause; any other error as it came.
 * Without `path`, the error's own path is named, if it has one.
 */
export function localWriteError(err: unknown, path?: string): unknown {
  if (err instanceof PackpubError || !(err instanceof Error)) return err;
  const errno = err as NodeJS.ErrnoException;
  const known = errno.code === undefined ? undefined : LOCAL_WRITE_CAUSES[errno.code];
  if (known === undefined) return err;
  const where = path ?? errno.path ?? 'a local file';
  return new PackpubError('LOCAL_WRITE', `cannot write ${where}: ${known.cause} (${errno.code})`, { hint: known.hint, cause: err });
}
