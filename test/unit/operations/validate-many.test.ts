import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIN_WORK_FOR_WORKERS, packWork, validateMany, worthWorkers } from '../../../src/operations/validate-pool.js';
import { validatePack } from '../../../src/pack/validate.js';
import { tempDir } from '../../support/files.js';
import { writePack } from '../../support/packs.js';

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
