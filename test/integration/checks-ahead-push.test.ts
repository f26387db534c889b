import { lstatSync, writeFileSync } from 'node:fs';
import { readFile, realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openTarget, pullPack, pushPacks } from '../../src/index.js';
import { archiveMtime } from '../../src/archive/format.js';
import { ArchiveCache, type FolderCheckAhead } from '../../src/operations/archive-cache.js';
import { tempPack } from '../support/packs.js';
import { settledPastRacyMargin } from '../support/push-setup.js';
import { stage } from '../support/stage.js';

/*
 * A push that takes the check-ahead worker's answers (bin/packpub.js starts it; operations/precheck.ts) makes
 * no check of its own of a folder answered for: the answer's start stands for it. What it publishes must still
 * follow the folders as they are: a folder the answer found changed is read and published again.
 */

const stack = stage();

describe('a push that takes answers checked ahead', () => {
  it('republishes the folder an answer found changed, and confirms the one it found unchanged', async () => {
    const a = await tempPack(stack, { name: 'ahead-a', version: '1.0.0' });
    const b = await tempPack(stack, { name: 'ahead-b', version: '1.0.0' });
    const layout = join(a.root, 'layout');
    const cacheDir = join(a.root, 'cache');
    await settledPastRacyMargin(a.pack);
    await settledPastRacyMargin(b.pack);
    const push = async (checksAhead?: { answer: (root: string) => FolderCheckAhead | undefined }) => {
      const target = await openTarget({ ociLayout: layout });
      try {
        return await pushPacks(target, { packs: [a.pack, b.pack], cacheDir, env: {}, force: true, ...(checksAhead === undefined ? {} : { checksAhead }) });
      } finally {
        await target.store.close();
      }
    };
    expect((await push()).results.map((r) => r.status)).toEqual(['published', 'published']);

    // Edited once the file clock is past the first run: same size, other bytes.
    const readme = join(a.pack, 'README.md');
    const text = await readFile(readme, 'utf8');
    const probe = join(dirname(a.pack), 'clock-probe');
    const now = Date.now();
    do writeFileSync(probe, '');
    while (lstatSync(probe).ctimeMs < now + 1);
    writeFileSync(readme, text.toUpperCase());

    const roots = [await realpath(a.pack), await realpath(b.pack)];
    const answers = new Map<string, FolderCheckAhead>();
    new ArchiveCache(cacheDir).checkFoldersBelow(roots, archiveMtime({}), (root, check) => answers.set(root, check));
    expect(roots.map((root) => answers.get(root)?.held)).toEqual([false, true]);

    const again = await push({ answer: (root) => answers.get(root) });
    expect(again.results.map((r) => [r.name, r.status])).toEqual([
      ['ahead-a', 'overwritten'],
      ['ahead-b', 'unchanged'],
    ]);
    const target = await openTarget({ ociLayout: layout });
    const out = await stack.tempDir('packpub-ahead-pull-');
    try {
      await pullPack(target, { name: 'ahead-a', version: '1.0.0' }, { outDir: out });
    } finally {
      await target.store.close();
    }
    expect(await readFile(join(out, 'README.md'), 'utf8')).toBe(text.toUpperCase());
  });
});
