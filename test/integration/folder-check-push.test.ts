import { lstatSync, readFileSync, writeFileSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openTarget, pushPacks } from '../../src/index.js';
import { foldersUnder, type FolderVerdict } from '../../src/operations/archive-cache.js';
import type { FolderChecks } from '../../src/operations/folder-check.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { writePack } from '../support/packs.js';
import { settledPastRacyMargin } from '../support/push-setup.js';
import { stage } from '../support/stage.js';

/*
 * A push taking the verdicts the folder-check worker reached ahead (src/operations/folder-check.ts): they
 * are checks made earlier in the run, so what is built must not have changed since that earlier moment,
 * not only since the main thread took the verdict. The worker runs only in the built CLI; here its
 * verdicts are computed by the same function it calls, and handed over as it hands them.
 */

const stack = stage();

async function push(layout: string, dir: string, cacheDir: string, folderChecks?: FolderChecks) {
  const target = await openTarget({ ociLayout: layout });
  try {
    return await pushPacks(target, { packs: [dir], cacheDir, ...(folderChecks === undefined ? {} : { folderChecks }) });
  } finally {
    await target.store.close();
  }
}

/** Checks that answer `verdict` for its folder, as the worker would have (everything else: not covered). */
function aheadOf(cacheDir: string, verdict: FolderVerdict): FolderChecks {
  return { cacheDir, finished: Promise.resolve(), verdict: async (root) => (root === verdict.root ? verdict : undefined), close: async () => undefined };
}

describe('push with folder verdicts reached ahead on a worker thread', () => {
  it('takes an unchanged verdict, and refuses to publish a pack that changed after the worker checked it', async () => {
    const root = await stack.tempDir('packpub-ahead-');
    const dir = await writePack(join(root, 'pack'), { name: 'ahead-change', version: '1.0.0' });
    const real = await realpath(dir);
    const cache = join(root, 'cache');
    await settledPastRacyMargin(dir);
    expect((await push(join(root, 'first'), dir, cache)).results.map((r) => r.status)).toEqual(['published']);

    // Unchanged: the worker's verdict stands in for the check, and the archive the cache remembers is used.
    const same = foldersUnder(cache, [real]).check(real);
    expect(same?.key).toBeDefined();
    const unchanged = await push(join(root, 'first'), dir, cache, aheadOf(cache, same as FolderVerdict));
    expect(unchanged.results.map((r) => `${r.version} ${r.status}`)).toEqual(['1.0.0 unchanged']);

    // The worker checks the folder; then pack.json changes (visibly later on the file clock) before the main
    // thread takes that verdict. A new target needs the archive built: the build must see the change.
    const verdict = foldersUnder(cache, [real]).check(real) as FolderVerdict;
    expect(verdict.key).toBe(same?.key);
    const probe = join(root, 'clock-probe');
    do writeFileSync(probe, '');
    while (lstatSync(probe).ctimeMs < verdict.checked.sinceMs + 1);
    const json = JSON.parse(readFileSync(join(dir, 'pack.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'pack.json'), `${JSON.stringify({ ...json, version: '2.0.0' }, null, 2)}\n`);

    const layout = join(root, 'second');
    const report = await push(layout, dir, cache, aheadOf(cache, verdict));
    expect(report.results.map((r) => `${r.version} ${r.status} ${r.error?.code}`)).toEqual(['1.0.0 failed PACK_FILE']);
    expect([...(await layoutHoldings(layout)).tags.keys()]).toEqual([]);
  });
});
