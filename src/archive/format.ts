import { PackpubError } from '../errors.js';
import { MAX_SOURCE_DATE_EPOCH, sourceDateEpoch } from '../util/source-date-epoch.js';

/*
 * What archive bytes and cached content keys depend on besides the files: the format version and the
 * entry mtime. A module of its own, so a run that finds every pack unchanged does not load the tar and
 * walk code (and their dependencies) to learn them.
 */

/**
 * Bumped whenever a change in the archive modules changes archive bytes for the same input (tar layout,
 * header fields, gzip framing), so cached keys stop matching.
 */
// 2: incompressible blocks are stored (gzip.ts); 3: the top folder is <name>-<version> from pack.json.
export const ARCHIVE_FORMAT_VERSION = 3;

/** The mtime of every entry when SOURCE_DATE_EPOCH is not set: 2000-01-01T00:00:00Z. */
export const DEFAULT_ARCHIVE_MTIME = new Date(Date.UTC(2000, 0, 1, 0, 0, 0));

// The tar header's mtime is written as `(ms / 1000) | 0` (as tar-stream did), a signed 32-bit integer: later dates would wrap.
const MAX_MTIME_SECONDS = MAX_SOURCE_DATE_EPOCH;

/**
 * The archive mtime: SOURCE_DATE_EPOCH (reproducible-builds.org: integer seconds since the epoch) when set and
 * not empty, else DEFAULT_ARCHIVE_MTIME. A malformed value is refused (util/source-date-epoch.ts), not ignored.
 */
export function archiveMtime(env: Record<string, string | undefined> = process.env): Date {
  const epoch = sourceDateEpoch(env);
  return epoch === undefined ? DEFAULT_ARCHIVE_MTIME : new Date(epoch * 1000);
}

/** Whole seconds, checked to fit the tar header. */
export function checkMtime(mtime: Date): Date {
  const ms = mtime.getTime();
  if (!Number.isFinite(ms) || ms < 0 || ms / 1000 > MAX_MTIME_SECONDS) {
    throw new PackpubError('USAGE', `archive mtime ${String(mtime)} is outside 1970-01-01 .. 2038-01-19`, {
      hint: 'pass a date in that range (SOURCE_DATE_EPOCH in seconds)',
    });
  }
  return new Date(Math.floor(ms / 1000) * 1000);
}
