import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { extractArchive } from '../../../src/archive/index.js';
import { sha256Digest } from '../../../src/oci/digest.js';
import { craftTar } from '../../support/files.js';
import { stage } from '../../support/stage.js';

/*
 * extractArchive reads a layer as Palette does (Go's compress/gzip under archive/tar): it stops at the tar's
 * end-of-archive marker, wherever the chunks of the download cut it, and still hashes every byte.
 */

const temp = stage();
const first = () => craftTar([{ name: 'pack/pack.json', content: '{"name":"pack"}' }, { name: 'pack/a.yaml', content: 'a: 1\n' }]);
const second = () => craftTar([{ name: 'pack/b.yaml', content: 'b: 2\n' }]);
/** `bytes` in pieces of `size` (a download's chunks). */
const pieces = (bytes: Buffer, size: number) => Readable.from(Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size)));

describe('extractArchive stops at the end-of-archive marker', () => {
  it.each([1, 7, 100, 512, 4096])('a second tar in the same gzip member, the layer in chunks of %i bytes: only the first tar is written', async (size) => {
    const gz = gzipSync(Buffer.concat([await first(), await second()]));
    const dir = await temp.tempDir();
    const result = await extractArchive(pieces(gz, size), dir, { expectedDigest: sha256Digest(gz) });
    expect(result.entries).toBe(2);
    expect((await readdir(join(dir, 'pack'))).sort()).toEqual(['a.yaml', 'pack.json']);
  });

  it('bytes after the member are read to the end and hashed: a digest without them is refused (DIGEST_MISMATCH), nothing written', async () => {
    const gz = gzipSync(await first());
    const dir = await temp.tempDir();
    const err = await extractArchive(pieces(Buffer.concat([gz, Buffer.from('GARBAGE')]), 5), dir, { expectedDigest: sha256Digest(gz) }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(await readdir(dir)).toEqual([]);
    const whole = Buffer.concat([gz, Buffer.from('GARBAGE')]);
    expect((await extractArchive(pieces(whole, 5), dir, { expectedDigest: sha256Digest(whole) })).entries).toBe(2);
  });
});
