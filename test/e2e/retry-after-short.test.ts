import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hurryRetries } from '../support/clock.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { proxiedSharedRegistry } from '../support/proxied-writes.js';
import { setup } from '../support/stage.js';
import { rawAnswer } from '../support/wire-proxy.js';

/*
 * A rate-limit storm whose 429 answers say `Retry-After: 0` (or a date already past): packpub took the registry at
 * its word and retried at once, so all six attempts were spent within milliseconds and the push failed ("answered
 * 429 after 6 attempts"), where the backoff (250 ms doubling) would have outlasted the storm. A Retry-After now
 * lengthens the wait, never shortens it below the backoff. A real registry sits behind a proxy that writes the 429s;
 * the retry clock is hurried, and the waits it was asked for are checked.
 */

const w = setup((stack) => proxiedSharedRegistry(stack, 'packpub-retry-after-short-'));

const BODY = '{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}';
/** Retry waits are asked of this clock, and taken 50 times shorter: what was asked is what is checked. */
const clock = hurryRetries();
/** The backoff (250 ms doubling) with its 10 % jitter at the low end. */
const BACKOFF_MS = [225, 450, 900];

describe('429 answers asking for no wait at all', () => {
  for (const retryAfter of ['0', 'Fri, 31 Dec 1999 23:59:59 GMT']) {
    it(`Retry-After: ${retryAfter} on the first 3 answers: the retries still wait the backoff, and the push lands (was: 6 attempts, no wait)`, async () => {
      const name = `storm-${retryAfter.length}`;
      const dir = await writePack(join(w.root, name), { name, version: '1.0.0' });
      let refused = 0;
      // The distribution API's requests (the Harbor probe, /api/, has a short loop of its own and is left alone).
      w.proxy.onRequest = (r) => {
        if (refused >= 3 || !r.path.startsWith('/v2/')) return 'pass';
        refused++;
        return { raw: rawAnswer(429, 'Too Many Requests', { 'retry-after': retryAfter, 'content-type': 'application/json', 'content-length': BODY.length }, BODY), end: false };
      };
      const before = clock.slept.length;
      try {
        const run = await runCli(['push', dir, '--registry', `${w.proxy.host}/${w.registry.base}`, '--no-cache']);
        expect(run.code, run.stderr).toBe(0);
      } finally {
        w.proxy.onRequest = undefined;
      }
      // Three waits, each at least the backoff's (old code: 0, 0, 0).
      const waits = clock.slept.slice(before);
      expect(waits).toHaveLength(3);
      waits.forEach((ms, i) => expect(ms).toBeGreaterThanOrEqual(BACKOFF_MS[i]!));
      const held = await w.reader.holdings(`${w.registry.base}/spectro-packs/archive`);
      expect(held.problems).toEqual([]);
      expect(held.tags.has(`${w.registry.base}/spectro-packs/archive/${name}:1.0.0`)).toBe(true);
    });
  }
});
