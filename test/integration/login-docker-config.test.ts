import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticProvider } from '../../src/credentials/chain.js';
import { dockerConfigProvider, encodeAuth } from '../../src/credentials/docker-config.js';
import { sha256Digest } from '../../src/oci/digest.js';
import { EMPTY_CONFIG, EMPTY_CONFIG_BYTES, packManifest, serializeManifest } from '../../src/oci/manifest.js';
import { MEDIA_TYPE_OCI_MANIFEST } from '../../src/oci/media-types.js';
import { openGenericRegistryStore } from '../../src/targets/registry-store.js';
import { main } from '../../src/cli/main.js';
import { makeCredHelperFixture, type CredHelperFixture } from '../support/cred-helper-fixture.js';
import { sharedRegistry, type SharedRegistry } from '../support/registry.js';
import { runCli } from '../support/cli.js';
import { setup } from '../support/stage.js';
import { runChildText } from '../support/spawner.js';

const USER = 'alice';
const PASSWORD = 'Login-Test-Pa55word';
const ROBOT = 'robot$spectro+ci';
const ROBOT_PASSWORD = 'Robot:Pa55:with-colons';
/** The artifact for skopeo to read, under the registry's base path of this file's own. */
let REPO: string;

let registry: SharedRegistry;
let dir: string;
let helper: CredHelperFixture;

beforeAll(async () => {
  registry = await sharedRegistry({ auth: 'htpasswd', users: { [USER]: PASSWORD, [ROBOT]: ROBOT_PASSWORD } });
  REPO = `${registry.base}/spectro/spectro-packs/archive/hello`;
  dir = await mkdtemp(join(tmpdir(), 'packpub-login-'));
  helper = await makeCredHelperFixture();
  // One artifact for skopeo to read.
  const store = await openGenericRegistryStore({ host: registry.host, credentials: staticProvider('test', { username: USER, password: PASSWORD }) });
  try {
    const layer = Buffer.from('hello layer');
    const layerDesc = { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256Digest(layer), size: layer.length };
    await store.pushBlob(REPO, EMPTY_CONFIG, () => Readable.from([EMPTY_CONFIG_BYTES]));
    await store.pushBlob(REPO, layerDesc, () => Readable.from([layer]));
    const manifest = serializeManifest(packManifest({ layer: layerDesc, title: 'hello-1.0.0.tar.gz', created: new Date('2024-05-01T00:00:00Z') }));
    await store.pushManifest(REPO, '1.0.0', manifest, MEDIA_TYPE_OCI_MANIFEST);
  } finally {
    await store.close();
  }
});

afterAll(async () => {
  await registry?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  await helper?.cleanup();
});

let n = 0;
const configPath = () => join(dir, `cfg-${n++}`, 'config.json');
const env = () => ({ HOME: join(dir, 'home') });

function expectNoSecret(text: string, ...secrets: string[]) {
  for (const s of secrets) {
    expect(text).not.toContain(s);
    expect(text).not.toContain(Buffer.from(s).toString('base64'));
  }
}

describe('packpub login / logout with a Docker config file', () => {
  it('checks the password, writes auths[host].auth with mode 0600, and skopeo reads the file', async () => {
    const file = configPath();
    const run = await runCli(['login', registry.host, '-u', USER, '--password-stdin', '--registry-config', file], { stdin: `${PASSWORD}\n`, env: env() });
    expect(run.stderr + run.stdout).toContain(`Login succeeded: credentials for ${registry.host} saved in ${file}`);
    expect(run.code).toBe(0);
    expectNoSecret(run.stdout + run.stderr, PASSWORD);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const written = JSON.parse(await readFile(file, 'utf8')) as { auths: Record<string, { auth: string }> };
    expect(written.auths[registry.host]?.auth).toBe(encodeAuth(USER, PASSWORD));
    const { stdout } = await runChildText('skopeo', ['inspect', '--raw', '--tls-verify=false', '--authfile', file, `docker://${registry.host}/${REPO}:1.0.0`]);
    expect(JSON.parse(stdout)).toMatchObject({ schemaVersion: 2, mediaType: MEDIA_TYPE_OCI_MANIFEST });
  });

  it('refuses a wrong password and saves nothing', async () => {
    const file = configPath();
    const run = await runCli(['login', registry.host, '-u', USER, '--password-stdin', '--registry-config', file], { stdin: 'wrong-password-123', env: env() });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`credentials rejected by ${registry.host}`);
    expectNoSecret(run.stdout + run.stderr, 'wrong-password-123');
    await expect(stat(file)).rejects.toThrow();
  });

  it('keeps every other field and key order of an existing config, and updates an entry written as a URL', async () => {
    const file = join(dir, 'existing.json');
    const original = {
      proxies: { default: { httpProxy: 'http://proxy.internal:3128' } },
      auths: {
        'ghcr.io': { auth: encodeAuth('gh', 'ghp') },
        [`https://${registry.host}/v1/`]: { auth: encodeAuth('old', 'old-password'), email: 'ops@example.com' },
      },
      credHelpers: { 'gcr.io': 'gcloud' },
      detachKeys: 'ctrl-e,e',
    };
    await writeFile(file, JSON.stringify(original, null, 2));
    const run = await runCli(['login', registry.host, '-u', ROBOT, '--password-stdin', '--registry-config', file], { stdin: ROBOT_PASSWORD, env: env() });
    expect(run.code).toBe(0);
    const after = JSON.parse(await readFile(file, 'utf8')) as typeof original;
    expect(Object.keys(after)).toEqual(['proxies', 'auths', 'credHelpers', 'detachKeys']);
    expect(after.proxies).toEqual(original.proxies);
    expect(after.credHelpers).toEqual(original.credHelpers);
    expect(after.detachKeys).toBe('ctrl-e,e');
    expect(Object.keys(after.auths)).toEqual(['ghcr.io', `https://${registry.host}/v1/`]);
    expect(after.auths[`https://${registry.host}/v1/`]).toEqual({ email: 'ops@example.com', auth: encodeAuth(ROBOT, ROBOT_PASSWORD) });
    // packpub reads the robot account back as it wrote it.
    expect(await dockerConfigProvider({ registryConfig: file }).resolve(registry.host)).toMatchObject({ username: ROBOT, password: ROBOT_PASSWORD });
  });

  it('stores through the credential helper when credsStore is set, leaving no secret in the file', async () => {
    const file = join(dir, 'helper.json');
    await writeFile(file, JSON.stringify({ credsStore: 'packpubtest', auths: { [registry.host]: { auth: encodeAuth('stale', 'stale-pw') } } }));
    const run = await runCli(['login', registry.host, '-u', USER, '--password-stdin', '--registry-config', file], { stdin: PASSWORD, env: { ...helper.env, HOME: join(dir, 'home') } });
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('stored with docker-credential-packpubtest');
    expect(run.code).toBe(0);
    expect(await helper.entries()).toEqual({ [registry.host]: { Username: USER, Secret: PASSWORD } });
    const after = JSON.parse(await readFile(file, 'utf8')) as { auths: Record<string, unknown>; credsStore: string };
    expect(after).toEqual({ credsStore: 'packpubtest', auths: { [registry.host]: {} } });
    expect(await dockerConfigProvider({ registryConfig: file, env: helper.env }).resolve(registry.host)).toMatchObject({ username: USER, password: PASSWORD });

    const out = await runCli(['logout', registry.host, '--registry-config', file], { env: { ...helper.env, HOME: join(dir, 'home') } });
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(`Removed credentials for ${registry.host} from docker-credential-packpubtest`);
    expect(await helper.entries()).toEqual({});
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ credsStore: 'packpubtest', auths: {} });
  });

  it('logout removes the auths entry, and says so when there is nothing left', async () => {
    const file = configPath();
    expect((await runCli(['login', registry.host, '-u', USER, '--password-stdin', '--registry-config', file], { stdin: PASSWORD, env: env() })).code).toBe(0);
    const out = await runCli(['logout', registry.host, '--registry-config', file], { env: env() });
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(`Removed credentials for ${registry.host} from ${file}`);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ auths: {} });
    const again = await runCli(['logout', registry.host, '--registry-config', file], { env: env() });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`Not logged in to ${registry.host}`);
  });

  it('uses $DOCKER_CONFIG when no --registry-config is given', async () => {
    const dockerConfig = join(dir, 'docker-config-dir');
    const run = await runCli(['login', registry.host, '-u', USER, '--password-stdin'], { stdin: PASSWORD, env: { HOME: join(dir, 'home'), DOCKER_CONFIG: dockerConfig } });
    expect(run.code).toBe(0);
    const written = JSON.parse(await readFile(join(dockerConfig, 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
    expect(written.auths[registry.host]?.auth).toBe(encodeAuth(USER, PASSWORD));
  });

  it('reads what skopeo login writes', async () => {
    const file = join(dir, 'skopeo-auth.json');
    await runChildText('skopeo', ['login', '--tls-verify=false', '--authfile', file, '-u', USER, '--password-stdin', registry.host], {
      env: { ...process.env, HOME: join(dir, 'home') },
      timeout: 30_000,
      input: `${PASSWORD}\n`,
    });
    const credential = await dockerConfigProvider({ registryConfig: file }).resolve(registry.host);
    expect(credential).toMatchObject({ username: USER, password: PASSWORD });
  });

  it('skopeo login without --authfile writes $XDG_RUNTIME_DIR/containers/auth.json, which packpub reads when named with --registry-config (README)', async () => {
    const home = join(dir, 'home-skopeo');
    const runtime = join(dir, 'runtime-skopeo');
    await mkdir(runtime, { recursive: true, mode: 0o700 });
    const { DOCKER_CONFIG: _unset, REGISTRY_AUTH_FILE: _unset2, ...rest } = process.env;
    await runChildText('skopeo', ['login', '--tls-verify=false', '-u', USER, '--password-stdin', registry.host], {
      env: { ...rest, HOME: home, XDG_RUNTIME_DIR: runtime },
      timeout: 30_000,
      input: `${PASSWORD}\n`,
    });
    const file = join(runtime, 'containers', 'auth.json');
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ auths: { [registry.host]: { auth: encodeAuth(USER, PASSWORD) } } });
    const target = ['--registry', `${registry.host}/${registry.base}/spectro`];
    const unnamed = await runCli(['list', ...target], { env: { HOME: home, XDG_RUNTIME_DIR: runtime } });
    expect(unnamed.code).toBe(1);
    expect(unnamed.stderr).toContain(`authentication required by ${registry.host}`);
    const named = await runCli(['list', ...target, '--registry-config', file], { env: { HOME: home, XDG_RUNTIME_DIR: runtime } });
    expect(named.code, named.stderr).toBe(0);
    expect(named.stdout).toMatch(/hello\s+1\.0\.0/);
  });

  it('needs no login for ECR and saves nothing', async () => {
    const file = configPath();
    const run = await runCli(['login', '123456789012.dkr.ecr.us-east-1.amazonaws.com', '--registry-config', file], { env: env() });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('is an AWS ECR registry');
    expect(run.stdout).toContain('mints its registry password on demand with ecr:GetAuthorizationToken');
    await expect(stat(file)).rejects.toThrow();
  });

  it('prompts for the password on a terminal without echoing it', async () => {
    const file = configPath();
    const stdin = Object.assign(new PassThrough(), { isTTY: true, modes: [] as boolean[] });
    const raw = Object.assign(stdin, {
      setRawMode(mode: boolean) {
        stdin.modes.push(mode);
        return raw;
      },
    });
    const out = new PassThrough();
    const err = new PassThrough();
    const text = { out: '', err: '' };
    out.on('data', (c: Buffer) => (text.out += c.toString()));
    err.on('data', (c: Buffer) => {
      text.err += c.toString();
      // Type the password once the prompt is shown: a typo, a backspace, then Enter.
      if (c.toString().includes('Password: ')) raw.write(`${PASSWORD}x\u007f\r`);
    });
    const code = await main(['login', registry.host, '-u', USER, '--registry-config', file], {
      stdin: raw,
      stdout: out,
      stderr: err,
      env: env(),
      cwd: dir,
    });
    expect(text.err).toContain('Password: ');
    expect(text.out + text.err).not.toContain(PASSWORD);
    expect(code).toBe(0);
    expect(raw.modes).toEqual([true, false]);
    const written = JSON.parse(await readFile(file, 'utf8')) as { auths: Record<string, { auth: string }> };
    expect(written.auths[registry.host]?.auth).toBe(encodeAuth(USER, PASSWORD));
  });

  it('logout of an ECR host with nothing stored explains that nothing ever is', async () => {
    const run = await runCli(['logout', '123456789012.dkr.ecr.us-east-1.amazonaws.com', '--registry-config', configPath()], { env: env() });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Not logged in to 123456789012.dkr.ecr.us-east-1.amazonaws.com');
    expect(run.stdout).toContain('minted on demand');
  });

  it('says when the registry cannot be reached, and saves nothing', async () => {
    const file = configPath();
    const run = await runCli(['login', '127.0.0.1:9', '-u', USER, '--password-stdin', '--registry-config', file], { stdin: PASSWORD, env: env() });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('connection refused by 127.0.0.1:9');
    await expect(stat(file)).rejects.toThrow();
  });

  it('asks for --password-stdin when there is no terminal to prompt on', async () => {
    const run = await runCli(['login', registry.host, '-u', USER, '--registry-config', configPath()], { env: env() });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--password-stdin');
  });
});

describe('packpub login against a registry that does not ask for credentials', () => {
  const w = setup(async () => {
    const open = await sharedRegistry();
    return { open };
  });
  it('saves them, as docker login does, and warns that nothing was checked', async () => {
    const file = join(dir, 'anonymous.json');
    const run = await runCli(['login', w.open.host, '-u', USER, '--password-stdin', '--registry-config', file], { stdin: PASSWORD, env: env() });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('without asking for credentials, so they were saved without being checked');
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ auths: { [w.open.host]: { auth: encodeAuth(USER, PASSWORD) } } });
  });
});
