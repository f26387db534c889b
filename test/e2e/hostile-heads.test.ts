import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { startRecordingProxy, type ProxyHook, type ProxyRequestInfo } from '../support/recording-proxy.js';
import { RegistryReader } from '../support/registry-reader.js';
import { skopeoSyncManifests, startRegistry } from '../support/registry.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';
import { hurryRetries } from '../support/clock.js';

/*
 * delete, tag, copy and push against a real distribution registry behind a proxy that answers some requests itself:
 * a DELETE answered with a success status and an OCI error body, a HEAD that says a tag is absent (or holds
 * other content) while a GET serves what it really holds, as a cache in front of a registry may. Whatever
 * ends in exit 0 (deleted, already tagged, unchanged, a write over nothing) is decided by reading the tag
 * (GET, the bytes hashed), and what the registry holds afterwards is checked; a message quotes the
 * registry's own words when it gave some.
 */

const REPO = 'spectro-packs/archive';
const DENIED = '{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}';

// The read-backs after a write that did not keep (a tag, a manifest) read again after the retry backoff's pauses:
// in-process runs wait them 50 times shorter (support/clock.ts; ~15 s of real pauses a run before).
hurryRetries();
const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-hostile-delete-');
  const registry = stack.add(await startRegistry());
  const proxy = stack.add(await startRecordingProxy(registry.host));
  return { root, registry, proxy, reader: new RegistryReader(registry.url) };
});

let n = 0;
/** A new pack hd-<n>:1.0.0 pushed straight to the registry, with `extraTags` on the same manifest; its name and digest. */
async function pushed(extraTags: string[] = [], name = `hd-${n++}`, version = '1.0.0', where = w.registry.host): Promise<{ name: string; digest: string }> {
  const dir = await writePack(join(w.root, `${name}-${version}-${n++}`), { name, version, files: { 'README.md': `# ${name}\n\n${where}\n` } });
  const target = where.startsWith('oci:') ? ['--oci-layout', where.slice(4)] : ['--registry', where];
  const run = await runCli(['push', dir, ...target, '--no-cache', '--json', ...extraTags.flatMap((t) => ['--tag', t])]);
  expect(run.code, run.stderr).toBe(0);
  const [result] = (JSON.parse(run.stdout) as { results: Array<{ status: string; digest: string }> }).results;
  expect(result?.status).toBe('published');
  return { name, digest: result?.digest ?? '' };
}
/** The digest hd-<name>:<tag> holds on the registry (its bytes hashed), or undefined. */
async function held(name: string, tag: string, base = ''): Promise<string | undefined> {
  const bytes = await w.reader.manifest(`${base}${REPO}/${name}`, tag);
  return bytes === undefined ? undefined : `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}
/** The proxy answers HEAD of <repo>/manifests/<tag> itself (absent, or naming `digest`), as a cache may. */
const lyingHead = (repo: string, tag: string, digest?: string) => (r: { method: string; path: string }) =>
  r.method === 'HEAD' && r.path === `/v2/${repo}/manifests/${tag}`
    ? digest === undefined
      ? { status: 404 }
      : { status: 200, headers: { 'docker-content-digest': digest, 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': '600' } }
    : ('pass' as const);
async function through<T>(hook: ProxyHook, run: () => Promise<T>): Promise<T> {
  w.proxy.onRequest = hook;
  try {
    return await run();
  } finally {
    w.proxy.onRequest = undefined;
  }
}
const del = (refs: string[]) => runCli(['delete', ...refs, '--registry', w.proxy.host, '--force', '--retry-attempts', '1']);
const tagsOf = async (name: string) => (await w.reader.tags(`${REPO}/${name}`).catch(() => [])).sort();
function expectClean(run: CliRun, code: number): void {
  expect(run.code, `${run.stdout}${run.stderr}`).toBe(code);
  expect(stackLines(run.stderr)).toEqual([]);
  expect(run.stderr).not.toContain('a bug in packpub');
}
/** The DELETE of hd-<name>'s manifest. */
const isDelete = (name: string) => (r: { method: string; path: string }) => r.method === 'DELETE' && r.path.startsWith(`/v2/${REPO}/${name}/manifests/`);

describe('delete against success answers that are not', () => {
  it('a DELETE answered 200 with an OCI error body that deleted nothing: exit 1 with the registry\'s words (was: "still resolves")', async () => {
    const p = await pushed();
    const run = await through(
      (r) => (isDelete(p.name)(r) ? { status: 200, headers: { 'content-type': 'application/json' }, body: DENIED } : 'pass'),
      () => del([`${p.name}:1.0.0`]),
    );
    expectClean(run, 1);
    expect(run.stderr).toContain(`${w.proxy.host} answered 200 to DELETE of ${p.digest} in ${REPO}/${p.name} with an error body: DENIED: requested access to the resource is denied`);
    expect(run.stderr).toContain(`not deleted: ${p.name}:1.0.0`);
    expect(await tagsOf(p.name)).toEqual(['1.0.0']);
  });

  it('a DELETE the registry carried out, answered 202 with an error body: the read-back decides, exit 0 (held)', async () => {
    const p = await pushed();
    const run = await through(
      async (r) => {
        if (!isDelete(p.name)(r)) return 'pass';
        const done = await fetch(`${w.registry.url}${r.path}`, { method: 'DELETE' });
        expect(done.status).toBe(202);
        return { status: 202, headers: { 'content-type': 'application/json' }, body: DENIED };
      },
      () => del([`${p.name}:1.0.0`]),
    );
    expectClean(run, 0);
    expect(run.stdout).toMatch(new RegExp(`^deleted ${p.name}:1\\.0\\.0`, 'm'));
    expect(await tagsOf(p.name)).toEqual([]);
  });

  it('a DELETE answered 202 that deleted nothing, with a HEAD saying the tag is gone: exit 1, the tag read with GET (was: exit 0, "deleted")', async () => {
    const p = await pushed();
    const run = await through(
      (r) => (isDelete(p.name)(r) ? { status: 202 } : r.method === 'HEAD' && r.path === `/v2/${REPO}/${p.name}/manifests/1.0.0` ? { status: 404 } : 'pass'),
      () => del([`${p.name}:1.0.0`]),
    );
    expectClean(run, 1);
    expect(run.stderr).toContain(`${p.name}:1.0.0 still resolves after it was deleted`);
    expect(await tagsOf(p.name)).toEqual(['1.0.0']);
  });

  it('a HEAD that hides another tag of the same manifest: delete still refuses, both tags stay (was: exit 0, the other tag deleted too)', async () => {
    const p = await pushed(['stable']);
    const other = `sha256:${'0'.repeat(64)}`;
    for (const lie of [{ status: 404 }, { status: 200, headers: { 'docker-content-digest': other, 'content-type': 'application/vnd.oci.image.manifest.v1+json' } }]) {
      const run = await through(
        (r) => (r.method === 'HEAD' && r.path === `/v2/${REPO}/${p.name}/manifests/stable` ? lie : 'pass'),
        () => del([`${p.name}:1.0.0`]),
      );
      expectClean(run, 1);
      expect(run.stderr).toContain(`REFUSED ${p.name}:1.0.0: ${w.proxy.host}/${REPO}/${p.name}:1.0.0 shares its manifest (${p.digest}) with stable: this registry can only delete the manifest`);
      expect(await tagsOf(p.name)).toEqual(['1.0.0', 'stable']);
    }
    expect(w.proxy.count(isDelete(p.name))).toBe(0);
  });
});

describe('tag and copy against a HEAD that does not say what the tag holds', () => {
  it('tag onto a tag holding other content that a HEAD calls absent: a conflict, the tag unchanged (was: exit 0, moved)', async () => {
    const p = await pushed();
    const other = await pushed(['stable'], p.name, '2.0.0');
    const run = await through(lyingHead(`${REPO}/${p.name}`, 'stable'), () => runCli(['tag', `${p.name}:1.0.0`, 'stable', '--registry', w.proxy.host]));
    expectClean(run, 1);
    expect(run.stderr).toContain(`stable (${other.digest}) already tags other content`);
    expect(await held(p.name, 'stable')).toBe(other.digest);
  });

  it('copy onto a version holding other content that a HEAD calls the same or absent: a conflict, the version unchanged (was: exit 0, "unchanged" or overwritten)', async () => {
    const layout = join(w.root, 'copy-source');
    const p = await pushed([], `hd-${n++}`, '1.0.0', `oci:${layout}`);
    const theirs = await pushed([], p.name, '1.0.0', `${w.registry.host}/dst`);
    expect(theirs.digest).not.toBe(p.digest);
    for (const lie of [p.digest, undefined]) {
      const run = await through(lyingHead(`dst/${REPO}/${p.name}`, '1.0.0', lie), () =>
        runCli(['copy', `${p.name}:1.0.0`, '--from', `oci:${layout}`, '--to', `${w.proxy.host}/dst`]),
      );
      expectClean(run, 1);
      expect(`${run.stdout}${run.stderr}`).toContain(`already holds a different manifest (${theirs.digest}; the source has ${p.digest})`);
      expect(await held(p.name, '1.0.0', 'dst/')).toBe(theirs.digest);
    }
  });
});

describe('copy against a destination that accepts a manifest it does not keep', () => {
  it('a manifest PUT answered 201 (naming the right digest) that stored nothing: copy fails, reading the version back (was: exit 0, "copied")', async () => {
    const layout = join(w.root, 'copy-swallowed');
    const p = await pushed([], `hd-${n++}`, '1.0.0', `oci:${layout}`);
    const swallow = (r: { method: string; path: string }) =>
      r.method === 'PUT' && r.path === `/v2/sw/${REPO}/${p.name}/manifests/1.0.0` ? { status: 201, headers: { 'docker-content-digest': p.digest, location: r.path } } : ('pass' as const);
    const run = await through(swallow, () => runCli(['copy', `${p.name}:1.0.0`, '--from', `oci:${layout}`, '--to', `${w.proxy.host}/sw`]));
    expectClean(run, 1);
    expect(run.stderr).toContain(`${w.proxy.host}/sw/${REPO}/${p.name}:1.0.0 does not hold ${p.digest} after the destination accepted it (it holds nothing)`);
    expect(await held(p.name, '1.0.0', 'sw/')).toBeUndefined();
  });
});

describe('tag against a registry that accepts a manifest it does not keep', () => {
  it('a tag PUT answered 201 that stored nothing: tag fails, reading the tag back (was: exit 0, "tagged")', async () => {
    const p = await pushed();
    const swallow = (r: { method: string; path: string }) =>
      r.method === 'PUT' && r.path === `/v2/${REPO}/${p.name}/manifests/stable` ? { status: 201, headers: { 'docker-content-digest': p.digest, location: r.path } } : ('pass' as const);
    const run = await through(swallow, () => runCli(['tag', `${p.name}:1.0.0`, 'stable', '--registry', w.proxy.host]));
    expectClean(run, 1);
    expect(run.stderr).toContain(`${w.proxy.host}/${REPO}/${p.name}:stable does not hold ${p.digest} after the write was accepted (it holds nothing)`);
    expect(await held(p.name, 'stable')).toBeUndefined();
  });
});

describe('list against pages that lead to another list', () => {
  it('a tag page whose Link (or redirect) leads to another repository\'s tags: refused, not listed as this pack\'s versions (was: exit 0, merged)', async () => {
    const p = await pushed();
    const q = await pushed([], `hd-${n++}`, '9.9.9');
    const elsewhere = `/v2/${REPO}/${q.name}/tags/list?n=100`;
    const firstPage = (r: { method: string; path: string }) => r.method === 'GET' && r.path.startsWith(`/v2/${REPO}/${p.name}/tags/list`);
    const answers: Array<{ status: number; headers: Record<string, string>; body?: string }> = [
      { status: 200, headers: { 'content-type': 'application/json', link: `<${elsewhere}>; rel="next"` }, body: JSON.stringify({ name: `${REPO}/${p.name}`, tags: ['1.0.0'] }) },
      { status: 307, headers: { location: elsewhere } },
    ];
    for (const answer of answers) {
      const run = await through((r) => (firstPage(r) ? answer : 'pass'), () => runCli(['list', p.name, '--registry', w.proxy.host, '--json']));
      expectClean(run, 1);
      expect(run.stdout).not.toContain('9.9.9');
      expect(run.stderr).toContain(`${w.proxy.host} ${answer.status === 307 ? 'redirected' : 'links the next page of'} tags of ${REPO}/${p.name} to another list (${REPO}/${q.name}/tags/list)`);
      // The hint says what happened (not the hint of a listing without end).
      expect(run.stderr).toContain("leads this listing to another repository's list");
    }
  });

  it('an empty tag page whose Link says more follow: the next pages are read (was: the listing ended there, exit 0 with nothing listed); empty pages without end are refused', async () => {
    const p = await pushed();
    await pushed([], p.name, '2.0.0');
    const list = `/v2/${REPO}/${p.name}/tags/list`;
    const empty = (last: string) => ({ status: 200, headers: { 'content-type': 'application/json', link: `<${list}?n=100&last=${last}>; rel="next"` }, body: JSON.stringify({ name: `${REPO}/${p.name}`, tags: [] }) });
    // The first page is empty and links to the rest (distribution-spec: a Link means more results exist).
    const run = await through((r) => (r.method === 'GET' && r.path.startsWith(list) && !r.path.includes('last=') ? empty('0') : 'pass'), () => runCli(['list', p.name, '--registry', w.proxy.host, '--json']));
    expectClean(run, 0);
    expect((JSON.parse(run.stdout) as { packs: Array<{ versions: Array<{ version: string }> }> }).packs[0]?.versions.map((v) => v.version)).toEqual(['1.0.0', '2.0.0']);
    // Every page empty, each linking to a new one: refused after a few, not read a thousand times nor taken as the end.
    let pages = 0;
    const endless = await through((r) => (r.method === 'GET' && r.path.startsWith(list) ? empty(String(pages++)) : 'pass'), () => runCli(['list', p.name, '--registry', w.proxy.host]));
    expectClean(endless, 1);
    expect(endless.stderr).toContain(`${w.proxy.host} pages tags of ${REPO}/${p.name} with 4 pages in a row that bring nothing new and still link to more`);
    expect(pages).toBe(4);
  });
});

describe("push's read-back against a cache, and a registry that accepts what it does not keep", () => {
  const EPOCH = { SOURCE_DATE_EPOCH: '1700000000' };
  /** A new pack folder, and the digest its manifest has (built the same elsewhere: a fixed SOURCE_DATE_EPOCH). */
  async function packAndDigest(): Promise<{ name: string; dir: string; digest: string }> {
    const name = `hd-${n++}`;
    const dir = await writePack(join(w.root, name), { name, version: '1.0.0', files: { 'README.md': `# ${name}\n` } });
    const run = await runCli(['push', dir, '--registry', `${w.registry.host}/elsewhere`, '--no-cache'], { env: EPOCH });
    expect(run.code, run.stderr).toBe(0);
    return { name, dir, digest: (await held(name, '1.0.0', 'elsewhere/')) ?? '' };
  }
  const push = (dir: string, ...more: string[]) => runCli(['push', dir, '--registry', w.proxy.host, '--no-cache', '--retry-attempts', '1', ...more], { env: EPOCH });
  const isPut = (name: string, tag: string) => (r: { method: string; path: string }) => r.method === 'PUT' && r.path === `/v2/${REPO}/${name}/manifests/${tag}`;
  const accepted = { status: 201, headers: { location: '/v2/' } };

  it('a version PUT answered 201 that stored nothing, with a HEAD naming the digest (after the write, or from the start): exit 1, read with GET (was: exit 0, "published" or "unchanged")', async () => {
    for (const fromStart of [false, true]) {
      const p = await packAndDigest();
      let put = false;
      const run = await through((r) => {
        if (isPut(p.name, '1.0.0')(r)) {
          put = true;
          return accepted;
        }
        return (put || fromStart) && r.method === 'HEAD' ? lyingHead(`${REPO}/${p.name}`, '1.0.0', p.digest)(r) : 'pass';
      }, () => push(p.dir));
      expectClean(run, 1);
      expect(run.stderr).toContain(`${w.proxy.host}/${REPO}/${p.name}:1.0.0 does not hold ${p.digest} at the end of this run (it holds nothing)`);
      expect(put).toBe(!fromStart);
      expect(await held(p.name, '1.0.0')).toBeUndefined();
    }
  });

  it('a read-back whose bytes do not hash to the digest served with them (twice): exit 1, not taken for "cannot read" (was: exit 0, "published")', async () => {
    const p = await packAndDigest();
    let put = false;
    const run = await through((r) => {
      if (isPut(p.name, '1.0.0')(r)) put = true;
      return put && r.method === 'GET' && r.path === `/v2/${REPO}/${p.name}/manifests/1.0.0`
        ? { status: 200, headers: { 'docker-content-digest': p.digest, 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: '{"schemaVersion":2}' }
        : 'pass';
    }, () => push(p.dir));
    expectClean(run, 1);
    expect(run.stderr).toContain(`manifest 1.0.0 in ${REPO}/${p.name}: ${w.proxy.host} says ${p.digest}, the bytes hash to sha256:`);
    expect(run.stderr).toContain('(twice in a row)');
    expect(await held(p.name, '1.0.0')).toBe(p.digest);
  });

  it('an extra --tag PUT answered 201 that stored nothing, or over another publisher\'s tag, on a first push and on a re-run: exit 1 (was: exit 0)', async () => {
    const p = await packAndDigest();
    const theirs = await pushed(['stable'], p.name, '2.0.0');
    for (const where of ['stable', 'latest']) {
      // The first run publishes 1.0.0 (the version is read back, then the tag); the second finds it unchanged.
      for (let again = 0; again < 2; again++) {
        const run = await through((r) => (isPut(p.name, where)(r) ? accepted : 'pass'), () => push(p.dir, '--tag', where));
        expectClean(run, 1);
        expect(run.stderr).toContain(
          where === 'stable'
            ? `${w.proxy.host}/${REPO}/${p.name}:stable was replaced by another publisher during this run (it holds ${theirs.digest}, this run wrote ${p.digest})`
            : `${w.proxy.host}/${REPO}/${p.name}:latest does not hold ${p.digest} at the end of this run (it holds nothing)`,
        );
        expect(await held(p.name, '1.0.0')).toBe(p.digest);
        expect(await held(p.name, where)).toBe(where === 'stable' ? theirs.digest : undefined);
      }
    }
  });

  it('a re-run with --tag reads back the extra tag instead of the unchanged version: as many requests as before (two versions sharing an extra tag in one run: version-tags.test.ts)', async () => {
    const p = await packAndDigest();
    expect((await push(p.dir, '--tag', 'stable')).code).toBe(0);
    const from = w.proxy.requests.length;
    const again = await push(p.dir, '--tag', 'stable');
    expectClean(again, 0);
    expect(w.proxy.requests.slice(from).filter((r) => r.kind.startsWith('manifest-')).map((r) => `${r.kind} ${r.path.split('/').pop() ?? ''}`)).toEqual([
      'manifest-get 1.0.0',
      'manifest-put stable',
      'manifest-get stable',
    ]);
  });
});

/*
 * A HEAD of a blob answered 200 by the proxy itself, as a cache or proxy that lies may: push and copy leave the blob
 * out on its word, read its first byte (the GET reaches the registry: 404), and send it before the manifest. A cache
 * that answers that GET too: the registry refuses the manifest (MANIFEST_BLOB_UNKNOWN), the blobs left out are sent
 * then, and the manifest again. Exit 0 means skopeo pulls every blob straight from the registry; a registry that
 * still refuses is a clear exit 1 with nothing tagged.
 */
/** A pack whose layer is over 1 MiB (push asks the registry before sending a layer that large). */
async function bigPack(): Promise<{ dir: string; name: string }> {
  const name = `hd-big-${n++}`;
  return { dir: await writePack(join(w.root, name), { name, version: '1.0.0', files: { 'payload.bin': randomBytes(1_200_000) } }), name };
}
/** The proxy says it holds every blob asked about (HEAD). */
const lyingBlobHead = (r: ProxyRequestInfo) =>
  r.kind === 'blob-head' ? { status: 200, headers: { 'content-length': '2', 'docker-content-digest': r.path.split('/').pop() ?? '' } } : ('pass' as const);
/** ... and serves the first byte of any blob (a ranged GET), as a cache holding a copy the registry lost would. */
const lyingCache = (r: ProxyRequestInfo) =>
  r.kind === 'blob-get' && r.headers.range === 'bytes=0-0' ? { status: 206, headers: { 'content-range': 'bytes 0-0/2' }, body: 'x' } : lyingBlobHead(r);
const REFUSED = { status: 400, headers: { 'content-type': 'application/json' }, body: '{"errors":[{"code":"MANIFEST_BLOB_UNKNOWN","message":"blob unknown to registry"}]}' };
/** skopeo copies the version straight from the registry, every blob fetched and checked against its digest. */
async function pulls(repo: string): Promise<void> {
  const out = await mkdtemp(join(w.root, 'sync-'));
  const manifests = await skopeoSyncManifests(w.registry.host, [{ repo, tag: '1.0.0' }], out);
  expect(manifests.get(`${repo}:1.0.0`)).toBeDefined();
}
const manifestPuts = (path: string) => w.proxy.requests.filter((r) => r.kind === 'manifest-put' && r.path.startsWith(path)).map((r) => r.status);
/** push --json of a big pack through the proxy under `hook`: exit 0, published, the layer sent and counted. */
async function pushedThrough(hook: ProxyHook): Promise<{ name: string }> {
  const p = await bigPack();
  w.proxy.clear();
  const run = await through(hook, () => runCli(['push', p.dir, '--registry', w.proxy.host, '--no-cache', '--json']));
  expectClean(run, 0);
  const report = JSON.parse(run.stdout) as { results: Array<{ status: string; uploadedBytes: number; size: number }> };
  expect(report.results[0]?.status).toBe('published');
  expect(report.results[0]?.uploadedBytes).toBe(report.results[0]?.size);
  await pulls(`${REPO}/${p.name}`);
  return p;
}

describe('a HEAD that says the registry holds a blob it does not', () => {
  it('push reads the first byte of a blob a HEAD said was there, and sends it when the registry lacks it: exit 0, pullable (was: exit 1, MANIFEST_BLOB_UNKNOWN on every run)', async () => {
    const p = await pushedThrough(lyingBlobHead);
    expect(manifestPuts(`/v2/${REPO}/${p.name}/`)).toEqual([201]);
    expect(w.proxy.requests.filter((r) => r.kind === 'blob-get').map((r) => r.status)).toEqual([404]);
  });

  it('a cache that serves that byte too: the registry refuses the manifest, the blob is sent and the manifest again: exit 0, pullable', async () => {
    const p = await pushedThrough(lyingCache);
    expect(manifestPuts(`/v2/${REPO}/${p.name}/`)).toEqual([400, 201]);
  });

  it('copy does the same for the blobs its destination said it held', async () => {
    for (const hook of [lyingBlobHead, lyingCache]) {
      const p = await bigPack();
      expectClean(await runCli(['push', p.dir, '--registry', w.registry.host, '--no-cache']), 0);
      w.proxy.clear();
      const run = await through(hook, () => runCli(['copy', `${p.name}:1.0.0`, '--from', w.registry.host, '--to', `${w.proxy.host}/dest`]));
      expectClean(run, 0);
      expect(manifestPuts(`/v2/dest/${REPO}/${p.name}/`)).toEqual(hook === lyingCache ? [400, 201] : [201]);
      await pulls(`dest/${REPO}/${p.name}`);
    }
  });

  it('copy --all of versions into a repository holding the config reads its first byte once, whatever the number of versions', async () => {
    const name = `hd-many-${n++}`;
    for (const version of ['1.0.0', '1.1.0', '1.2.0', '1.3.0']) {
      const dir = await writePack(join(w.root, `${name}-${version}`), { name, version });
      expectClean(await runCli(['push', dir, '--registry', w.registry.host, '--no-cache']), 0);
    }
    expectClean(await runCli(['copy', `${name}:1.0.0`, '--from', w.registry.host, '--to', `${w.proxy.host}/many`]), 0);
    w.proxy.clear();
    expectClean(await runCli(['copy', name, '--all', '--from', w.registry.host, '--to', `${w.proxy.host}/many`]), 0);
    expect(w.proxy.count((r) => r.kind === 'blob-get')).toBe(1);
    expect(manifestPuts(`/v2/many/${REPO}/${name}/`)).toEqual([201, 201, 201]);
  });

  it('a registry that still refuses the manifest after the blobs were sent: exit 1 naming it, nothing tagged', async () => {
    const p = await bigPack();
    const run = await through(
      (r) => (r.kind === 'manifest-put' && r.path.includes(`/${p.name}/`) ? REFUSED : lyingCache(r)),
      () => runCli(['push', p.dir, '--registry', w.proxy.host, '--no-cache']),
    );
    expectClean(run, 1);
    expect(run.stderr).toContain(`${w.proxy.host} refused the manifest of ${w.proxy.host}/${REPO}/${p.name}:1.0.0 as naming a blob it does not hold, after saying it held it and being sent it again`);
    expect(run.stderr).toContain('bypass the cache or proxy');
    expect(await w.reader.tags(`${REPO}/${p.name}`)).toEqual([]);
  });

  it('a refusal naming blobs push sent: the manifest again after pauses (a replica catching up), then exit 1 with a hint', async () => {
    const p = await bigPack();
    w.proxy.clear();
    const run = await through((r) => (r.kind === 'manifest-put' && r.path.includes(`/${p.name}/`) ? REFUSED : 'pass'), () => runCli(['push', p.dir, '--registry', w.proxy.host, '--no-cache']));
    expectClean(run, 1);
    expect(run.stderr).toContain('answered 400 MANIFEST_BLOB_UNKNOWN: blob unknown to registry');
    expect(run.stderr).toContain('the registry says it does not hold a blob the manifest names');
    expect(manifestPuts(`/v2/${REPO}/${p.name}/`)).toEqual([400, 400, 400, 400]);
    expect(await w.reader.tags(`${REPO}/${p.name}`)).toEqual([]);
  });

  it('a refusal that passes (a replica that had not caught up with the upload): published, exit 0 (was: exit 1)', async () => {
    const p = await bigPack();
    w.proxy.clear();
    let refusals = 0;
    const run = await through(
      (r) => (r.kind === 'manifest-put' && r.path.includes(`/${p.name}/`) && refusals++ < 2 ? REFUSED : 'pass'),
      () => runCli(['push', p.dir, '--registry', w.proxy.host, '--no-cache']),
    );
    expectClean(run, 0);
    expect(run.stdout).toContain(`published ${p.name}:1.0.0`);
    expect(manifestPuts(`/v2/${REPO}/${p.name}/`)).toEqual([400, 400, 201]);
    await pulls(`${REPO}/${p.name}`);
  });
});
