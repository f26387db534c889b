import { join, relative } from 'node:path';
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile, readdir, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultCacheDir } from '../../../src/operations/archive-cache.js';
import { sortVersions } from '../../../src/operations/list.js';
import { openTarget, pushPacks, copyPacks, PaletteClient, syncPaletteRegistry } from '../../../src/index.js';
import { tempDir } from '../../support/files.js';
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
// @ts-expect-error bin/ is plain JavaScript without declarations
import { cacheDir } from '../../../bin/code-cache.cjs';

/*
 * The tests of src/operations/'s smaller modules, a describe per module (each was a test file of its own): each
 * test file costs vitest ~15-30 ms of CPU whatever its size (requests between worker and main process, test/per-
 * file-setup.ts).
 */

describe('cache-dir', () => {
  describe("the code cache's folder is the archive cache's (bin/code-cache.cjs cannot import src/)", () => {
    const envs: Array<Record<string, string>> = [
      { PACKPUB_CACHE_DIR: '/c/packpub', XDG_CACHE_HOME: '/x', HOME: '/h' },
      { PACKPUB_CACHE_DIR: '', XDG_CACHE_HOME: '/x', HOME: '/h' },
      { XDG_CACHE_HOME: '', HOME: '/h' },
      { HOME: '/h' },
      {},
    ];
    for (const env of envs) {
      it(`the same folder for ${JSON.stringify(env)}`, () => {
        expect((cacheDir as (env: Record<string, string>) => string)(env)).toBe(defaultCacheDir(env));
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
