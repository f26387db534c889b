import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { constants, crc32, deflateRaw, gunzipSync, inflateRawSync } from 'node:zlib';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  gzipMember,
  DEFAULT_BLOCK_SIZE,
  GZIP_HEADER,
  buildArchive,
  extractArchive,
  gzipBlocks,
  listPackEntries,
  tarBytes,
  DEFAULT_ARCHIVE_MTIME,
  type BuiltArchive,
} from '../../../src/archive/index.js';
import { SMALL_PACK, run } from './fixtures.js';
import { readTree, writeFiles } from '../../support/files.js';
import { stage } from '../../support/stage.js';
import { createReadStream } from 'node:fs';
import { runChild } from '../../support/spawner.js';

const temp = stage();

/** Walks a gzip file member by member with raw inflate: [uncompressed size of each member]. */
function parseMembers(file: Buffer): number[] {
  const sizes: number[] = [];
  let offset = 0;
  while (offset < file.length) {
    expect(file.subarray(offset, offset + 10)).toEqual(GZIP_HEADER);
    const { buffer, engine } = inflateRawSync(file.subarray(offset + 10), { info: true }) as unknown as {
      buffer: Buffer;
      engine: { bytesWritten: number };
    };
    const trailer = offset + 10 + engine.bytesWritten;
    expect(file.readUInt32LE(trailer)).toBe(crc32(buffer) >>> 0);
    expect(file.readUInt32LE(trailer + 4)).toBe(buffer.length);
    sizes.push(buffer.length);
    offset = trailer + 8;
  }
  return sizes;
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hasCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`]);
    return true;
  } catch {
    return false;
  }
}

describe('multi-member gzip of a pack larger than several blocks', () => {
  let dir: string;
  let built: BuiltArchive;
  let tarSha: string;

  beforeAll(async () => {
    dir = join(await temp.tempDir(), 'big-pack');
    const yamlLine = 'image: registry.example.com/team/app:1.2.3 # replicas: 3\n';
    await writeFiles(dir, {
      ...SMALL_PACK,
      'charts/random.bin': randomBytes(2 * 1024 * 1024 + 123),
      'manifests/large.yaml': yamlLine.repeat(Math.ceil((3 * 1024 * 1024) / yamlLine.length)),
    });
    built = await buildArchive(dir, join(await temp.tempDir(), 'big.tar.gz'), { name: 'big', version: '1.0.0', concurrency: 4 });
    const hash = createHash('sha256');
    for await (const chunk of tarBytes(await listPackEntries(dir, { topFolder: 'big-1.0.0' }), { mtime: DEFAULT_ARCHIVE_MTIME })) hash.update(chunk);
    tarSha = hash.digest('hex');
  });

  it('writes one member per 1 MiB block of tar, each with the fixed header and a correct CRC32/ISIZE trailer', async () => {
    const expected = Math.ceil(built.uncompressedSize / DEFAULT_BLOCK_SIZE);
    expect(expected).toBeGreaterThanOrEqual(5);
    expect(built.members).toBe(expected);
    const sizes = parseMembers(await readFile(built.path));
    expect(sizes).toHaveLength(expected);
    expect(sizes.slice(0, -1).every((s) => s === DEFAULT_BLOCK_SIZE)).toBe(true);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(built.uncompressedSize);
  });

  it('passes gzip -t, and gzip -dc and Node gunzip give the exact tar bytes', async () => {
    expect((await run('gzip', ['-t', built.path])).code).toBe(0);
    const { stdout: viaGzip } = await runChild('gzip', ['-dc', built.path], { maxBuffer: 64 * 1024 * 1024 });
    const viaNode = gunzipSync(await readFile(built.path));
    expect(sha256(viaGzip)).toBe(tarSha);
    expect(sha256(viaNode)).toBe(tarSha);
    expect(viaNode.length).toBe(built.uncompressedSize);
  });

  it('extracts identically with tar -xzf and extractArchive, matching the pack folder', async () => {
    const byTar = await temp.tempDir();
    const res = await run('tar', ['-xzf', built.path, '-C', byTar]);
    expect(res.code).toBe(0);
    const byNode = await temp.tempDir();
    const result = await extractArchive(createReadStream(built.path), byNode);
    expect(result.topLevel).toEqual(['big-1.0.0']);
    expect(result.entries).toBe(built.entries);

    const source = await readTree(dir);
    const fromTar = await readTree(join(byTar, 'big-1.0.0'));
    const fromNode = await readTree(join(byNode, 'big-1.0.0'));
    const contentOnly = (tree: Map<string, { type: string; sha256?: string }>) =>
      [...tree].map(([path, item]) => [path, item.type, item.sha256 ?? '']);
    expect(contentOnly(fromNode)).toEqual(contentOnly(source));
    expect(contentOnly(fromTar)).toEqual(contentOnly(source));
  });

  it.skipIf(!hasCommand('python3'))('reads as one stream with Python gzip (another multi-member reader)', async () => {
    const { stdout: out } = await runChild('python3', ['-c', 'import gzip,hashlib,sys; print(hashlib.sha256(gzip.open(sys.argv[1]).read()).hexdigest())', built.path]);
    expect(out.toString().trim()).toBe(tarSha);
  });

  it('is byte-identical at concurrency 1 and 4', async () => {
    const one = await buildArchive(dir, join(await temp.tempDir(), 'one.tar.gz'), { name: 'big', version: '1.0.0', concurrency: 1 });
    expect(one.digest).toBe(built.digest);
    expect(one.size).toBe(built.size);
  });

  it('is byte-identical built on the calling thread (blocking reads, synchronous deflate, stored blocks included)', async () => {
    const here = await buildArchive(dir, join(await temp.tempDir(), 'here.tar.gz'), { name: 'big', version: '1.0.0', onThisThread: true, inMemoryUpTo: 64 * 1024 * 1024 });
    expect(here.bytes?.equals(await readFile(built.path))).toBe(true);
    expect({ digest: here.digest, members: here.members, contentKey: here.contentKey }).toEqual({ digest: built.digest, members: built.members, contentKey: built.contentKey });
    // Every level, and the member the stored-block test chooses, as the thread pool writes them: on the
    // tar's second block (random bytes: stored at every level), its third (text: deflated) and a short last
    // one. The whole tar (5 MiB, six blocks of these two kinds) compressed eight more times added no case.
    const data = await readFile(built.path);
    const tar = gunzipSync(data).subarray(DEFAULT_BLOCK_SIZE, 3 * DEFAULT_BLOCK_SIZE + 1000);
    for (const level of [0, 1, 6, 9]) {
      const pooled: Buffer[] = [];
      const inline: Buffer[] = [];
      for await (const part of gzipBlocks([tar], { level })) pooled.push(part);
      for await (const part of gzipBlocks([tar], { level, onThisThread: true })) inline.push(part);
      expect(parseMembers(Buffer.concat(pooled))).toEqual([DEFAULT_BLOCK_SIZE, DEFAULT_BLOCK_SIZE, 1000]);
      expect(Buffer.concat(inline).equals(Buffer.concat(pooled)), `level ${level}`).toBe(true);
    }
  });
});

describe('gzip members', () => {
  it('makes a small input a single member with the fixed header (no name, mtime 0, OS 255)', async () => {
    const parts: Buffer[] = [];
    for await (const part of gzipBlocks([Buffer.from('hello, pack\n')])) parts.push(part);
    const file = Buffer.concat(parts);
    expect([...file.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
    expect(parseMembers(file)).toEqual([12]);
    expect(gunzipSync(file).toString()).toBe('hello, pack\n');
  });

  it('writes a valid empty member for empty input', async () => {
    const parts: Buffer[] = [];
    for await (const part of gzipBlocks([])) parts.push(part);
    expect(gunzipSync(Buffer.concat(parts)).length).toBe(0);
  });

  it('splits exactly at block boundaries whatever the chunking of the input', async () => {
    const data = randomBytes(10_000);
    const chunkings = [[data], [data.subarray(0, 1), data.subarray(1, 4097), data.subarray(4097)], Array.from({ length: 100 }, (_, i) => data.subarray(i * 100, i * 100 + 100))];
    const outputs: string[] = [];
    for (const chunks of chunkings) {
      const parts: Buffer[] = [];
      for await (const part of gzipBlocks(chunks, { blockSize: 4096, concurrency: 3 })) parts.push(part);
      const file = Buffer.concat(parts);
      expect(parseMembers(file)).toEqual([4096, 4096, 1808]);
      outputs.push(sha256(file));
    }
    expect(new Set(outputs).size).toBe(1);
  });

  it('changes the bytes with the level and refuses an invalid level', async () => {
    const data = Buffer.from('abc'.repeat(10_000));
    const collect = async (level: number) => {
      const parts: Buffer[] = [];
      for await (const part of gzipBlocks([data], { level })) parts.push(part);
      return Buffer.concat(parts);
    };
    expect(sha256(await collect(1))).not.toBe(sha256(await collect(9)));
    await expect(collect(10)).rejects.toMatchObject({ code: 'USAGE' });
  });
});

describe('incompressible blocks', () => {
  it('stores a block of random bytes instead of deflating it, and still round-trips', async () => {
    const random = randomBytes(256 * 1024);
    const text = Buffer.from('apiVersion: v1\nkind: ConfigMap\n'.repeat(8192));
    const storedParts = await gzipMember(random);
    const deflatedParts = await gzipMember(text);
    const stored = Buffer.concat(storedParts);
    // Exactly what zlib writes at level 0 (stored), with the same settings.
    const level0 = await promisify(deflateRaw)(random, { level: 0, memLevel: 8, windowBits: 15, strategy: constants.Z_DEFAULT_STRATEGY });
    expect(storedParts[1]!.equals(level0)).toBe(true);
    expect(gunzipSync(stored).equals(random)).toBe(true);
    expect(Buffer.concat(deflatedParts).length).toBeLessThan(text.length / 20);
    expect(Buffer.concat(await gzipMember(random)).equals(stored)).toBe(true);
  });
});
