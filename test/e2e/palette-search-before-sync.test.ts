import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipWaits } from '../support/clock.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { paletteLabWithHello } from '../support/published.js';
import { registryAdmin } from '../support/registry-admin.js';
import { setup } from '../support/stage.js';

/*
 * Before its sync, push --palette-sync looks for versions it published as new that Palette already lists (an earlier
 * artifact's, since deleted: the sync is then forced, d22e7a0). That took one pack read per name: a bulk first publish
 * of 200 packs waited 200 reads (33 s at 6 a second) before the sync. Now, with more than two names, one pack search of
 * the registry (POST /v1/packs/search, 50 names a page) comes first, and only the names it lists are read.
 */

const KEY = `apikey-${Math.random().toString(36).slice(2)}-tenant-admin`;
const clock = skipWaits();
const w = setup((stack) => paletteLabWithHello(stack, 'packpub-palette-search-', KEY, clock, { shared: true }));
const fast = ['--palette-poll-interval', '0.02', '--palette-timeout', '60', '--no-cache'];

/** The pack calls (method and path) a run made before its first sync request. */
function packCallsBeforeSync(from: number): string[] {
  const run = w.palette.requests.slice(from);
  const sync = run.findIndex((r) => r.method === 'POST' && r.path.endsWith('/sync'));
  expect(sync).toBeGreaterThan(-1);
  return run.slice(0, sync).filter((r) => r.prefix === '/v1/packs').map((r) => `${r.method} ${r.path.replace(w.uid, 'UID')}`);
}

async function packs(dir: string, names: string[], files: Record<string, string> = {}): Promise<string[]> {
  return Promise.all(names.map((name) => writePack(join(w.root, dir, name), { name, version: '1.0.0', files })));
}

/**
 * Push of the packs `names` written under `dir`, the first of them deleted from the registry before (a version
 * published again): exit 0, only that name read besides the two searches, and the sync forced.
 */
async function pushDeletedAgain(dir: string, names: string[], files: Record<string, string>): Promise<void> {
  const again = names[0] ?? '';
  const from = w.palette.requests.length;
  const run = await runCli(['push', ...(await packs(dir, names, files)), ...w.at, '--palette-sync', ...fast], { env: w.env });
  expect(run.code, run.stdout + run.stderr).toBe(0);
  expect(run.stderr).toContain(`palette: sync started with forceSync (Palette lists ${again}:1.0.0 from an earlier artifact, since deleted, and keeps its digest unless forced)`);
  expect(packCallsBeforeSync(from)).toEqual(['POST /v1/packs/search', 'POST /v1/packs/search', `GET /v1/packs/${again}/registries/UID`]);
  expect(w.packRegistry()?.syncRequests.at(-1)?.force).toBe(true);
}

describe('push --palette-sync of many new packs', () => {
  it('one search instead of a read per name; each pack visible, the sync plain (was: 5 reads)', async () => {
    const from = w.palette.requests.length;
    const names = ['s1', 's2', 's3', 's4', 's5'];
    const run = await runCli(['push', ...(await packs('first', names)), ...w.at, '--palette-sync', ...fast], { env: w.env });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    for (const n of names) expect(run.stdout).toMatch(new RegExp(`^visible in Palette ${n}:1\\.0\\.0 \\(packUid [0-9a-f]{24}\\)$`, 'm'));
    // The search, then the search of deprecated packs (which Palette's default filter may leave out).
    expect(packCallsBeforeSync(from)).toEqual(['POST /v1/packs/search', 'POST /v1/packs/search']);
    expect(w.packRegistry()?.syncRequests.map((r) => r.force)).toEqual([false]);
    expect([...(w.packRegistry()?.index.keys() ?? [])].sort()).toEqual(names);
    expect(w.palette.violations()).toEqual([]);
  });

  it('a version deleted and published again among them: only its name is read, and the sync is forced (d22e7a0 kept)', async () => {
    const admin = registryAdmin(w.registry);
    const repo = `${w.under('packs')}/spectro-packs/archive/s1`;
    const old = await admin.digestOf(repo, '1.0.0');
    await admin.deleteManifest(repo, old as string);
    await pushDeletedAgain('second', ['s1', 't1', 't2'], { 'a.txt': 'second' });
    const now = await admin.digestOf(repo, '1.0.0');
    expect(now).not.toBe(old);
    expect(w.packRegistry()?.index.get('s1')?.get('1.0.0')?.digest).toBe(now);
    expect(w.packRegistry()?.staleVersions).toEqual([]);
  });

  it('a deprecated pack a Palette search leaves out by default, deleted and published again: still read, and the sync forced', async () => {
    // Whether Palette's search lists deprecated packs without a state filter is not documented; a pack read does.
    w.palette.deprecated = new Set(['s2']);
    w.palette.searchHidesDeprecated = true;
    try {
      const admin = registryAdmin(w.registry);
      const repo = `${w.under('packs')}/spectro-packs/archive/s2`;
      await admin.deleteManifest(repo, (await admin.digestOf(repo, '1.0.0')) as string);
      await pushDeletedAgain('deprecated', ['s2', 'd1', 'd2'], { 'a.txt': 'again' });
      expect(w.packRegistry()?.index.get('s2')?.get('1.0.0')?.digest).toBe(await admin.digestOf(repo, '1.0.0'));
    } finally {
      w.palette.deprecated = new Set();
      w.palette.searchHidesDeprecated = false;
    }
  });

  it('a search that finds nothing answered 404 (as Palette\'s Go SDK reads it): no pack read, plain sync', async () => {
    const other = w.palette.addRegistry('basic', 'empty', { endpoint: `http://${w.registry.host}`, baseContentPath: w.under('empty'), providerType: 'pack', isSyncSupported: true, auth: { type: 'noAuth' } });
    w.palette.searchNone404 = true;
    try {
      const from = w.palette.requests.length;
      const names = ['u1', 'u2', 'u3'];
      const run = await runCli(['push', ...(await packs('third', names)), '--registry', `${w.registry.host}/${w.under('empty')}`, '--palette-sync', ...fast], { env: w.env });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(packCallsBeforeSync(from)).toEqual(['POST /v1/packs/search', 'POST /v1/packs/search']);
      expect(w.palette.requests.slice(from).filter((r) => r.path === '/v1/packs/search').map((r) => r.status)).toEqual([404, 404]);
      expect(w.palette.registries.get(other)?.syncRequests.map((r) => r.force)).toEqual([false]);
      expect([...(w.palette.registries.get(other)?.index.keys() ?? [])].sort()).toEqual(names);
    } finally {
      w.palette.searchNone404 = false;
    }
  });

  it('two new names: read each, as before (a search would save nothing)', async () => {
    const from = w.palette.requests.length;
    const run = await runCli(['push', ...(await packs('fourth', ['v1', 'v2'])), ...w.at, '--palette-sync', ...fast], { env: w.env });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(packCallsBeforeSync(from)).toEqual(['GET /v1/packs/v1/registries/UID', 'GET /v1/packs/v2/registries/UID']);
  });
});
