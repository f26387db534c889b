import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { startRecordingProxy, type RecordingProxy } from '../support/recording-proxy.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { makeTestCertificates, type TestCertificates } from '../support/tls.js';
import { startTokenServer, type TokenServer } from '../support/token-server.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { stage } from '../support/stage.js';

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
  const stack = stage();
  let registry: RunningRegistry;
  let proxy: RecordingProxy;
  let root: string;
  let pack: string;
  let port: string;

  beforeAll(async () => {
    root = await stack.tempDir('packpub-plain-http-');
    registry = stack.add(await startRegistry({ auth: 'htpasswd', users: { [USER]: PASSWORD } }));
    proxy = stack.add(await startRecordingProxy(registry.host));
    port = proxy.host.split(':')[1] ?? '';
    pack = await writePack(join(root, 'plain'), { name: 'plain', version: '1.0.0' });
  });

  const args = (...extra: string[]) => ['push', pack, '--registry', `${NAME}:${port}/base`, '--resolve', `${NAME}:${port}:127.0.0.1`, ...extra];

  it('without --plain-http talks HTTPS to a non-loopback name, so the password never goes out in clear', async () => {
    proxy.clear();
    const run = await runCli(args(), { env: envFor(root) });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`FAILED plain:1.0.0: ${NAME}:${port} did not answer with TLS`);
    expect(run.stderr).toContain('hint: is it a plain HTTP registry? pass --plain-http');
    // The TLS handshake failed before any HTTP request: nothing, let alone a credential, reached it.
    expect(proxy.count()).toBe(0);
  });

  it('with --plain-http explicit sends Basic over HTTP and publishes', async () => {
    proxy.clear();
    const run = await runCli(args('--plain-http'), { env: envFor(root) });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`published plain:1.0.0 -> ${NAME}:${port}/base/spectro-packs/archive/plain:1.0.0`);
    expect(proxy.count((r) => r.hadAuthorization)).toBeGreaterThan(0);
    expect(proxy.count((r) => r.status === 401)).toBe(1); // challenge once, then Basic up front
  });
});

describe('credentials and the token realm (Harbor-like, HTTPS registry)', () => {
  const stack = stage();
  let certs: TestCertificates;
  let sameHostTokens: TokenServer;
  let otherHostTokens: TokenServer;
  let sameHostRealm: RunningRegistry;
  let otherHostRealm: RunningRegistry;
  let root: string;
  let pack: string;

  beforeAll(async () => {
    root = await stack.tempDir('packpub-realm-');
    certs = stack.add(await makeTestCertificates({ hosts: [NAME, '127.0.0.1'] }));
    // Realm on the registry's own name but plain HTTP, and realm on another host (127.0.0.1).
    sameHostTokens = stack.add(await startTokenServer({ users: { [USER]: PASSWORD }, realmHost: NAME }));
    otherHostTokens = stack.add(await startTokenServer({ users: { [USER]: PASSWORD } }));
    sameHostRealm = stack.add(await startRegistry({ auth: 'token', token: sameHostTokens, tls: certs }));
    otherHostRealm = stack.add(await startRegistry({ auth: 'token', token: otherHostTokens, tls: certs }));
    pack = await writePack(join(root, 'realm'), { name: 'realm', version: '1.0.0' });
  });

  const portOf = (url: string) => new URL(url).port;

  function push(registry: RunningRegistry, tokens: TokenServer, ...extra: string[]) {
    const regPort = String(registry.port);
    return runCli(
      [
        'push',
        pack,
        '--registry',
        `${NAME}:${regPort}/base`,
        '--ca-file',
        certs.caFile,
        '--resolve',
        `${NAME}:${regPort}:127.0.0.1`,
        '--resolve',
        `${NAME}:${portOf(tokens.realm)}:127.0.0.1`,
        ...extra,
      ],
      { env: envFor(root) },
    );
  }

  it('withholds the password from a plain-HTTP realm on a non-loopback host and says why', async () => {
    const run = await push(sameHostRealm, sameHostTokens);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`FAILED realm:1.0.0: credentials were not sent to ${NAME}:${sameHostRealm.port} over plain HTTP`);
    expect(run.stderr).toContain('pass --plain-http explicitly');
    expect(sameHostTokens.requests.length).toBeGreaterThan(0);
    expect(sameHostTokens.requests.filter((r) => r.user !== undefined)).toEqual([]);
  });

  it('withholds the password from a realm on another host unless --allow-cross-host-auth', async () => {
    const refused = await push(otherHostRealm, otherHostTokens);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('is on another host than the registry, so no credentials were sent to it; pass --allow-cross-host-auth');
    expect(otherHostTokens.requests.filter((r) => r.user !== undefined)).toEqual([]);

    const allowed = await push(otherHostRealm, otherHostTokens, '--allow-cross-host-auth');
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(otherHostTokens.requests.filter((r) => r.authenticated).length).toBeGreaterThan(0);
  });
});
