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
    await mkdir(join(pack, 'charts', 'deep'), { recursive: true });
    await writeFile(join(pack, 'charts', 'deep', 'web-1.0.0.tgz'), 'tgz');
    await mkdir(join(top, 'ext'));
    await writeFile(join(top, 'ext', 'web-1.0.0.tgz'), 'outside');
    await symlink('../..', join(pack, 'charts', 'up'));
    await symlink('../docs', join(pack, 'charts', 'docs'));
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

  // Below the pack folder a path with no symlink on its way is answered from lstat alone too (issue 16);
  // a folder link on the way is resolved, and one leading out of the pack is still refused.
  it('answers nested plain paths by their own path, and resolves folder links on the way in and out of the pack', async () => {
    expect(await statInPack(pack, 'charts/deep/web-1.0.0.tgz')).toEqual({ kind: 'file', realPath: join(pack, 'charts', 'deep', 'web-1.0.0.tgz'), size: 3 });
    expect(await statInPack(pack, 'charts/deep')).toEqual({ kind: 'not-file', what: 'a directory', realPath: join(pack, 'charts', 'deep') });
    expect(await statInPack(pack, 'charts/docs/readme.md')).toEqual({ kind: 'file', realPath: join(pack, 'docs', 'readme.md'), size: 5 });
    expect(await statInPack(pack, 'charts/up/ext/web-1.0.0.tgz')).toEqual({ kind: 'outside', target: join(top, 'ext', 'web-1.0.0.tgz') });
    expect(await statInPack(pack, 'charts/up/pack/values.yaml')).toEqual({ kind: 'file', realPath: join(pack, 'values.yaml'), size: 5 });
    expect(await statInPack(pack, 'charts/deep/none.tgz')).toEqual({ kind: 'missing' });
  });
});
