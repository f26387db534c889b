import { existsSync } from 'node:fs';
import { readFile, realpath, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildArchive } from '../../../src/archive/index.js';
import { ArchiveCache, foldersUnder, type FolderVerdict } from '../../../src/operations/archive-cache.js';
import { checkFoldersAhead, startFolderChecks } from '../../../src/operations/folder-check.js';
import { SMALL_PACK, TRUST_RECENT } from '../archive/fixtures.js';
import { writeFiles } from '../../support/files.js';
import { stage } from '../../support/stage.js';

/*
 * The pack folders of a push checked ahead on a worker thread (src/operations/folder-check.ts): the same
 * verdicts as the main thread's own check, a change is never reported unchanged, and a folder the worker
 * does not cover, or a worker that fails, leaves the check to the main thread.
 */

const temp = stage();
const MTIME = new Date('2000-01-01T00:00:00Z');
/** The compiled worker (test/global-setup.ts builds dist/ before any test file runs). */
const WORKER = fileURLToPath(new URL('../../../dist/operations/folder-check-worker.js', import.meta.url));

/** A tree holding packs a and b under packs/ and c beside it, all remembered in one cache. */
async function rememberedTree() {
  const root = await realpath(await temp.tempDir());
  const dirs = { a: join(root, 'packs', 'a'), b: join(root, 'packs', 'b'), c: join(root, 'other', 'c') };
  const cacheDir = join(root, 'cache');
  const cache = new ArchiveCache(cacheDir);
  const keys: Record<string, string> = {};
  for (const [name, dir] of Object.entries(dirs)) {
    await writeFiles(dir, { ...SMALL_PACK, 'README.md': `# ${name}\n` });
    const archive = await buildArchive(dir, join(root, `${name}.tar.gz`), { name, version: '1.0.0', mtime: MTIME, walk: TRUST_RECENT });
    cache.rememberFolder(archive.tree!, MTIME, archive.contentKey);
    keys[name] = archive.contentKey;
  }
  await cache.save();
  return { root, dirs, cacheDir, keys };
}

const verdictsOf = (found: ReturnType<typeof foldersUnder>) => found.folders.map((f) => found.check(f));

describe('foldersUnder: the remembered folders in or below the paths a command names', () => {
  it('checks the folders below a root or named themselves, in path order, as folderKey does', async () => {
    const { root, dirs, cacheDir, keys } = await rememberedTree();
    const below = foldersUnder(cacheDir, [join(root, 'packs')]);
    expect(below.folders).toEqual([dirs.a, dirs.b]);
    expect(verdictsOf(below)).toEqual([
      { root: dirs.a, key: keys['a'], mtime: MTIME.getTime(), checked: { sinceMs: expect.any(Number), folder: expect.anything() } },
      { root: dirs.b, key: keys['b'], mtime: MTIME.getTime(), checked: { sinceMs: expect.any(Number), folder: expect.anything() } },
    ]);
    expect(foldersUnder(cacheDir, [dirs.c]).folders).toEqual([dirs.c]);
    // a name that only starts like a remembered folder is not its parent
    expect(foldersUnder(cacheDir, [join(root, 'pack')]).folders).toEqual([]);
    expect(foldersUnder(join(root, 'no-cache'), [root]).folders).toEqual([]);
  });

  it('never says unchanged for a folder whose content changed: same size, new time; grown; a file added', async () => {
    const { root, dirs, cacheDir, keys } = await rememberedTree();
    const readme = join(dirs.a, 'README.md');
    // Same bytes count, other content, and a time the signature did not record.
    await writeFile(readme, (await readFile(readme, 'utf8')).replace('a', 'z'));
    await utimes(readme, new Date('2020-01-01T00:00:00Z'), new Date('2020-01-01T00:00:00Z'));
    await writeFile(join(dirs.b, 'values.yaml'), 'pack:\n  namespace: grown\n');
    await writeFile(join(dirs.c, 'NOTES.md'), 'new\n');
    const verdicts = verdictsOf(foldersUnder(cacheDir, [root]));
    expect(verdicts.map((v) => [v?.root, v?.key])).toEqual([
      [dirs.c, undefined],
      [dirs.a, undefined],
      [dirs.b, undefined],
    ]);
    expect(Object.values(keys).every((k) => k.length > 0)).toBe(true);
  });
});

describe('ArchiveCache.folderKeyAhead: a verdict reached ahead stands in for the check', () => {
  it('takes a verdict with the same archive mtime, refuses a changed folder or another mtime, and checks the rest itself', async () => {
    const { dirs, cacheDir, keys } = await rememberedTree();
    const cache = new ArchiveCache(cacheDir);
    const answers = new Map<string, FolderVerdict>([
      [dirs.a, { root: dirs.a, key: keys['a'], mtime: MTIME.getTime(), checked: { sinceMs: 1_000, folder: { dev: 1, ino: 2 } } }],
      [dirs.b, { root: dirs.b, key: undefined, mtime: MTIME.getTime(), checked: { sinceMs: 1_000, folder: { dev: 1, ino: 2 } } }],
      [dirs.c, { root: dirs.c, key: keys['c'], mtime: MTIME.getTime() - 1, checked: { sinceMs: 1_000, folder: { dev: 1, ino: 2 } } }],
    ]);
    const ahead = async (root: string) => answers.get(root);
    // when and which folder it checked come with it: a later build must find that folder, unchanged since then
    expect(await cache.folderKeyAhead(dirs.a, MTIME, ahead)).toEqual({ root: dirs.a, key: keys['a'], checked: { sinceMs: 1_000, folder: { dev: 1, ino: 2 } } });
    // the worker found b changed: so it is, although the main thread's index would still know it
    expect(cache.folderKey(dirs.b, MTIME)?.key).toBe(keys['b']);
    expect(await cache.folderKeyAhead(dirs.b, MTIME, ahead)).toBeUndefined();
    // another SOURCE_DATE_EPOCH is another archive
    expect(await cache.folderKeyAhead(dirs.c, MTIME, ahead)).toBeUndefined();
    // not covered by the worker: checked here, a change included
    expect(await cache.folderKeyAhead(dirs.b, MTIME, async () => undefined)).toEqual({ root: dirs.b, key: keys['b'] });
    await writeFile(join(dirs.b, 'values.yaml'), 'pack:\n  namespace: grown\n');
    expect(await cache.folderKeyAhead(dirs.b, MTIME, async () => undefined)).toBeUndefined();
  });
});

describe('checkFoldersAhead: the worker thread', () => {
  it('answers each covered folder with its verdict, and nothing for a folder it does not cover', async () => {
    expect(existsSync(WORKER)).toBe(true);
    const { root, dirs, cacheDir, keys } = await rememberedTree();
    await writeFile(join(dirs.b, 'values.yaml'), 'pack:\n  namespace: grown\n');
    const checks = checkFoldersAhead({ cacheDir, paths: [join(root, 'packs'), join(root, 'no-such-folder')], otherwise: root }, WORKER);
    try {
      await checks.finished;
      expect(checks.cacheDir).toBe(cacheDir);
      expect(await checks.verdict(dirs.a)).toEqual({ root: dirs.a, key: keys['a'], mtime: MTIME.getTime(), checked: { sinceMs: expect.any(Number), folder: expect.anything() } });
      expect(await checks.verdict(dirs.b)).toEqual({ root: dirs.b, key: undefined, mtime: MTIME.getTime(), checked: { sinceMs: expect.any(Number), folder: expect.anything() } });
      expect(await checks.verdict(dirs.c)).toBeUndefined();
    } finally {
      await checks.close();
    }
  });

  it('leaves a folder to the main thread when it asks first: never checked twice, never waited for', async () => {
    const { root, dirs, cacheDir } = await rememberedTree();
    // Asked before the worker listed its folders: the caller is ahead, and checks them all itself.
    const early = checkFoldersAhead({ cacheDir, paths: [root], otherwise: root }, WORKER);
    expect(await early.verdict(dirs.a)).toBeUndefined();
    await early.finished;
    // told to stop, the worker checks no folder it had not begun (a verdict it reached before is still true)
    expect([undefined, { root: dirs.b, key: expect.any(String), mtime: MTIME.getTime(), checked: { sinceMs: expect.any(Number), folder: expect.anything() } }]).toContainEqual(await early.verdict(dirs.b));
    await early.close();
  });

  it('leaves every folder to the main thread when the worker fails', async () => {
    const { root, dirs, cacheDir } = await rememberedTree();
    const broken = join(root, 'broken-worker.mjs');
    await writeFile(broken, "throw new Error('no worker today');\n");
    const checks = checkFoldersAhead({ cacheDir, paths: [root], otherwise: root }, broken);
    expect(await checks.verdict(dirs.a)).toBeUndefined();
    await checks.close();
    await checks.close(); // idempotent
  });

  it('starts only for a push with the cache on, and only where its worker file is built', async () => {
    const { root, dirs, cacheDir, keys } = await rememberedTree();
    const env = { PACKPUB_CACHE_DIR: cacheDir };
    // the sources run here (vitest): no compiled worker beside folder-check.ts, so never started
    expect(startFolderChecks(['push', 'packs'], env, root)).toBeUndefined();
    // the compiled module, as the built CLI runs it
    const built = (await import(pathToFileURL(join(dirname(WORKER), 'folder-check.js')).href)) as typeof import('../../../src/operations/folder-check.js');
    for (const argv of [['validate', 'packs'], ['push', 'packs', '--no-cache'], ['push', '--help']]) expect(built.startFolderChecks(argv, env, root)).toBeUndefined();
    // the words after push that name folders (relative to the working folder), flags and their values skipped
    const named = built.startFolderChecks(['push', 'packs', '--recursive', '--registry', '127.0.0.1:5000/x'], env, root);
    try {
      await named?.finished;
      expect(await named?.verdict(dirs.a)).toEqual({ root: dirs.a, key: keys['a'], mtime: MTIME.getTime(), checked: { sinceMs: expect.any(Number), folder: expect.anything() } });
      expect(await named?.verdict(dirs.c)).toBeUndefined();
    } finally {
      await named?.close();
    }
    // no folder named (packs listed in packpub.yaml): the working folder
    const here = built.startFolderChecks(['push', '--registry', '127.0.0.1:5000/x'], env, join(root, 'other'));
    try {
      await here?.finished;
      expect(await here?.verdict(dirs.c)).toEqual({ root: dirs.c, key: keys['c'], mtime: MTIME.getTime(), checked: { sinceMs: expect.any(Number), folder: expect.anything() } });
      expect(await here?.verdict(dirs.a)).toBeUndefined();
    } finally {
      await here?.close();
    }
  });
});
