import { mkdir, realpath, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { statInPack, useBlockingReads } from '../../../src/pack/files.js';
import { stage } from '../../support/stage.js';

/*
 * statInPack with blocking calls (a validation thread: useBlockingReads) must answer as with promises, for
 * what is there and for each way of not being there: a missing file is told by lstat without an error made
 * and thrown (issue 16), the rest as before. useBlockingReads has no way back: this file's own module state.
 */

const temp = stage();

describe('statInPack, blocking or not', () => {
  it('gives the same status for files, folders, missing paths and broken links', async () => {
    const pack = await realpath(await temp.tempDir());
    await writeFile(join(pack, 'values.yaml'), 'a: 1\n');
    await mkdir(join(pack, 'charts'));
    await writeFile(join(pack, 'charts', 'web-1.0.0.tgz'), 'x');
    await symlink('nowhere.yaml', join(pack, 'dangling.yaml'));
    await symlink('loop-b', join(pack, 'loop-a'));
    await symlink('loop-a', join(pack, 'loop-b'));
    await symlink('/etc/hostname', join(pack, 'outside.yaml'));
    const names = ['values.yaml', 'charts', 'charts/web-1.0.0.tgz', 'presets.yaml', 'missing/deeper.yaml', 'values.yaml/under-a-file', 'dangling.yaml', 'loop-a', 'loop-a/x.yaml', 'outside.yaml', '../up.yaml'];
    const before = [];
    for (const name of names) before.push(await statInPack(pack, name));
    expect(before.map((s) => s.kind)).toEqual(['file', 'not-file', 'file', 'missing', 'missing', 'missing', 'missing', 'missing', 'missing', 'outside', 'outside']);
    useBlockingReads();
    const after = [];
    for (const name of names) after.push(await statInPack(pack, name));
    expect(after).toEqual(before);
  });
});
