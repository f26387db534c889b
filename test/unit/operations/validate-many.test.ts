import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateMany } from '../../../src/operations/validate-pool.js';
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
