import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureCorpus, type Corpus } from '../../../bench/corpus.js';
import { Prng } from '../../../bench/prng.js';
import { checkPng } from '../../../src/pack/png.js';
import { validatePack } from '../../../src/pack/validate.js';

const execFileP = promisify(execFile);
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

const MIX = { manifest: 3, helm: 1, largeManifest: 0 };

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

  it('generates valid packs of each kind: pack.json, values, PNG logo, and for Helm a chart tgz that tar reads', async () => {
    const work = await tempDir();
    first = await ensureCorpus({ workDir: work, seed: 11, quick: false, mix: MIX });
    expect(first.fresh).toBe(true);
    expect(first.packs.map((p) => p.kind)).toEqual(['manifest', 'manifest', 'manifest', 'helm']);
    for (const pack of first.packs) {
      const dir = join(first.dir, pack.folder);
      const report = await validatePack(dir);
      expect(report.findings.filter((f) => f.severity === 'error'), pack.folder).toEqual([]);
      expect(report.pack).toEqual({ name: pack.name, version: pack.version });
      expect((await checkPng(join(dir, 'logo.png'))).ok).toBe(true);
    }
    const helm = first.packs.find((p) => p.kind === 'helm');
    if (helm === undefined) throw new Error('no helm pack');
    const chartName = `${helm.name}-chart`;
    const { stdout } = await execFileP('tar', ['-tzf', join(first.dir, helm.folder, 'charts', `${chartName}-${helm.version}.tgz`)], { maxBuffer: 16 * 1024 * 1024 });
    const entries = stdout.trim().split('\n');
    expect(entries).toContain(`${chartName}/Chart.yaml`);
    expect(entries.filter((e) => e.startsWith(`${chartName}/templates/`)).length).toBeGreaterThanOrEqual(200);
    expect(helm.files).toBeGreaterThan(200);
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
    const pack = first.packs.find((p) => p.kind === 'manifest');
    if (pack === undefined) throw new Error('no manifest pack');
    const dir = join(first.dir, pack.folder, 'manifests');
    const text = Buffer.concat(await Promise.all((await readdir(dir)).map((f) => readFile(join(dir, f)))));
    const ratio = text.length / gzipSync(text, { level: 6 }).length;
    expect(ratio).toBeGreaterThan(2.5);
    expect(ratio).toBeLessThan(15);
  });
});
