import { join, relative, dirname } from 'node:path';
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile, readdir, unlink, chmod, readFile, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { defaultCacheDir, ArchiveCache, decodePaths, encodePaths, indexDocument, indexDocumentText, type CachedVerdict, type FolderCheckAhead, type IndexDocument } from '../../../src/operations/archive-cache.js';
import { sortVersions } from '../../../src/operations/list.js';
import { openTarget, pushPacks, copyPacks, PaletteClient, syncPaletteRegistry } from '../../../src/index.js';
import { tempDir, writeFiles } from '../../support/files.js';
import { writePack, writeValidPack } from '../../support/packs.js';
import { discoverPacks } from '../../../src/operations/discover.js';
import { startPaletteStandin } from '../../support/palette-standin.js';
import { setup, stage } from '../../support/stage.js';
import { listPackEntries } from '../../../src/archive/walk.js';
import { validateForBuild, validatePackFolder } from '../../../src/operations/validate-folder.js';
import { MIN_WORK_FOR_WORKERS, packWork, validateMany, worthWorkers } from '../../../src/operations/validate-pool.js';
import { validatePack } from '../../../src/pack/validate.js';
import { LOOKUP_SLOW_MS, LOOKUPS_AT_FIRST, LOOKUPS_AT_MOST, LookupPace } from '../../../src/operations/lookup-pace.js';
import { deferred, type Deferred } from '../../../src/util/concurrency.js';
import { buildArchive } from '../../../src/archive/index.js';
import { sha256Digest } from '../../../src/oci/digest.js';
import { checkAhead, namedFolders, PortChecksAhead } from '../../../src/operations/precheck.js';
import { SMALL_PACK, TRUST_RECENT } from '../archive/fixtures.js';
import { deadPid } from '../../support/spawner.js';
import { binaryUnit } from '../../support/fuzz-text.js';
// @ts-expect-error bin/ is plain JavaScript without declarations
import { cacheDir } from '../../../bin/code-cache.cjs';

/*
 * The tests of src/operations/'s modules, a describe per module (each was a test file of its own): each test file
 * costs vitest ~15-30 ms of CPU whatever its size (requests between worker and main process, test/per-file-
 * setup.ts).
 */

describe('cache-dir', () => {
  describe("the code cache's folder is the archive cache's (bin/code-cache.cjs cannot import src/)", () => {
    const envs: Array<Record<string, string>> = [
      { PACKPUB_CACHE_DIR: '/c/packpub', XDG_CACHE_HOME: '/x', HOME: '/h' },
      { PACKPUB_CACHE_DIR: '', XDG_CACHE_HOME: '/x', HOME: '/h' },
      { XDG_CACHE_HOME: '', HOME: '/h' },
      // Relative: ignored, as the XDG Base Directory spec says (was: the folder xdg/packpub of the working folder).
      { XDG_CACHE_HOME: 'xdg', HOME: '/h' },
      { XDG_CACHE_HOME: './xdg', HOME: '/h' },
      { HOME: '/h' },
      {},
    ];
    for (const env of envs) {
      it(`the same folder for ${JSON.stringify(env)}`, () => {
        expect((cacheDir as (env: Record<string, string>) => string)(env)).toBe(defaultCacheDir(env));
        if (env['XDG_CACHE_HOME']?.includes('xdg') === true) expect(defaultCacheDir(env)).toBe(join('/h', '.cache', 'packpub'));
      });
    }
  });
});

describe('sort-versions', () => {
  describe('sortVersions (list, copy --all, palette sync order)', () => {
    it('semver first (leading v allowed, prereleases before their release, equal versions by text), then the rest by text', () => {
      const versions = ['stable', '1.10.0', 'v1.2.0', '1.2.0', '1.2.0-rc.1', '1.2.x', '0.30.0-5.5.2026', '1.5', '2.0.1-up.1', '1.9.0', 'latest', 'v1.12.0'];
      expect(sortVersions(versions)).toEqual(['0.30.0-5.5.2026', '1.2.0-rc.1', '1.2.0', 'v1.2.0', '1.9.0', '1.10.0', 'v1.12.0', '2.0.1-up.1', '1.2.x', '1.5', 'latest', 'stable']);
    });

    it('orders 20,000 versions as one comparison per pair would (each parsed once)', () => {
      const versions = Array.from({ length: 20_000 }, (_, i) => `${i % 7}.${(i * 13) % 101}.${i % 977}${i % 5 === 0 ? `-rc.${i % 3}` : ''}`);
      const sorted = sortVersions([...versions].reverse());
      expect(sorted).toHaveLength(20_000);
      // Each neighbouring pair checked, the pairs out of order collected for one expect() (one per pair cost
      // more than the sort).
      const misordered: string[] = [];
      for (let i = 1; i < sorted.length; i++) {
        const [a, b] = [sorted[i - 1] as string, sorted[i] as string];
        if (a !== b && sortVersions([b, a])[0] !== a) misordered.push(`${a} before ${b}`);
      }
      expect(misordered).toEqual([]);
    });
  });
});

describe('push-validation-errors', () => {
  describe('push when validation itself fails', () => {
    it('ends with the error, not waiting forever, when more folders fail than packs run at once', async () => {
      const { dir, cleanup } = await tempDir();
      try {
        await writePack(join(dir, 'good'), { name: 'still-good', version: '1.0.0' });
        // Not folders at all: validatePack throws (a usage error), which is not a failing report.
        const missing = Array.from({ length: 6 }, (_, i) => join(dir, `missing-${i}`));
        const target = await openTarget({ ociLayout: join(dir, 'store') });
        try {
          const run = pushPacks(target, { packs: [...missing, join(dir, 'good')], concurrency: 2 });
          await expect(run).rejects.toMatchObject({ code: 'USAGE' });
          const { listPacks } = await import('../../../src/index.js');
          expect(await listPacks(target)).toEqual([]);
        } finally {
          await target.store.close();
        }
      } finally {
        await cleanup();
      }
    });
  });
});

describe('discover-real', () => {
  // A folder found below a root is the root's real path and its path below it (one realpath per root): the same
  // pack named through a linked root, through its own link, or as found below the root, is one pack.
  let root: string;
  beforeAll(async () => {
    root = await realpath(await mkdtemp(join(tmpdir(), 'packpub-discover-real-')));
    for (const name of ['a', 'b/c']) {
      await mkdir(join(root, 'tree', name), { recursive: true });
      await writeFile(join(root, 'tree', name, 'pack.json'), '{}');
    }
    await symlink(join(root, 'tree'), join(root, 'linked-tree'));
    await symlink(join(root, 'tree', 'b', 'c'), join(root, 'tree', 'link-to-c'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('finds each pack once, however it is named', async () => {
    const packs = await discoverPacks(['tree', 'linked-tree', join('linked-tree', 'b', 'c'), join('tree', 'link-to-c')], { recursive: true, cwd: root });
    expect(packs).toEqual([join(root, 'tree', 'a'), join(root, 'tree', 'b', 'c')]);
  });

  it('keeps the first name a pack was found under', async () => {
    const packs = await discoverPacks(['linked-tree', 'tree'], { recursive: true, cwd: root });
    expect(packs).toEqual([join(root, 'linked-tree', 'a'), join(root, 'linked-tree', 'b', 'c')]);
  });
});

describe('discover-order', () => {
  // discoverPacks sorts by each folder's path relative to cwd, computing the key once per folder (and
  // without path.relative for a folder below cwd): the order must be what comparing relative() gives.
  describe('discoverPacks order', () => {
    let root: string;
    const names = ['b', 'a-1', 'a', 'A', 'a.b', 'a/z', 'c/d/e', 'a_b', 'z9', 'z10'];
    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), 'packpub-discover-'));
      for (const name of names) {
        const dir = join(root, 'tree', name.replace('/', '-in-'), ...(name.includes('/') ? [name.split('/')[1] as string] : []));
        await mkdir(dir, { recursive: true });
        await writeFile(join(dir, 'pack.json'), '{}');
      }
      await mkdir(join(root, 'elsewhere'), { recursive: true });
    });
    afterAll(async () => {
      await rm(root, { recursive: true, force: true });
    });

    const byRelative = (cwd: string, dirs: string[]) => [...dirs].sort((a, b) => (relative(cwd, a) < relative(cwd, b) ? -1 : 1));

    it.each([
      ['the tree root', () => join(root, 'tree')],
      ['a folder above it', () => root],
      ['a sibling folder (paths with ..)', () => join(root, 'elsewhere')],
      ['the same folder with a trailing slash', () => `${join(root, 'tree')}/`],
      ['the file system root', () => '/'],
    ])('is the relative() order from %s', async (_what, cwdOf) => {
      const cwd = cwdOf();
      const packs = await discoverPacks([join(root, 'tree')], { recursive: true, cwd });
      expect(packs).toHaveLength(names.length);
      expect(packs).toEqual(byRelative(cwd, packs));
    });

    it('keeps a shard the same slice of that order', async () => {
      const cwd = join(root, 'elsewhere');
      const all = await discoverPacks([join(root, 'tree')], { recursive: true, cwd });
      const second = await discoverPacks([join(root, 'tree')], { recursive: true, cwd, shard: '2/3' });
      expect(second).toEqual(all.filter((_, i) => i % 3 === 1));
    });
  });
});

describe('library-options', () => {
  /*
   * A library caller's numeric options are refused before any work, as the CLI refuses its flags out of range: NaN as
   * `concurrency` hung pushPacks for good and crashed copyPacks with a TypeError (no code to branch on), and a Palette
   * sync polled with no pause when given 0.
   */
  const w = setup(async (stack) => {
    const dir = await stack.tempDir();
    const pack = await writePack(join(dir, 'pack'), { name: 'opt-a', version: '1.0.0' });
    const source = await openTarget({ ociLayout: join(dir, 'source') });
    stack.add(source.store);
    expect((await pushPacks(source, { packs: [pack] })).summary.published).toBe(1);
    const palette = stack.add(await startPaletteStandin({ keys: { k: { role: 'tenant-admin' } } }));
    return { dir, pack, source, palette };
  });

  const entries = (dir: string) => readdir(dir).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? [] : Promise.reject(err)));

  describe('library options out of range', () => {
    it.each([[Number.NaN], [0], [-1], [1.5]])('pushPacks and copyPacks refuse concurrency %s, writing nothing', async (concurrency) => {
      const out = join(w.dir, `out-${String(concurrency)}`);
      const target = await openTarget({ ociLayout: out });
      try {
        await expect(pushPacks(target, { packs: [w.pack], concurrency })).rejects.toMatchObject({
          code: 'USAGE',
          message: `pushPacks: concurrency must be a whole number of 1 or more, not ${String(concurrency)}`,
        });
        await expect(copyPacks(w.source, target, { all: true, concurrency })).rejects.toMatchObject({
          code: 'USAGE',
          message: `copyPacks: concurrency must be a whole number of 1 or more, not ${String(concurrency)}`,
        });
        expect(await entries(out)).toEqual([]);
      } finally {
        await target.store.close();
      }
    });

    it.each([[''], ['  ']])('openTarget refuses ociLayout %j (was: the working directory, where a push wrote blobs/ and index.json)', async (ociLayout) => {
      await expect(openTarget({ ociLayout })).rejects.toMatchObject({ code: 'USAGE', message: 'openTarget: ociLayout is empty', hint: 'give the layout folder, or leave ociLayout out for ./oci-packs' });
    });

    it.each([
      ['pollIntervalMs', 0],
      ['pollIntervalMs', Number.NaN],
      ['timeoutMs', -1],
      ['timeoutMs', 2 ** 31],
    ])('syncPaletteRegistry refuses %s %s before calling Palette', async (name, ms) => {
      const before = w.palette.requests.length;
      const client = new PaletteClient({ endpoint: w.palette.url, apiKey: 'k' });
      await expect(syncPaletteRegistry(client, { host: 'registry.example.com', basePath: 'packs' }, { packs: [], [name]: ms })).rejects.toMatchObject({
        code: 'USAGE',
        message: `Palette sync: ${name} must be a number of milliseconds above 0 and at most 2147483647, not ${String(ms)}`,
      });
      expect(w.palette.requests.length).toBe(before);
    });
  });
});

describe('validate-folder', () => {
  const temp = stage();

  describe('validatePackFolder: the pack checks plus the archive walk\'s rules', () => {
    it('passes a valid pack as validatePack does', async () => {
      const report = await validatePackFolder(await writeValidPack(join(await temp.tempDir(), 'web')));
      expect(report).toMatchObject({ errors: 0, passed: true, pack: { name: 'web', version: '1.0.0' } });
    });

    it('adds the walk\'s refusal of a file no check reads as one error, failing the pack', async () => {
      const pack = await writeValidPack(join(await temp.tempDir(), 'web'));
      await symlink('/dev/null', join(pack, 'docs-null'));
      const report = await validatePackFolder(pack);
      expect(report.passed).toBe(false);
      expect(report.errors).toBe(1);
      expect(report.findings).toEqual([
        {
          severity: 'error',
          rule: 'file-not-archivable',
          file: 'docs-null',
          message: 'docs-null is a symlink to /dev/null, outside the pack folder, so push refuses the pack; copy the file into the pack instead of linking to it, or list the symlink in .packignore',
        },
      ]);
    });

    it('reports a file the pack checks already refused once, not twice (values.yaml a link outside the pack)', async () => {
      const pack = await writeValidPack(join(await temp.tempDir(), 'web'));
      await unlink(join(pack, 'values.yaml'));
      await symlink('/dev/null', join(pack, 'values.yaml'));
      const report = await validatePackFolder(pack);
      expect(report.findings.filter((f) => f.file === 'values.yaml' && f.severity === 'error')).toHaveLength(1);
      expect(report.findings.map((f) => f.rule)).not.toContain('file-not-archivable');
      expect(report.passed).toBe(false);
    });
  });

  describe('validateForBuild: the same report, and the archive entries of a pack that passes', () => {
    it('lists a passing pack as a build would walk it (top folder <name>-<version>)', async () => {
      const pack = await writeValidPack(join(await temp.tempDir(), 'folder-name'));
      const { report, entries } = await validateForBuild(pack, {}, true);
      expect(report).toEqual(await validatePackFolder(pack));
      const walked = await listPackEntries(pack, { topFolder: 'web-1.0.0' });
      expect(entries?.map((e) => [e.archivePath, e.source, e.size, e.mode])).toEqual(walked.map((e) => [e.archivePath, e.source, e.size, e.mode]));
      expect(entries?.[0]?.archivePath).toBe('web-1.0.0/');
      // Without `list`, only the check.
      expect(await validateForBuild(pack, {}, false)).toEqual({ report });
    });

    it('lists nothing for a pack the walk refuses or the checks fail, with validatePackFolder\'s report', async () => {
      const refused = await writeValidPack(join(await temp.tempDir(), 'web'));
      await symlink('/dev/null', join(refused, 'docs-null'));
      const a = await validateForBuild(refused, {}, true);
      expect(a).toEqual({ report: await validatePackFolder(refused) });
      expect(a.report.findings.map((f) => f.rule)).toEqual(['file-not-archivable']);

      const failing = await writeValidPack(join(await temp.tempDir(), 'web'));
      await unlink(join(failing, 'values.yaml'));
      await symlink('/dev/null', join(failing, 'values.yaml'));
      expect(await validateForBuild(failing, {}, true)).toEqual({ report: await validatePackFolder(failing) });
    });
  });
});

describe('validate-many', () => {
  /*
   * validateMany (the validate command's list): under the test runner there is no built worker file, so
   * every pack is validated on this thread; test/e2e/validate-pool.test.ts runs the built CLI with workers.
   */
  describe('validateMany', () => {
    it('answers with the reports in the order of the list, the same as validatePack one by one', async () => {
      const { dir, cleanup } = await tempDir();
      try {
        const dirs = [];
        for (let i = 0; i < 9; i++) dirs.push(await writePack(join(dir, `p${i}`), { name: `many-${i}`, version: `1.0.${i}` }));
        dirs.splice(4, 0, await writePack(join(dir, 'bad'), { name: 'many-bad', version: '1.0.0', packJson: { layer: 'nope' } }));
        const reports = await validateMany(dirs, { strict: true });
        const expected = [];
        for (const d of dirs) expected.push(await validatePack(d, { strict: true }));
        expect(reports).toEqual(expected);
        expect(reports.map((r) => r.passed)).toEqual(dirs.map((d) => !d.endsWith('bad')));
        expect(reports.map((r) => r.pack?.name)).toEqual(['many-0', 'many-1', 'many-2', 'many-3', 'many-bad', 'many-4', 'many-5', 'many-6', 'many-7', 'many-8']);
      } finally {
        await cleanup();
      }
    });

    it('throws the error of the first folder (by position) that is not a pack folder, after the others are done', async () => {
      const { dir, cleanup } = await tempDir();
      try {
        const good = await writePack(join(dir, 'good'), { name: 'many-good', version: '1.0.0' });
        const dirs = [good, join(dir, 'gone-1'), good, join(dir, 'gone-2'), good, good, good, good];
        await expect(validateMany(dirs, {}, 2)).rejects.toMatchObject({ code: 'USAGE', message: `pack folder "${join(dir, 'gone-1')}" does not exist` });
      } finally {
        await cleanup();
      }
    });
  });

  describe('the work that decides whether validation starts workers', () => {
    it('counts the files of a pack folder and of its charts/ and manifests/ folders, one level deep, plus a fixed part per pack', async () => {
      const { dir, cleanup } = await tempDir();
      try {
        const empty = join(dir, 'empty');
        await mkdir(empty);
        const base = packWork(empty);
        expect(base).toBeGreaterThan(0);
        const pack = join(dir, 'pack');
        await mkdir(join(pack, 'charts', 'unpacked', 'templates'), { recursive: true });
        await mkdir(join(pack, 'manifests'), { recursive: true });
        await mkdir(join(pack, 'other'), { recursive: true });
        await writeFile(join(pack, 'values.yaml'), Buffer.alloc(1000));
        await writeFile(join(pack, 'charts', 'c-1.0.0.tgz'), Buffer.alloc(20_000));
        await writeFile(join(pack, 'manifests', 'app.yaml'), Buffer.alloc(300));
        // Not counted: deeper files (an unpacked chart beside its archive) and other folders.
        await writeFile(join(pack, 'charts', 'unpacked', 'templates', 'a.yaml'), Buffer.alloc(50_000));
        await writeFile(join(pack, 'other', 'b.bin'), Buffer.alloc(70_000));
        expect(packWork(pack)).toBe(base + 21_300);
        // A folder that is not there counts the fixed part only: validation reports it.
        expect(packWork(join(dir, 'gone'))).toBe(base);
      } finally {
        await cleanup();
      }
    });

    it('is worth workers from MIN_WORK_FOR_WORKERS on, however few the packs; many small packs are not', async () => {
      const { dir, cleanup } = await tempDir();
      try {
        const small = [];
        for (let i = 0; i < 20; i++) small.push(await writePack(join(dir, `p${i}`), { name: `work-${i}`, version: '1.0.0' }));
        expect(worthWorkers(small)).toBe(false);
        const big = await writePack(join(dir, 'big'), { name: 'work-big', version: '1.0.0' });
        await writeFile(join(big, 'manifests', 'big.yaml'), Buffer.alloc(MIN_WORK_FOR_WORKERS));
        expect(worthWorkers([big])).toBe(true);
        expect(worthWorkers([...small, big])).toBe(true);
      } finally {
        await cleanup();
      }
    });
  });
});

describe('lookup-pace', () => {
  /*
   * Push's early look-ups (push.ts): a few in flight while the registry answers at once, the most once an answer
   * shows it is far (the event loop waited for it longer than LOOKUP_SLOW_MS per look-up in flight on its target
   * when it was sent). The loop's idle time is this test's own clock.
   */

  interface Started {
    answer: Deferred<void>;
    done: Promise<void>;
  }

  /** `count` look-ups through `pace` on one target, each answered when the test resolves its deferred. */
  function lookUps(pace: LookupPace, count: number) {
    const timer = pace.target();
    const sent: Started[] = [];
    let running = 0;
    let most = 0;
    const all = Array.from({ length: count }, () =>
      pace.run(async () => {
        running++;
        most = Math.max(most, running);
        const answered = timer.sent();
        const answer = deferred<void>();
        const done = answer.promise.then(() => {
          answered();
          running--;
        });
        sent.push({ answer, done });
        await done;
      }),
    );
    return { sent, all: Promise.all(all), most: () => most };
  }

  const turns = () => new Promise((resolve) => setImmediate(resolve));

  describe('the pace of push early look-ups', () => {
    it('keeps a few in flight while the answers come without the event loop waiting for them', async () => {
      let idle = 0;
      const pace = new LookupPace(() => idle);
      const run = lookUps(pace, 40);
      for (let answered = 0; answered < 40; answered++) {
        await turns();
        // Each answer finds the loop idle a little: a registry nearby, busy with the ones sent before.
        idle += (LOOKUP_SLOW_MS * 0.9) / 2;
        run.sent[answered]?.answer.resolve();
      }
      await run.all;
      expect(run.most()).toBe(LOOKUPS_AT_FIRST);
      expect(pace.atOnce).toBe(LOOKUPS_AT_FIRST);
    });

    it('sends the most at once, at once, after an answer the loop waited for longer than a far registry takes', async () => {
      let idle = 0;
      const pace = new LookupPace(() => idle);
      const run = lookUps(pace, 40);
      await turns();
      expect(run.sent).toHaveLength(LOOKUPS_AT_FIRST);
      idle += LOOKUP_SLOW_MS + 1; // the first one sent, alone when it went out, answered after more than LOOKUP_SLOW_MS
      run.sent[0]?.answer.resolve();
      await turns();
      expect(pace.atOnce).toBe(LOOKUPS_AT_MOST);
      expect(run.sent).toHaveLength(LOOKUPS_AT_MOST + 1);
      for (const s of run.sent) s.answer.resolve();
      await turns();
      for (const s of run.sent) s.answer.resolve();
      await run.all;
      expect(run.most()).toBe(LOOKUPS_AT_MOST);
    });

    it('does not widen for an answer that waited its turn behind the others sent before it', async () => {
      let idle = 0;
      const pace = new LookupPace(() => idle);
      const run = lookUps(pace, 9);
      await turns();
      // The last of the first eight waited for the seven before it: a little under the limit for each.
      idle += LOOKUPS_AT_FIRST * LOOKUP_SLOW_MS - 1;
      run.sent[LOOKUPS_AT_FIRST - 1]?.answer.resolve();
      await turns();
      expect(pace.atOnce).toBe(LOOKUPS_AT_FIRST);
      expect(run.sent).toHaveLength(LOOKUPS_AT_FIRST + 1);
      for (const s of run.sent) s.answer.resolve();
      await run.all;
    });

    it("leaves an OCI layout's look-ups (file reads) untimed: never widened by them", () => {
      let idle = 0;
      const pace = new LookupPace(() => idle);
      const answered = pace.target(true).sent();
      idle += 1000 * LOOKUP_SLOW_MS;
      answered();
      expect(pace.atOnce).toBe(LOOKUPS_AT_FIRST);
    });

    it('counts each target apart: another target busy does not make this one look far', async () => {
      let idle = 0;
      const pace = new LookupPace(() => idle);
      const other = pace.target();
      const busy = Array.from({ length: 6 }, () => other.sent());
      const run = lookUps(pace, 2);
      await turns();
      // Answered after 2 x LOOKUP_SLOW_MS with one look-up of its own ahead: slow for this target alone.
      idle += 2 * LOOKUP_SLOW_MS + 1;
      run.sent[1]?.answer.resolve();
      await turns();
      expect(pace.atOnce).toBe(LOOKUPS_AT_MOST);
      run.sent[0]?.answer.resolve();
      await run.all;
      for (const done of busy) done();
    });
  });
});

describe('archive-cache', () => {
  const temp = stage();
  const MTIME = new Date('2000-01-01T00:00:00Z');

  async function builtPack(): Promise<{ dir: string; cacheDir: string; key: string; learn: (cache: ArchiveCache) => void }> {
    const root = await temp.tempDir();
    const dir = join(root, 'hello');
    await writeFiles(dir, SMALL_PACK);
    const archive = await buildArchive(dir, join(root, 'out.tar.gz'), { name: 'hello', version: '1.0.0', mtime: MTIME, walk: TRUST_RECENT });
    const learn = (cache: ArchiveCache) => {
      cache.rememberFolder(archive.tree!, MTIME, archive.contentKey);
      cache.set(archive.contentKey, { digest: archive.digest, size: archive.size });
      cache.setVerdict(archive.contentKey, false, { name: 'hello', version: '1.0.0', warnings: 0, findings: [] });
    };
    return { dir, cacheDir: join(root, 'cache'), key: archive.contentKey, learn };
  }

  /** A built pack whose cache index holds what one run learned, saved: the index file and its parsed text, to damage. */
  async function savedIndex(): Promise<{ dir: string; cacheDir: string; key: string; index: string; doc: IndexDocument }> {
    const { dir, cacheDir, key, learn } = await builtPack();
    const cache = new ArchiveCache(cacheDir);
    learn(cache);
    await cache.save();
    const index = join(cacheDir, 'index.json');
    const doc = indexDocument(await readFile(index, 'utf8'));
    if (doc === undefined) throw new Error('the saved index does not read back');
    return { dir, cacheDir, key, index, doc };
  }

  describe('ArchiveCache (one index file per cache folder)', () => {
    it('knows an unchanged folder in the next run: content key, archive and verdict, from stat calls alone', async () => {
      const { dir, cacheDir, key, learn } = await builtPack();
      const first = new ArchiveCache(cacheDir);
      expect(first.folderKey(dir, MTIME)).toBeUndefined();
      learn(first);
      await first.save();

      const next = new ArchiveCache(cacheDir);
      const known = next.folderKey(dir, MTIME);
      expect(known?.key).toBe(key);
      expect(next.get(key)?.size).toBeGreaterThan(0);
      expect(next.getVerdict(key, false)).toMatchObject({ name: 'hello', version: '1.0.0', warnings: 0 });
      expect(next.getVerdict(key, true)).toBeUndefined(); // --strict has verdicts of its own
      // another archive mtime (SOURCE_DATE_EPOCH) is another archive
      expect(next.folderKey(dir, new Date('2001-01-01T00:00:00Z'))).toBeUndefined();
      await writeFile(join(dir, 'README.md'), '# Changed\n');
      expect(new ArchiveCache(cacheDir).folderKey(dir, MTIME)).toBeUndefined();
    });

    it('knows the folder by its real path: through a symlink too, and a file deleted or added inside is a change', async () => {
      const { dir, cacheDir, key, learn } = await builtPack();
      const cache = new ArchiveCache(cacheDir);
      learn(cache);
      const link = join(dirname(dir), 'linked');
      await symlink(dir, link);
      expect(cache.folderKey(link, MTIME)).toEqual({ root: await realpath(dir), key });
      expect(cache.folderKey(join(dirname(dir), 'missing'), MTIME)).toBeUndefined();
      // A folder below a parent that is a link, a path not in normal form, a file: resolved as realpath does.
      const viaParent = join(await temp.tempDir(), 'via');
      await symlink(dirname(dir), viaParent);
      expect(cache.folderKey(join(viaParent, 'hello'), MTIME)).toEqual({ root: await realpath(dir), key });
      expect(cache.folderKey(`${viaParent}/./hello/`, MTIME)).toEqual({ root: await realpath(dir), key });
      expect(cache.folderKey(join(dir, 'README.md'), MTIME)).toBeUndefined();
      await writeFile(join(dir, 'NOTES.md'), 'new\n'); // a new file: the folder's own times change
      expect(cache.folderKey(link, MTIME)).toBeUndefined();
      await rm(join(dir, 'NOTES.md'));
      await rm(join(dir, 'README.md')); // a file the archive held is gone
      expect(cache.folderKey(dir, MTIME)).toBeUndefined();
    });

    it('keeps what two runs learned when both save (each adds to what is on disk)', async () => {
      const a = await builtPack();
      const cacheDir = a.cacheDir;
      const runA = new ArchiveCache(cacheDir);
      const runB = new ArchiveCache(cacheDir);
      expect(runA.folderKey(a.dir, MTIME)).toBeUndefined();
      expect(runB.folderKey(a.dir, MTIME)).toBeUndefined(); // both loaded the empty index
      a.learn(runA);
      const other = sha256Digest('other');
      runB.set('b'.repeat(64), { digest: other, size: 5 });
      await runA.save();
      await runB.save();
      const after = new ArchiveCache(cacheDir);
      expect(after.folderKey(a.dir, MTIME)?.key).toBe(a.key);
      expect(after.get('b'.repeat(64))).toEqual({ digest: other, size: 5 });
    });

    it('keeps what another run saved after this one read an index that was there, and what this one learned; an unchanged index is added to as read', async () => {
      const a = await builtPack();
      const cacheDir = a.cacheDir;
      const first = new ArchiveCache(cacheDir);
      first.set('a'.repeat(64), { digest: sha256Digest('a'), size: 1 });
      await first.save();
      // Both read the index holding 'a'; B saves first (a new file), then A: A's save reads the index again.
      const runA = new ArchiveCache(cacheDir);
      const runB = new ArchiveCache(cacheDir);
      expect(runA.get('a'.repeat(64))).toBeDefined();
      expect(runB.get('a'.repeat(64))).toBeDefined();
      runB.set('b'.repeat(64), { digest: sha256Digest('b'), size: 2 });
      await runB.save();
      a.learn(runA);
      await runA.save();
      const after = new ArchiveCache(cacheDir);
      expect(after.get('a'.repeat(64))).toEqual({ digest: sha256Digest('a'), size: 1 });
      expect(after.get('b'.repeat(64))).toEqual({ digest: sha256Digest('b'), size: 2 });
      expect(after.folderKey(a.dir, MTIME)?.key).toBe(a.key);
      // Nobody saved in between: what the run read, with what it learned.
      after.set('c'.repeat(64), { digest: sha256Digest('c'), size: 3 });
      await after.save();
      const last = new ArchiveCache(cacheDir);
      for (const [k, size] of [['a', 1], ['b', 2], ['c', 3]] as const) expect(last.get(k.repeat(64))).toEqual({ digest: sha256Digest(k), size });
      expect(last.folderKey(a.dir, MTIME)?.key).toBe(a.key);
    });

    it("removes the temp copy of the index a run killed while saving left, once old; a live run's and a fresh one stay", async () => {
      const a = await builtPack();
      await mkdir(a.cacheDir, { recursive: true });
      const gone = await deadPid();
      const names = { dead: `index.json.tmp-${gone}-0123abcd`, fresh: `index.json.tmp-${gone}-4567abcd`, live: `index.json.tmp-${process.ppid}-89abcdef`, other: `notes.tmp-${gone}-0123abcd` };
      for (const name of Object.values(names)) await writeFile(join(a.cacheDir, name), '{"half');
      const old = new Date(Date.now() - 3600_000);
      for (const name of [names.dead, names.live, names.other]) await utimes(join(a.cacheDir, name), old, old);
      const run = new ArchiveCache(a.cacheDir);
      a.learn(run);
      await run.save();
      // Was: every one stayed, one more per run killed while saving.
      expect((await readdir(a.cacheDir)).sort()).toEqual(['index.json', names.fresh, names.live, names.other].sort());
      expect(new ArchiveCache(a.cacheDir).folderKey(a.dir, MTIME)?.key).toBe(a.key);
    });

    it('ignores an index written by another packpub build, and a damaged one', async () => {
      const { dir, cacheDir, index, doc } = await savedIndex();
      await writeFile(index, indexDocumentText({ ...doc, packpub: '0.0.0-other' }));
      expect(new ArchiveCache(cacheDir).folderKey(dir, MTIME)).toBeUndefined();
      await writeFile(index, '{"version": 2, "folders": [');
      expect(new ArchiveCache(cacheDir).folderKey(dir, MTIME)).toBeUndefined();
    });

    it('ignores an index in the one-line layout of version 4 (the previous release), and a save replaces it', async () => {
      const { dir, cacheDir, key, index, doc } = await savedIndex();
      // What version 4 wrote: the same maps, the paths inside the folder records, in one JSON text.
      const v4 = { ...doc, version: 4 };
      await writeFile(index, JSON.stringify(v4));
      const old = new ArchiveCache(cacheDir);
      expect(old.folderKey(dir, MTIME)).toBeUndefined();
      expect(old.get(key)).toBeUndefined();
      old.set('c'.repeat(64), { digest: sha256Digest(Buffer.from('x')), size: 1 });
      await old.save();
      const text = await readFile(index, 'utf8');
      expect(indexDocument(text)?.archives).toEqual({ ['c'.repeat(64)]: { digest: sha256Digest(Buffer.from('x')), size: 1 } });
      expect(text.split('\n')[0]).toContain('"version":5');
    });

    it('parses the folders\' paths only for the folders it checks, and a paths line that is not its record\'s is not used', async () => {
      const { dir, cacheDir, key, index, doc } = await savedIndex();
      const lines = (await readFile(index, 'utf8')).split('\n');
      // The header, four maps, then one JSON string per folder record: the folder records hold no paths.
      expect(lines).toHaveLength(7);
      expect(lines[1]).not.toContain('README.md');
      expect(JSON.parse(lines[5]!)).toBe(Object.values(doc.folders)[0]!.paths);
      // A run that only reads verdicts and archives never reads the paths line: one that is not JSON costs nothing.
      await writeFile(index, [...lines.slice(0, 5), '"not json', ''].join('\n'));
      const reader = new ArchiveCache(cacheDir);
      expect(reader.get(key)?.size).toBeGreaterThan(0);
      expect(reader.remembered(dir, MTIME)?.key).toBe(key);
      expect(reader.folderKey(dir, MTIME)).toBeUndefined(); // the check reads it: damaged, the folder is read again
      // A paths line of another length than its record says (another record's), or missing: not used either.
      for (const other of [JSON.stringify(`${JSON.parse(lines[5]!) as string}\n0:x`), undefined]) {
        await writeFile(index, [...lines.slice(0, 5), ...(other === undefined ? [] : [other]), ''].join('\n'));
        expect(new ArchiveCache(cacheDir).folderKey(dir, MTIME)).toBeUndefined();
        expect(new ArchiveCache(cacheDir).get(key)?.size).toBeGreaterThan(0);
      }
    });

    it('drops damaged entries of a current index: a verdict whose findings are not findings, an archive of negative size', async () => {
      const { dir, cacheDir, key, index, doc } = await savedIndex();
      for (const verdict of Object.values(doc.verdicts)) {
        verdict.findings = [null, 5, { severity: 'warning' }] as unknown as CachedVerdict['findings'];
        verdict.warnings = 3;
      }
      for (const archive of Object.values(doc.archives)) archive.size = -5;
      await writeFile(index, indexDocumentText(doc));
      const damaged = new ArchiveCache(cacheDir);
      expect(damaged.folderKey(dir, MTIME)?.key).toBe(key); // the intact folder record still serves
      expect(damaged.getVerdict(key, false)).toBeUndefined(); // validated again instead of shown as [null, 5, ...]
      expect(damaged.get(key)).toBeUndefined(); // built again
    });

    it('drops a folder record whose paths are damaged: the folder is read again, the rest of the index serves', async () => {
      const { dir, cacheDir, key, index, doc } = await savedIndex();
      const [record] = Object.values(doc.folders);
      expect(decodePaths(record!.paths)).toContain('README.md');
      for (const damaged of [['', 'README.md'], `${record!.paths}\n99:x`, 'x:README.md', '-1:a', '']) {
        record!.paths = damaged as string;
        await writeFile(index, indexDocumentText(doc));
        const next = new ArchiveCache(cacheDir);
        expect(next.folderKey(dir, MTIME)).toBeUndefined();
        expect(next.get(key)?.size).toBeGreaterThan(0);
      }
    });
  });

  describe('ArchiveCache: checks of remembered folders made ahead of the run (operations/precheck.ts)', () => {
    /** A saved cache remembering one built pack; `answers` collects what checkFoldersBelow says about folders below `roots`. */
    const checked = (cacheDir: string, roots: string[]) => {
      const answers = new Map<string, FolderCheckAhead>();
      new ArchiveCache(cacheDir).checkFoldersBelow(roots, MTIME, (root, check) => answers.set(root, check));
      return answers;
    };

    it('checks the remembered folders at or below the named ones as holds() does: an edit in place of the same size, a new file, a mode change', async () => {
      const { dir, cacheDir } = await savedIndex();
      const root = await realpath(dir);
      const before = Date.now();
      const held = checked(cacheDir, [dirname(root)]).get(root);
      expect(held).toMatchObject({ held: true, since: { folder: { dev: (await stat(root)).dev, ino: (await stat(root)).ino } } });
      expect(held!.since.sinceMs).toBeGreaterThanOrEqual(before);
      expect(checked(cacheDir, [root]).get(root)?.held).toBe(true);
      expect(checked(cacheDir, [join(dirname(root), 'elsewhere'), `${root}-sibling`]).size).toBe(0); // not below a named folder
      const readme = join(dir, 'README.md');
      const text = await readFile(readme, 'utf8');
      await writeFile(readme, text.toUpperCase()); // same size, rewritten in place
      expect(checked(cacheDir, [root]).get(root)?.held).toBe(false);
      await writeFile(readme, text);
      expect(checked(cacheDir, [root]).get(root)?.held).toBe(false); // same bytes again, but written: its times changed
    });

    it('sees a file added or made executable after the build', async () => {
      for (const change of [(dir: string) => writeFile(join(dir, 'NOTES.md'), 'new\n'), (dir: string) => chmod(join(dir, 'README.md'), 0o755)]) {
        const { dir, cacheDir } = await savedIndex();
        await change(dir);
        expect(checked(cacheDir, [dir]).get(await realpath(dir))?.held).toBe(false);
      }
    });

    it('answers holds() from a check made ahead of the record it read, and the build then refuses anything changed since that check', async () => {
      const { dir, cacheDir, key } = await savedIndex();
      const root = await realpath(dir);
      const answers = checked(cacheDir, [root]);
      const ahead = { answer: (folder: string) => answers.get(folder) };
      // Changed after the check ahead (once the file clock is past its start: a change within the same tick
      // goes unseen, as racy-clean entries do): this run knows the folder as it was when checked, as from its own check.
      const probe = join(dirname(root), 'clock-probe');
      do await writeFile(probe, '');
      while ((await stat(probe)).ctimeMs < answers.get(root)!.since.sinceMs + 1);
      await writeFile(join(dir, 'README.md'), '# Changed after the check ahead\n');
      // Push takes no stat of its own of a folder answered ahead (answeredAhead): the answer's start stands for it.
      expect(new ArchiveCache(cacheDir, ahead).remembered(dir, MTIME)?.answeredAhead()).toBe(true);
      const known = new ArchiveCache(cacheDir, ahead).folderKey(dir, MTIME);
      expect(known).toEqual({ root, key, checkedAhead: answers.get(root)?.since });
      // A build of it must be what was checked then: the change is seen, nothing is built.
      await expect(
        buildArchive(dir, join(dirname(root), 'again.tar.gz'), { name: 'hello', version: '1.0.0', mtime: MTIME, walk: TRUST_RECENT, checked: known!.checkedAhead! }),
      ).rejects.toMatchObject({ code: 'PACK_FILE', message: expect.stringContaining('README.md changed while packpub was packing hello-1.0.0') });
      // Without the answer, the run's own check sees the change.
      expect(new ArchiveCache(cacheDir).remembered(dir, MTIME)?.answeredAhead()).toBe(false);
      expect(new ArchiveCache(cacheDir).folderKey(dir, MTIME)).toBeUndefined();
      // An answer about another record of the folder (another run saved the cache since) is not used.
      const other = { answer: (folder: string) => (folder === root ? { ...answers.get(root)!, id: 'another record' } : undefined) };
      expect(new ArchiveCache(cacheDir, other).remembered(dir, MTIME)?.answeredAhead()).toBe(false);
      expect(new ArchiveCache(cacheDir, other).folderKey(dir, MTIME)).toBeUndefined();
      // An answer that the folder changed is taken as it is.
      const changed = { answer: () => ({ ...answers.get(root)!, held: false }) };
      await writeFile(join(dir, 'README.md'), '# Hello\n');
      expect(new ArchiveCache(cacheDir, changed).folderKey(dir, MTIME)).toBeUndefined();
    });

    it('takes a worker\'s answers from its port as they arrive, for the folders the command line names', async () => {
      const { dir, cacheDir } = await savedIndex();
      const root = await realpath(dir);
      const cwd = dirname(root);
      expect(namedFolders(['push', 'hello', '--recursive', '--registry', 'localhost:5000/base', '-a', 'k=v', 'no-such-folder', '--tag=hello'], cwd)).toEqual([root]);
      const { port1, port2 } = new MessageChannel();
      const answers = new PortChecksAhead(port1);
      expect(answers.answer(root)).toBeUndefined(); // nothing posted yet
      const epoch = String(MTIME.getTime() / 1000); // the archive mtime the pack was built with
      checkAhead({ args: ['push', '.', '--recursive'], cwd, env: { PACKPUB_CACHE_DIR: cacheDir, SOURCE_DATE_EPOCH: epoch }, send: (message) => port2.postMessage(message) });
      await new Promise((resolve) => setImmediate(resolve)); // a message between threads of one process arrives on the next turn
      expect(answers.answer(root)).toMatchObject({ held: true });
      expect(answers.answer(join(root, 'manifests'))).toBeUndefined();
      // Another archive mtime remembers nothing: nothing is checked.
      const none: unknown[] = [];
      checkAhead({ args: ['push', '.', '--recursive'], cwd, env: { PACKPUB_CACHE_DIR: cacheDir, SOURCE_DATE_EPOCH: '1' }, send: (message) => none.push(message) });
      expect(none).toEqual([{ answers: [], planned: [] }]); // said at once: the run waits for none
      port1.close();
    });

    it("waits for a folder's answer while the worker posts, and not once it ended or went quiet", async () => {
      const check: FolderCheckAhead = { id: 'x', held: true, since: { sinceMs: 0 } };
      const { port1, port2 } = new MessageChannel();
      const answers = new PortChecksAhead(port1);
      // The clock stands still while the worker posts: on a loaded machine a message could take longer to arrive
      // than the wait for a quiet worker (50 ms), which would end the waiting before the answers this checks.
      vi.useFakeTimers();
      try {
        const first = answers.wait('/packs/a');
        expect(first).toBeInstanceOf(Promise);
        port2.postMessage({ answers: [['/packs/b', check]] });
        await first; // settles at the next message, whichever folders it answers
        expect(answers.answer('/packs/b')).toEqual(check);
        const second = answers.wait('/packs/a');
        expect(second).toBeInstanceOf(Promise);
        port2.postMessage({ answers: [['/packs/a', check]] });
        await second;
        expect(answers.wait('/packs/a')).toBeUndefined(); // answered
        port2.postMessage({ answers: [], planned: ['/packs/a', '/packs/b', '/packs/d'] });
        expect(answers.wait('/packs/c')).toBeUndefined(); // not among the folders the worker checks
        const last = answers.wait('/packs/d');
        expect(last).toBeInstanceOf(Promise);
        port2.postMessage({ answers: [], end: true });
        await last; // the worker's last message: nothing more to wait for
        expect(answers.wait('/packs/d')).toBeUndefined();
        port1.close();
      } finally {
        vi.useRealTimers();
      }

      // A worker that posts nothing is waited for only so long; after that, never again.
      const quiet = new MessageChannel();
      const silent = new PortChecksAhead(quiet.port1);
      const started = Date.now();
      await silent.wait('/packs/a');
      expect(Date.now() - started).toBeLessThan(5000);
      expect(silent.wait('/packs/a')).toBeUndefined();
      quiet.port1.close();
    });

    it('checks the folders in path order, and stops once the run says it asks no more', async () => {
      const tree = await temp.tempDir();
      const cacheDir = join(tree, 'cache');
      const cache = new ArchiveCache(cacheDir);
      const dirs = ['a', 'b', 'c'].map((name) => join(tree, 'packs', name));
      for (const [i, dir] of dirs.entries()) {
        await writeFiles(dir, SMALL_PACK);
        const archive = await buildArchive(dir, join(tree, `${i}.tar.gz`), { name: 'hello', version: '1.0.0', mtime: MTIME, walk: TRUST_RECENT });
        cache.rememberFolder(archive.tree!, MTIME, archive.contentKey);
      }
      await cache.save();
      const roots = await Promise.all(dirs.map((dir) => realpath(dir)));
      const packs = dirname(roots[0]!);
      const order: string[] = [];
      new ArchiveCache(cacheDir).checkFoldersBelow([packs], MTIME, (root, check) => {
        expect(check.held).toBe(true);
        order.push(root);
      });
      // The order the run checks its packs in: ahead of it, each answer is there when the run asks.
      expect(order).toEqual(roots);
      const some: string[] = [];
      let planned: string[] = [];
      new ArchiveCache(cacheDir).checkFoldersBelow([packs], MTIME, (root) => some.push(root), { planned: (folders) => (planned = folders), stopped: () => some.length === 2 });
      expect(some).toEqual([roots[0], roots[1]]);
      expect(planned).toEqual(roots); // said before the first check
      // What stops the worker (precheck-worker.ts): any message from the run, as PortChecksAhead done() sends it.
      const { port1, port2 } = new MessageChannel();
      new PortChecksAhead(port1).done();
      const sent: unknown[] = [];
      const epoch = String(MTIME.getTime() / 1000);
      checkAhead({ args: ['push', packs], cwd: tree, env: { PACKPUB_CACHE_DIR: cacheDir, SOURCE_DATE_EPOCH: epoch }, send: (message) => sent.push(message), stopped: () => receiveMessageOnPort(port2) !== undefined });
      expect(sent).toEqual([{ answers: [], planned: roots }]); // what it would have checked, and no check
      port1.close();
    });
  });

  describe('ArchiveCache: the manifest a registry last held under a tag', () => {
    const manifestOf = (text: string) => {
      const bytes = Buffer.from(text, 'utf8');
      return { descriptor: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256Digest(bytes), size: bytes.length }, bytes };
    };

    it('gives back, in the next run, the bytes remembered under the repository and tag, and nothing under another', async () => {
      const cacheDir = join(await temp.tempDir(), 'cache');
      const first = new ArchiveCache(cacheDir);
      const m = manifestOf('{"schemaVersion":2,"layers":["é"]}');
      first.rememberManifest('p/spectro-packs/archive/hello', '1.0.0', m);
      await first.save();
      const next = new ArchiveCache(cacheDir);
      const back = next.manifest('p/spectro-packs/archive/hello', '1.0.0');
      expect(back?.descriptor).toEqual(m.descriptor);
      expect(back?.bytes.equals(m.bytes)).toBe(true);
      expect(next.manifest('p/spectro-packs/archive/hello', '1.0.1')).toBeUndefined();
      expect(next.manifest('q/spectro-packs/archive/hello', '1.0.0')).toBeUndefined();
    });

    it('does not keep bytes that are not UTF-8 or larger than a pack manifest', async () => {
      const cacheDir = join(await temp.tempDir(), 'cache');
      const cache = new ArchiveCache(cacheDir);
      cache.rememberManifest('r', 'ok', manifestOf('{"schemaVersion":2}'));
      const latin1 = Buffer.from([0x7b, 0xe9, 0x7d]);
      cache.rememberManifest('r', 'latin1', { descriptor: { mediaType: 'x', digest: sha256Digest(latin1), size: 3 }, bytes: latin1 });
      cache.rememberManifest('r', 'large', manifestOf(`{"pad":"${'x'.repeat(20_000)}"}`));
      await cache.save();
      const index = join(cacheDir, 'index.json');
      const doc = indexDocument(await readFile(index, 'utf8'));
      expect(Object.keys(doc?.manifests ?? {})).toEqual(['r:ok']);
      expect(new ArchiveCache(cacheDir).manifest('r', 'latin1')).toBeUndefined();
    });
  });

  describe('front-coded stat tree paths (the cache index)', () => {
    it('reads back exactly the paths written, whatever their characters', () => {
      // Random names rarely share a prefix, which is what the coding stores: names from a small set share
      // long ones (a length of two digits), a prefix ending inside a surrogate pair (two emoji with the same
      // high surrogate), and text after the prefix that starts with digits and a colon.
      const segment = fc.oneof(
        fc.string({ unit: binaryUnit, minLength: 1, maxLength: 6 }).filter((s) => !s.includes('/') && !s.includes('\n')),
        fc.constantFrom('a', 'ab', 'abcdefghijkl', '\u{1F600}', '\u{1F601}', 'é', '12:3', ':'),
      );
      const path = fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/'));
      fc.assert(
        fc.property(fc.array(path, { maxLength: 40 }), fc.boolean(), (rest, walkOrder) => {
          // A walk lists paths in order, where neighbours share the most; any order must read back too.
          const paths = ['', ...(walkOrder ? [...rest].sort() : rest)];
          const text = encodePaths(paths);
          expect(text).toBeDefined();
          expect(decodePaths(JSON.parse(JSON.stringify(text)) as string)).toEqual(paths);
        }),
        { numRuns: 200 },
      );
    });

    it('keeps a walk\'s paths short, and does not store a path holding a line break', () => {
      const paths = ['', 'charts', 'charts/app', 'charts/app/Chart.yaml', 'charts/app/templates', 'charts/app/templates/a.yaml', 'charts/app/templates/b.yaml', 'values.yaml'];
      expect(encodePaths(paths)).toBe('0:\n0:charts\n6:/app\n10:/Chart.yaml\n11:templates\n20:/a.yaml\n21:b.yaml\n0:values.yaml');
      expect(encodePaths(['', 'a\nb'])).toBeUndefined();
      expect(encodePaths([])).toBeUndefined();
    });
  });
});
