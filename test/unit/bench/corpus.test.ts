import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureCorpus, type Corpus } from '../../../bench/corpus.js';
import { atPercentile, countsList, Stratified } from '../../../bench/sample.js';
import { Prng } from '../../support/prng.js';
import { checkPng } from '../../../src/pack/png.js';
import { validatePack } from '../../../src/pack/validate.js';
import { runChildText } from '../../support/spawner.js';

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
