import { constants, crc32, deflateRaw, deflateRawSync, type ZlibOptions } from 'node:zlib';
import { PackpubError } from '../errors.js';
import { cpuThreads } from '../util/cores.js';

/**
 * Deterministic, block-parallel gzip.
 *
 * The input is cut into fixed-size blocks and each block becomes one complete gzip member
 * (header + raw deflate + CRC32/ISIZE trailer). Concatenated members are one valid gzip file
 * (RFC 1952 §2.2) that gzip, GNU tar, Node's zlib.gunzip and Go's gzip.Reader (multistream by
 * default) read as a single stream. The block size is fixed, not derived from the core count, so the
 * bytes are identical at any concurrency. What else changes them: the zlib build (packContentKey
 * includes its version; a Node linked to the system's zlib compresses as that does) and the processor:
 * Node's own zlib (Chromium's, deps/zlib insert_string.h) hashes with the CRC32C instruction where its
 * build enabled it and the CPU has it (x86-64: SSE4.2 + PCLMUL), and with zlib's Rabin-Karp hash
 * otherwise (a bare virtual CPU model), which finds other matches (README, Reproducibility).
 *
 * Blocks are deflated with zlib's async API, which runs on the libuv threadpool: several blocks in
 * flight keep every core busy without worker threads. At most `concurrency` blocks are in flight,
 * so memory stays at about 2 x concurrency x blockSize.
 */

/** 1 MiB: large enough that splitting costs well under 1 % of ratio, small enough to spread a few MiB over the cores. */
export const DEFAULT_BLOCK_SIZE = 1024 * 1024;
export const DEFAULT_GZIP_LEVEL = 6;

/**
 * The fixed 10-byte member header (RFC 1952 §2.3): magic 1f 8b, CM 8 (deflate), FLG 0 (no name,
 * comment or extra), MTIME 0, XFL 0, OS 255 (unknown). Node's own gzip writes the platform's OS byte,
 * so it is not used. Go's gzip writer writes the same OS byte.
 */
export const GZIP_HEADER: Buffer = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff]);

export interface GzipOptions {
  /** zlib level 0..9. Default 6 (what `gzip` and `tar -z` use). */
  level?: number;
  /** Uncompressed bytes per gzip member. Default DEFAULT_BLOCK_SIZE; part of the output format. */
  blockSize?: number;
  /** Blocks compressed at the same time. Default: available cores (at least 2). Does not change the bytes. */
  concurrency?: number;
  /**
   * Deflate on the calling thread (zlib's synchronous API) instead of libuv's thread pool: for a thread with
   * nothing else to do meanwhile (a validation worker building a pack it has just checked), where each block's
   * round trip through the pool costs more than it frees. Does not change the bytes.
   */
  onThisThread?: boolean;
  signal?: AbortSignal;
}

/**
 * Blocks in flight: twice cpuThreads() (at least 4), so the threadpool always has a block to deflate while
 * this thread reads files, writes tar headers and hashes output. Does not change the bytes.
 */
export function defaultConcurrency(): number {
  return Math.max(4, 2 * cpuThreads());
}

export function checkGzipOptions(options: GzipOptions): Required<Omit<GzipOptions, 'signal' | 'onThisThread'>> {
  const level = options.level ?? DEFAULT_GZIP_LEVEL;
  const blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
  const concurrency = options.concurrency ?? defaultConcurrency();
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new PackpubError('USAGE', `compression level ${level} is not an integer from 0 to 9`, { hint: 'use 6 (the default) or 1 for speed, 9 for size' });
  }
  if (!Number.isInteger(blockSize) || blockSize < 1024 || blockSize > 64 * 1024 * 1024) {
    throw new PackpubError('USAGE', `gzip block size ${blockSize} is not an integer from 1 KiB to 64 MiB`, { hint: 'leave it at the default (1 MiB)' });
  }
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new PackpubError('USAGE', `concurrency ${concurrency} is not a positive integer`, { hint: 'use the number of cores, or leave it unset' });
  }
  return { level, blockSize, concurrency };
}

function zlibOptions(level: number, inputBytes: number): ZlibOptions {
  // Everything explicit: the output must not depend on zlib's defaults changing. A compressed block comes
  // back in one or two pieces instead of 16 KiB ones (each a callback on the main thread): the output buffer
  // is about the input's size (deflate's worst case is a little more), at most 512 KiB, so a small block
  // does not allocate 512 KiB. The pieces do not change the bytes, except for stored blocks (level 0), whose
  // framing follows them: those keep the default.
  const chunkSize = Math.min(512 * 1024, Math.max(1024, inputBytes + (inputBytes >> 8) + 64));
  return { level, memLevel: 8, windowBits: 15, strategy: constants.Z_DEFAULT_STRATEGY, ...(level > 0 ? { chunkSize } : {}) };
}

function deflateRawAsync(data: Buffer, level: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    deflateRaw(data, zlibOptions(level, data.length), (err, out) => (err ? reject(err) : resolve(out)));
  });
}

/** The first buffer of a block whose size is not known yet: most packs are far smaller than a block. */
const FIRST_BLOCK_BYTES = 64 * 1024;

/** Sampled bytes per block for the compressibility test, and the ratio above which a block is stored. */
const SAMPLE_SLICES = 4;
const SAMPLE_SLICE_BYTES = 8 * 1024;
const INCOMPRESSIBLE_RATIO = 0.97;

/**
 * Deflating data that does not compress (chart .tgz files inside packs, images, random bytes) costs as
 * much CPU as text and gains nothing. A block whose sample (four 8 KiB slices spread over it) does not
 * shrink by 3 % at level 1 is stored (level 0) instead. The test depends only on the block's bytes, so
 * the output stays deterministic.
 */
async function levelFor(data: Buffer, level: number): Promise<number> {
  const sample = sampleOf(data, level);
  if (sample === undefined) return level;
  return storedFor(sample, await deflateRawAsync(sample, 1), level);
}

/** levelFor on this thread. */
function levelForSync(data: Buffer, level: number): number {
  const sample = sampleOf(data, level);
  return sample === undefined ? level : storedFor(sample, deflateRawSync(sample, zlibOptions(1, sample.length)), level);
}

/** The bytes levelFor probes, or undefined when the block is deflated at `level` without a probe. */
function sampleOf(data: Buffer, level: number): Buffer | undefined {
  if (level === 0 || data.length < SAMPLE_SLICES * SAMPLE_SLICE_BYTES * 2) return undefined;
  const step = Math.floor(data.length / SAMPLE_SLICES);
  return Buffer.concat(Array.from({ length: SAMPLE_SLICES }, (_, i) => data.subarray(i * step, i * step + SAMPLE_SLICE_BYTES)));
}

function storedFor(sample: Buffer, probe: Buffer, level: number): number {
  return probe.length >= sample.length * INCOMPRESSIBLE_RATIO ? 0 : level;
}

/** The 8-byte member trailer: CRC32 and ISIZE (input size modulo 2^32). */
function trailerOf(data: Buffer): Buffer {
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(data) >>> 0, 0);
  trailer.writeUInt32LE(data.length % 2 ** 32, 4);
  return trailer;
}

/** One complete gzip member of `data`, as its three parts (header, deflate stream, trailer). */
export async function gzipMember(data: Buffer, level: number = DEFAULT_GZIP_LEVEL): Promise<Buffer[]> {
  const deflatePromise = levelFor(data, level).then((chosen) => deflateRawAsync(data, chosen));
  // CRC on this thread while the threadpool deflates.
  const trailer = trailerOf(data);
  return [GZIP_HEADER, await deflatePromise, trailer];
}

/**
 * gzipMember with the deflate on the calling thread, except for a block to be stored (level 0): zlib frames
 * stored blocks by the calls that feed it, and the synchronous API feeds it differently from the one
 * gzipMember uses, so a stored block goes to the thread pool as there (storing costs little CPU anyway).
 */
export function gzipMemberHere(data: Buffer, level: number = DEFAULT_GZIP_LEVEL): Buffer[] | Promise<Buffer[]> {
  const chosen = levelForSync(data, level);
  if (chosen === 0) return deflateRawAsync(data, 0).then((stored) => [GZIP_HEADER, stored, trailerOf(data)]);
  return [GZIP_HEADER, deflateRawSync(data, zlibOptions(chosen, data.length)), trailerOf(data)];
}

/**
 * Compresses a byte stream into consecutive gzip members of `blockSize` input bytes each, yielding
 * each member (as its parts) in order. Empty input gives one empty member, so the output is always
 * a valid gzip file.
 */
export async function* gzipMembers(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options: GzipOptions = {}): AsyncGenerator<Buffer[], void, undefined> {
  const { level, blockSize, concurrency: pooled } = checkGzipOptions(options);
  // On this thread a member is (nearly always) done when launched: handed on at once.
  const concurrency = options.onThisThread === true ? 1 : pooled;
  const inFlight: Array<Promise<Buffer[]> | Buffer[]> = [];
  // Grown as the input arrives (a small input never allocates a whole block); full-size once a block filled.
  let block = Buffer.allocUnsafe(Math.min(blockSize, FIRST_BLOCK_BYTES));
  let filled = 0;
  let members = 0;

  /** Launches a member of `data`; true when it is done already (deflated on this thread): `data` may be reused. */
  const launch = (data: Buffer): boolean => {
    members++;
    const p = options.onThisThread === true ? gzipMemberHere(data, level) : gzipMember(data, level);
    if (Array.isArray(p)) {
      inFlight.push(p);
      return true;
    }
    // Awaited in order below; this only keeps a later failure from being reported as unhandled.
    p.catch(() => undefined);
    inFlight.push(p);
    return false;
  };

  for await (const chunk of source) {
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(blockSize - filled, chunk.length - offset);
      if (filled + n > block.length) {
        const grown = Buffer.allocUnsafe(Math.min(blockSize, Math.max(2 * block.length, filled + n)));
        block.copy(grown, 0, 0, filled);
        block = grown;
      }
      block.set(chunk.subarray(offset, offset + n), filled);
      filled += n;
      offset += n;
      if (filled === blockSize) {
        // A member deflated on this thread holds none of the block's bytes: the block is filled again.
        if (!launch(block)) block = Buffer.allocUnsafe(blockSize);
        filled = 0;
        while (inFlight.length >= concurrency) {
          options.signal?.throwIfAborted();
          yield await inFlight.shift()!;
        }
      }
    }
  }
  if (filled > 0 || members === 0) launch(block.subarray(0, filled));
  while (inFlight.length > 0) {
    options.signal?.throwIfAborted();
    yield await inFlight.shift()!;
  }
}

/** gzipMembers as a flat byte stream. */
export async function* gzipBlocks(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options: GzipOptions = {}): AsyncGenerator<Buffer, void, undefined> {
  for await (const parts of gzipMembers(source, options)) yield* parts;
}
