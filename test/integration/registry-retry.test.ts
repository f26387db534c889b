import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { staticProvider } from '../../src/credentials/chain.js';
import type { CredentialProvider } from '../../src/credentials/types.js';
import { sha256Digest } from '../../src/oci/digest.js';
import { EMPTY_CONFIG, EMPTY_CONFIG_BYTES, packManifest, serializeManifest } from '../../src/oci/manifest.js';
import { MEDIA_TYPE_OCI_MANIFEST } from '../../src/oci/media-types.js';
import { openGenericRegistryStore } from '../../src/targets/registry-store.js';
import { startRecordingProxy, type ProxyAction, type RecordingProxy } from '../support/recording-proxy.js';
import { sharedRegistry, type SharedRegistry } from '../support/registry.js';
import { failure } from '../support/errors.js';
import { setup, stage } from '../support/stage.js';
import { hurryRetries } from '../support/clock.js';

/*
 * Faults injected by the recording proxy in front of a real registry; the default retry policy (6 attempts,
 * real backoff of a few hundred ms) must get through the retryable ones and stop at once on the others.
 */


function blob(size = 4_000) {
  const bytes = randomBytes(size);
  return { bytes, desc: { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256Digest(bytes), size } };
}

/** Inject `action` for the first `times` requests matching `match`, then pass. */
function firstN(proxy: RecordingProxy, times: number, match: (method: string, path: string) => boolean, action: ProxyAction) {
  let left = times;
  proxy.onRequest = (req) => {
    if (left > 0 && match(req.method, req.path)) {
      left--;
      return action;
    }
    return 'pass';
  };
}

const isUploadPut = (m: string, p: string) => m === 'PUT' && p.includes('/blobs/uploads/');

const retries = hurryRetries();

describe('retries against a registry behind a fault-injecting proxy', () => {
  const w = setup(async (stack) => {
    const registry = await sharedRegistry();
    const proxy = stack.add(await startRecordingProxy(registry.host));
    const store = stack.add(await openGenericRegistryStore({ host: proxy.host, credentials: staticProvider('none', undefined) }));
    return { registry, proxy, store };
  });

  afterEach(() => {
    w.proxy.onRequest = undefined;
    w.proxy.clear();
  });

  it('restarts an upload from a fresh stream after 500 and 503 answers to the PUT', async () => {
    const { bytes, desc } = blob();
    let opened = 0;
    firstN(w.proxy, 2, isUploadPut, { status: 503, body: '{"errors":[{"code":"UNAVAILABLE","message":"busy"}]}' });
    await w.store.pushBlob(`${w.registry.base}/faults/a`, desc, () => {
      opened++;
      return Readable.from([bytes]);
    });
    expect(opened).toBe(3);
    expect(w.proxy.count((r) => r.method === 'POST')).toBe(3); // a new upload session each time
    expect(await w.store.hasBlob(`${w.registry.base}/faults/a`, desc.digest)).toBe(true);
  });

  it('survives a connection reset during the upload and does not send a blob that arrived', async () => {
    const { bytes, desc } = blob();
    firstN(w.proxy, 1, isUploadPut, 'reset');
    await w.store.pushBlob(`${w.registry.base}/faults/b`, desc, () => Readable.from([bytes]));
    expect(w.proxy.count((r) => r.outcome === 'reset')).toBe(1);
    // second attempt checked for the blob first (HEAD), then uploaded it
    expect(w.proxy.count((r) => r.method === 'HEAD' && r.path.endsWith(desc.digest))).toBe(1);
    expect(await w.store.hasBlob(`${w.registry.base}/faults/b`, desc.digest)).toBe(true);
  });

  it('waits as Retry-After asks on 429 and then succeeds', async () => {
    const { bytes, desc } = blob();
    await w.store.pushBlob(`${w.registry.base}/faults/c`, desc, () => Readable.from([bytes]));
    await w.store.pushBlob(`${w.registry.base}/faults/c`, EMPTY_CONFIG, () => Readable.from([EMPTY_CONFIG_BYTES]));
    const manifest = serializeManifest(packManifest({ layer: desc, title: 'c.tar.gz', created: new Date(0) }));
    firstN(w.proxy, 2, (m, p) => m === 'PUT' && p.includes('/manifests/'), {
      status: 429,
      headers: { 'retry-after': '1', 'content-type': 'application/json' },
      body: '{"errors":[{"code":"TOOMANYREQUESTS","message":"Rate exceeded"}]}',
    });
    retries.slept.length = 0;
    await w.store.pushManifest(`${w.registry.base}/faults/c`, '1.0.0', manifest, MEDIA_TYPE_OCI_MANIFEST);
    expect(w.proxy.count((r) => r.method === 'PUT' && r.path.endsWith('/manifests/1.0.0'))).toBe(3);
    expect(retries.slept).toEqual([1000, 1000]); // as Retry-After asked, not the backoff
    expect((await w.store.getManifest(`${w.registry.base}/faults/c`, '1.0.0'))?.bytes.equals(manifest)).toBe(true);
  });

  it('does not retry a MANIFEST_INVALID answer', async () => {
    firstN(w.proxy, 10, (m, p) => m === 'PUT' && p.includes('/manifests/'), {
      status: 400,
      headers: { 'content-type': 'application/json' },
      body: '{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid"}]}',
    });
    const err = await failure(w.store.pushManifest('faults/d', '1.0.0', Buffer.from('{}'), MEDIA_TYPE_OCI_MANIFEST));
    expect(err.code).toBe('REGISTRY');
    expect(err.message).toContain('400 MANIFEST_INVALID: manifest invalid');
    expect(w.proxy.count((r) => r.method === 'PUT')).toBe(1);
  });

  it('does not retry a 500 that carries a non-retryable code', async () => {
    firstN(w.proxy, 10, (m) => m === 'GET', {
      status: 500,
      headers: { 'content-type': 'application/json' },
      body: '{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}',
    });
    const err = await failure(w.store.client.getManifest('faults/e', '1.0.0'));
    expect(err.code).toBe('NOT_FOUND');
    expect(w.proxy.count()).toBe(1);
  });

  it('maps an ECR-style NAME_UNKNOWN on upload to NOT_FOUND naming the repository, without retrying', async () => {
    firstN(w.proxy, 10, (m) => m === 'POST', {
      status: 404,
      headers: { 'content-type': 'application/json' },
      body: `{"errors":[{"code":"NAME_UNKNOWN","message":"The repository with name 'faults/f' does not exist in the registry with id '123456789012'"}]}`,
    });
    const { bytes, desc } = blob(10);
    const err = await failure(w.store.pushBlob('faults/f', desc, () => Readable.from([bytes])));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toBe(`repository faults/f not found on ${w.proxy.host}`);
    expect(w.proxy.count((r) => r.method === 'POST')).toBe(1);
  });

  it('gives up after the configured attempts with the status in the message', async () => {
    const limited = await openGenericRegistryStore({ host: w.proxy.host, credentials: staticProvider('none', undefined), retry: { attempts: 3 } });
    try {
      w.proxy.onRequest = () => ({ status: 502, body: 'bad gateway' });
      const err = await failure(limited.client.ping());
      expect(err.code).toBe('REGISTRY');
      expect(err.message).toBe(`${w.proxy.host} answered 502 after 3 attempts (GET http://${w.proxy.host}/v2/)`);
      expect(w.proxy.count()).toBe(3);
    } finally {
      await limited.close();
    }
  });
});

describe('expired credentials (ECR-style DENIED)', () => {
  const stack = stage();
  const USER = 'AWS';
  const OLD = 'expired-ecr-token-0000';
  const NEW = 'fresh-ecr-token-1111';
  let registry: SharedRegistry;
  let proxy: RecordingProxy;

  beforeAll(async () => {
    registry = await sharedRegistry({ auth: 'htpasswd', users: { [USER]: NEW } });
    proxy = stack.add(await startRecordingProxy(registry.host));
    // The old token gets ECR's answer for an expired authorization token.
    const old = `Basic ${Buffer.from(`${USER}:${OLD}`).toString('base64')}`;
    proxy.onRequest = (req) =>
      req.headers.authorization === old
        ? {
            status: 403,
            headers: { 'content-type': 'application/json' },
            body: '{"errors":[{"code":"DENIED","message":"Your authorization token has expired. Reauthenticate and try again."}]}',
          }
        : 'pass';
  });

  it('invalidates the credential once, resolves it again and carries on', async () => {
    let current = OLD;
    const calls: string[] = [];
    const provider: CredentialProvider = {
      name: 'ecr-like',
      resolve: async (host) => {
        calls.push(`resolve ${host}`);
        return { username: USER, password: current, source: 'ECR' };
      },
      invalidate: (host) => {
        calls.push(`invalidate ${host}`);
        current = NEW;
      },
    };
    const store = await openGenericRegistryStore({ host: proxy.host, credentials: provider });
    try {
      const { bytes, desc } = blob(100);
      await store.pushBlob(`${registry.base}/ecr/like`, desc, () => Readable.from([bytes]));
      expect(await store.hasBlob(`${registry.base}/ecr/like`, desc.digest)).toBe(true);
      expect(calls).toEqual([`resolve ${proxy.host}`, `invalidate ${proxy.host}`, `resolve ${proxy.host}`]);
    } finally {
      await store.close();
    }
  });

  it('says the credentials expired when a fresh one is refused too', async () => {
    const provider: CredentialProvider = {
      name: 'stuck',
      resolve: async () => ({ username: USER, password: OLD, source: 'ECR' }),
      invalidate: () => undefined,
    };
    const store = await openGenericRegistryStore({ host: proxy.host, credentials: provider });
    try {
      // (a HEAD answer has no body to say "expired", so read something with a GET)
      const err = await failure(store.getManifest(`${registry.base}/ecr/like`, '1.0.0'));
      expect(err.code).toBe('AUTH');
      expect(err.message).toBe(`credentials for ${proxy.host} have expired`);
      expect(`${err.message} ${err.hint}`).not.toContain(OLD);
    } finally {
      await store.close();
    }
  });
});
