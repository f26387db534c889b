import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { staticProvider } from '../../src/credentials/chain.js';
import { PackpubError } from '../../src/errors.js';
import { systemClock, type RetryClock } from '../../src/registry/retry.js';
import { sha256Digest } from '../../src/oci/digest.js';
import { EMPTY_CONFIG, EMPTY_CONFIG_BYTES, packManifest, serializeManifest } from '../../src/oci/manifest.js';
import { MEDIA_TYPE_OCI_MANIFEST } from '../../src/oci/media-types.js';
import { openGenericRegistryStore, type GenericRegistryStore } from '../../src/targets/registry-store.js';
import { startRecordingProxy } from '../support/recording-proxy.js';
import { skopeoInspectRaw, startRegistry, type RunningRegistry } from '../support/registry.js';
import { startTokenServer } from '../support/token-server.js';
import { failure } from '../support/errors.js';
import { waitFor } from '../support/cli.js';
import { setup } from '../support/stage.js';

const ADMIN = 'admin';
const ADMIN_PASSWORD = 'Harbor12345-admin-secret';
const READER = 'robot$reader';
const READER_PASSWORD = 'reader-only-secret-42';
const SECRETS = [ADMIN_PASSWORD, READER_PASSWORD, 'wrong-password-xyz'];

/** A retry clock whose `now` runs `skewMs` ahead of the wall clock: the client sees time pass, the registry does not. */
function skewedClock(): RetryClock & { skewMs: number } {
  return { ...systemClock, skewMs: 0, now() { return Date.now() + this.skewMs; } };
}

/** Whether the registry still accepts `token` (distribution answers /v2/ with 401 once it has expired). */
async function registryAccepts(registry: RunningRegistry, token: string): Promise<boolean> {
  const res = await request(`${registry.url}/v2/`, { headers: { authorization: `Bearer ${token}` } });
  await res.body.dump();
  return res.statusCode === 200;
}

async function pushBlob(store: GenericRegistryStore, repo: string, bytes: Buffer, mediaType = 'application/vnd.oci.image.layer.v1.tar') {
  const desc = { mediaType, digest: sha256Digest(bytes), size: bytes.length };
  if (!(await store.hasBlob(repo, desc.digest))) await store.pushBlob(repo, desc, () => Readable.from([bytes]));
  return desc;
}

async function pushPack(store: GenericRegistryStore, repo: string, tag: string, layer: Buffer) {
  await pushBlob(store, repo, EMPTY_CONFIG_BYTES, EMPTY_CONFIG.mediaType);
  const desc = await pushBlob(store, repo, layer);
  const manifest = serializeManifest(packManifest({ layer: desc, title: `${tag}.tar.gz`, created: new Date('2024-05-01T00:00:00Z') }));
  await store.pushManifest(repo, tag, manifest, MEDIA_TYPE_OCI_MANIFEST);
  return manifest;
}


function expectNoSecrets(err: PackpubError, tokens: readonly string[]) {
  const text = `${err.message}\n${err.hint ?? ''}\n${JSON.stringify(err)}`;
  for (const secret of [...SECRETS, ...tokens]) expect(text).not.toContain(secret);
}

describe('generic registry store against distribution with a Harbor-like token service', () => {
  const w = setup(async (stack) => {
    const tokens = stack.add(await startTokenServer({
      users: { [ADMIN]: ADMIN_PASSWORD, [READER]: { password: READER_PASSWORD, actions: ['pull'], catalog: false } },
    }));
    const registry = stack.add(await startRegistry({ auth: 'token', token: tokens }));
    const proxy = stack.add(await startRecordingProxy(registry.host));
    return { tokens, registry, proxy };
  });

  const admin = () => staticProvider('test', { username: ADMIN, password: ADMIN_PASSWORD });

  it('pushes with one token asked for pull,push up front, and reads back byte-identical (skopeo agrees)', async () => {
    const store = await openGenericRegistryStore({ host: w.proxy.host, credentials: admin() });
    try {
      const repo = 'proj/spectro-packs/archive/tok';
      w.tokens.requests.length = 0;
      await store.prepareRepository(repo);
      const manifest = await pushPack(store, repo, '1.0.0', randomBytes(20_000));
      expect(w.tokens.requests).toHaveLength(1);
      expect(w.tokens.requests[0]).toMatchObject({
        method: 'GET',
        service: 'harbor-registry',
        scopes: [`repository:${repo}:pull,push`],
        user: ADMIN,
        authenticated: true,
      });
      expect((await store.getManifest(repo, '1.0.0'))?.bytes.equals(manifest)).toBe(true);
      expect(await store.listTags(repo)).toEqual(['1.0.0']);
      expect(await store.listRepositories('proj')).toContain(repo);
      const raw = await skopeoInspectRaw(`${w.registry.host}/${repo}:1.0.0`, { creds: { username: ADMIN, password: ADMIN_PASSWORD } });
      expect(raw.equals(manifest)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('reports a wrong password as rejected credentials (Harbor hands out a token for no one), not as a missing push permission', async () => {
    const store = await openGenericRegistryStore({
      host: w.registry.host,
      credentials: staticProvider('environment', { username: ADMIN, password: 'wrong-password-xyz' }),
    });
    try {
      const repo = 'proj/spectro-packs/archive/denied';
      const err = await failure(store.pushBlob(repo, EMPTY_CONFIG, () => Readable.from([EMPTY_CONFIG_BYTES])));
      expect(err.code).toBe('AUTH');
      expect(err.message).toBe(`credentials rejected by ${w.registry.host}: its token service answered them with a token for no one (an empty subject), which it refuses for ${repo}`);
      expectNoSecrets(err, w.tokens.issuedTokens);
    } finally {
      await store.close();
    }
  });

  it('lets a pull-only robot read but refuses its push with a clear AUTH error', async () => {
    const repo = 'proj/spectro-packs/archive/readable';
    const writer = await openGenericRegistryStore({ host: w.registry.host, credentials: admin() });
    const manifest = await pushPack(writer, repo, '2.0.0', randomBytes(3_000));
    await writer.close();

    const reader = await openGenericRegistryStore({ host: w.registry.host, credentials: staticProvider('test', { username: READER, password: READER_PASSWORD }) });
    try {
      expect((await reader.getManifest(repo, '2.0.0'))?.bytes.equals(manifest)).toBe(true);
      const err = await failure(pushPack(reader, repo, '2.0.1', randomBytes(100)));
      expect(err.code).toBe('AUTH');
      expect(err.message).toBe(`credentials rejected or no push permission on ${repo}`);
      expect(err.hint).toMatch(/robot|packpub login/);
      expectNoSecrets(err, w.tokens.issuedTokens);
    } finally {
      await reader.close();
    }
  });

  it('renews a token that expires in the middle of a push (expires_in honoured)', async () => {
    // The answer says 2 s; the registry would accept it for longer, so only the client's own clock makes it renew.
    w.tokens.advertisedExpiresIn = 2;
    const clock = skewedClock();
    const store = await openGenericRegistryStore({ host: w.proxy.host, credentials: admin() }, { clock });
    try {
      const repo = 'proj/spectro-packs/archive/slow';
      w.tokens.requests.length = 0;
      w.proxy.clear();
      await store.prepareRepository(repo);
      await pushBlob(store, repo, randomBytes(1000));
      await pushBlob(store, repo, randomBytes(1000));
      expect(w.tokens.requests).toHaveLength(1);
      clock.skewMs = 2_500; // for the client, the token's 2 s have passed
      const manifest = await pushPack(store, repo, '1.0.0', randomBytes(1000));
      expect((await store.getManifest(repo, '1.0.0'))?.bytes.equals(manifest)).toBe(true);
      // a second token was fetched before sending the old one again
      expect(w.tokens.requests.length).toBeGreaterThanOrEqual(2);
      expect(w.proxy.count((r) => r.status === 401)).toBe(1); // only the very first, anonymous request
    } finally {
      w.tokens.advertisedExpiresIn = undefined;
      await store.close();
    }
  });

  /**
   * `run` with a store whose tokens the registry stops accepting within 2 s though their answers claim an hour (only a
   * 401 reveals it); the token server's settings put back after.
   */
  async function withStaleTokens(run: (store: GenericRegistryStore) => Promise<void>): Promise<void> {
    w.tokens.expiresIn = 2;
    w.tokens.advertisedExpiresIn = 3600;
    const store = await openGenericRegistryStore({ host: w.proxy.host, credentials: admin() });
    try {
      await run(store);
    } finally {
      w.tokens.expiresIn = 300;
      w.tokens.advertisedExpiresIn = undefined;
      await store.close();
    }
  }

  /** Once the registry refuses `held`: a pack pushed to `repo` lands after one 401 and one fresh token. */
  async function pushedAfterOneRefusal(store: GenericRegistryStore, repo: string, held: string): Promise<void> {
    await waitFor(async () => !(await registryAccepts(w.registry, held)), 'the registry to refuse the token');
    w.tokens.expiresIn = 300;
    w.tokens.requests.length = 0;
    w.proxy.clear();
    const manifest = await pushPack(store, repo, '1.0.0', randomBytes(1000));
    expect((await store.getManifest(repo, '1.0.0'))?.bytes.equals(manifest)).toBe(true);
    // the stale token was refused once, then a new one was fetched and used
    expect(w.proxy.count((r) => r.status === 401)).toBe(1);
    expect(w.tokens.requests).toHaveLength(1);
  }

  it('re-authenticates once when the registry rejects a token the client still thought valid', async () => {
    await withStaleTokens(async (store) => {
      const repo = 'proj/spectro-packs/archive/stale';
      await store.prepareRepository(repo);
      await pushBlob(store, repo, randomBytes(1000));
      await pushedAfterOneRefusal(store, repo, w.tokens.issuedTokens.at(-1) ?? '');
    });
  });

  it('a stale token refused is not replaced by another cached one covering the same scope (was: refused again, the push failed)', async () => {
    // Two cached tokens cover the pack repository: its own, and the mount's (the base repository's pull besides). Both
    // die early (the answer claims an hour); the second, sent after the first was refused, was refused too.
    await withStaleTokens(async (store) => {
      const base = 'proj/twice/spectro-packs/archive';
      const repo = `${base}/twice`;
      await store.prepareRepository(base);
      await store.prepareRepository(repo);
      w.tokens.requests.length = 0;
      const config = await pushBlob(store, base, EMPTY_CONFIG_BYTES, EMPTY_CONFIG.mediaType);
      await pushBlob(store, repo, randomBytes(1000));
      await store.pushBlob(repo, config, () => Readable.from([EMPTY_CONFIG_BYTES]), { mountFrom: base });
      expect(w.tokens.requests.map((r) => r.scopes.join(' '))).toEqual([
        `repository:${base}:pull,push`,
        `repository:${repo}:pull,push`,
        `repository:${repo}:pull,push repository:${base}:pull`,
      ]);
      await pushedAfterOneRefusal(store, repo, w.tokens.issuedTokens.at(-1) ?? '');
    });
  });
});

describe('token realm on another host name than the registry', () => {
  const world = setup(async (stack) => {
    // registry at 127.0.0.1, realm at localhost: different host names
    const tokens = stack.add(await startTokenServer({ users: { [ADMIN]: ADMIN_PASSWORD }, realmHost: 'localhost' }));
    const registry = stack.add(await startRegistry({ auth: 'token', token: tokens }));
    return { tokens, registry };
  });

  it('sends no credentials to it by default and says how to allow it', async () => {
    const store = await openGenericRegistryStore({ host: world.registry.host, credentials: staticProvider('test', { username: ADMIN, password: ADMIN_PASSWORD }) });
    try {
      world.tokens.requests.length = 0;
      const repo = 'other/spectro-packs/archive/x';
      const err = await failure(store.pushBlob(repo, EMPTY_CONFIG, () => Readable.from([EMPTY_CONFIG_BYTES])));
      expect(err.code).toBe('AUTH');
      const realm = new URL(world.tokens.realm).host;
      expect(err.message).toBe(`credentials were not sent to the token service ${realm}, which is on another host than ${world.registry.host}, and ${world.registry.host} refuses the token it gave without them for ${repo}`);
      expect(err.hint).toContain('--allow-cross-host-auth');
      expect(world.tokens.requests.length).toBeGreaterThan(0);
      expect(world.tokens.requests.every((r) => r.user === undefined)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('sends them with allowCrossHostAuth', async () => {
    const store = await openGenericRegistryStore({
      host: world.registry.host,
      allowCrossHostAuth: true,
      credentials: staticProvider('test', { username: ADMIN, password: ADMIN_PASSWORD }),
    });
    try {
      world.tokens.requests.length = 0;
      const manifest = await pushPack(store, 'other/spectro-packs/archive/y', '1.0.0', randomBytes(500));
      expect((await store.getManifest('other/spectro-packs/archive/y', '1.0.0'))?.bytes.equals(manifest)).toBe(true);
      expect(world.tokens.requests.some((r) => r.user === ADMIN && r.authenticated)).toBe(true);
    } finally {
      await store.close();
    }
  });
});
