import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { PackpubError } from '../errors.js';
import { checkGzipOptions, type GzipOptions } from './gzip.js';
import { ARCHIVE_FORMAT_VERSION, DEFAULT_ARCHIVE_MTIME, checkMtime } from './format.js';
import { listPackEntries, type PackEntry, type WalkOptions } from './walk.js';

export { ARCHIVE_FORMAT_VERSION } from './format.js';

export interface ContentKeyOptions extends Pick<GzipOptions, 'level' | 'blockSize'> {
  mtime?: Date;
  walk?: WalkOptions;
  /** Files hashed at the same time. Default 4. Does not change the key. */
  concurrency?: number;
  /** Remembered file hashes: a file whose stat signature is unchanged is not read again. */
  fileHashes?: FileHashCache;
}

/**
 * sha256 of file contents by path and stat signature (see PackEntry.signature). A cache only saves
 * reads: a stale hit needs a file rewritten with the same size within the same mtime and ctime tick.
 */
export interface FileHashCache {
  get(source: string, signature: string): string | undefined;
  set(source: string, signature: string, sha256: string): void;
}

/**
 * A fingerprint of everything that determines the archive bytes buildArchive would write: the format
 * version, the zlib build, mtime, level, block size, and every entry's path inside the pack, type,
 * mode, size and sha256 of content. The folder's own name is not part of it: the archive's top folder
 * is `<name>-<version>` from pack.json, whose content the key covers. Equal keys mean equal archives, so a release job can skip an
 * unchanged pack without compressing it. Reads every byte (sha256 only, no deflate) unless
 * `fileHashes` knows the file. Returns 64 lowercase hex characters.
 */
export async function packContentKey(packDir: string, options: ContentKeyOptions = {}): Promise<string> {
  const entries = await listPackEntries(packDir, options.walk);
  const fileHashes = await hashFiles(entries, options.concurrency ?? 4, options.fileHashes);
  return contentKeyOf(entries, fileHashes, options);
}

/**
 * The content key from remembered file hashes alone, without reading any file: undefined as soon as
 * one file is not in `fileHashes` (changed, or never built here). Costs a walk of the folder (stat calls).
 */
export async function cachedPackContentKey(packDir: string, fileHashes: FileHashCache, options: ContentKeyOptions = {}): Promise<string | undefined> {
  const entries = await listPackEntries(packDir, options.walk);
  const hashes: string[] = [];
  for (const entry of entries) {
    if (entry.type !== 'file') {
      hashes.push('');
      continue;
    }
    const known = entry.signature === undefined ? undefined : fileHashes.get(entry.source, entry.signature);
    if (known === undefined) return undefined;
    hashes.push(known);
  }
  return contentKeyOf(entries, hashes, options);
}

/** The key formula, shared by packContentKey and buildArchive (which hashes files as it archives them). */
export function contentKeyOf(entries: readonly PackEntry[], fileHashes: readonly string[], options: Pick<ContentKeyOptions, 'mtime' | 'level' | 'blockSize'>): string {
  const { level, blockSize } = checkGzipOptions({
    ...(options.level === undefined ? {} : { level: options.level }),
    ...(options.blockSize === undefined ? {} : { blockSize: options.blockSize }),
    concurrency: 1,
  });
  const mtime = checkMtime(options.mtime ?? DEFAULT_ARCHIVE_MTIME);
  const key = createHash('sha256');
  // JSON lines: every string is quoted and escaped, so no two inputs serialise alike.
  key.update(
    JSON.stringify({
      format: ARCHIVE_FORMAT_VERSION,
      zlib: process.versions.zlib,
      mtime: mtime.getTime() / 1000,
      level,
      blockSize,
    }) + '\n',
  );
  entries.forEach((entry, i) => {
    key.update(JSON.stringify([entry.type, entry.relativePath, entry.mode, entry.size, fileHashes[i] ?? '']) + '\n');
  });
  return key.digest('hex');
}

async function hashFiles(entries: readonly PackEntry[], concurrency: number, cache?: FileHashCache): Promise<string[]> {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new PackpubError('USAGE', `concurrency ${concurrency} is not a positive integer`, { hint: 'leave it unset' });
  }
  const hashes: string[] = new Array<string>(entries.length).fill('');
  let next = 0;
  const worker = async () => {
    while (next < entries.length) {
      const i = next++;
      const entry = entries[i]!;
      if (entry.type !== 'file') continue;
      const known = entry.signature === undefined ? undefined : cache?.get(entry.source, entry.signature);
      hashes[i] = known ?? (await hashFile(entry));
      if (known === undefined && entry.signature !== undefined) cache?.set(entry.source, entry.signature, hashes[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, entries.length) }, worker));
  return hashes;
}

// Small files are read whole (one call instead of a stream per file: most pack files are a few KB).
const SMALL_FILE_BYTES = 512 * 1024;

async function hashFile(entry: PackEntry): Promise<string> {
  const hash = createHash('sha256');
  let size = 0;
  try {
    if (entry.size <= SMALL_FILE_BYTES) {
      const data = await readFile(entry.source);
      hash.update(data);
      size = data.length;
    } else {
      for await (const chunk of createReadStream(entry.source, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
        hash.update(chunk);
        size += chunk.length;
      }
    }
  } catch (err) {
    throw new PackpubError('PACK_FILE', `cannot read ${entry.relativePath}: ${(err as Error).message}`, {
      hint: 'make the file readable, or list it in .packignore',
      cause: err,
    });
  }
  if (size !== entry.size) {
    throw new PackpubError('PACK_FILE', `${entry.relativePath} changed size while it was being read`, {
      hint: 'make sure nothing writes into the pack folder, then run it again',
    });
  }
  return hash.digest('hex');
}
