import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildPack, PackInvalidError, PackpubError } from '../../src/index.js';

/*
 * A library caller of buildPack tells a refused pack from other failures by its class, and reads every finding from
 * it (the CLI annotates them all): the class was not exported from the library entry, so `instanceof` could not be
 * written outside packpub.
 */
describe('buildPack refusing a pack, as a library caller sees it', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('throws a PackInvalidError (a PackpubError, code PACK_INVALID) whose report holds every finding', async () => {
    const root = await mkdtemp(join(tmpdir(), 'packpub-build-invalid-'));
    dirs.push(root);
    // The archive beside the pack, not in it: buildPack refuses an archive inside the pack it packs (review28).
    const dir = join(root, 'pack');
    await mkdir(dir);
    await writeFile(join(dir, 'pack.json'), JSON.stringify({ name: 'Bad_Name', displayName: 'x', version: '1.0.0', layer: 'nope' }));
    await writeFile(join(dir, 'values.yaml'), 'a: [\n');
    const out = join(root, 'out.tar.gz');
    const err = await buildPack(dir, { outFile: out }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PackInvalidError);
    expect(err).toBeInstanceOf(PackpubError);
    const invalid = err as PackInvalidError;
    expect(invalid.code).toBe('PACK_INVALID');
    expect(invalid.message).toContain('is not a valid pack');
    expect(invalid.report.errors).toBeGreaterThanOrEqual(3);
    const files = new Set(invalid.report.findings.filter((f) => f.severity === 'error').map((f) => f.file));
    expect(files.has('pack.json')).toBe(true);
    expect(files.has('values.yaml')).toBe(true);
  });
});
