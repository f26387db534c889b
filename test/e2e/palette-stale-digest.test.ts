import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipWaits } from '../support/clock.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { paletteLabWithHello } from '../support/published.js';
import { registryAdmin } from '../support/registry-admin.js';
import { setup } from '../support/stage.js';

/*
 * A version deleted from the registry and published again (a bad release withdrawn, then fixed under the same
 * version) is new to the registry, so push sent a plain sync; but Palette still listed the version from the first
 * artifact and, caching digests, kept that one (palette-api.md 5): the run ended 0, "visible", while Palette served
 * the deleted artifact. Now a version published as new that Palette already lists forces the sync, and names why.
 */

const KEY = `apikey-${Math.random().toString(36).slice(2)}-tenant-admin`;
const clock = skipWaits();
const w = setup((stack) => paletteLabWithHello(stack, 'packpub-palette-stale-', KEY, clock, { shared: true }));
const REPO = () => `${w.under('packs')}/spectro-packs/archive/app`;
const push = (pack: string) => runCli(['push', pack, '--registry', `${w.registry.host}/${w.under('packs')}`, '--palette-sync', '--palette-poll-interval', '0.02', '--palette-timeout', '60', '--no-cache'], { env: w.env });

describe('a version deleted from the registry and published again', () => {
  it('push --palette-sync forces the sync, and Palette then holds the new digest (was: a plain sync, the old digest kept, exit 0)', async () => {
    const first = await push(await writePack(join(w.root, 'first'), { name: 'app', version: '1.0.0', files: { 'a.txt': 'first' } }));
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const admin = registryAdmin(w.registry);
    const old = await admin.digestOf(REPO(), '1.0.0');
    expect(w.packRegistry()?.index.get('app')?.get('1.0.0')?.digest).toBe(old);
    await admin.deleteManifest(REPO(), old as string);

    const again = await push(await writePack(join(w.root, 'second'), { name: 'app', version: '1.0.0', files: { 'a.txt': 'second' } }));
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain('published app:1.0.0');
    expect(again.stderr).toContain('palette: sync started with forceSync (Palette lists app:1.0.0 from an earlier artifact, since deleted, and keeps its digest unless forced)');
    expect(again.stdout).toMatch(/visible in Palette app:1\.0\.0 \(packUid [0-9a-f]{24}\)/);
    const now = await admin.digestOf(REPO(), '1.0.0');
    expect(now).not.toBe(old);
    // Palette holds the artifact published now, read by a forced sync; it kept no stale digest.
    expect(w.packRegistry()?.index.get('app')?.get('1.0.0')?.digest).toBe(now);
    expect(w.packRegistry()?.syncRequests.map((r) => r.force)).toEqual([false, true]);
    expect(w.packRegistry()?.staleVersions).toEqual([]);
  });

  it('a new version Palette does not list yet is synced plainly, as before', async () => {
    const run = await push(await writePack(join(w.root, 'third'), { name: 'app', version: '1.1.0' }));
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stderr).toContain('palette: sync started\n');
    expect(w.packRegistry()?.syncRequests.at(-1)?.force).toBe(false);
  });
});
