import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { sharedRegistryWith } from '../support/push-setup.js';
import { startRecordingProxy } from '../support/recording-proxy.js';
import { throwawaySecret } from '../support/secrets.js';
import { setup } from '../support/stage.js';

/*
 * issue 14: -H/--header 'Name: value' reaches the registry host (a recording proxy in front of a real
 * registry with token auth) and nothing else: not the token service on another port, not the output
 * (also with --debug). Malformed or packpub-owned headers are refused before anything is sent.
 */

const USER = 'header-robot';
const PASSWORD = throwawaySecret('header-password');
const TENANT = throwawaySecret('tenant-header');
const API_KEY = throwawaySecret('gateway-key');

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-headers-');
  // The worker's token-auth registry (a token server of the file's own on the shared realm); the file's
  // repositories under the base path it hands out.
  const { registry, tokens } = await sharedRegistryWith(stack, 'token', { [USER]: PASSWORD });
  const proxy = stack.add(await startRecordingProxy(registry.host));
  /** What the proxy (the registry host packpub talks to) received of the two headers, per request. */
  const seen: Array<[string | string[] | undefined, string | string[] | undefined]> = [];
  proxy.onRequest = (req) => {
    seen.push([req.headers['x-tenant'], req.headers['x-api-key']]);
    return 'pass';
  };
  const pack = await writePack(join(root, 'hdr'), { name: 'hdr', version: '1.0.0' });
  return { root, registry, tokens: tokens!, proxy, seen, pack };
});

const env = () => ({ PACKPUB_USERNAME: USER, PACKPUB_PASSWORD: PASSWORD, SOURCE_DATE_EPOCH: '1700000000', DOCKER_CONFIG: join(w.root, 'docker') });
const headers = ['-H', `X-Tenant: ${TENANT}`, '--header', `X-Api-Key:${API_KEY}`];
const reset = () => {
  w.seen.length = 0;
  w.tokens.requests.length = 0;
};

describe('-H/--header', () => {
  it('push sends every header on every request to the registry, none to the token service, and prints none (--debug)', async () => {
    reset();
    const run = await runCli(['push', w.pack, '--registry', `${w.proxy.host}/${w.registry.base}/base`, ...headers, '--debug', '--json'], { env: env() });
    expect(run.code, run.stderr).toBe(0);
    expect(w.seen.length).toBeGreaterThan(3);
    expect(new Set(w.seen.map((s) => s.join(' ')))).toEqual(new Set([`${TENANT} ${API_KEY}`]));
    expect(w.tokens.requests.length).toBeGreaterThan(0);
    expect(w.tokens.requests.flatMap((r) => r.headerNames).filter((n) => n === 'x-tenant' || n === 'x-api-key')).toEqual([]);
    expect(run.stderr).toContain('debug: PUT');
    for (const secret of [TENANT, API_KEY]) expect(run.stdout + run.stderr).not.toContain(secret);
  });

  it('list, pull, login and copy (per side) send them too', async () => {
    reset();
    const registry = ['--registry', `${w.proxy.host}/${w.registry.base}/base`, ...headers];
    expect((await runCli(['list', ...registry], { env: env() })).code).toBe(0);
    const out = join(w.root, 'pulled');
    expect((await runCli(['pull', 'hdr:1.0.0', ...registry, '--output', out], { env: env() })).code).toBe(0);
    expect(await readdir(out)).toContain('pack.json');
    const login = await runCli(['login', w.proxy.host, '-u', USER, '--password-stdin', ...headers], { env: { DOCKER_CONFIG: join(w.root, 'docker') }, stdin: PASSWORD });
    expect(login.code, login.stderr).toBe(0);
    const before = w.seen.length;
    const copy = await runCli(['copy', 'hdr:1.0.0', '--from', `${w.proxy.host}/${w.registry.base}/base`, '--to', `oci:${join(w.root, 'layout')}`, '--from-header', `X-Tenant: ${TENANT}`], { env: env() });
    expect(copy.code, copy.stderr).toBe(0);
    expect(w.seen.length).toBeGreaterThan(before);
    expect(w.seen.slice(before).every(([tenant, key]) => tenant === TENANT && key === undefined)).toBe(true);
    expect(w.seen.every(([tenant]) => tenant === TENANT)).toBe(true);
    expect(w.tokens.requests.flatMap((r) => r.headerNames)).not.toContain('x-tenant');
  });

  it('delete sends them with its DELETE', async () => {
    reset();
    const methods: string[] = [];
    const previous = w.proxy.onRequest;
    w.proxy.onRequest = (req) => {
      methods.push(req.method);
      return previous?.(req) ?? 'pass';
    };
    try {
      const run = await runCli(['delete', 'hdr:1.0.0', '--registry', `${w.proxy.host}/${w.registry.base}/base`, ...headers, '--force'], { env: env() });
      expect(run.code, run.stderr).toBe(0);
    } finally {
      w.proxy.onRequest = previous;
    }
    expect(methods).toContain('DELETE');
    expect(new Set(w.seen.map((s) => s.join(' ')))).toEqual(new Set([`${TENANT} ${API_KEY}`]));
  });

  it.each([
    [['-H', 'X-Tenant acme'], '--header is not "Name: value"'],
    [['-H', 'Content-Type: text/plain'], '--header Content-Type is not accepted: packpub sets the media type of what it uploads'],
    [['-H', `Authorization: Bearer ${API_KEY}`], '--header Authorization is not accepted: credentials go through the credential flags'],
  ])('refuses %j with exit 2 before sending anything', async (args, message) => {
    reset();
    const run = await runCli(['push', w.pack, '--registry', `${w.proxy.host}/other`, ...args], { env: env() });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stderr).not.toContain(API_KEY);
    expect(w.seen).toEqual([]);
  });
});
