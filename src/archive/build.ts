import { createHash } from 'node:crypto';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PackpubError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { archiveFileName } from '../pack/naming.js';
import { localWriteError, makeDirs, moveIntoPlace, outputPlace, tempPathFor } from '../util/fs.js';
import { checkGzipOptions, gzipMembers, type GzipOptions } from './gzip.js';
import { DEFAULT_ARCHIVE_MTIME, checkMtime, tarBytes, tarChunksHere } from './tar.js';
import { contentKeyOf, type FileHashCache } from './content-key.js';
import { changedSince, statTreeOf, type CheckedFolder, type StatTree } from './stat-tree.js';
import { listPackEntries, type PackEntry, type WalkOptions } from './walk.js';

export interface BuildOptions extends GzipOptions {
  /** pack.json name and version: the file name is `<name>-<version>.tar.gz`. */
  name: string;
  version: string;
  /** mtime of every entry. Default DEFAULT_ARCHIVE_MTIME; pass archiveMtime(process.env) to honour SOURCE_DATE_EPOCH. */
  mtime?: Date;
  /** Limits of the folder walk (depth, path length, sizes). */
  walk?: WalkOptions;
  /** Called after each gzip member is written. */
  onProgress?: (progress: BuildProgress) => void;
  /** Remember each file's hash by stat signature, for cachedPackContentKey on later runs. */
  fileHashes?: FileHashCache;
  /**
   * What the caller checked before this build (validated it, or recognised it from the cache): when that
   * began (a Date.now() from before the folder was first read) and which folder the path named then (its
   * device and inode). The build fails (PACK_FILE) when anything archived changed since, or the path now
   * names another folder (one above it renamed), so what is built is what the caller checked, never content
   * nobody validated under the version it read.
   */
  checked?: CheckedFolder;
  /**
   * An archive of at most this many bytes is kept in memory (BuiltArchive `bytes`) and `outFile` is not
   * written; a larger one streams into `outFile` as usual (memory stays bounded by this number). For a
   * caller that only sends the archive on (push): most packs are far smaller than a write and a read back.
   */
  inMemoryUpTo?: number;
  /**
   * Build on the calling thread: a blocking walk and file reads, and for a pack of at most
   * ON_THIS_THREAD_BYTES deflate with zlib's synchronous API and the tar written into one reused buffer
   * (tarChunksHere; a larger pack is still deflated a few blocks at once on the thread pool, so it uses every
   * core). For a thread with nothing else to do meanwhile (a validation worker). Does not change the bytes.
   */
  onThisThread?: boolean;
  /** The folder's entries, when the caller has just walked it (listPackEntries with this name and version as its top folder). */
  entries?: PackEntry[];
}

/** Files of a pack deflated on the calling thread with `onThisThread` (the bench tree's largest pack: 5 MB). */
export const ON_THIS_THREAD_BYTES = 16 * 1024 * 1024;

export interface BuildProgress {
  /** Uncompressed tar bytes read so far. */
  tarBytes: number;
  /** Compressed bytes written so far. */
  writtenBytes: number;
}

export interface BuiltArchive {
  /** Absolute path of the written file (`outFile`; not written when `bytes` is set). */
  path: string;
  /** The archive's bytes, when it fit in `inMemoryUpTo`: then no file was written. */
  bytes?: Buffer;
  /** `<name>-<version>.tar.gz`: the layer title. */
  fileName: string;
  /** sha256 of the .tar.gz bytes: the layer digest. */
  digest: Digest;
  /** Bytes of the .tar.gz. */
  size: number;
  /** Tar entries, folders included. */
  entries: number;
  /** Bytes of the tar before compression. */
  uncompressedSize: number;
  /** gzip members in the file (one per block of uncompressed tar). */
  members: number;
  /** packContentKey of the folder as archived (files hashed while they were read). */
  contentKey: string;
  /** The stat signatures the archive was built from: while they hold, it would be built the same. */
  tree: StatTree | undefined;
}

/**
 * Builds `<name>-<version>.tar.gz` of a pack folder in one streaming pass:
 * walk -> tar -> block-parallel gzip -> sha256 -> temp file -> rename to `outFile`.
 * The same folder content and options give byte-identical files on any machine (see gzip.ts for
 * the one caveat, the zlib build). An interrupted or failed build leaves no partial `outFile`.
 */
export async function buildArchive(packDir: string, outFile: string, options: BuildOptions): Promise<BuiltArchive> {
  if (options.name === '' || options.version === '') {
    throw new PackpubError('USAGE', 'buildArchive needs the pack name and version', { hint: 'pass pack.json name and version' });
  }
  const gzip = checkGzipOptions(options);
  const mtime = checkMtime(options.mtime ?? DEFAULT_ARCHIVE_MTIME);
  // The top folder comes from pack.json, not the folder's name: the same content anywhere, the same digest.
  // On this thread (a validation worker), the walk's calls block too: no round trip through libuv's pool each.
  const entries = options.entries ?? (await listPackEntries(packDir, { ...options.walk, topFolder: `${options.name}-${options.version}` }, options.onThisThread === true));

  const path = resolve(outFile);
  const signal = options.signal;
  const keepUpTo = options.inMemoryUpTo ?? -1;
  let tarSize = 0;
  let writtenBytes = 0;
  let members = 0;
  const fileHashes = new Map<PackEntry, string>();
  const onFileHash = (entry: PackEntry, sha256: string) => {
    fileHashes.set(entry, sha256);
    if (entry.signature !== undefined) options.fileHashes?.set(entry.source, entry.signature, sha256);
  };
  const blocking = options.onThisThread === true;
  const inline = blocking && entries.reduce((sum, e) => sum + e.size, 0) <= ON_THIS_THREAD_BYTES;
  const tarOptions = { mtime, onFileHash, ...(signal === undefined ? {} : { signal }) };
  // Deflated on this thread, each chunk is copied into its block before the next is asked for: the tar is
  // written into one reused buffer, files read straight into it.
  const tar = inline ? tarChunksHere(entries, tarOptions) : tarBytes(entries, { ...tarOptions, blocking });
  async function* countedTar(): AsyncGenerator<Buffer> {
    for await (const chunk of tar) {
      tarSize += chunk.length;
      yield chunk;
    }
  }
  const hash = createHash('sha256');
  /** Compressed parts not written to a file (all of them while the archive fits in `keepUpTo`). */
  let held: Buffer[] = [];
  let file: { handle: FileHandle; tmp: string } | undefined;
  let tmp: string | undefined;
  try {
    for await (const parts of gzipMembers(countedTar(), { ...gzip, onThisThread: inline, ...(signal === undefined ? {} : { signal }) })) {
      for (const part of parts) {
        hash.update(part);
        writtenBytes += part.length;
      }
      members++;
      if (file === undefined && writtenBytes <= keepUpTo) {
        held.push(...parts);
      } else {
        if (file === undefined) {
          // Beside the file it becomes (one rename); in the temp folder when it is copied into a pipe or device.
          await makeDirs(dirname(path));
          const place = await outputPlace(path);
          tmp = tempPathFor(place.special ? join(tmpdir(), ARCHIVE_THROUGH) : place.path);
          file = { handle: await open(tmp, 'wx', 0o644).catch((err: unknown) => {
            tmp = undefined;
            throw place.special ? tempFolderError(err, path) : err;
          }), tmp };
        }
        await writeAll(file.handle, held.length === 0 ? parts : [...held, ...parts]);
        held = [];
      }
      options.onProgress?.({ tarBytes: tarSize, writtenBytes });
    }
    signal?.throwIfAborted();
    // After every byte was read: a change between the caller's check and the walk, or during the reads.
    const changed = options.checked === undefined ? undefined : changedSince(entries, options.checked.sinceMs, options.checked.folder);
    if (changed !== undefined) {
      throw new PackpubError('PACK_FILE', `${changed === '' ? 'the pack folder' : changed} changed while packpub was packing ${options.name}-${options.version}`, {
        hint: 'make sure nothing writes into the pack folder while packpub runs, then run it again (it is validated again)',
      });
    }
    if (file !== undefined) {
      const opened = file;
      file = undefined;
      await opened.handle.close();
      await moveIntoPlace(opened.tmp, path);
    }
  } catch (err) {
    await file?.handle.close().catch(() => undefined);
    // A removal that fails too (its folder gone or not one) must not hide why the build failed.
    if (tmp !== undefined) await rm(tmp, { force: true }).catch(() => undefined);
    if (err instanceof Error && err.name === 'AbortError') {
      throw new PackpubError('ABORTED', `building ${archiveFileName(options.name, options.version)} was interrupted`, { cause: err });
    }
    throw localWriteError(err, path);
  }
  const inMemory = tmp === undefined;
  return {
    path,
    ...(inMemory ? { bytes: held.length === 1 ? held[0]! : Buffer.concat(held, writtenBytes) } : {}),
    fileName: archiveFileName(options.name, options.version),
    digest: `sha256:${hash.digest('hex')}`,
    size: writtenBytes,
    entries: entries.length,
    uncompressedSize: tarSize,
    members,
    contentKey: contentKeyOf(
      entries,
      entries.map((e) => fileHashes.get(e) ?? ''),
      { mtime, level: gzip.level, blockSize: gzip.blockSize },
    ),
    tree: statTreeOf(entries),
  };
}

/** The name (before tempPathFor's `.tmp-<pid>-<hex>`) of the temp file in the temp folder an archive for a pipe or device is written through. */
export const ARCHIVE_THROUGH = 'packpub-archive';

/**
 * The archive written into a pipe or device (`build -o /dev/stdout`) goes through a temp file first, so that a failed
 * build writes nothing there: a temp folder it cannot be made in (TMPDIR not a folder, read-only, another user's) is
 * said as such (CONFIG, exit 2, nothing written), not as an error of the pipe or "a bug".
 */
function tempFolderError(err: unknown, path: string): PackpubError {
  const why = err instanceof Error ? ((err as NodeJS.ErrnoException).code ?? err.message) : String(err);
  return new PackpubError('CONFIG', `cannot make the temp file an archive for ${path} is written through, in ${tmpdir()} (the temp folder, TMPDIR): ${why}`, {
    hint: 'set TMPDIR to a writable folder with room for the archive, or give -o a file',
    cause: err,
  });
}

/** Write every part, as many calls as the file takes (writev may write fewer bytes than asked). */
async function writeAll(handle: FileHandle, parts: Buffer[]): Promise<void> {
  let rest = parts.filter((p) => p.length > 0);
  while (rest.length > 0) {
    let { bytesWritten } = await handle.writev(rest);
    const left: Buffer[] = [];
    for (const part of rest) {
      if (bytesWritten >= part.length) bytesWritten -= part.length;
      else {
        left.push(part.subarray(bytesWritten));
        bytesWritten = 0;
      }
    }
    rest = left;
  }
}
