import { mkdir, mkdtemp, rm, writeFile, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { summariseProfiles } from '../../../bench/profile.js';
import { evaluate, idleCoresLine, type Measurements } from '../../../bench/report.js';
import { median } from '../../../bench/stats.js';
import { ensureCorpus, type Corpus } from '../../../bench/corpus.js';
import { atPercentile, countsList, Stratified } from '../../../bench/sample.js';
import { Prng } from '../../support/prng.js';
import { checkPng } from '../../../src/pack/png.js';
import { validatePack } from '../../../src/pack/validate.js';
import { runChildText } from '../../support/spawner.js';

/*
 * The tests of bench/'s smaller modules, a describe per module (each was a test file of its own): each test file
 * costs vitest ~15-30 ms of CPU whatever its size (requests between worker and main process, test/per-file-
 * setup.ts).
 */

describe('profile', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  describe('summariseProfiles', () => {
    it('adds self time per function over every thread profile, from the sample time deltas', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'packpub-bench-prof-'));
      dirs.push(dir);
      const frame = (functionName: string, url: string, lineNumber = 0) => ({ functionName, url, lineNumber, scriptId: '0', columnNumber: 0 });
      const profile = (extra: number) => ({
        nodes: [
          { id: 1, callFrame: frame('(root)', '') },
          { id: 2, callFrame: frame('buildArchive', 'file:///repo/dist/archive/build.js', 9) },
          { id: 3, callFrame: frame('(idle)', '') },
          { id: 4, callFrame: frame('parse', 'file:///repo/node_modules/js-yaml/dist/index.js', 99) },
        ],
        startTime: 0,
        endTime: 10_000,
        samples: [2, 2, 3, 4, 2],
        timeDeltas: [1000, 1000, 4000, 2000 + extra, 1000],
      });
      await writeFile(join(dir, 'CPU.1.main.cpuprofile'), JSON.stringify(profile(0)));
      await writeFile(join(dir, 'CPU.2.worker.cpuprofile'), JSON.stringify(profile(1000)));
      await writeFile(join(dir, 'notes.txt'), 'not a profile');

      const s = await summariseProfiles(dir, '/repo');
      expect(s.files).toHaveLength(2);
      expect(s.totalMs).toBeCloseTo(19, 5);
      expect(s.functions[0]).toMatchObject({ label: '(idle)', selfMs: 8 });
      expect(s.functions.find((f) => f.label === 'buildArchive (dist/archive/build.js:10)')?.selfMs).toBeCloseTo(6, 5);
      expect(s.areas.find((a) => a.label === 'packpub archive/')?.selfMs).toBeCloseTo(6, 5);
      expect(s.areas.find((a) => a.label === 'dependency js-yaml')?.selfMs).toBeCloseTo(5, 5);
    });
  });

  describe('summariseProfiles on the bundled CLI', () => {
    it('files a bundle chunk\'s frames under the src/ module or package its source map names', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'packpub-bench-prof-'));
      dirs.push(dir);
      const chunk = join(dir, 'dist/bundle/validate-Ab12.js');
      await mkdir(join(dir, 'dist/bundle'), { recursive: true });
      await writeFile(chunk, 'function next() {}\nfunction check() {}\n');
      // Generated line 0 -> yaml's parser.js line 0; generated line 1 -> src/pack/validate.ts line 5 ("C" = +1
      // source, "K" = +5 lines: base64 VLQ).
      const map = { version: 3, sources: ['../../node_modules/yaml/dist/parse/parser.js', '../../src/pack/validate.ts'], names: [], mappings: 'AAAA;ACKA' };
      await writeFile(`${chunk}.map`, JSON.stringify(map));
      // A CommonJS chunk, as the CLI's are: a profile names it by its path.
      const cjs = join(dir, 'dist/bundle/push-Cd34.cjs');
      await writeFile(cjs, 'function next() {}\nfunction check() {}\n');
      await writeFile(`${cjs}.map`, JSON.stringify(map));
      const url = pathToFileURL(chunk).href;
      const frame = (functionName: string, lineNumber: number, u = url) => ({ functionName, url: u, lineNumber, scriptId: '0', columnNumber: 0 });
      await writeFile(
        join(dir, 'CPU.1.main.cpuprofile'),
        JSON.stringify({
          nodes: [
            { id: 1, callFrame: frame('(root)', 0, '') },
            { id: 2, callFrame: frame('next', 0) },
            { id: 3, callFrame: frame('check', 1) },
            { id: 4, callFrame: frame('buildArchive', 9, 'file:///repo/dist/archive/build.js') },
            { id: 5, callFrame: frame('check', 1, cjs) },
          ],
          startTime: 0,
          endTime: 10_000,
          samples: [2, 3, 3, 4, 5],
          timeDeltas: [1000, 2000, 2000, 1000, 3000],
        }),
      );
      const s = await summariseProfiles(dir, dir);
      expect(s.functions.find((f) => f.label === 'next (node_modules/yaml/dist/parse/parser.js:1)')?.selfMs).toBeCloseTo(1, 5);
      expect(s.functions.find((f) => f.label === 'check (src/pack/validate.ts:6)')?.selfMs).toBeCloseTo(7, 5);
      expect(s.areas.find((a) => a.label === 'dependency yaml')?.selfMs).toBeCloseTo(1, 5);
      expect(s.areas.find((a) => a.label === 'packpub pack/')?.selfMs).toBeCloseTo(7, 5);
      // A file without a map stays as it is.
      expect(s.areas.find((a) => a.label === 'packpub archive/')?.selfMs).toBeCloseTo(1, 5);
    });
  });

  describe('evaluate', () => {
    const base = {
      machine: { cores: 2 },
      corpus: { packs: new Array(200).fill({ kind: 'manifest' }), quick: false },
      options: { runs: 3 },
      baselineMs: [100_000, 90_000, 120_000],
      baselineCpuS: [20, 20, 20],
      boundCpuS: [12, 12, 12],
      boundMs: [6000, 6000, 6000],
      registry: [],
      layoutMs: [],
      large: undefined,
      startup: undefined,
      newVersion: undefined,
      checks: [],
      totalMs: 0,
    } as unknown as Measurements;
    const run = (emptyMs: number) => ({ emptyMs, emptyCpuS: 10, emptyRssKb: 1, uploadedBytes: 1, unchangedMs: 400, unchangedUploads: 0, unchangedRequests: 200 });

    it('passes the empty-registry targets at 10x the baseline and within 2x the bound', () => {
      const rows = evaluate({ ...base, registry: [run(9000), run(9500), run(8000)] });
      expect(rows.find((r) => r.scenario.endsWith('vs manual'))?.result).toBe('pass');
      expect(rows.find((r) => r.scenario.endsWith('vs compression bound'))?.result).toBe('pass');
      expect(rows.find((r) => r.scenario.includes('nothing changed: wall'))?.result).toBe('pass');
      expect(rows.find((r) => r.scenario.includes('whole tree: peak RSS'))?.result).toBe('pass');
    });

    it('judges validate of the tree by its wall time and by the cores it keeps busy', () => {
      const validate = (ms: number, cpuS: number) => ({ ms, cpuS, rssKb: 1, packs: 200, warnings: 0 });
      const fast = evaluate({ ...base, validate: [validate(1200, 2.0)] });
      expect(fast.find((r) => r.scenario.startsWith('packpub validate of the tree ('))?.result).toBe('pass');
      expect(fast.find((r) => r.scenario.includes('cores used'))?.result).toBe('pass');
      const serial = evaluate({ ...base, validate: [validate(1400, 1.3)] });
      expect(serial.find((r) => r.scenario.startsWith('packpub validate of the tree ('))?.result).toBe('pass');
      const cores = serial.find((r) => r.scenario.includes('cores used'));
      expect(cores?.result).toBe('miss');
      expect(cores?.missBy).toContain('0.93 cores busy');
    });

    it('says by how much a target is missed', () => {
      const rows = evaluate({ ...base, registry: [run(15_000), run(15_000), run(15_000)] });
      const manual = rows.find((r) => r.scenario.endsWith('vs manual'));
      expect(manual?.result).toBe('miss');
      expect(manual?.missBy).toContain('needs 10.0 s or less');
      expect(manual?.missBy).toContain('50% longer');
      const bound = rows.find((r) => r.scenario.endsWith('vs compression bound'));
      expect(bound?.result).toBe('miss');
      expect(bound?.missBy).toContain('25% over');
    });

    it('takes the median', () => {
      expect(median([3, 1, 2])).toBe(2);
      expect(median([4, 1, 2, 3])).toBe(2.5);
    });

    it('says how many core-seconds the first publish left idle, and how long packpub worked before its first request', () => {
      // 2 cores: one busy for the first second, both for the next, none for half a second.
      const split = { mainS: 0, otherThreadsS: 0, registryS: 0, timeline: [[0, 0], [1, 1], [2, 3], [2.5, 3]] as Array<[number, number]>, firstRequest: { atS: 1, mainS: 0.1, otherThreadsS: 0.9 } };
      expect(idleCoresLine([split], 2)).toEqual([
        '- Cores left idle (the run, /proc samples every 50 ms, all three together): 2.00 of 5.00 core-seconds (2 cores x 2.50 s sampled); under one core busy for 0.50 s. Before its first request (the registry\'s first CPU: every upload waits for every verdict) packpub worked 1.00 s: main thread 0.10 CPU-s, other threads 0.90 CPU-s.',
      ]);
      // Runs recorded before the timeline was kept say nothing.
      expect(idleCoresLine([{ mainS: 1, otherThreadsS: 1, registryS: 1 }], 2)).toEqual([]);
    });
  });
});

describe('corpus', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  async function tempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'packpub-bench-corpus-'));
    dirs.push(dir);
    return dir;
  }

  /** sha256 over every file's path and bytes, in sorted order. */
  async function treeHash(root: string): Promise<string> {
    const hash = createHash('sha256');
    const files = (await readdir(root, { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name))
      .sort();
    for (const f of files) hash.update(f.slice(root.length)).update('\0').update(await readFile(f));
    return hash.digest('hex');
  }

  const MIX = { archive: 1, chart: 2, manifest: 2 };

  describe('Prng', () => {
    it('repeats the same sequence for a seed and differs between seeds', () => {
      const seq = (seed: number) => Array.from({ length: 5 }, ((r) => () => r.u32())(new Prng(seed)));
      expect(seq(7)).toEqual(seq(7));
      expect(seq(7)).not.toEqual(seq(8));
    });

    it('fills buffers gzip cannot shrink (the "random half" of the 1 GiB pack)', () => {
      const buf = new Prng(1).fill(Buffer.alloc(256 * 1024 + 3));
      expect(gzipSync(buf).length).toBeGreaterThan(buf.length);
    });

    it('keeps ints within bounds', () => {
      const r = new Prng(3);
      const values = Array.from({ length: 2000 }, () => r.int(2, 5));
      expect(new Set(values)).toEqual(new Set([2, 3, 4, 5]));
    });
  });

  describe('the generated corpus', () => {
    let first: Corpus;

    it('generates valid packs of each kind: pack.json, values, PNG logo, chart archives tar reads, unpacked charts equal to their archives', async () => {
      const work = await tempDir();
      first = await ensureCorpus({ workDir: work, seed: 11, quick: false, mix: MIX });
      expect(first.fresh).toBe(true);
      expect(first.packs.map((p) => p.kind)).toEqual(['archive', 'chart', 'chart', 'manifest', 'manifest']);
      for (const pack of first.packs) {
        const dir = join(first.dir, pack.folder);
        const report = await validatePack(dir);
        expect(report.findings.filter((f) => f.severity === 'error'), pack.folder).toEqual([]);
        expect(report.pack).toEqual({ name: pack.name, version: pack.version });
        expect((await checkPng(join(dir, 'logo.png'))).ok).toBe(true);
        const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
        expect(files.length).toBe(pack.files);
      }
      for (const pack of first.packs.filter((p) => p.kind !== 'manifest')) {
        const charts = join(first.dir, pack.folder, 'charts');
        const archives = (await readdir(charts)).filter((f) => f.endsWith('.tgz'));
        expect(archives.length).toBeGreaterThan(0);
        for (const archive of archives) {
          const chart = archive.slice(0, -`-${pack.version}.tgz`.length);
          const { stdout } = await runChildText('tar', ['-tzf', join(charts, archive)], { maxBuffer: 16 * 1024 * 1024 });
          const entries = stdout.trim().split('\n').filter((e) => !e.endsWith('/'));
          expect(entries).toContain(`${chart}/Chart.yaml`);
          if (pack.kind === 'chart') {
            // The unpacked chart beside the archive holds exactly the archive's files, as in pack-central.
            const unpacked = (await readdir(join(charts, chart), { recursive: true, withFileTypes: true }))
              .filter((e) => e.isFile())
              .map((e) => `${chart}/${join(e.parentPath, e.name).slice(join(charts, chart).length + 1)}`);
            expect(unpacked.sort()).toEqual(entries.sort());
          }
        }
      }
    });

    it('is the same bytes for the same seed, and reused rather than regenerated', async () => {
      const other = await tempDir();
      const second = await ensureCorpus({ workDir: other, seed: 11, quick: false, mix: MIX });
      expect(await treeHash(second.dir)).toBe(await treeHash(first.dir));
      const again = await ensureCorpus({ workDir: other, seed: 11, quick: false, mix: MIX });
      expect(again.fresh).toBe(false);
      expect(again.packs).toEqual(second.packs);
    });

    it('compresses like real YAML: neither raw nor 100x', async () => {
      const texts: Buffer[] = [];
      for (const pack of first.packs.filter((p) => p.kind === 'manifest')) {
        const dir = join(first.dir, pack.folder, 'manifests');
        texts.push(...(await Promise.all((await readdir(dir)).map((f) => readFile(join(dir, f))))));
      }
      const text = Buffer.concat(texts);
      const ratio = text.length / gzipSync(text, { level: 6 }).length;
      expect(ratio).toBeGreaterThan(2.5);
      expect(ratio).toBeLessThan(15);
    });
  });

  describe('sampling the measured distributions', () => {
    const q = [0, 10, 20, 30, 100, 1000, 2000, 3000, 9000, 10000] as const;

    it('hits the measured points exactly and interpolates between them', () => {
      expect(atPercentile(q, 0)).toBeCloseTo(0);
      expect(atPercentile(q, 50)).toBeCloseTo(100);
      expect(atPercentile(q, 100)).toBeCloseTo(10000);
      const between = atPercentile(q, 60);
      expect(between).toBeGreaterThan(100);
      expect(between).toBeLessThan(1000);
    });

    it('stratified draws match the quantiles after one block, tail included', () => {
      const s = new Stratified(new Prng(5), q);
      const draws = Array.from({ length: 100 }, () => s.next()).sort((a, b) => a - b);
      expect(draws[49]).toBeGreaterThanOrEqual(30);
      expect(draws[50]).toBeLessThanOrEqual(1000);
      expect(draws[99]).toBeGreaterThanOrEqual(9000);
      expect(draws.filter((d) => d > 3000)).toHaveLength(5);
    });

    it('counts lists keep the measured frequencies', () => {
      const list = countsList(new Prng(2), [[1, 178], [4, 7], [8, 1]], 186);
      expect(list.filter((n) => n === 1)).toHaveLength(178);
      expect(list.filter((n) => n === 4)).toHaveLength(7);
      expect(list.filter((n) => n === 8)).toHaveLength(1);
      expect(countsList(new Prng(2), [[1, 178], [4, 7], [8, 1]], 10)).toHaveLength(10);
    });
  });
});
