import { rename, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packContentKey, statTreeHolds, type StatTree } from '../../../src/archive/index.js';
import { builtWithStatTree, SMALL_PACK } from './fixtures.js';
import { stage } from '../../support/stage.js';

/*
 * review (s20): an unchanged re-run trusts the stat tree of the last build (size, mtime, ctime, inode, device,
 * as git's index). Tools that restore a file's times after writing it (`touch -r`, `tar -x`, `rsync -t`, `cp -p`
 * then a rename, as editors that save atomically do) leave size and mtime as they were: what still tells the
 * edit is the ctime (a write in place) or the inode (a file replaced), which userland cannot set back. A
 * signature without them would let a re-run call a changed pack "unchanged" (exit 0, the old archive published).
 */

const temp = stage();
const TIME = 1_700_000_000;

function built(): Promise<{ dir: string; tree: StatTree; key: string }> {
  // Whole seconds, which utimes sets back exactly (a Date keeps milliseconds only, a file's times hold nanoseconds).
  return builtWithStatTree(temp, SMALL_PACK, async (dir) => {
    for (const path of ['values.yaml', 'manifests/nested/deep.yaml', 'manifests/nested']) await utimes(join(dir, path), TIME, TIME);
  });
}

describe('the stat tree sees an edit whose times were put back', () => {
  it('a file rewritten in place with the same size, its atime and mtime restored (touch -r, tar -x, rsync -t)', async () => {
    const { dir, tree, key } = await built();
    const file = join(dir, 'values.yaml');
    const before = await stat(file);
    await writeFile(file, 'pack:\n  namespace: HELLO\n');
    await utimes(file, TIME, TIME);
    const after = await stat(file);
    expect([after.size, after.mtimeMs, after.ino]).toEqual([before.size, before.mtimeMs, before.ino]);
    expect(statTreeHolds(tree)).toBe(false);
    expect(await packContentKey(dir)).not.toBe(key);
  });

  it('a file replaced by another of the same size and times, its folder\'s times restored too (an atomic save)', async () => {
    const { dir, tree, key } = await built();
    const file = join(dir, 'manifests/nested/deep.yaml');
    const folder = join(dir, 'manifests/nested');
    const [was, folderWas] = [await stat(file), await stat(folder)];
    const next = join(folder, '.deep.yaml.swp');
    await writeFile(next, 'kind: Secret!!!\n');
    await utimes(next, TIME, TIME);
    await rename(next, file);
    await utimes(folder, TIME, TIME);
    const [now, folderNow] = [await stat(file), await stat(folder)];
    expect([now.size, now.mtimeMs, folderNow.mtimeMs]).toEqual([was.size, was.mtimeMs, folderWas.mtimeMs]);
    expect(statTreeHolds(tree)).toBe(false);
    expect(await packContentKey(dir)).not.toBe(key);
  });
});
