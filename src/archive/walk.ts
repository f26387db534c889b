import { isUtf8 } from 'node:buffer';
import { accessSync, constants as fsConstants, lstatSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import type { Dirent, Stats } from 'node:fs';
import { basename, join, sep } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { PackpubError } from '../errors.js';
import { PACKIGNORE_FILE, rootSignature, statSignature } from './signature.js';
import { rawLstat, type RawLstat } from './stat-tree.js';

export { PACKIGNORE_FILE, rootSignature, statSignature } from './signature.js';

/**
 * The walk that decides what goes into a pack archive.
 *
 * Decisions (documented here because the archive bytes depend on them):
 * - `.git` (file or folder), `.DS_Store` and `._*` are left out at every depth.
 * - `.packignore` at the pack root holds gitignore patterns relative to the pack root; the file
 *   itself is build configuration, not pack content, so it is left out of the archive too
 *   (like `.npmignore` in npm). Matching is case-sensitive on every platform, so the same
 *   folder gives the same archive on Linux and macOS.
 * - A symlink is followed: when it resolves inside the pack it is stored as the regular file or
 *   folder it points to (issue 2). Hard links are stored as separate regular files.
 * - Refused with PACK_FILE, naming the path: symlinks leaving the pack, dangling symlinks, symlink
 *   loops, fifos, sockets and devices, names that are not valid UTF-8, files this process may not read,
 *   folders nested deeper than `maxDepth`, archive paths longer than `maxPathBytes`, files over
 *   `maxFileBytes`, packs over `maxTotalBytes` or `maxEntries`.
 */

export type PackEntryType = 'file' | 'directory';

export interface PackEntry {
  type: PackEntryType;
  /** The name in the tar: `<folder>/<path>`, directories with a trailing `/` (`hello-1.0.0/manifests/`). */
  archivePath: string;
  /** Path inside the pack folder with `/` separators, no trailing slash; `''` for the folder itself. */
  relativePath: string;
  /** Real path on disk to read (symlinks already resolved). */
  source: string;
  /** Normalised mode: directories 0755; files 0755 when any execute bit is set, else 0644. */
  mode: number;
  /** Bytes of a file; 0 for directories. */
  size: number;
  /**
   * statSignature of what was read: for a file its size, mtime, ctime, inode and device (equal signatures
   * mean the content is unchanged, as git's index assumes, which lets a file-hash cache skip reading it);
   * for a folder the same without size (equal: the same names inside). The pack folder's own entry adds
   * its .packignore (rootSignature). See stat-tree.ts. Absent when the entry changed too close to the walk
   * to prove anything (WalkOptions.statCutoffMs): then it is read on every run.
   */
  signature?: string;
  /**
   * The change time (ctimeMs) of `source` when the walk stat'ed it. buildArchive's check after reading (changedSince)
   * refuses an entry whose change time is no longer this: a write during the build, which the file system's clock (a
   * kernel tick, up to a few ms behind Date.now()) can stamp before the moment the check began.
   */
  ctimeMs?: number;
}

export interface WalkOptions {
  /** Deepest folder nesting below the pack root. Default 64. */
  maxDepth?: number;
  /** Longest archive path in UTF-8 bytes (the tar stores long names in pax headers). Default 4096. */
  maxPathBytes?: number;
  /** Most entries (files and folders) in one pack. Default 100 000. */
  maxEntries?: number;
  /** Largest single file. Default 4 GiB. */
  maxFileBytes?: number;
  /** Largest sum of file sizes. Default 16 GiB. */
  maxTotalBytes?: number;
  /**
   * Record stat signatures only for what was last changed (mtime or ctime) before this time, in ms since
   * the epoch. Default: the walk's start minus RACY_MARGIN_MS (and COARSE_RACY_MARGIN_MS less that again for an
   * entry with whole-second times). A file changed within one timestamp tick of the walk can be changed again in
   * that tick with the same size and times ("racily clean", as git calls it), so its signature would not prove
   * its content: such an entry gets none and is read on later runs.
   */
  statCutoffMs?: number;
  /**
   * The archive's single top-level directory. buildArchive sets `<name>-<version>` from pack.json, so
   * the archive does not depend on what the folder is called. Default: the folder's own name.
   */
  topFolder?: string;
}

export const WALK_DEFAULTS = {
  maxDepth: 64,
  maxPathBytes: 4096,
  maxEntries: 100_000,
  maxFileBytes: 4 * 1024 ** 3,
  maxTotalBytes: 16 * 1024 ** 3,
} as const satisfies Required<Omit<WalkOptions, 'topFolder' | 'statCutoffMs'>>;

/**
 * How long before a walk a change must be for its stat signature to count, on a file system with fine file times
 * (ext4, xfs, btrfs, tmpfs: nanoseconds). Their times come from a clock that advances in ticks of a few
 * milliseconds: 1 s covers that with room, and costs only that a pack edited within a second of a build is read
 * again next run.
 */
export const RACY_MARGIN_MS = 1000;

/**
 * The same for an entry whose mtime and ctime are both whole seconds: a file system that keeps no more (ext3,
 * HFS+, ext4 with 128-byte inodes, some NFS and overlay set-ups: 1 s; FAT: 2 s, rounded down). There a file is
 * stamped with the start of its tick, up to 2 s before it was written: with 1 s, a walk more than 1 s into a 2 s
 * tick recorded a file written early in that tick, and a rewrite of the same size later in the same tick (a
 * version's last digit) kept every number of its signature: the next run read the pack as unchanged, exit 0, the
 * old content left published. git's racy-git rule compares a file's time with its index file's, stamped by the
 * same file system; a pack folder may be read-only, so packpub cannot stamp a file there: it takes the coarsest
 * tick (2 s), a clock tick and 1 s of difference between this machine's clock and a file server's. A time in the
 * future (a server ahead of this clock) is never settled either way.
 */
export const COARSE_RACY_MARGIN_MS = 3000;

/**
 * Whether a change at `st`'s times is old enough, before a walk whose fine-grained cutoff (the walk's start less
 * RACY_MARGIN_MS) is `cutoff`, for its signature to prove its content (see COARSE_RACY_MARGIN_MS).
 */
export function settledBefore(st: { mtimeMs: number; ctimeMs: number }, cutoff: number): boolean {
  const coarse = st.mtimeMs % 1000 === 0 && st.ctimeMs % 1000 === 0;
  return Math.max(st.mtimeMs, st.ctimeMs) < (coarse ? cutoff - (COARSE_RACY_MARGIN_MS - RACY_MARGIN_MS) : cutoff);
}

/** Whether the pack folder's .packignore, if any, changed before `cutoff` (settledBefore). */
function packignoreSettled(root: string, cutoff: number): boolean {
  let st: Stats;
  try {
    st = lstatSync(join(root, PACKIGNORE_FILE));
  } catch {
    return true;
  }
  return settledBefore(st, cutoff);
}

/** Names left out of every archive, at any depth. */
export function isAlwaysExcluded(name: string): boolean {
  return name === '.git' || name === '.DS_Store' || name.startsWith('._');
}

/** A name isAlwaysExcluded takes, starting a path in a JSON text's strings (kept beside it: the same three names). */
const ALWAYS_EXCLUDED_IN_JSON = /["/](?:\.git["/]|\.DS_Store["/]|\._)/;

/**
 * Whether a JSON text (pack.json) may name a path holding a name isAlwaysExcluded takes: a test of its text before it is
 * parsed and its paths split; false means none of its strings does.
 */
export function mayNameAlwaysExcluded(jsonText: string): boolean {
  return ALWAYS_EXCLUDED_IN_JSON.test(jsonText);
}

/** Files with any execute bit become 0755, everything else 0644; folders are always 0755. */
export function normaliseMode(type: PackEntryType, mode: number): number {
  if (type === 'directory') return 0o755;
  return (mode & 0o111) !== 0 ? 0o755 : 0o644;
}

/** Bytewise order of the UTF-8 archive paths (JS string order is UTF-16 and differs above U+FFFF). */
export function compareArchivePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** A name for messages, with bytes that are not printable ASCII shown as \xNN. */
function showBytes(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) out += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  return out;
}

/** A PACK_FILE refusal of the walk, naming the path in the pack it is about (`''`: the pack folder itself). */
export class PackFileRefusal extends PackpubError {
  constructor(
    readonly path: string,
    message: string,
    hint: string,
    cause?: unknown,
  ) {
    super('PACK_FILE', message, cause === undefined ? { hint } : { hint, cause });
  }
}

function packFileError(message: string, hint: string, cause?: unknown, path = ''): PackpubError {
  return new PackFileRefusal(path, message, hint, cause);
}

function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

/**
 * The folder's real path and the name it gets as the archive's single top-level directory. `blocking`: with
 * synchronous calls (a validation thread, where they cost far less CPU than thread-pool round trips).
 */
export async function resolvePackRoot(packDir: string, blocking = false): Promise<{ root: string; name: string }> {
  let rootBytes: Buffer;
  try {
    rootBytes = blocking ? realpathSync.native(packDir, { encoding: 'buffer' }) : await realpath(packDir, { encoding: 'buffer' });
  } catch (err) {
    throw new PackpubError('NOT_FOUND', `pack folder ${packDir} does not exist`, {
      hint: 'pass the path of a folder that holds pack.json',
      cause: err,
    });
  }
  const name = basename(rootBytes.toString('latin1'));
  const nameBytes = Buffer.from(name, 'latin1');
  if (!isUtf8(nameBytes)) {
    throw packFileError(`the pack folder name "${showBytes(nameBytes)}" is not valid UTF-8`, 'rename the folder using UTF-8 characters');
  }
  if (!isUtf8(rootBytes)) {
    throw packFileError(`the path to pack folder ${nameBytes.toString('utf8')} is not valid UTF-8`, 'move the pack to a folder whose path is UTF-8');
  }
  const root = rootBytes.toString('utf8');
  const rootName = basename(root);
  if (rootName === '') {
    throw packFileError(`${packDir} is the filesystem root, not a pack folder`, 'pass the folder that holds pack.json');
  }
  const st = blocking ? statSync(root) : await stat(root);
  if (!st.isDirectory()) {
    throw new PackpubError('USAGE', `${packDir} is not a folder`, { hint: 'pass the folder that holds pack.json, not a file in it' });
  }
  return { root, name: rootName };
}

/**
 * resolvePackRoot's answer for a folder whose real path `root` already is, without asking the file system: undefined
 * when the path may not be UTF-8 (its text holds U+FFFD, what a string read from the file system shows for bytes
 * that are not) or is the file system's root, where resolvePackRoot gives the verdict.
 */
function knownPackRoot(root: string): { root: string; name: string } | undefined {
  const name = basename(root);
  return name === '' || root.includes('\uFFFD') ? undefined : { root, name };
}

/** Whether lstat finds nothing at `path` (ENOENT), told without an error made and thrown; false when it fails otherwise. */
function nothingAt(path: string): boolean {
  try {
    return lstatSync(path, { throwIfNoEntry: false }) === undefined;
  } catch {
    return false;
  }
}

/** What `path` leads to (links followed) when that is neither a file nor a folder (specialKind), else undefined. */
function specialAt(path: string): string | undefined {
  let st: Stats | undefined;
  try {
    st = statSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined; // reading it says why
  }
  return st === undefined || st.isFile() || st.isDirectory() ? undefined : specialKind(st);
}

/** The .packignore rules; undefined without the file, so a walk spends nothing on matching. */
async function loadPackignore(root: string, blocking = false): Promise<Ignore | undefined> {
  // Case-sensitive like git on Linux, whatever the platform: the same folder must give the same archive.
  const ig = ignore({ ignorecase: false, allowRelativePaths: true });
  // Most packs have none: a blocking walk asks lstat, which says so without the error readFile would throw
  // (issue 16); whatever else lstat finds or meets, the file is read as before.
  if (blocking && nothingAt(join(root, PACKIGNORE_FILE))) return undefined;
  // A fifo (or a link to one, or to a device such as /dev/zero) is never a file of patterns: reading it waited for a
  // writer for good (validate, build and push hung, and SIGTERM only said "interrupted": the read held the thread pool).
  const special = specialAt(join(root, PACKIGNORE_FILE));
  if (special !== undefined) {
    throw packFileError(`cannot read ${PACKIGNORE_FILE}: it is a ${special}, not a file`, 'replace it with a text file of gitignore patterns, or remove it', undefined, PACKIGNORE_FILE);
  }
  let text: string;
  try {
    text = blocking ? readFileSync(join(root, PACKIGNORE_FILE), 'utf8') : await readFile(join(root, PACKIGNORE_FILE), 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw packFileError(`cannot read ${PACKIGNORE_FILE}: ${(err as Error).message}`, 'make the file readable or remove it', err, PACKIGNORE_FILE);
  }
  return ig.add(text);
}

/** Whether the pack folder's .packignore leaves out the folder at `relDir` (relative to the pack root), as the walk would. */
export async function packignoreLeavesOut(root: string, relDir: string): Promise<boolean> {
  const ig = await loadPackignore(root);
  if (ig === undefined) return false;
  // The walk matches each folder on its way down: a folder above it left out leaves it out too.
  const parts = relDir.split(sep);
  return parts.some((_, i) => ig.ignores(`${parts.slice(0, i + 1).join('/')}/`));
}

/**
 * Whether the pack folder's .packignore leaves out the file at `relFile` (slash-separated, relative to the pack root),
 * as the walk would: a folder on its way, or the file itself.
 */
export async function packignoreLeavesOutFile(root: string, relFile: string): Promise<boolean> {
  const ig = await loadPackignore(root);
  if (ig === undefined) return false;
  const parts = relFile.split('/');
  return parts.slice(0, -1).some((_, i) => ig.ignores(`${parts.slice(0, i + 1).join('/')}/`)) || ig.ignores(relFile);
}

interface WalkState {
  root: string;
  name: string;
  /** The .packignore rules (undefined: none). */
  ig: Ignore | undefined;
  opts: Required<Omit<WalkOptions, 'topFolder' | 'statCutoffMs'>>;
  /** WalkOptions.statCutoffMs: entries changed at or after it get no signature. */
  cutoff: number;
  /** What the archive will hold; undefined for a check that only applies the rules (checkPackWalk). */
  entries: PackEntry[] | undefined;
  /** Folder listings and symlinks read with blocking calls (a thread that only validates and builds). */
  blocking: boolean;
  /**
   * How a check stats a plain file: through Node's fs binding (rawLstat: numbers, no Stats object) where this
   * Node allows it; undefined: statSync.
   */
  raw?: RawLstat | undefined;
  /** Entries met so far (the pack folder included). */
  count: number;
  totalBytes: number;
}

/**
 * Every entry of the pack archive, sorted bytewise by archive path, the pack folder itself first.
 * Only metadata is read; file contents are streamed later by the tar writer. `blocking`: with synchronous
 * calls only, for a thread with nothing else to do meanwhile (a validation worker, where a call through
 * libuv's thread pool costs several times the call itself); the same entries either way.
 */
export async function listPackEntries(packDir: string, options: WalkOptions = {}, blocking = false): Promise<PackEntry[]> {
  const { topFolder, statCutoffMs, ...limits } = options;
  const cutoff = statCutoffMs ?? Date.now() - RACY_MARGIN_MS;
  const opts: Required<Omit<WalkOptions, 'topFolder' | 'statCutoffMs'>> = { ...WALK_DEFAULTS, ...definedOnly(limits) };
  const resolved = await resolvePackRoot(packDir, blocking);
  const root = resolved.root;
  const name = topFolder ?? resolved.name;
  if (name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name)) {
    throw new PackpubError('USAGE', `"${name}" cannot be the archive's top folder`, { hint: 'it is <name>-<version> from pack.json: fix the name or version' });
  }
  // Taken before anything is read, so a change made during the walk shows as a newer signature later.
  const signature = rootSignature(root);
  const entries: PackEntry[] = [];
  const state: WalkState = { root, name, ig: await loadPackignore(root, blocking), opts, cutoff, entries, blocking, count: 1, totalBytes: 0 };
  const rootStat = blocking ? statSync(root) : await stat(root);
  const settledRoot = settledBefore(rootStat, cutoff) && packignoreSettled(root, cutoff);
  entries.push({
    type: 'directory',
    archivePath: `${name}/`,
    relativePath: '',
    source: root,
    mode: normaliseMode('directory', rootStat.mode),
    size: 0,
    ctimeMs: rootStat.ctimeMs,
    ...(settledRoot ? { signature } : {}),
  });
  await walkDir(state, root, '', 1, new Set([root]));
  entries.sort((a, b) => compareArchivePaths(a.archivePath, b.archivePath));
  return entries;
}

/**
 * Apply the walk's rules to a pack folder without listing its entries: throws the PackFileRefusal that
 * listPackEntries (and so push) would throw, or nothing. This is how `validate` refuses what push would.
 * Cheaper than the walk: a plain folder's type comes from the folder listing (no stat), a plain file gets
 * one stat (no lstat) for the size limits and whether this process may read it; only symlinks are resolved.
 * `realFolder`: `packDir` is already the real path of a folder (validation resolved it: resolvePackDir), so it
 * is not resolved and stat'ed again (issue 16: a readlink per part of the path, for every pack).
 */
export async function checkPackWalk(packDir: string, options: Omit<WalkOptions, 'statCutoffMs'> = {}, realFolder = false): Promise<void> {
  const { topFolder, ...limits } = options;
  const opts: Required<Omit<WalkOptions, 'topFolder' | 'statCutoffMs'>> = { ...WALK_DEFAULTS, ...definedOnly(limits) };
  const resolved = (realFolder ? knownPackRoot(packDir) : undefined) ?? (await resolvePackRoot(packDir, true));
  // A plain file's size and mode from lstat: for a file the listing says is a regular file, stat's.
  const raw = rawLstat(resolved.root);
  const state: WalkState = { root: resolved.root, name: topFolder ?? resolved.name, ig: await loadPackignore(resolved.root, true), opts, cutoff: 0, entries: undefined, blocking: true, raw, count: 1, totalBytes: 0 };
  await walkDir(state, resolved.root, '', 1, new Set([resolved.root]));
}

function definedOnly<T extends object>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}

async function walkDir(state: WalkState, realDir: string, relDir: string, depth: number, ancestors: Set<string>): Promise<void> {
  // Sorted so errors (and the order of work) do not depend on the filesystem's readdir order.
  const dirents = await listFolder(state, realDir, relDir);
  for (const dirent of dirents) {
    const listed = dirent.name;
    if (typeof listed !== 'string') {
      // latin1 keeps bytes 1:1, so the ASCII names below match whatever the rest of the name holds.
      if (isAlwaysExcluded(listed.toString('latin1'))) continue;
      if (!isUtf8(listed)) {
        const shown = relDir === '' ? showBytes(listed) : `${relDir}/${showBytes(listed)}`;
        throw packFileError(`${shown}: the file name is not valid UTF-8`, 'rename it using UTF-8 characters, or delete it', undefined, relDir);
      }
    } else if (isAlwaysExcluded(listed)) continue;
    const name = typeof listed === 'string' ? listed : listed.toString('utf8');
    if (relDir === '' && name === PACKIGNORE_FILE) continue;
    const rel = relDir === '' ? name : `${relDir}/${name}`;
    // realDir is a real path and name a single component: plain concatenation (path.join normalises again, at a cost per entry).
    const fsPath = `${realDir}${sep}${name}`;
    // An archive needs each entry's stat (mode, size, signature); a check learns a plain entry's type from
    // the folder listing and resolves only symlinks.
    const linkStats = state.entries === undefined ? undefined : lstatEntry(rel, fsPath);
    const isLink = linkStats === undefined ? dirent.isSymbolicLink() : linkStats.isSymbolicLink();
    // A symlink is matched as a file first (as git does), before it is resolved, so .packignore can
    // leave out a link that points outside the pack.
    if (isLink && state.ig?.ignores(rel)) continue;
    const { stats, source } = isLink ? await resolveLink(state, rel, fsPath) : { stats: linkStats, source: fsPath };
    const kind: Stats | Dirent<string> | Dirent<Buffer> = stats ?? dirent;

    let type: PackEntryType;
    if (kind.isDirectory()) type = 'directory';
    else if (kind.isFile()) type = 'file';
    else if (state.ig?.ignores(rel)) continue;
    else {
      throw packFileError(
        `${rel} is a ${specialKind(kind)}, which cannot be stored in a pack`,
        'delete it, or list it in .packignore',
        undefined,
        rel,
      );
    }
    if (state.ig?.ignores(type === 'directory' ? `${rel}/` : rel)) continue;
    if (name.includes('\\')) {
      // extract.ts refuses such entries, as Windows tools split them: what is published must pull.
      throw packFileError(`${rel}: the file name contains a backslash, which Windows tools and packpub pull read as a folder separator`, 'rename it, or list it in .packignore', undefined, rel);
    }

    if (depth > state.opts.maxDepth) {
      throw packFileError(`${rel} is nested deeper than ${state.opts.maxDepth} folders`, 'flatten the folder structure, or list it in .packignore', undefined, rel);
    }
    const archivePath = type === 'directory' ? `${state.name}/${rel}/` : `${state.name}/${rel}`;
    if (Buffer.byteLength(archivePath) > state.opts.maxPathBytes) {
      throw packFileError(`${rel}: the path is longer than ${state.opts.maxPathBytes} bytes`, 'shorten the file or folder names', undefined, rel);
    }
    if (state.count >= state.opts.maxEntries) {
      throw packFileError(`the pack has more than ${state.opts.maxEntries} files and folders (at ${rel})`, 'list generated or vendored folders in .packignore', undefined, rel);
    }
    // A check learns a plain file's size (and mode) only here: one stat per file, for the size limits.
    const fileStats = type !== 'file' ? undefined : (stats ?? statFile(state, rel, fsPath));
    const size = fileStats?.size ?? 0;
    if (fileStats !== undefined) refuseUnreadable(rel, source, fileStats.mode);
    if (size > state.opts.maxFileBytes) {
      throw packFileError(`${rel} is ${size} bytes, over the ${state.opts.maxFileBytes}-byte limit for one file`, 'list it in .packignore (the limit is fixed)', undefined, rel);
    }
    state.totalBytes += size;
    if (state.totalBytes > state.opts.maxTotalBytes) {
      throw packFileError(`the pack is over ${state.opts.maxTotalBytes} bytes (at ${rel})`, 'list large files in .packignore (the limit is fixed)', undefined, rel);
    }
    state.count += 1;
    if (state.entries !== undefined && stats !== undefined) {
      state.entries.push({
        type,
        archivePath,
        relativePath: rel,
        source,
        mode: normaliseMode(type, stats.mode),
        size,
        ctimeMs: stats.ctimeMs,
        ...(settledBefore(stats, state.cutoff) ? { signature: statSignature(stats) } : {}),
      });
    }

    if (type === 'directory') {
      if (ancestors.has(source)) {
        throw packFileError(`${rel} is a symlink loop (it points back to a folder that contains it)`, 'replace the symlink with a copy, or list it in .packignore', undefined, rel);
      }
      const next = new Set(ancestors);
      next.add(source);
      await walkDir(state, source, rel, depth + 1, next);
    }
  }
}

/**
 * A folder's entries in bytewise order of their UTF-8 names. Listed with the names as strings (issue 16: a Buffer
 * per name cost ~0.03 ms of CPU per folder on the bench tree's 1,200): a name that is not UTF-8 shows there as
 * U+FFFD, and a folder with any such character, or whose listing as strings failed (where the file system gives
 * no type, Node lstats each name, and such a name as a string names nothing), is listed again with its names
 * as bytes, so such a name, or the error, is told exactly as before.
 */
async function listFolder(state: WalkState, realDir: string, relDir: string): Promise<Dirent<string>[] | Dirent<Buffer>[]> {
  let named: Dirent<string>[] | undefined;
  try {
    named = state.blocking ? readdirSync(realDir, { withFileTypes: true }) : await readdir(realDir, { withFileTypes: true });
  } catch {
    // listed again below, as bytes, which says why
  }
  if (named !== undefined && !named.some((dirent) => dirent.name.includes('\uFFFD'))) return named.sort((a, b) => compareNames(a.name, b.name));
  try {
    const listed = state.blocking ? readdirSync(realDir, { encoding: 'buffer', withFileTypes: true }) : await readdir(realDir, { encoding: 'buffer', withFileTypes: true });
    return listed.sort((a, b) => Buffer.compare(a.name, b.name));
  } catch (err) {
    throw packFileError(`cannot read folder ${relDir || '.'}: ${(err as Error).message}`, 'make the folder readable or list it in .packignore', err, relDir);
  }
}

/**
 * Buffer.compare of two names' UTF-8 bytes, without the bytes: UTF-8 sorts by code point, and so do UTF-16 code
 * units except that a code point above U+FFFF (a surrogate pair, 0xD800-0xDFFF) sorts after U+E000-U+FFFF.
 */
function compareNames(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const pairX = x >= 0xd800 && x <= 0xdfff;
    const pairY = y >= 0xd800 && y <= 0xdfff;
    return pairX === pairY ? x - y : pairX ? 1 : -1;
  }
  return a.length - b.length;
}

/**
 * Synchronous on purpose: metadata of a pack's files is in the page cache, and a promise-based lstat
 * costs a threadpool round trip each (thousands per Helm pack), which dominated unchanged re-runs.
 */
function lstatEntry(rel: string, fsPath: string): Stats {
  try {
    return lstatSync(fsPath);
  } catch (err) {
    throw packFileError(`cannot read ${rel}: ${(err as Error).message}`, 'make it readable, or list it in .packignore', err, rel);
  }
}

/**
 * stat(2) of a plain file a check met in its folder's listing (lstatEntry's twin: a plain entry needs no lstat):
 * its size and mode, through Node's fs binding where the check has it (state.raw): no Stats object with four
 * Dates per file (the bench tree's validate checks ~11,400 files, issue 16).
 */
function statFile(state: WalkState, rel: string, fsPath: string): { size: number; mode: number } {
  try {
    if (state.raw === undefined) return statSync(fsPath);
    const numbers = state.raw(fsPath);
    return { size: numbers[8] as number, mode: numbers[1] as number };
  } catch (err) {
    throw packFileError(`cannot read ${rel}: ${(err as Error).message}`, 'make it readable, or list it in .packignore', err, rel);
  }
}

/**
 * Refuse a file this process may not read, as the archive writer would fail on it later ("cannot read
 * <rel>: EACCES ..."). The mode bits decide for nearly every file (readable by all: no call); only a file
 * they keep from someone is asked about with access(2), which knows this process's user, groups and
 * privileges (root reads it; a CI runner user may not read what a container step left with mode 0600).
 */
function refuseUnreadable(rel: string, source: string, mode: number): void {
  if ((mode & 0o444) === 0o444) return;
  try {
    accessSync(source, fsConstants.R_OK);
  } catch (err) {
    throw packFileError(`cannot read ${rel}: ${(err as Error).message}`, 'make the file readable, or list it in .packignore', err, rel);
  }
}

/** Where a symlink resolves, checked to stay inside the pack. */
async function resolveLink(state: WalkState, rel: string, fsPath: string): Promise<{ stats: Stats; source: string }> {
  let target: string;
  try {
    target = state.blocking ? realpathSync.native(fsPath) : await realpath(fsPath);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ELOOP') {
      throw packFileError(`${rel} is a symlink loop`, 'replace the symlink with a copy of what it should point to', err, rel);
    }
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw packFileError(`${rel} is a dangling symlink (its target does not exist)`, 'fix or delete the symlink, or list it in .packignore', err, rel);
    }
    throw packFileError(`cannot resolve symlink ${rel}: ${(err as Error).message}`, 'fix or delete the symlink', err, rel);
  }
  if (!isInside(state.root, target)) {
    throw packFileError(
      `${rel} is a symlink to ${target}, outside the pack folder`,
      'copy the file into the pack instead of linking to it, or list the symlink in .packignore',
      undefined,
      rel,
    );
  }
  return { stats: state.blocking ? statSync(target) : await stat(target), source: target };
}

function specialKind(st: Stats | Dirent<string> | Dirent<Buffer>): string {
  if (st.isFIFO()) return 'named pipe (fifo)';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  return 'special file';
}
