import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { skopeoInspectRaw, startRegistry } from '../support/registry.js';
import { setup } from '../support/stage.js';
import { makeClientCertificate, makeTestCertificates } from '../support/tls.js';
import { startTokenServer } from '../support/token-server.js';

/*
 * issue 14: --cert-file / --key-file against a real distribution registry that requires a client
 * certificate (http.tls.clientcas), with token auth whose realm is another loopback port over TLS. The
 * token service asks every client for a certificate without requiring one, so it can say whether packpub
 * presented the registry's certificate there (it must not).
 */

const USER = 'mtls-robot';
const PASSWORD = 'mtls-Pa55word-7f3a';

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-mtls-');
  const certs = stack.add(await makeTestCertificates());
  const client = await makeClientCertificate(certs, 'client');
  const rogue = await makeClientCertificate(certs, 'rogue', { selfSigned: true });
  const tokens = stack.add(await startTokenServer({ users: { [USER]: PASSWORD }, tls: { certFile: certs.certFile, keyFile: certs.keyFile } }));
  const registry = stack.add(await startRegistry({ auth: 'token', token: tokens, tls: certs, clientCert: client, storage: 'filesystem' }));
  const pack = await writePack(join(root, 'mtls'), { name: 'mtls', version: '1.0.0' });
  // skopeo's --cert-dir: the CA as *.crt, the client pair as *.cert + *.key.
  const certDir = join(root, 'skopeo-certs');
  await mkdir(certDir);
  await copyFile(certs.caFile, join(certDir, 'ca.crt'));
  await copyFile(client.certFile, join(certDir, 'client.cert'));
  await copyFile(client.keyFile, join(certDir, 'client.key'));
  return { root, certs, client, rogue, tokens, registry, pack, certDir };
});

const env = () => ({ PACKPUB_USERNAME: USER, PACKPUB_PASSWORD: PASSWORD, SOURCE_DATE_EPOCH: '1700000000', DOCKER_CONFIG: join(w.root, 'docker') });
/** The registry over HTTPS (127.0.0.1 defaults to plain HTTP), trusting the test CA. */
const https = () => ['--registry', `${w.registry.host}/base`, '--no-plain-http', '--ca-file', w.certs.caFile];
const identity = (pair = w.client) => ['--cert-file', pair.certFile, '--key-file', pair.keyFile];
const repositories = async () => readdir(join(w.registry.storageDir, 'docker/registry/v2/repositories')).catch(() => []);

describe('a registry that requires a client certificate', () => {
  it('without one: a TLS error that names --cert-file/--key-file, nothing retried, nothing pushed', async () => {
    const run = await runCli(['push', w.pack, ...https(), '--retry-attempts', '3', '--debug'], { env: env() });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`${w.registry.host} requires a client certificate (TLS alert: bad certificate)`);
    expect(run.stderr).toContain('hint: pass --cert-file CERT --key-file KEY with a client certificate the registry trusts (mTLS)');
    expect(run.stderr).toContain('debug: GET https://');
    expect(run.stderr).not.toContain('debug: retry');
    expect(await repositories()).toEqual([]);
  });

  it('with a certificate the registry does not trust: says it was rejected', async () => {
    const run = await runCli(['push', w.pack, ...https(), ...identity(w.rogue)], { env: env() });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`${w.registry.host} rejected the client certificate (TLS alert:`);
    expect(await repositories()).toEqual([]);
  });

  it('with one: pushes, skopeo with the same certificate reads the digest packpub reported, and the token service never saw it', async () => {
    w.tokens.requests.length = 0;
    const run = await runCli(['push', w.pack, ...https(), ...identity(), '--allow-cross-host-auth', '--json'], { env: env() });
    expect(run.code, run.stderr).toBe(0);
    const digest = (JSON.parse(run.stdout) as { results: Array<{ digest: string }> }).results[0]?.digest;
    // The realm (another port) answered token requests, and none of them came with the client certificate.
    expect(w.tokens.requests.length).toBeGreaterThan(0);
    expect(w.tokens.requests.filter((r) => r.clientCertificate)).toEqual([]);
    expect(w.tokens.requests.every((r) => r.authenticated)).toBe(true);
    // (skopeo itself presents its --cert-dir certificate to the token service too: checked after the above.)
    const raw = await skopeoInspectRaw(`${w.registry.host}/base/spectro-packs/archive/mtls:1.0.0`, { tlsVerify: true, certDir: w.certDir, creds: { username: USER, password: PASSWORD } });
    expect(`sha256:${createHash('sha256').update(raw).digest('hex')}`).toBe(digest);
  });

  it('login, list, inspect and pull work with it', async () => {
    const login = await runCli(
      ['login', w.registry.host, '-u', USER, '--password-stdin', '--no-plain-http', '--ca-file', w.certs.caFile, ...identity(), '--allow-cross-host-auth'],
      { env: { DOCKER_CONFIG: join(w.root, 'docker') }, stdin: PASSWORD },
    );
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain(`Login succeeded: credentials for ${w.registry.host}`);
    const list = await runCli(['list', ...https(), ...identity(), '--allow-cross-host-auth'], { env: env() });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/mtls\s+1\.0\.0/);
    const inspect = await runCli(['inspect', 'mtls:1.0.0', ...https(), ...identity(), '--allow-cross-host-auth', '--json'], { env: env() });
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(JSON.parse(inspect.stdout)).toMatchObject({ packJson: { name: 'mtls', version: '1.0.0' } });
    const out = join(w.root, 'pulled');
    const pull = await runCli(['pull', 'mtls:1.0.0', ...https(), ...identity(), '--allow-cross-host-auth', '--output', out], { env: env() });
    expect(pull.code, pull.stderr).toBe(0);
    expect(await readdir(out)).toContain('pack.json');
  });

  it('runs in one process present the pair on disk at each run: a changed pair is honoured, and neither a refusal nor an acceptance carries over to the next run (issue 11)', async () => {
    // The TLS secure context is shared by runs given the same files (src/registry/http.ts makeSecureContext);
    // what the registry accepts is decided in each run's own handshakes.
    const cert = join(w.root, 'changing.pem');
    const key = join(w.root, 'changing.key');
    const holding = async (pair: typeof w.client) => {
      await copyFile(pair.certFile, cert);
      await copyFile(pair.keyFile, key);
    };
    const list = (pair: string[] = ['--cert-file', cert, '--key-file', key]) => runCli(['list', ...https(), ...pair, '--allow-cross-host-auth'], { env: env() });
    await holding(w.client);
    const accepted = await list();
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(accepted.stdout).toMatch(/mtls\s+1\.0\.0/);
    await holding(w.rogue);
    const rejected = await list();
    expect(rejected.code).toBe(1);
    expect(rejected.stderr).toContain(`${w.registry.host} rejected the client certificate (TLS alert:`);
    expect(rejected.stdout).not.toContain('mtls');
    await holding(w.client);
    const acceptedAgain = await list();
    expect(acceptedAgain.code, acceptedAgain.stderr).toBe(0);
    expect(acceptedAgain.stdout).toMatch(/mtls\s+1\.0\.0/);
    const none = await list([]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`${w.registry.host} requires a client certificate (TLS alert: bad certificate)`);
  });
});

describe('push --check-images with the images on the target registry (private CA, mTLS, token realm on another port)', () => {
  /** A pack whose pack.content.images lists exactly `images`. */
  const packWithImages = (name: string, images: string[]) =>
    writePack(join(w.root, 'images', name), {
      name,
      version: '1.0.0',
      files: { 'values.yaml': ['pack:', `  namespace: ${name}`, '  content:', '    images:', ...images.map((i) => `      - image: ${i}`), ''].join('\n') },
    });

  it("checks them with the target's CA, client certificate and credentials: found ones publish, a missing one refuses the run", async () => {
    const existing = `${w.registry.host}/images/app:1.0.0`;
    // An image on the registry, published with packpub itself (any manifest will do).
    const seed = await runCli(['push', await packWithImages('seed', []), '--registry', `${w.registry.host}/images`, '--no-plain-http', '--ca-file', w.certs.caFile, ...identity(), '--allow-cross-host-auth'], {
      env: env(),
    });
    expect(seed.code, seed.stderr).toBe(0);
    const present = `${w.registry.host}/images/spectro-packs/archive/seed:1.0.0`;
    const found = await packWithImages('uses-present', [present]);
    const ok = await runCli(['push', '--check-images', found, ...https(), ...identity(), '--allow-cross-host-auth', '--json'], { env: env() });
    expect(ok.stderr).not.toMatch(/gated|cannot check|not checked/);
    expect(ok.code, ok.stderr).toBe(0);
    expect((JSON.parse(ok.stdout) as { results: Array<{ name: string; status: string; findings?: unknown }> }).results[0]).toMatchObject({ name: 'uses-present', status: 'published' });
    expect(await repositories()).toContain('base');

    const absent = await packWithImages('uses-absent', [existing]);
    const refused = await runCli(['push', '--check-images', absent, ...https(), ...identity(), '--allow-cross-host-auth', '--json'], { env: env() });
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toContain(`image ${existing} does not exist`);
    expect(refused.stderr).not.toMatch(/gated|cannot check|certificate/);
    expect((JSON.parse(refused.stdout) as { results: Array<{ status: string; error?: { code: string } }> }).results[0]).toMatchObject({ status: 'failed', error: { code: 'IMAGE_NOT_FOUND' } });
    const archive = await readdir(join(w.registry.storageDir, 'docker/registry/v2/repositories/base/spectro-packs/archive'));
    expect(archive).not.toContain('uses-absent');
  });
});

describe('client certificate flags checked before any network work (exit 2)', () => {
  const refused = async (args: string[], message: string) => {
    const before = w.tokens.requests.length;
    const run = await runCli(['push', w.pack, ...https(), ...args], { env: env() });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain(message);
    expect(w.tokens.requests.length).toBe(before);
    return run;
  };

  it('refuses half a pair', async () => {
    await refused(['--cert-file', w.client.certFile], '--cert-file needs --key-file');
    await refused(['--key-file', w.client.keyFile], '--key-file needs --cert-file');
  });

  it('refuses an unreadable file, a file without a certificate, and a key of another certificate, naming the file and never its contents', async () => {
    await refused(identity({ certFile: join(w.root, 'missing.pem'), keyFile: w.client.keyFile }), `cannot read --cert-file ${join(w.root, 'missing.pem')}`);
    await refused(identity({ certFile: w.client.keyFile, keyFile: w.client.keyFile }), `--cert-file ${w.client.keyFile} holds no PEM certificate`);
    await refused(identity({ certFile: w.client.certFile, keyFile: w.client.certFile }), `--key-file ${w.client.certFile} holds no unencrypted PEM private key`);
    const run = await refused(identity({ certFile: w.client.certFile, keyFile: w.rogue.keyFile }), `--key-file ${w.rogue.keyFile} is not the private key of the certificate in --cert-file ${w.client.certFile}`);
    expect(run.stderr).not.toContain('PRIVATE KEY');
  });

  it('refuses a client certificate over plain HTTP', async () => {
    const run = await runCli(['push', w.pack, '--registry', `${w.registry.host}/base`, ...identity()], { env: env() });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`--cert-file needs HTTPS, and ${w.registry.host} is reached over plain HTTP`);
    expect(run.stderr).toContain('hint: pass --no-plain-http');
  });
});
