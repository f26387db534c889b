import { lstatSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openTarget, pullPack, pushPacks, type PushEvent } from '../../src/index.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { tempPack, writePack } from '../support/packs.js';
import { settledPastRacyMargin } from '../support/push-setup.js';
import { stage } from '../support/stage.js';

/*
 * A pack folder edited while packpub works on it (an editor saving, a `git checkout`, a generator still
 * running). What is published must be what was validated: never content that was never checked, under the
 * version the checked pack.json named. The edits are made from the run's own `validated` event, which
 * fires after the pack's files were checked and before its archive is built: no timing involved.
 */

const stack = stage();

/** The version the pack.json inside `<repo>:<tag>` of the layout names. */
async function publishedVersion(layout: string, name: string, tag: string): Promise<string> {
  const target = await openTarget({ ociLayout: layout });
  const out = await stack.tempDir('packpub-robust-pull-');
  try {
    await pullPack(target, { name, version: tag }, { outDir: out });
  } finally {
    await target.store.close();
  }
  const json = JSON.parse(await readFile(join(out, 'pack.json'), 'utf8')) as { version: string };
  return json.version;
}

/** Push `dir` into the layout; `onValidated` runs synchronously when the pack's verdict is in, before its build. */
async function push(layout: string, dir: string, cacheDir: string, onValidated?: () => void) {
  const target = await openTarget({ ociLayout: layout });
  try {
    return await pushPacks(target, {
      packs: [dir],
      cacheDir,
      onEvent: (e: PushEvent) => {
        if (e.type === 'validated') onValidated?.();
      },
    });
  } finally {
    await target.store.close();
  }
}

/**
 * Wait (a few ms at most) until file times, which come from the kernel's coarse clock, are past the time this is
 * called: an edit made then is visibly later than when the run began checking the pack (the run cannot see
 * an edit within the same clock tick, as git cannot).
 */
function fileClockPastNow(dir: string): void {
  const now = Date.now();
  const probe = join(dirname(dir), 'clock-probe');
  do writeFileSync(probe, '');
  while (lstatSync(probe).ctimeMs < now + 1);
}

/** Rewrite pack.json with another version, synchronously (so it lands before the build starts). */
function bumpVersionSync(dir: string, version: string): void {
  fileClockPastNow(dir);
  const path = join(dir, 'pack.json');
  const json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  writeFileSync(path, `${JSON.stringify({ ...json, version }, null, 2)}\n`);
}

describe('a pack folder that changes while packpub publishes it', () => {
  it('is not published when pack.json changes between its validation and its build; a re-run publishes what it then validates', async () => {
    const { root, pack: dir } = await tempPack(stack, { name: 'robust-change', version: '1.0.0' });
    const layout = join(root, 'layout');
    const cache = join(root, 'cache');

    const report = await push(layout, dir, cache, () => bumpVersionSync(dir, '2.0.0'));
    expect(report.results).toHaveLength(1);
    const [result] = report.results;
    expect(result?.status).toBe('failed');
    expect(result?.error?.code).toBe('PACK_FILE');
    expect(result?.error?.message).toContain('pack.json changed while packpub was packing');
    // Nothing was published: neither the version validated nor the one the folder holds now.
    expect([...(await layoutHoldings(layout)).tags.keys()]).toEqual([]);

    const again = await push(layout, dir, cache);
    expect(again.results.map((r) => `${r.name}:${r.version} ${r.status}`)).toEqual(['robust-change:2.0.0 published']);
    const holdings = await layoutHoldings(layout);
    expect(holdings.problems).toEqual([]);
    expect([...holdings.tags.keys()]).toEqual(['spectro-packs/archive/robust-change:2.0.0']);
    expect(await publishedVersion(layout, 'robust-change', '2.0.0')).toBe('2.0.0');
  });

  it('is not published under a verdict remembered from an earlier run when it changes before its build', async () => {
    const { root, pack: dir } = await tempPack(stack, { name: 'robust-remembered', version: '1.0.0' });
    const cache = join(root, 'cache');
    // First run into one layout, late enough that the cache records the folder's stat signatures.
    await settledPastRacyMargin(dir);
    const first = await push(join(root, 'first'), dir, cache);
    expect(first.results.map((r) => r.status)).toEqual(['published']);

    // Second run into a new layout: the verdict comes from the cache (nothing is validated), the archive
    // must be built for the new target, and pack.json changes in between.
    const layout = join(root, 'second');
    const report = await push(layout, dir, cache, () => bumpVersionSync(dir, '3.0.0'));
    expect(report.results.map((r) => `${r.version} ${r.status} ${r.error?.code}`)).toEqual(['1.0.0 failed PACK_FILE']);
    expect([...(await layoutHoldings(layout)).tags.keys()]).toEqual([]);

    const again = await push(layout, dir, cache);
    expect(again.results.map((r) => `${r.name}:${r.version} ${r.status}`)).toEqual(['robust-remembered:3.0.0 published']);
    expect(await publishedVersion(layout, 'robust-remembered', '3.0.0')).toBe('3.0.0');
  });

  it('is not published when a file is rewritten with the same size after validation', async () => {
    const { root, pack: dir } = await tempPack(stack, { name: 'robust-same-size', version: '1.0.0' });
    const layout = join(root, 'layout');
    const values = join(dir, 'values.yaml');
    const before = readFileSync(values, 'utf8');
    // Same size, so no size check can see it: only when it changed can.
    const report = await push(layout, dir, join(root, 'cache'), () => {
      fileClockPastNow(dir);
      writeFileSync(values, before.replace('replicas: 1', 'replicas: 9'));
    });
    expect(report.results.map((r) => `${r.status} ${r.error?.code}`)).toEqual(['failed PACK_FILE']);
    expect(report.results[0]?.error?.message).toContain('values.yaml changed while packpub was packing');
    expect([...(await layoutHoldings(layout)).tags.keys()]).toEqual([]);
  });

  it('is not published when a folder above it is swapped for another tree (a release folder renamed mid-run)', async () => {
    const root = await stack.tempDir('packpub-robust-swap-');
    const dir = await writePack(join(root, 'release', 'pack'), { name: 'robust-swap', version: '1.0.0' });
    // The other tree exists before the run begins: none of its files changed during the run.
    await writePack(join(root, 'staging', 'pack'), { name: 'robust-swap', version: '7.0.0' });
    const layout = join(root, 'layout');
    const report = await push(layout, dir, join(root, 'cache'), () => {
      renameSync(join(root, 'release'), join(root, 'release.old'));
      renameSync(join(root, 'staging'), join(root, 'release'));
    });
    expect(report.results.map((r) => `${r.version} ${r.status} ${r.error?.code}`)).toEqual(['1.0.0 failed PACK_FILE']);
    expect(report.results[0]?.error?.message).toContain('the pack folder changed while packpub was packing');
    expect([...(await layoutHoldings(layout)).tags.keys()]).toEqual([]);
  });
});
