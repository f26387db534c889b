import { isAscii } from 'node:buffer';
import { closeSync, constants as fsConstants, fstatSync, lstatSync, openSync, readdirSync, readFileSync, readSync, realpathSync, statSync, type Stats } from 'node:fs';
import { lstat, open, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, posix, relative, resolve, sep } from 'node:path';
import { PackpubError, errorMessage } from '../errors.js';
import { blockingReads } from './read-flavour.js';

/**
 * Largest pack.json / values.yaml / schema.yaml / presets.yaml we read (4 MiB). Real ones are far
 * smaller (the largest values.yaml in pack-central is a few hundred KB); anything bigger is refused
 * rather than parsed, so a hostile pack cannot make us allocate without bound.
 */
export const MAX_PACK_TEXT_BYTES = 4 * 1024 * 1024;

export { blockingReads, useBlockingReads } from './read-flavour.js';

/** The file-system calls of this module, blocking or not. */
const fsCalls = {
  lstat: (path: string): Promise<Stats> | Stats => (blockingReads() ? lstatSync(path) : lstat(path)),
  realpath: (path: string): Promise<string> | string => (blockingReads() ? realpathSync.native(path) : realpath(path)),
  stat: (path: string): Promise<Stats> | Stats => (blockingReads() ? statSync(path) : stat(path)),
  readdir: (path: string): Promise<string[]> | string[] => (blockingReads() ? readdirSync(path) : readdir(path)),
  /**
   * lstat, or undefined when nothing is there (ENOENT; ENOTDIR too where Node says so): blocking, without the
   * error Node would make and throw for it (a pack without schema.yaml, presets.yaml or README.md: ~400 on the
   * bench tree, issue 16). Other failures throw, as lstat's.
   */
  lstatIfThere: (path: string): Promise<Stats> | Stats | undefined => (blockingReads() ? lstatSync(path, { throwIfNoEntry: false }) : lstat(path)),
};

/** The real path of `path` (blocking when useBlockingReads was called). */
export async function realPathOf(path: string): Promise<string> {
  return fsCalls.realpath(path);
}

/** stat(2) of `path` (blocking when useBlockingReads was called). */
export async function statOf(path: string): Promise<Stats> {
  return fsCalls.stat(path);
}

/** The names in folder `path`, unsorted (blocking when useBlockingReads was called). */
export async function readdirOf(path: string): Promise<string[]> {
  return fsCalls.readdir(path);
}

/** The whole file at `path` (blocking when useBlockingReads was called); callers bound its size first. */
export async function readFileOf(path: string): Promise<Buffer> {
  return blockingReads() ? readFileSync(path) : readFile(path);
}

/** An open file: size, positioned reads, close. */
interface ReadHandle {
  size(): Promise<number> | number;
  isFile(): Promise<boolean> | boolean;
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<number> | number;
  close(): Promise<void> | void;
}

/** Open for reading; O_NONBLOCK: if the path was swapped for a FIFO after statInPack, open must not hang. */
async function openForRead(path: string): Promise<ReadHandle> {
  const flags = fsConstants.O_RDONLY | fsConstants.O_NONBLOCK;
  if (blockingReads()) {
    const fd = openSync(path, flags);
    let info: Stats | undefined;
    const fstat = (): Stats => (info ??= fstatSync(fd));
    return { size: () => fstat().size, isFile: () => fstat().isFile(), read: (b, o, l, p) => readSync(fd, b, o, l, p), close: () => closeSync(fd) };
  }
  const handle = await open(path, flags);
  let info: Promise<Stats> | undefined;
  const fstat = (): Promise<Stats> => (info ??= handle.stat());
  return {
    size: async () => (await fstat()).size,
    isFile: async () => (await fstat()).isFile(),
    read: async (b, o, l, p) => (await handle.read(b, o, l, p)).bytesRead,
    close: () => handle.close(),
  };
}

/** What a path named by the pack turned out to be. */
export type PackFileStatus =
  | { kind: 'file'; /** Real path (symlinks resolved), inside the pack. */ realPath: string; size: number }
  | { kind: 'missing'; /** Set when a symlink is there but leads to no file: to nothing, or round in a loop. */ brokenLink?: 'dangling' | 'loop' }
  | { kind: 'outside'; /** Where it leads, when known (absolute). */ target?: string }
  | { kind: 'not-file'; /** "a directory", "a FIFO", ... */ what: string; realPath: string };

/** True when `child` is `root` or below it (both absolute, normalised). */
export function isInside(root: string, child: string): boolean {
  const rel = relative(root, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * The absolute real path of a pack folder. Throws a USAGE error when it does not exist or is not a
 * directory: that is a mistake in the command line, not in a pack. `display` names it in the message.
 */
export async function resolvePackDir(dir: string, display = dir): Promise<string> {
  const real = await packDirCall(() => fsCalls.realpath(resolve(dir)), display);
  mustBeFolder(await fsCalls.stat(real), display);
  return real;
}

/**
 * resolvePackDir's check alone, with its errors, for a command that only has to refuse a wrong folder
 * before it starts: one stat (it follows links as realpath does) instead of a readlink per part of the
 * path and a stat (issue 16).
 */
export async function checkPackDir(dir: string, display = dir): Promise<void> {
  mustBeFolder(await packDirCall(() => fsCalls.stat(resolve(dir)), display), display);
}

/** A file-system call on a pack folder given by the user; its failure is a USAGE error naming `display`. */
async function packDirCall<T>(call: () => Promise<T> | T, display: string): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') {
      throw new PackpubError('USAGE', `pack folder "${display}" is a symlink loop`, { hint: 'point the symlink at the pack folder, or give the pack folder itself', cause: err });
    }
    throw new PackpubError('USAGE', `pack folder "${display}" does not exist`, {
      hint: 'give the path of a pack folder (the folder that holds pack.json)',
      cause: err,
    });
  }
}

function mustBeFolder(info: Stats, display: string): void {
  if (!info.isDirectory()) {
    throw new PackpubError('USAGE', `"${display}" is not a folder`, {
      hint: 'give the pack folder itself (the folder that holds pack.json), not a file inside it',
    });
  }
}

function describeKind(info: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a named pipe (FIFO)';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device file';
  return 'not a regular file';
}

/**
 * Resolve `rel` (as written in pack.json, or a fixed name like `values.yaml`) inside the pack
 * without following it out: absolute paths, `..` and symlinks whose target leaves the pack are
 * reported as `outside`. `packDir` must already be a real path (see resolvePackDir).
 */
export async function statInPack(packDir: string, rel: string): Promise<PackFileStatus> {
  // No file name holds NUL; Node would throw on it rather than answer ENOENT.
  if (rel.includes('\0')) return { kind: 'missing' };
  if (isAbsolute(rel)) return { kind: 'outside', target: rel };
  const joined = resolve(packDir, rel);
  if (!isInside(packDir, joined)) return { kind: 'outside', target: joined };
  let link;
  try {
    link = await fsCalls.lstatIfThere(joined);
  } catch (err) {
    // ELOOP here: a folder on the way is a symlink loop.
    if (isMissingError(err)) return (err as NodeJS.ErrnoException).code === 'ELOOP' ? { kind: 'missing', brokenLink: 'loop' } : { kind: 'missing' };
    throw err;
  }
  if (link === undefined) return { kind: 'missing' };
  // A name with a letter beyond ASCII is checked on every file system: macOS's APFS finds "café" written
  // composed (NFC) or decomposed (NFD) alike, also on a case-sensitive volume, where ignoresCase says no.
  if (((await ignoresCase(joined, link)) || /[^\x00-\x7f]/.test(rel)) && !(await namedExactly(packDir, rel))) return { kind: 'missing' };
  // When neither the entry nor a folder between it and the (real) pack folder is a symlink, the path is its
  // own real path and lstat told what it is: no realpath (a readlink per part of the whole path) and no stat,
  // for pack.json, charts/*.tgz, manifests/* and the like (a good part of validating a tree of small packs,
  // issue 16). A symlink anywhere on the way: resolved below, so a link leaving the pack is still refused.
  if (!link.isSymbolicLink() && (await noLinkAbove(packDir, joined))) {
    return link.isFile() ? { kind: 'file', realPath: joined, size: link.size } : { kind: 'not-file', what: describeKind(link), realPath: joined };
  }
  let real: string;
  try {
    real = await fsCalls.realpath(joined);
  } catch (err) {
    if (isMissingError(err)) return { kind: 'missing', brokenLink: (err as NodeJS.ErrnoException).code === 'ELOOP' ? 'loop' : 'dangling' };
    throw err;
  }
  if (!isInside(packDir, real)) return { kind: 'outside', target: real };
  const info = await fsCalls.stat(real);
  if (!info.isFile()) return { kind: 'not-file', what: describeKind(info), realPath: real };
  return { kind: 'file', realPath: real, size: info.size };
}

/** True when no folder between the real folder `packDir` and `path` (inside it) is a symlink; false when unsure. */
async function noLinkAbove(packDir: string, path: string): Promise<boolean> {
  for (let dir = dirname(path); dir.length > packDir.length; dir = dirname(dir)) {
    try {
      if ((await fsCalls.lstat(dir)).isSymbolicLink()) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * What a `missing` status left by a broken symlink is, for a message that would otherwise say the file
 * is missing: push's walk refuses the link too. Undefined when nothing is there.
 */
export function brokenLinkText(status: { brokenLink?: 'dangling' | 'loop' }): string | undefined {
  if (status.brokenLink === undefined) return undefined;
  return status.brokenLink === 'loop' ? 'a symlink loop (it never leads to a file)' : 'a symlink to a file that does not exist';
}

/**
 * The path of an entry beside a missing `rel` whose name differs from it only in case, or only by
 * `.yml` for `.yaml` (`logo.PNG`, `readme.md`, `values.yml`), or in Unicode normalization, for the message: names are
 * case-sensitive where Palette reads the pack. Undefined when there is none or the folder is unreadable.
 */
export async function lookAlikeName(packDir: string, rel: string): Promise<string | undefined> {
  const slashed = rel.replaceAll('\\', '/');
  const parent = posix.dirname(slashed);
  const wanted = posix.basename(slashed);
  // Unicode normalization too: a name written decomposed (NFD, as macOS's HFS+ and some tools write it)
  // is another name, on Linux and in the archive, than the "café.yaml" typed into pack.json (NFC).
  const fold = (name: string): string => name.normalize('NFC').toLowerCase().replace(/\.yml$/, '.yaml');
  try {
    const dir = await statInPack(packDir, parent);
    if (dir.kind !== 'not-file' || dir.what !== 'a directory') return undefined;
    const names = (await fsCalls.readdir(dir.realPath)).sort();
    const found = names.find((name) => name !== wanted && fold(name) === fold(wanted));
    return found === undefined ? undefined : parent === '.' ? found : `${parent}/${found}`;
  } catch {
    return undefined;
  }
}

/**
 * Whether a file's first bytes are a Git LFS pointer (`version https://git-lfs.github.com/spec/v1`, then
 * `oid sha256:...` and `size ...`): what a clone holds in place of a file tracked with Git LFS when the LFS
 * content was not fetched (Git LFS not installed, `GIT_LFS_SKIP_SMUDGE=1`, a CI checkout without `lfs: true`).
 */
export function isGitLfsPointer(head: Buffer): boolean {
  return head.toString('latin1', 0, 40) === 'version https://git-lfs.github.com/spec/';
}

/** The fix for a Git LFS pointer in place of `what`. */
export const GIT_LFS_FIX = 'fetch the content (`git lfs pull`; in CI, check out with LFS, e.g. actions/checkout `lfs: true`)';

/** Whether `bytes` start with a UTF-16 byte-order mark (little- or big-endian): what Windows PowerShell 5's `>` and Notepad's "Unicode" write. */
export function hasUtf16Bom(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff));
}

/** How a name's accented letters are written: composed (é as one character, NFC) or decomposed (e and a combining accent, NFD). */
export function unicodeForm(name: string): string {
  if (name === name.normalize('NFC')) return 'composed (NFC)';
  return name === name.normalize('NFD') ? 'decomposed (NFD)' : 'partly decomposed';
}

/**
 * Whether the file system holding `path` (just lstat'ed as `info`) finds names whatever their case, as
 * macOS and Windows do by default: there `charts/Web-1.0.0.tgz` opens `charts/web-1.0.0.tgz`, but the
 * archive holds the name on disk and Palette, reading it on Linux, finds no `Web-1.0.0.tgz`. Found once
 * per device, by looking the name up in the other case: the same file under both names.
 */
const caseBlindDevices = new Map<number, boolean>();

async function ignoresCase(path: string, info: Stats): Promise<boolean> {
  const known = caseBlindDevices.get(info.dev);
  if (known !== undefined) return known;
  const name = path.slice(path.lastIndexOf(sep) + 1);
  const swapped = [...name].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('');
  if (swapped === name) return false; // no letters to tell by: ask again with the next name
  let blind: boolean;
  try {
    const other = await fsCalls.lstat(path.slice(0, path.length - name.length) + swapped);
    blind = other.ino === info.ino && other.dev === info.dev;
  } catch (err) {
    if (!isMissingError(err)) throw err;
    blind = false;
  }
  caseBlindDevices.set(info.dev, blind);
  return blind;
}

/** Whether every part of `rel` (below the real folder `packDir`) is the name of an entry exactly, case included. */
async function namedExactly(packDir: string, rel: string): Promise<boolean> {
  let dir = packDir;
  for (const part of sep === '/' ? rel.split('/') : rel.split(/[\\/]/)) {
    if (part === '' || part === '.') continue;
    if (part !== '..' && !(await fsCalls.readdir(dir)).includes(part)) return false;
    dir = resolve(dir, part);
  }
  return true;
}

function isMissingError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP';
}

export type TextReadResult =
  | { ok: true; text: string; bom: boolean }
  | { ok: false; reason: 'too-large'; size: number }
  /** `lossy`: the text as Go's readers that do not refuse invalid UTF-8 (encoding/json) read it, each bad sequence a U+FFFD. */
  | { ok: false; reason: 'not-utf8'; lossy: string; utf16: boolean };

/**
 * Read a regular file as UTF-8, refusing anything over `limit` bytes without reading it. Reads at most
 * limit+1 bytes even if the file grows meanwhile. A leading BOM is removed and reported.
 */
export async function readTextLimited(realPath: string, limit = MAX_PACK_TEXT_BYTES): Promise<TextReadResult> {
  const handle = await openForRead(realPath);
  try {
    if (!(await handle.isFile())) throw new PackpubError('PACK_FILE', `${realPath} is not a regular file`);
    const size = await handle.size();
    if (size > limit) return { ok: false, reason: 'too-large', size };
    const buffer = Buffer.allocUnsafe(Math.min(size, limit) + 1);
    let filled = 0;
    while (filled < buffer.length) {
      const bytesRead = await handle.read(buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    if (filled > limit) return { ok: false, reason: 'too-large', size: filled };
    let text: string;
    const bytes = buffer.subarray(0, filled);
    try {
      // ASCII (most pack files) is valid UTF-8 as it is: a plain copy instead of a checked decode.
      text = isAscii(bytes) ? bytes.toString('latin1') : utf8.decode(bytes);
    } catch {
      // A UTF-16 byte-order mark: what Windows PowerShell 5's `>` and Notepad's "Unicode" write.
      return { ok: false, reason: 'not-utf8', lossy: lossyUtf8.decode(bytes), utf16: hasUtf16Bom(bytes) };
    }
    const bom = text.charCodeAt(0) === 0xfeff;
    return { ok: true, text: bom ? text.slice(1) : text, bom };
  } finally {
    await handle.close();
  }
}

/** Strict UTF-8 (one decoder: it keeps no state between calls without `stream`). */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lossyUtf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** Read the first `count` bytes of a file (fewer when it is shorter). */
export async function readHead(realPath: string, count: number): Promise<Buffer> {
  const handle = await openForRead(realPath);
  try {
    const buffer = Buffer.alloc(count);
    let filled = 0;
    while (filled < count) {
      const bytesRead = await handle.read(buffer, filled, count - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buffer.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

/** `4.0 MiB`, `812 KiB`, `17 B`. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KiB`;
  return `${n} B`;
}

/** A message for an unexpected I/O failure on a pack file. */
export function ioProblem(rel: string, err: unknown): string {
  return `cannot read ${rel}: ${errorMessage(err)}; check the file's permissions`;
}
