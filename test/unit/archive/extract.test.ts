import { createReadStream } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildArchive, extractArchive, type ExtractOptions } from '../../../src/archive/index.js';
import { sha256Digest } from '../../../src/oci/digest.js';
import { PackpubError } from '../../../src/errors.js';
import { SMALL_PACK } from './fixtures.js';
import { v7Tgz } from '../pack/fixtures.js';
import { craftTar, readTree, writeFiles, type CraftEntry } from '../../support/files.js';
import { stage } from '../../support/stage.js';

const temp = stage();

function sumFileSizes(files: Record<string, string | Buffer | { content: string | Buffer }>): number {
  return Object.values(files).reduce<number>((n, f) => n + Buffer.byteLength(typeof f === 'string' || Buffer.isBuffer(f) ? f : f.content), 0);
}

async function craft(entries: CraftEntry[]): Promise<Buffer> {
  return gzipSync(await craftTar(entries));
}

/** A parent folder holding a sentinel file and the target folder (pre-created, with its own sentinel). */
async function scene(): Promise<{ parent: string; target: string }> {
  const parent = await temp.tempDir();
  await writeFile(join(parent, 'sentinel.txt'), 'untouched');
  const target = join(parent, 'target');
  await mkdir(target);
  await writeFile(join(target, 'existing.txt'), 'keep me');
  return { parent, target };
}

async function expectRefused(gz: Buffer | (() => Readable), options: ExtractOptions = {}, code = 'UNSAFE_ARCHIVE'): Promise<PackpubError> {
  const { parent, target } = await scene();
  const before = await readTree(parent);
  let caught: unknown;
  try {
    await extractArchive(typeof gz === 'function' ? gz() : Readable.from([gz]), target, options);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(PackpubError);
  expect((caught as PackpubError).code).toBe(code);
  // Nothing written anywhere: the parent (and the target inside it) are exactly as before.
  expect(await readTree(parent)).toEqual(before);
  return caught as PackpubError;
}

describe('extractArchive refuses hostile archives, writing nothing', () => {
  it('an absolute path', async () => {
    const victim = join(await temp.tempDir(), 'abs-evil.txt');
    const err = await expectRefused(await craft([{ name: victim, content: 'pwned' }]));
    expect(err.message).toContain('is an absolute path');
    await expect(stat(victim)).rejects.toThrow();
  });

  it.each(['../escape.txt', 'pack/../../escape.txt', 'pack/./../..//escape.txt'])('a ".." traversal: %s', async (name) => {
    const err = await expectRefused(await craft([{ name: 'pack/', type: 'directory' }, { name, content: 'pwned' }]));
    expect(err.message).toContain('".." segment');
  });

  it.each<[string, CraftEntry[], 'message' | 'hint', string]>([
    [
      'a symlink leaving the target, followed by a file written through it',
      [{ name: 'pack/', type: 'directory' }, { name: 'pack/link', type: 'symlink', linkname: '../..' }, { name: 'pack/link/evil.txt', content: 'pwned' }],
      'message',
      '"pack/link" is a symbolic link',
    ],
    [
      'any symlink, even one pointing inside (pack archives never hold links)',
      [{ name: 'pack/values.yaml', content: 'a: 1\n' }, { name: 'pack/alias.yaml', type: 'symlink', linkname: 'values.yaml' }],
      'hint',
      'packpub build',
    ],
    ['a hard link leaving the target', [{ name: 'pack/', type: 'directory' }, { name: 'pack/hl', type: 'link', linkname: '../../sentinel.txt' }], 'message', '".." segment'],
    ['a hard link to an absolute path', [{ name: 'pack/passwd', type: 'link', linkname: '/etc/passwd' }], 'message', 'absolute path'],
    ['a hard link to an entry that is not in the archive', [{ name: 'pack/hl', type: 'link', linkname: 'pack/missing' }], 'message', 'not an earlier file of the archive'],
  ])('%s', async (_title, entries, field, text) => {
    const err = await expectRefused(await craft(entries));
    expect(err[field]).toContain(text);
  });

  it.each([
    ['character-device', 'device file'],
    ['block-device', 'device file'],
    ['fifo', 'named pipe'],
  ] as const)('a %s entry', async (type, words) => {
    const err = await expectRefused(await craft([{ name: 'pack/', type: 'directory' }, { name: 'pack/dev', type, devmajor: 1, devminor: 3 }]));
    expect(err.message).toContain(words);
  });

  it('more entries than maxEntries', async () => {
    const entries = Array.from({ length: 10 }, (_, i) => ({ name: `pack/f${i}`, content: 'x' }));
    const err = await expectRefused(await craft(entries), { maxEntries: 5 });
    expect(err.message).toContain('more than 5 entries');
    // No flag raises it (was: "raise the entry limit", which no user could).
    expect(err.hint).toBe('do not use this archive; ask its publisher to rebuild it with packpub build');
  });

  it('a path nested too deep', async () => {
    const err = await expectRefused(await craft([{ name: `${'d/'.repeat(20)}f`, content: 'x' }]), { maxDepth: 10 });
    expect(err.message).toContain('nested deeper than 10 levels');
  });

  it('a file where an earlier entry made a folder', async () => {
    const err = await expectRefused(await craft([{ name: 'pack/x/', type: 'directory' }, { name: 'pack/x', content: 'file' }]));
    expect(err.message).toContain('would replace a folder');
  });

  it('a file below a path an earlier entry wrote as a file', async () => {
    const err = await expectRefused(await craft([{ name: 'pack/x', content: 'file' }, { name: 'pack/x/y', content: 'below' }]));
    expect(err.message).toContain('needs a folder where an earlier entry wrote a file');
  });

  it('input that is not gzip', async () => {
    const err = await expectRefused(Buffer.from('this is not a gzip stream at all, just text'.repeat(10)));
    expect(err.message).toContain('not valid gzip');
  });

  it('a digest mismatch, detected after reading everything', async () => {
    const gz = await craft([{ name: 'pack/a.txt', content: 'a' }]);
    const err = await expectRefused(gz, { expectedDigest: sha256Digest('something else') }, 'DIGEST_MISMATCH');
    expect(err.message).toContain(sha256Digest(gz));
  });
});

describe('extractArchive stopped by its signal', () => {
  it('an already-aborted signal: ABORTED, nothing written (it ran to its end before)', async () => {
    const controller = new AbortController();
    controller.abort();
    const gz = await craft([
      { name: 'pack/', type: 'directory' },
      { name: 'pack/a.txt', content: 'a' },
    ]);
    const err = await expectRefused(gz, { signal: controller.signal }, 'ABORTED');
    expect(err.message).toBe('extraction was interrupted');
  });
});

describe('extractArchive refuses decompression bombs', () => {
  const MEMBER = 16 * 1024 * 1024;
  let zerosMember: Buffer;
  beforeAll(() => {
    zerosMember = gzipSync(Buffer.alloc(MEMBER));
  });

  /** About 3 GiB once decompressed, about 3 MB compressed: concatenated gzip members of zeros after `head`. */
  const bomb = (head: Buffer) => () =>
    Readable.from(
      (function* () {
        yield head;
        for (let i = 0; i < 192; i++) yield zerosMember;
      })(),
    );

  /** The header of a file entry pack/zeros.bin saying `size` bytes follow (the bomb's zeros are its data, as Go reads them). */
  async function zerosHeader(size: number): Promise<Buffer> {
    // tar-stream cannot write a header without its data: take a small entry's header and patch size and checksum.
    const small = await craftTar([{ name: 'pack/zeros.bin', content: 'x' }]);
    const header = Buffer.from(small.subarray(0, 512));
    header.write(`${size.toString(8).padStart(11, '0')} `, 124, 'ascii');
    header.fill(' ', 148, 156);
    let sum = 0;
    for (const b of header) sum += b;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
    return header;
  }

  it('a file entry declaring 3 GiB, refused from its header', async () => {
    const err = await expectRefused(bomb(gzipSync(await zerosHeader(3 * 1024 ** 3))), { maxBytes: 64 * 1024 * 1024 });
    expect(err.message).toContain('"pack/zeros.bin" would bring the extracted size over 67108864 bytes');
    expect(err.hint).toBe('raise pull --max-size only if you trust this archive');
  });

  it('a stream of zeros over maxBytes, refused while decompressing', async () => {
    // Inside the first member: the limit stops the inflating, not the end of the data. The zeros are a file's data
    // (its size within the limit, its header not): zeros where a header goes are the end-of-archive marker, and
    // Palette's reader (Go's archive/tar) stops there, reading none of the rest.
    const err = await expectRefused(bomb(gzipSync(await zerosHeader(4 * 1024 * 1024))), { maxBytes: 4 * 1024 * 1024, maxRatio: 0 });
    expect(err.message).toContain('expands to more than 4194304 bytes');
    expect(err.hint).toBe('raise pull --max-size only if you trust this archive');
  });

  it('a compression ratio over maxRatio with the default size limit', async () => {
    const err = await expectRefused(bomb(gzipSync(await zerosHeader(1024 ** 3))), { maxRatio: 100 });
    expect(err.message).toContain('more than 100 times its compressed size');
    expect(err.hint).toBe('do not use this archive; ask its publisher to rebuild it with packpub build');
  });
});

describe('extractArchive of good archives', () => {
  it('round-trips a built pack: same paths and content, normalised modes', async () => {
    const dir = join(await temp.tempDir(), 'hello-pack');
    await writeFiles(dir, { ...SMALL_PACK, 'private.yaml': { content: 'p', mode: 0o600 }, 'empty.txt': '', 'big/data.bin': Buffer.alloc(700 * 1024, 7) });
    await mkdir(join(dir, 'empty-folder'));
    const built = await buildArchive(dir, join(await temp.tempDir(), 'x.tar.gz'), { name: 'hello', version: '1.0.0' });
    const target = join(await temp.tempDir(), 'fresh', 'out');
    const result = await extractArchive(createReadStream(built.path), target, { expectedDigest: built.digest });
    expect(result).toEqual({ entries: built.entries, bytes: expect.any(Number), topLevel: ['hello-1.0.0'] });

    const source = await readTree(dir);
    const extracted = await readTree(join(target, 'hello-1.0.0'));
    expect([...extracted.keys()]).toEqual([...source.keys()]);
    for (const [path, item] of source) expect(extracted.get(path)?.sha256).toBe(item.sha256);
    expect(extracted.get('scripts/run.sh')?.mode).toBe(0o755 & ~process.umask());
    expect(extracted.get('private.yaml')?.mode).toBe(0o644 & ~process.umask());
    expect(extracted.get('empty-folder')?.type).toBe('directory');
    expect(result.bytes).toBe(sumFileSizes(SMALL_PACK) + 1 + 700 * 1024); // + private.yaml + big/data.bin
  });

  it('copies a hard link to an earlier file, and strips setuid bits', async () => {
    const target = await temp.tempDir();
    await extractArchive(
      Readable.from([
        await craft([
          { name: 'pack/tool', content: '#!/bin/sh\n', mode: 0o4755 },
          { name: 'pack/same', type: 'link', linkname: 'pack/tool' },
        ]),
      ]),
      target,
    );
    expect(await readFile(join(target, 'pack/same'), 'utf8')).toBe('#!/bin/sh\n');
    const tool = await stat(join(target, 'pack/tool'));
    const same = await stat(join(target, 'pack/same'));
    expect(tool.mode & 0o7777).toBe(0o755 & ~process.umask());
    expect(same.ino).not.toBe(tool.ino);
  });

  it('accepts a "./" root entry and lets a later duplicate file win, as tar does', async () => {
    const target = await temp.tempDir();
    const result = await extractArchive(
      Readable.from([await craft([{ name: './', type: 'directory' }, { name: './pack/a', content: 'old' }, { name: './pack/a', content: 'new' }])]),
      target,
    );
    expect(result.topLevel).toEqual(['pack']);
    expect(await readFile(join(target, 'pack/a'), 'utf8')).toBe('new');
  });

  it('reads a pack archive in the old V7 tar format, as Go (Palette) does', async () => {
    const target = await temp.tempDir();
    const gz = await v7Tgz({ 'pack/pack.json': '{"name":"old","version":"1.0.0"}', 'pack/values.yaml': 'a: 1\n' });
    const result = await extractArchive(Readable.from([gz]), target);
    expect(result.topLevel).toEqual(['pack']);
    expect([...(await readTree(target)).keys()]).toEqual(['pack', 'pack/pack.json', 'pack/values.yaml']);
    expect(await readFile(join(target, 'pack/pack.json'), 'utf8')).toBe('{"name":"old","version":"1.0.0"}');
    expect(await readFile(join(target, 'pack/values.yaml'), 'utf8')).toBe('a: 1\n');
  });

  it('refuses to replace an existing top-level entry unless overwrite is set', async () => {
    const target = await temp.tempDir();
    await mkdir(join(target, 'pack'));
    await writeFile(join(target, 'pack', 'old.txt'), 'old');
    const gz = await craft([{ name: 'pack/new.txt', content: 'new' }]);
    await expect(extractArchive(Readable.from([gz]), target)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await readFile(join(target, 'pack', 'old.txt'), 'utf8')).toBe('old');
    await extractArchive(Readable.from([gz]), target, { overwrite: true });
    expect([...(await readTree(join(target, 'pack'))).keys()]).toEqual(['new.txt']);
  });

  it('removes a target folder it created when it refuses the archive', async () => {
    const parent = await temp.tempDir();
    const target = join(parent, 'new-target');
    await expect(extractArchive(Readable.from([await craft([{ name: '../x', content: 'x' }])]), target)).rejects.toMatchObject({
      code: 'UNSAFE_ARCHIVE',
    });
    await expect(stat(target)).rejects.toThrow();
  });
  // mkdir in /proc answers ENOENT although /proc exists: Node's recursive mkdir then loops forever at full CPU.
  it('ends with the ENOENT of mkdir for a target under /proc, and never spins', async () => {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve('still running after 10 s'), 10_000);
    });
    const ended = extractArchive(Readable.from([await craft([{ name: 'a.txt', content: 'a' }])]), '/proc/packpub-extract/x').then(
      () => 'extracted',
      (err: NodeJS.ErrnoException) => err.code,
    );
    try {
      expect(await Promise.race([ended, bound])).toBe('ENOENT');
    } finally {
      clearTimeout(timer);
    }
  });
});
