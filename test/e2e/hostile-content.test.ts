import { createHash } from 'node:crypto';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../support/cli.js';
import { startHostileRegistry, type HostileAnswer } from '../support/hostile-registry.js';
import { writePack } from '../support/packs.js';
import { startRecordingProxy, type ProxyHook } from '../support/recording-proxy.js';
import { RegistryReader } from '../support/registry-reader.js';
import { startRegistry } from '../support/registry.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';
import { hurryRetries } from '../support/clock.js';
import { runChildText } from '../support/spawner.js';

/*
 * What a registry (or a proxy in front of it) says about a manifest besides its bytes, when it says it wrong:
 * the Content-Type of a manifest answer. The bytes are checked against their digest; the type sent with them
 * is not covered by it, and copy and tag write the manifest again under the type they read. A real
 * distribution registry holds the packs; the proxy in front of it rewrites what the test asks it to.
 */

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const INDEX = 'application/vnd.oci.image.index.v1+json';
const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

// Read-backs that find another digest read again after the retry backoff's pauses: in-process runs wait them 50 times
// shorter (support/clock.ts; ~4.5 s of real pauses a run before).
hurryRetries();
const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-hostile-content-');
  const registry = stack.add(await startRegistry());
  const proxy = stack.add(await startRecordingProxy(registry.host));
  const hostile = stack.add(await startHostileRegistry({}));
  const pack = await writePack(join(root, 'p'), { name: 'ct', version: '1.0.0' });
  const push = await runCli(['push', pack, '--registry', `${registry.host}/src`]);
  if (push.code !== 0) throw new Error(push.stderr);
  const reader = new RegistryReader(registry.url);
  const manifest = (await reader.manifest('src/spectro-packs/archive/ct', '1.0.0')) ?? Buffer.alloc(0);
  return { root, registry, proxy, hostile, H: `${hostile.host}/h`, reader, manifest, digest: sha256(manifest) };
});

let n = 0;
afterEach(() => {
  w.proxy.onRequest = undefined;
  w.hostile.behaviour = {};
});
/** The hostile stand-in answers GET <path> with `status` and JSON `body` (the rest as usual). */
function onGet(path: string, status: number, body: string, headers: Record<string, string> = {}): void {
  w.hostile.behaviour = { answer: (r) => (r.method === 'GET' && r.path === path ? { status, headers: { 'content-type': 'application/json', ...headers }, body } : undefined) };
}
/** Pack <name>:1.0.0 pushed to the hostile stand-in under base path h. */
async function onHostile(name: string): Promise<void> {
  const pack = await writePack(join(w.root, `${name}-${n++}`), { name, version: '1.0.0' });
  expectClean(await runCli(['push', pack, '--registry', w.H]), 0);
}
/** Manifest GETs of ct answered by the proxy with the real bytes and digest, under `contentType`. */
const typed = (contentType: string): ProxyHook => (r) =>
  r.method === 'GET' && r.path === '/v2/src/spectro-packs/archive/ct/manifests/1.0.0'
    ? { status: 200, headers: { 'content-type': contentType, 'docker-content-digest': w.digest }, body: w.manifest }
    : 'pass';
function expectClean(run: CliRun, code: number): void {
  expect(run.code, `${run.stdout}${run.stderr}`).toBe(code);
  expect(stackLines(run.stderr)).toEqual([]);
}
/** The Content-Type the registry itself serves for repo:tag (straight, not through the proxy). */
async function servedType(repo: string, tag: string): Promise<string | null> {
  const res = await fetch(`${w.registry.url}/v2/${repo}/manifests/${tag}`, { headers: { accept: `${MANIFEST}, ${INDEX}` } });
  await res.arrayBuffer();
  return res.status === 200 ? res.headers.get('content-type') : `status ${res.status}`;
}

describe('a manifest answered under another Content-Type than its own mediaType', () => {
  it.each(['text/plain; charset=utf-8', INDEX, 'application/vnd.docker.distribution.manifest.v2+json'])(
    'under %s: copy to a layout and to a registry, and tag, write it as the image manifest it is (was: the layout named it so, exit 0; the registry refused it)',
    async (contentType) => {
      const layout = join(w.root, `layout-${n++}`);
      const dest = `dst${n++}`;
      const tag = `t${n++}`;
      w.proxy.onRequest = typed(contentType);
      expectClean(await runCli(['copy', 'ct:1.0.0', '--from', `${w.proxy.host}/src`, '--to', `oci:${layout}`]), 0);
      expectClean(await runCli(['copy', 'ct:1.0.0', '--from', `${w.proxy.host}/src`, '--to', `${w.registry.host}/${dest}`]), 0);
      expectClean(await runCli(['tag', 'ct:1.0.0', tag, '--registry', `${w.proxy.host}/src`]), 0);
      w.proxy.onRequest = undefined;
      // The layout's index names the manifest as what it is, so another OCI tool reads it.
      const index = JSON.parse(await readFile(join(layout, 'spectro-packs/archive/ct/index.json'), 'utf8')) as { manifests: Array<{ mediaType: string; digest: string }> };
      expect(index.manifests).toEqual([expect.objectContaining({ mediaType: MANIFEST, digest: w.digest })]);
      await runChildText('skopeo', ['copy', `oci:${join(layout, 'spectro-packs/archive/ct')}:1.0.0`, `dir:${join(w.root, `skopeo-${n++}`)}`]);
      // The registries hold the same bytes, served as an image manifest.
      expect(sha256((await w.reader.manifest(`${dest}/spectro-packs/archive/ct`, '1.0.0')) ?? Buffer.alloc(0))).toBe(w.digest);
      expect(await servedType(`${dest}/spectro-packs/archive/ct`, '1.0.0')).toBe(MANIFEST);
      expect(sha256((await w.reader.manifest('src/spectro-packs/archive/ct', tag)) ?? Buffer.alloc(0))).toBe(w.digest);
    },
  );

  it('a manifest without a mediaType field, served as a Docker manifest: copied as an OCI manifest, which is what it can be (was: sent as Docker\'s, refused: 400)', async () => {
    // Docker's schema 2 requires the field; OCI's image manifest may leave it out. The real registry holds it so.
    const { mediaType: _dropped, ...rest } = JSON.parse(w.manifest.toString()) as Record<string, unknown>;
    const bare = Buffer.from(JSON.stringify(rest));
    const put = await fetch(`${w.registry.url}/v2/src/spectro-packs/archive/ct/manifests/bare`, { method: 'PUT', headers: { 'content-type': MANIFEST }, body: bare });
    expect(put.status).toBe(201);
    w.proxy.onRequest = (r) =>
      r.method === 'GET' && r.path === '/v2/src/spectro-packs/archive/ct/manifests/bare'
        ? { status: 200, headers: { 'content-type': 'application/vnd.docker.distribution.manifest.v2+json', 'docker-content-digest': sha256(bare) }, body: bare }
        : 'pass';
    const dest = `dst${n++}`;
    expectClean(await runCli(['copy', 'ct:bare', '--from', `${w.proxy.host}/src`, '--to', `${w.registry.host}/${dest}`]), 0);
    expect(await servedType(`${dest}/spectro-packs/archive/ct`, 'bare')).toBe(MANIFEST);
    expect(sha256((await w.reader.manifest(`${dest}/spectro-packs/archive/ct`, 'bare')) ?? Buffer.alloc(0))).toBe(sha256(bare));
  });

  it('a layout whose index names the manifest under another type: copy to a registry writes it as an image manifest (was: refused by the registry)', async () => {
    const layout = join(w.root, `layout-${n++}`);
    expectClean(await runCli(['copy', 'ct:1.0.0', '--from', `${w.registry.host}/src`, '--to', `oci:${layout}`]), 0);
    const indexPath = join(layout, 'spectro-packs/archive/ct/index.json');
    await writeFile(indexPath, (await readFile(indexPath, 'utf8')).replace(MANIFEST, 'text/plain'));
    const dest = `dst${n++}`;
    expectClean(await runCli(['copy', 'ct:1.0.0', '--from', `oci:${layout}`, '--to', `${w.registry.host}/${dest}`]), 0);
    expect(await servedType(`${dest}/spectro-packs/archive/ct`, '1.0.0')).toBe(MANIFEST);
  });

  it('a manifest whose own mediaType says it is an index, with a config and one layer: not a pack for pull, inspect, copy and tag (was: copied, exit 0)', async () => {
    const doc = { ...(JSON.parse(w.manifest.toString()) as Record<string, unknown>), mediaType: INDEX };
    const blobs = JSON.parse(w.manifest.toString()) as { config: { digest: string }; layers: Array<{ digest: string }> };
    for (const d of [blobs.config.digest, blobs.layers[0]?.digest ?? '']) {
      const bytes = Buffer.from(await (await fetch(`${w.registry.url}/v2/src/spectro-packs/archive/ct/blobs/${d}`)).arrayBuffer());
      w.hostile.putBlob('h/spectro-packs/archive/ct', bytes);
    }
    w.hostile.putManifest('h/spectro-packs/archive/ct', '1.0.0', Buffer.from(JSON.stringify(doc)), INDEX);
    const R = w.H;
    const puts = () => w.hostile.requests.filter((r) => r.method === 'PUT').length;
    const putsBefore = puts();
    const says = `${R}/spectro-packs/archive/ct:1.0.0 is not a pack: manifest says it is ${INDEX}, not an image manifest`;
    const layout = join(w.root, `layout-${n++}`);
    for (const argv of [
      ['pull', 'ct:1.0.0', '--registry', R, '-o', join(w.root, `pulled-${n++}`)],
      ['inspect', 'ct:1.0.0', '--registry', R],
      ['copy', 'ct:1.0.0', '--from', R, '--to', `oci:${layout}`],
      ['tag', 'ct:1.0.0', 'stable', '--registry', R],
    ]) {
      const run = await runCli(argv);
      expectClean(run, 1);
      expect(run.stderr).toContain(says);
    }
    await expect(readFile(join(layout, 'spectro-packs/archive/ct/index.json'), 'utf8')).rejects.toThrow();
    expect(puts()).toBe(putsBefore);
  });
});

describe('answers encoded (Content-Encoding: gzip) by a proxy', () => {
  it('are refused, named as such, after asking for them as they are (was: list showed the digest of the gzip bytes, exit 0)', async () => {
    const seen: Array<string | string[] | undefined> = [];
    const layer = (JSON.parse(w.manifest.toString()) as { layers: Array<{ digest: string }> }).layers[0]?.digest ?? '';
    const blob = Buffer.from(await (await fetch(`${w.registry.url}/v2/src/spectro-packs/archive/ct/blobs/${layer}`)).arrayBuffer());
    const gzipped = (body: Buffer, type: string) => ({ status: 200, headers: { 'content-type': type, 'content-encoding': 'gzip' }, body: gzipSync(body) });
    w.proxy.onRequest = (r) => {
      if (r.method !== 'GET') return 'pass';
      seen.push(r.headers['accept-encoding']);
      if (r.path === '/v2/src/spectro-packs/archive/ct/manifests/1.0.0') return gzipped(w.manifest, MANIFEST);
      if (r.path === `/v2/src/spectro-packs/archive/ct/blobs/${layer}`) return gzipped(blob, 'application/octet-stream');
      return 'pass';
    };
    const R = `${w.proxy.host}/src`;
    const says = `${w.proxy.host} answered GET http://${w.proxy.host}/v2/src/spectro-packs/archive/ct/manifests/1.0.0 encoded (Content-Encoding: gzip), though packpub asks for it as it is (Accept-Encoding: identity)`;
    const list = await runCli(['list', 'ct', '--registry', R, '--json']);
    expectClean(list, 1);
    expect(list.stderr).toContain(says);
    expect(list.stdout).not.toContain('"digest"');
    const out = join(w.root, `pulled-${n++}`);
    const layout = join(w.root, `layout-${n++}`);
    for (const argv of [['pull', 'ct:1.0.0', '--registry', R, '-o', out], ['inspect', 'ct:1.0.0', '--registry', R], ['copy', 'ct:1.0.0', '--from', R, '--to', `oci:${layout}`]]) {
      const run = await runCli(argv);
      expectClean(run, 1);
      expect(run.stderr).toContain(says);
    }
    await expect(readFile(join(out, 'pack.json'))).rejects.toThrow();
    await expect(readFile(join(layout, 'spectro-packs/archive/ct/index.json'))).rejects.toThrow();
    // The layer alone really encoded: its digest judges it (a mismatch naming the coding), nothing pulled.
    w.proxy.onRequest = (r) => (r.method === 'GET' && r.path === `/v2/src/spectro-packs/archive/ct/blobs/${layer}` ? gzipped(blob, 'application/octet-stream') : 'pass');
    const pull = await runCli(['pull', 'ct:1.0.0', '--registry', R, '-o', out]);
    expectClean(pull, 1);
    expect(pull.stderr).toMatch(new RegExp(`blob ${layer} .*\\(the answer said Content-Encoding: gzip\\)`));
    expect(await readdir(out).catch(() => [])).toEqual([]);
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen)).toEqual(new Set(['identity']));
    // "Content-Encoding: identity" (or empty) is the bytes as they are: read as usual.
    for (const coding of ['identity', '']) {
      w.proxy.onRequest = (r) =>
        r.method === 'GET' && r.path === '/v2/src/spectro-packs/archive/ct/manifests/1.0.0' ? { status: 200, headers: { 'content-type': MANIFEST, 'content-encoding': coding }, body: w.manifest } : 'pass';
      const plain = await runCli(['list', 'ct', '--registry', R, '--json']);
      expectClean(plain, 0);
      expect(plain.stdout).toContain(w.digest);
    }
  });

  it('a gzip layer served unchanged but labelled Content-Encoding: x-gzip (Apache httpd) is judged by its digest: pulled (was: refused, exit 1)', async () => {
    const layer = (JSON.parse(w.manifest.toString()) as { layers: Array<{ digest: string }> }).layers[0]?.digest ?? '';
    const blob = Buffer.from(await (await fetch(`${w.registry.url}/v2/src/spectro-packs/archive/ct/blobs/${layer}`)).arrayBuffer());
    w.proxy.onRequest = (r) =>
      r.method === 'GET' && r.path === `/v2/src/spectro-packs/archive/ct/blobs/${layer}` ? { status: 200, headers: { 'content-type': 'application/x-tar', 'content-encoding': 'x-gzip' }, body: blob } : 'pass';
    const out = join(w.root, `pulled-${n++}`);
    const pull = await runCli(['pull', 'ct:1.0.0', '--registry', `${w.proxy.host}/src`, '-o', out]);
    expectClean(pull, 0);
    expect(pull.stdout).toContain(w.digest);
    expect(JSON.parse(await readFile(join(out, 'pack.json'), 'utf8'))).toMatchObject({ name: 'ct', version: '1.0.0' });
    expect((await readdir(out)).sort()).toEqual(expect.arrayContaining(['logo.png', 'pack.json', 'values.yaml']));
    // copy and inspect read the same blob the same way.
    const layout = join(w.root, `layout-${n++}`);
    expectClean(await runCli(['copy', 'ct:1.0.0', '--from', `${w.proxy.host}/src`, '--to', `oci:${layout}`]), 0);
    expect(await readFile(join(layout, `spectro-packs/archive/ct/blobs/sha256/${layer.slice(7)}`))).toEqual(blob);
    const inspect = await runCli(['inspect', 'ct:1.0.0', '--registry', `${w.proxy.host}/src`]);
    expectClean(inspect, 0);
    expect(inspect.stdout).toContain('"name": "ct"');
  });
});

describe('a tag listing whose next page is not a URL', () => {
  it('is refused, not read as the whole list (was: list and copy --all took the first page for all of it, exit 0)', async () => {
    await onHostile('lp');
    // Page 1 holds 1.0.0 and says more follow, at an address that cannot be read as a URL.
    onGet('/v2/h/spectro-packs/archive/lp/tags/list', 200, JSON.stringify({ name: 'h/spectro-packs/archive/lp', tags: ['1.0.0'] }), { link: '<http://[::1>; rel="next"' });
    const says = `${w.hostile.host} links the next page of tags of h/spectro-packs/archive/lp to something that is not a URL`;
    const list = await runCli(['list', 'lp', '--registry', `${w.H}`]);
    expectClean(list, 1);
    expect(list.stderr).toContain(says);
    expect(list.stdout).not.toContain('1.0.0');
    const layout = join(w.root, `layout-${n++}`);
    const copy = await runCli(['copy', 'lp', '--all', '--from', `${w.H}`, '--to', `oci:${layout}`]);
    expectClean(copy, 1);
    expect(copy.stderr).toContain(says);
    await expect(readFile(join(layout, 'spectro-packs/archive/lp/index.json'))).rejects.toThrow();
  });
});

describe("Harbor's repository list naming repositories no registry may hold", () => {
  it('list and copy --all show the packs and leave those out, as for a catalog (was: exit 2, as if the user had typed them)', async () => {
    await onHostile('hb');
    const names = ['h/spectro-packs/archive/hb', 'h/spectro-packs/archive/../x', 'h/spectro-packs/archive/Evil\u001b[2J', 'h/spectro-packs/archive/a//b'];
    w.hostile.behaviour = {
      answer: (r): HostileAnswer | undefined =>
        r.path === '/api/v2.0/systeminfo'
          ? { status: 200, headers: { 'content-type': 'application/json' }, body: '{"harbor_version":"v2.10.0"}' }
          : r.path === '/api/v2.0/projects/h/repositories'
            ? { status: 200, headers: { 'content-type': 'application/json', 'x-total-count': String(names.length) }, body: JSON.stringify(names.map((name) => ({ name }))) }
            : undefined,
    };
    const list = await runCli(['list', '--registry', w.H]);
    expectClean(list, 0);
    expect(list.stdout).toMatch(/hb +1\.0\.0/);
    expect(list.stdout).not.toMatch(/\u001b|x |Evil|a\/\/b/);
    const layout = join(w.root, `layout-${n++}`);
    const copy = await runCli(['copy', '--all', '--from', w.H, '--to', `oci:${layout}`]);
    expectClean(copy, 0);
    expect(copy.stdout).toContain('1 copied');
  });
});

describe('a listed tag whose manifest the registry does not serve', () => {
  it('is listed with a note saying so (was: shown as a version without digest, no word)', async () => {
    await onHostile('gone');
    onGet('/v2/h/spectro-packs/archive/gone/manifests/1.0.0', 404, '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
    const list = await runCli(['list', 'gone', '--registry', w.H]);
    expectClean(list, 0);
    expect(list.stderr).toContain(`note: gone:1.0.0 is listed, but ${w.hostile.host} serves no manifest for it; pull, inspect, tag and copy fail on it`);
    const json = await runCli(['list', 'gone', '--registry', w.H, '--json']);
    expectClean(json, 0);
    const doc = JSON.parse(json.stdout) as { packs: Array<{ versions: Array<{ version: string; digest?: string; notPack?: string }> }> };
    expect(doc.packs[0]?.versions).toEqual([expect.objectContaining({ version: '1.0.0', notPack: 'the tag is listed, but no manifest is served for it' })]);
  });
});

describe('a forced move or overwrite accepted and not kept', () => {
  it('tag --force and copy --force say the tag still holds what it held, not that another publisher moved it (exit 1 either way)', async () => {
    // ct:old holds other content than ct:1.0.0 (an empty artifact manifest pushed straight to the registry).
    const other = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST, config: (JSON.parse(w.manifest.toString()) as { config: unknown }).config, layers: [] }));
    expect((await fetch(`${w.registry.url}/v2/src/spectro-packs/archive/ct/manifests/old`, { method: 'PUT', headers: { 'content-type': MANIFEST }, body: other })).status).toBe(201);
    const dest = `dst${n++}`;
    // The destination's ct:1.0.0 holds it too: its config blob first (an upload), then the manifest.
    const started = await fetch(`${w.registry.url}/v2/${dest}/spectro-packs/archive/ct/blobs/uploads/`, { method: 'POST' });
    const location = new URL(started.headers.get('location') ?? '', w.registry.url);
    location.searchParams.set('digest', sha256(Buffer.from('{}')));
    expect((await fetch(location, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: '{}' })).status).toBe(201);
    expect((await fetch(`${w.registry.url}/v2/${dest}/spectro-packs/archive/ct/manifests/1.0.0`, { method: 'PUT', headers: { 'content-type': MANIFEST }, body: other })).status).toBe(201);
    // The proxy answers the manifest PUTs of ct 201 itself: the registry never sees them.
    w.proxy.onRequest = (r) => (r.method === 'PUT' && r.path.includes('/ct/manifests/') ? { status: 201, headers: { 'docker-content-digest': w.digest } } : 'pass');
    const tag = await runCli(['tag', 'ct:1.0.0', 'old', '--force', '--registry', `${w.proxy.host}/src`]);
    expectClean(tag, 1);
    expect(tag.stderr).toContain(`${w.proxy.host}/src/spectro-packs/archive/ct:old still holds ${sha256(other)} after the write was accepted (this run wrote ${w.digest})`);
    expect(tag.stderr).not.toContain('another publisher');
    const copy = await runCli(['copy', 'ct:1.0.0', '--force', '--from', `${w.registry.host}/src`, '--to', `${w.proxy.host}/${dest}`, '--json']);
    expect(copy.code, copy.stdout + copy.stderr).toBe(1);
    const says = `still holds ${sha256(other)} after the destination accepted it (this run wrote ${w.digest})`;
    expect((JSON.parse(copy.stdout) as { results: Array<{ status: string; error: { code: string } }> }).results[0]).toMatchObject({ status: 'failed', error: { code: 'REGISTRY', message: expect.stringContaining(says) } });
    expect(sha256((await w.reader.manifest('src/spectro-packs/archive/ct', 'old')) ?? Buffer.alloc(0))).toBe(sha256(other));
  });
});

describe('copy --json and --json-lines', () => {
  it('keep one line per failed version on stderr, as push does, so a CI log says why (was: nothing on stderr, exit 1)', async () => {
    w.proxy.onRequest = (r) =>
      r.method === 'GET' && r.path === '/v2/src/spectro-packs/archive/ct/manifests/1.0.0' ? { status: 400, headers: { 'content-type': 'application/json' }, body: '{"errors":[{"code":"UNSUPPORTED","message":"no \\u001b[2J today"}]}' } : 'pass';
    for (const format of ['--json', '--json-lines']) {
      const run = await runCli(['copy', 'ct:1.0.0', '--from', `${w.proxy.host}/src`, '--to', `oci:${join(w.root, `layout-${n++}`)}`, format]);
      expectClean(run, 1);
      // One line, the registry's words shown (U+001B), never sent to the terminal.
      expect(run.stderr).toMatch(new RegExp(`^FAILED ct:1\\.0\\.0: ${w.proxy.host} answered 400 UNSUPPORTED: no U\\+001B\\[2J today \\(GET [^\\n]*\\)( \\(hint: [^\\n]*\\))?\\n$`));
    }
  });
});
