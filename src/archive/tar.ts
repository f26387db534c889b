import { createHash, hash as sha256Of, type Hash } from 'node:crypto';
import { closeSync, constants as fsConstants, createReadStream, openSync, readFileSync, readSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { PackpubError } from '../errors.js';
import type { PackEntry } from './walk.js';
import { DEFAULT_ARCHIVE_MTIME, checkMtime } from './format.js';

/**
 * How a pack file is opened: never blocking. A file replaced by a fifo after the walk stat'ed it (a rename onto its
 * path) was opened and read as one: the build waited for a writer for good. Without blocking, a fifo reads as empty at
 * once (the size check refuses it); a regular file reads as it always did (Linux and macOS ignore the flag there).
 */
const READ_FLAGS = fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0);

export { DEFAULT_ARCHIVE_MTIME, archiveMtime, checkMtime } from './format.js';

/**
 * The deterministic tar writer. Every header field that could differ between machines or runs is
 * fixed: uid/gid 0, empty owner names, modes from the walk (0755/0644), one mtime for every entry,
 * entries in the walk's bytewise order. Names longer than ustar allows go into pax headers
 * (POSIX.1-2001), which GNU tar, bsdtar and Go's archive/tar read.
 *
 * The bytes are those of the tar-stream writer this format was fixed with (ARCHIVE_FORMAT_VERSION 3;
 * test/unit/archive/tar-format.test.ts compares the two): ustar headers, a name too long for ustar split
 * at a `/` into prefix and name, and a name that still does not fit (or is not ASCII) in a pax `path`
 * record, whose own header and the entry's header are both named `PaxHeader`. Writing them here, straight
 * into large chunks, costs a fraction of a stream per entry (most pack files are a few KB).
 */

export interface TarOptions {
  mtime: Date;
  /** Called with each file's sha256 (hex) as it is archived, so the content key costs no second read. */
  onFileHash?: (entry: PackEntry, sha256: string) => void;
  /** Stop between entries and chunks when aborted. */
  signal?: AbortSignal;
  /**
   * Read files up to SMALL_FILE_BYTES with blocking calls, none ahead on the thread pool: for a thread with
   * nothing else to do meanwhile (a validation worker), where a round trip through the pool costs more than
   * the read. Does not change the bytes.
   */
  blocking?: boolean;
}

const BLOCK = 512;
const ZEROS = Buffer.alloc(2 * BLOCK);
/** Entries are gathered into chunks of about this size before they are handed on. */
const CHUNK_BYTES = 256 * 1024;
const USTAR_MAGIC_AND_VERSION = Buffer.from('ustar\x0000', 'latin1');
const TYPEFLAG = { file: 0x30, directory: 0x35, pax: 0x78 } as const;

/** `value` in octal, zero-padded to `digits`, then a space (all sevens when it does not fit). */
function octal(value: number, digits: number): string {
  const text = value.toString(8);
  return text.length > digits ? `${'7'.repeat(digits)} ` : `${'0'.repeat(digits - text.length)}${text} `;
}

interface HeaderFields {
  name: string;
  prefix: string;
  mode: number;
  size: number;
  mtimeSeconds: number;
  typeflag: number;
}

/**
 * What every header holds whatever the entry: uid and gid 0, the ustar magic and version, devmajor and
 * devminor 0; zeros elsewhere. A header starts as a copy of it.
 */
const HEADER_TEMPLATE: Buffer = (() => {
  const buf = Buffer.alloc(BLOCK);
  buf.write(octal(0, 6), 108, 'latin1'); // uid
  buf.write(octal(0, 6), 116, 'latin1'); // gid
  USTAR_MAGIC_AND_VERSION.copy(buf, 257);
  buf.write(octal(0, 6), 329, 'latin1'); // devmajor
  buf.write(octal(0, 6), 337, 'latin1'); // devminor
  return buf;
})();

/**
 * octal(value, digits) written at `at`, byte by byte: no string per field. A value that is not a
 * non-negative integer goes through octal() itself (none does: modes, sizes below 8 GiB, checked mtimes).
 */
function putOctal(buf: Buffer, at: number, value: number, digits: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    buf.write(octal(value, digits), at, 'latin1');
    return;
  }
  buf[at + digits] = 0x20;
  if (value >= 8 ** digits) {
    buf.fill(0x37, at, at + digits);
    return;
  }
  let rest = value;
  for (let i = digits - 1; i >= 0; i--) {
    buf[at + i] = 0x30 + (rest % 8);
    rest = Math.floor(rest / 8);
  }
}

/** `text` (ASCII: ustarName checked it) at `at`, as buf.write(text, at, 'utf8') writes it. */
function putAscii(buf: Buffer, at: number, text: string): void {
  for (let i = 0; i < text.length; i++) buf[at + i] = text.charCodeAt(i);
}

/**
 * The 512-byte header of `h` written at `at` of `buf` (there must be room): the bytes headerBlock gave
 * when it formatted each field as a string first (tar-format.test.ts holds both to tar-stream's).
 */
function putHeader(buf: Buffer, at: number, h: HeaderFields): void {
  buf.set(HEADER_TEMPLATE, at);
  // name and prefix are ASCII (ustarName), or the fixed 'PaxHeader'.
  putAscii(buf, at, h.name);
  putOctal(buf, at + 100, h.mode & 0o7777, 6);
  if (h.size >= 8 ** 11) {
    // base-256 for sizes of 8 GiB and more
    buf[at + 124] = 0x80;
    let n = h.size;
    for (let i = 11; i > 0; i--) {
      buf[at + 124 + i] = n & 0xff;
      n = Math.floor(n / 0x100);
    }
  } else {
    putOctal(buf, at + 124, h.size, 11);
  }
  putOctal(buf, at + 136, h.mtimeSeconds, 11);
  buf[at + 156] = h.typeflag;
  if (h.prefix !== '') putAscii(buf, at + 345, h.prefix);
  // The checksum counts its own eight bytes as spaces.
  let sum = 8 * 0x20;
  for (let i = at; i < at + 148; i++) sum += buf[i]!;
  for (let i = at + 156; i < at + BLOCK; i++) sum += buf[i]!;
  putOctal(buf, at + 148, sum, 6);
}

function headerBlock(h: HeaderFields): Buffer {
  const buf = Buffer.allocUnsafe(BLOCK);
  putHeader(buf, 0, h);
  return buf;
}

/** The ustar name and prefix of `path`, or undefined when it needs a pax record. */
function ustarName(path: string): { name: string; prefix: string } | undefined {
  if (Buffer.byteLength(path) !== path.length) return undefined; // not ASCII
  let name = path;
  let prefix = '';
  while (name.length > 100) {
    const slash = name.indexOf('/');
    if (slash === -1) return undefined;
    prefix += prefix === '' ? name.slice(0, slash) : `/${name.slice(0, slash)}`;
    name = name.slice(slash + 1);
  }
  return prefix.length > 155 ? undefined : { name, prefix };
}

/** A pax extended-header record: `<length> <key>=<value>\n`, the length counting its own digits. */
function paxRecord(key: string, value: string): Buffer {
  const text = ` ${key}=${value}\n`;
  const len = Buffer.byteLength(text);
  let digits = Math.floor(Math.log(len) / Math.log(10)) + 1;
  if (len + digits >= Math.pow(10, digits)) digits++;
  return Buffer.from(`${len + digits}${text}`);
}

function padding(size: number): Buffer | undefined {
  const rest = size % BLOCK;
  return rest === 0 ? undefined : ZEROS.subarray(0, BLOCK - rest);
}

/** An entry's header fields besides its name. */
function headerFields(entry: PackEntry, mtimeSeconds: number): Omit<HeaderFields, 'name' | 'prefix'> {
  return { mode: entry.mode, mtimeSeconds, typeflag: entry.type === 'directory' ? TYPEFLAG.directory : TYPEFLAG.file, size: entry.type === 'file' ? entry.size : 0 };
}

/** The header block(s) of an entry: one ustar header, or a pax header, its record and the entry's header. */
function entryHeader(entry: PackEntry, mtimeSeconds: number): Buffer[] {
  const fields = headerFields(entry, mtimeSeconds);
  const ustar = ustarName(entry.archivePath);
  if (ustar !== undefined) return [headerBlock({ ...fields, ...ustar })];
  const record = paxRecord('path', entry.archivePath);
  const blocks = [headerBlock({ ...fields, name: 'PaxHeader', prefix: '', typeflag: TYPEFLAG.pax, size: record.length }), record];
  const pad = padding(record.length);
  if (pad !== undefined) blocks.push(pad);
  blocks.push(headerBlock({ ...fields, name: 'PaxHeader', prefix: '' }));
  return blocks;
}

/**
 * The tar bytes of the entries, produced lazily as the consumer reads, in chunks of about CHUNK_BYTES
 * (large files stream through in pieces), so memory stays flat whatever the file sizes. Stopping the
 * iteration early stops the reads and closes the open file.
 */
export async function* tarBytes(entries: readonly PackEntry[], options: TarOptions): AsyncGenerator<Buffer, void, undefined> {
  const mtimeSeconds = (checkMtime(options.mtime).getTime() / 1000) | 0;
  const prefetch = new SmallFilePrefetch(entries, options.blocking === true ? SMALL_FILE_BYTES : TINY_FILE_BYTES);
  let parts: Buffer[] = [];
  let gathered = 0;
  const add = (buf: Buffer | undefined) => {
    if (buf === undefined || buf.length === 0) return;
    parts.push(buf);
    gathered += buf.length;
  };
  const take = (): Buffer => {
    const chunk = parts.length === 1 ? parts[0]! : Buffer.concat(parts, gathered);
    parts = [];
    gathered = 0;
    return chunk;
  };
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    options.signal?.throwIfAborted();
    for (const block of entryHeader(entry, mtimeSeconds)) add(block);
    if (entry.type === 'file') {
      if (isSmall(entry)) {
        const pending = prefetch.take(i);
        let data: Buffer;
        try {
          data = Buffer.isBuffer(pending) ? pending : await pending;
        } catch (err) {
          throw readError(entry, err);
        }
        if (data.length !== entry.size) throw changedError(entry);
        options.onFileHash?.(entry, sha256Of('sha256', data, 'hex'));
        add(data);
      } else {
        if (gathered > 0) yield take();
        yield* fileBytes(entry, options);
      }
      add(padding(entry.size));
    }
    if (gathered >= CHUNK_BYTES) yield take();
  }
  add(ZEROS); // end of archive: two zero blocks
  yield take();
}

/**
 * tarBytes for a thread with nothing else to do meanwhile (a validation worker building a pack it has just
 * checked), where allocations and copies are most of what is left besides deflate: the tar is written into
 * one buffer of CHUNK_BYTES, reused for every chunk, and each file is read with blocking calls straight into
 * it (no buffer per file, no second copy to gather them; large files too, piece by piece). Each chunk
 * yielded is valid only until the next one is asked for: the caller must copy it first (gzipMembers does).
 * The same bytes and file hashes as tarBytes, and the same refusals (a file whose size is not the walk's).
 */
export function* tarChunksHere(entries: readonly PackEntry[], options: Omit<TarOptions, 'blocking'>): Generator<Buffer, void, undefined> {
  const mtimeSeconds = (checkMtime(options.mtime).getTime() / 1000) | 0;
  const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  let at = 0;
  function* put(buf: Buffer): Generator<Buffer, void, undefined> {
    let offset = 0;
    while (offset < buf.length) {
      const n = Math.min(buf.length - offset, CHUNK_BYTES - at);
      buf.copy(chunk, at, offset, offset + n);
      at += n;
      offset += n;
      if (at === CHUNK_BYTES) {
        yield chunk;
        at = 0;
      }
    }
  }
  /** The file's bytes read into `chunk` (yielded as it fills), hashed on the way. */
  function* file(entry: PackEntry): Generator<Buffer, void, undefined> {
    let fd: number;
    try {
      fd = openSync(entry.source, READ_FLAGS);
    } catch (err) {
      throw readError(entry, err);
    }
    const hashing = options.onFileHash !== undefined;
    // A file read in one piece (nearly all: most are a few KB) is hashed in one call, without a Hash object
    // (crypto.hash: ~3 us less per file); one read in several pieces through a Hash, each piece before the
    // chunk holding it is handed on.
    let hash: Hash | undefined;
    let whole: string | undefined;
    try {
      let left = entry.size;
      for (;;) {
        if (at === CHUNK_BYTES) {
          yield chunk;
          at = 0;
        }
        // One byte more than is left: a file that grew since the walk shows in the same call.
        const want = Math.min(left + 1, CHUNK_BYTES - at);
        let n: number;
        try {
          n = readSync(fd, chunk, at, want, null);
        } catch (err) {
          throw readError(entry, err);
        }
        // Grown (the header holds the old size), or shrunk: the tar would not be what the walk listed.
        if (n > left || (n === 0 && left > 0)) throw changedError(entry);
        if (n === 0) break;
        if (hashing) {
          if (n === entry.size) whole = sha256Of('sha256', chunk.subarray(at, at + n), 'hex');
          else (hash ??= createHash('sha256')).update(chunk.subarray(at, at + n));
        }
        at += n;
        left -= n;
        // A short read of a regular file is its end: all of it was read, and nothing more is there.
        if (left === 0 && n < want) break;
      }
    } finally {
      closeSync(fd);
    }
    if (hashing) options.onFileHash?.(entry, whole ?? (hash ?? createHash('sha256')).digest('hex'));
  }
  for (const entry of entries) {
    options.signal?.throwIfAborted();
    const ustar = ustarName(entry.archivePath);
    // Every header starts on a block boundary (files are padded to one, and CHUNK_BYTES is a whole number of
    // blocks), so a ustar header is written straight into the chunk: no buffer of its own, no copy.
    if (ustar !== undefined && at % BLOCK === 0) {
      putHeader(chunk, at, { ...ustar, ...headerFields(entry, mtimeSeconds) });
      at += BLOCK;
      if (at === CHUNK_BYTES) {
        yield chunk;
        at = 0;
      }
    } else {
      for (const block of entryHeader(entry, mtimeSeconds)) yield* put(block);
    }
    if (entry.type === 'file') {
      yield* file(entry);
      const rest = entry.size % BLOCK;
      const pad = rest === 0 ? 0 : BLOCK - rest;
      if (pad > 0 && at + pad <= CHUNK_BYTES) {
        // Up to the next block boundary, which is within the chunk (see above).
        chunk.fill(0, at, at + pad);
        at += pad;
        if (at === CHUNK_BYTES) {
          yield chunk;
          at = 0;
        }
      } else if (pad > 0) {
        yield* put(ZEROS.subarray(0, pad));
      }
    }
  }
  yield* put(ZEROS); // end of archive: two zero blocks
  if (at > 0) yield chunk.subarray(0, at);
}

/** A large file's bytes as they are read, hashed on the way; refused when its size is not the walk's. */
async function* fileBytes(entry: PackEntry, options: TarOptions): AsyncGenerator<Buffer, void, undefined> {
  let written = 0;
  const hash = options.onFileHash === undefined ? undefined : createHash('sha256');
  try {
    for await (const chunk of createReadStream(entry.source, { fd: openSync(entry.source, READ_FLAGS), highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
      options.signal?.throwIfAborted();
      written += chunk.length;
      // A file that grew since the walk would corrupt the tar (the header holds the old size).
      if (written > entry.size) throw changedError(entry);
      hash?.update(chunk);
      yield chunk;
    }
  } catch (err) {
    throw err instanceof PackpubError || isAbort(err) ? err : readError(entry, err);
  }
  if (written !== entry.size) throw changedError(entry);
  if (hash !== undefined) options.onFileHash?.(entry, hash.digest('hex'));
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

  /** `readNowUpTo`: files up to this size are read when taken, with a blocking call. */
  constructor(
    private readonly entries: readonly PackEntry[],
    private readonly readNowUpTo: number,
  ) {}

  /** The content of small file `index`, keeping the next few small files in flight. */
  take(index: number): Promise<Buffer> | Buffer {
    const entry = this.entries[index]!;
    if (entry.size <= this.readNowUpTo) {
      // A promise-based read is four threadpool round trips (open, fstat, read, close), queued behind
      // deflate jobs; for a few KB a synchronous read is far cheaper.
      try {
        const fd = openSync(entry.source, READ_FLAGS);
        try {
          return readFileSync(fd);
        } finally {
          closeSync(fd);
        }
      } catch (err) {
        return Promise.reject(err);
      }
    }
    this.next = Math.max(this.next, index);
    while (this.next < this.entries.length && this.reads.size < PREFETCH_FILES) {
      const entry = this.entries[this.next]!;
      if (isSmall(entry) && entry.size > this.readNowUpTo) {
        const read = readFile(entry.source, { flag: READ_FLAGS });
        read.catch(() => undefined); // reported when taken
        this.reads.set(this.next, read);
      }
      this.next++;
    }
    const read = this.reads.get(index);
    this.reads.delete(index);
    return read ?? readFile(this.entries[index]!.source, { flag: READ_FLAGS });
  }
}

function changedError(entry: PackEntry): PackpubError {
  return new PackpubError('PACK_FILE', `${entry.relativePath} changed size while it was being archived`, {
    hint: 'make sure nothing writes into the pack folder during the build, then run it again',
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
