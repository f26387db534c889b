import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startAnswerFuzzer } from '../support/answer-fuzzer.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { RegistryReader, tokenHoldings } from '../support/registry-reader.js';
import { freePort, sharedRegistry, startRegistry } from '../support/registry.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';
import { startTokenServer } from '../support/token-server.js';

/*
 * trust (fuzz): a registry whose upload Location names an address this machine cannot reach (distribution behind a
 * reverse proxy without http.host hands out its internal address). The push said "connection refused by
 * 127.0.0.1:<other port>, check the host and port and that the registry is running" about a host the user never
 * named, while the registry they named was running. Now the message says the registry sent the upload elsewhere.
 * The same for a token service (challenge realm) that cannot be reached. Real docker-registry (behind the answer
 * fuzzer, or with token auth); the registry is read directly afterwards.
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-hostile-locations-');
  const registry = await sharedRegistry();
  const fuzz = stack.add(await startAnswerFuzzer(registry.host));
  const pack = await writePack(join(root, 'loc'), { name: 'loc-pack', version: '1.0.0' });
  // A port nothing listens on: bound, read, released.
  const closed = `127.0.0.1:${await freePort()}`;
  return { root, registry, fuzz, pack, closed };
});

describe('an upload Location on an address that cannot be reached', () => {
  it('names the registry that sent it and the Location, not only the other host; exit 1, nothing tagged', async () => {
    const location = `http://${w.closed}/v2/internal/blobs/uploads/session-1`;
    w.fuzz.plan = { decide: (method, path) => (method === 'POST' && path.includes('/blobs/uploads/') ? { kind: 'location', value: location } : undefined) };
    try {
      const run = await runCli(['push', w.pack, '--registry', `${w.fuzz.host}/${w.registry.base}/far`, '--no-cache', '--retry-attempts', '2', '--retry-delay', '0']);
      expect(run.code, run.stderr).toBe(1);
      expect(stackLines(run.stderr)).toEqual([]);
      expect(run.stderr).toContain(`${w.fuzz.host} started an upload at another address (${w.closed}), which packpub could not reach: connection refused by ${w.closed}`);
      expect(run.stderr).toContain('hint: the registry (or a proxy in front of it) hands out upload Locations on an address this machine cannot reach');
      expect(run.stderr).not.toContain('that the registry is running');
    } finally {
      w.fuzz.plan = undefined;
    }
    const held = await new RegistryReader(w.registry.url).holdings(`${w.registry.base}/far`);
    expect(held.problems).toEqual([]);
    expect([...held.tags.keys()]).toEqual([]);
  });
});

describe('a token service (challenge realm) on an address that cannot be reached', () => {
  it('names the token service the challenge gave, not a registry that is down; exit 1, nothing published', async () => {
    const tokens = await startTokenServer({ users: { robot: 'realm-secret-44' } });
    // The registry announces a realm on a port nothing listens on (Harbor's external_url or distribution's
    // auth.token.realm naming an internal address); the token server itself is up, elsewhere.
    const registry = await startRegistry({ auth: 'token', token: { ...tokens, realm: `http://${w.closed}/service/token` } });
    try {
      const args = ['--registry', `${registry.host}/realm`, '--retry-attempts', '2', '--retry-delay', '0'];
      const run = await runCli(['push', w.pack, '--no-cache', ...args]);
      expect(run.code, run.stderr).toBe(1);
      expect(stackLines(run.stderr)).toEqual([]);
      expect(run.stderr).toContain(`token service ${w.closed}, which the registry's challenge names: connection refused by ${w.closed}`);
      expect(run.stderr).toContain("hint: the registry's Bearer challenge names a token service (realm) at an address this machine cannot reach");
      expect(run.stderr).not.toContain('that the registry is running');
      const held = await tokenHoldings(registry.url, tokens.tokenFor, 'realm');
      expect([...held.tags.keys()]).toEqual([]);
    } finally {
      await registry.stop();
      await tokens.close();
    }
  });
});

describe('a redirect to an address that cannot be reached', () => {
  it('pull: names the redirect (blob storage behind a firewall), not a registry that is down; exit 1, nothing written', async () => {
    const pushed = await runCli(['push', w.pack, '--registry', `${w.registry.host}/${w.registry.base}/redir`, '--no-cache']);
    expect(pushed.code, pushed.stderr).toBe(0);
    const out = join(w.root, 'pulled');
    w.fuzz.plan = { decide: (method, path) => (method === 'GET' && path.includes('/blobs/sha256:') ? { kind: 'location', value: `http://${w.closed}/storage/blob`, status: 307 } : undefined) };
    try {
      const run = await runCli(['pull', 'loc-pack:1.0.0', '--registry', `${w.fuzz.host}/${w.registry.base}/redir`, '-o', out, '--retry-attempts', '2', '--retry-delay', '0']);
      expect(run.code, run.stderr).toBe(1);
      expect(stackLines(run.stderr)).toEqual([]);
      expect(run.stderr).toContain(`error: ${w.fuzz.host} redirected to ${w.closed}, which packpub could not reach: connection refused by ${w.closed}`);
      expect(run.stderr).toContain('hint: the registry (or a proxy in front of it) redirects to an address this machine cannot reach');
      expect(run.stderr).not.toContain('that the registry is running');
    } finally {
      w.fuzz.plan = undefined;
    }
    expect(existsSync(out)).toBe(false);
  });
});
