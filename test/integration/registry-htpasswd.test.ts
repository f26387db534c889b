import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { staticProvider } from '../../src/credentials/chain.js';
import type { CredentialProvider } from '../../src/credentials/types.js';
import { PackpubError } from '../../src/errors.js';
import { EMPTY_CONFIG, EMPTY_CONFIG_BYTES } from '../../src/oci/manifest.js';
import { openGenericRegistryStore, type GenericRegistryStore } from '../../src/targets/registry-store.js';
import { startRecordingProxy } from '../support/recording-proxy.js';
import { sharedRegistry, skopeoInspectRaw } from '../support/registry.js';
import { failure } from '../support/errors.js';
import { pushTestPack } from '../support/artifacts.js';
import { setup } from '../support/stage.js';

const USER = 'alice';
const PASSWORD = 'S3cret-htpasswd-Pa55';
const BASIC = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');

async function pushPack(store: GenericRegistryStore, repo: string, tag: string, layer: Buffer): Promise<Buffer> {
  return (await pushTestPack(store, repo, tag, layer)).manifest;
}

function expectNoSecret(err: unknown) {
  const e = err as PackpubError;
  const text = `${e.message}\n${e.hint ?? ''}\n${JSON.stringify(e)}`;
  expect(text).not.toContain(PASSWORD);
  expect(text).not.toContain(BASIC);
}


describe('generic registry store against distribution (htpasswd Basic auth)', () => {
  const w = setup(async (stack) => {
    const registry = await sharedRegistry({ auth: 'htpasswd', users: { [USER]: PASSWORD } });
    const proxy = stack.add(await startRecordingProxy(registry.host));
    return { registry, proxy };
  });

  it('pushes and reads back with Basic credentials, sending them up front after the first challenge', async () => {
    const resolved: string[] = [];
    const provider: CredentialProvider = {
      name: 'test',
      resolve: async (host) => {
        resolved.push(host);
        return { username: USER, password: PASSWORD, source: 'test' };
      },
    };
    const store = await openGenericRegistryStore({ host: w.proxy.host, credentials: provider });
    try {
      w.proxy.clear();
      const manifest = await pushPack(store, `${w.registry.base}/team/spectro-packs/archive/basic`, '1.0.0', randomBytes(10_000));
      // one challenge for the whole push, then Basic on every request
      expect(w.proxy.count((r) => r.status === 401)).toBe(1);
      expect(w.proxy.requests.slice(2).every((r) => r.hadAuthorization)).toBe(true);
      expect(resolved).toEqual([w.proxy.host]);

      const fetched = await store.getManifest(`${w.registry.base}/team/spectro-packs/archive/basic`, '1.0.0');
      expect(fetched?.bytes.equals(manifest)).toBe(true);
      const raw = await skopeoInspectRaw(`${w.registry.host}/${w.registry.base}/team/spectro-packs/archive/basic:1.0.0`, { creds: { username: USER, password: PASSWORD } });
      expect(raw.equals(manifest)).toBe(true);
      await store.client.ping();
    } finally {
      await store.close();
    }
  });

  it('says "credentials rejected by <host>" for a wrong password, without the password', async () => {
    const store = await openGenericRegistryStore({ host: w.registry.host, credentials: staticProvider('environment', { username: USER, password: 'wrong-password-123' }) });
    try {
      const err = await failure(store.hasBlob(`${w.registry.base}/team/spectro-packs/archive/basic`, EMPTY_CONFIG.digest));
      expect(err.code).toBe('AUTH');
      expect(err.message).toBe(`credentials rejected by ${w.registry.host}`);
      expect(err.hint).toContain('environment');
      expect(err.message + (err.hint ?? '')).not.toContain('wrong-password-123');
      expectNoSecret(err);
      const push = await failure(store.pushBlob(`${w.registry.base}/team/x`, EMPTY_CONFIG, () => Readable.from([EMPTY_CONFIG_BYTES])));
      expect(push.code).toBe('AUTH');
      expect(push.message).toBe(`credentials rejected by ${w.registry.host}`);
    } finally {
      await store.close();
    }
  });

  it('says authentication is required when no credentials are configured', async () => {
    const store = await openGenericRegistryStore({ host: w.registry.host, credentials: staticProvider('none', undefined) });
    try {
      const err = await failure(store.getManifest(`${w.registry.base}/team/spectro-packs/archive/basic`, '1.0.0'));
      expect(err.code).toBe('AUTH');
      expect(err.message).toBe(`authentication required by ${w.registry.host} for ${w.registry.base}/team/spectro-packs/archive/basic`);
      expect(err.hint).toMatch(/--password-stdin|packpub login/);
    } finally {
      await store.close();
    }
  });

  /** A store for the registry under the name registry.packpub.test, mapped to loopback with --resolve. */
  const underAnotherName = (options: { plainHttp?: boolean; retry?: { attempts: number } }) =>
    openGenericRegistryStore({
      host: `registry.packpub.test:${w.registry.port}`,
      resolve: [`registry.packpub.test:${w.registry.port}:127.0.0.1`],
      credentials: staticProvider('test', { username: USER, password: PASSWORD }),
      ...options,
    });

  it('reaches the registry under another host name with a curl-style --resolve mapping', async () => {
    const store = await underAnotherName({ plainHttp: true });
    try {
      await store.client.ping();
      const manifest = await pushPack(store, `${w.registry.base}/resolved/spectro-packs/archive/r`, '0.1.0', randomBytes(2_000));
      expect((await store.getManifest(`${w.registry.base}/resolved/spectro-packs/archive/r`, '0.1.0'))?.bytes.equals(manifest)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('does not fall back to HTTP for a non-loopback name: it says to pass --plain-http', async () => {
    const store = await underAnotherName({ retry: { attempts: 1 } });
    try {
      const err = await failure(store.client.ping());
      expect(err.code).toBe('NETWORK');
      expect(err.hint).toContain('--plain-http');
    } finally {
      await store.close();
    }
  });
});
