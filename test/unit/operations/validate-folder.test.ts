import { symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validatePackFolder } from '../../../src/operations/validate-folder.js';
import { writeValidPack } from '../../support/packs.js';
import { stage } from '../../support/stage.js';

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
