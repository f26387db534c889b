import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../support/cli.js';
import { hurryRetries } from '../support/clock.js';
import { writePack } from '../support/packs.js';
import { startRecordingProxy, type ProxyHook } from '../support/recording-proxy.js';
import { RegistryReader } from '../support/registry-reader.js';
import { sharedRegistry } from '../support/registry.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';

/*
 * A registry whose reads lag behind the writes it accepted (replicas behind a load balancer, a cache in front):
 * right after a manifest PUT, the next reads of that tag answer 404, or what the tag held before. push, tag and
 * copy read a tag back after writing it; they read it again after a short bounded pause (the retry backoff,
 * three times) before calling the write "accepted without keeping it". A tag that really holds nothing after the
 * pauses is still a failure. A proxy in front of a real registry plays the lagging replica.
 */

const clock = hurryRetries();
const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-read-back-lag-');
  const registry = await sharedRegistry();
  const proxy = stack.add(await startRecordingProxy(registry.host));
  return { root, registry, proxy, reader: new RegistryReader(registry.url), P: `${proxy.host}/${registry.base}/lag`, R: `${registry.host}/${registry.base}/lag`, REPO: `${registry.base}/lag/spectro-packs/archive` };
});

let n = 0;
afterEach(() => {
  w.proxy.onRequest = undefined;
});
const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const NOT_FOUND = { status: 404, headers: { 'content-type': 'application/json' }, body: '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}' };

/**
 * After a PUT of `path`'s manifest, its next `reads` GETs and HEADs answer `stale` (default 404, as a replica
 * that has not seen the write); `keep: false` answers the PUT 201 itself, the registry never seeing it.
 * Counts the reads of `path` after the PUT.
 */
function lagging(path: string, reads: number, options: { stale?: () => { status: number; headers?: Record<string, string>; body?: Buffer | string }; keep?: boolean } = {}): { after: () => number } {
  let written = false;
  let left = reads;
  let after = 0;
  const hook: ProxyHook = (r) => {
    const target = r.path.split('?')[0] === path;
    if (target && r.method === 'PUT') {
      written = true;
      return options.keep === false ? { status: 201 } : 'pass';
    }
    if (target && written && (r.method === 'GET' || r.method === 'HEAD')) {
      after++;
      if (left > 0) {
        left--;
        return (options.stale ?? (() => NOT_FOUND))();
      }
    }
    return 'pass';
  };
  w.proxy.onRequest = hook;
  return { after: () => after };
}
function expectRun(run: CliRun, code: number): void {
  expect(run.code, run.stdout + run.stderr).toBe(code);
  expect(stackLines(run.stderr)).toEqual([]);
}
async function pack(name: string, version = '1.0.0'): Promise<string> {
  return writePack(join(w.root, `${name}-${n++}`), { name, version });
}

describe('a tag read back right after its write, while a replica has not caught up', () => {
  it('push: two reads answer 404, then the manifest: published, exit 0 (was: "accepted the manifest without keeping it", exit 1)', async () => {
    const name = `p${n++}`;
    const lag = lagging(`/v2/${w.REPO}/${name}/manifests/1.0.0`, 2);
    const waits = clock.slept.length;
    const run = await runCli(['push', await pack(name), '--registry', w.P]);
    expectRun(run, 0);
    expect(run.stdout + run.stderr).not.toContain('without keeping it');
    expect(lag.after()).toBe(3);
    expect(clock.slept.length - waits).toBeGreaterThanOrEqual(2);
    expect(await w.reader.manifest(`${w.REPO}/${name}`, '1.0.0')).toBeDefined();
  });

  it('push: a manifest the registry never kept (its PUT answered 201 by the proxy) is still a failure, after three more reads', async () => {
    const name = `p${n++}`;
    const lag = lagging(`/v2/${w.REPO}/${name}/manifests/1.0.0`, 0, { keep: false });
    const run = await runCli(['push', await pack(name), '--registry', w.P]);
    expectRun(run, 1);
    expect(run.stderr).toContain('accepted the manifest without keeping it');
    expect(lag.after()).toBe(4);
    expect(await w.reader.manifest(`${w.REPO}/${name}`, '1.0.0')).toBeUndefined();
  });

  it('push --force: two reads still serve what the version held before, then the new manifest: overwritten, exit 0 (was: "replaced by another publisher", exit 1)', async () => {
    const name = `f${n++}`;
    expectRun(await runCli(['push', await writePack(join(w.root, `${name}-old`), { name, version: '1.0.0', files: { 'a.txt': 'old' } }), '--registry', w.R]), 0);
    const old = (await w.reader.manifest(`${w.REPO}/${name}`, '1.0.0')) as Buffer;
    const lag = lagging(`/v2/${w.REPO}/${name}/manifests/1.0.0`, 2, {
      stale: () => ({ status: 200, headers: { 'content-type': MANIFEST, 'docker-content-digest': sha256(old) }, body: old }),
    });
    const run = await runCli(['push', await writePack(join(w.root, `${name}-new`), { name, version: '1.0.0', files: { 'a.txt': 'new' } }), '--registry', w.P, '--force', '--json']);
    expectRun(run, 0);
    const [result] = (JSON.parse(run.stdout) as { results: Array<{ status: string; digest: string }> }).results;
    expect(result?.status).toBe('overwritten');
    expect(lag.after()).toBe(3);
    const held = (await w.reader.manifest(`${w.REPO}/${name}`, '1.0.0')) as Buffer;
    expect(sha256(held)).toBe(result?.digest);
    expect(sha256(held)).not.toBe(sha256(old));
  });

  it('push --force: a write the registry never kept, the old manifest served on every read: exit 1, "still holds" the old one, not another publisher', async () => {
    const name = `f${n++}`;
    expectRun(await runCli(['push', await writePack(join(w.root, `${name}-old`), { name, version: '1.0.0', files: { 'a.txt': 'old' } }), '--registry', w.R]), 0);
    const old = (await w.reader.manifest(`${w.REPO}/${name}`, '1.0.0')) as Buffer;
    const lag = lagging(`/v2/${w.REPO}/${name}/manifests/1.0.0`, 0, { keep: false });
    const run = await runCli(['push', await writePack(join(w.root, `${name}-new`), { name, version: '1.0.0', files: { 'a.txt': 'new' } }), '--registry', w.P, '--force']);
    expectRun(run, 1);
    expect(run.stderr).toContain(`still holds ${sha256(old)} at the end of this run`);
    expect(run.stderr).toContain('accepted the manifest without keeping it');
    expect(run.stderr).not.toContain('another publisher');
    // The read after the write, three rereads, and the read asking whether it holds this very pack (its layer).
    expect(lag.after()).toBe(5);
    expect(sha256((await w.reader.manifest(`${w.REPO}/${name}`, '1.0.0')) as Buffer)).toBe(sha256(old));
  });

  it('tag: two reads answer 404, then the manifest: tagged, exit 0 (was: exit 1)', async () => {
    const name = `t${n++}`;
    expectRun(await runCli(['push', await pack(name), '--registry', w.R]), 0);
    const lag = lagging(`/v2/${w.REPO}/${name}/manifests/stable`, 2);
    expectRun(await runCli(['tag', `${name}:1.0.0`, 'stable', '--registry', w.P]), 0);
    expect(lag.after()).toBe(3);
    const held = await w.reader.manifest(`${w.REPO}/${name}`, 'stable');
    expect(held && sha256(held)).toBe(sha256((await w.reader.manifest(`${w.REPO}/${name}`, '1.0.0')) as Buffer));
  });

  it('tag --force: two reads still serve what the tag held before, then the new manifest: moved, exit 0 (was: "still holds", exit 1)', async () => {
    const name = `t${n++}`;
    expectRun(await runCli(['push', await pack(name, '1.0.0'), '--registry', w.R]), 0);
    expectRun(await runCli(['push', await pack(name, '1.1.0'), '--registry', w.R, '--tag', 'stable']), 0);
    const old = (await w.reader.manifest(`${w.REPO}/${name}`, 'stable')) as Buffer;
    const lag = lagging(`/v2/${w.REPO}/${name}/manifests/stable`, 2, {
      stale: () => ({ status: 200, headers: { 'content-type': MANIFEST, 'docker-content-digest': sha256(old) }, body: old }),
    });
    expectRun(await runCli(['tag', `${name}:1.0.0`, 'stable', '--force', '--registry', w.P]), 0);
    expect(lag.after()).toBe(3);
    const held = (await w.reader.manifest(`${w.REPO}/${name}`, 'stable')) as Buffer;
    expect(sha256(held)).toBe(sha256((await w.reader.manifest(`${w.REPO}/${name}`, '1.0.0')) as Buffer));
  });

  it('tag: a tag the registry never kept is still a failure after the rereads', async () => {
    const name = `t${n++}`;
    expectRun(await runCli(['push', await pack(name), '--registry', w.R]), 0);
    const lag = lagging(`/v2/${w.REPO}/${name}/manifests/stable`, 0, { keep: false });
    const run = await runCli(['tag', `${name}:1.0.0`, 'stable', '--registry', w.P]);
    expectRun(run, 1);
    expect(run.stderr).toContain('accepted the manifest without keeping it');
    expect(lag.after()).toBe(4);
  });

  it('copy: two reads answer 404, then the manifest: copied, exit 0 (was: exit 1)', async () => {
    const name = `c${n++}`;
    expectRun(await runCli(['push', await pack(name), '--registry', w.R]), 0);
    const dest = `${w.registry.base}/lagdst${n++}`;
    const lag = lagging(`/v2/${dest}/spectro-packs/archive/${name}/manifests/1.0.0`, 2);
    expectRun(await runCli(['copy', `${name}:1.0.0`, '--from', w.R, '--to', `${w.proxy.host}/${dest}`]), 0);
    expect(lag.after()).toBe(3);
    expect(await w.reader.manifest(`${dest}/spectro-packs/archive/${name}`, '1.0.0')).toBeDefined();
  });
});

describe('a blob read right after a push, while a replica has not caught up', () => {
  const BLOB_UNKNOWN = { status: 404, headers: { 'content-type': 'application/json' }, body: '{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}' };
  /** The layer's first `misses` GETs answer 404; the number of its GETs. */
  function laggingBlob(name: string, misses: number): () => number {
    let gets = 0;
    w.proxy.onRequest = (r) => (r.kind === 'blob-get' && r.path.startsWith(`/v2/${w.REPO}/${name}/blobs/`) && ++gets <= misses ? BLOB_UNKNOWN : 'pass');
    return () => gets;
  }

  it('pull: the layer answers 404 twice, then comes: pulled, exit 0 (was: "not found ... push the pack again", exit 1)', async () => {
    const name = `b${n++}`;
    expectRun(await runCli(['push', await pack(name), '--registry', w.R]), 0);
    const gets = laggingBlob(name, 2);
    const waits = clock.slept.length;
    const out = join(w.root, `${name}-out`);
    expectRun(await runCli(['pull', `${name}:1.0.0`, '-o', out, '--registry', w.P]), 0);
    expect(gets()).toBe(3);
    expect(clock.slept.length - waits).toBeGreaterThanOrEqual(2);
    expect(existsSync(join(out, 'pack.json'))).toBe(true);
  });

  it('pull: a layer that stays 404 is still a failure, after three more reads, nothing written', async () => {
    const name = `b${n++}`;
    expectRun(await runCli(['push', await pack(name), '--registry', w.R]), 0);
    const gets = laggingBlob(name, 100);
    const out = join(w.root, `${name}-out`);
    const run = await runCli(['pull', `${name}:1.0.0`, '-o', out, '--registry', w.P]);
    expectRun(run, 1);
    expect(run.stderr).toMatch(/blob sha256:[0-9a-f]{64} not found in /);
    expect(gets()).toBe(4);
    expect(existsSync(out)).toBe(false);
  });
});

describe('a manifest refused as naming a blob a replica has not caught up with', () => {
  it('tag: its PUT refused MANIFEST_BLOB_UNKNOWN twice, then taken after pauses: tagged, exit 0 (was: exit 1)', async () => {
    const name = `m${n++}`;
    expectRun(await runCli(['push', await pack(name), '--registry', w.R]), 0);
    let refusals = 0;
    const path = `/v2/${w.REPO}/${name}/manifests/stable`;
    w.proxy.onRequest = (r) =>
      r.method === 'PUT' && r.path === path && refusals++ < 2
        ? { status: 400, headers: { 'content-type': 'application/json' }, body: '{"errors":[{"code":"MANIFEST_BLOB_UNKNOWN","message":"blob unknown to registry"}]}' }
        : 'pass';
    const waits = clock.slept.length;
    expectRun(await runCli(['tag', `${name}:1.0.0`, 'stable', '--registry', w.P]), 0);
    expect(refusals).toBe(3);
    expect(clock.slept.length - waits).toBeGreaterThanOrEqual(2);
    expect(await w.reader.manifest(`${w.REPO}/${name}`, 'stable')).toEqual(await w.reader.manifest(`${w.REPO}/${name}`, '1.0.0'));
  });
});
