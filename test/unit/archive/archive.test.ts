import { readdir, rename, stat, utimes, writeFile, mkdir, realpath, symlink, chmod, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import net from 'node:net';
import { existsSync, lstatSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { extractArchive, packContentKey, statTreeHolds, type StatTree, listPackEntries, PackFileRefusal, checkPackWalk, type WalkOptions, buildArchive, cachedPackContentKey, type FileHashCache } from '../../../src/archive/index.js';
import { sha256Digest } from '../../../src/oci/digest.js';
import { craftTar, writeFiles, makeFifo, readTree } from '../../support/files.js';
import { stage } from '../../support/stage.js';
import { builtWithStatTree, SMALL_PACK, TRUST_RECENT } from './fixtures.js';
import { COARSE_RACY_MARGIN_MS, RACY_MARGIN_MS, settledBefore } from '../../../src/archive/walk.js';
import { useRawLstat, changedSince, folderCheck } from '../../../src/archive/stat-tree.js';
import { failure } from '../../support/errors.js';
import { EntryKinds } from '../../../src/archive/extract.js';
import { PackpubError } from '../../../src/errors.js';

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
