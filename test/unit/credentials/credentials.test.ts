import { mkdtemp, rm, writeFile, lstat, mkdir, readFile, readlink, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ecrPublicCredentialProvider } from '../../../src/credentials/ecr-public-token.js';
import { type PackpubError, isPackpubError } from '../../../src/errors.js';
import { startEcrPublicStandin, type EcrPublicStandin } from '../../support/ecr-public-standin.js';
import { useFakeAwsEnvironment } from '../../support/ecr-standin.js';
import { failure } from '../../support/errors.js';
import { chainProviders } from '../../../src/credentials/chain.js';
import { defaultCredentialChain } from '../../../src/credentials/default-chain.js';
import { encodeAuth, decodeAuth, dockerConfigPath, dockerConfigProvider, normalizeRegistryKey, registryKey, updateDockerConfig } from '../../../src/credentials/docker-config.js';
import type { CredentialProvider } from '../../../src/credentials/types.js';
import { makeCredHelperFixture, type CredHelperFixture } from '../../support/cred-helper-fixture.js';

/*
 * The tests of src/credentials/'s smaller modules, a describe per module (each was a test file of its own): each
 * test file costs vitest ~15-30 ms of CPU whatever its size (requests between worker and main process, test/per-
 * file-setup.ts).
 */

describe('ecr-public-token', () => {
  /*
   * The ECR Public token provider (src/credentials/ecr-public-token.ts) against the ECR Public API stand-in, with the real
   * SDK: public.ecr.aws only; one token for the run; none (anonymous), with why noted, when the AWS identity gets none;
   * an answer that is no token is an error, not read past.
   */

  let api: EcrPublicStandin;
  let restore: (() => void) | undefined;
  beforeAll(async () => {
    api = await startEcrPublicStandin({ password: 'minted-ecr-public-password' });
  });
  afterAll(() => api.close());
  afterEach(() => {
    restore?.();
    restore = undefined;
    api.tokenOverride = undefined;
    api.allow('GetAuthorizationToken');
    api.calls.length = 0;
  });

  describe('ecrPublicCredentialProvider', () => {
    it('public.ecr.aws: user AWS and the minted password, asked once for the run; any other host: not its to answer', async () => {
      restore = useFakeAwsEnvironment('test-ecr-public');
      const provider = ecrPublicCredentialProvider({ env: { AWS_ENDPOINT_URL_ECR_PUBLIC: api.url } });
      expect(await provider.resolve('registry.example.com')).toBeUndefined();
      const first = await provider.resolve('public.ecr.aws');
      expect(first).toMatchObject({ username: 'AWS', password: 'minted-ecr-public-password', source: 'ECR Public' });
      expect(await provider.resolve('public.ecr.aws')).toEqual(first);
      expect(api.calls.map((c) => `${c.op} ${c.region ?? ''}`)).toEqual(['GetAuthorizationToken us-east-1']);
    });

    it('no AWS identity configured, or IAM denies the token: none (the run goes on anonymous), and why is noted; the first asks nothing (the SDK chain, which would end probing the EC2 instance metadata, is not run: the note is not the SDK error)', async () => {
      restore = useFakeAwsEnvironment('test-ecr-public');
      delete process.env['AWS_ACCESS_KEY_ID'];
      delete process.env['AWS_SECRET_ACCESS_KEY'];
      const notes: { ecrPublicTokenRefusal: PackpubError | undefined } = { ecrPublicTokenRefusal: undefined };
      const none = ecrPublicCredentialProvider({ env: { AWS_ENDPOINT_URL_ECR_PUBLIC: api.url, HOME: '/nonexistent/packpub-test-home' }, notes });
      expect(await none.resolve('public.ecr.aws')).toBeUndefined();
      expect(notes.ecrPublicTokenRefusal?.message).toBe('no AWS credentials in the environment, a shared credentials or config file, or --aws-profile; an EC2 instance role alone is not asked for ECR Public tokens');
      expect(api.calls).toEqual([]);

      process.env['AWS_ACCESS_KEY_ID'] = 'test-ecr-public';
      process.env['AWS_SECRET_ACCESS_KEY'] = 'test-ecr-public-secret-not-real';
      api.deny('GetAuthorizationToken');
      const denied = ecrPublicCredentialProvider({ env: { AWS_ENDPOINT_URL_ECR_PUBLIC: api.url }, notes });
      expect(await denied.resolve('public.ecr.aws')).toBeUndefined();
      expect(notes.ecrPublicTokenRefusal?.code).toBe('AUTH');
      expect(notes.ecrPublicTokenRefusal?.message).toContain('AWS denied ecr-public:GetAuthorizationToken for public.ecr.aws');
    });

    it('an answer that is no registry token: CREDENTIALS, naming the endpoint setting', async () => {
      restore = useFakeAwsEnvironment('test-ecr-public');
      api.tokenOverride = 'not a token!';
      const provider = ecrPublicCredentialProvider({ env: { AWS_ENDPOINT_URL_ECR_PUBLIC: api.url } });
      const err = await failure(provider.resolve('public.ecr.aws'));
      expect(err.code).toBe('CREDENTIALS');
      expect(err.message).toBe('ECR Public GetAuthorizationToken returned a token that is not base64');
      expect(err.hint).toContain('AWS_ENDPOINT_URL_ECR_PUBLIC');
    });
  });
});

describe('chain', () => {
  const ECR = '123456789012.dkr.ecr.eu-central-1.amazonaws.com';
  let dir: string;
  let configPath: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'packpub-chain-'));
    configPath = join(dir, 'config.json');
    await writeFile(
      configPath,
      JSON.stringify({ auths: { 'harbor.example.com': { auth: encodeAuth('from-config', 'pw1') }, [ECR]: { auth: encodeAuth('AWS', 'stale') } } }),
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const ecr = {
    fetchToken: async () => ({ username: 'AWS', password: 'minted', expiresAt: new Date(Date.now() + 3600_000) }),
  };

  describe('defaultCredentialChain', () => {
    it('flags win over environment, environment over Docker config', async () => {
      const env = { PACKPUB_USERNAME: 'env-user', PACKPUB_PASSWORD: 'env-pw', HOME: dir };
      const flags = defaultCredentialChain({ username: 'flag-user', password: 'flag-pw', env, registryConfig: configPath, ecr });
      expect(await flags.resolve('harbor.example.com')).toMatchObject({ username: 'flag-user', source: 'flags' });
      const fromEnv = defaultCredentialChain({ env, registryConfig: configPath, ecr });
      expect(await fromEnv.resolve('harbor.example.com')).toMatchObject({ username: 'env-user', source: 'environment' });
      const fromConfig = defaultCredentialChain({ env: { HOME: dir }, registryConfig: configPath, ecr });
      expect(await fromConfig.resolve('harbor.example.com')).toMatchObject({ username: 'from-config', password: 'pw1' });
    });

    it('refuses half of the environment pair when the environment would be read, naming the missing variable', () => {
      for (const [env, message] of [
        [{ PACKPUB_USERNAME: 'u' }, 'PACKPUB_USERNAME is set but PACKPUB_PASSWORD is not set'],
        [{ PACKPUB_PASSWORD: 'secret-value' }, 'PACKPUB_PASSWORD is set but PACKPUB_USERNAME is not set'],
        [{ PACKPUB_USERNAME: 'u', PACKPUB_PASSWORD: '' }, 'PACKPUB_USERNAME is set but PACKPUB_PASSWORD is empty'],
      ] as const) {
        let caught: unknown;
        try {
          defaultCredentialChain({ env: { ...env, HOME: dir }, registryConfig: configPath });
        } catch (err) {
          caught = err;
        }
        expect(isPackpubError(caught, 'USAGE')).toBe(true);
        expect((caught as Error).message).toBe(message);
        expect((caught as Error).message + ((caught as { hint?: string }).hint ?? '')).not.toContain('secret-value');
      }
      // A credential given explicitly comes first: the environment is not read, so its state does not matter.
      expect(() => defaultCredentialChain({ username: 'flag-user', password: 'pw', env: { PACKPUB_USERNAME: 'u', HOME: dir } })).not.toThrow();
    });

    it('takes robot accounts from the environment unchanged', async () => {
      const chain = defaultCredentialChain({ env: { PACKPUB_USERNAME: 'robot$spectro+ci', PACKPUB_PASSWORD: 'x', HOME: dir } });
      expect(await chain.resolve('harbor.example.com')).toMatchObject({ username: 'robot$spectro+ci', password: 'x' });
    });

    it('mints ECR tokens for ECR hosts with nothing in the Docker config, and stays anonymous elsewhere', async () => {
      const chain = defaultCredentialChain({ env: { HOME: join(dir, 'nohome') }, ecr });
      expect(await chain.resolve(ECR)).toMatchObject({ username: 'AWS', password: 'minted', source: 'ECR' });
      expect(await chain.resolve('registry.example.com')).toEqual({ source: 'anonymous' });
    });

    it('uses a Docker config entry for an ECR host before minting', async () => {
      const chain = defaultCredentialChain({ env: { HOME: dir }, registryConfig: configPath, ecr });
      expect(await chain.resolve(ECR)).toMatchObject({ password: 'stale' });
    });

    it('lets a library user put a provider of their own first', async () => {
      const mine: CredentialProvider = {
        name: 'vault',
        resolve: async (host) => (host === 'harbor.example.com' ? { username: 'vault-user', password: 'v', source: 'vault' } : undefined),
      };
      const chain = chainProviders(mine, defaultCredentialChain({ env: { HOME: dir }, registryConfig: configPath, ecr }));
      expect(await chain.resolve('harbor.example.com')).toMatchObject({ source: 'vault' });
      expect(await chain.resolve(ECR)).toMatchObject({ password: 'stale' });
    });

    it('a provider that applies and fails stops the chain', async () => {
      const broken = join(dir, 'broken.json');
      await writeFile(broken, 'not json');
      const chain = defaultCredentialChain({ env: { HOME: dir }, registryConfig: broken, ecr });
      const err = await chain.resolve('harbor.example.com').catch((e: unknown) => e);
      expect(isPackpubError(err, 'CREDENTIALS')).toBe(true);
      expect((err as Error).message).toContain('broken.json');
    });
  });
});

describe('docker-config', () => {
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

    it('asks a helper that did not answer in time once: every other host gets its error at once (was: its timeout each)', async () => {
      const path = await configFile({ credsStore: 'stuck' });
      const asked: string[] = [];
      // A runner timing out as the real one does (ETIMEDOUT) after a pause, so that the other hosts ask while it runs.
      const runner = async (_program: string, _action: string, input: string) => {
        asked.push(input);
        await new Promise((r) => setImmediate(r));
        throw Object.assign(new Error('docker-credential-stuck get did not answer within 2 s'), { code: 'ETIMEDOUT' });
      };
      const provider = dockerConfigProvider({ registryConfig: path, helper: { runner, timeoutMs: 2_000 } });
      const errors = await Promise.all(['a.example.com', 'b.example.com', 'c.example.com'].map((h) => provider.resolve(h).catch((e: unknown) => e)));
      expect(asked).toEqual(['a.example.com']);
      for (const err of errors) {
        expect(isPackpubError(err, 'CREDENTIALS')).toBe(true);
        expect((err as Error).message).toBe(`credential helper docker-credential-stuck get did not answer within 2 s (configured in credsStore of ${path}) (it was stopped)`);
        expect((err as PackpubError).hint).toContain('--request-timeout sets how long packpub waits for it');
      }
    });

    it('reads registrytoken (a Bearer token for the registry itself); one a header cannot carry is refused', async () => {
      const path = await configFile({ auths: { 'registry.example.com': { registrytoken: 'access-token-1' }, 'bad.example.com': { registrytoken: 'tok\r\nX-Injected: 1' } } });
      expect(await dockerConfigProvider({ registryConfig: path }).resolve('registry.example.com')).toEqual({ registryToken: 'access-token-1', source: `docker config ${path}` });
      const err = await dockerConfigProvider({ registryConfig: path }).resolve('bad.example.com').catch((e: unknown) => e);
      expect(isPackpubError(err, 'CREDENTIALS')).toBe(true);
      expect((err as Error).message).toBe(`the "registrytoken" of "bad.example.com" in ${path} holds a space, a control or a non-ASCII character, which no header can carry`);
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
});
