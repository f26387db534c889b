import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { sharedRegistry } from '../support/registry.js';
import { RegistryReader } from '../support/registry-reader.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';
import { answerBytes, startWireProxy } from '../support/wire-proxy.js';

/*
 * A proxy in front of the registry that repeats its Docker-Content-Digest header (it adds what the registry already
 * sent, or folds two copies into one line): the answer names one digest twice. Read as "sha256:..., sha256:...",
 * no digest: push, copy and tag failed ("stored the manifest as ..., expected ..."), exit 1, for content the
 * registry held exactly. Copies of one value are that value; two different values still fail the check.
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-digest-header-');
  const registry = await sharedRegistry();
  const proxy = stack.add(await startWireProxy(registry.host));
  return { root, registry, proxy, reader: new RegistryReader(registry.url) };
});

describe('a Docker-Content-Digest header repeated by a proxy', () => {
  for (const [how, repeat] of [
    ['as two headers', (d: string) => [d, d]],
    ['folded into one line', (d: string) => `${d}, ${d}`],
  ] as const) {
    it(`${how}: push, tag and copy land, exit 0, the registry holding each (was: DIGEST_MISMATCH, exit 1)`, async () => {
      const name = `repeated-${how.length}`;
      const dir = await writePack(join(w.root, name), { name, version: '1.0.0' });
      const R = `${w.proxy.host}/${w.registry.base}`;
      w.proxy.onRequest = () => ({
        after: (a) => {
          const said = a.headers['docker-content-digest'];
          return { raw: answerBytes(a, typeof said === 'string' ? { headers: { 'docker-content-digest': repeat(said) } } : {}) };
        },
      });
      const runs = [];
      try {
        runs.push(await runCli(['push', dir, '--registry', R, '--no-cache']));
        runs.push(await runCli(['tag', `${name}:1.0.0`, 'stable', '--registry', R]));
        runs.push(await runCli(['copy', `${name}:1.0.0`, '--from', R, '--to', `${R}/copied`]));
      } finally {
        w.proxy.onRequest = undefined;
      }
      for (const run of runs) {
        expect(run.code, run.stderr).toBe(0);
        expect(stackLines(run.stderr)).toEqual([]);
      }
      const held = await w.reader.holdings(w.registry.base);
      expect(held.problems).toEqual([]);
      const at = (repo: string) => held.tags.get(`${w.registry.base}/${repo}`);
      const digest = at(`spectro-packs/archive/${name}:1.0.0`);
      expect(digest).toMatch(/^sha256:/);
      expect(at(`spectro-packs/archive/${name}:stable`)).toBe(digest);
      expect(at(`copied/spectro-packs/archive/${name}:1.0.0`)).toBe(digest);
    });
  }
});
