import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { discoverPacks } from '../../../src/operations/discover.js';

// A folder found below a root is the root's real path and its path below it (one realpath per root): the same
// pack named through a linked root, through its own link, or as found below the root, is one pack.
let root: string;
beforeAll(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'packpub-discover-real-')));
  for (const name of ['a', 'b/c']) {
    await mkdir(join(root, 'tree', name), { recursive: true });
    await writeFile(join(root, 'tree', name, 'pack.json'), '{}');
  }
  await symlink(join(root, 'tree'), join(root, 'linked-tree'));
  await symlink(join(root, 'tree', 'b', 'c'), join(root, 'tree', 'link-to-c'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

it('finds each pack once, however it is named', async () => {
  const packs = await discoverPacks(['tree', 'linked-tree', join('linked-tree', 'b', 'c'), join('tree', 'link-to-c')], { recursive: true, cwd: root });
  expect(packs).toEqual([join(root, 'tree', 'a'), join(root, 'tree', 'b', 'c')]);
});

it('keeps the first name a pack was found under', async () => {
  const packs = await discoverPacks(['linked-tree', 'tree'], { recursive: true, cwd: root });
  expect(packs).toEqual([join(root, 'linked-tree', 'a'), join(root, 'linked-tree', 'b', 'c')]);
});
