import { realpath, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildArchive } from '../../src/archive/index.js';
import { ArchiveCache } from '../../src/operations/archive-cache.js';
// The built module: its worker thread runs the compiled folder-check-worker.js beside it (under the test
// runner the sources have none, and the checks stay on the calling thread).
import { EarlyFolderChecks } from '../../dist/operations/folder-checks.js';
import { SMALL_PACK, TRUST_RECENT } from '../unit/archive/fixtures.js';
import { writeFiles } from '../support/files.js';
import { stage } from '../support/stage.js';

/*
 * push's early stat checks (operations/folder-checks.ts): a worker thread started before the command line
 * is parsed checks the pack folders the archive cache remembers. Its word is taken only for the very record
 * the run holds, with the same check the run would make itself; anything it did not check is checked by
 * the run. The CLI's own path through it is in rerun-bin.test.ts (the built CLI on a changed tree).
 */

const temp = stage();
const MTIME = new Date('2000-01-01T00:00:00Z');

/** Two packs built once, remembered in a saved cache index. */
async function rememberedTree() {
  const tree = await temp.tempDir();
  const cacheDir = await temp.tempDir();
  const cache = new ArchiveCache(cacheDir);
  const dirs: string[] = [];
  for (const name of ['alpha', 'beta']) {
    const dir = join(tree, name);
    await writeFiles(dir, SMALL_PACK);
    const archive = await buildArchive(dir, join(tree, `${name}.tar.gz`), { name, version: '1.0.0', mtime: MTIME, walk: TRUST_RECENT });
    cache.rememberFolder(archive.tree!, MTIME, archive.contentKey);
    dirs.push(dir);
  }
  await cache.save();
  const remembered = (dir: string) => {
    const folder = new ArchiveCache(cacheDir).remembered(dir, MTIME);
    if (folder === undefined) throw new Error(`${dir} is not remembered`);
    return folder;
  };
  return { tree, cacheDir, dirs, remembered };
}

describe('early folder checks on a thread of their own', () => {
  it('answers for each folder of the run: unchanged holds, changed does not, as the run itself would find', async () => {
    const { tree, cacheDir, dirs, remembered } = await rememberedTree();
    const [alpha, beta] = dirs as [string, string];
    await writeFile(join(beta, 'README.md'), '# changed after the build, longer than before\n');
    const before = Date.now();
    const checks = EarlyFolderChecks.start({ cacheDir, cwd: tree, words: ['--recursive', '.'] });
    if (checks === undefined) throw new Error('the built folder-check-worker.js is missing: run npm run build');
    try {
      checks.adopt([alpha, beta]);
      const a = await checks.checked(remembered(alpha));
      const b = await checks.checked(remembered(beta));
      expect(a?.holds).toBe(true);
      expect(remembered(alpha).holds()).toBe(true);
      expect(b?.holds).toBe(false);
      expect(remembered(beta).holds()).toBe(false);
      // Checked from when the worker began, and the folder it checked (a build must find nothing changed since).
      const st = await stat(alpha);
      expect(a?.since.folder).toEqual({ dev: st.dev, ino: st.ino });
      expect(a?.since.sinceMs).toBeGreaterThanOrEqual(before - 1);
      expect(a?.since.sinceMs).toBeLessThanOrEqual(Date.now());
    } finally {
      await checks.close();
    }
  });

  it('leaves to the run a folder it did not check, or whose record the run reads differently', async () => {
    const { tree, cacheDir, dirs, remembered } = await rememberedTree();
    const [alpha, beta] = dirs as [string, string];
    const checks = EarlyFolderChecks.start({ cacheDir, cwd: tree, words: [] });
    if (checks === undefined) throw new Error('the built folder-check-worker.js is missing: run npm run build');
    try {
      checks.adopt([alpha]); // beta is not one of the run's folders
      const folder = remembered(alpha);
      // The index was rewritten between the two reads: another stat tree, another key.
      expect(await checks.checked({ ...folder, tree: { ...folder.tree, digest: '0'.repeat(64) } })).toBeUndefined();
      expect(await checks.checked({ ...folder, key: 'another-key' })).toBeUndefined();
      expect(await checks.checked(folder)).toEqual({ holds: true, since: expect.objectContaining({ folder: expect.anything() }) });
      // Never checked: answered once the worker is done with the run's list, not waited on forever.
      expect(await checks.checked(remembered(beta))).toBeUndefined();
      expect(await realpath(beta)).toBe(remembered(beta).root);
    } finally {
      await checks.close();
    }
  });

  it('answers "not checked" once closed, and a worker no run adopted ends with closeUnadopted', async () => {
    const { tree, cacheDir, dirs, remembered } = await rememberedTree();
    const unadopted = EarlyFolderChecks.start({ cacheDir, cwd: tree, words: [tree] });
    if (unadopted === undefined) throw new Error('the built folder-check-worker.js is missing: run npm run build');
    await unadopted.closeUnadopted();
    expect(await unadopted.checked(remembered(dirs[0] as string))).toBeUndefined();
  });
});
