import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { connect as netConnect } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBin, runCli } from '../support/cli.js';
import { startEcrPackWorld } from '../support/ecr-proxy.js';
import { useFakeAwsEnvironment } from '../support/ecr-standin.js';
import { startForwardProxy } from '../support/forward-proxy.js';
import { listenOnLoopback } from '../support/loopback.js';
import { startEcrPublicWorld } from '../support/ecr-public-standin.js';
import { writePack } from '../support/packs.js';
import { freePort, skopeoInspectRaw } from '../support/registry.js';
import { setup } from '../support/stage.js';
import { makeTestCertificates } from '../support/tls.js';

/*
 * The AWS SDK's calls through HTTPS_PROXY (src/net/proxy.ts awsRequestHandler): the SDK reads no proxy variable
 * itself, so before, GetAuthorizationToken, CreateRepository and STS AssumeRole went direct and failed on a runner
 * that reaches AWS only through a proxy. The real SDK calls `https://api.ecr.test` and `https://sts.test`: names
 * only the proxy stand-in knows, which answers their CONNECT itself with TLS (the test CA) and hands what is inside
 * to the plain-HTTP ECR stand-in. A run that trusts the test CA through NODE_EXTRA_CA_CERTS (read as Node starts)
 * is a process of the built CLI (the STS and ECR calls of --aws-role-arn); one that trusts it through --ca-file or
 * AWS_CA_BUNDLE, or needs no trust, runs the same CLI code in-process (runCli; the fake AWS identity is in the
 * process environment, startEcrPackWorld / useFakeAwsEnvironment).
 * The registry (ECR's front of a real docker-registry) is plain HTTP here (--plain-http, no HTTP_PROXY): direct.
 */

const ROLE = 'arn:aws:iam::123456789012:role/packs';

describe('the AWS API through a forward proxy', () => {
  const w = setup(async (stack) => {
    const world = await startEcrPackWorld(stack, 'testAKIDPROXY');
    const certs = stack.add(await makeTestCertificates({ hosts: ['api.ecr.test', 'sts.test', '127.0.0.1'] }));
    const standin = new URL(world.standin.url).host;
    const terminate = { 'api.ecr.test:443': { to: standin, certs }, 'sts.test:443': { to: standin, certs } };
    const proxy = stack.add(await startForwardProxy({ terminate }));
    // A TLS-intercepting proxy spoken to over TLS: its own certificate and the one it shows for the ECR API signed by the CA a runner is given.
    const tlsProxy = stack.add(await startForwardProxy({ terminate, tls: certs }));
    // The ECR API behind a TLS front this machine reaches directly (an interception it is not told about): its certificate signed by the same CA.
    const front = createTlsServer({ cert: readFileSync(certs.certFile), key: readFileSync(certs.keyFile) }, (clear) => {
      const upstream = netConnect({ host: '127.0.0.1', port: Number(standin.split(':')[1]) });
      const drop = () => {
        clear.destroy();
        upstream.destroy();
      };
      clear.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      clear.pipe(upstream).pipe(clear);
    });
    const tlsFront = stack.add(await listenOnLoopback(front as unknown as Server));
    return { ...world, certs, proxy, tlsProxy, tlsFront };
  });

  /** The built CLI with the fake AWS identity, the test CA, and `env` (the proxy). */
  const run = (base: string, env: Record<string, string>, extra: string[] = [], endpoint = 'https://api.ecr.test') =>
    runBin(['push', w.pack, '--registry', `${w.host}/${base}`, '--resolve', w.resolve, '--plain-http', '--ecr-endpoint', endpoint, '--json', ...extra], {
      env: {
        ...w.env(),
        AWS_ACCESS_KEY_ID: 'testAKIDPROXY',
        AWS_SECRET_ACCESS_KEY: 'testAKIDPROXY-secret-not-real',
        AWS_CONFIG_FILE: '/nonexistent/packpub-test/config',
        AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/packpub-test/credentials',
        AWS_EC2_METADATA_DISABLED: 'true',
        NODE_EXTRA_CA_CERTS: w.certs.caFile,
        ...env,
      },
    });
  /**
   * The same push in-process, without NODE_EXTRA_CA_CERTS: `env` is the run's, except AWS_ENDPOINT_URL_STS, which
   * the SDK reads from the process environment (there for the run, put back after).
   */
  const runHere = async (base: string, env: Record<string, string>, extra: string[] = [], endpoint = 'https://api.ecr.test') => {
    const { AWS_ENDPOINT_URL_STS: sts, ...own } = env;
    if (sts !== undefined) process.env['AWS_ENDPOINT_URL_STS'] = sts;
    try {
      return await runCli(['push', w.pack, '--registry', `${w.host}/${base}`, '--resolve', w.resolve, '--plain-http', '--ecr-endpoint', endpoint, '--json', ...extra], { env: { ...w.env(), ...own } });
    } finally {
      delete process.env['AWS_ENDPOINT_URL_STS'];
    }
  };
  const held = (base: string) => skopeoInspectRaw(`${w.registry.host}/${base}/spectro-packs/archive/hello:1.0.0`);

  it('a proxy that is down: exit 1 naming it and the ECR API host; no repository created, nothing published', async () => {
    const down = `127.0.0.1:${await freePort()}`;
    const calls = w.standin.calls.length;
    const refused = await runHere('down', { HTTPS_PROXY: `http://${down}` });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`the proxy ${down} (HTTPS_PROXY) refused the connection (on the way to api.ecr.test:443)`);
    expect(w.standin.calls.length).toBe(calls);
    expect([...w.standin.repositories.keys()].filter((r) => r.startsWith('down/'))).toEqual([]);
    await expect(held('down')).rejects.toThrow(/manifest unknown|not found|name unknown/i);
  });

  it('HTTPS_PROXY: the ECR token and CreateRepository go through CONNECT with the real SDK; exit 0, the registry holds the pack', async () => {
    const pushed = await runHere('viaproxy', { HTTPS_PROXY: w.proxy.url }, ['--ca-file', w.certs.caFile]);
    expect(pushed.code, pushed.stderr).toBe(0);
    const result = (JSON.parse(pushed.stdout) as { results: Array<{ status: string; digest: string }> }).results[0];
    expect(result?.status).toBe('published');
    expect([...w.standin.repositories.keys()].filter((r) => r.startsWith('viaproxy/')).sort()).toEqual(['viaproxy/spectro-packs/archive', 'viaproxy/spectro-packs/archive/hello']);
    expect(w.standin.calls.map((c) => c.op)).toEqual(expect.arrayContaining(['GetAuthorizationToken', 'CreateRepository']));
    expect(w.proxy.requests.length).toBeGreaterThan(0);
    expect(w.proxy.requests.every((r) => r.kind === 'connect' && r.target === 'api.ecr.test:443' && r.status === 200)).toBe(true);
    expect(`sha256:${createHash('sha256').update(await held('viaproxy')).digest('hex')}`).toBe(result?.digest);
  });

  it('an https:// proxy whose CA is given as --ca-file (not NODE_EXTRA_CA_CERTS): the ECR calls trust it as the registry does; exit 0, the pack published', async () => {
    const before = w.tlsProxy.requests.length;
    // Was: exit 1, every ECR call refused on the proxy's certificate, though the registry's connections trusted the file.
    const pushed = await runHere('tlsproxy', { HTTPS_PROXY: w.tlsProxy.url, AWS_ENDPOINT_URL_STS: 'https://sts.test' }, ['--ca-file', w.certs.caFile, '--aws-role-arn', ROLE]);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect((JSON.parse(pushed.stdout) as { results: Array<{ status: string }> }).results.map((r) => r.status)).toEqual(['published']);
    const tunnels = w.tlsProxy.requests.slice(before);
    expect(tunnels.map((r) => r.target)).toEqual(expect.arrayContaining(['api.ecr.test:443', 'sts.test:443']));
    expect(tunnels.every((r) => r.kind === 'connect' && r.status === 200)).toBe(true);
    expect([...w.standin.repositories.keys()].filter((r) => r.startsWith('tlsproxy/')).sort()).toEqual(['tlsproxy/spectro-packs/archive', 'tlsproxy/spectro-packs/archive/hello']);
    await held('tlsproxy');

    // Without the file, the proxy's certificate is refused: exit 1 naming it, nothing created.
    const refused = await runHere('tlsnoca', { HTTPS_PROXY: w.tlsProxy.url });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`the proxy ${w.tlsProxy.host} (HTTPS_PROXY, over TLS) has a TLS certificate packpub could not verify`);
    expect([...w.standin.repositories.keys()].filter((r) => r.startsWith('tlsnoca/'))).toEqual([]);
  });

  it("the ECR API's certificate not trusted (a proxy inspecting TLS without its CA given; STS too): named as such, hint where the CA goes (was: 'ECR API call ... failed (Error): unable to verify the first certificate', hint --debug); nothing created", async () => {
    const calls = w.standin.calls.length;
    const hint = "the AWS calls trust Node's roots, NODE_EXTRA_CA_CERTS, AWS_CA_BUNDLE and the target's --ca-file: give the CA that signed it in one of them (behind a proxy that inspects TLS, HTTPS_PROXY: the proxy's CA)";
    const proxied = await runHere('untrusted', { HTTPS_PROXY: w.proxy.url });
    expect(proxied.code).toBe(1);
    expect(proxied.stderr).toContain('the TLS certificate of the ECR API at https://api.ecr.test could not be verified (UNABLE_TO_VERIFY_LEAF_SIGNATURE), calling ecr:');
    expect(proxied.stderr).toContain(`${hint}, or check --ecr-endpoint / AWS_ENDPOINT_URL_ECR`);
    const role = await runHere('untrusted', { HTTPS_PROXY: w.proxy.url, AWS_ENDPOINT_URL_STS: 'https://sts.test' }, ['--aws-role-arn', ROLE]);
    expect(role.code).toBe(1);
    expect(role.stderr).toContain('the TLS certificate of STS (for --aws-role-arn) could not be verified (UNABLE_TO_VERIFY_LEAF_SIGNATURE), calling sts:AssumeRole for ');
    expect(role.stderr).toContain(`${hint})`);
    expect(w.standin.calls.length).toBe(calls);
    expect([...w.standin.repositories.keys()].filter((r) => r.startsWith('untrusted/'))).toEqual([]);
    await expect(held('untrusted')).rejects.toThrow(/manifest unknown|not found|name unknown/i);
  });

  it('no proxy, the ECR API behind a TLS front signed by the --ca-file CA: the SDK trusts the file as the registry does; exit 0', async () => {
    const calls = w.standin.calls.length;
    const endpoint = `https://${w.tlsFront.host}`;
    // Was: exit 1, the ECR calls refused on the front's certificate (the SDK trusted Node's roots only).
    const pushed = await runHere('tlsfront', {}, ['--ca-file', w.certs.caFile], endpoint);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect([...w.standin.repositories.keys()].filter((r) => r.startsWith('tlsfront/')).sort()).toEqual(['tlsfront/spectro-packs/archive', 'tlsfront/spectro-packs/archive/hello']);
    expect(w.standin.calls.slice(calls).map((c) => c.op)).toEqual(expect.arrayContaining(['GetAuthorizationToken', 'CreateRepository']));
    await held('tlsfront');
  });

  it('AWS_CA_BUNDLE, as the aws CLI reads it, is trusted for the ECR calls (the SDK reads no such variable); a bundle that cannot be read is named', async () => {
    const endpoint = `https://${w.tlsFront.host}`;
    // Was: exit 1, the front's certificate refused: only the aws CLI read the variable.
    const pushed = await runHere('cabundle', { AWS_CA_BUNDLE: w.certs.caFile }, [], endpoint);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect([...w.standin.repositories.keys()].filter((r) => r.startsWith('cabundle/')).sort()).toEqual(['cabundle/spectro-packs/archive', 'cabundle/spectro-packs/archive/hello']);
    await held('cabundle');

    const missing = await runHere('cabundlemissing', { AWS_CA_BUNDLE: '/nonexistent/packpub-test/ca.pem' }, [], endpoint);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot read AWS_CA_BUNDLE /nonexistent/packpub-test/ca.pem: ');
    expect([...w.standin.repositories.keys()].filter((r) => r.startsWith('cabundlemissing/'))).toEqual([]);
  });

  it('--aws-role-arn: STS AssumeRole goes through the proxy too; NO_PROXY=.test sends the SDK direct (and it cannot resolve api.ecr.test)', async () => {
    const before = w.proxy.requests.length;
    const assumed = await run('role', { HTTPS_PROXY: w.proxy.url, AWS_ENDPOINT_URL_STS: 'https://sts.test' }, ['--aws-role-arn', ROLE]);
    expect(assumed.code, assumed.stderr).toBe(0);
    const tunnels = w.proxy.requests.slice(before).map((r) => r.target);
    expect(tunnels).toContain('sts.test:443');
    expect(tunnels).toContain('api.ecr.test:443');
    expect(w.proxy.requests.slice(before).every((r) => r.kind === 'connect' && r.status === 200)).toBe(true);
    expect(w.standin.calls.some((c) => c.op === 'AssumeRole' || c.op === 'sts:AssumeRole')).toBe(true);
    await held('role');

    const tunnelled = w.proxy.requests.length;
    const bypass = await runHere('bypass', { HTTPS_PROXY: w.proxy.url, NO_PROXY: '.test' });
    expect(bypass.code).toBe(1);
    expect(bypass.stderr).toContain('cannot reach the ECR API at https://api.ecr.test (ENOTFOUND)');
    expect(w.proxy.requests.length).toBe(tunnelled);
  });
});

describe('the ECR Public API through a forward proxy', () => {
  const TOKEN = 'ecr-public-token-not-real-proxy';
  const w = setup(async (stack) => {
    // The SDK's credentials, in process.env where it reads them.
    stack.defer(useFakeAwsEnvironment('testAKIDPUBLICPROXY'));
    const root = await stack.tempDir('packpub-proxy-ecr-public-');
    const pack = await writePack(join(root, 'hello-1.0.0'), { name: 'hello', version: '1.0.0' });
    const world = await startEcrPublicWorld(stack, TOKEN);
    const certs = stack.add(await makeTestCertificates({ hosts: ['api.ecr-public.test'] }));
    const proxy = stack.add(await startForwardProxy({ terminate: { 'api.ecr-public.test:443': { to: new URL(world.api.url).host, certs } } }));
    return { root, pack, ...world, certs, proxy };
  });

  it('CreateRepository of ECR Public tunnels through HTTPS_PROXY with the real SDK: exit 0, both repositories made, the pack published', async () => {
    const run = await runCli(['push', w.pack, '--registry', `${w.host}/myalias/viaproxy`, '--resolve', w.resolve, '--plain-http', '--ca-file', w.certs.caFile, '--json'], {
      env: {
        HOME: join(w.root, 'home'),
        DOCKER_CONFIG: join(w.root, 'docker'),
        PACKPUB_USERNAME: 'AWS',
        PACKPUB_PASSWORD: TOKEN,
        AWS_ENDPOINT_URL_ECR_PUBLIC: 'https://api.ecr-public.test',
        HTTPS_PROXY: w.proxy.url,
      },
    });
    expect(run.code, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as { results: Array<{ status: string }> }).results.map((r) => r.status)).toEqual(['published']);
    expect([...w.created].sort()).toEqual(['viaproxy/spectro-packs/archive', 'viaproxy/spectro-packs/archive/hello']);
    expect(w.api.calls.map((c) => c.op)).toEqual(expect.arrayContaining(['CreateRepository']));
    expect(w.proxy.requests.length).toBeGreaterThan(0);
    expect(w.proxy.requests.every((r) => r.kind === 'connect' && r.target === 'api.ecr-public.test:443' && r.status === 200)).toBe(true);
    expect(w.registry.requests.some((r) => r.method === 'PUT' && r.path.endsWith('/manifests/1.0.0'))).toBe(true);
  });
});
