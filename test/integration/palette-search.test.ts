import { describe, expect, it } from 'vitest';
import { PaletteClient } from '../../src/palette/client.js';
import { skipWaits } from '../support/clock.js';
import { startPaletteStandin, type IndexedPack } from '../support/palette-standin.js';
import { setup } from '../support/stage.js';

/*
 * PaletteClient.packNamesIn, the pack search push --palette-sync makes before its sync instead of a read per new
 * name: it pages by listmeta.continue (50 a page), keeps only packs listed through the registry asked for, and gives
 * up (undefined: the caller reads each pack) when the list would take more pages than it may save reads, or when the
 * answer is not as documented. It never reads an odd answer as "not listed".
 */

const KEY = `apikey-${Math.random().toString(36).slice(2)}-tenant-admin`;
const clock = skipWaits();
const w = setup(async (stack) => {
  const palette = stack.add(await startPaletteStandin({ keys: { [KEY]: { role: 'tenant-admin' } }, clock }));
  const spec = (base: string) => ({ endpoint: 'https://r.example', baseContentPath: base, providerType: 'pack', isSyncSupported: true, auth: { type: 'noAuth' } });
  const mine = palette.addRegistry('basic', 'mine', spec('a'));
  const other = palette.addRegistry('basic', 'other', spec('b'));
  const entry = (n: string): Map<string, IndexedPack> => new Map([['1.0.0', { digest: `sha256:${n}`, packUid: n, values: '' }]]);
  // 120 packs through `mine` (three pages), and `shared` and `theirs` through `other` (shared through both).
  for (let i = 0; i < 120; i++) palette.registries.get(mine)?.index.set(`p${String(i).padStart(3, '0')}`, entry(`p${i}`));
  palette.registries.get(mine)?.index.set('shared', entry('s1'));
  palette.registries.get(other)?.index.set('shared', entry('s2'));
  palette.registries.get(other)?.index.set('theirs', entry('t'));
  const client = new PaletteClient({ endpoint: palette.url, apiKey: KEY, clock });
  stack.defer(() => client.close());
  return { palette, mine, other, client };
});

const searches = (from: number) => w.palette.requests.slice(from).filter((r) => r.path === '/v1/packs/search');

describe('the pack search of one registry', () => {
  it('pages through every name listed through it (3 pages of at most 50), and none of another registry only', async () => {
    const from = w.palette.requests.length;
    const names = await w.client.packNamesIn(w.mine, 10);
    expect(names?.size).toBe(121);
    expect(names?.has('p000')).toBe(true);
    expect(names?.has('p119')).toBe(true);
    expect(names?.has('shared')).toBe(true);
    expect(names?.has('theirs')).toBe(false);
    const asked = searches(from);
    // Three pages, then the search of deprecated packs (none: one page).
    expect(asked.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(asked[0]?.query).toBe('?limit=50');
    expect(asked[3]?.query).toBe('?limit=50');
    expect(asked[1]?.query).toMatch(/^\?limit=50&continue=[0-9a-f]+&offset=50$/);
    expect(w.palette.violations()).toEqual([]);
  });

  it('more pages than it may take: undefined after the first (the caller reads each pack instead)', async () => {
    const from = w.palette.requests.length;
    expect(await w.client.packNamesIn(w.mine, 2)).toBeUndefined();
    expect(searches(from)).toHaveLength(1);
  });

  it('an answer not as documented (items not a list, a registry without its uid): undefined, never "none listed"', async () => {
    try {
      w.palette.searchItemsAnswer = () => ({ shared: {} });
      expect(await w.client.packNamesIn(w.other, 5)).toBeUndefined();
      w.palette.searchItemsAnswer = (items) => items.map((i) => ({ ...i, spec: { ...i.spec, registries: [{ name: 'other' }] } }));
      expect(await w.client.packNamesIn(w.other, 5)).toBeUndefined();
      w.palette.searchItemsAnswer = (items) => items.map((i) => ({ ...i, spec: { ...i.spec, name: undefined }, metadata: {} }));
      expect(await w.client.packNamesIn(w.other, 5)).toBeUndefined();
    } finally {
      w.palette.searchItemsAnswer = undefined;
    }
    expect(await w.client.packNamesIn(w.other, 5)).toEqual(new Set(['shared', 'theirs']));
  });

  it('a Palette whose search leaves deprecated packs out by default: their names come from the search of deprecated packs (was: missed)', async () => {
    w.palette.deprecated = new Set(['theirs']);
    w.palette.searchHidesDeprecated = true;
    try {
      const from = w.palette.requests.length;
      expect(await w.client.packNamesIn(w.other, 1)).toEqual(new Set(['shared', 'theirs']));
      expect(searches(from)).toHaveLength(2);
      // Its first page comes on top of the pages the first search may take; no more.
      expect(await w.client.packNamesIn(w.mine, 3)).toBeDefined();
      w.palette.deprecated = new Set(Array.from({ length: 60 }, (_, i) => `p${String(i).padStart(3, '0')}`));
      const more = w.palette.requests.length;
      expect(await w.client.packNamesIn(w.mine, 2)).toBeUndefined();
      expect(searches(more)).toHaveLength(3);
    } finally {
      w.palette.deprecated = new Set();
      w.palette.searchHidesDeprecated = false;
    }
  });

  it('a 500 that lasts is an error, a refusal (403: a wrong project) undefined: never "none listed"', async () => {
    w.palette.fault = { method: 'POST', path: /^\/v1\/packs\/search$/, status: 500, times: 100 };
    try {
      await expect(w.client.packNamesIn(w.other, 5)).rejects.toThrow(/Palette answered 500 to search the packs of registry/);
    } finally {
      w.palette.fault = undefined;
    }
    expect(await w.client.packNamesIn(w.other, 5)).toEqual(new Set(['shared', 'theirs']));
    const wrongProject = new PaletteClient({ endpoint: w.palette.url, apiKey: KEY, clock, projectUid: 'unknown' });
    w.palette.projects = new Map([['known', undefined]]);
    w.palette.unknownProjectStatus = 403;
    try {
      expect(await wrongProject.packNamesIn(w.other, 5)).toBeUndefined();
    } finally {
      w.palette.projects = undefined;
      w.palette.unknownProjectStatus = 404;
      await wrongProject.close();
    }
  });
});
