import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { validatePack } from '../../src/pack/validate.js';

/** Real packs from pack-central and the tutorials, beside the repository (palette-packs.md). */
const CORPUS = fileURLToPath(new URL('../../../shared/corpus/packs', import.meta.url));
const haveCorpus = existsSync(CORPUS);
if (!haveCorpus) console.warn(`corpus-validate: skipped, ${CORPUS} is absent (a fresh clone has no ../shared)`);
const folders = haveCorpus ? readdirSync(CORPUS, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort() : [];

/** Each pack's report (without options), made once: the tests below read the reports the first test made. */
const reports = new Map<string, ReturnType<typeof validatePack>>();
function reportOf(folder: string): ReturnType<typeof validatePack> {
  let report = reports.get(folder);
  if (report === undefined) reports.set(folder, (report = validatePack(join(CORPUS, folder))));
  return report;
}

describe.skipIf(!haveCorpus)('real packs from ../shared/corpus', () => {
  it('has packs to check', () => {
    expect(folders.length).toBeGreaterThanOrEqual(10);
  });

  it.each(folders)('%s validates with no errors', async (folder) => {
    const report = await reportOf(folder);
    const errors = report.findings.filter((f) => f.severity === 'error');
    expect(errors, JSON.stringify(errors, null, 2)).toEqual([]);
    expect(report.passed).toBe(true);
    expect(report.pack?.name).toMatch(/^[a-z0-9]/);
  });

  it('warns about the leading "v" of nvidia-nvsentinel v1.1.0, pointing at the line', async () => {
    const report = await reportOf('nvidia-nvsentinel-v1.1.0');
    expect(report.pack).toEqual({ name: 'nvidia-nvsentinel', version: 'v1.1.0' });
    expect(report.findings).toContainEqual(
      expect.objectContaining({ severity: 'warning', rule: 'version-leading-v', file: 'pack.json', path: 'version', line: 16, message: expect.stringContaining('use "1.1.0"') }),
    );
    expect((await validatePack(join(CORPUS, 'nvidia-nvsentinel-v1.1.0'), { strict: true })).passed).toBe(false);
  });

  it('names the pack from pack.json, not the folder (hello-universe-pack holds "hellouniverse")', async () => {
    const report = await reportOf('hello-universe-pack');
    expect(report.pack).toEqual({ name: 'hellouniverse', version: '1.0.0' });
  });

  it('warns about the missing README.md and image list of permission-manager', async () => {
    const report = await reportOf('permission-manager-1.0.0');
    const rules = report.findings.map((f) => f.rule);
    expect(rules).toContain('readme-missing');
    expect(rules).toContain('values-images-missing');
  });
});
