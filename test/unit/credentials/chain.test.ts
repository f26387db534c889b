import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainProviders } from '../../../src/credentials/chain.js';
import { defaultCredentialChain } from '../../../src/credentials/default-chain.js';
import { encodeAuth } from '../../../src/credentials/docker-config.js';
import type { CredentialProvider } from '../../../src/credentials/types.js';
import { isPackpubError } from '../../../src/errors.js';

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
