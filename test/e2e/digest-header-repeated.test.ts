import { describe, it } from 'vitest';
import { proxiedSharedRegistry, pushTagCopyLand } from '../support/proxied-writes.js';
import { setup } from '../support/stage.js';
import { answerBytes } from '../support/wire-proxy.js';

/*
 * A proxy in front of the registry that repeats its Docker-Content-Digest header (it adds what the registry already
 * sent, or folds two copies into one line): the answer names one digest twice. Read as "sha256:..., sha256:...",
 * no digest: push, copy and tag failed ("stored the manifest as ..., expected ..."), exit 1, for content the
 * registry held exactly. Copies of one value are that value; two different values still fail the check.
 */

const w = setup((stack) => proxiedSharedRegistry(stack, 'packpub-digest-header-'));

describe('a Docker-Content-Digest header repeated by a proxy', () => {
  for (const [how, repeat] of [
    ['as two headers', (d: string) => [d, d]],
    ['folded into one line', (d: string) => `${d}, ${d}`],
  ] as const) {
    it(`${how}: push, tag and copy land, exit 0, the registry holding each (was: DIGEST_MISMATCH, exit 1)`, () =>
      pushTagCopyLand(w, `repeated-${how.length}`, () => ({
        after: (a) => {
          const said = a.headers['docker-content-digest'];
          return { raw: answerBytes(a, typeof said === 'string' ? { headers: { 'docker-content-digest': repeat(said) } } : {}) };
        },
      })));
  }
});
