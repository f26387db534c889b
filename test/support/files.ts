import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { extract as tarExtract, pack as tarPack, type Header } from 'tar-stream';
import { createGunzip, createGzip, gzipSync } from 'node:zlib';
import { chmodSync, createReadStream, lstatSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { runChild } from './spawner.js';

/*
 * Files for tests: temp folders, writing a tree of files, reading one back (to compare two trees), a tiny PNG
 * and a chart-like .tgz.
 */

/** A temp dir removed by the returned cleanup (or hand it to a Stage: `stage.tempDir()`). */
export async function tempDir(prefix = 'packpub-test-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Relative path -> content, or content with permission bits. */
export type TreeSpec = Record<string, string | Buffer | { content: string | Buffer; mode: number }>;

/**
 * Write files (relative path -> content) below `dir` in the order given, creating folders. With Node's synchronous
 * calls, each folder made once: a test's tree is small and on the suite's tmpfs, where an awaited call's promise and
 * thread-pool round trip cost ~10 times the work (writePack's five files: ~2 ms of CPU awaited, ~0.2 ms so).
 */
export async function writeFiles(dir: string, files: TreeSpec): Promise<void> {
  const made = new Set<string>();
  for (const [rel, spec] of Object.entries(files)) {
    const path = join(dir, rel);
    const parent = dirname(path);
    if (!made.has(parent)) {
      mkdirSync(parent, { recursive: true });
      made.add(parent);
    }
    if (typeof spec === 'string' || Buffer.isBuffer(spec)) {
      writeFileSync(path, spec);
    } else {
      writeFileSync(path, spec.content);
      chmodSync(path, spec.mode);
    }
  }
}

export interface TreeItem {
  type: 'file' | 'directory' | 'other';
  mode: number;
  sha256?: string;
}

/**
 * Every path below root (posix separators, sorted) with type, permission bits and content hash. With Node's
 * synchronous calls, as writeFiles: a pulled tree is read on the suite's tmpfs, where each awaited call's promise
 * and thread-pool round trip cost more than the read.
 */
export async function readTree(root: string): Promise<Map<string, TreeItem>> {
  const out = new Map<string, TreeItem>();
  function walk(dir: string, rel: string): void {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const r = rel === '' ? name : `${rel}/${name}`;
      const st = lstatSync(path);
      if (st.isDirectory()) {
        out.set(r, { type: 'directory', mode: st.mode & 0o7777 });
        walk(path, r);
      } else if (st.isFile()) {
        out.set(r, { type: 'file', mode: st.mode & 0o7777, sha256: createHash('sha256').update(readFileSync(path)).digest('hex') });
      } else {
        out.set(r, { type: 'other', mode: st.mode & 0o7777 });
      }
    }
  }
  walk(root, '');
  return out;
}

/** The files below `dir` (relative path -> sha256 of the content): two trees hold the same files when these are equal. */
export async function treeOf(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [path, item] of await readTree(dir)) if (item.type === 'file') out[path] = item.sha256 ?? '';
  return out;
}

/** A valid 1x1 PNG. */
export const TINY_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

/** How `tgz` compresses. */
export interface TgzOptions {
  /**
   * zlib's level (default: zlib's, 6). 1 for archives of many MiB of zeros, whose compression at 6 cost a
   * test file seconds of CPU; any level inflates to the same bytes.
   */
  level?: number;
}

/** A link entry of `tgz`, as tar stores a symlink (or a file hard-linked to an earlier one) unless told to follow it. */
export interface TarLink {
  link: 'symlink' | 'hard';
  target: string;
}

/**
 * A gzip'd tar of `files` (paths as given, e.g. `foo/Chart.yaml`; folders implied, or as entries named `foo/`), as `helm
 * package` writes it; a TarLink value is a link entry, as `tar -czf` of a folder holding links writes it.
 */
export async function tgz(files: Record<string, string | Buffer | TarLink>, options: TgzOptions = {}): Promise<Buffer> {
  const pack = tarPack();
  const out = buffer(pack.pipe(createGzip(options.level === undefined ? {} : { level: options.level })));
  for (const [name, content] of Object.entries(files)) {
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null) => (err ? reject(err) : resolve());
      // A name ending in "/" is a directory entry, as tar writes them.
      if (name.endsWith('/')) pack.entry({ name, type: 'directory', mode: 0o755, mtime: new Date(0) }, done);
      else if (typeof content === 'object' && 'link' in content) {
        pack.entry({ name, type: content.link === 'hard' ? 'link' : 'symlink', linkname: content.target, mode: 0o777, mtime: new Date(0) }, done);
      } else pack.entry({ name, mode: 0o644, mtime: new Date(0) }, content, done);
    });
  }
  pack.finalize();
  return out;
}

/** Named pipes (fifos) at `paths`, made by `mkfifo` (Node has no call for it). */
export async function makeFifo(...paths: string[]): Promise<void> {
  await runChild('mkfifo', paths);
}

/**
 * A gzip'd GNU tar of `files` that was then appended to (`tar -r`) with `later`, written over the same
 * names first: the archive holds both copies of each, in that order, as an archive patched in place does.
 */
export async function appendedTgz(files: Record<string, string>, later: Record<string, string>): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'packpub-appended-'));
  try {
    await writeFiles(dir, files);
    const tarFile = join(dir, 'chart.tar');
    const top = [...new Set(Object.keys(files).map((name) => name.split('/')[0] as string))];
    await runChild('tar', ['-C', dir, '-cf', tarFile, ...top]);
    await writeFiles(dir, later);
    await runChild('tar', ['-C', dir, '-rf', tarFile, ...Object.keys(later)]);
    return gzipSync(await readFile(tarFile));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `tgz(files)` written to the file `out`. */
export async function writeTgz(out: string, files: Record<string, string | Buffer | TarLink>, options: TgzOptions = {}): Promise<void> {
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, await tgz(files, options));
}

/** The entry names of a .tgz file, in archive order. */
export async function tgzNames(path: string): Promise<string[]> {
  const extract = tarExtract();
  const done = pipeline(createReadStream(path), createGunzip(), extract);
  const names: string[] = [];
  for await (const entry of extract) {
    names.push(entry.header.name);
    entry.resume();
  }
  await done;
  return names;
}

/** Write one file below `dir` (folders created). */
export function putFile(dir: string, rel: string, content: string | Buffer): Promise<void> {
  return writeFiles(dir, { [rel]: content });
}

/** A tar entry made by hand (hostile ones included: links, devices, `..` names, pax headers). */
export type CraftEntry = Partial<Header> & { name: string; content?: string | Buffer };

/** The tar bytes of hand-made entries, written with tar-stream (gzip them for a `.tar.gz`). */
export async function craftTar(entries: CraftEntry[]): Promise<Buffer> {
  const pack = tarPack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const { content, ...header } of entries) {
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (content === undefined) pack.entry({ mtime: new Date(0), ...header }, cb);
      else pack.entry({ mtime: new Date(0), ...header }, content, cb);
    });
  }
  pack.finalize();
  await collected;
  return Buffer.concat(chunks);
}
