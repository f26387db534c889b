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
    const held = new Set<ServerResponse>();
    let lookupArrived: () => void = () => undefined;
    const lookupHeld = new Promise<void>((resolve) => (lookupArrived = resolve));
    const stop = new AbortController();
    let validated = false;
    const stopOnceBoth = (): void => {
      if (validated && held.size > 0) stop.abort();
    };
    const server = createServer((req, res) => {
      if (req.url === '/v2/') res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      else if (req.url?.includes('/manifests/') === true) {
        held.add(res);
        lookupArrived();
        stopOnceBoth();
      }
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    stack.defer(() => {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    });
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
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
