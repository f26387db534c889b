import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as packpub from '../../src/index.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * pushPacks resolves with a report whatever the packs' outcome. The library exported copySucceeded and
 * deleteSucceeded but not the push's own check, and README's example printed the summary only: a program
 * testing `summary.failed === 0` (the word a user reaches for) took an invalid pack, nothing published, for success.
 */

const w = setup(async (stack) => ({ root: await stack.tempDir('packpub-lib-outcome-') }));

describe('the library tells a push that did what was asked from one that did not', () => {
  it('pushSucceeded is false for a run with an invalid pack (summary.failed 0), true for a clean one', async () => {
    const good = await writePack(join(w.root, 'packs/good'), { name: 'good', version: '1.0.0' });
    const bad = await writePack(join(w.root, 'packs/bad'), { name: 'bad', version: '1.0.0', packJson: { layer: 'bogus' } });
    const target = await packpub.openTarget({ ociLayout: join(w.root, 'layout') });
    try {
      const invalid = await packpub.pushPacks(target, { packs: [bad] });
      expect(invalid.summary).toMatchObject({ invalid: 1, failed: 0, conflict: 0, published: 0 });
      expect(packpub.pushSucceeded(invalid)).toBe(false);
      expect(await packpub.listPacks(target)).toEqual([]);
      const clean = await packpub.pushPacks(target, { packs: [good] });
      expect(clean.summary).toMatchObject({ published: 1, invalid: 0, failed: 0 });
      expect(packpub.pushSucceeded(clean)).toBe(true);
    } finally {
      await target.store.close();
    }
  });
});
