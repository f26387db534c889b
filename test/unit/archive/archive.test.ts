import { readdir, rename, stat, utimes, writeFile, mkdir, realpath, symlink, chmod, rm, readFile, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync, constants, crc32, deflateRaw, gunzipSync, inflateRawSync } from 'node:zlib';
import net from 'node:net';
import { existsSync, lstatSync, createReadStream } from 'node:fs';
import { afterEach, describe, expect, it, vi, beforeAll } from 'vitest';
import { extractArchive, packContentKey, statTreeHolds, type StatTree, listPackEntries, PackFileRefusal, checkPackWalk, type WalkOptions, buildArchive, cachedPackContentKey, type FileHashCache, DEFAULT_ARCHIVE_MTIME, archiveMtime, tarBytes, type ExtractOptions, gzipMember, DEFAULT_BLOCK_SIZE, GZIP_HEADER, gzipBlocks, type BuiltArchive } from '../../../src/archive/index.js';
import { sha256Digest } from '../../../src/oci/digest.js';
import { craftTar, writeFiles, makeFifo, readTree, type CraftEntry, type TreeSpec } from '../../support/files.js';
import { stage } from '../../support/stage.js';
import { builtWithStatTree, SMALL_PACK, TRUST_RECENT, listWithNode, run, sha256File } from './fixtures.js';
import { COARSE_RACY_MARGIN_MS, RACY_MARGIN_MS, settledBefore } from '../../../src/archive/walk.js';
import { useRawLstat, changedSince, folderCheck, rawLstatCallable } from '../../../src/archive/stat-tree.js';
import { failure } from '../../support/errors.js';
import { EntryKinds } from '../../../src/archive/extract.js';
import { PackpubError, isPackpubError } from '../../../src/errors.js';
import { createHash, randomBytes } from 'node:crypto';
import { tarChunksHere } from '../../../src/archive/tar.js';
import { v7Tgz } from '../pack/fixtures.js';
import { execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { runChild } from '../../support/spawner.js';

/*
 * The tests of src/archive/'s smaller modules, a describe per module (each was a test file of its own): each test
 * file costs vitest ~15-30 ms of CPU whatever its size (requests between worker and main process, test/per-file-
 * setup.ts).
 */

describe('extract-after-marker', () => {
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
});

describe('stat-tree-times', () => {
  /*
   * review (s20): an unchanged re-run trusts the stat tree of the last build (size, mtime, ctime, inode, device,
   * as git's index). Tools that restore a file's times after writing it (`touch -r`, `tar -x`, `rsync -t`, `cp -p`
   * then a rename, as editors that save atomically do) leave size and mtime as they were: what still tells the
   * edit is the ctime (a write in place) or the inode (a file replaced), which userland cannot set back. A
   * signature without them would let a re-run call a changed pack "unchanged" (exit 0, the old archive published).
   */

  const temp = stage();
  const TIME = 1_700_000_000;

  function built(): Promise<{ dir: string; tree: StatTree; key: string }> {
    // Whole seconds, which utimes sets back exactly (a Date keeps milliseconds only, a file's times hold nanoseconds).
    return builtWithStatTree(temp, SMALL_PACK, async (dir) => {
      for (const path of ['values.yaml', 'manifests/nested/deep.yaml', 'manifests/nested']) await utimes(join(dir, path), TIME, TIME);
    });
  }

  describe('the stat tree sees an edit whose times were put back', () => {
    it('a file rewritten in place with the same size, its atime and mtime restored (touch -r, tar -x, rsync -t)', async () => {
      const { dir, tree, key } = await built();
      const file = join(dir, 'values.yaml');
      const before = await stat(file);
      await writeFile(file, 'pack:\n  namespace: HELLO\n');
      await utimes(file, TIME, TIME);
      const after = await stat(file);
      expect([after.size, after.mtimeMs, after.ino]).toEqual([before.size, before.mtimeMs, before.ino]);
      expect(statTreeHolds(tree)).toBe(false);
      expect(await packContentKey(dir)).not.toBe(key);
    });

    it('a file replaced by another of the same size and times, its folder\'s times restored too (an atomic save)', async () => {
      const { dir, tree, key } = await built();
      const file = join(dir, 'manifests/nested/deep.yaml');
      const folder = join(dir, 'manifests/nested');
      const [was, folderWas] = [await stat(file), await stat(folder)];
      const next = join(folder, '.deep.yaml.swp');
      await writeFile(next, 'kind: Secret!!!\n');
      await utimes(next, TIME, TIME);
      await rename(next, file);
      await utimes(folder, TIME, TIME);
      const [now, folderNow] = [await stat(file), await stat(folder)];
      expect([now.size, now.mtimeMs, folderNow.mtimeMs]).toEqual([was.size, was.mtimeMs, folderWas.mtimeMs]);
      expect(statTreeHolds(tree)).toBe(false);
      expect(await packContentKey(dir)).not.toBe(key);
    });
  });
});

describe('racy-coarse-times', () => {
  /*
   * The racy-clean rule on file systems that keep whole seconds (src/archive/walk.ts settledBefore). FAT stamps a
   * file with the start of its 2 s tick: a file written at 10.1 s reads 10 s. With one margin of 1 s for every file
   * system, a walk at 11.5 s (cutoff 10.5 s) recorded its signature; a same-size rewrite at 11.8 s (a version's last
   * digit) still reads 10 s, ctime too, and the next run took the pack as unchanged: exit 0, the old content left
   * published. An entry whose mtime and ctime are both whole seconds now needs 3 s; fine times keep 1 s (the wait a
   * re-run test makes, and what an edit just before a run costs, stay as they were).
   */

  const temp = stage();
  afterEach(() => vi.useRealTimers());

  describe('settledBefore', () => {
    const walkAt = 1_700_000_011_500; // 11.5 s into a minute: 1.5 s into a FAT tick that began at 10 s
    const cutoff = walkAt - RACY_MARGIN_MS;

    it('whole-second times (FAT, ext3, HFS+): a change stamped within 3 s of the walk has no signature (was: recorded after 1 s)', () => {
      const fat = { mtimeMs: 1_700_000_010_000, ctimeMs: 1_700_000_010_000 };
      expect(Math.max(fat.mtimeMs, fat.ctimeMs) < cutoff).toBe(true); // what the one 1 s margin took as settled
      expect(settledBefore(fat, cutoff)).toBe(false);
      expect(settledBefore(fat, fat.mtimeMs + COARSE_RACY_MARGIN_MS - RACY_MARGIN_MS)).toBe(false);
      expect(settledBefore(fat, fat.mtimeMs + COARSE_RACY_MARGIN_MS - RACY_MARGIN_MS + 1)).toBe(true);
    });

    it('fine times (ext4, tmpfs): 1 s, as before; a whole-second mtime with a fine ctime (touch -d, tar -x) counts as fine', () => {
      expect(settledBefore({ mtimeMs: 1_700_000_010_123.4, ctimeMs: 1_700_000_010_123.4 }, cutoff)).toBe(true);
      expect(settledBefore({ mtimeMs: 1_700_000_010_000, ctimeMs: 1_700_000_010_250.5 }, cutoff)).toBe(true);
      expect(settledBefore({ mtimeMs: 1_700_000_010_600.5, ctimeMs: 1_700_000_010_600.5 }, cutoff)).toBe(false);
    });

    it('a time in the future (a file server ahead of this clock) is never settled', () => {
      expect(settledBefore({ mtimeMs: walkAt + 60_000, ctimeMs: walkAt + 60_000 }, cutoff)).toBe(false);
    });
  });

  describe('the walk on this machine (fine times)', () => {
    it('records a signature for a file changed 1.2 s before the walk, none at 0.8 s', async () => {
      const dir = join(await temp.tempDir(), 'hello-pack');
      await writeFiles(dir, SMALL_PACK);
      const changed = (await stat(join(dir, 'values.yaml'))).ctimeMs;
      expect(changed % 1000).not.toBe(0);
      vi.useFakeTimers({ toFake: ['Date'] });
      const signed = async (afterMs: number) => {
        vi.setSystemTime(Math.ceil(changed) + afterMs);
        const entries = await listPackEntries(dir);
        return entries.find((e) => e.relativePath === 'values.yaml')?.signature !== undefined;
      };
      expect(await signed(1200)).toBe(true);
      expect(await signed(800)).toBe(false);
    });
  });
});

describe('walk-check', () => {
  /*
   * checkPackWalk (what `validate` applies) is the archive walk itself without the entry list: for every
   * case, it must refuse with the very error listPackEntries (push) refuses with, naming the same path, or
   * accept what the walk accepts. listPackEntries with blocking calls (a validation worker's) must do the same
   * as without, entries included.
   */

  const temp = stage();

  async function newPack(extra: Record<string, string> = {}): Promise<string> {
    const dir = join(await temp.tempDir(), 'pack');
    await writeFiles(dir, { ...SMALL_PACK, ...extra });
    return dir;
  }

  /** What a walk ends with: `ok`, or the refusal's path, message and hint. */
  async function outcome(walk: Promise<unknown>): Promise<string | { path: string; message: string; hint: string | undefined }> {
    try {
      await walk;
      return 'ok';
    } catch (err) {
      expect(err).toBeInstanceOf(PackFileRefusal);
      const refusal = err as PackFileRefusal;
      expect(refusal.code).toBe('PACK_FILE');
      return { path: refusal.path, message: refusal.message, hint: refusal.hint };
    }
  }

  const cases: Array<{ name: string; make: (dir: string) => Promise<unknown>; extra?: Record<string, string>; options?: WalkOptions; want: string | RegExp }> = [
    { name: 'a symlink to /dev/null in an unpacked chart folder', make: async (dir) => { await mkdir(join(dir, 'charts/web'), { recursive: true }); await symlink('/dev/null', join(dir, 'charts/web/null')); }, want: 'charts/web/null is a symlink to /dev/null, outside the pack folder' },
    { name: 'a relative symlink climbing out', make: (dir) => symlink('../..', join(dir, 'manifests/up')), want: /^manifests\/up is a symlink to .*, outside the pack folder$/ },
    { name: 'a dangling symlink', make: (dir) => symlink('missing.yaml', join(dir, 'manifests/gone.yaml')), want: 'manifests/gone.yaml is a dangling symlink (its target does not exist)' },
    { name: 'a symlink loop', make: async (dir) => { await symlink('b', join(dir, 'a')); await symlink('a', join(dir, 'b')); }, want: 'a is a symlink loop' },
    { name: 'a folder symlink to its parent', make: (dir) => symlink('..', join(dir, 'manifests/parent')), want: 'manifests/parent is a symlink loop (it points back to a folder that contains it)' },
    { name: 'a fifo', make: (dir) => makeFifo(join(dir, 'manifests/pipe')), want: 'manifests/pipe is a named pipe (fifo), which cannot be stored in a pack' },
    { name: 'a backslash in a name', make: async () => undefined, extra: { 'manifests/a\\b.yaml': 'x: 1\n' }, want: 'manifests/a\\b.yaml: the file name contains a backslash, which Windows tools and packpub pull read as a folder separator' },
    { name: 'nesting deeper than maxDepth', make: async () => undefined, extra: { 'd0/d1/d2/f.yaml': 'x: 1\n' }, options: { maxDepth: 2 }, want: 'd0/d1/d2 is nested deeper than 2 folders' },
    { name: 'more entries than maxEntries', make: async () => undefined, options: { maxEntries: 5 }, want: /^the pack has more than 5 files and folders \(at / },
    { name: 'a path longer than maxPathBytes', make: async () => undefined, options: { maxPathBytes: 30 }, want: /: the path is longer than 30 bytes$/ },
    { name: 'a file over maxFileBytes', make: async () => undefined, extra: { 'manifests/big.yaml': 'x'.repeat(64) }, options: { maxFileBytes: 50 }, want: 'manifests/big.yaml is 64 bytes, over the 50-byte limit for one file' },
    { name: 'a pack over maxTotalBytes', make: async () => undefined, options: { maxTotalBytes: 10 }, want: /^the pack is over 10 bytes \(at [^)]+\)$/ },
    { name: 'a symlink outside listed in .packignore', make: (dir) => symlink('/dev/null', join(dir, 'manifests/null')), extra: { '.packignore': 'manifests/null\n' }, want: 'ok' },
    { name: 'a fifo listed in .packignore', make: (dir) => makeFifo(join(dir, 'manifests/x.pipe')), extra: { '.packignore': '*.pipe\n' }, want: 'ok' },
    { name: 'a symlink inside the pack', make: (dir) => symlink('manifests', join(dir, 'alias')), want: 'ok' },
    // Folders are walked in UTF-8 byte order: U+FFFF (ef bf bf) before U+1D4B3 (f0 9d 92 b3), unlike JavaScript's string order.
    { name: 'two fifos, at U+FFFF and above it: the first in UTF-8 bytes named', make: async (dir) => { await makeFifo(join(dir, 'manifests/\u{1D4B3}')); await makeFifo(join(dir, 'manifests/\uFFFF')); }, want: 'manifests/\uFFFF is a named pipe (fifo), which cannot be stored in a pack' },
    { name: 'a name holding U+FFFD (valid UTF-8)', make: async () => undefined, extra: { 'manifests/\uFFFD.yaml': 'x: 1\n' }, want: 'ok' },
  ];

  describe('checkPackWalk applies the archive walk\'s rules, with the walk\'s own errors', () => {
    for (const c of cases) {
      it(c.name, async () => {
        const dir = await newPack(c.extra);
        await c.make(dir);
        const pushes = await outcome(listPackEntries(dir, { ...c.options, topFolder: 'hello-1.0.0' }));
        const checks = await outcome(checkPackWalk(dir, { ...c.options, topFolder: 'hello-1.0.0' }));
        expect(checks).toEqual(pushes);
        // Given the folder's real path (as validation does): the same, without resolving it again.
        expect(await outcome(checkPackWalk(await realpath(dir), { ...c.options, topFolder: 'hello-1.0.0' }, true))).toEqual(pushes);
        // Without Node's fs binding (stat-tree.ts rawLstat: the check stats plain files through it where it may), the same.
        useRawLstat(false);
        try {
          expect(await outcome(checkPackWalk(await realpath(dir), { ...c.options, topFolder: 'hello-1.0.0' }, true))).toEqual(pushes);
        } finally {
          useRawLstat(undefined);
        }
        // A validation worker lists with blocking calls: the same refusal, or the same entries.
        const listOptions = { ...c.options, topFolder: 'hello-1.0.0', statCutoffMs: Date.now() + 60_000 };
        expect(await outcome(listPackEntries(dir, listOptions, true))).toEqual(pushes);
        if (pushes === 'ok') expect(await listPackEntries(dir, listOptions, true)).toEqual(await listPackEntries(dir, listOptions));
        if (c.want === 'ok') expect(checks).toBe('ok');
        else if (typeof c.want === 'string') expect(checks).toMatchObject({ message: c.want });
        else expect(checks).toMatchObject({ message: expect.stringMatching(c.want) });
      });
    }

    it('a socket', async () => {
      const dir = await newPack();
      const server = net.createServer();
      await new Promise<void>((resolve) => server.listen(join(dir, 'sock'), resolve));
      try {
        const checks = await outcome(checkPackWalk(dir));
        expect(checks).toEqual(await outcome(listPackEntries(dir)));
        expect(checks).toMatchObject({ path: 'sock', message: 'sock is a socket, which cannot be stored in a pack', hint: 'delete it, or list it in .packignore' });
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });
  });
});

describe('content-key', () => {
  const temp = stage();

  async function pack(name = 'hello-pack'): Promise<string> {
    const dir = join(await temp.tempDir(), name);
    await writeFiles(dir, SMALL_PACK);
    return dir;
  }

  describe('packContentKey', () => {
    it('is a 64-hex key that ignores mtimes and non-execute permission bits, like the archive', async () => {
      const a = await pack();
      const b = await pack();
      await utimes(join(b, 'values.yaml'), new Date('2015-01-01'), new Date('2015-01-01'));
      await chmod(join(b, 'pack.json'), 0o600);
      const keyA = await packContentKey(a);
      expect(keyA).toMatch(/^[a-f0-9]{64}$/);
      expect(await packContentKey(b)).toBe(keyA);
    });

    it('changes when content changes but size and mtime do not', async () => {
      const dir = await pack();
      const before = await packContentKey(dir);
      const st = new Date('2020-02-02');
      await writeFile(join(dir, 'values.yaml'), 'pack:\n  namespace: HELLO\n');
      await utimes(join(dir, 'values.yaml'), st, st);
      expect(await packContentKey(dir)).not.toBe(before);
    });

    it('changes with anything else that changes the archive bytes', async () => {
      const dir = await pack();
      const base = await packContentKey(dir);
      expect(await packContentKey(dir, { mtime: new Date('2024-01-01T00:00:00Z') })).not.toBe(base);
      expect(await packContentKey(dir, { level: 9 })).not.toBe(base);
      expect(await packContentKey(dir, { blockSize: 64 * 1024 })).not.toBe(base);

      await chmod(join(dir, 'values.yaml'), 0o755);
      const exec = await packContentKey(dir);
      expect(exec).not.toBe(base);
      await chmod(join(dir, 'values.yaml'), 0o644);

      await rename(join(dir, 'README.md'), join(dir, 'README.txt'));
      expect(await packContentKey(dir)).not.toBe(base);
      await rename(join(dir, 'README.txt'), join(dir, 'README.md'));
      expect(await packContentKey(dir)).toBe(base);
    });

    it('does not depend on the folder name: the archive top folder is <name>-<version> from pack.json', async () => {
      const one = await pack('one');
      const two = await pack('two');
      expect(await packContentKey(one)).toBe(await packContentKey(two));
      const out = await temp.tempDir();
      const a = await buildArchive(one, join(out, 'one.tgz'), { name: 'hello', version: '1.0.0' });
      const b = await buildArchive(two, join(out, 'two.tgz'), { name: 'hello', version: '1.0.0' });
      expect(a.digest).toBe(b.digest);
      expect(a.contentKey).toBe(b.contentKey);
    });

    it('agrees with the archive: equal keys, equal digests; different keys, different digests', async () => {
      const a = await pack();
      const b = await pack();
      const out = await temp.tempDir();
      const opts = { name: 'hello', version: '1.0.0' };
      expect(await packContentKey(a)).toBe(await packContentKey(b));
      expect((await buildArchive(a, join(out, 'a.tgz'), opts)).digest).toBe((await buildArchive(b, join(out, 'b.tgz'), opts)).digest);
      await writeFile(join(b, 'extra.yaml'), 'x: 1\n');
      expect(await packContentKey(a)).not.toBe(await packContentKey(b));
      expect((await buildArchive(a, join(out, 'c.tgz'), opts)).digest).not.toBe((await buildArchive(b, join(out, 'd.tgz'), opts)).digest);
    });
  });

  describe('content keys from a build and from remembered file hashes', () => {
    function memoryCache(): FileHashCache {
      const map = new Map<string, string>();
      return {
        get(source, signature) {
          return map.get(`${source}\0${signature}`);
        },
        set(source, signature, sha256) {
          map.set(`${source}\0${signature}`, sha256);
        },
      };
    }

    it('buildArchive reports the same key packContentKey computes, and remembers every file', async () => {
      const dir = await pack();
      const cache = memoryCache();
      const built = await buildArchive(dir, join(await temp.tempDir(), 'out.tar.gz'), { name: 'hello', version: '1.0.0', fileHashes: cache, walk: TRUST_RECENT });
      expect(built.contentKey).toBe(await packContentKey(dir));
      expect(await cachedPackContentKey(dir, cache, { walk: TRUST_RECENT })).toBe(built.contentKey);
    });

    it('knows nothing once a file changed (new signature), so the pack is rebuilt', async () => {
      const dir = await pack();
      const cache = memoryCache();
      await buildArchive(dir, join(await temp.tempDir(), 'out.tar.gz'), { name: 'hello', version: '1.0.0', fileHashes: cache, walk: TRUST_RECENT });
      await writeFile(join(dir, 'values.yaml'), 'pack:\n  namespace: changed\n');
      expect(await cachedPackContentKey(dir, cache, { walk: TRUST_RECENT })).toBeUndefined();
      const fresh = await packContentKey(dir, { fileHashes: cache, walk: TRUST_RECENT });
      expect(await cachedPackContentKey(dir, cache, { walk: TRUST_RECENT })).toBe(fresh);
    });
  });
});

describe('changed-since', () => {
  /*
   * changedSince (the check after a build that nothing archived changed since its validation) reads ctimes
   * from Node's fs binding where stat-tree.ts may call it, else from lstatSync: both ways must name the same
   * entry for every moment of the check.
   */

  const temp = stage();

  function bothWays<T>(check: () => T): { raw: T; stats: T } {
    useRawLstat(undefined);
    const raw = check();
    useRawLstat(false);
    try {
      return { raw, stats: check() };
    } finally {
      useRawLstat(undefined);
    }
  }

  async function pack(): Promise<string> {
    const dir = join(await temp.tempDir(), 'hello-pack');
    await writeFiles(dir, SMALL_PACK);
    return dir;
  }

  describe('changedSince', () => {
    it('names the same first changed entry with the fs binding as with lstatSync, for a check begun at any of its ctimes', async () => {
      const dir = await pack();
      const entries = await listPackEntries(dir, { ...TRUST_RECENT, topFolder: 'hello-1.0.0' });
      const ctimes = [...new Set(entries.map((e) => lstatSync(e.source).ctimeMs))].sort((a, b) => a - b);
      const moments = [...new Set(ctimes.flatMap((c) => [Math.floor(c) - 2, Math.floor(c) - 1, Math.floor(c), Math.ceil(c) + 1]))];
      const folder = folderCheck(dir).folder;
      for (const since of moments) {
        const { raw, stats } = bothWays(() => changedSince(entries, since, folder));
        expect(raw, `a check begun at ${since}`).toBe(stats);
      }
      // Begun after every change: nothing changed. Begun before them all: the pack folder is the first entry.
      expect(bothWays(() => changedSince(entries, Math.ceil(ctimes.at(-1) ?? 0) + 1, folder))).toEqual({ raw: undefined, stats: undefined });
      expect(bothWays(() => changedSince(entries, Math.floor(ctimes[0] ?? 0) - 2, folder))).toEqual({ raw: '', stats: '' });
    });

    it('names a file deleted after the check, and a rewritten .packignore, both ways', async () => {
      const dir = await pack();
      await writeFile(join(dir, '.packignore'), 'ignored/\n');
      const entries = await listPackEntries(dir, { ...TRUST_RECENT, topFolder: 'hello-1.0.0' });
      const { folder } = folderCheck(dir);
      const after = Math.ceil(Math.max(...entries.map((e) => lstatSync(e.source).ctimeMs))) + 1;
      // A file gone since the check (its folder comes before it in walk order: only the file is asked here).
      await rm(join(dir, 'manifests', 'nested', 'deep.yaml'));
      const file = entries.filter((e) => e.relativePath === 'manifests/nested/deep.yaml');
      expect(file).toHaveLength(1);
      expect(bothWays(() => changedSince(file, after))).toEqual({ raw: 'manifests/nested/deep.yaml', stats: 'manifests/nested/deep.yaml' });
      // The pack folder's .packignore rewritten (the folder itself unchanged): rewritten until its ctime is past
      // the folder's, which the file system's clock may take a tick to show.
      const root = entries.filter((e) => e.relativePath === '');
      const since = Math.ceil(lstatSync(dir).ctimeMs);
      let ignoreCtime = 0;
      for (let i = 0; i < 100_000 && ignoreCtime < since + 1; i++) {
        await writeFile(join(dir, '.packignore'), `ignored/\n# ${i}\n`);
        ignoreCtime = lstatSync(join(dir, '.packignore')).ctimeMs;
      }
      expect(ignoreCtime).toBeGreaterThanOrEqual(since + 1);
      expect(bothWays(() => changedSince(root, since, folder))).toEqual({ raw: '.packignore', stats: '.packignore' });
    });

    it('reads the change time, not the modification time: a chmod after the check counts, both ways', async () => {
      const dir = await pack();
      const entries = await listPackEntries(dir, { ...TRUST_RECENT, topFolder: 'hello-1.0.0' });
      const file = entries.filter((e) => e.relativePath === 'values.yaml');
      const since = Math.ceil(lstatSync(join(dir, 'values.yaml')).mtimeMs);
      let st = lstatSync(join(dir, 'values.yaml'));
      for (let i = 0; i < 100_000 && st.ctimeMs < since + 1; i++) {
        await chmod(join(dir, 'values.yaml'), i % 2 === 0 ? 0o600 : 0o644);
        st = lstatSync(join(dir, 'values.yaml'));
      }
      expect(st.mtimeMs).toBeLessThan(since + 1);
      expect(st.ctimeMs).toBeGreaterThanOrEqual(since + 1);
      expect(bothWays(() => changedSince(file, since))).toEqual({ raw: 'values.yaml', stats: 'values.yaml' });
    });

    it('names a file rewritten after the walk whose change the file system stamped before the check began, both ways; the build refuses it', async () => {
      // The kernel stamps a change with its clock's last tick, up to a few ms behind Date.now(): a write during a quick
      // build can carry a ctime before the check's start. Simulated here by a check begun after every ctime there is.
      const dir = await pack();
      const entries = await listPackEntries(dir, { ...TRUST_RECENT, topFolder: 'hello-1.0.0' });
      const values = join(dir, 'values.yaml');
      const walked = lstatSync(values).ctimeMs;
      // Rewritten with as many bytes (the tar header's size still holds) until the file system's clock shows it.
      let now = walked;
      for (let i = 0; i < 100_000 && now === walked; i++) {
        await writeFile(values, `pack:\n  namespace: hola${i % 2}\n`);
        now = lstatSync(values).ctimeMs;
      }
      expect(now).not.toBe(walked);
      const since = Math.ceil(Math.max(...entries.map((e) => lstatSync(e.source).ctimeMs))) + 1;
      const { folder } = folderCheck(dir);
      expect(bothWays(() => changedSince(entries, since, folder))).toEqual({ raw: 'values.yaml', stats: 'values.yaml' });
      const out = join(await temp.tempDir(), 'hello-1.0.0.tar.gz');
      const err = await failure(buildArchive(dir, out, { name: 'hello', version: '1.0.0', entries, checked: { sinceMs: since, folder } }));
      expect(err.code).toBe('PACK_FILE');
      expect(err.message).toBe('values.yaml changed while packpub was packing hello-1.0.0');
      expect(existsSync(out)).toBe(false);
    });
  });
});

describe('entry-kinds', () => {
  /*
   * trust: the paths an archive's entries make, as pull places them and inspect reads them (EntryKinds). A hostile
   * registry serves the layer: deep paths must cost each entry its depth, not its depth times its path's length,
   * and the folders the paths imply count against the entry limit, so that neither pull nor inspect (which has no
   * size limit) runs its heap out on a small layer.
   */

  const temp = stage();
  const SEGMENT = 'a'.repeat(29);
  /** A folder 127 levels deep, 3 800 bytes long. */
  const DEEP = ['hello', ...Array<string>(126).fill(SEGMENT)];

  describe('EntryKinds', () => {
    it('keeps the rules: a folder never where a file is, a file never over a folder, a later file over an earlier one', () => {
      const kinds = new EntryKinds();
      expect(kinds.addDir(['a', 'b'], '"a/b/"')).toBe(1);
      expect(kinds.addDir(['a', 'b'], '"a/b/"')).toBe(-1);
      expect(kinds.addFile(['a', 'b', 'f'], '"a/b/f"')).toEqual({ newDirs: false, replaces: false });
      expect(kinds.addFile(['a', 'b', 'f'], '"a/b/f"')).toEqual({ newDirs: false, replaces: true });
      expect(kinds.addFile(['a', 'c', 'g'], '"a/c/g"')).toEqual({ newDirs: true, replaces: false });
      expect([kinds.kind(['a']), kinds.kind(['a', 'b', 'f']), kinds.kind(['a', 'b', 'f', 'x']), kinds.kind(['z']), kinds.kind([])]).toEqual(['directory', 'file', undefined, undefined, undefined]);
      expect(() => kinds.addDir(['a', 'b', 'f', 'x'], '"a/b/f/x/"')).toThrow('archive entry "a/b/f/x/" needs a folder where an earlier entry wrote a file');
      expect(() => kinds.addFile(['a', 'b'], '"a/b"')).toThrow('archive entry "a/b" would replace a folder of the same name');
    });

    it('20 000 files in one folder 127 levels deep: well under a second of CPU (was: 15 s, each parent path made again per entry)', () => {
      const kinds = new EntryKinds();
      const start = process.cpuUsage();
      for (let i = 0; i < 20_000; i++) kinds.addFile([...DEEP, `f${i}`], `"f${i}"`);
      const { user, system } = process.cpuUsage(start);
      expect(kinds.kind([...DEEP, 'f19999'])).toBe('file');
      expect((user + system) / 1000).toBeLessThan(1500);
    });

    it('bounds the folders deep paths imply as the entries are (was: 3 000 entries, each in a deep folder of its own, ran a 400 MB heap out)', () => {
      const kinds = new EntryKinds(1000);
      let made = 0;
      const add = () => kinds.addFile([`b${made}`, ...DEEP.slice(1), 'f'], `"b${made++}/.../f"`);
      for (let i = 0; i < 7; i++) add();
      expect(add).toThrow("the paths of the archive's entries imply more than 1000 folders");
      expect(made).toBe(8);
    });
  });

  describe('pull of an archive whose paths imply more folders than the entry limit', () => {
    it('is refused before anything is placed (was: extracted, 3 entries under a limit of 100)', async () => {
      const parent = await temp.tempDir();
      const target = `${parent}/target`;
      const entries = [0, 1, 2].map((i) => ({ name: `hello/b${i}/${Array<string>(40).fill('x').join('/')}/f`, content: 'x' }));
      const before = await readTree(parent);
      let caught: unknown;
      try {
        await extractArchive(Readable.from([gzipSync(await craftTar(entries))]), target, { maxEntries: 100 });
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(PackpubError);
      expect((caught as PackpubError).code).toBe('UNSAFE_ARCHIVE');
      expect((caught as PackpubError).message).toBe("the paths of the archive's entries imply more than 100 folders");
      expect(await readTree(parent)).toEqual(before);
    });
  });
});

describe('build', () => {
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
});

describe('extract', () => {
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
});

describe('gzip', () => {
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
});

describe('walk', () => {
  const temp = stage();

  /** A new folder named pack holding `files`. */
  async function packFolder(files: TreeSpec): Promise<string> {
    const dir = join(await temp.tempDir(), 'pack');
    await writeFiles(dir, files);
    return dir;
  }

  /** A new pack: SMALL_PACK and `extra`. */
  const newPack = (extra: TreeSpec = {}) => packFolder({ ...SMALL_PACK, ...extra });

  async function paths(dir: string, options?: WalkOptions): Promise<string[]> {
    return (await listPackEntries(dir, options)).map((e) => e.archivePath);
  }

  async function refusal(promise: Promise<unknown>): Promise<PackpubError> {
    try {
      await promise;
    } catch (err) {
      expect(err).toBeInstanceOf(PackpubError);
      return err as PackpubError;
    }
    throw new Error('expected the walk to be refused');
  }

  describe('listPackEntries: what is left out', () => {
    /** A pack of SMALL_PACK and `files`: every path in `kept` is listed, and nothing listed starts with a path in `leftOut`. */
    it.each<{ name: string; files: TreeSpec; kept: string[]; leftOut: string[] }>([
      {
        name: 'leaves out .git, .DS_Store and ._* at any depth',
        files: {
          '.git/config': '[core]\n',
          '.git/objects/ab/cdef': 'x',
          '.DS_Store': 'mac',
          'manifests/.DS_Store': 'mac',
          '._pack.json': 'resource fork',
          'manifests/._hello.yaml': 'resource fork',
          'sub/.git': 'gitdir: ../.git/modules/sub\n',
          'sub/keep.yaml': 'k: v\n',
        },
        kept: ['pack/sub/keep.yaml', 'pack/manifests/hello.yaml'],
        leftOut: ['pack/.git', 'pack/.DS_Store', 'pack/manifests/.DS_Store', 'pack/._pack.json', 'pack/manifests/._hello.yaml', 'pack/sub/.git'],
      },
      {
        name: 'applies .packignore (gitignore syntax, negation, folder patterns) and leaves the file itself out',
        files: {
          '.packignore': '# build output\n*.tmp\n/notes.md\nbuild/\n!keep.tmp\ncharts/**/test/\n',
          'a.tmp': 'x',
          'manifests/b.tmp': 'x',
          'keep.tmp': 'kept',
          'notes.md': 'root notes',
          'manifests/notes.md': 'nested notes stay (pattern anchored at the root)',
          'build/out.bin': 'x',
          'charts/app/test/t.yaml': 'x',
          'charts/app/Chart.yaml': 'name: app\n',
        },
        kept: ['pack/keep.tmp', 'pack/manifests/notes.md', 'pack/charts/app/Chart.yaml'],
        leftOut: ['pack/.packignore', 'pack/a.tmp', 'pack/manifests/b.tmp', 'pack/notes.md', 'pack/build', 'pack/charts/app/test/'],
      },
      { name: 'matches .packignore patterns case-sensitively on every platform', files: { '.packignore': 'readme.md\n' }, kept: ['pack/README.md'], leftOut: [] },
    ])('$name', async ({ files, kept, leftOut }) => {
      const listed = await paths(await newPack(files));
      expect(kept.filter((p) => !listed.includes(p))).toEqual([]);
      expect(listed.filter((p) => leftOut.some((gone) => p.startsWith(gone)))).toEqual([]);
    });
  });

  describe('listPackEntries: order and modes', () => {
    it('sorts bytewise by archive path with folder entries before their contents', async () => {
      const dir = await packFolder({ 'a/b': '1', 'a-b': '2', 'a.b': '3', B: '4', 'é': '5', 'z/𝒳': '6', 'z/\uffff': '7' });
      expect(await paths(dir)).toEqual(['pack/', 'pack/B', 'pack/a-b', 'pack/a.b', 'pack/a/', 'pack/a/b', 'pack/z/', 'pack/z/\uffff', 'pack/z/𝒳', 'pack/é']
        // Sorted as UTF-8 bytes: U+FFFF (ef bf bf) before U+1D4B3 (f0 9d 92 b3), "é" (c3 a9) after "z".
        .sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
      const entries = await paths(dir);
      expect(entries.indexOf('pack/z/\uffff')).toBeLessThan(entries.indexOf('pack/z/𝒳'));
      expect(entries.at(-1)).toBe('pack/é');
    });

    it('normalises modes: folders 0755, executables 0755, other files 0644', async () => {
      const dir = await newPack({
        'private.yaml': { content: 'x', mode: 0o600 },
        'group-exec.sh': { content: 'x', mode: 0o710 },
        'setuid.sh': { content: 'x', mode: 0o4755 },
      });
      const byPath = new Map((await listPackEntries(dir)).map((e) => [e.relativePath, e.mode]));
      expect(byPath.get('')).toBe(0o755);
      expect(byPath.get('manifests')).toBe(0o755);
      expect(byPath.get('private.yaml')).toBe(0o644);
      expect(byPath.get('group-exec.sh')).toBe(0o755);
      expect(byPath.get('setuid.sh')).toBe(0o755);
      expect(byPath.get('scripts/run.sh')).toBe(0o755);
    });
  });

  describe('listPackEntries: symlinks', () => {
    it('stores a symlink to a file inside the pack as that regular file', async () => {
      const dir = await newPack();
      await symlink('manifests/hello.yaml', join(dir, 'link.yaml'));
      const built = await buildArchive(dir, join(await temp.tempDir(), 'x.tar.gz'), { name: 'x', version: '1' });
      const link = (await listWithNode(built.path)).find((h) => h.name === 'x-1/link.yaml');
      expect(link?.type).toBe('file');
      expect(link?.size).toBe(Buffer.byteLength(SMALL_PACK['manifests/hello.yaml'] as string));
    });

    it('stores a symlink to a folder inside the pack as a folder with its files', async () => {
      const dir = await newPack();
      await symlink('manifests', join(dir, 'alias'));
      const listed = await paths(dir);
      expect(listed).toContain('pack/alias/');
      expect(listed).toContain('pack/alias/nested/deep.yaml');
    });

    it('refuses a symlink leaving the pack, naming it', async () => {
      const outside = await temp.tempDir();
      await writeFile(join(outside, 'secret.txt'), 'secret');
      const dir = await newPack();
      await symlink(join(outside, 'secret.txt'), join(dir, 'manifests', 'leak.yaml'));
      const err = await refusal(listPackEntries(dir));
      expect(err.code).toBe('PACK_FILE');
      expect(err.message).toContain('manifests/leak.yaml');
      expect(err.message).toContain('outside the pack');
      expect(err.hint).toBeTruthy();
    });

    it('lets .packignore exclude an escaping symlink', async () => {
      const dir = await newPack({ '.packignore': 'leak\n' });
      await symlink('/etc/hostname', join(dir, 'leak'));
      expect(await paths(dir)).not.toContain('pack/leak');
    });

    it.each<{ name: string; links: Array<[target: string, at: string]>; message: string | RegExp }>([
      { name: 'a relative symlink climbing out of the pack', links: [['../../..', 'manifests/up']], message: 'manifests/up' },
      { name: 'a dangling symlink', links: [['missing.yaml', 'dangling.yaml']], message: /dangling\.yaml is a dangling symlink/ },
      { name: 'a symlink loop between two links', links: [['b', 'a'], ['a', 'b']], message: /^a is a symlink loop/ },
      { name: 'a symlink to a folder that contains it', links: [['..', 'manifests/parent']], message: 'manifests/parent is a symlink loop' },
    ])('refuses $name', async ({ links, message }) => {
      const dir = await newPack();
      for (const [target, at] of links) await symlink(target, join(dir, at));
      const err = await refusal(listPackEntries(dir));
      expect(err.code).toBe('PACK_FILE');
      expect(err.message).toMatch(message);
    });
  });

  describe('listPackEntries: hostile packs', () => {
    it('refuses a fifo, naming it', async () => {
      const dir = await newPack();
      await makeFifo(join(dir, 'manifests', 'pipe'));
      const err = await refusal(listPackEntries(dir));
      expect(err.code).toBe('PACK_FILE');
      expect(err.message).toBe('manifests/pipe is a named pipe (fifo), which cannot be stored in a pack');
    });

    it('skips a fifo listed in .packignore', async () => {
      const dir = await newPack({ '.packignore': '*.pipe\n' });
      await makeFifo(join(dir, 'manifests', 'x.pipe'));
      expect(await paths(dir)).not.toContain('pack/manifests/x.pipe');
    });

    it('refuses a socket', async () => {
      const dir = await newPack();
      const net = await import('node:net');
      const server = net.createServer();
      await new Promise<void>((r) => server.listen(join(dir, 'sock'), r));
      try {
        const err = await refusal(listPackEntries(dir));
        expect(err.message).toContain('sock is a socket');
      } finally {
        await new Promise((r) => server.close(r));
      }
    });

    it('refuses a file name that is not valid UTF-8, showing its bytes', async () => {
      const dir = await newPack();
      const bad = Buffer.concat([Buffer.from(join(dir, 'manifests', 'bad-')), Buffer.from([0xff, 0xfe]), Buffer.from('.yaml')]);
      await writeFile(bad, 'x');
      const err = await refusal(listPackEntries(dir));
      expect(err.code).toBe('PACK_FILE');
      expect(err.message).toBe('manifests/bad-\\xff\\xfe.yaml: the file name is not valid UTF-8');
    });

    it('refuses a file name with a backslash, which packpub pull (and Windows tools) would refuse or split', async () => {
      const dir = await newPack();
      await writeFile(join(dir, 'manifests', 'a\\b.yaml'), 'x');
      const err = await refusal(listPackEntries(dir));
      expect(err.code).toBe('PACK_FILE');
      expect(err.message).toBe('manifests/a\\b.yaml: the file name contains a backslash, which Windows tools and packpub pull read as a folder separator');
      expect(err.hint).toBe('rename it, or list it in .packignore');
    });

    it('refuses folders nested deeper than the limit', async () => {
      const dir = await newPack();
      await mkdir(join(dir, ...Array.from({ length: 6 }, (_, i) => `d${i}`)), { recursive: true });
      await expect(paths(dir, { maxDepth: 6 })).resolves.toContain('pack/d0/d1/d2/d3/d4/d5/');
      const err = await refusal(listPackEntries(dir, { maxDepth: 5 }));
      expect(err.message).toBe('d0/d1/d2/d3/d4/d5 is nested deeper than 5 folders');
    });

    it('refuses the default nesting limit (64) with the default options', async () => {
      const dir = await newPack();
      await mkdir(join(dir, ...Array.from({ length: 70 }, () => 'n')), { recursive: true });
      const err = await refusal(listPackEntries(dir));
      expect(err.message).toMatch(/nested deeper than 64 folders$/);
    });

    it('refuses paths longer than the limit', async () => {
      const dir = await newPack({ [`${'x'.repeat(200)}/${'y'.repeat(200)}`]: 'z' });
      await expect(paths(dir)).resolves.toHaveLength(13);
      const err = await refusal(listPackEntries(dir, { maxPathBytes: 300 }));
      expect(err.message).toMatch(/the path is longer than 300 bytes$/);
    });

    it('refuses an enormous file before reading it (sparse 5 GiB file against the 4 GiB default)', async () => {
      const dir = await newPack();
      await writeFile(join(dir, 'huge.bin'), '');
      await truncate(join(dir, 'huge.bin'), 5 * 1024 ** 3);
      const err = await refusal(listPackEntries(dir));
      expect(err.code).toBe('PACK_FILE');
      expect(err.message).toBe(`huge.bin is ${5 * 1024 ** 3} bytes, over the ${4 * 1024 ** 3}-byte limit for one file`);
    });

    it('refuses too many entries', async () => {
      const dir = await newPack();
      const err = await refusal(listPackEntries(dir, { maxEntries: 5 }));
      expect(err.message).toMatch(/more than 5 files and folders/);
    });

    it('refuses a missing pack folder with NOT_FOUND', async () => {
      const err = await refusal(listPackEntries(join(await temp.tempDir(), 'nope')));
      expect(err.code).toBe('NOT_FOUND');
    });
  });
});

describe('stat-tree', () => {
  const temp = stage();

  /** `check` with the stat tree check reading lstatSync's Stats, not Node's fs binding. */
  function withLstatSync<T>(check: () => T): T {
    useRawLstat(false);
    try {
      return check();
    } finally {
      useRawLstat(undefined);
    }
  }

  /** A pack with a symlink and a .packignore, built once: its stat tree and content key. */
  function built(): Promise<{ dir: string; tree: StatTree; key: string }> {
    const files = { ...SMALL_PACK, '.packignore': 'ignored/\n', 'ignored/big.bin': 'not archived\n', 'docs/a.md': 'A\n', 'docs/b.md': 'B\n' };
    return builtWithStatTree(temp, files, (dir) => symlink('docs/a.md', join(dir, 'NOTES.md')));
  }

  describe('statTreeOf / statTreeHolds (the git-index check of an unchanged pack)', () => {
    it('holds for an untouched pack, whose archive is then the same', async () => {
      const { dir, tree, key } = await built();
      expect(tree.paths).toContain('');
      expect(tree.paths).toContain('manifests/nested/deep.yaml');
      expect(tree.paths).not.toContain('ignored/big.bin');
      expect(statTreeHolds(tree)).toBe(true);
      expect(await packContentKey(dir)).toBe(key);
    });

    const changes: Array<[string, (dir: string) => Promise<void>]> = [
      ['a file rewritten with the same size', (dir) => writeFile(join(dir, 'values.yaml'), 'pack:\n  namespace: hellO\n')],
      ['a file added in a nested folder', (dir) => writeFile(join(dir, 'manifests/nested/new.yaml'), 'kind: Secret\n')],
      ['a file deleted', (dir) => rm(join(dir, 'README.md'))],
      ['a folder renamed', (dir) => rename(join(dir, 'manifests/nested'), join(dir, 'manifests/other'))],
      ['an execute bit set', (dir) => chmod(join(dir, 'values.yaml'), 0o755)],
      ['.packignore edited', (dir) => writeFile(join(dir, '.packignore'), 'ignorex/\n')],
      ['.packignore removed', (dir) => rm(join(dir, '.packignore'))],
      ['a symlink pointed elsewhere', async (dir) => {
        await rm(join(dir, 'NOTES.md'));
        await symlink('docs/b.md', join(dir, 'NOTES.md'));
      }],
      ['the file a symlink points to rewritten', (dir) => writeFile(join(dir, 'docs/a.md'), 'Z\n')],
      ['an empty folder added', (dir) => mkdir(join(dir, 'charts'))],
    ];
    for (const [what, change] of changes) {
      it(`no longer holds after ${what}`, async () => {
        const { dir, tree } = await built();
        await change(dir);
        expect(statTreeHolds(tree)).toBe(false);
        // The same answer from lstatSync's Stats as from the binding's numbers (the check's fast path).
        expect(withLstatSync(() => statTreeHolds(tree))).toBe(false);
      });
    }

    it('holds through either way of reading the signatures (Node\'s fs binding, or lstatSync when that is not usable)', async () => {
      const { tree } = await built();
      expect(statTreeHolds(tree)).toBe(true);
      expect(withLstatSync(() => statTreeHolds(tree))).toBe(true);
    });

    it('is not recorded for a pack changed within the racy margin of its build: its files are read next run', async () => {
      // Just written: a second change in the same timestamp tick could keep size and times, so nothing recent
      // may vouch for its content (git's "racily clean" entries).
      const dir = join(await temp.tempDir(), 'fresh-pack');
      await writeFiles(dir, SMALL_PACK);
      const remembered: string[] = [];
      const fileHashes = { get: () => undefined, set: (source: string) => void remembered.push(source) };
      const archive = await buildArchive(dir, join(await temp.tempDir(), 'out.tar.gz'), { name: 'hello', version: '1.0.0', fileHashes });
      expect(archive.tree).toBeUndefined();
      expect(remembered).toEqual([]);
      expect(archive.contentKey).toBe(await packContentKey(dir));
      // The same pack with only older changes counted has its stat tree.
      const trusted = await buildArchive(dir, join(await temp.tempDir(), 'out.tar.gz'), { name: 'hello', version: '1.0.0', fileHashes, walk: TRUST_RECENT });
      expect(trusted.tree).toBeDefined();
      expect(remembered.length).toBeGreaterThan(0);
    });

    it('does not hold once the folder is gone', async () => {
      const { dir, tree } = await built();
      await rm(dir, { recursive: true });
      expect(statTreeHolds(tree)).toBe(false);
    });

    it('ignores changes to what the archive leaves out, except through their folder', async () => {
      const { dir, tree } = await built();
      await writeFile(join(dir, 'ignored/big.bin'), 'still not archived, other size\n');
      expect(statTreeHolds(tree)).toBe(true);
    });
  });

  describe("when the stat tree check may call Node's fs binding itself (rawLstatCallable)", () => {
    it("only where lstatSync passes throwIfNoEntry to the binding, and never under the permission model", () => {
      // This Node's lstatSync (the suite runs on 20.18.1 or later, whose binding throws on a missing path).
      expect(rawLstatCallable(lstatSync.toString(), false)).toBe(true);
      // The permission model's read check is made in JavaScript by lstatSync: the binding would skip it.
      expect(rawLstatCallable(lstatSync.toString(), true)).toBe(false);
      // An older Node 20's lstatSync hands the binding an object to write the error into; given `true` there, a
      // missing path could crash the process instead of throwing.
      const older = `function lstatSync(path, options = { bigint: false, throwIfNoEntry: true }) {
  path = getValidatedPath(path);
  const ctx = { path };
  const stats = binding.lstat(pathModule.toNamespacedPath(path),
                              options.bigint, undefined, ctx);
  if (options.throwIfNoEntry === false && hasNoEntryError(ctx)) {
    return undefined;
  }
  handleErrorFromBinding(ctx);
  return getStatsFromBinding(stats);
}`;
      expect(rawLstatCallable(older, false)).toBe(false);
    });
  });
});
