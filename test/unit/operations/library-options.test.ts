import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyPacks, openTarget, PaletteClient, pushPacks, syncPaletteRegistry } from '../../../src/index.js';
import { startPaletteStandin } from '../../support/palette-standin.js';
import { writePack } from '../../support/packs.js';
import { setup } from '../../support/stage.js';

/*
 * A library caller's numeric options are refused before any work, as the CLI refuses its flags out of range: NaN as
 * `concurrency` hung pushPacks for good and crashed copyPacks with a TypeError (no code to branch on), and a Palette
 * sync polled with no pause when given 0.
 */
const w = setup(async (stack) => {
  const dir = await stack.tempDir();
  const pack = await writePack(join(dir, 'pack'), { name: 'opt-a', version: '1.0.0' });
  const source = await openTarget({ ociLayout: join(dir, 'source') });
  stack.add(source.store);
  expect((await pushPacks(source, { packs: [pack] })).summary.published).toBe(1);
  const palette = stack.add(await startPaletteStandin({ keys: { k: { role: 'tenant-admin' } } }));
  return { dir, pack, source, palette };
});

const entries = (dir: string) => readdir(dir).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? [] : Promise.reject(err)));

describe('library options out of range', () => {
  it.each([[Number.NaN], [0], [-1], [1.5]])('pushPacks and copyPacks refuse concurrency %s, writing nothing', async (concurrency) => {
    const out = join(w.dir, `out-${String(concurrency)}`);
    const target = await openTarget({ ociLayout: out });
    try {
      await expect(pushPacks(target, { packs: [w.pack], concurrency })).rejects.toMatchObject({
        code: 'USAGE',
        message: `pushPacks: concurrency must be a whole number of 1 or more, not ${String(concurrency)}`,
      });
      await expect(copyPacks(w.source, target, { all: true, concurrency })).rejects.toMatchObject({
        code: 'USAGE',
        message: `copyPacks: concurrency must be a whole number of 1 or more, not ${String(concurrency)}`,
      });
      expect(await entries(out)).toEqual([]);
    } finally {
      await target.store.close();
    }
  });

  it.each([[''], ['  ']])('openTarget refuses ociLayout %j (was: the working directory, where a push wrote blobs/ and index.json)', async (ociLayout) => {
    await expect(openTarget({ ociLayout })).rejects.toMatchObject({ code: 'USAGE', message: 'openTarget: ociLayout is empty', hint: 'give the layout folder, or leave ociLayout out for ./oci-packs' });
  });

  it.each([
    ['pollIntervalMs', 0],
    ['pollIntervalMs', Number.NaN],
    ['timeoutMs', -1],
    ['timeoutMs', 2 ** 31],
  ])('syncPaletteRegistry refuses %s %s before calling Palette', async (name, ms) => {
    const before = w.palette.requests.length;
    const client = new PaletteClient({ endpoint: w.palette.url, apiKey: 'k' });
    await expect(syncPaletteRegistry(client, { host: 'registry.example.com', basePath: 'packs' }, { packs: [], [name]: ms })).rejects.toMatchObject({
      code: 'USAGE',
      message: `Palette sync: ${name} must be a number of milliseconds above 0 and at most 2147483647, not ${String(ms)}`,
    });
    expect(w.palette.requests.length).toBe(before);
  });
});
