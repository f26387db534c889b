import { randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { sha256Digest } from '../../src/oci/digest.js';
import { EMPTY_CONFIG, EMPTY_CONFIG_BYTES, serializeManifest } from '../../src/oci/manifest.js';
import { MEDIA_TYPE_OCI_MANIFEST } from '../../src/oci/media-types.js';
import { verified } from '../../src/oci/digest.js';
import { openGenericRegistryStore, openRegistryStore, type GenericRegistryStore } from '../../src/targets/registry-store.js';
import { staticProvider } from '../../src/credentials/chain.js';
import { startRecordingProxy } from '../support/recording-proxy.js';
import { skopeoInspectRaw, startRegistry } from '../support/registry.js';
import { pushTestPack, readAll } from '../support/artifacts.js';
import { setup } from '../support/stage.js';
import { hurryRetries } from '../support/clock.js';

const anonymous = staticProvider('test', undefined);


const pushPack = (store: GenericRegistryStore, repo: string, tag: string, layer: Buffer) => pushTestPack(store, repo, tag, layer);

describe('generic registry store against distribution (anonymous)', () => {
  // A missing blob is read again after the retry backoff's pauses (a replica behind) before NOT_FOUND: waited 50 times
  // shorter (support/clock.ts; ~1.8 s of real pauses before).
  hurryRetries();
  const w = setup(async (stack) => {
    const registry = stack.add(await startRegistry());
    const proxy = stack.add(await startRecordingProxy(registry.host));
    const store = stack.add(await openGenericRegistryStore({ host: proxy.host, credentials: anonymous }));
    return { registry, proxy, store };
  });

  it('pushes blobs and a manifest, and reads them back identically (skopeo agrees)', async () => {
    const layer = randomBytes(300_000);
    const { manifest, digest, layerDesc } = await pushPack(w.store, 'base/spectro-packs/archive/hello', '1.0.0', layer);
    expect(digest).toBe(sha256Digest(manifest));

    const fetched = await w.store.getManifest('base/spectro-packs/archive/hello', '1.0.0');
    expect(fetched?.bytes.equals(manifest)).toBe(true);
    expect(fetched?.descriptor).toEqual({ mediaType: MEDIA_TYPE_OCI_MANIFEST, digest, size: manifest.length });
    expect(await w.store.headManifest('base/spectro-packs/archive/hello', '1.0.0')).toEqual(fetched?.descriptor);
    expect(await w.store.headManifest('base/spectro-packs/archive/hello', digest)).toEqual(fetched?.descriptor);

    const blob = await readAll(await w.store.fetchBlob('base/spectro-packs/archive/hello', layerDesc));
    expect(blob.equals(layer)).toBe(true);

    const raw = await skopeoInspectRaw(`${w.registry.host}/base/spectro-packs/archive/hello:1.0.0`);
    expect(raw.equals(manifest)).toBe(true);
  });

  it('does not upload blobs again when they are already there', async () => {
    const layer = randomBytes(5_000);
    await pushPack(w.store, 'base/spectro-packs/archive/again', '1.0.0', layer);
    w.proxy.clear();
    await pushPack(w.store, 'base/spectro-packs/archive/again', '1.0.1', layer);
    expect(w.proxy.count((r) => r.method === 'POST' && r.path.includes('/blobs/uploads/'))).toBe(0);
    expect(w.proxy.count((r) => r.method === 'PUT' && r.path.includes('/blobs/uploads/'))).toBe(0);
    expect(w.proxy.count((r) => r.method === 'HEAD' && r.path.includes('/blobs/sha256:'))).toBe(2);
    expect(w.proxy.count((r) => r.method === 'PUT' && r.path.endsWith('/manifests/1.0.1'))).toBe(1);
  });

  it('uploads with one POST and one monolithic PUT per blob, never PATCH', async () => {
    w.proxy.clear();
    await pushPack(w.store, 'mono/spectro-packs/archive/x', '2.0.0', randomBytes(70_000));
    expect(w.proxy.count((r) => r.method === 'PATCH')).toBe(0);
    const puts = w.proxy.requests.filter((r) => r.method === 'PUT' && r.path.includes('/blobs/uploads/'));
    expect(puts).toHaveLength(2);
    for (const put of puts) {
      expect(put.path).toMatch(/[?&]digest=sha256(%3A|:)[a-f0-9]{64}/);
      expect(put.status).toBe(201);
    }
  });

  it('lists the catalog through Link pagination', async () => {
    const repo = 'paging/spectro-packs/archive/many';
    const layer = randomBytes(1000);
    const tags = ['1.0.0', '1.0.1', '1.1.0', '2.0.0', '2.0.1'];
    for (const tag of tags) await pushPack(w.store, repo, tag, layer);
    w.proxy.clear();
    expect([...(await w.store.listTags(repo))].sort()).toEqual(tags);

    const catalog = await w.store.client.catalog({ pageSize: 2 });
    expect(catalog).toContain(repo);
    expect(catalog).toContain('base/spectro-packs/archive/hello');
    expect(new Set(catalog).size).toBe(catalog.length);
    const pages = w.proxy.requests.filter((r) => r.path.startsWith('/v2/_catalog'));
    expect(pages.length).toBeGreaterThanOrEqual(Math.ceil(catalog.length / 2));
    expect(pages[1]?.path).toContain('last=');

    expect(await w.store.listRepositories('paging')).toEqual([repo]);
    expect(await w.store.listRepositories('paging/spectro-packs/archive')).toEqual([repo]);
    expect(await w.store.listRepositories('nothing-here')).toEqual([]);
  });

  it('follows Link pages of tags/list, relative or absolute (as ECR pages them)', async () => {
    // distribution 2.8 does not page tags; the proxy answers tags/list like ECR does.
    const all = Array.from({ length: 7 }, (_, i) => `1.0.${i}`);
    w.proxy.onRequest = (req) => {
      if (!req.path.startsWith('/v2/paged/repo/tags/list')) return 'pass';
      const q = new URL(req.path, 'http://x').searchParams;
      const n = Number(q.get('n'));
      const start = q.get('last') === null ? 0 : all.indexOf(q.get('last') ?? '') + 1;
      const page = all.slice(start, start + n);
      const last = page[page.length - 1];
      const more = start + n < all.length;
      const next = `/v2/paged/repo/tags/list?n=${n}&last=${last ?? ''}`;
      return {
        status: 200,
        headers: {
          'content-type': 'application/json',
          ...(more ? { link: start === 0 ? `<${next}>; rel="next"` : `<${w.proxy.url}${next}>; rel=next` } : {}),
        },
        body: JSON.stringify({ name: 'paged/repo', tags: page }),
      };
    };
    try {
      w.proxy.clear();
      expect(await w.store.client.listTags('paged/repo', { pageSize: 3 })).toEqual(all);
      expect(w.proxy.count((r) => r.path.startsWith('/v2/paged/repo/tags/list'))).toBe(3);
    } finally {
      w.proxy.onRequest = undefined;
    }
  });

  it('keeps one connection across existence checks (HEAD answers are not followed by a new connection)', async () => {
    await pushPack(w.store, 'base/spectro-packs/archive/kept', '1.0.0', randomBytes(1000));
    // A TCP relay in front of the registry that counts the connections the client opens.
    let connections = 0;
    const sockets = new Set<Socket>();
    const relay = createServer((client) => {
      connections++;
      const upstream = connect(w.registry.port, '127.0.0.1');
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const store = await openGenericRegistryStore({ host: `127.0.0.1:${(relay.address() as AddressInfo).port}`, credentials: anonymous });
    try {
      for (let i = 0; i < 6; i++) {
        expect((await store.headManifest('base/spectro-packs/archive/kept', '1.0.0'))?.mediaType).toBe(MEDIA_TYPE_OCI_MANIFEST);
        expect(await store.hasBlob('base/spectro-packs/archive/kept', EMPTY_CONFIG.digest)).toBe(true);
        expect(await store.headManifest('base/spectro-packs/archive/kept', '9.9.9')).toBeUndefined();
      }
      // 18 HEADs: one connection each without keep-alive; the first request may open a second one
      expect(connections).toBeLessThanOrEqual(2);
    } finally {
      await store.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => relay.close(() => resolve()));
    }
  });

  it('answers "absent" for unknown manifests and repositories', async () => {
    expect(await w.store.getManifest('base/spectro-packs/archive/hello', '9.9.9')).toBeUndefined();
    expect(await w.store.headManifest('base/spectro-packs/archive/hello', '9.9.9')).toBeUndefined();
    expect(await w.store.getManifest('no/such/repo', '1.0.0')).toBeUndefined();
    expect(await w.store.listTags('no/such/repo')).toEqual([]);
    expect(await w.store.hasBlob('no/such/repo', EMPTY_CONFIG.digest)).toBe(false);
  });

  it('fails fetching a missing blob with NOT_FOUND', async () => {
    const digest = sha256Digest('never pushed');
    await expect(w.store.fetchBlob('base/spectro-packs/archive/hello', { mediaType: 'x', digest, size: 12 })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('detects a blob whose content does not match its descriptor', async () => {
    const layer = Buffer.from('real content');
    const desc = { mediaType: 'application/octet-stream', digest: sha256Digest(layer), size: layer.length };
    await w.store.pushBlob('verify/me', desc, () => Readable.from([layer]));
    const lying = { ...desc, digest: sha256Digest('other content') };
    // the registry refuses an upload whose bytes do not hash to the digest
    await expect(w.store.pushBlob('verify/me', lying, () => Readable.from([layer]))).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    // and a stream that does not match is caught while reading
    const stream = verified(Readable.from([Buffer.from('tampered!!!!')]), desc);
    await expect(readAll(stream)).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
  });

  it('pushes an untagged manifest by digest and deletes it', async () => {
    const bytes = Buffer.from(serializeManifest({ schemaVersion: 2, mediaType: MEDIA_TYPE_OCI_MANIFEST, config: EMPTY_CONFIG, layers: [] }));
    const repo = 'empty/spectro-packs/archive';
    await w.store.pushBlob(repo, EMPTY_CONFIG, () => Readable.from([EMPTY_CONFIG_BYTES]));
    const digest = await w.store.pushManifest(repo, sha256Digest(bytes), bytes, MEDIA_TYPE_OCI_MANIFEST);
    expect(await w.store.listTags(repo)).toEqual([]);
    expect((await w.store.getManifest(repo, digest))?.bytes.equals(bytes)).toBe(true);
    await w.store.client.deleteManifest(repo, digest);
    expect(await w.store.getManifest(repo, digest)).toBeUndefined();
  });

  it('rejects invalid repository names and references before any request', async () => {
    w.proxy.clear();
    await expect(w.store.getManifest('Upper/Case', '1.0.0')).rejects.toMatchObject({ code: 'REFERENCE' });
    await expect(w.store.getManifest('ok/repo', '1.0.0+build')).rejects.toMatchObject({ code: 'REFERENCE' });
    await expect(w.store.pushManifest('ok/repo', 'sha256:abc', Buffer.from('{}'), MEDIA_TYPE_OCI_MANIFEST)).rejects.toMatchObject({ code: 'REFERENCE' });
    expect(w.proxy.count()).toBe(0);
  });

  it('opens the generic store through openRegistryStore and names references', async () => {
    const generic = await openRegistryStore({ host: w.registry.host, credentials: anonymous });
    try {
      expect(generic.kind).toBe('generic');
      expect(generic.reference('a/b', '1.0.0')).toBe(`${w.registry.host}/a/b:1.0.0`);
      expect(generic.reference('a/b', EMPTY_CONFIG.digest)).toBe(`${w.registry.host}/a/b@${EMPTY_CONFIG.digest}`);
      expect(await generic.listTags('base/spectro-packs/archive/hello')).toEqual(['1.0.0']);
    } finally {
      await generic.close();
    }
  });
});
