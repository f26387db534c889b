import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ARCHIVE_MTIME,
  archiveMtime,
  buildArchive,
  listPackEntries,
  packContentKey,
  tarBytes,
} from '../../../src/archive/index.js';
import { tarChunksHere } from '../../../src/archive/tar.js';
import { isPackpubError } from '../../../src/errors.js';
import { SMALL_PACK, listWithNode, run, sha256File } from './fixtures.js';
import { makeFifo, writeFiles } from '../../support/files.js';
import { stage } from '../../support/stage.js';

const temp = stage();

const opts = { name: 'hello', version: '1.0.0' };

async function packAt(parent: string, files = SMALL_PACK): Promise<string> {
  const dir = join(parent, 'hello-pack');
  await writeFiles(dir, files);
  return dir;
}

describe('buildArchive determinism', () => {
  it('gives the same digest whatever the file mtimes, permission bits and creation order', async () => {
    const a = await packAt(await temp.tempDir());

    // Second copy: files created in reverse order, other mtimes, 0600 instead of 0644, 0700 folders.
    const bParent = await temp.tempDir();
    const b = join(bParent, 'hello-pack');
    const reversed = Object.fromEntries(Object.entries(SMALL_PACK).reverse());
    await writeFiles(b, reversed);
    for (const rel of ['pack.json', 'values.yaml', 'README.md', 'logo.png', 'manifests/hello.yaml']) {
      await chmod(join(b, rel), 0o600);
      await utimes(join(b, rel), new Date('2011-05-05T10:00:00Z'), new Date('2011-05-05T10:00:00Z'));
    }
    await chmod(join(b, 'scripts/run.sh'), 0o700); // still executable: stays 0755
    await chmod(join(b, 'manifests'), 0o700);
    await utimes(b, new Date('2019-01-01T00:00:00Z'), new Date('2019-01-01T00:00:00Z'));

    const outA = await buildArchive(a, join(await temp.tempDir(), 'a.tar.gz'), opts);
    const outB = await buildArchive(b, join(await temp.tempDir(), 'b.tar.gz'), opts);
    expect(outB.digest).toBe(outA.digest);
    expect(outB.size).toBe(outA.size);
    expect(`sha256:${await sha256File(outA.path)}`).toBe(outA.digest);
    expect(await sha256File(outB.path)).toBe(await sha256File(outA.path));
  });

  it('changes the digest when the mtime option (SOURCE_DATE_EPOCH) changes', async () => {
    const dir = await packAt(await temp.tempDir());
    const out = await temp.tempDir();
    const fixed = await buildArchive(dir, join(out, 'a.tar.gz'), opts);
    const epoch = await buildArchive(dir, join(out, 'b.tar.gz'), { ...opts, mtime: archiveMtime({ SOURCE_DATE_EPOCH: '1700000000' }) });
    expect(epoch.digest).not.toBe(fixed.digest);
    const again = await buildArchive(dir, join(out, 'c.tar.gz'), { ...opts, mtime: new Date(1_700_000_000_000) });
    expect(again.digest).toBe(epoch.digest);
  });

  it('changes the digest when one byte of content changes', async () => {
    const dir = await packAt(await temp.tempDir());
    const out = await temp.tempDir();
    const before = await buildArchive(dir, join(out, 'a.tar.gz'), opts);
    await writeFile(join(dir, 'values.yaml'), 'pack:\n  namespace: hellO\n');
    const after = await buildArchive(dir, join(out, 'b.tar.gz'), opts);
    expect(after.digest).not.toBe(before.digest);
  });

  it('writes the same tar bytes as when this format was fixed (golden digest of the uncompressed tar)', async () => {
    // Fails when a change (ours or a tar-stream upgrade) alters archive bytes: bump ARCHIVE_FORMAT_VERSION then.
    const dir = await packAt(await temp.tempDir());
    const hash = createHash('sha256');
    for await (const chunk of tarBytes(await listPackEntries(dir, { topFolder: 'hello-1.0.0' }), { mtime: DEFAULT_ARCHIVE_MTIME })) hash.update(chunk);
    expect(hash.digest('hex')).toBe(GOLDEN_TAR_SHA256);
  });
});

// Format 3: the top folder is <name>-<version> (hello-1.0.0), no longer the folder's name.
const GOLDEN_TAR_SHA256 = '9e5b560c0183178c12ca03c96dea20d3e4ebdafc157e08179d047b4e9394b9c9';

describe('archiveMtime', () => {
  it('reads SOURCE_DATE_EPOCH, else the fixed default', () => {
    expect(archiveMtime({}).toISOString()).toBe('2000-01-01T00:00:00.000Z');
    expect(archiveMtime({ SOURCE_DATE_EPOCH: '' }).toISOString()).toBe('2000-01-01T00:00:00.000Z');
    expect(archiveMtime({ SOURCE_DATE_EPOCH: '1685620800' }).toISOString()).toBe('2023-06-01T12:00:00.000Z');
  });

  it.each(['abc', '-5', '1.5', '99999999999'])('refuses SOURCE_DATE_EPOCH=%s with a usage error', (value) => {
    let caught: unknown;
    try {
      archiveMtime({ SOURCE_DATE_EPOCH: value });
    } catch (err) {
      caught = err;
    }
    expect(isPackpubError(caught, 'USAGE')).toBe(true);
    expect((caught as Error).message).toContain('SOURCE_DATE_EPOCH');
    // README, "Reproducibility": a value that changes per commit would turn every published version into a conflict.
    const hint = (caught as { hint?: string }).hint ?? '';
    expect(hint).toContain('a fixed Unix timestamp kept the same on every run');
    expect(hint).not.toContain('git log');
  });
});

describe('archive contents', () => {
  it('holds the folder as the single top-level directory, folders included, uid/gid 0 (tar -tzvf)', async () => {
    const dir = await packAt(await temp.tempDir());
    const built = await buildArchive(dir, join(await temp.tempDir(), 'x.tar.gz'), opts);
    expect(built.fileName).toBe('hello-1.0.0.tar.gz');

    const listed = await run('tar', ['--numeric-owner', '-tzvf', built.path]);
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trim().split('\n');
    const names = lines.map((l) => l.split(/\s+/).at(-1));
    expect(names).toEqual([
      'hello-1.0.0/',
      'hello-1.0.0/README.md',
      'hello-1.0.0/logo.png',
      'hello-1.0.0/manifests/',
      'hello-1.0.0/manifests/hello.yaml',
      'hello-1.0.0/manifests/nested/',
      'hello-1.0.0/manifests/nested/deep.yaml',
      'hello-1.0.0/pack.json',
      'hello-1.0.0/scripts/',
      'hello-1.0.0/scripts/run.sh',
      'hello-1.0.0/values.yaml',
    ]);
    for (const line of lines) {
      const [perms, owner, , date] = line.split(/\s+/);
      expect(owner).toBe('0/0');
      expect(date).toBe('2000-01-01');
      if (line.endsWith('/')) expect(perms).toBe('drwxr-xr-x');
      else if (line.endsWith('run.sh')) expect(perms).toBe('-rwxr-xr-x');
      else expect(perms).toBe('-rw-r--r--');
    }
    expect(built.entries).toBe(lines.length);
  });

  it('reads back with Node (gunzip + tar-stream) with empty owner names and the fixed mtime', async () => {
    const dir = await packAt(await temp.tempDir());
    const built = await buildArchive(dir, join(await temp.tempDir(), 'x.tar.gz'), opts);
    const headers = await listWithNode(built.path);
    expect(headers.map((h) => h.name)[0]).toBe('hello-1.0.0/');
    expect(new Set(headers.map((h) => h.name.split('/')[0]))).toEqual(new Set(['hello-1.0.0']));
    for (const h of headers) {
      expect(h.uid).toBe(0);
      expect(h.gid).toBe(0);
      expect(h.uname).toBe('');
      expect(h.gname).toBe('');
      expect(h.mtime.toISOString()).toBe('2000-01-01T00:00:00.000Z');
    }
    const values = headers.find((h) => h.name === 'hello-1.0.0/values.yaml');
    expect(values?.size).toBe(Buffer.byteLength(SMALL_PACK['values.yaml'] as string));
  });

  it("names the top-level folder <name>-<version> from pack.json, whatever the path given or the folder's name", async () => {
    const parent = await temp.tempDir();
    const dir = await packAt(parent);
    const built = await buildArchive(join(dir, 'manifests', '..'), join(await temp.tempDir(), 'x.tar.gz'), opts);
    const headers = await listWithNode(built.path);
    expect(headers[0]?.name).toBe('hello-1.0.0/');
  });

  it('stores names longer than ustar allows (pax) so GNU tar extracts them', async () => {
    const long = `${'d'.repeat(120)}/${'f'.repeat(150)}.yaml`;
    const unicode = 'manifests/çà-日本-🚀.yaml';
    const dir = await packAt(await temp.tempDir(), { ...SMALL_PACK, [long]: 'long\n', [unicode]: 'u\n' });
    const built = await buildArchive(dir, join(await temp.tempDir(), 'x.tar.gz'), opts);
    const out = await temp.tempDir();
    const res = await run('tar', ['-xzf', built.path, '-C', out]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(await readdir(join(out, 'hello-1.0.0', 'd'.repeat(120)))).toEqual([`${'f'.repeat(150)}.yaml`]);
    expect((await stat(join(out, 'hello-1.0.0', unicode))).size).toBe(2);
  });

  it('writes nothing at the output path when the build fails', async () => {
    const dir = await packAt(await temp.tempDir());
    await mkdir(join(dir, 'bad'));
    await makeFifo(join(dir, 'bad', 'pipe'));
    const out = await temp.tempDir();
    await expect(buildArchive(dir, join(out, 'x.tar.gz'), opts)).rejects.toMatchObject({ code: 'PACK_FILE' });
    expect(await readdir(out)).toEqual([]);
  });

  it('stops with ABORTED and writes nothing when the signal fires', async () => {
    const dir = await packAt(await temp.tempDir());
    const out = await temp.tempDir();
    const controller = new AbortController();
    controller.abort();
    await expect(buildArchive(dir, join(out, 'x.tar.gz'), { ...opts, signal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(await readdir(out)).toEqual([]);
  });

  it('keeps an archive within inMemoryUpTo in memory (no file written) and streams a larger one into the file, the same bytes', async () => {
    // Random bytes: stored, so the archive is larger than one 64 KiB block buffer and than the 2-member limit below.
    const { randomBytes } = await import('node:crypto');
    const dir = await packAt(await temp.tempDir(), { ...SMALL_PACK, 'data.bin': randomBytes(1536 * 1024) });
    const out = await temp.tempDir();
    const onDisk = await buildArchive(dir, join(out, 'disk.tar.gz'), opts);
    expect(onDisk.bytes).toBeUndefined();
    expect(onDisk.members).toBe(2);

    const held = await buildArchive(dir, join(out, 'held.tar.gz'), { ...opts, inMemoryUpTo: onDisk.size });
    expect(held.bytes?.length).toBe(onDisk.size);
    expect(`sha256:${createHash('sha256').update(held.bytes ?? Buffer.alloc(0)).digest('hex')}`).toBe(onDisk.digest);
    expect({ digest: held.digest, size: held.size, members: held.members, contentKey: held.contentKey }).toEqual({
      digest: onDisk.digest,
      size: onDisk.size,
      members: onDisk.members,
      contentKey: onDisk.contentKey,
    });
    // One byte short: the first member is held, then written to the file with the rest.
    const spilled = await buildArchive(dir, join(out, 'spilled.tar.gz'), { ...opts, inMemoryUpTo: onDisk.size - 1 });
    expect(spilled.bytes).toBeUndefined();
    expect(spilled.digest).toBe(onDisk.digest);
    expect(await sha256File(spilled.path)).toBe(await sha256File(onDisk.path));
    expect((await readdir(out)).sort()).toEqual(['disk.tar.gz', 'spilled.tar.gz']);
  });

  it.each([
    ['a small file', 10, 11, 'tarBytes'],
    ['a large (streamed) file', 600 * 1024, 600 * 1024 + 1, 'tarBytes'],
    ['a small file', 10, 11, 'tarChunksHere'],
    ['a small file, shrunk', 10, 9, 'tarChunksHere'],
    ['an empty file', 0, 1, 'tarChunksHere'],
    ['a file of exactly one chunk', 256 * 1024, 256 * 1024 + 1, 'tarChunksHere'],
    ['a large file', 600 * 1024, 600 * 1024 + 1, 'tarChunksHere'],
    ['a large file, shrunk', 600 * 1024, 600 * 1024 - 1, 'tarChunksHere'],
  ])('refuses %s that changes size between the walk and the read (%i -> %i bytes, %s)', async (_what, size, changed, writer) => {
    const dir = await packAt(await temp.tempDir(), { ...SMALL_PACK, 'data.bin': Buffer.alloc(size, 1) });
    const entries = await listPackEntries(dir);
    await writeFile(join(dir, 'data.bin'), Buffer.alloc(changed, 1));
    const drain = async () => {
      const chunks = writer === 'tarBytes' ? tarBytes(entries, { mtime: DEFAULT_ARCHIVE_MTIME }) : tarChunksHere(entries, { mtime: DEFAULT_ARCHIVE_MTIME });
      for await (const _ of chunks) {
        // read everything
      }
    };
    await expect(drain()).rejects.toMatchObject({ code: 'PACK_FILE', message: 'data.bin changed size while it was being archived' });
  });

  it('builds on the calling thread the same archive, file hashes and content key as on the thread pool, files around the chunk size included', async () => {
    const sizes = [0, 1, 511, 512, 513, 256 * 1024 - 1, 256 * 1024, 256 * 1024 + 1, 3 * 256 * 1024 + 7];
    const files = Object.fromEntries(sizes.map((n, i) => [`files/f${i}.bin`, Buffer.alloc(n, i + 1)]));
    const dir = await packAt(await temp.tempDir(), { ...SMALL_PACK, ...files });
    const out = await temp.tempDir();
    const onPool = await buildArchive(dir, join(out, 'pool.tar.gz'), opts);
    const here = await buildArchive(dir, join(out, 'here.tar.gz'), { ...opts, onThisThread: true, inMemoryUpTo: 64 * 1024 * 1024 });
    expect(here.bytes?.equals(await readFile(onPool.path))).toBe(true);
    expect({ digest: here.digest, size: here.size, contentKey: here.contentKey, uncompressedSize: here.uncompressedSize }).toEqual({
      digest: onPool.digest,
      size: onPool.size,
      contentKey: onPool.contentKey,
      uncompressedSize: onPool.uncompressedSize,
    });
    // The file hashes read while archiving are those of a separate read of every file.
    expect(here.contentKey).toBe(await packContentKey(dir));
  });

  it('a file replaced by a fifo after the walk is refused at once, on this thread and off it, nothing written (was: the build waited for a writer for good)', async () => {
    for (const onThisThread of [false, true]) {
      const dir = join(await temp.tempDir(), 'hello');
      await writeFiles(dir, { ...SMALL_PACK, 'big.bin': Buffer.alloc(600 * 1024, 1) });
      const entries = await listPackEntries(dir, { topFolder: 'hello-1.0.0' });
      // A small file (read whole) and a large one (streamed), each now a fifo no one writes.
      for (const name of ['values.yaml', 'big.bin']) {
        await rm(join(dir, name));
        await makeFifo(join(dir, name));
      }
      const out = join(dir, '..', 'hello-1.0.0.tar.gz');
      const err = await buildArchive(dir, out, { name: 'hello', version: '1.0.0', entries, onThisThread }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isPackpubError(err) && err.code, `onThisThread ${onThisThread}`).toBe('PACK_FILE');
      expect((err as Error).message).toMatch(/^(values\.yaml|big\.bin) changed size while it was being archived$/);
      expect(existsSync(out)).toBe(false);
    }
  });
});
