import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverPacks } from '../../../src/operations/discover.js';

// discoverPacks sorts by each folder's path relative to cwd, computing the key once per folder (and
// without path.relative for a folder below cwd): the order must be what comparing relative() gives.
describe('discoverPacks order', () => {
  let root: string;
  const names = ['b', 'a-1', 'a', 'A', 'a.b', 'a/z', 'c/d/e', 'a_b', 'z9', 'z10'];
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'packpub-discover-'));
    for (const name of names) {
      const dir = join(root, 'tree', name.replace('/', '-in-'), ...(name.includes('/') ? [name.split('/')[1] as string] : []));
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'pack.json'), '{}');
    }
    await mkdir(join(root, 'elsewhere'), { recursive: true });
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const byRelative = (cwd: string, dirs: string[]) => [...dirs].sort((a, b) => (relative(cwd, a) < relative(cwd, b) ? -1 : 1));

  it.each([
    ['the tree root', () => join(root, 'tree')],
    ['a folder above it', () => root],
    ['a sibling folder (paths with ..)', () => join(root, 'elsewhere')],
    ['the same folder with a trailing slash', () => `${join(root, 'tree')}/`],
    ['the file system root', () => '/'],
  ])('is the relative() order from %s', async (_what, cwdOf) => {
    const cwd = cwdOf();
    const packs = await discoverPacks([join(root, 'tree')], { recursive: true, cwd });
    expect(packs).toHaveLength(names.length);
    expect(packs).toEqual(byRelative(cwd, packs));
  });

  it('keeps a shard the same slice of that order', async () => {
    const cwd = join(root, 'elsewhere');
    const all = await discoverPacks([join(root, 'tree')], { recursive: true, cwd });
    const second = await discoverPacks([join(root, 'tree')], { recursive: true, cwd, shard: '2/3' });
    expect(second).toEqual(all.filter((_, i) => i % 3 === 1));
  });
});
