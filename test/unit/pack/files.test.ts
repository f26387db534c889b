import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statInPack } from '../../../src/pack/files.js';

describe('statInPack', () => {
  let top: string;
  let pack: string;

  beforeAll(async () => {
    top = await realpath(await mkdtemp(join(tmpdir(), 'packpub-files-')));
    pack = join(top, 'pack');
    await mkdir(join(pack, 'docs'), { recursive: true });
    await mkdir(join(pack, 'presets.yaml'));
    await writeFile(join(pack, 'values.yaml'), 'a: 1\n');
    await writeFile(join(pack, 'docs', 'readme.md'), '# hi\n');
    await writeFile(join(top, 'outside.png'), 'png');
    await symlink('../outside.png', join(pack, 'logo.png'));
    await symlink('docs/readme.md', join(pack, 'README.md'));
    await symlink('missing.yaml', join(pack, 'schema.yaml'));
  });
  afterAll(() => rm(top, { recursive: true, force: true }));

  // A plain file named directly in the pack folder is answered from lstat alone (issue 16): links
  // among such names must still be followed and judged as before.
  it('answers a plain file by its own path, and follows links of top-level names in and out of the pack', async () => {
    expect(await statInPack(pack, 'values.yaml')).toEqual({ kind: 'file', realPath: join(pack, 'values.yaml'), size: 5 });
    expect(await statInPack(pack, 'README.md')).toEqual({ kind: 'file', realPath: join(pack, 'docs', 'readme.md'), size: 5 });
    expect(await statInPack(pack, 'logo.png')).toEqual({ kind: 'outside', target: join(top, 'outside.png') });
    expect(await statInPack(pack, 'schema.yaml')).toEqual({ kind: 'missing', brokenLink: 'dangling' });
    expect(await statInPack(pack, 'presets.yaml')).toEqual({ kind: 'not-file', what: 'a directory', realPath: join(pack, 'presets.yaml') });
    expect(await statInPack(pack, 'docs/readme.md')).toEqual({ kind: 'file', realPath: join(pack, 'docs', 'readme.md'), size: 5 });
    expect(await statInPack(pack, 'nothing.yaml')).toEqual({ kind: 'missing' });
  });
});
