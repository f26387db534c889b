import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HOSTILE_TOKEN, startHostileRegistry, type HostileAnswer } from '../support/hostile-registry.js';
import { runCli, type CliRun } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { stackLines } from '../support/secrets.js';
import { expectReportValid } from '../support/report-schema.js';
import { listenOnLoopback, sendJson } from '../support/loopback.js';
import { setup } from '../support/stage.js';

/*
 * The write side (push, tag, copy's destination, delete) and the auth flows against answers the other hostile tests
 * (hostile-registry, hostile-reads, fuzz-registry, registry-token) do not give: upload sessions whose
 * Location leads to another server or is missing, upload and manifest answers naming another digest,
 * success statuses where another is due, token answers of odd shapes, challenges packpub cannot answer.
 * Each run ends with the right exit code and a clear message, the registry holding what the message
 * claims, no stack, and no credential in any output or sent to another server.
 */

const PASSWORD = 'pw-Writes-Secret-7';
const LOGIN = ['--username', 'robot', '--password-stdin'];
const BASE = 'evil/spectro-packs/archive';

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-hostile-writes-');
  const hostile = stack.add(await startHostileRegistry({}));
  const other = stack.add(await startHostileRegistry({}));
  return { root, hostile, other, R: `${hostile.host}/evil` };
});

let n = 0;
/** A new pack folder: hello-<n>:1.0.0. */
async function freshPack(): Promise<{ dir: string; name: string }> {
  const name = `hello-${n++}`;
  return { dir: await writePack(join(w.root, name), { name, version: '1.0.0' }), name };
}
type Req = { method: string; path: string; query: URLSearchParams; authorization: string | undefined };
async function answering<T>(answer: (r: Req) => HostileAnswer | undefined, run: () => Promise<T>, extra: object = {}): Promise<T> {
  w.hostile.behaviour = { ...extra, answer };
  try {
    return await run();
  } finally {
    w.hostile.behaviour = {};
  }
}
const push = (dir: string, more: string[] = []) => runCli(['push', dir, '--registry', w.R, '--no-cache', ...more]);
const pushLogged = (dir: string, more: string[] = []) => runCli(['push', dir, '--registry', w.R, '--no-cache', ...LOGIN, ...more], { stdin: PASSWORD });
function expectClear(run: CliRun, code: number, says: string | RegExp): void {
  expect(run.code, run.stderr).toBe(code);
  if (typeof says === 'string') expect(run.stderr).toContain(says);
  else expect(run.stderr).toMatch(says);
  expect(stackLines(run.stderr)).toEqual([]);
  expect(`${run.stdout}${run.stderr}`).not.toContain(PASSWORD);
  expect(`${run.stdout}${run.stderr}`).not.toContain(HOSTILE_TOKEN);
}
/** The tag hello-<n>:1.0.0 on the hostile registry: its manifest digest, or undefined. */
async function tagOf(name: string): Promise<string | undefined> {
  const res = await fetch(`${w.hostile.url}/v2/${BASE}/${name}/manifests/1.0.0`, { method: 'HEAD' });
  return res.status === 200 ? (res.headers.get('docker-content-digest') ?? '') : undefined;
}
const isUploadPost = (r: Req) => r.method === 'POST' && r.path.endsWith('/blobs/uploads/');

const OTHER = `sha256:${'0'.repeat(64)}`;
const ownUploadPut = (name: string) => (r: Req) => r.method === 'PUT' && r.path.includes(`/${name}/blobs/uploads/`);

describe('upload answers', () => {
  it('an upload PUT answered 201 naming another digest fails the pack, untagged (was: exit 0, tagged)', async () => {
    const p = await freshPack();
    const run = await answering((r) => (ownUploadPut(p.name)(r) ? { status: 201, headers: { 'docker-content-digest': OTHER } } : undefined), () => push(p.dir));
    expectClear(run, 1, new RegExp(`^FAILED ${p.name}:1\\.0\\.0: ${w.hostile.host} answered the upload of blob sha256:[0-9a-f]{64} to ${BASE}/${p.name} naming another digest \\(${OTHER}\\)$`, 'm'));
    expect(run.stderr).toContain('hint: the registry or a proxy in front of it stored other content than packpub sent');
    expect(await tagOf(p.name)).toBeUndefined();
  });

  it('a mount answered 201 naming another digest fails the pack, untagged (was: exit 0, tagged)', async () => {
    const p = await freshPack();
    const run = await answering((r) => (isUploadPost(r) && r.query.has('mount') ? { status: 201, headers: { 'docker-content-digest': OTHER } } : undefined), () => push(p.dir));
    expectClear(run, 1, `naming another digest (${OTHER})`);
    expect(await tagOf(p.name)).toBeUndefined();
  });

  it('a Location on another server gets the bytes without the credentials; the 404 there names the Location (held)', async () => {
    const p = await freshPack();
    const away = `${w.other.url}/v2/${BASE}/${p.name}/blobs/uploads/elsewhere`;
    const since = w.other.requests.length;
    const run = await answering(
      (r) => (isUploadPost(r) ? { status: 202, headers: { location: away } } : undefined),
      () => pushLogged(p.dir, ['--retry-attempts', '1']),
      { users: { robot: PASSWORD } },
    );
    expectClear(run, 1, `${w.hostile.host} started an upload, then answered 404 at the upload Location it gave ("${away}"`);
    const there = w.other.requests.slice(since);
    expect(there.length).toBeGreaterThan(0);
    expect(there.map((r) => r.authorization)).toEqual(there.map(() => undefined));
    expect(await tagOf(p.name)).toBeUndefined();
  });

  it("a relative Location leading nowhere: the message quotes it with its upload state masked, as every URL packpub prints (was: distribution's signed `_state` raw)", async () => {
    const p = await freshPack();
    const state = 'c2lnbmVkLXVwbG9hZC1zdGF0ZS1vZi1hLXNlc3Npb24';
    const relative = `/v2/${BASE}/${p.name}/blobs/uploads/gone-session?_state=${state}`;
    const run = await answering((r) => (isUploadPost(r) ? { status: 202, headers: { location: relative } } : undefined), () => push(p.dir, ['--retry-attempts', '1']));
    expectClear(run, 1, `${w.hostile.host} started an upload, then answered 404 at the upload Location it gave ("/v2/${BASE}/${p.name}/blobs/uploads/gone-session?_state=***"`);
    expect(run.stdout + run.stderr).not.toContain(state);
    expect(await tagOf(p.name)).toBeUndefined();
  });

  it('a Location on another server that accepts the bytes: the registry is asked whether it holds them (was: exit 0, tagged over a blob it lacks)', async () => {
    const p = await freshPack();
    const sessions: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${w.other.url}/v2/${BASE}/${p.name}/blobs/uploads/`, { method: 'POST' });
      sessions.push(new URL(res.headers.get('location') ?? '', w.other.url).href);
    }
    const since = w.other.requests.length;
    const run = await answering(
      (r) => (isUploadPost(r) && !r.query.has('mount') && r.path.includes(`/${p.name}/`) ? { status: 202, headers: { location: sessions.shift() ?? '' } } : undefined),
      () => pushLogged(p.dir, ['--retry-attempts', '1']),
      { users: { robot: PASSWORD } },
    );
    expectClear(run, 1, new RegExp(`${w.hostile.host} sent the upload of blob sha256:[0-9a-f]{64} to another server \\(${w.other.url}\\), which accepted it, but ${w.hostile.host} does not hold it`));
    const there = w.other.requests.slice(since);
    expect(there.filter((r) => r.method === 'PUT' && r.status === 201).length).toBeGreaterThan(0);
    expect(there.map((r) => r.authorization)).toEqual(there.map(() => undefined));
    expect(await tagOf(p.name)).toBeUndefined();
  });

  it('a HEAD saying it holds a blob it lacks, on a registry that takes manifests naming blobs it lacks: the blob is read, sent, exit 0 with every blob there (was: exit 0, tagged over a missing layer)', async () => {
    const name = `hello-${n++}`;
    const dir = await writePack(join(w.root, name), { name, version: '1.0.0', files: { 'payload.bin': randomBytes(1_200_000) } });
    const run = await answering(
      (r) => (r.method === 'HEAD' && r.path.includes(`/${name}/blobs/sha256:`) ? { status: 200, headers: { 'content-length': '2' } } : undefined),
      () => push(dir),
    );
    expectClear(run, 0, '');
    expect(run.stdout).toContain('1 published');
    const manifest = (await (await fetch(`${w.hostile.url}/v2/${BASE}/${name}/manifests/1.0.0`)).json()) as { config: { digest: string }; layers: Array<{ digest: string }> };
    for (const { digest } of [manifest.config, ...manifest.layers]) expect((await fetch(`${w.hostile.url}/v2/${BASE}/${name}/blobs/${digest}`, { method: 'HEAD' })).status).toBe(200);
  });

  it('an upload PUT answered 201 naming neither a Location nor a digest, keeping nothing: exit 1, untagged (was: exit 0, tagged over missing blobs)', async () => {
    const p = await freshPack();
    const since = w.hostile.requests.length;
    const run = await answering((r) => (ownUploadPut(p.name)(r) ? { status: 201 } : undefined), () => push(p.dir, ['--retry-attempts', '1']));
    expectClear(run, 1, new RegExp(`^FAILED ${p.name}:1\\.0\\.0: ${w.hostile.host} answered 201 to the upload of blob sha256:[0-9a-f]{64} to ${BASE}/${p.name} without a Location or a digest, and does not hold that blob$`, 'm'));
    expect(run.stderr).toContain('hint: the registry or a proxy in front of it says it stored the blob, and did not');
    expect(await tagOf(p.name)).toBeUndefined();
    // Asked once per such answer (a HEAD), not for answers that say where the blob is.
    expect(w.hostile.requests.slice(since).filter((r) => r.method === 'HEAD' && r.path.includes(`/${p.name}/blobs/`)).map((r) => r.status)).toEqual([404]);
  });

  it('an upload PUT answered 201 without a Location by a registry that holds the blob: asked, exit 0, every blob there', async () => {
    const p = await freshPack();
    // A first run leaves the blobs in the repository (its manifest refused); the second's uploads are answered 201 bare.
    const first = await answering((r) => (r.method === 'PUT' && r.path.endsWith(`/${p.name}/manifests/1.0.0`) ? { status: 400 } : undefined), () => push(p.dir));
    expect(first.code, first.stderr).toBe(1);
    const since = w.hostile.requests.length;
    const run = await answering((r) => (ownUploadPut(p.name)(r) ? { status: 201 } : undefined), () => push(p.dir));
    expectClear(run, 0, '');
    expect(run.stdout).toContain('1 published');
    const heads = w.hostile.requests.slice(since).filter((r) => r.method === 'HEAD' && r.path.includes(`/${p.name}/blobs/`));
    expect(heads.map((r) => r.status)).toEqual([200, 200]);
    const manifest = (await (await fetch(`${w.hostile.url}/v2/${BASE}/${p.name}/manifests/1.0.0`)).json()) as { config: { digest: string }; layers: Array<{ digest: string }> };
    for (const { digest } of [manifest.config, ...manifest.layers]) expect((await fetch(`${w.hostile.url}/v2/${BASE}/${p.name}/blobs/${digest}`, { method: 'HEAD' })).status).toBe(200);
  });

  it('push --tag whose extra tag is refused after the version was written: failed, saying the version is published, with its digest (was: "failed", no digest, uploadedBytes 0)', async () => {
    const p = await freshPack();
    const refusing = (r: Req) => (r.method === 'PUT' && r.path.endsWith(`/${p.name}/manifests/stable`) ? { status: 500 } : undefined);
    const run = await answering(refusing, () => push(p.dir, ['--tag', 'stable', '--retry-attempts', '1', '--json']));
    expect(run.code, run.stderr).toBe(1);
    const held = await tagOf(p.name);
    expect(held).toMatch(/^sha256:[0-9a-f]{64}$/);
    const ref = `${w.R}/spectro-packs/archive/${p.name}:1.0.0`;
    expectReportValid(JSON.parse(run.stdout));
    const [result] = (JSON.parse(run.stdout) as { results: Array<{ status: string; digest?: string; uploadedBytes: number; error: { code: string; message: string } }> }).results;
    expect(result?.status).toBe('failed');
    expect(result?.digest).toBe(held);
    expect(result?.uploadedBytes).toBeGreaterThan(0);
    expect(result?.error.code).toBe('REGISTRY');
    expect(result?.error.message).toBe(`${ref} was published (${held}), but not every extra tag was written: ${w.hostile.host} answered 500 (PUT ${w.hostile.url}/v2/${BASE}/${p.name}/manifests/stable)`);
    expect(run.stderr).toContain(`${ref} was published (${held}), but not every extra tag was written`);
    expect((await fetch(`${w.hostile.url}/v2/${BASE}/${p.name}/manifests/stable`, { method: 'HEAD' })).status).toBe(404);
    // The re-run finds the version unchanged and writes the tag.
    const again = await push(p.dir, ['--tag', 'stable']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('1 unchanged');
    expect((await fetch(`${w.hostile.url}/v2/${BASE}/${p.name}/manifests/stable`, { method: 'HEAD' })).headers.get('docker-content-digest')).toBe(held);
  });

  it('an upload started without a Location is a clear error, untagged (held)', async () => {
    const p = await freshPack();
    const run = await answering((r) => (isUploadPost(r) && !r.query.has('mount') ? { status: 202 } : undefined), () => push(p.dir));
    expectClear(run, 1, `FAILED ${p.name}:1.0.0: ${w.hostile.host} started an upload but sent no Location header`);
    expect(await tagOf(p.name)).toBeUndefined();
  });

  it('a mount answered 202 without a Location ("not mounted", nowhere to upload) falls back to an upload (was: the pack failed)', async () => {
    const p = await freshPack();
    const since = w.hostile.requests.length;
    const run = await answering((r) => (isUploadPost(r) && r.query.has('mount') ? { status: 202 } : undefined), () => push(p.dir));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^published ${p.name}:1\\.0\\.0 `, 'm'));
    expect(stackLines(run.stderr)).toEqual([]);
    const posts = w.hostile.requests.slice(since).filter((r) => r.method === 'POST' && r.path.startsWith(`/v2/${BASE}/${p.name}/blobs/uploads/`));
    // The config's mount was answered 202 without a Location, then each blob (config, layer) got an upload of its own.
    expect(posts.map((r) => [r.path.includes('?mount=') ? 'mount' : 'upload', r.status])).toEqual([
      ['mount', 202],
      ['upload', 202],
      ['upload', 202],
    ]);
    expect(await tagOf(p.name)).toMatch(/^sha256:[0-9a-f]{64}$/);
    const pulled = await runCli(['inspect', `${p.name}:1.0.0`, '--registry', w.R, '--json']);
    expect(pulled.code, pulled.stderr).toBe(0);
  });

  it('a 200 where an upload answers 202 or 201 is named as such, untagged (held)', async () => {
    for (const which of ['POST', 'PUT']) {
      const p = await freshPack();
      const run = await answering((r) => ((which === 'POST' ? isUploadPost(r) : ownUploadPut(p.name)(r)) ? { status: 200 } : undefined), () => push(p.dir));
      expectClear(run, 1, new RegExp(`${w.hostile.host} answered 200 to ${which} \\S+, a status a registry does not give to this request`));
      expect(await tagOf(p.name)).toBeUndefined();
    }
  });

  it('a manifest PUT answered 201 naming another digest is an error naming both (held)', async () => {
    const p = await freshPack();
    const run = await answering((r) => (r.method === 'PUT' && r.path.endsWith(`/${p.name}/manifests/1.0.0`) ? { status: 201, headers: { 'docker-content-digest': OTHER } } : undefined), () => push(p.dir));
    expectClear(run, 1, new RegExp(`stored the manifest for ${BASE}/${p.name}:1\\.0\\.0 as ${OTHER}, expected sha256:[0-9a-f]{64}`));
  });

  it('a 201, then the tag reading back other content, is a conflict naming both digests (held)', async () => {
    const p = await freshPack();
    let written = false;
    // What another publisher's manifest would be, served (GET, its digest matching) once this run has written.
    const theirs = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: `sha256:${'4'.repeat(64)}`, size: 2 }, layers: [] }));
    const digest = `sha256:${createHash('sha256').update(theirs).digest('hex')}`;
    const run = await answering((r) => {
      if (r.method === 'PUT' && r.path.endsWith(`/${p.name}/manifests/1.0.0`)) written = true;
      if (!written || !r.path.endsWith(`/${p.name}/manifests/1.0.0`) || (r.method !== 'GET' && r.method !== 'HEAD')) return undefined;
      return { status: 200, headers: { 'docker-content-digest': digest, 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: r.method === 'GET' ? theirs : '' };
    }, () => push(p.dir));
    expect(written).toBe(true);
    expectClear(run, 1, new RegExp(`${p.name}:1\\.0\\.0 was replaced by another publisher during this run \\(it holds ${digest}, this run wrote sha256:[0-9a-f]{64}\\)`));
  });

  it('copy into the registry and tag: the same answers end the same way, nothing tagged', async () => {
    const p = await freshPack();
    const layout = join(w.root, `layout-${p.name}`);
    expectClear(await runCli(['push', p.dir, '--oci-layout', layout]), 0, '');
    const copy = await answering((r) => (ownUploadPut(p.name)(r) ? { status: 201, headers: { 'docker-content-digest': OTHER } } : undefined), () =>
      runCli(['copy', `${p.name}:1.0.0`, '--from', `oci:${layout}`, '--to', w.R]),
    );
    expectClear(copy, 1, `${w.hostile.host} answered the upload of blob`);
    expect(copy.stderr).toContain(`naming another digest (${OTHER})`);
    expect(await tagOf(p.name)).toBeUndefined();
    expectClear(await push(p.dir), 0, '');
    const tag = await answering((r) => (r.method === 'PUT' && r.path.endsWith(`/${p.name}/manifests/1.0.x`) ? { status: 401, headers: { 'www-authenticate': 'Negotiate' } } : undefined), () =>
      runCli(['tag', `${p.name}:1.0.0`, '1.0.x', '--registry', w.R, ...LOGIN], { stdin: PASSWORD }),
    );
    expectClear(tag, 1, `${w.hostile.host} asks for authentication packpub cannot give (it challenges negotiate) for ${BASE}/${p.name}`);
    expect((await fetch(`${w.hostile.url}/v2/${BASE}/${p.name}/manifests/1.0.x`, { method: 'HEAD' })).status).toBe(404);
  });

  it('delete: a 202 that deleted nothing, or a Negotiate challenge, is exit 1 and the version stays (held)', async () => {
    const p = await freshPack();
    expectClear(await push(p.dir), 0, '');
    const held = await tagOf(p.name);
    const cases: Array<[HostileAnswer, string]> = [
      [{ status: 202 }, `FAILED ${p.name}:1.0.0: ${w.R}/spectro-packs/archive/${p.name}:1.0.0 still resolves after it was deleted`],
      [{ status: 401, headers: { 'www-authenticate': 'Negotiate' } }, `FAILED ${p.name}:1.0.0: ${w.hostile.host} asks for authentication packpub cannot give (it challenges negotiate)`],
    ];
    for (const [answer, says] of cases) {
      const run = await answering((r) => (r.method === 'DELETE' ? answer : undefined), () => runCli(['delete', `${p.name}:1.0.0`, '--registry', w.R, '--force']));
      expectClear(run, 1, says);
      expect(run.stderr).toContain(`not deleted: ${p.name}:1.0.0`);
      expect(await tagOf(p.name)).toBe(held);
    }
  });

  it('a conflict with a tag holding an image index or a two-layer manifest names what it holds (was: "published layer unknown")', async () => {
    const index = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] };
    const layer = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: OTHER, size: 1 };
    const twoLayers = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: OTHER, size: 2 }, layers: [layer, layer] };
    const cases: Array<[object, string]> = [
      [index, 'it holds an image index (0 manifests, e.g. a multi-platform image), not an image manifest'],
      [twoLayers, 'its manifest has 2 layers (a pack has exactly one)'],
    ];
    for (const [doc, says] of cases) {
      const p = await freshPack();
      const type = (doc as { mediaType: string }).mediaType;
      const held = w.hostile.putManifest(`${BASE}/${p.name}`, '1.0.0', Buffer.from(JSON.stringify(doc)), type);
      const run = await push(p.dir);
      expectClear(run, 1, new RegExp(`^CONFLICT ${p.name}:1\\.0\\.0: ${w.R}/spectro-packs/archive/${p.name}:1\\.0\\.0 already holds different content \\(not a pack: ${says.replace(/[()]/g, '\\$&')}, this build sha256:[0-9a-f]{64}\\)$`, 'm'));
      expect(run.stderr).not.toContain('unknown');
      expect(await tagOf(p.name)).toBe(held);
    }
  });
});

describe('auth answers', () => {
  it('a challenge packpub cannot answer is named, not "authentication required ... pass --username" (was: so, with --username given)', async () => {
    const cases: Array<[string | undefined, string]> = [
      ['Negotiate', 'it challenges negotiate'],
      ['Digest realm="x", nonce="1"', 'it challenges digest'],
      [undefined, 'its 401 names no WWW-Authenticate challenge'],
      ['Bearer realm="ftp://127.0.0.1/token"', 'a Bearer challenge whose realm is a ftp: URL'],
    ];
    for (const [challenge, says] of cases) {
      const p = await freshPack();
      const headers: Record<string, string> = challenge === undefined ? {} : { 'www-authenticate': challenge };
      const run = await answering(() => ({ status: 401, headers, body: '{"errors":[{"code":"UNAUTHORIZED","message":"no"}]}' }), () => pushLogged(p.dir));
      expectClear(run, 1, `${w.hostile.host} asks for authentication packpub cannot give (${says}) for ${BASE}/${p.name}`);
      expect(run.stderr).toContain('hint: packpub answers Basic and Bearer (token service) challenges');
      expect(run.stderr).not.toContain('pass --username');
      expect(await tagOf(p.name)).toBeUndefined();
    }
  });

  it('an unknown challenge without credentials is named too (was: "authentication required"); a bare 401 still asks for credentials', async () => {
    const p = await freshPack();
    const negotiate = await answering(() => ({ status: 401, headers: { 'www-authenticate': 'Negotiate' } }), () => push(p.dir));
    expectClear(negotiate, 1, `asks for authentication packpub cannot give (it challenges negotiate)`);
    const bare = await answering(() => ({ status: 401 }), () => push(p.dir));
    expectClear(bare, 1, `authentication required by ${w.hostile.host}`);
    expect(bare.stderr).toContain('pass --username');
  });

  it('insufficient_scope on every push request after a fresh token ends, naming push permission (held)', async () => {
    const p = await freshPack();
    const since = w.hostile.requests.length;
    const challenge = `Bearer realm="${w.hostile.url}/token",service="hostile",scope="repository:${BASE}/${p.name}:pull,push",error="insufficient_scope"`;
    const run = await answering((r) => (r.method === 'POST' || r.method === 'PUT' ? { status: 401, headers: { 'www-authenticate': challenge } } : undefined), () => pushLogged(p.dir), { bearer: {} });
    expectClear(run, 1, `FAILED ${p.name}:1.0.0: credentials rejected or no push permission on ${BASE}/${p.name}`);
    expect(w.hostile.requests.length - since).toBeLessThan(40);
    expect(await tagOf(p.name)).toBeUndefined();
  });

  it('a token service rate limiting (429, Retry-After: 2) for its first answers: waited as asked, published (was: retried at once, "answered 429 after 3 attempts", exit 1)', async () => {
    const p = await freshPack();
    let first: number | undefined;
    const asked: number[] = [];
    const realm = await listenOnLoopback(
      createServer((req, res) => {
        const now = Date.now();
        first ??= now;
        asked.push(now - first);
        // Rate limited for 1.5 s from the first request: Retry-After (2 s) says when to come back.
        if (now - first < 1_500) return sendJson(res, 429, { errors: [{ code: 'TOOMANYREQUESTS', message: 'rate limited' }] }, { 'retry-after': '2' });
        sendJson(res, 200, { token: HOSTILE_TOKEN });
      }),
    );
    try {
      const run = await answering(() => undefined, () => pushLogged(p.dir, ['--retry-delay', '0', '--retry-attempts', '3']), { bearer: { realm: `${realm.url}/token` } });
      expectClear(run, 0, '');
      expect(await tagOf(p.name)).toMatch(/^sha256:/);
      // The second token request came when Retry-After said, not at once.
      expect(asked[1]).toBeGreaterThanOrEqual(1_900);
    } finally {
      await realm.close();
    }
  });

  it('token answers: access_token only, expires_in 0, negative or huge push; HTML or no token are clear errors (held)', async () => {
    const token = (extra: string) => `{"token":"${HOSTILE_TOKEN}"${extra}}`;
    const good = [`{"access_token":"${HOSTILE_TOKEN}"}`, token(',"expires_in":0'), token(',"expires_in":-3'), token(',"expires_in":1e308'), token(',"expires_in":1e400')];
    for (const tokenBody of good) {
      const p = await freshPack();
      w.hostile.behaviour = { bearer: { tokenBody } };
      const run = await pushLogged(p.dir);
      w.hostile.behaviour = {};
      expectClear(run, 0, '');
      expect(await tagOf(p.name), tokenBody).toMatch(/^sha256:/);
    }
    const bad: Array<[string, string]> = [
      ['<html><body>sign in</body></html>', 'answered with something that is not JSON (33 bytes, application/json)'],
      ['{"token":""}', 'answered without a token'],
      ['[]', 'answered without a token'],
    ];
    for (const [tokenBody, says] of bad) {
      const p = await freshPack();
      w.hostile.behaviour = { bearer: { tokenBody } };
      const run = await pushLogged(p.dir);
      w.hostile.behaviour = {};
      expectClear(run, 1, `FAILED ${p.name}:1.0.0: token service ${w.hostile.host} ${says}`);
      expect(await tagOf(p.name)).toBeUndefined();
    }
  });
});
