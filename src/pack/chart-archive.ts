import { isUtf8 } from 'node:buffer';
import { closeSync, fstatSync, openSync, readSync, constants as fsConstants } from 'node:fs';
import { open } from 'node:fs/promises';
import { constants as zlibConstants, crc32, createInflateRaw, gunzipSync, inflateRawSync, type InflateRaw } from 'node:zlib';
import { GIT_LFS_FIX, isGitLfsPointer } from './files.js';

/*
 * The bytes of a chart archive as Helm reads them (helm/helm pkg/chart/loader/archive LoadArchiveFiles:
 * Go's compress/gzip under Go's archive/tar), without stream objects per entry and without copies of
 * what sits in one inflated chunk (issue 16).
 *
 * Helm stops reading at the tar end-of-archive marker (two zero blocks), so nothing after it matters:
 * more bytes in the tar stream, bytes after the gzip member, even a damaged gzip trailer. Go's gzip reader
 * checks a member's trailer (CRC-32, size) and looks for a following member only when the tar reader asks
 * for bytes past the member's data. A tar stream that simply ends at an entry boundary (no marker, or one
 * zero block) is read to its end, as Go's tar reader does; a partial header, short content, or a zero block
 * followed by anything but another zero block is refused. Errors in the compressed data are therefore held
 * back (ArchiveDataError) and raised only when the tar reader needs bytes past them.
 *
 * Deliberate difference: zlib reports damage inside the deflate data without the bytes it decoded in the
 * same step (up to one inflated chunk), so an archive whose deflate data is damaged within a chunk after
 * the end marker is refused here, while Helm, which decodes up to the damage, may accept it.
 */

/** Damage in the archive's bytes, raised when the tar reader needs bytes at or past it. */
export class ArchiveDataError extends Error {}

/** A tar feature this reader leaves to tar-stream (GNU sparse files): the caller reads the archive again with it. */
export class UnusualTarError extends Error {}

/** Inflated bytes handed on per zlib callback: a chart archive inflates to a few MB (issue 16). */
const INFLATE_CHUNK = 256 * 1024;
/** Compressed bytes written to zlib at once: about 1.5 MB of output for a typical chart. */
const DEFLATE_PIECE = 256 * 1024;
/** Chart archives up to this size are read into memory at once; larger ones in pieces of this size. */
const WHOLE_FILE_BYTES = 4 * 1024 * 1024;
/** Go's archive/tar maxSpecialFileSize: pax records and GNU long names. */
const MAX_SPECIAL_FILE = 1024 * 1024;

/** The most one in-thread inflate keeps in memory at once; a member inflating to more goes through the streaming inflater. */
const SYNC_INFLATE_MAX = 32 * 1024 * 1024;

const EMPTY = Buffer.alloc(0);

/** Where a chunk source gets its next chunk: undefined at the end. Throwing ArchiveDataError ends it with that error. */
export type NextChunk = () => Promise<Buffer | undefined>;

/**
 * Sequential reads over a source of chunks: views into a chunk when the bytes sit in one, copies only
 * across chunk boundaries. The source ending with an ArchiveDataError is remembered and raised by
 * `failIfDamaged` when a reader needs more bytes than arrived.
 */
export class ByteReader {
  private chunk: Buffer = EMPTY;
  private pos = 0;
  private ended = false;
  private damage: ArchiveDataError | undefined;

  constructor(private readonly source: NextChunk) {}

  /** Make the current chunk non-empty; false at the end of the source. */
  private async fill(): Promise<boolean> {
    while (this.pos >= this.chunk.length) {
      if (this.ended) return false;
      let next: Buffer | undefined;
      try {
        next = await this.source();
      } catch (err) {
        if (!(err instanceof ArchiveDataError)) throw err;
        this.damage = err;
        next = undefined;
      }
      if (next === undefined) {
        this.ended = true;
        this.chunk = EMPTY;
        this.pos = 0;
        return false;
      }
      this.chunk = next;
      this.pos = 0;
    }
    return true;
  }

  /** Raise the error the source ended with, if it ended with one. */
  failIfDamaged(): void {
    if (this.damage !== undefined) throw this.damage;
  }

  /** Exactly `n` bytes, or fewer at the end of the source. A view when they sit in one chunk. */
  async read(n: number): Promise<Buffer> {
    if (this.chunk.length - this.pos >= n) {
      const view = this.chunk.subarray(this.pos, this.pos + n);
      this.pos += n;
      return view;
    }
    if (!(await this.fill())) return EMPTY;
    if (this.chunk.length - this.pos >= n) return this.read(n);
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n && (await this.fill())) {
      const take = Math.min(n - filled, this.chunk.length - this.pos);
      this.chunk.copy(out, filled, this.pos, this.pos + take);
      this.pos += take;
      filled += take;
    }
    return filled === n ? out : out.subarray(0, filled);
  }

  /**
   * read(n) when the `n` bytes sit in the current chunk (a view), without a promise; undefined, having read
   * nothing, when they do not. For the tar reader: most headers and small files sit in one inflated chunk,
   * and each `await` of an async read costs a promise and a turn of the microtask queue (issue 16: ~24,000
   * tar headers on the bench tree, each with its data and padding).
   */
  readNow(n: number): Buffer | undefined {
    if (this.chunk.length - this.pos < n) return undefined;
    const view = this.chunk.subarray(this.pos, this.pos + n);
    this.pos += n;
    return view;
  }

  /** skip(n) when the `n` bytes sit in the current chunk, without a promise: whether it skipped them (else nothing was). */
  skipNow(n: number): boolean {
    if (this.chunk.length - this.pos < n) return false;
    this.pos += n;
    return true;
  }

  /** The next bytes as they sit in the current chunk (at most `max`); empty at the end. */
  async piece(max: number): Promise<Buffer> {
    if (!(await this.fill())) return EMPTY;
    const take = Math.min(max, this.chunk.length - this.pos);
    const view = this.chunk.subarray(this.pos, this.pos + take);
    this.pos += take;
    return view;
  }

  /** Skip `n` bytes; how many were there. */
  async skip(n: number): Promise<number> {
    let skipped = 0;
    while (skipped < n && (await this.fill())) {
      const take = Math.min(n - skipped, this.chunk.length - this.pos);
      this.pos += take;
      skipped += take;
    }
    return skipped;
  }

  /** The next bytes already in the current chunk (at most `max`), without waiting for the source; empty when none are. */
  pieceNow(max: number): Buffer {
    const take = Math.min(max, this.chunk.length - this.pos);
    const view = this.chunk.subarray(this.pos, this.pos + take);
    this.pos += take;
    return view;
  }

  /** Put bytes just read back in front (they must be the tail of the last piece read). */
  unread(bytes: number): void {
    this.pos -= bytes;
  }
}

/**
 * The output buffer size for inflating `piece` at once (inflateRawSync): when the piece ends with the
 * member's gzip trailer (a whole small archive, as a file is read), its last 4 bytes are the inflated
 * size, and one buffer of that size (plus one byte, so that zlib stops with room left) holds all of it;
 * zlib's default, 16 KiB buffers joined at the end, copies every inflated byte once more (issue 16). A
 * guess: any other value only changes how the output is cut, never what it holds.
 */
function outputChunk(piece: Buffer, max: number): number {
  const size = piece.length >= 4 ? piece.readUInt32LE(piece.length - 4) : 0;
  // Deflate never shrinks data by more than 1032:1, nor grows it by more than a few bytes per 16 KiB.
  return size >= 64 && size < max && size + 1024 >= piece.length && size <= piece.length * 1032 ? size + 1 : 16 * 1024;
}

/** The chunks of a file: all of it at once when small. `blocking` reads without the thread pool (a worker thread). */
export function fileChunks(path: string, blocking: boolean): { next: NextChunk; close: () => Promise<void> } {
  let fd: number | undefined;
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  let done = false;
  let left = 0;
  let position = 0;
  const close = async (): Promise<void> => {
    done = true;
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
    await handle?.close();
    handle = undefined;
  };
  const next: NextChunk = async () => {
    if (done) return undefined;
    try {
      if (fd === undefined && handle === undefined) {
        // O_NONBLOCK: a path swapped for a FIFO must not hang the open.
        if (blocking) {
          fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
          left = fstatSync(fd).size;
        } else {
          handle = await open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
          left = (await handle.stat()).size;
        }
      }
      // One byte more than the size says: a short read is then the end, without another call.
      const want = left < WHOLE_FILE_BYTES ? left + 1 : WHOLE_FILE_BYTES;
      const buffer = Buffer.allocUnsafe(want);
      const n = fd !== undefined ? readSync(fd, buffer, 0, want, position) : (await (handle as NonNullable<typeof handle>).read(buffer, 0, want, position)).bytesRead;
      position += n;
      left = Math.max(0, left - n);
      if (n < want) await close();
      return n === 0 ? undefined : buffer.subarray(0, n);
    } catch (err) {
      await close().catch(() => undefined);
      throw err;
    }
  };
  return { next, close };
}

/** Chunks of at most `size` bytes from `reader` (an archive inside an archive). */
export function sliceChunks(reader: ByteReader, size: number): NextChunk {
  let left = size;
  return async () => {
    if (left <= 0) return undefined;
    const piece = await reader.piece(Math.min(left, DEFLATE_PIECE));
    if (piece.length === 0) {
      left = 0;
      reader.failIfDamaged();
      return undefined;
    }
    left -= piece.length;
    return piece;
  };
}

/**
 * The inflated chunks of a gzip stream read as Go's compress/gzip reads it (multistream): member after
 * member, each trailer checked only when bytes after the member's data are asked for. `count` is called
 * with each inflated chunk's size before it is kept and may throw (the caller's size limit).
 *
 * `room` (a worker thread, issue 16): how many inflated bytes the caller's limit still allows. A member
 * whose whole deflate data sits in the bytes already read (the current chunk: a whole file up to 4 MiB) is
 * then inflated in this thread (no wait for libuv's thread pool), at most min(room, SYNC_INFLATE_MAX) bytes.
 * Its chunks are counted and queued exactly as the streaming inflater's would be (the same chunk sizes);
 * its CRC-32 is computed only when its trailer is read (the same value, so the same verdict). Anything else
 * (damaged or cut-short data, more output than that, a member spanning chunks) puts the bytes back and
 * reads the member with the streaming inflater as before, so every verdict and message is the streaming one.
 */
export function gunzipChunks(input: ByteReader, count: (bytes: number) => void, room?: () => number): { next: NextChunk; close: () => void } {
  const queue: Buffer[] = [];
  let state: 'header' | 'inflate' | 'trailer' | 'done' = 'header';
  let inflater: InflateRaw | undefined;
  let members = 0;
  let fed = 0;
  let crc = 0;
  let size = 0;
  let failure: unknown;
  let wake: (() => void) | undefined;
  /** The member inflated in this thread, its CRC-32 not yet computed. */
  let unchecked: Buffer | undefined;

  const damaged = (message: string): ArchiveDataError => new ArchiveDataError(message);
  /** Exactly n bytes of the input, or the error Go gives for fewer. */
  const need = async (n: number): Promise<Buffer> => {
    const bytes = await input.read(n);
    if (bytes.length < n) {
      input.failIfDamaged();
      throw damaged('unexpected end of file');
    }
    return bytes;
  };

  const readHeader = async (): Promise<void> => {
    const head = await input.read(10);
    if (head.length === 0 && members > 0) {
      input.failIfDamaged();
      state = 'done';
      return;
    }
    const magic = [0x1f, 0x8b, 8];
    if (magic.some((byte, i) => i < head.length && head[i] !== byte)) {
      throw damaged(members === 0 ? 'incorrect header check' : 'bytes after the gzip data that are not another gzip member');
    }
    if (head.length < 10) {
      input.failIfDamaged();
      throw damaged('unexpected end of file');
    }
    const flags = head[3] as number;
    let headerCrc = crc32(head);
    const field = async (n: number): Promise<Buffer> => {
      const bytes = await need(n);
      headerCrc = crc32(bytes, headerCrc);
      return bytes;
    };
    if (flags & 4) await field((await field(2)).readUInt16LE(0));
    for (const flag of [8, 16]) {
      if ((flags & flag) === 0) continue;
      // Go reads the file name and the comment into a 512-byte buffer: a longer one is a header error.
      for (let i = 0; ; i++) {
        if (i >= 512) throw damaged('invalid gzip header');
        if ((await field(1))[0] === 0) break;
      }
    }
    if (flags & 2 && (await need(2)).readUInt16LE(0) !== (headerCrc & 0xffff)) throw damaged('invalid gzip header');
    members++;
    fed = 0;
    crc = 0;
    size = 0;
    state = 'inflate';
    if (room !== undefined && inflateInThread()) return;
    startStreaming();
  };

  /** Inflate the bytes already read here; true when the whole member's data was in them and is queued. */
  const inflateInThread = (): boolean => {
    const max = Math.min((room as () => number)(), SYNC_INFLATE_MAX);
    if (max <= 0) return false;
    // All of the current chunk, not one streaming piece: a chart archive file is read whole (up to
    // WHOLE_FILE_BYTES), so an archive over DEFLATE_PIECE is inflated here too (issue 16).
    const piece = input.pieceNow(Number.POSITIVE_INFINITY);
    if (piece.length === 0) return false;
    let out: { buffer: Buffer; engine: { bytesWritten: number } };
    try {
      out = inflateRawSync(piece, { info: true, maxOutputLength: max, chunkSize: outputChunk(piece, max) }) as unknown as typeof out;
    } catch {
      input.unread(piece.length);
      return false;
    }
    const { buffer, engine } = out;
    for (let at = 0; at < buffer.length; at += INFLATE_CHUNK) {
      const chunk = buffer.subarray(at, Math.min(buffer.length, at + INFLATE_CHUNK));
      try {
        count(chunk.length);
      } catch (err) {
        failure ??= err;
        return true;
      }
      queue.push(chunk);
    }
    // The CRC-32 is computed only if the trailer is read: Helm stops at the tar end marker, before it.
    unchecked = buffer;
    size = buffer.length % 0x1_0000_0000;
    input.unread(piece.length - engine.bytesWritten);
    state = 'trailer';
    return true;
  };

  const startStreaming = (): void => {
    const z = createInflateRaw({ chunkSize: INFLATE_CHUNK });
    z.on('data', (chunk: Buffer) => {
      try {
        count(chunk.length);
      } catch (err) {
        failure ??= err;
        z.destroy();
        return;
      }
      crc = crc32(chunk, crc);
      size = (size + chunk.length) % 0x1_0000_0000;
      queue.push(chunk);
    });
    z.on('error', (err) => {
      failure ??= damaged(err.message);
      // zlib never calls a write back after an error: the waiting write is woken here.
      wake?.();
    });
    inflater = z;
  };

  const inflate = async (z: InflateRaw): Promise<void> => {
    const piece = await input.piece(DEFLATE_PIECE);
    if (piece.length === 0) {
      // No more input: either the deflate data is cut short, or it ended exactly here without its trailer.
      await new Promise<void>((resolve) => {
        if (z.destroyed || z.readableEnded) return resolve();
        z.once('end', resolve);
        z.once('close', resolve);
        z.end();
      });
      input.failIfDamaged();
      failure ??= damaged('unexpected end of file');
      return;
    }
    fed += piece.length;
    // zlib calls back once it has taken the piece (also when the stream was destroyed meanwhile).
    await new Promise<void>((resolve) => {
      wake = resolve;
      z.write(piece, () => resolve());
    });
    wake = undefined;
    if (failure !== undefined) return;
    const left = fed - z.bytesWritten;
    if (left > 0) {
      // The deflate data ended inside this piece: the trailer follows.
      input.unread(left);
      z.destroy();
      inflater = undefined;
      state = 'trailer';
    }
  };

  const checkTrailer = async (): Promise<void> => {
    const trailer = await need(8);
    if (unchecked !== undefined) crc = crc32(unchecked);
    unchecked = undefined;
    if (trailer.readUInt32LE(0) !== crc >>> 0) throw damaged('incorrect data check');
    if (trailer.readUInt32LE(4) !== size) throw damaged('incorrect length check');
    state = 'header';
  };

  const next: NextChunk = async () => {
    while (queue.length === 0) {
      if (failure !== undefined) throw failure;
      try {
        if (state === 'done') return undefined;
        if (state === 'header') await readHeader();
        else if (state === 'inflate') await inflate(inflater as InflateRaw);
        else await checkTrailer();
      } catch (err) {
        failure ??= err;
      }
    }
    return queue.shift();
  };
  return {
    next,
    close: () => {
      inflater?.destroy();
      inflater = undefined;
      unchecked = undefined;
    },
  };
}

/** What a file that is no gzip'd tar is instead, and how to make it one. */
export interface ArchiveKind {
  what: string;
  fix: string;
}

const REBUILD = 'rebuild it with `helm package <chart-dir>`';

/**
 * What a chart archive that Helm cannot read is, by its first bytes: a tar not compressed (`tar -cf`, or a
 * .tgz a browser or `gunzip` already unpacked), a .tgz compressed again (`gzip` run on it), or another
 * compressor's or archiver's file (`tar -cjf`, `-cJf`, `--zstd`, `zip`). Helm says only "does not appear to be
 * a gzipped archive" or "archive/tar: invalid tar header". Undefined when none of these, or unreadable.
 */
export async function archiveKindOf(path: string): Promise<ArchiveKind | undefined> {
  let head: Buffer;
  try {
    const handle = await open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    try {
      head = Buffer.alloc(64 * 1024);
      head = head.subarray(0, (await handle.read(head, 0, head.length, 0)).bytesRead);
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
  if (isGitLfsPointer(head)) return { what: 'a Git LFS pointer file, not the archive: the checkout did not fetch the content Git LFS tracks', fix: GIT_LFS_FIX };
  if (head[0] === 0x1f && head[1] === 0x8b) {
    let inner: Buffer;
    try {
      inner = gunzipSync(head, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    } catch {
      return undefined;
    }
    if (inner[0] === 0x1f && inner[1] === 0x8b) return { what: 'gzip-compressed twice (a .tgz run through gzip again)', fix: 'decompress it once (`gunzip -c <file> > <chart>.tgz`), or ' + REBUILD };
    return undefined;
  }
  if (head.length >= 262 && head.toString('latin1', 257, 262) === 'ustar') return { what: 'a tar archive without gzip compression', fix: 'compress it (`gzip -c <file> > <chart>.tgz`), or ' + REBUILD };
  if (head.toString('latin1', 0, 3) === 'BZh') return { what: 'a bzip2-compressed file (`tar -cjf`)', fix: REBUILD };
  if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return { what: 'an xz-compressed file (`tar -cJf`)', fix: REBUILD };
  if (head.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return { what: 'a zstd-compressed file (`tar --zstd`)', fix: REBUILD };
  if (head.toString('latin1', 0, 4) === 'PK\x03\x04') return { what: 'a zip file', fix: REBUILD };
  return undefined;
}

export interface TarEntry {
  /** The name as Go's reader gives it: pax path or GNU long name applied, ustar prefix joined. */
  name: string;
  /** Bytes of data that follow the header (0 for header-only types). */
  size: number;
  /** What Helm skips: a directory by type flag or by mode bits. */
  directory: boolean;
  /** A pax global header: Helm skips it too. */
  globalHeader: boolean;
  /** A hard or symbolic link entry: what it names (Go's reader gives it no data, so Helm loads an empty file). */
  link?: { hard: boolean; target: string };
}

/** The data of the current entry, for the visitor. */
export interface EntryData {
  /** The whole data as one buffer (a view when it sits in one chunk). */
  bytes(): Promise<Buffer>;
  /** The data as a chunk source (a nested archive). */
  chunks(): NextChunk;
}

const invalidHeader = (): ArchiveDataError => new ArchiveDataError('invalid tar header');
const unexpectedEnd = (): ArchiveDataError => new ArchiveDataError('unexpected end of data');

/**
 * Whether `stored` is the header's checksum as Go's block.getFormat computes it: the sum of its 512 bytes with
 * the checksum field (148-155) read as eight spaces, unsigned or with each byte signed. The signed sum is the
 * unsigned one less 256 per byte of 0x80 or more (the spaces are below). A function of its own, its loops
 * without a test per byte: V8 optimises a small hot function early, and this runs for every tar header (the
 * bench tree: ~12,000), where the loop inside readTar ran mostly unoptimised (issue 16: ~2.3x the CPU).
 */
export function checksumMatches(block: Buffer, stored: number): boolean {
  let unsigned = 8 * 0x20;
  let high = 0;
  for (let i = 0; i < 148; i++) {
    const c = block[i] as number;
    unsigned += c;
    high += c >> 7;
  }
  for (let i = 156; i < 512; i++) {
    const c = block[i] as number;
    unsigned += c;
    high += c >> 7;
  }
  return stored === unsigned || stored === unsigned - 256 * high;
}

function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < 512; i += 4) if (block.readUInt32LE(i) !== 0) return false;
  return true;
}

/** Go's parser.parseString: up to the first NUL. */
function cString(bytes: Buffer): string {
  const nul = bytes.indexOf(0);
  return goText(nul === -1 ? bytes : bytes.subarray(0, nul));
}

/**
 * Text of a tar field as Go keeps it: its bytes. Bytes that are not UTF-8 are read one character per byte (latin1),
 * not as U+FFFD as tar-stream reads them (and as a real U+FFFD is written): two names differing only there stay two,
 * and pull's second reader (archive/extract.ts GoTarView) sees a name it reads otherwise than tar-stream.
 */
function goText(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  return text.includes('\uFFFD') && !isUtf8(bytes) ? bytes.toString('latin1') : text;
}

/** Go's parser.parseNumeric: base-256 when the high bit is set, else octal trimmed of spaces and NULs. NaN when Go refuses it. */
export function tarNumber(block: Buffer, start: number, length: number, octalOnly = false): number {
  const first = block[start] as number;
  if (first & 0x80 && !octalOnly) {
    const negative = (first & 0x40) !== 0;
    let x = 0n;
    for (let i = 0; i < length; i++) {
      let c = block[start + i] as number;
      if (negative) c ^= 0xff;
      if (i === 0) c &= 0x7f;
      if (x >> 56n > 0n) return Number.NaN;
      x = (x << 8n) | BigInt(c);
    }
    if (x >> 63n > 0n) return Number.NaN;
    return negative ? -Number(x) - 1 : Number(x);
  }
  let from = start;
  let to = start + length;
  while (from < to && (block[from] === 0x20 || block[from] === 0)) from++;
  while (to > from && (block[to - 1] === 0x20 || block[to - 1] === 0)) to--;
  const nul = block.indexOf(0, from);
  if (nul !== -1 && nul < to) to = nul;
  if (from === to) return 0;
  let value = 0;
  for (let i = from; i < to; i++) {
    const c = block[i] as number;
    if (c < 0x30 || c > 0x37) return Number.NaN;
    value = value * 8 + (c - 0x30);
  }
  // Go parses into a uint64 and converts to int64.
  return value >= 2 ** 64 ? Number.NaN : value >= 2 ** 63 ? value - 2 ** 64 : value;
}

/** Go's strconv.ParseInt(s, 10, 64) succeeds. */
function isDecimalInt(s: string): boolean {
  if (!/^[+-]?[0-9]+$/.test(s)) return false;
  return BigInt(s) <= 9223372036854775807n && BigInt(s) >= -9223372036854775808n;
}

/** Go's parsePAXTime accepts it. */
function isPaxTime(s: string): boolean {
  const dot = s.indexOf('.');
  const secs = dot === -1 ? s : s.slice(0, dot);
  return isDecimalInt(secs) && (dot === -1 || /^[0-9]*$/.test(s.slice(dot + 1)));
}

/** Go's parsePAX over the data of an 'x' or 'g' header; undefined when Go refuses it. */
function parsePax(data: Buffer): Map<string, string> | undefined {
  const records = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space === -1) return undefined;
    const lengthText = data.toString('latin1', at, space);
    if (!/^[+-]?[0-9]+$/.test(lengthText)) return undefined;
    const length = Number(lengthText);
    if (length < 5 || length > data.length - at) return undefined;
    const end = at + length;
    if (end - 1 <= space || data[end - 1] !== 0x0a) return undefined;
    const record = data.subarray(space + 1, end - 1);
    const eq = record.indexOf(0x3d);
    if (eq === -1) return undefined;
    const key = record.toString('utf8', 0, eq);
    const value = goText(record.subarray(eq + 1));
    if (key === '') return undefined;
    const pathLike = key === 'path' || key === 'linkpath' || key === 'uname' || key === 'gname';
    if (pathLike ? value.includes('\0') : key.includes('\0')) return undefined;
    if (key === 'GNU.sparse.offset' || key === 'GNU.sparse.numbytes') throw new UnusualTarError('a GNU sparse file');
    records.set(key, value);
    at = end;
  }
  return records;
}

/** Go's mergePAX checks; false when Go refuses a value. */
function paxValuesValid(records: Map<string, string>): boolean {
  for (const [key, value] of records) {
    if (value === '') continue;
    if ((key === 'uid' || key === 'gid' || key === 'size') && !isDecimalInt(value)) return false;
    if ((key === 'atime' || key === 'mtime' || key === 'ctime') && !isPaxTime(value)) return false;
  }
  return true;
}

const HEADER_ONLY = new Set([0x31, 0x32, 0x33, 0x34, 0x35, 0x36]);

/**
 * Read a tar stream as Go's archive/tar Reader.Next does, calling `visit` for every entry Helm's loop
 * sees (pax and GNU long-name records are applied, not visited). Whatever data the visitor leaves
 * unread is skipped. Throws ArchiveDataError where Go's reader fails, UnusualTarError for sparse files.
 */
export async function readTar(src: ByteReader, visit: (entry: TarEntry, data: EntryData) => Promise<void> | void): Promise<void> {
  let pax: Map<string, string> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const block = src.readNow(512) ?? (await src.read(512));
    if (block.length === 0) {
      src.failIfDamaged();
      return; // Go: EOF at a header boundary is the end
    }
    if (block.length < 512) {
      src.failIfDamaged();
      throw unexpectedEnd();
    }
    if (isZeroBlock(block)) {
      const second = await src.read(512);
      if (second.length === 0) {
        src.failIfDamaged();
        return;
      }
      if (second.length < 512) {
        src.failIfDamaged();
        throw unexpectedEnd();
      }
      if (isZeroBlock(second)) return; // the end-of-archive marker: Helm reads nothing after it
      throw invalidHeader();
    }
    // Go's block.getFormat: the checksum (unsigned or signed sum, its own field read as spaces) must match.
    const stored = tarNumber(block, 148, 8, true);
    if (Number.isNaN(stored) || !checksumMatches(block, stored)) throw invalidHeader();
    const magic = block.toString('latin1', 257, 263);
    const version = block.toString('latin1', 263, 265);
    const star = magic === 'ustar\0' && block.toString('latin1', 508, 512) === 'tar\0';
    const ustar = magic === 'ustar\0';
    const gnu = magic === 'ustar ' && version === ' \0';
    const typeflag = block[156] as number;
    let name = cString(block.subarray(0, 100));
    let size = tarNumber(block, 124, 12);
    const mode = tarNumber(block, 100, 8);
    let bad = Number.isNaN(size) || Number.isNaN(mode) || Number.isNaN(tarNumber(block, 108, 8)) || Number.isNaN(tarNumber(block, 116, 8)) || Number.isNaN(tarNumber(block, 136, 12));
    if (ustar || gnu) bad ||= Number.isNaN(tarNumber(block, 329, 8)) || Number.isNaN(tarNumber(block, 337, 8));
    if (bad) throw invalidHeader();
    if (ustar) {
      const prefix = cString(block.subarray(345, star ? 476 : 500));
      if (prefix !== '') name = `${prefix}/${name}`;
    } else if (gnu) {
      // Go reads the GNU atime/ctime fields skeptically: when they do not parse, it takes them as a ustar prefix.
      const atimeBad = block[345] !== 0 && Number.isNaN(tarNumber(block, 345, 12));
      const ctimeBad = block[357] !== 0 && Number.isNaN(tarNumber(block, 357, 12));
      if (atimeBad || ctimeBad) {
        const prefix = cString(block.subarray(345, 500));
        if (prefix !== '' && /^[\x00-\x7f]*$/.test(prefix)) name = `${prefix}/${name}`;
      }
    }
    const dataSize = (flag: number): number => (HEADER_ONLY.has(flag) ? 0 : size);
    if (dataSize(typeflag) < 0) throw invalidHeader();

    if (typeflag === 0x78 /* x */ || typeflag === 0x67 /* g */ || typeflag === 0x4c /* L */ || typeflag === 0x4b /* K */) {
      if (size > MAX_SPECIAL_FILE) throw new ArchiveDataError('a tar header record is too long');
      const data = await src.read(size);
      if (data.length < size) {
        src.failIfDamaged();
        throw unexpectedEnd();
      }
      if (typeflag === 0x78 || typeflag === 0x67) {
        const records = parsePax(data);
        if (records === undefined) throw invalidHeader();
        if (typeflag === 0x67) {
          // Helm's loop sees the global header and skips it; Go applies it to nothing.
          await visit({ name, size: 0, directory: false, globalHeader: true }, noData);
          if (!paddingSkipped(src, size) && (await skipPadding(src, size))) return;
          continue;
        }
        pax = records;
      } else if (typeflag === 0x4c) {
        longName = cString(data);
      } else {
        longLink = cString(data);
      }
      if (!paddingSkipped(src, size) && (await skipPadding(src, size))) return;
      continue;
    }
    if (typeflag === 0x53 /* S: old GNU sparse */) throw new UnusualTarError('a GNU sparse file');
    if (pax !== undefined) {
      if (!paxValuesValid(pax)) throw invalidHeader();
      const path = pax.get('path');
      if (path !== undefined && path !== '') name = path;
      const paxSize = pax.get('size');
      if (paxSize !== undefined && paxSize !== '') size = Number(paxSize);
      if (pax.has('GNU.sparse.map') || pax.has('GNU.sparse.size') || pax.has('GNU.sparse.major')) throw new UnusualTarError('a GNU sparse file');
    }
    if (longName !== undefined && longName !== '') name = longName;
    let target = cString(block.subarray(157, 257));
    const paxLink = pax?.get('linkpath');
    if (paxLink !== undefined && paxLink !== '') target = paxLink;
    if (longLink !== undefined && longLink !== '') target = longLink;
    let flag = typeflag;
    if (flag === 0) flag = name.endsWith('/') ? 0x35 : 0x30;
    const length = dataSize(flag);
    if (length < 0) throw invalidHeader();
    pax = undefined;
    longName = undefined;
    longLink = undefined;
    // Go's FileInfo().IsDir(): the directory type flag, or directory bits in the mode.
    const directory = flag === 0x35 || ((mode >>> 0) & ~0o7777) >>> 0 === 0o40000;
    let left = length;
    const data: EntryData = {
      bytes: async () => {
        const bytes = src.readNow(left) ?? (await src.read(left));
        left -= bytes.length;
        if (bytes.length < length) {
          src.failIfDamaged();
          throw unexpectedEnd();
        }
        return bytes;
      },
      chunks: () => {
        const inner = sliceChunks(src, left);
        return async () => {
          const chunk = await inner();
          if (chunk !== undefined) left -= chunk.length;
          return chunk;
        };
      },
    };
    const entry: TarEntry = { name, size: length, directory, globalHeader: false };
    // Only a link entry says what it names (set, not spread in: an object spread is a runtime call per entry; issue 16).
    if (flag === 0x31 || flag === 0x32) entry.link = { hard: flag === 0x31, target };
    await visit(entry, data);
    if (left > 0 && !src.skipNow(left)) {
      const skipped = await src.skip(left);
      if (skipped < left) {
        src.failIfDamaged();
        throw unexpectedEnd();
      }
    }
    if (!paddingSkipped(src, length) && (await skipPadding(src, length))) return;
  }
}

const noData: EntryData = {
  bytes: async () => EMPTY,
  chunks: () => async () => undefined,
};

/** Whether the padding after `size` bytes of data is none or was skipped at once (ByteReader.skipNow); else skipPadding reads it. */
function paddingSkipped(src: ByteReader, size: number): boolean {
  const pad = -size & 511;
  return pad === 0 || src.skipNow(pad);
}

/** Skip the padding after `size` bytes of data; true when the stream ended inside it (Go: the end of the archive). */
async function skipPadding(src: ByteReader, size: number): Promise<boolean> {
  const pad = -size & 511;
  if (pad === 0) return false;
  const skipped = await src.skip(pad);
  if (skipped === pad) return false;
  src.failIfDamaged();
  return true;
}
