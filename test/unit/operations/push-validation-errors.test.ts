import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openTarget, pushPacks } from '../../../src/index.js';
import { tempDir } from '../../support/files.js';
import { writePack } from '../../support/packs.js';

describe('push when validation itself fails', () => {
  it('ends with the error, not waiting forever, when more folders fail than packs run at once', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await writePack(join(dir, 'good'), { name: 'still-good', version: '1.0.0' });
      // Not folders at all: validatePack throws (a usage error), which is not a failing report.
      const missing = Array.from({ length: 6 }, (_, i) => join(dir, `missing-${i}`));
      const target = await openTarget({ ociLayout: join(dir, 'store') });
      try {
        const run = pushPacks(target, { packs: [...missing, join(dir, 'good')], concurrency: 2 });
        await expect(run).rejects.toMatchObject({ code: 'USAGE' });
        const { listPacks } = await import('../../../src/index.js');
        expect(await listPacks(target)).toEqual([]);
      } finally {
        await target.store.close();
      }
    } finally {
      await cleanup();
    }
  });
});
