import { lstat, mkdir, mkdtemp, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeAuth,
  dockerConfigPath,
  dockerConfigProvider,
  encodeAuth,
  normalizeRegistryKey,
  registryKey,
  updateDockerConfig,
} from '../../../src/credentials/docker-config.js';
import { makeCredHelperFixture, type CredHelperFixture } from '../../support/cred-helper-fixture.js';
import { failure } from '../../support/errors.js';

let dir: string;
let helper: CredHelperFixture;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'packpub-dockercfg-'));
  helper = await makeCredHelperFixture(['packpubtest', 'packpubstore']);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await helper?.cleanup();
});

let n = 0;
async function configFile(content: unknown): Promise<string> {
  const path = join(dir, `config-${n++}.json`);
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content, null, '\t'));
  return path;
}


describe('where the Docker config is', () => {
  it('prefers --registry-config, then $DOCKER_CONFIG, then ~/.docker', () => {
    expect(dockerConfigPath({ registryConfig: '/x/auth.json', env: { DOCKER_CONFIG: '/d', HOME: '/h' } })).toBe('/x/auth.json');
    expect(dockerConfigPath({ env: { DOCKER_CONFIG: '/d', HOME: '/h' } })).toBe(join('/d', 'config.json'));
    expect(dockerConfigPath({ env: { HOME: '/h' } })).toBe(join('/h', '.docker', 'config.json'));
  });
});

describe('auths keys and the auth field', () => {
  it.each([
    ['harbor.example.com', 'harbor.example.com'],
    ['https://harbor.example.com/v1/', 'harbor.example.com'],
    ['http://127.0.0.1:5000', '127.0.0.1:5000'],
    ['HARBOR.Example.com', 'harbor.example.com'],
    ['https://index.docker.io/v1/', 'docker.io'],
    ['registry-1.docker.io', 'docker.io'],
  ])('normalises %s to %s', (key, host) => {
    expect(normalizeRegistryKey(key)).toBe(host);
  });

  it('keeps Docker Hub under https://index.docker.io/v1/', () => {
    expect(registryKey('docker.io')).toBe('https://index.docker.io/v1/');
    expect(registryKey('harbor.example.com:8443')).toBe('harbor.example.com:8443');
  });

  it('splits user:password at the first colon (robot accounts, colons in passwords)', () => {
    expect(decodeAuth(encodeAuth('robot$spectro+ci', 'pa:ss:word'))).toEqual({ username: 'robot$spectro+ci', password: 'pa:ss:word' });
    expect(decodeAuth(Buffer.from('nocolon').toString('base64'))).toBeUndefined();
    expect(decodeAuth('not base64 at all!')).toBeUndefined();
  });
});

describe('dockerConfigProvider', () => {
  it('reads auths[host].auth, also under a key written with scheme and path', async () => {
    const path = await configFile({
      auths: {
        'https://harbor.example.com/v1/': { auth: encodeAuth('robot$spectro+ci', 's3cret:x') },
        'https://index.docker.io/v1/': { auth: encodeAuth('hubuser', 'hubpass') },
      },
    });
    const provider = dockerConfigProvider({ registryConfig: path, env: helper.env });
    expect(await provider.resolve('harbor.example.com')).toEqual({ username: 'robot$spectro+ci', password: 's3cret:x', source: `docker config ${path}` });
    expect(await provider.resolve('docker.io')).toMatchObject({ username: 'hubuser', password: 'hubpass' });
    expect(await provider.resolve('other.example.com')).toBeUndefined();
  });

  it('reads identitytoken', async () => {
    const path = await configFile({ auths: { 'registry.example.com': { auth: encodeAuth('me', ''), identitytoken: 'refresh-token' } } });
    expect(await dockerConfigProvider({ registryConfig: path }).resolve('registry.example.com')).toEqual({
      identityToken: 'refresh-token',
      source: `docker config ${path}`,
    });
  });

  it('asks credHelpers[host] first, then credsStore, when auths has no secret for the host', async () => {
    await helper.seed({
      'harbor.example.com': { Username: 'alice', Secret: 'from-credhelpers' },
      'other.example.com': { Username: '<token>', Secret: 'identity-from-store' },
    });
    const path = await configFile({
      auths: { 'harbor.example.com': {} },
      credHelpers: { 'harbor.example.com': 'packpubtest' },
      credsStore: 'packpubstore',
    });
    const provider = dockerConfigProvider({ registryConfig: path, env: helper.env });
    expect(await provider.resolve('harbor.example.com')).toEqual({
      username: 'alice',
      password: 'from-credhelpers',
      source: 'credential helper docker-credential-packpubtest',
    });
    expect(await provider.resolve('other.example.com')).toEqual({
      identityToken: 'identity-from-store',
      source: 'credential helper docker-credential-packpubstore',
    });
    // "credentials not found" from the helper: the provider does not apply.
    expect(await provider.resolve('nothing.example.com')).toBeUndefined();
  });

  it('asks the helper Docker would ask even when auths holds a secret for the host (a stale entry never wins)', async () => {
    await helper.seed({
      'harbor.example.com': { Username: 'alice', Secret: 'from-credhelpers' },
      'other.example.com': { Username: 'bob', Secret: 'from-store' },
    });
    const path = await configFile({
      auths: {
        'harbor.example.com': { auth: encodeAuth('old-robot', 'stale-secret') },
        'other.example.com': { identitytoken: 'stale-token' },
        'inline.example.com': { auth: encodeAuth('carol', 'inline-secret') },
      },
      credHelpers: { 'harbor.example.com': 'packpubtest' },
    });
    const provider = dockerConfigProvider({ registryConfig: path, env: helper.env });
    expect(await provider.resolve('harbor.example.com')).toEqual({
      username: 'alice',
      password: 'from-credhelpers',
      source: 'credential helper docker-credential-packpubtest',
    });
    // No helper for the host: its auths entry.
    expect(await provider.resolve('inline.example.com')).toEqual({ username: 'carol', password: 'inline-secret', source: `docker config ${path}` });

    const withStore = await configFile({
      auths: { 'other.example.com': { identitytoken: 'stale-token' }, 'nothing.example.com': { auth: encodeAuth('dave', 'old') } },
      credsStore: 'packpubstore',
    });
    const store = dockerConfigProvider({ registryConfig: withStore, env: helper.env });
    expect(await store.resolve('other.example.com')).toEqual({ username: 'bob', password: 'from-store', source: 'credential helper docker-credential-packpubstore' });
    // The store has nothing for the host: as with Docker, the auths entry beside it is not used.
    expect(await store.resolve('nothing.example.com')).toBeUndefined();
  });

  it('stops with CREDENTIALS naming the helper when it is configured but missing from PATH', async () => {
    const path = await configFile({ credHelpers: { 'harbor.example.com': 'nosuchhelper' } });
    const err = await failure(dockerConfigProvider({ registryConfig: path, env: helper.env }).resolve('harbor.example.com'));
    expect(err.code).toBe('CREDENTIALS');
    expect(err.message).toContain('docker-credential-nosuchhelper');
    expect(err.message).toContain(path);
    expect(err.hint).toContain('install docker-credential-nosuchhelper');
  });

  it('stops with CREDENTIALS when the helper crashes, quoting what it said', async () => {
    const path = await configFile({ credsStore: 'packpubtest' });
    const env = { ...helper.env, PACKPUB_TEST_HELPER_FAIL: '1' };
    const err = await failure(dockerConfigProvider({ registryConfig: path, env }).resolve('harbor.example.com'));
    expect(err.code).toBe('CREDENTIALS');
    expect(err.message).toContain('docker-credential-packpubtest get failed');
    expect(err.message).toContain('the keychain is locked');
  });

  it('stops with CREDENTIALS on a config that is not JSON, and on a broken auth field', async () => {
    const bad = await configFile('{"auths": {');
    const err = await failure(dockerConfigProvider({ registryConfig: bad }).resolve('harbor.example.com'));
    expect(err.code).toBe('CREDENTIALS');
    expect(err.message).toContain('is not valid JSON');
    const broken = await configFile({ auths: { 'harbor.example.com': { auth: Buffer.from('no-colon').toString('base64') } } });
    const err2 = await failure(dockerConfigProvider({ registryConfig: broken }).resolve('harbor.example.com'));
    expect(err2.code).toBe('CREDENTIALS');
    expect(err2.hint).toContain('packpub login harbor.example.com');
  });

  it('does not apply when the default config does not exist; an explicit missing file is an error', async () => {
    const home = join(dir, 'empty-home');
    expect(await dockerConfigProvider({ env: { HOME: home } }).resolve('harbor.example.com')).toBeUndefined();
    const err = await failure(dockerConfigProvider({ registryConfig: join(dir, 'typo.json') }).resolve('harbor.example.com'));
    expect(err.code).toBe('CREDENTIALS');
    expect(err.message).toContain('typo.json does not exist');
  });
});

describe('updateDockerConfig', () => {
  it('keeps every other field and the key order, writes mode 0600, creates the directory', async () => {
    const path = join(dir, 'new-dir', 'sub', 'config.json');
    await mkdir(join(dir, 'new-dir'), { recursive: true });
    await updateDockerConfig(path, (c) => {
      c.auths = { 'a.example.com': { auth: encodeAuth('a', 'b') } };
    });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const original = `{\n\t"proxies": {"default": {"httpProxy": "http://proxy:3128"}},\n\t"auths": {\n\t\t"z.example.com": {"auth": "${encodeAuth('z', 'z')}", "email": "z@example.com"}\n\t},\n\t"psFormat": "table {{.ID}}",\n\t"credHelpers": {"gcr.io": "gcloud"}\n}\n`;
    const path2 = await configFile(original);
    await updateDockerConfig(path2, (c) => {
      c.auths!['a.example.com'] = { auth: encodeAuth('a', 'b') };
    });
    const after = JSON.parse(await readFile(path2, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(after)).toEqual(['proxies', 'auths', 'psFormat', 'credHelpers']);
    expect(after['proxies']).toEqual({ default: { httpProxy: 'http://proxy:3128' } });
    expect(after['psFormat']).toBe('table {{.ID}}');
    expect(after['credHelpers']).toEqual({ 'gcr.io': 'gcloud' });
    expect(Object.keys(after['auths'] as object)).toEqual(['z.example.com', 'a.example.com']);
    expect((after['auths'] as Record<string, unknown>)['z.example.com']).toEqual({ auth: encodeAuth('z', 'z'), email: 'z@example.com' });
    expect((await stat(path2)).mode & 0o777).toBe(0o600);
  });

  it('writes through a symlinked config and keeps the link', async () => {
    const real = await configFile({ auths: {} });
    const link = join(dir, 'linked-config.json');
    await symlink(real, link);
    await updateDockerConfig(link, (c) => {
      c.auths = { 'a.example.com': { auth: encodeAuth('a', 'b') } };
    });
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toBe(real);
    expect(JSON.parse(await readFile(real, 'utf8'))).toEqual({ auths: { 'a.example.com': { auth: encodeAuth('a', 'b') } } });
  });
});
