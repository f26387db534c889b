import { symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listPackEntries } from '../../../src/archive/walk.js';
import { validateForBuild, validatePackFolder } from '../../../src/operations/validate-folder.js';
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
