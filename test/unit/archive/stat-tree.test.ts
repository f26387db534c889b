import { chmod, mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildArchive, packContentKey, statTreeHolds, type StatTree } from '../../../src/archive/index.js';
import { rawLstatCallable, useRawLstat } from '../../../src/archive/stat-tree.js';
import { lstatSync } from 'node:fs';
import { builtWithStatTree, SMALL_PACK, TRUST_RECENT } from './fixtures.js';
import { writeFiles } from '../../support/files.js';
import { stage } from '../../support/stage.js';

const temp = stage();

/** `check` with the stat tree check reading lstatSync's Stats, not Node's fs binding. */
function withLstatSync<T>(check: () => T): T {
  useRawLstat(false);
  try {
    return check();
  } finally {
    useRawLstat(undefined);
  }
}

/** A pack with a symlink and a .packignore, built once: its stat tree and content key. */
function built(): Promise<{ dir: string; tree: StatTree; key: string }> {
  const files = { ...SMALL_PACK, '.packignore': 'ignored/\n', 'ignored/big.bin': 'not archived\n', 'docs/a.md': 'A\n', 'docs/b.md': 'B\n' };
  return builtWithStatTree(temp, files, (dir) => symlink('docs/a.md', join(dir, 'NOTES.md')));
}

describe('statTreeOf / statTreeHolds (the git-index check of an unchanged pack)', () => {
  it('holds for an untouched pack, whose archive is then the same', async () => {
    const { dir, tree, key } = await built();
    expect(tree.paths).toContain('');
    expect(tree.paths).toContain('manifests/nested/deep.yaml');
    expect(tree.paths).not.toContain('ignored/big.bin');
    expect(statTreeHolds(tree)).toBe(true);
    expect(await packContentKey(dir)).toBe(key);
  });

  const changes: Array<[string, (dir: string) => Promise<void>]> = [
    ['a file rewritten with the same size', (dir) => writeFile(join(dir, 'values.yaml'), 'pack:\n  namespace: hellO\n')],
    ['a file added in a nested folder', (dir) => writeFile(join(dir, 'manifests/nested/new.yaml'), 'kind: Secret\n')],
    ['a file deleted', (dir) => rm(join(dir, 'README.md'))],
    ['a folder renamed', (dir) => rename(join(dir, 'manifests/nested'), join(dir, 'manifests/other'))],
    ['an execute bit set', (dir) => chmod(join(dir, 'values.yaml'), 0o755)],
    ['.packignore edited', (dir) => writeFile(join(dir, '.packignore'), 'ignorex/\n')],
    ['.packignore removed', (dir) => rm(join(dir, '.packignore'))],
    ['a symlink pointed elsewhere', async (dir) => {
      await rm(join(dir, 'NOTES.md'));
      await symlink('docs/b.md', join(dir, 'NOTES.md'));
    }],
    ['the file a symlink points to rewritten', (dir) => writeFile(join(dir, 'docs/a.md'), 'Z\n')],
    ['an empty folder added', (dir) => mkdir(join(dir, 'charts'))],
  ];
  for (const [what, change] of changes) {
    it(`no longer holds after ${what}`, async () => {
      const { dir, tree } = await built();
      await change(dir);
      expect(statTreeHolds(tree)).toBe(false);
      // The same answer from lstatSync's Stats as from the binding's numbers (the check's fast path).
      expect(withLstatSync(() => statTreeHolds(tree))).toBe(false);
    });
  }

  it('holds through either way of reading the signatures (Node\'s fs binding, or lstatSync when that is not usable)', async () => {
    const { tree } = await built();
    expect(statTreeHolds(tree)).toBe(true);
    expect(withLstatSync(() => statTreeHolds(tree))).toBe(true);
  });

  it('is not recorded for a pack changed within the racy margin of its build: its files are read next run', async () => {
    // Just written: a second change in the same timestamp tick could keep size and times, so nothing recent
    // may vouch for its content (git's "racily clean" entries).
    const dir = join(await temp.tempDir(), 'fresh-pack');
    await writeFiles(dir, SMALL_PACK);
    const remembered: string[] = [];
    const fileHashes = { get: () => undefined, set: (source: string) => void remembered.push(source) };
    const archive = await buildArchive(dir, join(await temp.tempDir(), 'out.tar.gz'), { name: 'hello', version: '1.0.0', fileHashes });
    expect(archive.tree).toBeUndefined();
    expect(remembered).toEqual([]);
    expect(archive.contentKey).toBe(await packContentKey(dir));
    // The same pack with only older changes counted has its stat tree.
    const trusted = await buildArchive(dir, join(await temp.tempDir(), 'out.tar.gz'), { name: 'hello', version: '1.0.0', fileHashes, walk: TRUST_RECENT });
    expect(trusted.tree).toBeDefined();
    expect(remembered.length).toBeGreaterThan(0);
  });

  it('does not hold once the folder is gone', async () => {
    const { dir, tree } = await built();
    await rm(dir, { recursive: true });
    expect(statTreeHolds(tree)).toBe(false);
  });

  it('ignores changes to what the archive leaves out, except through their folder', async () => {
    const { dir, tree } = await built();
    await writeFile(join(dir, 'ignored/big.bin'), 'still not archived, other size\n');
    expect(statTreeHolds(tree)).toBe(true);
  });
});

describe("when the stat tree check may call Node's fs binding itself (rawLstatCallable)", () => {
  it("only where lstatSync passes throwIfNoEntry to the binding, and never under the permission model", () => {
    // This Node's lstatSync (the suite runs on 20.18.1 or later, whose binding throws on a missing path).
    expect(rawLstatCallable(lstatSync.toString(), false)).toBe(true);
    // The permission model's read check is made in JavaScript by lstatSync: the binding would skip it.
    expect(rawLstatCallable(lstatSync.toString(), true)).toBe(false);
    // An older Node 20's lstatSync hands the binding an object to write the error into; given `true` there, a
    // missing path could crash the process instead of throwing.
    const older = `function lstatSync(path, options = { bigint: false, throwIfNoEntry: true }) {
  path = getValidatedPath(path);
  const ctx = { path };
  const stats = binding.lstat(pathModule.toNamespacedPath(path),
                              options.bigint, undefined, ctx);
  if (options.throwIfNoEntry === false && hasNoEntryError(ctx)) {
    return undefined;
  }
  handleErrorFromBinding(ctx);
  return getStatsFromBinding(stats);
}`;
    expect(rawLstatCallable(older, false)).toBe(false);
  });
});
