import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { sha256Digest } from '../../src/oci/digest.js';
import { EMPTY_CONFIG } from '../../src/oci/manifest.js';
import { startRecordingProxy, type ProxyAction } from '../support/recording-proxy.js';
import { skopeoInspectRaw } from '../support/registry.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';
import { registryWith } from '../support/push-setup.js';
import { staticProvider } from '../../src/credentials/chain.js';
import { openGenericRegistryStore } from '../../src/targets/registry-store.js';

/*
 * The {} config of a new pack is mounted from the base repository (which ensureBase leaves holding it):
 * one request instead of asking, then uploading into the new repository (three). Through a token service,
 * whose tokens must then cover reading the base repository, and against a registry that refuses mounts.
 */

const USER = 'ci-bot';
const PASSWORD = 'e2e-secret-Mount-Pa55';
const BASE = 'team/oci';
const BASE_REPO = `${BASE}/spectro-packs/archive`;
const MOUNT = /[?&]mount=/;

describe('push mounts the {} config from the base repository (token auth)', () => {
  let refuseMounts = false;
  const w = setup(async (stack) => {
    const { registry, tokens } = await registryWith(stack, 'token', { [USER]: PASSWORD }, { storage: 'filesystem' });
    const proxy = stack.add(
      await startRecordingProxy(registry.url, {
        // A registry that does not take mounts here (distribution-spec allows refusing them).
        onRequest: (req): ProxyAction =>
          refuseMounts && req.method === 'POST' && MOUNT.test(req.path)
            ? { status: 404, headers: { 'content-type': 'application/json' }, body: '{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}' }
            : 'pass',
      }),
    );
    const root = await stack.tempDir();
    // A cache of its own: request sequences depend on which repositories the cache knows (push's look-up order).
    const env = { SOURCE_DATE_EPOCH: '1700000000', PACKPUB_USERNAME: USER, PACKPUB_PASSWORD: PASSWORD, PACKPUB_CACHE_DIR: join(root, 'cache') };
    return { registry, tokens: tokens!, proxy, root, env };
  });
  const push = (packs: string[]) => runCli(['push', ...packs, '--registry', `${w.proxy.host}/${BASE}`, '--json'], { env: w.env });
  const creds = { username: USER, password: PASSWORD };
  /** Whether the registry's storage links `digest` into the pack repository (distribution's filesystem layout). */
  const holdsBlob = (name: string, digest: string) =>
    existsSync(join(w.registry.storageDir, 'docker/registry/v2/repositories', BASE_REPO, name, '_layers', ...digest.split(':'), 'link'));

  /** The requests on one pack repository, as `METHOD path status` (upload session ids and digests elided). */
  const sequence = (name: string) => {
    const repo = `/v2/${BASE_REPO}/${name}/`;
    return w.proxy.requests
      .filter((r) => r.path.startsWith(repo) && r.status !== 401)
      .map((r) => `${r.method} ${r.path.slice(repo.length).replace(/^blobs\/uploads\/[^?]+\?.*$/, 'blobs/uploads/ID').replace(/mount=[^&]+/, 'mount=DIGEST')} ${r.status}`);
  };

  it('publishes a pack into a new repository in 7 requests and one token, the config mounted', async () => {
    const first = await push([await writePack(join(w.root, 'first'), { name: 'first', version: '1.0.0' })]); // makes the base repository
    expect(first.code, first.stderr).toBe(0);
    w.proxy.clear();
    w.tokens.requests.length = 0;
    const pack = await writePack(join(w.root, 'second'), { name: 'second', version: '2.0.0' });
    const result = await push([pack]);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { results: Array<{ status: string; digest: string; size: number; uploadedBytes: number }> };
    expect(report.results.map((r) => r.status)).toEqual(['published']);
    // What the report says was uploaded is the archive alone: the mounted config sent nothing.
    expect(report.results[0]?.uploadedBytes).toBe(report.results[0]?.size);
    expect(sequence('second')).toEqual([
      'GET manifests/2.0.0 404',
      `POST blobs/uploads/?mount=DIGEST&from=${encodeURIComponent(BASE_REPO)} 201`, // the {} config, linked from the base repository
      'POST blobs/uploads/ 202', // the layer
      'PUT blobs/uploads/ID 201',
      'HEAD manifests/2.0.0 404',
      'PUT manifests/2.0.0 201',
      'GET manifests/2.0.0 200',
    ]);
    // One token for the pack repository, asked with pull on the base repository from the first request on.
    const forSecond = w.tokens.requests.filter((t) => t.scopes.some((s) => s.includes(`${BASE_REPO}/second:`)));
    expect(forSecond).toHaveLength(1);
    expect(forSecond[0]?.granted).toEqual(expect.arrayContaining([`repository:${BASE_REPO}/second:pull,push`, `repository:${BASE_REPO}:pull`]));
    // skopeo reads the manifest and its config from the pack repository itself.
    const raw = await skopeoInspectRaw(`${w.registry.host}/${BASE_REPO}/second:2.0.0`, { creds });
    expect(sha256Digest(raw)).toBe(report.results[0]?.digest);
    expect(raw.toString()).toContain(`"config":{"mediaType":"${EMPTY_CONFIG.mediaType}","digest":"${EMPTY_CONFIG.digest}","size":2}`);
    expect(holdsBlob('second', EMPTY_CONFIG.digest)).toBe(true); // linked into the pack repository
  });

  it('uploads the config as usual when the registry refuses the mount, and asks only once per run', async () => {
    refuseMounts = true;
    try {
      w.proxy.clear();
      const packs = [await writePack(join(w.root, 'pack-a'), { name: 'pack-a', version: '1.0.0' }), await writePack(join(w.root, 'pack-b'), { name: 'pack-b', version: '1.0.0' })];
      const result = await runCli(['push', ...packs, '--registry', `${w.proxy.host}/${BASE}`, '--json', '--concurrency', '1'], { env: w.env });
      expect(result.code, result.stderr).toBe(0);
      const report = JSON.parse(result.stdout) as { results: Array<{ name: string; status: string; digest: string }> };
      expect(report.results.map((r) => r.status)).toEqual(['published', 'published']);
      expect(w.proxy.count((r) => r.method === 'POST' && MOUNT.test(r.path))).toBe(1);
      expect(sequence('pack-a').slice(0, 4)).toEqual([
        'GET manifests/1.0.0 404',
        `POST blobs/uploads/?mount=DIGEST&from=${encodeURIComponent(BASE_REPO)} 404`, // refused
        'POST blobs/uploads/ 202', // the {} config uploaded instead
        'PUT blobs/uploads/ID 201',
      ]);
      expect(sequence('pack-b').slice(0, 3)).toEqual(['GET manifests/1.0.0 404', 'POST blobs/uploads/ 202', 'PUT blobs/uploads/ID 201']);
      for (const r of report.results) {
        const raw = await skopeoInspectRaw(`${w.registry.host}/${BASE_REPO}/${r.name}:1.0.0`, { creds });
        expect(sha256Digest(raw), r.name).toBe(r.digest);
        expect(holdsBlob(r.name, EMPTY_CONFIG.digest), r.name).toBe(true);
      }
    } finally {
      refuseMounts = false;
    }
  });

  it('takes the bytes when the registry answers a mount with an upload session (the source lacks the blob)', async () => {
    const store = await openGenericRegistryStore({ host: w.proxy.host, credentials: staticProvider('test', creds) });
    try {
      const bytes = Buffer.from(`not in the source ${Date.now()}`);
      const descriptor = { mediaType: 'application/octet-stream', digest: sha256Digest(bytes), size: bytes.length };
      w.proxy.clear();
      await store.pushBlob(`${BASE_REPO}/pack-c`, descriptor, () => Readable.from([bytes]), { mountFrom: BASE_REPO });
      expect(w.proxy.requests.filter((r) => r.path.includes('/blobs/') && r.status !== 401).map((r) => `${r.method} ${r.status}`)).toEqual(['POST 202', 'PUT 201']);
      expect(MOUNT.test(w.proxy.requests.find((r) => r.method === 'POST')?.path ?? '')).toBe(true);
      expect(holdsBlob('pack-c', descriptor.digest)).toBe(true);
      expect(await store.hasBlob(`${BASE_REPO}/pack-c`, descriptor.digest)).toBe(true);
    } finally {
      await store.close();
    }
  });
});
