import { deflateRawSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ByteReader, gunzipChunks, type NextChunk } from '../../../src/pack/chart-archive.js';
import { Prng } from '../../support/prng.js';

/*
 * A worker thread inflates a gzip member in itself when its deflate data sits in one piece (issue 16);
 * anything else goes through the streaming inflater. Both must give the same bytes, the same counts and
 * the same error, for every shape of input, read whole or in small chunks.
 */

/** Chunks of `bytes` of at most `size` bytes each. */
function chunksOf(bytes: Buffer, size: number): NextChunk {
  let at = 0;
  return async () => {
    if (at >= bytes.length) return undefined;
    const chunk = bytes.subarray(at, at + size);
    at += chunk.length;
    return chunk;
  };
}

interface Outcome {
  bytes: string;
  counted: number;
  error?: string;
}

/** Read all of a gzip stream: the inflated bytes (base64), what was counted, the error. */
async function gunzipAll(bytes: Buffer, chunk: number, limit: number, inThread: boolean): Promise<Outcome> {
  let counted = 0;
  const count = (n: number): void => {
    counted += n;
    if (counted > limit) throw new Error(`over the limit at ${counted}`);
  };
  const room = inThread ? () => limit - counted : undefined;
  const inflated = gunzipChunks(new ByteReader(chunksOf(bytes, chunk)), count, room);
  const out: Buffer[] = [];
  try {
    for (let next = await inflated.next(); next !== undefined; next = await inflated.next()) out.push(Buffer.from(next));
    return { bytes: Buffer.concat(out).toString('base64'), counted };
  } catch (err) {
    return { bytes: Buffer.concat(out).toString('base64'), counted, error: (err as Error).message };
  } finally {
    inflated.close();
  }
}

describe('gunzipChunks inflating in the thread', () => {
  const prng = new Prng(16);
  // Incompressible: its deflate data is larger than one streaming piece (256 KiB), so read in small chunks it
  // spans them (read whole it is inflated in the thread), and it inflates to two chunks (256 KiB each) with
  // the 300 KiB limit between them.
  const noise = Buffer.alloc(320 * 1024);
  for (let i = 0; i < noise.length; i += 4) noise.writeUInt32LE(prng.u32(), i);
  const text = Buffer.from('apiVersion: v2\nname: c\nversion: 1.0.0\n'.repeat(20_000));
  const small = gzipSync(text.subarray(0, 5000));
  const flip = (g: Buffer, at: number): Buffer => {
    const copy = Buffer.from(g);
    copy[at] = (copy[at] as number) ^ 0xff;
    return copy;
  };
  /** The member with its trailer's length (the in-thread inflater's output size guess) off by `by`. */
  const sizeOff = (g: Buffer, by: number): Buffer => {
    const copy = Buffer.from(g);
    copy.writeUInt32LE(copy.readUInt32LE(copy.length - 4) + by, copy.length - 4);
    return copy;
  };
  const cases: Record<string, Buffer> = {
    small: small,
    'text inflating to several chunks': gzipSync(text),
    'noise spanning pieces': gzipSync(noise),
    'two members': Buffer.concat([small, gzipSync(text)]),
    'bytes after the member': Buffer.concat([small, Buffer.from('junk')]),
    'a damaged CRC': flip(small, small.length - 8),
    'a damaged length': flip(small, small.length - 2),
    'a length one short': sizeOff(gzipSync(text), -1),
    'a length one over': sizeOff(gzipSync(text), 1),
    'a length 50 KiB over': sizeOff(gzipSync(text), 50 * 1024),
    'a cut trailer': small.subarray(0, small.length - 3),
    'cut deflate data': small.subarray(0, 40),
    'damaged deflate data': flip(gzipSync(text), 30),
    'deflate data only up to its end': small.subarray(0, small.length - 8),
    'a bare deflate stream': deflateRawSync(text),
    'noise after small': Buffer.concat([small, noise.subarray(0, 3000)]),
    empty: Buffer.alloc(0),
  };

  // Read in 100-byte chunks, the noise member (0.6 CPU-s: 3300 chunks a read) takes the path 7000-byte chunks
  // take: it spans chunks, so the in-thread inflater declines it and both sides run the streaming one (issue 11).
  const chunkSizes = (name: string): number[] => (name === 'noise spanning pieces' ? [4 * 1024 * 1024, 7000] : [4 * 1024 * 1024, 100, 7000]);

  it.each(Object.keys(cases))('%s: the same bytes, counts and error either way', async (name) => {
    const bytes = cases[name] as Buffer;
    for (const chunk of chunkSizes(name)) {
      for (const limit of [100 * 1024 * 1024, 300 * 1024, 4000]) {
        const streaming = await gunzipAll(bytes, chunk, limit, false);
        const inThread = await gunzipAll(bytes, chunk, limit, true);
        expect({ chunk, limit, ...inThread }).toEqual({ chunk, limit, ...streaming });
      }
    }
  });

  it("keeps Go's answers", async () => {
    expect((await gunzipAll(gzipSync(text), 1 << 22, 1 << 30, true)).bytes).toBe(text.toString('base64'));
    expect(await gunzipAll(cases['a damaged CRC'] as Buffer, 1 << 22, 1 << 30, true)).toMatchObject({ error: 'incorrect data check' });
    expect(await gunzipAll(cases['a damaged length'] as Buffer, 1 << 22, 1 << 30, true)).toMatchObject({ error: 'incorrect length check' });
    expect(await gunzipAll(cases['bytes after the member'] as Buffer, 1 << 22, 1 << 30, true)).toMatchObject({ error: 'bytes after the gzip data that are not another gzip member' });
    expect(await gunzipAll(gzipSync(text), 1 << 22, 4000, true)).toMatchObject({ error: expect.stringContaining('over the limit') });
    // Damaged deflate data is refused, and the read ends (the streaming inflater once waited forever here).
    expect(await gunzipAll(cases['damaged deflate data'] as Buffer, 100, 1 << 30, true)).toMatchObject({ error: 'invalid bit length repeat' });
  });
});
