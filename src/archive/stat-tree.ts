import { createHash } from 'node:crypto';
import { lstatSync, statSync, type Stats } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { PACKIGNORE_FILE, SIGNATURE_SLOTS, putRootSignature, putSignatureText, putStatSignature } from './signature.js';
import type { PackEntry } from './walk.js';

/**
 * What an archive was built from, as metadata: every file and folder the walk read (by real path under the
 * pack folder) and one hash of their stat signatures, like git's index. When every one of them still has
 * the signature it had, the walk would list the same entries with the same content (a folder's signature
 * changes when anything in it is created, deleted or renamed, a file's when it is written, and the pack
 * folder's includes its .packignore), so the archive would be byte-identical: a re-run can know a pack is
 * unchanged from stat calls alone, without listing folders or reading a byte.
 *
 * A stale match would need a file rewritten with the same size within the timestamp tick of its previous
 * change: the walk records no signature for anything changed within RACY_MARGIN_MS of its start (3 s,
 * COARSE_RACY_MARGIN_MS, for times in whole seconds: a file system that keeps no more; so such a
 * pack has no stat tree and is read next run), and a change made while the archive was being built only
 * makes a later check miss.
 */
export interface StatTree {
  /** The pack folder's real path. */
  root: string;
  /** What the walk read, relative to `root` with `/` ('' is the folder itself), in walk order. */
  paths: string[];
  /** sha256 (hex) of their signatures as numbers (signature.ts SIGNATURE_SLOTS; the machine's byte order). */
  digest: string;
}

/** Doubles the signatures of `paths` take: the pack folder ('') counts twice (its .packignore). */
function slotsFor(paths: readonly string[]): number {
  return (paths.length + 1) * SIGNATURE_SLOTS;
}

/** The stat tree of a walk's entries (listPackEntries: the pack folder first); undefined when one lacks a signature. */
export function statTreeOf(entries: readonly PackEntry[]): StatTree | undefined {
  const root = entries[0]?.source;
  if (root === undefined || entries[0]?.relativePath !== '') return undefined;
  const paths: string[] = [];
  // The walk's sources are real paths below the root: the path under it is their tail (path.relative
  // normalises both again, at a cost per entry).
  const below = `${root}${sep}`;
  for (const entry of entries) {
    if (entry.signature === undefined) return undefined;
    const path = entry.source === root ? '' : entry.source.startsWith(below) ? entry.source.slice(below.length) : relative(root, entry.source);
    paths.push(sep === '/' ? path : path.split(sep).join('/'));
  }
  const numbers = new Float64Array(slotsFor(paths));
  let at = 0;
  for (const entry of entries) {
    putSignatureText(entry.signature as string, numbers, at);
    at += entry.relativePath === '' ? 2 * SIGNATURE_SLOTS : SIGNATURE_SLOTS;
  }
  return { root, paths, digest: createHash('sha256').update(numbers).digest('hex') };
}

/** True when every path of `tree` still has the signature it had: the pack would archive to the same bytes. */
export function statTreeHolds(tree: StatTree): boolean {
  // The paths came from a walk below this root: plain concatenation finds them (path.join would normalise
  // each one again).
  const prefix = `${tree.root}/`;
  const raw = rawLstat(tree.root);
  const numbers = new Float64Array(slotsFor(tree.paths));
  let at = 0;
  try {
    for (const path of tree.paths) {
      // Synchronous on purpose: this is all an unchanged pack costs, and a promise per stat costs more than the stat.
      if (path === '') {
        putRootSignature(tree.root, numbers, at);
        at += 2 * SIGNATURE_SLOTS;
      } else {
        if (raw === undefined) putStatSignature(lstatSync(prefix + path), numbers, at);
        else putRawSignature(raw(prefix + path), numbers, at);
        at += SIGNATURE_SLOTS;
      }
    }
  } catch {
    return false; // something was deleted or became unreadable
  }
  return createHash('sha256').update(numbers).digest('hex') === tree.digest;
}

/** What a caller checked before a build: when it began, and the folder (device, inode) the pack path named then. */
export interface CheckedFolder {
  sinceMs: number;
  folder?: { dev: number; ino: number } | undefined;
}

/** The start of a check of pack folder `dir`: now, and the folder `dir` names (for buildArchive `checked`). */
export function folderCheck(dir: string): CheckedFolder {
  const sinceMs = Date.now();
  const st = statSync(dir, { throwIfNoEntry: false });
  return { sinceMs, folder: st === undefined ? undefined : { dev: st.dev, ino: st.ino } };
}

/**
 * The first of a walk's entries (its path in the pack, `''` for the pack folder) that changed after `sinceMs`
 * (a Date.now() taken before the folder was first read), or is gone; undefined when none did. Read from
 * ctime, which the kernel sets on every change (a write, a rename onto the path, chmod, setting the times)
 * and nothing sets back, unlike mtime, which unpacking tools set to any time. A folder's changes when
 * anything in it is created, deleted or renamed, and the pack folder's .packignore counts as the folder.
 * The pack folder also counts as changed when it is not `folder` (a folder above it was renamed, and
 * another tree put in its place). Date.now() is whole milliseconds: a ctime from its next millisecond on
 * is surely later. A change within the same millisecond, or one timestamp tick (coarse filesystems), goes
 * unseen by that comparison, as racy-clean entries do; a change after the walk stat'ed an entry is seen
 * whatever the clock, by its ctime no longer being the walk's (PackEntry.ctimeMs): the kernel stamps a change
 * with its clock's last tick, up to a few ms before Date.now() (3.4 ms measured on Linux 6.18, ext4 and tmpfs),
 * so a write during a quick build, even one the reads met half done, was stamped before the check began and
 * passed it: exit 0, bytes that were neither the old file nor the new one.
 */
export function changedSince(entries: readonly PackEntry[], sinceMs: number, folder?: { dev: number; ino: number }): string | undefined {
  // Node's numbers without a Stats object per path where this Node allows it (rawLstat), as statTreeHolds reads
  // them: ctime in ms computed as Stats computes ctimeMs. A path the binding fails on (gone, unreadable) is
  // asked again through lstatSync, which answers or throws as before.
  const raw = entries[0] === undefined ? undefined : rawLstat(entries[0].source);
  const ctimeMs = (path: string): number | undefined => {
    if (raw !== undefined) {
      try {
        const v = raw(path);
        return (v[14] as number) * 1e3 + (v[15] as number) / 1e6;
      } catch {
        // as lstatSync says
      }
    }
    return lstatSync(path, { throwIfNoEntry: false })?.ctimeMs;
  };
  const changed = (path: string, optional = false): boolean => {
    const ctime = ctimeMs(path);
    return ctime === undefined ? !optional : ctime >= sinceMs + 1;
  };
  for (const entry of entries) {
    const ctime = ctimeMs(entry.source);
    if (ctime === undefined || ctime >= sinceMs + 1 || (entry.ctimeMs !== undefined && ctime !== entry.ctimeMs)) return entry.relativePath;
    if (entry.relativePath !== '') continue;
    if (changed(join(entry.source, PACKIGNORE_FILE), true)) return PACKIGNORE_FILE;
    const now = lstatSync(entry.source, { throwIfNoEntry: false });
    if (folder !== undefined && (now?.dev !== folder.dev || now.ino !== folder.ino)) return '';
  }
  return undefined;
}

/*
 * lstat without a Stats object (issue 16): Node 20's lstatSync builds a Stats object and four Date objects per
 * call, which in the check of an unchanged re-run's 12,600 paths cost more than the calls themselves (a fifth
 * of the check-ahead worker's instructions, and TurboFan compiling Node's Stats code on V8's helper threads).
 * Node's fs binding answers the same numbers in an array (dev, mode, nlink, uid, gid, rdev, blksize, ino, size,
 * blocks, then seconds and nanoseconds of atime, mtime, ctime, birthtime). process.binding is deprecated
 * (DEP0111: documentation-only up to Node 22, a warning with --pending-deprecation) and its functions are not an
 * API: it is used only on Node 20 to 22, never where a deprecation would be shown or thrown, and only when it
 * gives, for the first pack folder a thread checks, exactly the signature lstatSync gives; else lstatSync.
 * validate's walk check (walk.ts checkPackWalk) reads each plain file's size and mode through it too.
 */
export type RawLstat = (path: string) => Float64Array;
let rawChecked: RawLstat | null | undefined;

/** Tests: check with lstatSync only (`false`), or decide again at the next check (`undefined`). */
export function useRawLstat(allowed: false | undefined): void {
  rawChecked = allowed === false ? null : undefined;
}

/**
 * Whether this Node's binding may be called as below, judged from lstatSync's own source (`source`): only where
 * lstatSync itself passes `throwIfNoEntry` as the binding's fourth argument (Node 20's later releases; an older
 * binding takes an object there to write an error into, and given `true` a missing path could crash the process
 * instead of throwing), and never under the permission model (`permissionModel`), whose read check lstatSync makes
 * in JavaScript before the binding is called.
 */
export function rawLstatCallable(source: string, permissionModel: boolean): boolean {
  return !permissionModel && /binding\.lstat\(\s*[^,()]+(?:\([^()]*\))?,\s*options\.bigint,\s*undefined,\s*options\.throwIfNoEntry,?\s*\)/.test(source);
}

export function rawLstat(probe: string): RawLstat | undefined {
  if (rawChecked !== undefined) return rawChecked ?? undefined;
  rawChecked = null;
  const major = Number(process.versions.node.split('.')[0]);
  const options = `${process.execArgv.join(' ')} ${process.env['NODE_OPTIONS'] ?? ''}`;
  if (major < 20 || major > 22 || /--(pending|throw|trace)-deprecation/.test(options) || (process.env['NODE_PENDING_DEPRECATION'] ?? '') !== '') return undefined;
  if (!rawLstatCallable(lstatSync.toString(), (process as { permission?: unknown }).permission !== undefined)) return undefined;
  try {
    const binding = (process as unknown as { binding(name: string): { lstat?: (path: string, bigint: boolean, req: undefined, throwIfNoEntry: boolean) => unknown } }).binding('fs');
    const lstat = binding.lstat;
    if (typeof lstat !== 'function') return undefined;
    const call: RawLstat = (path) => {
      const values = lstat.call(binding, path, false, undefined, true);
      if (!(values instanceof Float64Array) || values.length < 16) throw new Error('not a stat array');
      return values;
    };
    const viaStats = new Float64Array(SIGNATURE_SLOTS);
    const viaRaw = new Float64Array(SIGNATURE_SLOTS);
    putStatSignature(lstatSync(probe), viaStats, 0);
    putRawSignature(call(probe), viaRaw, 0);
    if (viaStats.every((v, i) => Object.is(v, viaRaw[i]))) rawChecked = call;
  } catch {
    // no binding, or another shape: lstatSync
  }
  return rawChecked ?? undefined;
}

const S_IFMT = 0o170000;

/** What putStatSignature reads of a Stats, set from the binding's numbers: one object, reused. */
const rawStats = {
  mode: 0,
  size: 0,
  mtimeMs: 0,
  ctimeMs: 0,
  ino: 0,
  dev: 0,
  isFile(): boolean {
    return (this.mode & S_IFMT) === 0o100000;
  },
  isDirectory(): boolean {
    return (this.mode & S_IFMT) === 0o040000;
  },
  isSymbolicLink(): boolean {
    return (this.mode & S_IFMT) === 0o120000;
  },
};

/** putStatSignature of the binding's numbers (times in ms as Stats computes them: seconds * 1e3 + nanoseconds / 1e6). */
function putRawSignature(v: Float64Array, out: Float64Array, at: number): void {
  rawStats.mode = v[1] as number;
  rawStats.size = v[8] as number;
  rawStats.mtimeMs = (v[12] as number) * 1e3 + (v[13] as number) / 1e6;
  rawStats.ctimeMs = (v[14] as number) * 1e3 + (v[15] as number) / 1e6;
  rawStats.ino = v[7] as number;
  rawStats.dev = v[0] as number;
  putStatSignature(rawStats as unknown as Stats, out, at);
}
