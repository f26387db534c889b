import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startRecordingProxy } from '../support/recording-proxy.js';
import { sharedRegistry, startRegistry, type RunningRegistry } from '../support/registry.js';
import { makeTestCertificates } from '../support/tls.js';
import { startTokenServer, type TokenServer } from '../support/token-server.js';
import { expectRun, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * issue 6: credentials go only where they belong. Basic credentials never travel over plain HTTP to a
 * non-loopback host unless --plain-http is explicit, and never to a token realm on another host unless
 * --allow-cross-host-auth. The registries run on 127.0.0.1 but are reached under a non-loopback name,
 * registry.packpub.test, mapped with --resolve, so the rules for real hosts apply.
 */

const NAME = 'registry.packpub.test';
const USER = 'ci-robot';
const PASSWORD = 'plain-http-Pa55word-0c9e';
/** Credentials in the environment; DOCKER_CONFIG in the test's folder so no stray credentials are read. */
const envFor = (root: string) => ({ PACKPUB_USERNAME: USER, PACKPUB_PASSWORD: PASSWORD, SOURCE_DATE_EPOCH: '1700000000', DOCKER_CONFIG: join(root, 'docker') });

describe('Basic credentials and plain HTTP to a non-loopback host name', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-plain-http-');
    const registry = await sharedRegistry({ auth: 'htpasswd', users: { [USER]: PASSWORD } });
    const proxy = stack.add(await startRecordingProxy(registry.host));
    const port = proxy.host.split(':')[1] ?? '';
    const pack = await writePack(join(root, 'plain'), { name: 'plain', version: '1.0.0' });
    return { registry, proxy, root, pack, port };
  });

  const args = (...extra: string[]) => ['push', w.pack, '--registry', `${NAME}:${w.port}/${w.registry.base}`, '--resolve', `${NAME}:${w.port}:127.0.0.1`, ...extra];

  it('without --plain-http talks HTTPS to a non-loopback name, so the password never goes out in clear', async () => {
    w.proxy.clear();
    const run = await runCli(args(), { env: envFor(w.root) });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`FAILED plain:1.0.0: ${NAME}:${w.port} did not answer with TLS`);
    expect(run.stderr).toContain('hint: is it a plain HTTP registry? pass --plain-http');
    // The TLS handshake failed before any HTTP request: nothing, let alone a credential, reached it.
    expect(w.proxy.count()).toBe(0);
  });

  it('with --plain-http explicit sends Basic over HTTP and publishes', async () => {
    w.proxy.clear();
    const run = await runCli(args('--plain-http'), { env: envFor(w.root) });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`published plain:1.0.0 -> ${NAME}:${w.port}/${w.registry.base}/spectro-packs/archive/plain:1.0.0`);
    expect(w.proxy.count((r) => r.hadAuthorization)).toBeGreaterThan(0);
    expect(w.proxy.count((r) => r.status === 401)).toBe(1); // challenge once, then Basic up front
  });
});

describe('credentials and the token realm (Harbor-like, HTTPS registry)', () => {
  const world = setup(async (stack) => {
    const root = await stack.tempDir('packpub-realm-');
    const certs = stack.add(await makeTestCertificates({ hosts: [NAME, '127.0.0.1'] }));
    // Realm on the registry's own name but plain HTTP, and realm on another host (127.0.0.1).
    const sameHostTokens = stack.add(await startTokenServer({ users: { [USER]: PASSWORD }, realmHost: NAME }));
    const otherHostTokens = stack.add(await startTokenServer({ users: { [USER]: PASSWORD } }));
    const sameHostRealm = stack.add(await startRegistry({ auth: 'token', token: sameHostTokens, tls: certs }));
    const otherHostRealm = stack.add(await startRegistry({ auth: 'token', token: otherHostTokens, tls: certs }));
    const pack = await writePack(join(root, 'realm'), { name: 'realm', version: '1.0.0' });
    return { certs, sameHostTokens, otherHostTokens, sameHostRealm, otherHostRealm, root, pack };
  });

  const portOf = (url: string) => new URL(url).port;

  function push(registry: RunningRegistry, tokens: TokenServer, ...extra: string[]) {
    const regPort = String(registry.port);
    return runCli(
      [
        'push',
        world.pack,
        '--registry',
        `${NAME}:${regPort}/base`,
        '--ca-file',
        world.certs.caFile,
        '--resolve',
        `${NAME}:${regPort}:127.0.0.1`,
        '--resolve',
        `${NAME}:${portOf(tokens.realm)}:127.0.0.1`,
        ...extra,
      ],
      { env: envFor(world.root) },
    );
  }

  // It said "credentials were not sent to <registry> over plain HTTP; pass --plain-http explicitly", and --plain-http
  // turned the HTTPS registry itself to HTTP, which it does not serve: no way out. The token service and the fix on the
  // registry's side (Harbor's external_url behind a TLS-terminating proxy) are named now; push, list and login alike.
  it('withholds the password from a plain-HTTP realm on a non-loopback host and says why: the realm to fix, not --plain-http', async () => {
    const regHost = `${NAME}:${world.sameHostRealm.port}`;
    const realmHost = `${NAME}:${portOf(world.sameHostTokens.realm)}`;
    const said = `credentials were not sent to the token service ${realmHost}: ${regHost} serves HTTPS but its Bearer challenge names that token service with a plain-HTTP (http://) address`;
    const run = await push(world.sameHostRealm, world.sameHostTokens);
    expectRun(run, { code: 1, stderr: [`FAILED realm:1.0.0: ${said}`, 'hint: the registry announces an http:// token service (Harbor: external_url in harbor.yml; distribution: auth.token.realm): make it announce https://'] });
    const connect = ['--ca-file', world.certs.caFile, '--resolve', `${regHost}:127.0.0.1`, '--resolve', `${realmHost}:127.0.0.1`];
    const list = await runCli(['list', '--registry', `${regHost}/base`, ...connect], { env: envFor(world.root) });
    expectRun(list, { code: 1, stderr: [`error: ${said}`] });
    const login = await runCli(['login', regHost, '-u', USER, '--password-stdin', ...connect], { env: envFor(world.root), stdin: PASSWORD });
    expectRun(login, { code: 1, stderr: [`error: ${said}, so they could not be checked`, 'nothing was saved'] });
    for (const r of [run, list, login]) expect(r.stderr).not.toContain('--plain-http');
    await expect(access(join(world.root, 'docker', 'config.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    // Asked without credentials only, and granted nothing: the registry (token mode) took no write.
    expect(world.sameHostTokens.requests.length).toBeGreaterThan(0);
    expect(world.sameHostTokens.requests.filter((r) => r.user !== undefined || r.granted.length > 0)).toEqual([]);
  });

  it('withholds the password from a realm on another host unless --allow-cross-host-auth', async () => {
    const refused = await push(world.otherHostRealm, world.otherHostTokens);
    // The token service gives the request without credentials a token, which the registry refuses: it read "credentials
    // rejected or no push permission on <repo>", for credentials that were never sent.
    const regHost = `${NAME}:${world.otherHostRealm.port}`;
    expectRun(refused, {
      code: 1,
      stderr: [
        `FAILED realm:1.0.0: credentials were not sent to the token service 127.0.0.1:${portOf(world.otherHostTokens.realm)}, which is on another host than ${regHost}, and ${regHost} refuses the token it gave without them for base/spectro-packs/archive/realm`,
        'is on another host than the registry, so no credentials were sent to it; pass --allow-cross-host-auth',
      ],
    });
    expect(refused.stderr).not.toContain('credentials rejected');
    expect(world.otherHostTokens.requests.filter((r) => r.user !== undefined)).toEqual([]);

    // Nothing was written by the refused run: the allowed one publishes the version (not "unchanged").
    const allowed = await push(world.otherHostRealm, world.otherHostTokens, '--allow-cross-host-auth');
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stdout).toContain('published realm:1.0.0');
    expect(world.otherHostTokens.requests.filter((r) => r.authenticated).length).toBeGreaterThan(0);
  });
});
