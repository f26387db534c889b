import { describe, expect, it } from 'vitest';
import { isPackpubError } from '../../src/errors.js';
import { syncPaletteRegistry, type ResolvedPaletteRegistry } from '../../src/operations/palette.js';
import { PaletteClient } from '../../src/palette/client.js';
import { startPaletteStandin } from '../support/palette-standin.js';
import { silentServer } from '../support/published.js';
import { setup } from '../support/stage.js';

/*
 * syncPaletteRegistry's signal (a library caller's, the CLI's interrupt) gave up only the waits between polls and the
 * values read: a Palette call in flight went on to its answer and its retries. With Palette answering 503, an aborted
 * sync kept retrying (250 ms doubling, 6 attempts: about 7 s) and then failed with the 503, not as aborted. Now the
 * call in flight is cancelled, no retry starts, and the sync rejects ABORTED at once. A Palette that never answers kept
 * an aborted sync until --request-timeout (60 s by default).
 * Clock skew: a Retry-After date is read against the answer's Date header, not this machine's clock.
 */

const KEY = `apikey-${Math.random().toString(36).slice(2)}-tenant-admin`;
const w = setup(async (stack) => {
  const palette = stack.add(await startPaletteStandin({ keys: { [KEY]: { role: 'tenant-admin' } } }));
  const uid = palette.addRegistry('basic', 'mine', { endpoint: 'https://r.example', baseContentPath: 'a', providerType: 'pack', isSyncSupported: true, auth: { type: 'noAuth' } });
  const registry: ResolvedPaletteRegistry = { uid, name: 'mine', flavour: 'basic', endpoint: 'https://r.example', baseContentPath: 'a' };
  return { palette, registry, ...(await silentServer(stack)) };
});

describe('a sync aborted while Palette answers 503', () => {
  it('rejects ABORTED at once, retrying no more (was: every retry, then the 503)', async () => {
    const client = new PaletteClient({ endpoint: w.palette.url, apiKey: KEY });
    const controller = new AbortController();
    w.palette.outage = { status: 503 };
    try {
      const from = w.palette.requests.length;
      const sync = syncPaletteRegistry(client, { host: 'r.example', basePath: 'a' }, { packs: [{ name: 'app', version: '1.0.0' }], registry: w.registry, signal: controller.signal });
      const settled = sync.then(() => undefined, (err: unknown) => err);
      while (w.palette.requests.length === from) await new Promise((r) => setTimeout(r, 5));
      const aborted = Date.now();
      controller.abort();
      const err = await settled;
      // At once: well under the ~7 s of retries it took before (3 s, room for a test process a loaded machine leaves waiting).
      expect(Date.now() - aborted).toBeLessThan(3_000);
      expect(isPackpubError(err, 'ABORTED'), String(err)).toBe(true);
      expect((err as Error).message).toBe(`cancelled: Palette was not asked to read the sync status of registry ${w.registry.uid}, or its answer was not waited for`);
      // The first attempt only: no retry after the abort, and no sync asked for.
      expect(w.palette.requests.slice(from).map((r) => `${r.method} ${r.status}`)).toEqual(['GET 503']);
      expect(w.palette.registries.get(w.registry.uid)?.syncRequests).toEqual([]);
    } finally {
      w.palette.outage = undefined;
      await client.close();
    }
  });

  it('a call Palette never answers is cancelled by the abort (was: waited for until --request-timeout)', async () => {
    const client = new PaletteClient({ endpoint: w.silent.url, apiKey: KEY });
    const controller = new AbortController();
    try {
      const sync = syncPaletteRegistry(client, { host: 'r.example', basePath: 'a' }, { packs: [], registry: w.registry, signal: controller.signal });
      const settled = sync.then(() => undefined, (err: unknown) => err);
      while (w.asked.length === 0) await new Promise((r) => setTimeout(r, 5));
      const aborted = Date.now();
      controller.abort();
      const err = await settled;
      expect(Date.now() - aborted).toBeLessThan(3_000);
      expect(isPackpubError(err, 'ABORTED'), String(err)).toBe(true);
      expect(w.asked).toEqual([`GET /v1/registries/oci/${w.registry.uid}/basic/sync/status`]);
    } finally {
      await client.close();
    }
  });
});

describe('a Retry-After date from a Palette whose clock is an hour ahead of this machine', () => {
  it('is read against the answer\'s Date: the call retries after ~1 s and succeeds (was: read as an hour on this machine\'s clock, the 60 s most it honours waited)', async () => {
    const client = new PaletteClient({ endpoint: w.palette.url, apiKey: KEY });
    const serverNow = Math.ceil(Date.now() / 1000) * 1000 + 3_600_000;
    w.palette.outage = { status: 503, date: new Date(serverNow).toUTCString(), retryAfter: new Date(serverNow + 1_000).toUTCString(), times: 1 };
    try {
      const from = w.palette.requests.length;
      const status = await client.syncStatus(w.registry.uid, 'basic');
      expect(status.isSyncSupported).toBe(true);
      const made = w.palette.requests.slice(from);
      expect(made.map((r) => r.status)).toEqual([503, 200]);
      const waited = (made[1]?.at ?? 0) - (made[0]?.at ?? 0);
      expect(waited).toBeGreaterThanOrEqual(500);
      expect(waited).toBeLessThan(5_000);
    } finally {
      w.palette.outage = undefined;
      await client.close();
    }
  });
});

