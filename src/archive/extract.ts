import { createHash, type Hash } from 'node:crypto';
import { constants as fsConstants, createWriteStream } from 'node:fs';
import { chmod, copyFile, lstat, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract as tarExtract, type Extract, type Header } from 'tar-stream';
import { PackpubError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { ArchiveDataError, ByteReader, checksumMatches, gunzipChunks, readTar, tarNumber, UnusualTarError } from '../pack/chart-archive.js';
import { localWriteError, makeDirs } from '../util/fs.js';
import { drainedOrClosed } from '../util/stream.js';

/**
 * Safe extraction of a pack archive pulled from a registry (issues 3 and 6).
 *
 * Decisions:
 * - Extraction goes into a fresh temp folder inside `targetDir` (mode 0700) and the archive's
 *   top-level entries are renamed into `targetDir` only once the whole archive was read, every check
 *   passed and (when given) the digest matched. On any refusal the temp folder is removed, and
 *   `targetDir` too when this call created it: nothing is left half-written.
 * - Refused with UNSAFE_ARCHIVE: absolute paths, `..` segments, backslashes, NUL bytes, names that are not UTF-8, every symbolic
 *   link (packpub never writes them: links in a pack are stored as the files they point to, so a
 *   symlink in a pulled archive is either foreign or hostile), device and fifo entries, unknown entry
 *   types, more than `maxEntries` entries, paths longer than `maxPathBytes` or deeper than `maxDepth`,
 *   a tar stream larger than `maxBytes` once decompressed, a compression ratio above `maxRatio`.
 * - Hard links (GNU tar writes them for hard-linked files) are accepted only when they name a regular
 *   file extracted earlier from the same archive; the content is copied, no link is created (the copies count
 *   for the size limit and the ratio guard: hardLinkRefusal).
 * - Because no link is ever created, no write can go through one: every path stays inside the temp
 *   folder. Files are created exclusively (O_EXCL) with mode 0644, or 0755 when the archive gave any
 *   execute bit; folders 0755. setuid/setgid/sticky bits and owners from the archive are ignored.
 */

export interface ExtractOptions {
  /** Largest tar stream after decompression (headers and padding included). Default 2 GiB. */
  maxBytes?: number;
  /** Most entries. Default 100 000. */
  maxEntries?: number;
  /**
   * Largest ratio of decompressed to compressed bytes, checked once 16 MiB were decompressed
   * (deflate tops out near 1032:1; real packs stay far below 100:1). Default 500. 0 = no check.
   */
  maxRatio?: number;
  /** Longest entry path in UTF-8 bytes. Default 4096. */
  maxPathBytes?: number;
  /** Most path segments in an entry name. Default 128. */
  maxDepth?: number;
  /** sha256 of the compressed input; a mismatch refuses the whole extraction (DIGEST_MISMATCH). */
  expectedDigest?: Digest;
  /** Replace top-level entries that already exist in targetDir. Default false: refuse (CONFLICT). */
  overwrite?: boolean;
  signal?: AbortSignal;
}

export interface ExtractResult {
  /** Entries read from the archive (folders included). */
  entries: number;
  /** Bytes of file content written. */
  bytes: number;
  /** Names placed directly in targetDir, sorted (a pack archive has exactly one: the pack folder). */
  topLevel: string[];
}

export const EXTRACT_DEFAULTS = {
  maxBytes: 2 * 1024 ** 3,
  maxEntries: 100_000,
  maxRatio: 500,
  maxPathBytes: 4096,
  maxDepth: 128,
} as const;

/** NAME_MAX of Linux's filesystems (ext4, xfs, btrfs, tmpfs), macOS's APFS (in UTF-8 bytes: 255 UTF-16 units on APFS) and Windows'. */
const MAX_NAME_BYTES = 255;
const RATIO_FLOOR_BYTES = 16 * 1024 * 1024;
const STAGING_PREFIX = '.packpub-extract-';

type Limits = typeof EXTRACT_DEFAULTS extends infer T ? { [K in keyof T]: number } : never;

/** pull's --max-size raises the size limit; no flag raises the others (entries, folders, ratio): no pack comes near them. */
const SIZE_HINT = 'raise pull --max-size only if you trust this archive';

function unsafe(message: string, hint = 'do not use this archive; ask its publisher to rebuild it with packpub build'): PackpubError {
  return new PackpubError('UNSAFE_ARCHIVE', message, { hint });
}

/**
 * Bytes in a name that are not UTF-8 are read by tar-stream as U+FFFD: written under another name than Palette's
 * reader (Go keeps a name's bytes) writes, and two such names (`a\xff`, `a\xfe`) as one file, the later kept. A name
 * holding a real U+FFFD (valid UTF-8, which push publishes) is read alike by both and pulled.
 */
function notUtf8(what: string, shown: string): PackpubError {
  return unsafe(`archive ${what} ${shown.slice(0, 200)} has bytes in its name that are not UTF-8: pull cannot write it under the name Palette's reader gives it`);
}

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

/** The path segments of an entry name, refused when it could land outside the extraction folder. */
export function safeEntrySegments(name: string, limits: Pick<Limits, 'maxPathBytes' | 'maxDepth'>, what = 'entry'): string[] {
  const shown = JSON.stringify(name);
  if (name.includes('\0')) throw unsafe(`archive ${what} ${shown} contains a NUL byte`);
  if (name.startsWith('/')) throw unsafe(`archive ${what} ${shown} is an absolute path`);
  if (name.includes('\\')) throw unsafe(`archive ${what} ${shown} contains a backslash`);
  // A link target whose bytes are not UTF-8 is read as U+FFFD (tar-stream): it could name another file than Go's
  // (Palette's) reader links. No pack packpub builds has a link. An entry's own name is judged by GoTarView.check.
  if (what !== 'entry' && name.includes('\uFFFD')) throw notUtf8(what, shown);
  if (/^[A-Za-z]:/.test(name)) throw unsafe(`archive ${what} ${shown} starts with a drive letter`);
  if (Buffer.byteLength(name) > limits.maxPathBytes) {
    throw unsafe(`archive ${what} ${shown.slice(0, 80)}... is longer than ${limits.maxPathBytes} bytes`);
  }
  const segments = name.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw unsafe(`archive ${what} ${shown} contains a ".." segment (path traversal)`);
  if (segments.length > limits.maxDepth) throw unsafe(`archive ${what} ${shown} is nested deeper than ${limits.maxDepth} levels`);
  // Longer names no common filesystem holds (ENAMETOOLONG, which pull told as a bug of its own).
  const long = segments.find((s) => Buffer.byteLength(s) > MAX_NAME_BYTES);
  if (long !== undefined) throw unsafe(`archive ${what} ${shown.slice(0, 80)}... has a file or folder name longer than ${MAX_NAME_BYTES} bytes, which no filesystem holds`);
  return segments;
}

function isInside(root: string, path: string): boolean {
  return path.startsWith(root + sep);
}

/**
 * Extracts a gzip-compressed tar (one or several gzip members, read as Palette reads them: feedLayer) into `targetDir`, refusing anything
 * that could write outside it or exhaust the disk. See the decisions above.
 */
export async function extractArchive(source: Readable, targetDir: string, options: ExtractOptions = {}): Promise<ExtractResult> {
  const limits: Limits = {
    maxBytes: options.maxBytes ?? EXTRACT_DEFAULTS.maxBytes,
    maxEntries: options.maxEntries ?? EXTRACT_DEFAULTS.maxEntries,
    maxRatio: options.maxRatio ?? EXTRACT_DEFAULTS.maxRatio,
    maxPathBytes: options.maxPathBytes ?? EXTRACT_DEFAULTS.maxPathBytes,
    maxDepth: options.maxDepth ?? EXTRACT_DEFAULTS.maxDepth,
  };
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isFinite(value) || value < 0) {
      throw new PackpubError('USAGE', `extract option ${key}=${value} is not a non-negative number`, { hint: 'leave it unset for the default' });
    }
  }
  const target = resolve(targetDir);
  let createdRoot: string | undefined;
  try {
    createdRoot = await makeDirs(target, { mode: 0o755 });
  } catch (err) {
    source.destroy();
    throw localWriteError(err, target);
  }
  let staging: string | undefined;
  let ok = false;
  try {
    staging = await mkdtemp(join(target, STAGING_PREFIX));
    const { entries, bytes, digest } = await extractInto(source, staging, limits, options);
    if (options.expectedDigest !== undefined && digest !== options.expectedDigest) {
      throw new PackpubError('DIGEST_MISMATCH', `the archive does not match its digest: expected ${options.expectedDigest}, got ${digest}`, {
        hint: 'the download was corrupted or the registry served other content; pull again',
      });
    }
    const topLevel = (await readdir(staging)).sort();
    await moveInto(staging, target, topLevel, options.overwrite === true);
    ok = true;
    return { entries, bytes, topLevel };
  } catch (err) {
    throw localWriteError(err, target);
  } finally {
    if (staging !== undefined) await rm(staging, { recursive: true, force: true });
    if (!ok && createdRoot !== undefined) await rm(createdRoot, { recursive: true, force: true });
  }
}

async function moveInto(staging: string, target: string, names: readonly string[], overwrite: boolean): Promise<void> {
  const existing: string[] = [];
  for (const name of names) {
    try {
      await lstat(join(target, name));
      existing.push(name);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
  }
  if (existing.length > 0 && !overwrite) {
    throw new PackpubError('CONFLICT', `${join(target, existing[0]!)} already exists`, {
      hint: 'remove it, or extract into another folder',
    });
  }
  for (const name of names) {
    if (existing.includes(name)) await rm(join(target, name), { recursive: true, force: true });
    await rename(join(staging, name), join(target, name));
  }
}

interface Progress {
  entries: number;
  bytes: number;
  /** The layer's bytes read so far (the ratio guard of hard links: hardLinkRefusal). */
  compressed: () => number;
}

/**
 * The decompression-bomb guard: why `decompressed` bytes inflated from `compressed` go over a limit, if they do.
 * extractArchive applies both limits; inspect, which inflates an archive without writing it, the ratio.
 */
export function inflatedRefusal(compressed: number, decompressed: number, limits: Pick<Limits, 'maxBytes' | 'maxRatio'>): PackpubError | undefined {
  if (decompressed > limits.maxBytes) {
    return unsafe(`the archive expands to more than ${limits.maxBytes} bytes (decompression-bomb guard)`, SIZE_HINT);
  }
  if (limits.maxRatio > 0 && decompressed > RATIO_FLOOR_BYTES && decompressed / Math.max(1, compressed) > limits.maxRatio) {
    return unsafe(`the archive expands more than ${limits.maxRatio} times its compressed size (decompression-bomb guard)`);
  }
  return undefined;
}

/**
 * The decompression-bomb ratio guard for a hard link, which pull writes as a copy of the file it names: `written` bytes
 * (files and copies so far, this one's included) from the `compressed` bytes of layer read. A link costs a header, not
 * its file's bytes: a 6 KB layer of a 4 MiB file and 200 links to it wrote 804 MiB, exit 0, where the ratio guard
 * refuses an archive that expands more than `maxRatio` times. Pull and inspect apply it alike.
 */
export function hardLinkRefusal(shown: string, compressed: number, written: number, maxRatio: number): PackpubError | undefined {
  if (maxRatio <= 0 || written <= RATIO_FLOOR_BYTES || written / Math.max(1, compressed) <= maxRatio) return undefined;
  return unsafe(`hard link ${shown} would bring the extracted size over ${maxRatio} times the archive's compressed size (decompression-bomb guard: a hard link is written as a copy of its file)`);
}

async function extractInto(
  source: Readable,
  staging: string,
  limits: Limits,
  options: ExtractOptions,
): Promise<Progress & { digest: Digest }> {
  const hash: Hash = createHash('sha256');
  let compressed = 0;
  let decompressed = 0;
  const extract = tarReader();

  let failure: unknown;
  const abort = new AbortController();
  const fail = (err: unknown) => {
    if (failure !== undefined) return;
    failure = err;
    abort.abort(err);
    source.destroy();
    extract.destroy(err instanceof Error ? err : new Error(String(err)));
  };
  const onAbort = () => fail(new PackpubError('ABORTED', 'extraction was interrupted'));
  options.signal?.addEventListener('abort', onAbort, { once: true });
  // A signal aborted before the call fires no 'abort' event: the extraction would have run to its end.
  if (options.signal?.aborted === true) onAbort();

  const goView = new GoTarView();
  const feeding = feedLayer(source, extract, goView, {
    compressed: (chunk) => {
      compressed += chunk.length;
      hash.update(chunk);
    },
    inflated: (bytes) => {
      decompressed += bytes;
      const refusal = inflatedRefusal(compressed, decompressed, limits);
      if (refusal) throw refusal;
    },
    signal: abort.signal,
  })
    .catch(fail)
    .finally(() => goView.end());

  // The tar parser's own error (a header it cannot read, data that ends mid-entry): the entry being read ends with
  // only "Stream was destroyed", which said nothing and passed for a bug of packpub's.
  let parseError: unknown;
  extract.on('error', (err: unknown) => {
    if (failure === undefined) parseError ??= err;
  });
  const progress: Progress = { entries: 0, bytes: 0, compressed: () => compressed };
  const names: string[] = [];
  try {
    const tree = new StagingTree(staging, limits.maxEntries);
    for await (const entry of extract) {
      refuseGlobalRecords(extract);
      names.push(entry.header.name);
      await extractEntry(entry, tree, limits, progress);
    }
  } catch (err) {
    fail(notTar(err, parseError));
  }
  await feeding;
  if (failure === undefined) await goView.check(names).catch(fail);
  options.signal?.removeEventListener('abort', onAbort);
  if (failure !== undefined) throw failure;
  return { ...progress, digest: `sha256:${hash.digest('hex')}` };
}

/** What feedLayer tells its caller, and how it is stopped. */
export interface LayerHooks {
  /** Every byte of the layer, in order, once (its digest covers them all). */
  compressed(chunk: Buffer): void;
  /** The size of each inflated chunk before it is read; may throw (the decompression-bomb guard). */
  inflated(bytes: number): void;
  /** Aborted: the feed stops (the caller also destroys the source and the parser). */
  signal: AbortSignal;
}

/**
 * Reads a pack layer (tar.gz) into tar-stream's parser `extract` and into Go's view of the tar (`goView`) as Palette
 * reads a layer: Go's compress/gzip under Go's archive/tar, which stops at the tar end-of-archive marker and never
 * reads past it. So, as in Go:
 * - gzip is read by chart-archive.ts's gunzipChunks (member after member, a member's trailer checked and a next
 *   member looked for only when bytes past its data are needed); damage is a refusal ("not valid gzip") only when Go's
 *   tar reader still needed bytes at or past it (no end marker before it). Node's gunzip refused every layer with
 *   bytes after its gzip member (a hand-made archive `cat pack.tgz extra`, a damaged trailer), which Palette reads;
 * - once Go's view stopped at the end marker, tar-stream gets nothing after it and nothing more is inflated: more
 *   entries or another whole tar after it are not pulled (Go reads none of them);
 * - the layer is still read to its end: `hooks.compressed` sees every byte, so that its digest is checked whole.
 * Resolves once the source ended (or the parser was destroyed: the caller's failure); rejects with the refusal, the
 * source's error or the hooks'.
 */
export async function feedLayer(source: Readable, extract: Extract, goView: GoTarView, hooks: LayerHooks): Promise<void> {
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const nextCompressed = async (): Promise<Buffer | undefined> => {
    hooks.signal.throwIfAborted();
    const { done, value } = await chunks.next();
    if (done === true) return undefined;
    hooks.compressed(value);
    return value;
  };
  const inflated = gunzipChunks(new ByteReader(nextCompressed), (bytes) => hooks.inflated(bytes));
  // The parser destroyed before it got all its bytes (a refused entry, the caller's failure): the layer is not read on.
  let fed = false;
  const onClose = () => {
    if (!fed) source.destroy();
  };
  extract.once('close', onClose);
  const stopped = () => extract.destroyed || extract.destroying;
  try {
    for (;;) {
      let chunk: Buffer | undefined;
      try {
        chunk = await inflated.next();
      } catch (err) {
        if (!(err instanceof ArchiveDataError)) throw err;
        if (!goView.atEndMarker) throw unsafe(`the archive is not valid gzip: ${err.message}`, 'check that the blob is a .tar.gz pack archive');
        break;
      }
      if (chunk === undefined) break;
      const tarBytes = await goView.take(chunk);
      if (stopped()) return;
      if (tarBytes > 0 && !extract.write(tarBytes === chunk.length ? chunk : chunk.subarray(0, tarBytes))) {
        await drainedOrClosed(extract);
        if (stopped()) return;
      }
      if (goView.atEndMarker) break;
    }
    fed = true;
    extract.end(undefined);
    // The rest of the layer, never inflated: its bytes still count for the digest.
    while ((await nextCompressed()) !== undefined);
  } finally {
    extract.off('close', onClose);
    inflated.close();
  }
}

/**
 * The names of the entries Go's archive/tar (Palette's reader) finds in the tar bytes given to `push`, read beside
 * tar-stream with chart-archive.ts's reader (Go's rules: the end-of-archive marker ends it, a star header's shorter
 * prefix, a GNU header's prefix only where its times do not parse, strict numbers, pax records of at most 1 MiB). `check` refuses the archive when Go would fail on it or read other entries than tar-stream gave:
 * pull and inspect would show one pack and Palette read another.
 */
export class GoTarView {
  private readonly names: string[] = [];
  private readonly queue: Buffer[] = [];
  private readonly reader: ByteReader;
  private waiting: ((chunk: Buffer | undefined) => void) | undefined;
  /** Called once Go's reader took the last chunk given (it waits for the next one) or stopped. */
  private settled: (() => void) | undefined;
  private ended = false;
  private stopped = false;
  private marker = false;
  private readonly done: Promise<unknown>;

  constructor() {
    const next = (): Promise<Buffer | undefined> =>
      new Promise((resolve) => {
        const chunk = this.queue.shift();
        if (chunk !== undefined || this.ended) resolve(chunk);
        else {
          this.waiting = resolve;
          this.settle();
        }
      });
    this.reader = new ByteReader(next);
    this.done = readTar(this.reader, (entry) => {
      if (!entry.globalHeader) this.names.push(entry.name);
    }).then(
      () => {
        // Before end(), readTar returns only at the end-of-archive marker.
        this.marker = !this.ended;
        this.stop();
        return undefined;
      },
      (err: unknown) => {
        this.stop();
        return err;
      },
    );
  }

  private stop(): void {
    this.stopped = true;
    this.queue.length = 0;
    this.settle();
  }

  private settle(): void {
    const settled = this.settled;
    this.settled = undefined;
    settled?.();
  }

  /** Whether Go's reader stopped at the end-of-archive marker: it reads nothing more (no more tar, no more gzip). */
  get atEndMarker(): boolean {
    return this.marker;
  }

  /** The next tar bytes (dropped once Go's reader stopped: at the end marker, nothing after it is read). */
  push(chunk: Buffer): void {
    if (this.stopped) return;
    const waiting = this.waiting;
    this.waiting = undefined;
    if (waiting !== undefined) waiting(chunk);
    else this.queue.push(chunk);
  }

  /**
   * push(chunk), once Go's reader read what it takes of it: how many of its bytes are tar bytes to Go (all of them,
   * unless the end-of-archive marker ends within it; none after it; all when Go's reader failed: the check tells).
   */
  async take(chunk: Buffer): Promise<number> {
    if (!this.stopped) {
      const settled = new Promise<void>((resolve) => {
        this.settled = resolve;
      });
      this.push(chunk);
      await settled;
    }
    if (!this.marker) return chunk.length;
    // Read no further by Go: what is left of its current chunk (this one: it asked for it) follows the marker.
    return Math.max(0, chunk.length - this.reader.pieceNow(Number.POSITIVE_INFINITY).length);
  }

  /** No more bytes (also when the extraction failed: the reader ends). */
  end(): void {
    this.ended = true;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.(undefined);
  }

  /** After end(): refuses the archive unless Go's reader read it whole and found the entries `names` (tar-stream's, in order). */
  async check(names: readonly string[]): Promise<void> {
    const failed = await this.done;
    if (failed instanceof ArchiveDataError || failed instanceof UnusualTarError) {
      throw unsafe(`the archive is not a valid tar archive as Go's archive/tar (Palette's reader) reads it: ${failed.message}`, 'check that the blob is a .tar.gz pack archive, whole');
    }
    if (failed !== undefined) throw failed;
    const at = names.findIndex((name, i) => this.names[i] !== name);
    const index = at === -1 && names.length !== this.names.length ? Math.min(names.length, this.names.length) : at;
    if (index !== -1) {
      const ours = names[index];
      const theirs = this.names[index];
      // Go's name is the bytes tar-stream read as U+FFFD (chart-archive.ts keeps them, one character per byte).
      if (ours?.includes('\uFFFD') === true && theirs !== undefined && Buffer.from(theirs, 'latin1').toString('utf8') === ours) throw notUtf8('entry', JSON.stringify(ours));
      const what = (name: string | undefined) => (name === undefined ? 'no entry' : JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}...` : name));
      throw unsafe(`tar readers read the archive differently: its entry ${index + 1} is ${what(names[index])} to pull and ${what(this.names[index])} to Go's archive/tar (Palette's reader)`);
    }
  }
}

/**
 * tar-stream's internals that tarReader hooks: where it puts the names of GNU long-name (L, K) and pax headers on the
 * entry's header; the method reading a header block, and the buffer it takes the block from.
 */
interface LongHeaders {
  _applyLongHeaders?: () => void;
  _consumeHeader?: () => boolean;
  _buffer?: { shift?: (size: number) => Buffer | null };
  _gnuLongPath: string | null;
  _gnuLongLinkPath: string | null;
  _header: Header;
}

/**
 * tar-stream's parser, reading names as Go's archive/tar (Palette's) does, for pull and inspect:
 * - pre-POSIX V7 headers (no ustar magic) too; the checksum is still checked;
 * - a GNU long name (L) or long link name (K) wins over a pax path or linkpath before the same entry, as in Go
 *   ("the GNU long name takes precedence"); tar-stream let the pax record win, so that an entry Go reads as
 *   hello/pack.json was pulled as another file and the pack.json before it kept.
 * - a header whose checksum is the signed sum (each byte read as a signed char: old tars, some Java libraries) too, as
 *   Go's block.getFormat takes either sum (format.go: computeChecksum returns both), and a checksum field Go reads
 *   and tar-stream does not (a leading NUL); tar-stream checked the unsigned sum, read its own way, so such a layer,
 *   which Palette reads, was refused ("Invalid tar header"). The header block is given to tar-stream with the
 *   unsigned sum written in (withUnsignedChecksum); Go's view still reads the bytes as served.
 * The hooks are on methods of tar-stream's own: a version without them fails every read here, never reads otherwise.
 */
export function tarReader(): Extract {
  // (@types/tar-stream does not list the option that tar-stream's extract takes.)
  const extract = tarExtract({ allowUnknownFormat: true } as Parameters<typeof tarExtract>[0]);
  const inner = extract as unknown as LongHeaders;
  const apply = inner._applyLongHeaders;
  const consume = inner._consumeHeader;
  const buffer = inner._buffer;
  const shift = buffer?.shift;
  if (typeof apply !== 'function' || typeof consume !== 'function' || buffer === undefined || typeof shift !== 'function') {
    throw new Error('tar-stream no longer has _applyLongHeaders, _consumeHeader or _buffer.shift: tarReader must be updated');
  }
  // The block _consumeHeader takes (its first shift: the header), its checksum as tar-stream checks it.
  let header = false;
  buffer.shift = (size) => {
    const block = shift.call(buffer, size);
    if (!header) return block;
    header = false;
    return block !== null && size === 512 ? withUnsignedChecksum(block) : block;
  };
  inner._consumeHeader = function (this: LongHeaders) {
    header = true;
    try {
      return consume.call(this);
    } finally {
      header = false;
    }
  };
  inner._applyLongHeaders = function (this: LongHeaders) {
    const longPath = this._gnuLongPath;
    const longLink = this._gnuLongLinkPath;
    apply.call(this);
    if (longPath) this._header.name = longPath;
    if (longLink) this._header.linkname = longLink;
  };
  return extract;
}

/**
 * `block` itself, or a copy whose checksum field holds the unsigned sum as tar-stream reads it, when Go's archive/tar
 * takes the header's checksum and tar-stream would not: the field holds the signed sum (each byte read as a signed
 * char, as when a byte is 0x80 or more), or the unsigned one written as Go reads it and tar-stream does not (Go trims
 * spaces and NULs at both ends: a leading NUL, `\0 012345`, reads as 0 to tar-stream). The field counts as eight
 * spaces in either sum, so the rest of the header is unchanged. A checksum Go refuses is left for both to refuse.
 */
export function withUnsignedChecksum(block: Buffer): Buffer {
  const stored = tarNumber(block, 148, 8, true);
  if (Number.isNaN(stored) || !checksumMatches(block, stored)) return block;
  let unsigned = 8 * 0x20;
  for (let i = 0; i < 148; i++) unsigned += block[i] as number;
  for (let i = 156; i < 512; i++) unsigned += block[i] as number;
  if (tarStreamOctal(block, 148, 8) === unsigned) return block;
  const fixed = Buffer.from(block);
  // Six octal digits, NUL, space (as Go's writer and GNU tar write it): tar-stream's decodeOct reads them.
  fixed.write(`${unsigned.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return fixed;
}

/** An octal field as tar-stream's decodeOct reads it (leading spaces skipped, up to the first space, then leading NULs skipped; 0 when empty). */
function tarStreamOctal(block: Buffer, start: number, length: number): number {
  const end = start + length;
  let from = start;
  while (from < end && block[from] === 0x20) from++;
  let to = block.indexOf(0x20, from);
  if (to === -1 || to > end) to = end;
  while (from < to && block[from] === 0) from++;
  return from === to ? 0 : parseInt(block.toString('latin1', from, to), 8);
}

/**
 * What the tar parser (tar-stream) refused, as a refusal of the archive: its errors carry no code, and a file being
 * read when it failed ends with STREAM_DESTROYED. Errors of ours and of the filesystem (a code) stay as they are.
 */
function notTar(err: unknown, parseError: unknown): unknown {
  const code = errnoCode(err);
  if (err instanceof PackpubError || (code !== undefined && code !== 'STREAM_DESTROYED')) return err;
  const cause = parseError ?? err;
  const message = cause instanceof Error ? cause.message : String(cause);
  return unsafe(`the archive is not a valid tar archive: ${message}`, 'check that the blob is a .tar.gz pack archive, whole');
}

/**
 * Skip what an entry that carries no data holds (a folder, a hard link, `./`): a size field on it is ignored, not
 * written anywhere. Not waited for: tar-stream never ends the stream of a folder entry whose size is not 0 (it
 * reads no data for a folder, as Go's archive/tar, but ends its stream only for size 0), so waiting for its end
 * held pull for ever on a folder header saying size 1.
 */
function skip(entry: { resume(): unknown }): void {
  entry.resume();
}

// Small files are collected (at most this many bytes) and written with one call: a write stream per
// file costs more than the few KB most pack files hold.
const SMALL_FILE_BYTES = 512 * 1024;

/** A path an archive's entries made: a file, or a folder and the paths in it (made on its first one). */
interface PathNode {
  kind: 'file' | 'directory';
  children?: Map<string, PathNode>;
}

/**
 * The kinds of the paths an archive's entries have made so far, and the rules pull applies to each next entry:
 * a folder never where a file is, a file never over a folder, a later file over an earlier one (tar's last entry
 * wins). Pure: pull's StagingTree writes what it decides; inspect, which writes nothing, reads an archive by
 * the same rules, so that it shows what pull would write and refuses what pull refuses.
 *
 * A tree of path segments, not a map of whole paths: keyed by whole paths, each entry cost its depth times its
 * path's length (every parent folder's path made again to look it up, and kept when new), so that 20 000
 * entries 128 folders deep took 15 s of CPU and 3 000 entries each in a folder of its own ran a 400 MB heap out
 * (a 1.2 MB layer). The folders the entries' paths imply (parents without an entry of their own) are bounded
 * by `maxImplied` (the entry limit), as the entries are: a hostile archive of deep paths makes no more of
 * them than of entries.
 */
export class EntryKinds {
  private readonly top = new Map<string, PathNode>();
  private implied = 0;

  constructor(private readonly maxImplied: number = EXTRACT_DEFAULTS.maxEntries) {}

  kind(segments: readonly string[]): 'file' | 'directory' | undefined {
    let level: Map<string, PathNode> | undefined = this.top;
    let node: PathNode | undefined;
    for (const segment of segments) {
      node = level?.get(segment);
      if (node === undefined) return undefined;
      level = node.children;
    }
    return node?.kind;
  }

  /** Record the folder `segments` and its parents; the index of the first one not there before (-1: all were). */
  addDir(segments: readonly string[], shown: string): number {
    return this.folder(segments, shown, true).firstMissing;
  }

  /** Record the file `segments` (its parents as folders); whether it replaces an earlier file of the same name. */
  addFile(segments: readonly string[], shown: string): { newDirs: boolean; replaces: boolean } {
    const { level, firstMissing } = this.folder(segments.slice(0, -1), shown, false);
    const name = segments[segments.length - 1] ?? '';
    const kind = level.get(name)?.kind;
    if (kind === 'directory') throw unsafe(`archive entry ${shown} would replace a folder of the same name`);
    if (kind === undefined) level.set(name, { kind: 'file' });
    return { newDirs: firstMissing !== -1, replaces: kind === 'file' };
  }

  /** The folder `segments` (an entry of its own: `named`), made with its parents where missing (refused under a file); what it holds. */
  private folder(segments: readonly string[], shown: string, named: boolean): { level: Map<string, PathNode>; firstMissing: number } {
    let level = this.top;
    let firstMissing = -1;
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i] as string;
      let node = level.get(segment);
      if (node === undefined) {
        if (firstMissing === -1) firstMissing = i + 1;
        if (!named || i < segments.length - 1) this.countImplied();
        node = { kind: 'directory' };
        level.set(segment, node);
      } else if (node.kind === 'file') {
        throw unsafe(`archive entry ${shown} needs a folder where an earlier entry wrote a file`);
      }
      level = node.children ??= new Map();
    }
    return { level, firstMissing };
  }

  private countImplied(): void {
    if (++this.implied > this.maxImplied) {
      throw unsafe(`the paths of the archive's entries imply more than ${this.maxImplied} folders`);
    }
  }
}

/**
 * A pax global header (`g`) whose records would name or size the entries after it is refused (pull and inspect,
 * after each entry tar-stream gives): tar-stream applies its records to the later entries that have a pax header
 * of their own, Go's archive/tar (Palette's) to none, so that `path=hello/decoy` hid a later hello/pack.json from
 * pull and inspect, not from Palette. Other records (`git archive` writes a `comment`) change nothing read.
 * tar-stream keeps the global records in a field of its own (`_paxGlobal`); a test fails if that changes.
 */
export function refuseGlobalRecords(extract: Extract): void {
  const global = (extract as unknown as { _paxGlobal?: Record<string, string> | null })._paxGlobal ?? {};
  const key = Object.keys(global).find((k) => k === 'path' || k === 'linkpath' || k === 'size' || k.startsWith('GNU.sparse.'));
  if (key !== undefined) {
    throw unsafe(`the archive has a pax global header setting ${JSON.stringify(key)} for the entries after it, which tar readers apply differently (Palette's to none)`);
  }
}

/**
 * An entry pull refuses whatever its name: a symbolic link, a device, a fifo, a type it does not know (folders,
 * files and hard links are what a pack archive holds). Throws UNSAFE_ARCHIVE.
 */
export function refuseEntryType(h: Header): void {
  const shown = JSON.stringify(h.name);
  const type = h.type as string | null;
  // A sparse file of GNU tar's pax formats (tar --sparse; bsdtar stores sparse files so by itself): its data is a
  // map of the file's holes and the bytes between them, under a made-up name. tar-stream gives that as a file
  // (`hello/GNUSparseFile.123/big`: 552 bytes for a 1 MiB file), where Go's archive/tar (Palette's) expands it.
  // (@types/tar-stream does not list the pax records tar-stream puts on a header.)
  const pax = (h as Header & { pax?: Record<string, string> }).pax ?? {};
  if (Object.keys(pax).some((key) => key.startsWith('GNU.sparse.'))) {
    const real = pax['GNU.sparse.name'] ?? h.name;
    throw unsafe(`archive entry ${JSON.stringify(real)} is a sparse file (GNU tar --sparse), which pull does not expand`, 'rebuild the archive with packpub build (or tar without --sparse)');
  }
  switch (type) {
    case 'directory':
    case 'file':
    case 'contiguous-file':
      return;
    case 'link':
      // tar-stream reads the bytes a hard link's size says as its data; Go's archive/tar (Palette's) and GNU tar read
      // none and take them for the next entries: a pack.json hidden there was Palette's, not the one pull and inspect showed.
      if (h.size > 0) throw unsafe(`archive entry ${shown} is a hard link whose header says it holds ${h.size} bytes, which tar readers read differently (Palette's reads them as further entries)`);
      return;
    case 'symlink':
      throw unsafe(`archive entry ${shown} is a symbolic link (to ${JSON.stringify(h.linkname)}); pack archives must not contain links`);
    case 'character-device':
    case 'block-device':
      throw unsafe(`archive entry ${shown} is a device file`);
    case 'fifo':
      throw unsafe(`archive entry ${shown} is a named pipe (fifo)`);
    default:
      throw unsafe(`archive entry ${shown} has an unsupported type (${type === null ? 'unknown' : type})`);
  }
}

/**
 * What this extraction created in its private temp folder. Nothing else writes there, so the map is
 * the truth and no lstat is needed to detect duplicates and file/folder clashes.
 */
class StagingTree extends EntryKinds {
  constructor(
    readonly root: string,
    maxImplied: number,
  ) {
    super(maxImplied);
  }

  /** Creates the folder `segments` and its parents, refusing when one of them is a file. */
  async ensureDir(segments: readonly string[], shown: string): Promise<void> {
    if (this.addDir(segments, shown) !== -1) await makeDirs(join(this.root, ...segments), { mode: 0o755 });
  }

  /** Parent folders exist; an earlier file of the same name is removed (tar's last entry wins), a folder is not. */
  async prepareFile(segments: readonly string[], shown: string): Promise<string> {
    const { newDirs, replaces } = this.addFile(segments, shown);
    if (newDirs) await makeDirs(join(this.root, ...segments.slice(0, -1)), { mode: 0o755 });
    const dest = join(this.root, ...segments);
    if (replaces) await rm(dest, { force: true });
    return dest;
  }
}

/**
 * The path segments of the `count`th entry of an archive, or the refusal pull makes of it: past `maxEntries`, a
 * name that could land outside the folder (safeEntrySegments), a type pull never writes (refuseEntryType), no
 * name. Empty for `./`, the folder itself (as `tar -C dir .` writes it).
 */
export function entrySegments(h: Header, count: number, limits: Pick<Limits, 'maxEntries' | 'maxPathBytes' | 'maxDepth'>): string[] {
  if (count > limits.maxEntries) {
    throw unsafe(`the archive has more than ${limits.maxEntries} entries`);
  }
  const segments = safeEntrySegments(h.name, limits);
  refuseEntryType(h);
  if (segments.length === 0 && h.type !== 'directory') throw unsafe(`archive entry ${JSON.stringify(h.name)} has no file name`);
  return segments;
}

/** The segments of the earlier file a hard link entry names, or pull's refusal of it. */
export function hardLinkTarget(h: Header, kinds: EntryKinds, limits: Pick<Limits, 'maxPathBytes' | 'maxDepth'>): string[] {
  const shown = JSON.stringify(h.name);
  const linkSegments = safeEntrySegments(h.linkname ?? '', limits, `hard link target of ${shown}:`);
  if (linkSegments.length === 0) throw unsafe(`hard link ${shown} has no target`);
  if (kinds.kind(linkSegments) !== 'file') {
    throw unsafe(`hard link ${shown} points to ${JSON.stringify(h.linkname)}, which is not an earlier file of the archive`);
  }
  return linkSegments;
}

/** Whether a hard link at `segments` to `linkSegments` is written (as a copy): not a link to itself. */
function linkedCopy(linkSegments: readonly string[], segments: readonly string[]): boolean {
  return linkSegments.join('/') !== segments.join('/');
}

async function extractEntry(entry: AsyncIterable<unknown> & { header: Header; resume(): unknown }, tree: StagingTree, limits: Limits, progress: Progress): Promise<void> {
  const h = entry.header;
  progress.entries++;
  const segments = entrySegments(h, progress.entries, limits);
  const shown = JSON.stringify(h.name);
  const type = h.type as string | null;
  if (segments.length === 0) return skip(entry);
  if (!isInside(tree.root, join(tree.root, ...segments))) throw unsafe(`archive entry ${shown} resolves outside the target folder`);

  switch (type) {
    case 'directory':
      await tree.ensureDir(segments, shown);
      return skip(entry);
    case 'file':
    case 'contiguous-file': {
      if (progress.bytes + h.size > limits.maxBytes) {
        throw unsafe(`archive entry ${shown} would bring the extracted size over ${limits.maxBytes} bytes (decompression-bomb guard)`, SIZE_HINT);
      }
      const dest = await tree.prepareFile(segments, shown);
      const mode = (h.mode & 0o111) !== 0 ? 0o755 : 0o644;
      if (h.size <= SMALL_FILE_BYTES) {
        const chunks: Buffer[] = [];
        for await (const chunk of entry) chunks.push(chunk as Buffer);
        await writeFile(dest, Buffer.concat(chunks), { flag: 'wx', mode });
      } else {
        // A generator in between: Node's pipeline does not know tar-stream's (streamx) streams.
        await pipeline(async function* () {
          for await (const chunk of entry) yield chunk as Buffer;
        }, createWriteStream(dest, { flags: 'wx', mode }));
      }
      progress.bytes += h.size;
      return;
    }
    case 'link': {
      const linkSegments = hardLinkTarget(h, tree, limits);
      const src = join(tree.root, ...linkSegments);
      const st = await lstat(src);
      if (progress.bytes + st.size > limits.maxBytes) {
        throw unsafe(`hard link ${shown} would bring the extracted size over ${limits.maxBytes} bytes (decompression-bomb guard)`, SIZE_HINT);
      }
      const bomb = linkedCopy(linkSegments, segments) ? hardLinkRefusal(shown, progress.compressed(), progress.bytes + st.size, limits.maxRatio) : undefined;
      if (bomb !== undefined) throw bomb;
      // A link to itself changes nothing (and preparing the file would delete it).
      if (linkedCopy(linkSegments, segments)) {
        const dest = await tree.prepareFile(segments, shown);
        await copyFile(src, dest, fsConstants.COPYFILE_EXCL);
        await chmod(dest, (st.mode & 0o111) !== 0 ? 0o755 : 0o644);
        progress.bytes += st.size;
      }
      return skip(entry);
    }
    default:
      // entrySegments refused every other type.
      throw unsafe(`archive entry ${shown} has an unsupported type (${type === null ? 'unknown' : type})`);
  }
}
