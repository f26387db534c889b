import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, constants, createReadStream, createWriteStream, fstatSync, fsync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, realpathSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { readFile, readlink, rename, rm, stat } from 'node:fs/promises';
import { PackpubError } from '../errors.js';
import { basename, dirname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { localWriteError } from './local-write.js';
import { isGone } from './pid.js';

export { localWriteError };

/*
 * The small metadata calls below (stat, mkdir, readdir, realpath, a small file's write and rename) are made
 * synchronously: each through the thread pool cost ~25-110 µs of CPU (a hand-off to a pool thread and back: futex
 * wakes, an eventfd, a promise) against ~5 µs on this thread, and a small push makes dozens of them (issue 16).
 * The calls that wait on the disk (fsync) and the streams of large files stay off this thread.
 */

/** statSync, undefined for a path that is not there (ENOENT, or a file on its way: ENOTDIR); other errors thrown. */
function statIfThere(path: string): Stats | undefined {
  try {
    // throwIfNoEntry: an absent path answers undefined without an error made and thrown (its stack trace was most
    // of the call's CPU: makeDirs asks about each missing folder of a new layout).
    return statSync(path, { throwIfNoEntry: false });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** `path` with its symlinks resolved as far as it exists, the rest as written: where a file or folder about to be made will be. */
export async function realAsFarAsItExists(path: string): Promise<string> {
  return realAsFarAsItExistsNow(path);
}

/**
 * realAsFarAsItExists of many paths at once (synchronously), for paths that mostly share a few parents (a run's pack
 * folders): one that is no symbolic link is its parent's real path and its name, one lstat instead of a realpath (a call
 * per path component; issue 16).
 */
export function realPathsAsFarAsTheyExist(paths: readonly string[]): string[] {
  const parents = new Map<string, string>();
  return paths.map((path) => {
    try {
      const real = realViaParent(path, parents, (st) => !st.isSymbolicLink());
      if (real !== undefined) return real;
    } catch {
      // gone, or unreadable: as realAsFarAsItExists finds it
    }
    return realAsFarAsItExistsNow(path);
  });
}

/**
 * `path`'s real path when it is a plain name in its parent folder and `is` takes what lstat says of it (never a
 * symbolic link): the parent's real path (`parents` keeps those by path) and the name. Undefined when that does not
 * apply; throws as lstat does.
 */
export function realViaParent(path: string, parents: Map<string, string>, is: (st: Stats) => boolean): string | undefined {
  const name = basename(path);
  const parent = dirname(path);
  if (!isAbsolute(path) || normalize(path) !== path || path.endsWith(sep) || name === '.' || name === '..' || parent === path) return undefined;
  const st = lstatSync(path);
  if (st.isSymbolicLink() || !is(st)) return undefined;
  let real = parents.get(parent);
  if (real === undefined) {
    real = realpathSync.native(parent);
    parents.set(parent, real);
  }
  return real.endsWith(sep) ? real + name : real + sep + name;
}

function realAsFarAsItExistsNow(path: string): string {
  try {
    return realpathSync.native(path);
  } catch {
    const parent = dirname(path);
    return parent === path ? path : join(realAsFarAsItExistsNow(parent), basename(path));
  }
}

/** The path of `path` inside `folder` ('' for the folder itself), or undefined when it lies outside (both absolute). */
export function pathWithin(folder: string, path: string): string | undefined {
  // Both canonical (what realpath gives): path.relative's answer read off the strings, without its two resolve()
  // calls (~7 us each: push compares every pack folder with each of packpub's own files, 220 x 8 for the bench
  // tree, ~11 ms before the first request; issue 16).
  if (sep === '/' && isCanonical(folder) && isCanonical(path)) {
    if (path === folder) return '';
    const base = folder === '/' ? folder : `${folder}/`;
    return path.startsWith(base) ? path.slice(base.length) : undefined;
  }
  const rel = relative(folder, path);
  return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel) ? undefined : rel;
}

/** An absolute POSIX path that path.resolve leaves as it is: no empty, `.` or `..` segment, no trailing `/` but the root's. */
function isCanonical(path: string): boolean {
  return path.startsWith('/') && (path === '/' || !path.endsWith('/')) && !/\/\/|\/\.\.?(?:\/|$)/.test(path);
}

/** A temp name beside `path`, unique per process and call, for write-then-rename. */
export function tempPathFor(path: string): string {
  return `${path}.tmp-${process.pid}-${randomHex(4)}`;
}

/** Random bytes taken from the system a few hundred at a time: each randomBytes call cost ~30 µs of CPU in a push (OpenSSL's set-up per call). */
let randomPool = Buffer.alloc(0);
let randomTaken = 0;

/** `bytes` random bytes (at most 256) as hex, each byte used once. */
export function randomHex(bytes: number): string {
  if (randomTaken + bytes > randomPool.length) {
    randomPool = randomBytes(256);
    randomTaken = 0;
  }
  randomTaken += bytes;
  return randomPool.toString('hex', randomTaken - bytes, randomTaken);
}

/** The pid in a temp name of tempPathFor: `<name>.tmp-<pid>-<8 hex>`. */
const TEMP_NAME = /\.tmp-(\d+)-[0-9a-f]{8}$/;

/** Whether `name` is a temp file of tempPathFor made by a process that is gone on this host (never this process's). */
export function isDeadTempName(name: string): boolean {
  const pid = TEMP_NAME.exec(name)?.[1];
  return pid !== undefined && Number(pid) !== process.pid && isGone(Number(pid));
}

/**
 * Remove the regular files of `folder` that `pick` chooses by name and that nothing has written for `olderThanMs`:
 * what dead runs left (temp files of a write killed before its rename, blobs no tag names). Any doubt (an error, a
 * file written since) keeps one.
 */
export async function removeOldFiles(folder: string, olderThanMs: number, pick: (name: string) => boolean): Promise<void> {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return;
  }
  for (const name of names) {
    if (!pick(name)) continue;
    const path = join(folder, name);
    let info: Stats | undefined;
    try {
      info = statSync(path);
    } catch {
      info = undefined;
    }
    if (info?.isFile() === true && Date.now() - info.mtimeMs > olderThanMs) await rm(path, { force: true }).catch(() => undefined);
  }
}

/**
 * Remove the temp files tempPathFor made for `path` (`<name>.tmp-<pid>-<hex>` beside it) that a run killed before its
 * rename left (SIGKILL, a cancelled job: no handler removed them): once their process is gone on this host and nothing
 * has written them for `olderThanMs` (a live writer in another PID namespace or host keeps touching its own).
 */
export async function removeDeadTempsOf(path: string, olderThanMs: number): Promise<void> {
  const prefix = `${basename(path)}.tmp-`;
  await removeOldFiles(dirname(path), olderThanMs, (name) => name.startsWith(prefix) && isDeadTempName(name));
}

/** Temp files being written now (trackTemp), removed if the process exits first. */
const inFlight = new Set<string>();

function removeInFlight(): void {
  for (const path of inFlight) rmSync(path, { force: true });
}

/**
 * Note `tmp` as a temp file being written until the returned function is called (after its rename or removal): a run
 * that exits meanwhile (an interrupt whose grace is over: process.exit, the write in flight) removes it then, instead of
 * leaving it, up to a layer's size, for the next run to remove an hour later. The exit listener is there only while a
 * file is in flight.
 */
export function trackTemp(tmp: string): () => void {
  if (inFlight.size === 0) process.on('exit', removeInFlight);
  inFlight.add(tmp);
  return () => {
    if (!inFlight.delete(tmp) || inFlight.size > 0) return;
    process.off('exit', removeInFlight);
  };
}

/**
 * Remove, now, the temp files tempPathFor made for `path` in this process (`<name>.tmp-<this pid>-<hex>`): for an 'exit'
 * listener (a run ended by a signal through process.exit, its write still in flight), so synchronous.
 */
export function removeOwnTempsOf(path: string): void {
  const prefix = `${basename(path)}.tmp-${process.pid}-`;
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return;
  }
  for (const name of names) if (TEMP_NAME.test(name) && name.startsWith(prefix)) rmSync(join(dirname(path), name), { force: true });
}

/**
 * Write a file atomically: a temp file beside it, then rename, so readers never see half a file and an
 * interrupted write leaves the old content. With `mode`, the file gets exactly that mode whatever the umask.
 * `beforeRename` runs once the temp file is written, right before the rename; what it throws leaves the file as it was.
 * `durable`: the temp file's data is flushed to the disk (fsync) before the rename, so that a host crash (power loss,
 * VM reset) leaves the old file or the new one, never an empty one under the name (chaos s22 F7): for the small files
 * that alone hold what they hold (a layout's index.json, the tags; the Docker config, every login). ~1 ms on an ext4
 * disk. The folder is not flushed: a rename lost in a crash leaves the old file, whole.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Buffer,
  options: { mode?: number; beforeRename?: () => Promise<void>; durable?: boolean; ownFile?: boolean } = {},
): Promise<void> {
  // ownFile: a file of packpub's own structure (an OCI layout's index.json, oci-layout, manifests), not a path the user
  // named: a symbolic link at its name is replaced, never written through (a layout's index.json linked to a file
  // elsewhere had that file overwritten).
  const where = options.ownFile === true ? { path, special: false } : outputPlaceNow(path);
  if (where.special) {
    // Loaded here only (a pipe or device named): the check-ahead worker, which loads this module, preloads what it imports.
    const [{ Readable }, streams] = await Promise.all([import('node:stream'), import('node:stream/promises')]);
    await streams.pipeline(Readable.from([typeof data === 'string' ? Buffer.from(data) : data]), await specialWriter(path));
    return;
  }
  const tmp = tempPathFor(where.path);
  try {
    // The open, write, close and rename on this thread (a small file's write waits on no disk); only the fsync, which
    // does, through the thread pool: five hand-offs to the pool and back cost ~0.25 ms of CPU a durable write, one
    // ~0.05 ms (issue 11).
    const fd = openSync(tmp, 'w', options.mode);
    try {
      writeFileSync(fd, data);
      if (options.durable === true) await flushed(fd);
    } finally {
      closeSync(fd);
    }
    if (options.mode !== undefined) chmodSync(tmp, options.mode);
    await options.beforeRename?.();
    renameSync(tmp, where.path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** fsync(2) of `fd` in the thread pool (it waits on the disk). */
function flushed(fd: number): Promise<void> {
  return new Promise((done, failed) => fsync(fd, (err) => (err ? failed(err) : done())));
}

/**
 * Where a file written with write-then-rename goes. A path that is a named pipe or a device (`/dev/null`,
 * `/dev/stdout`, possibly through symlinks) is `special`: its content is written into it, since a rename
 * would replace the pipe or device node itself (for root, /dev/null for everyone). A symlink to a file is
 * followed, so the file it names is replaced and the link stays. Anything else (missing included) is `path`.
 */
export async function outputPlace(path: string): Promise<{ path: string; special: boolean }> {
  return outputPlaceNow(path);
}

function outputPlaceNow(path: string): { path: string; special: boolean } {
  let target: Stats | undefined;
  try {
    target = statSync(path);
  } catch {
    target = undefined;
  }
  if (target !== undefined && !target.isFile() && !target.isDirectory()) return { path, special: true };
  if (target?.isFile() === true && lstatSync(path).isSymbolicLink()) return { path: realpathSync.native(path), special: false };
  return { path, special: false };
}

/** Put the finished temp file `tmp` at `path` (outputPlace): renamed there, or copied into a pipe or device and removed. */
export async function moveIntoPlace(tmp: string, path: string): Promise<void> {
  const where = await outputPlace(path);
  if (!where.special) {
    await rename(tmp, where.path);
    return;
  }
  try {
    await pipeline(createReadStream(tmp), await specialWriter(path));
  } finally {
    await rm(tmp, { force: true });
  }
}

/** How often an output that is a named pipe no program reads yet is opened again (specialWriter). */
const PIPE_READER_POLL_MS = 50;

/**
 * A stream writing into a pipe or device (outputPlace's `special`). A named pipe is opened without waiting
 * (O_NONBLOCK; ENXIO while no program reads it) and opened again until one does, as a shell's `> fifo` waits: the open
 * that waited for a reader waited in a thread of Node's pool, which Node joins as the process ends, so that not even
 * SIGTERM or Ctrl-C ended `build -o fifo` ("SIGTERM: interrupted", and the process stayed). Anything else (a device,
 * /dev/stdout on a terminal) as before.
 */
async function specialWriter(path: string): Promise<NodeJS.WritableStream> {
  if (!statSync(path).isFIFO()) return createWriteStream(path);
  for (;;) {
    let fd: number;
    try {
      fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENXIO') throw err;
      await new Promise((resolve) => setTimeout(resolve, PIPE_READER_POLL_MS));
      continue;
    }
    const { Socket } = await import('node:net');
    return new Socket({ fd, readable: false, writable: true });
  }
}

/**
 * `mkdir -p` that always ends. Node 20's `mkdir(path, { recursive: true })` loops forever when mkdir answers
 * ENOENT inside a folder that exists (/proc, /sys, some FUSE mounts: `--oci-layout /proc/x` or `TMPDIR=/sys`
 * hung the run at full CPU). The missing folders are created here one by one, from the deepest that exists,
 * and any error but EEXIST (another process made it first) is thrown. Returns the first folder this call
 * created (the top of what it added), or undefined when all were there, as Node's recursive mkdir does.
 */
export async function makeDirs(path: string, options: { mode?: number } = {}): Promise<string | undefined> {
  const missing: string[] = [];
  for (let at = resolve(path); ; at = dirname(at)) {
    // ENOTDIR: a folder on the way is a file, found further up.
    let found: Stats | undefined;
    try {
      found = statIfThere(at);
    } catch (err) {
      throw pathRefused(path, err as NodeJS.ErrnoException);
    }
    if (found !== undefined) {
      if (!found.isDirectory()) throw await notAFolder(path, at);
      break;
    }
    missing.push(at);
    if (dirname(at) === at) break;
  }
  let first: string | undefined;
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir, options.mode === undefined ? {} : { mode: options.mode });
      first ??= dir;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // Another process made it first; or it is a link to nothing, which mkdir -p stops at too ("File exists").
      let there: Stats | undefined;
      try {
        there = statSync(dir);
      } catch {
        there = undefined;
      }
      if (there?.isDirectory() !== true) throw await notAFolder(path, dir);
    }
  }
  return first;
}

/**
 * Remove the folders from `deepest` up to `first` (makeDirs made them: its answer), while they are empty: what a pull or
 * build that failed or was interrupted made for its output. Synchronous: an exit handler runs it too (a few rmdir calls).
 */
export function removeMadeFolders(first: string | undefined, deepest: string): void {
  if (first === undefined) return;
  for (let dir = deepest; ; dir = dirname(dir)) {
    try {
      rmdirSync(dir);
    } catch {
      return; // not empty (another process's files), or gone
    }
    if (dir === first || dirname(dir) === dir) return;
  }
}

/** A path the system refuses to follow (a link loop) or to take (too long): said as such (was "a bug in packpub"); others as they came. */
function pathRefused(path: string, err: NodeJS.ErrnoException): unknown {
  if (err.code === 'ELOOP') {
    return new PackpubError('LOCAL_WRITE', `cannot create the folder ${path}: a symbolic link on its way leads back to itself (ELOOP)`, { hint: 'fix or remove that link, or write elsewhere (--oci-layout, -o)', cause: err });
  }
  if (err.code === 'ENAMETOOLONG') {
    return new PackpubError('LOCAL_WRITE', `cannot create the folder ${path}: the path is longer than this system allows (ENAMETOOLONG)`, { hint: 'write to a folder with a shorter path (--oci-layout, -o)', cause: err });
  }
  return err;
}

/**
 * A folder to be made (`path`) that cannot be, since `at` on its way is there and is no folder: a file, or a symbolic
 * link to nothing. As LOCAL_WRITE naming both (was: EEXIST or ENOTDIR as they came: "a bug in packpub", or a bare
 * "ENOENT ... mkdir" for each pack pushed into `--oci-layout` naming a link to a folder not made yet).
 */
async function notAFolder(path: string, at: string): Promise<PackpubError> {
  const link = await readlink(at).catch(() => undefined);
  const gone = link !== undefined && (await stat(at).catch(() => undefined)) === undefined;
  const what = link === undefined ? 'is not a folder' : `is a symbolic link to ${link}, which ${gone ? 'does not exist' : 'is not a folder'}`;
  return new PackpubError('LOCAL_WRITE', `cannot create the folder ${path}: ${resolve(path) === at ? 'it' : at} ${what}`, {
    hint: link === undefined ? 'move that file aside, or write elsewhere (--oci-layout, -o)' : 'create the folder the link names, or remove the link, or write elsewhere (--oci-layout, -o)',
  });
}

/**
 * A file the user named (a settings file, a Docker config, an annotation file), read whole as UTF-8 text. Opened
 * without waiting: open() of a named pipe no program writes to waits for a writer, and it waited in a thread of
 * Node's pool, which Node joins as the process ends, so that not even SIGTERM or Ctrl-C ended the run. A named pipe
 * is now read on this thread's event loop as its writer writes (`--config <(envsubst < packpub.yaml)`), waiting for
 * one as `cat` does, and a signal ends the run. Errors as readFile's (ENOENT, EACCES, EISDIR).
 */
export async function readNamedFile(path: string): Promise<string> {
  const opened = openNamed(path);
  if (opened === undefined) return readFile(path, 'utf8');
  const { fd, pipe: isPipe } = opened;
  if (!isPipe) return readOpened(fd);
  const { Socket } = await import('node:net');
  return new Promise((resolve, reject) => {
    const pipe = new Socket({ fd, readable: true, writable: false });
    const chunks: Buffer[] = [];
    pipe.on('data', (chunk: Buffer) => chunks.push(chunk));
    pipe.once('error', (err) => {
      pipe.destroy();
      reject(err);
    });
    pipe.once('end', () => {
      pipe.destroy();
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

/** How long readNamedFileSync waits for a named pipe's writer to write. */
const PIPE_WAIT_MS = 30_000;

/**
 * readNamedFile for a caller that cannot wait on the event loop (a CA or certificate file read as the HTTP stack is
 * built): a named pipe with no writer reads as empty (no hang, as above), one whose writer is slow is waited for up
 * to 30 s, then refused.
 */
export function readNamedFileSync(path: string): string {
  const opened = openNamed(path);
  if (opened === undefined) return readFileSync(path, 'utf8');
  const { fd, pipe } = opened;
  if (!pipe) return readOpened(fd);
  try {
    const chunks: Buffer[] = [];
    const buffer = Buffer.alloc(64 * 1024);
    const until = Date.now() + PIPE_WAIT_MS;
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buffer);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
        if (Date.now() > until) throw new Error(`nothing came through the named pipe for ${PIPE_WAIT_MS / 1000} s`);
        Atomics.wait(PAUSE, 0, 0, 5);
        continue;
      }
      if (n === 0) return Buffer.concat(chunks).toString('utf8');
      chunks.push(Buffer.from(buffer.subarray(0, n)));
    }
  } finally {
    closeSync(fd);
  }
}

const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/**
 * `path` opened for reading without waiting (O_NONBLOCK: a named pipe opens at once), and whether it is a named pipe;
 * undefined when it is neither a regular file nor a named pipe (a terminal, /dev/null: read as before, by path). Open
 * errors thrown.
 */
function openNamed(path: string): { fd: number; pipe: boolean } | undefined {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  let kind: Stats;
  try {
    kind = fstatSync(fd);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  if (kind.isFile() || kind.isFIFO()) return { fd, pipe: kind.isFIFO() };
  closeSync(fd);
  return undefined;
}

/**
 * The content of the regular file open at `fd`, whose fstat said `size` bytes: read as readFileSync(fd) reads it (up to
 * that size, or to its end when it said 0), without the second fstat readFileSync makes.
 */
export function readWhole(fd: number, size: number): Buffer {
  if (size === 0) return readFileSync(fd);
  const buffer = Buffer.allocUnsafe(size);
  let got = 0;
  while (got < size) {
    const n = readSync(fd, buffer, got, size - got, null);
    if (n === 0) break;
    got += n;
  }
  return got < size ? buffer.subarray(0, got) : buffer;
}

/** A regular file opened by openNamed, read whole and closed. */
function readOpened(fd: number): string {
  try {
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}
