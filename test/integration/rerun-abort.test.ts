import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openTarget, pushPacks, type PushEvent } from '../../src/index.js';
import { writePack } from '../support/packs.js';
import { settledPastRacyMargin } from '../support/push-setup.js';
import { stage } from '../support/stage.js';

/*
 * A re-run sends a lookup for every pack the cache remembers before checking the folders (push.ts, the
 * hunches). A run that is stopped must not wait for the ones still in flight: here the registry never
 * answers a manifest read, so waiting would last until the request timeout (10 minutes below).
 */

const stack = stage();

/**
 * A registry that answers its probes and never a manifest read (each held, `onHeld` told); every request it gets is
 * noted in `asked`, and `ended` has a promise per held read that settles when the connection it came on closes.
 */
async function heldReadRegistry(onHeld: () => void): Promise<{ host: string; held: Set<ServerResponse>; asked: string[]; ended: Promise<void>[] }> {
  const held = new Set<ServerResponse>();
  const asked: string[] = [];
  const ended: Promise<void>[] = [];
  const server = createServer((req, res) => {
    asked.push(`${req.method} ${req.url}`);
    if (req.url === '/v2/') res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    else if (req.method === 'GET' && req.url?.includes('/manifests/') === true) {
      held.add(res);
      ended.push(new Promise((resolve) => res.once('close', () => resolve())));
      onHeld();
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stack.defer(() => {
    for (const res of held) res.destroy();
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, held, asked, ended };
}

describe('a re-run stopped while its lookups are in flight', () => {
  it('ends at once with every pack reported as not started, the lookups left to the target close', async () => {
    const root = await stack.tempDir('packpub-rerun-abort-');
    const dirs = ['first', 'second'].map((name) => join(root, 'packs', name));
    for (const [i, dir] of dirs.entries()) await writePack(dir, { name: `abort-pack-${i}`, version: '1.0.0' });
    await settledPastRacyMargin(join(root, 'packs'));
    const cacheDir = join(root, 'cache');
    // The first run (to a layout) leaves the cache knowing both folders.
    const layout = await openTarget({ ociLayout: join(root, 'layout') });
    try {
      expect((await pushPacks(layout, { packs: dirs, cacheDir })).results.map((r) => r.status)).toEqual(['published', 'published']);
    } finally {
      await layout.store.close();
    }

    // A registry that answers its probes and never a manifest read. The run is stopped once a lookup is held there and
    // the first folder has its verdict, whichever comes last (on a loaded machine the lookup can reach the registry after
    // the verdict). The folders' own checks wait for a lookup to be held (checksAhead below): a run that got past its
    // verdicts before a lookup reached the registry (its set-up took fewer turns of the event loop) went on to its
    // uploads, where the stop came too late, and waited for the never-answered read.
    let lookupArrived: () => void = () => undefined;
    const lookupHeld = new Promise<void>((resolve) => (lookupArrived = resolve));
    const stop = new AbortController();
    let validated = false;
    const stopOnceBoth = (): void => {
      if (validated && held.size > 0) stop.abort();
    };
    const { host, held } = await heldReadRegistry(() => {
      lookupArrived();
      stopOnceBoth();
    });
    const target = await openTarget({ registry: `${host}/base`, env: {}, retry: { requestTimeoutMs: 600_000 } });
    let report;
    try {
      report = await pushPacks(target, {
        packs: dirs,
        cacheDir,
        env: {},
        signal: stop.signal,
        // No check made ahead; each remembered folder is checked once a lookup is held.
        checksAhead: { answer: () => undefined, wait: () => (held.size > 0 ? undefined : lookupHeld) },
        // The lookups were sent before the first folder's verdict.
        onEvent: (e: PushEvent) => {
          if (e.type !== 'validated') return;
          validated = true;
          stopOnceBoth();
        },
      });
    } finally {
      // The held lookups are not this test's subject once the run has ended: ended by the registry, so that the close
      // does not wait its grace for them (close-abandons.test.ts is about that grace).
      for (const res of held) res.destroy();
      await target.store.close();
    }
    expect(held.size).toBeGreaterThan(0);
    expect(report.aborted).toBe(true);
    expect(report.results.map((r) => [r.status, r.error?.code])).toEqual([
      ['failed', 'ABORTED'],
      ['failed', 'ABORTED'],
    ]);
  });
});

describe('a push stopped while a started pack is being looked up', () => {
  it('gives the look-up up at once: the run ends, the pack not started (ABORTED), nothing written to the registry', async () => {
    const root = await stack.tempDir('packpub-push-abort-');
    const dir = join(root, 'packs', 'first');
    await writePack(dir, { name: 'abort-started', version: '1.0.0' });
    const stop = new AbortController();
    let started = false;
    const stopOnceBoth = (): void => {
      if (started && held.size > 0) stop.abort();
    };
    const { host, held, asked, ended: lookupsEnded } = await heldReadRegistry(stopOnceBoth);
    // Waiting for the held read would last the request timeout: far beyond the test's own.
    const target = await openTarget({ registry: `${host}/base`, env: {}, retry: { requestTimeoutMs: 600_000 } });
    let report;
    try {
      report = await pushPacks(target, {
        packs: [dir],
        env: {},
        signal: stop.signal,
        onEvent: (e: PushEvent) => {
          if (e.type !== 'pack-start') return;
          started = true;
          stopOnceBoth();
        },
      });
      // The held read was ended by packpub (the registry never answered it), before the target is closed.
      await Promise.all(lookupsEnded);
    } finally {
      await target.store.close();
    }
    expect(held.size).toBe(1);
    expect(report.aborted).toBe(true);
    expect(report.results.map((r) => [r.status, r.error?.code, r.error?.message])).toEqual([['failed', 'ABORTED', 'not started: the run was stopped']]);
    // Nothing but reads reached the registry: no upload started, no manifest written.
    expect(asked.filter((line) => !line.startsWith('GET ') && !line.startsWith('HEAD '))).toEqual([]);
    expect(asked.filter((line) => line.includes('/manifests/'))).toEqual(['GET /v2/base/spectro-packs/archive/abort-started/manifests/1.0.0']);
  });
});
