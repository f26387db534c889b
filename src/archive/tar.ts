import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { pack as tarPack, type Header, type Pack } from 'tar-stream';
import { PackpubError } from '../errors.js';
import { drainedOrClosed } from '../util/stream.js';
import type { PackEntry } from './walk.js';
import { DEFAULT_ARCHIVE_MTIME, checkMtime } from './format.js';

export { DEFAULT_ARCHIVE_MTIME, archiveMtime, checkMtime } from './format.js';

/**
 * The deterministic tar writer. Every header field that could differ between machines or runs is
 * fixed: uid/gid 0, empty owner names, modes from the walk (0755/0644), one mtime for every entry,
 * entries in the walk's bytewise order. Names longer than ustar allows go into pax headers
 * (POSIX.1-2001), which GNU tar, bsdtar and Go's archive/tar read.
 */

type TarHeader = Partial<Header> & Pick<Header, 'name'>;

export interface TarOptions {
  mtime: Date;
  /** Called with each file's sha256 (hex) as it is archived, so the content key costs no second read. */
  onFileHash?: (entry: PackEntry, sha256: string) => void;
  /** Stop between entries and chunks when aborted. */
  signal?: AbortSignal;
}

function header(entry: PackEntry, mtime: Date): TarHeader {
  return {
    name: entry.archivePath,
    type: entry.type,
    mode: entry.mode,
    uid: 0,
    gid: 0,
    uname: '',
    gname: '',
    size: entry.size,
    mtime,
  };
}

/**
 * The tar bytes of the entries, produced lazily as the consumer reads (tar-stream applies
 * backpressure to the file reads), so memory stays flat whatever the file sizes. Stopping the
 * iteration early stops the reads and closes the open file.
 */
export async function* tarBytes(entries: readonly PackEntry[], options: TarOptions): AsyncGenerator<Buffer, void, undefined> {
  const mtime = checkMtime(options.mtime);
  const pack = tarPack();
  const prefetch = new SmallFilePrefetch(entries);
  void (async () => {
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      options.signal?.throwIfAborted();
      if (entry.type === 'directory') await addVoidEntry(pack, header(entry, mtime));
      else if (isSmall(entry)) await addBufferedEntry(pack, entry, header(entry, mtime), prefetch.take(i), options.onFileHash);
      else await addFileEntry(pack, entry, header(entry, mtime), options.signal, options.onFileHash);
    }
    pack.finalize();
  })().catch((err: unknown) => {
    pack.destroy(err instanceof Error ? err : new Error(String(err)));
  });
  let complete = false;
  try {
    for await (const chunk of pack) yield chunk as Buffer;
    complete = true;
  } finally {
    if (!complete && !pack.destroyed) pack.destroy(null);
  }
}

/*
 * Opening a read stream per file costs far more than the bytes of a typical pack file (most are a
 * few KB of YAML), so small files are read whole, several ahead on the threadpool, while the tar is
 * written. Memory stays bounded: at most PREFETCH_FILES x SMALL_FILE_BYTES. Larger files stream.
 */
const SMALL_FILE_BYTES = 512 * 1024;
const TINY_FILE_BYTES = 64 * 1024;
const PREFETCH_FILES = 16;

function isSmall(entry: PackEntry): boolean {
  return entry.type === 'file' && entry.size <= SMALL_FILE_BYTES;
}

class SmallFilePrefetch {
  private readonly reads = new Map<number, Promise<Buffer>>();
  private next = 0;

  constructor(private readonly entries: readonly PackEntry[]) {}

  /** The content of small file `index`, keeping the next few small files in flight. */
  take(index: number): Promise<Buffer> | Buffer {
    const entry = this.entries[index]!;
    if (entry.size <= TINY_FILE_BYTES) {
      // A promise-based read is four threadpool round trips (open, fstat, read, close), queued behind
      // deflate jobs; for a few KB a synchronous read is far cheaper.
      try {
        return readFileSync(entry.source);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    this.next = Math.max(this.next, index);
    while (this.next < this.entries.length && this.reads.size < PREFETCH_FILES) {
      const entry = this.entries[this.next]!;
      if (isSmall(entry) && entry.size > TINY_FILE_BYTES) {
        const read = readFile(entry.source);
        read.catch(() => undefined); // reported when taken
        this.reads.set(this.next, read);
      }
      this.next++;
    }
    const read = this.reads.get(index);
    this.reads.delete(index);
    return read ?? readFile(this.entries[index]!.source);
  }
}

function addBufferedEntry(
  pack: Pack,
  entry: PackEntry,
  h: TarHeader,
  data: Promise<Buffer> | Buffer,
  onFileHash?: TarOptions['onFileHash'],
): Promise<void> {
  return Promise.resolve(data).then(
    (buf) => {
      if (buf.length !== entry.size) throw changedError(entry);
      onFileHash?.(entry, createHash('sha256').update(buf).digest('hex'));
      return new Promise<void>((resolve, reject) => {
        pack.entry(h, buf, (err) => (err ? reject(err) : resolve()));
      });
    },
    (err: unknown) => {
      throw readError(entry, err);
    },
  );
}

function addVoidEntry(pack: Pack, h: TarHeader): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry(h, (err) => (err ? reject(err) : resolve()));
  });
}

function changedError(entry: PackEntry): PackpubError {
  return new PackpubError('PACK_FILE', `${entry.relativePath} changed size while it was being archived`, {
    hint: 'make sure nothing writes into the pack folder during the build, then run it again',
  });
}

function addFileEntry(pack: Pack, entry: PackEntry, h: TarHeader, signal?: AbortSignal, onFileHash?: TarOptions['onFileHash']): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      reject(err);
    };
    const sink = pack.entry(h, (err) => (err ? fail(err) : resolve()));
    // Failures arrive through the entry callback; without a listener the sink's 'error' event would throw.
    sink.on('error', () => undefined);
    (async () => {
      let written = 0;
      const hash = onFileHash === undefined ? undefined : createHash('sha256');
      try {
        for await (const chunk of createReadStream(entry.source, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
          signal?.throwIfAborted();
          written += chunk.length;
          hash?.update(chunk);
          // A file that grew since the walk would corrupt the tar (the header holds the old size).
          if (written > entry.size) throw changedError(entry);
          if (!sink.write(chunk)) await drainedOrClosed(sink);
          if (failed) return;
        }
      } catch (err) {
        throw err instanceof PackpubError || isAbort(err) ? err : readError(entry, err);
      }
      if (written !== entry.size) throw changedError(entry);
      if (hash !== undefined) onFileHash?.(entry, hash.digest('hex'));
      sink.end(undefined);
    })().catch((err: unknown) => {
      sink.destroy(err instanceof Error ? err : new Error(String(err)));
      fail(err);
    });
  });
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}

function readError(entry: PackEntry, err: unknown): PackpubError {
  return new PackpubError('PACK_FILE', `cannot read ${entry.relativePath}: ${(err as Error).message}`, {
    hint: 'make the file readable, or list it in .packignore',
    cause: err,
  });
}
