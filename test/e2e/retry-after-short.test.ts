import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { startRegistry } from '../support/registry.js';
import { RegistryReader } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';
import { rawAnswer, startWireProxy } from '../support/wire-proxy.js';

/*
 * A rate-limit storm whose 429 answers say `Retry-After: 0` (or a date already past): packpub took the registry at
 * its word and retried at once, so all six attempts were spent within milliseconds and the push failed ("answered
 * 429 after 6 attempts"), where the backoff (250 ms doubling) would have outlasted the storm. A Retry-After now
 * lengthens the wait, never shortens it below the backoff. A real registry sits behind a proxy that writes the 429s.
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-retry-after-short-');
  const registry = stack.add(await startRegistry());
  const proxy = stack.add(await startWireProxy(registry.host));
  return { root, registry, proxy, reader: new RegistryReader(registry.url) };
});

const BODY = '{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}';
/** The backoff's first wait (250 ms) less its 10 % jitter, less a little for timer granularity. */
const MIN_GAP_MS = 200;

describe('429 answers asking for no wait at all', () => {
  for (const retryAfter of ['0', 'Fri, 31 Dec 1999 23:59:59 GMT']) {
    it(`Retry-After: ${retryAfter} on the first 3 answers: the retries still back off, and the push lands (was: 6 attempts in a few ms)`, async () => {
      const name = `storm-${retryAfter.length}`;
      const dir = await writePack(join(w.root, name), { name, version: '1.0.0' });
      const refusedAt: number[] = [];
      // The distribution API's requests (the Harbor probe, /api/, has a short loop of its own and is left alone).
      w.proxy.onRequest = (r) => {
        if (refusedAt.length >= 3 || !r.path.startsWith('/v2/')) return 'pass';
        refusedAt.push(Date.now());
        return { raw: rawAnswer(429, 'Too Many Requests', { 'retry-after': retryAfter, 'content-type': 'application/json', 'content-length': BODY.length }, BODY), end: false };
      };
      try {
        const run = await runCli(['push', dir, '--registry', `${w.proxy.host}/x`, '--no-cache']);
        expect(run.code, run.stderr).toBe(0);
      } finally {
        w.proxy.onRequest = undefined;
      }
      const gaps = refusedAt.slice(1).map((t, i) => t - refusedAt[i]!);
      for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(MIN_GAP_MS);
      const held = await w.reader.holdings('x/spectro-packs/archive');
      expect(held.problems).toEqual([]);
      expect(held.tags.has(`x/spectro-packs/archive/${name}:1.0.0`)).toBe(true);
    });
  }
});
