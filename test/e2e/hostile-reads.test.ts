import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { startHostileRegistry, type HostileAnswer } from '../support/hostile-registry.js';
import { runCli, type CliRun } from '../support/cli.js';
import { craftTar, type CraftEntry } from '../support/files.js';
import { writePack } from '../support/packs.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';

/*
 * The read commands (list, inspect, pull, copy's source, tag, delete) against answers the other hostile tests
 * (hostile-registry.test.ts, fuzz-registry.test.ts, redirect-blobs.test.ts) do not give: other bytes under a
 * layer's digest, blobs longer or shorter without a Content-Length, names no registry may hold, an index or
 * extra layers where a pack's manifest belongs, lists redirected to another server, archives that reach out
 * of the pull's folder, a HEAD that names another digest than the manifest's bytes, and control characters
 * meant for the terminal. Each run ends with a clear message (or a correct success), never a stack, a hang,
 * or anything written outside its target.
 */

const REPO = 'evil/spectro-packs/archive/hello';
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
const ESC = '\u001b';
const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-hostile-reads-');
  const hostile = stack.add(await startHostileRegistry({}));
  const other = stack.add(await startHostileRegistry({}));
  const R = `${hostile.host}/evil`;
  const pack = await writePack(join(root, 'p'), { name: 'hello', version: '1.0.0' });
  const push = await runCli(['push', pack, '--registry', R]);
  if (push.code !== 0) throw new Error(push.stderr);
  const manifest = Buffer.from(await (await fetch(`${hostile.url}/v2/${REPO}/manifests/1.0.0`, { headers: { accept: MANIFEST_TYPE } })).arrayBuffer());
  const doc = JSON.parse(manifest.toString()) as { config: unknown; layers: Array<{ digest: string; size: number }>; annotations?: Record<string, string> };
  const layer = doc.layers[0]?.digest ?? '';
  const blob = Buffer.from(await (await fetch(`${hostile.url}/v2/${REPO}/blobs/${layer}`)).arrayBuffer());
  return { root, hostile, other, R, manifest, doc, layer, blob };
});

let n = 0;
const fresh = (what: string) => join(w.root, `${what}-${n++}`);
/** The test's own answer to the requests `matches` picks, for the length of `run`. */
async function answering<T>(answer: (r: { method: string; path: string; query: URLSearchParams; authorization: string | undefined }) => HostileAnswer | undefined, run: () => Promise<T>): Promise<T> {
  w.hostile.behaviour = { answer };
  try {
    return await run();
  } finally {
    w.hostile.behaviour = {};
  }
}
function expectClear(run: CliRun, code: number, says: string | RegExp): void {
  expect(run.code, run.stderr).toBe(code);
  if (typeof says === 'string') expect(run.stderr).toContain(says);
  else expect(run.stderr).toMatch(says);
  expect(stackLines(run.stderr)).toEqual([]);
}
/** pull, inspect and copy of hello:<tag>: each refused with `says`; the pull folder and the copy's layout hold nothing of it. */
async function readsRefused(tag: string, says: string | RegExp): Promise<void> {
  const out = fresh('pulled');
  const layout = fresh('copied');
  expectClear(await runCli(['pull', `hello:${tag}`, '--registry', w.R, '-o', out]), 1, says);
  expectClear(await runCli(['inspect', `hello:${tag}`, '--registry', w.R]), 1, says);
  expectClear(await runCli(['copy', `hello:${tag}`, '--from', w.R, '--to', `oci:${layout}`]), 1, says);
  await expect(readdir(out)).rejects.toThrow();
  expect((await runCli(['list', 'hello', '--oci-layout', layout])).stdout).not.toContain(tag);
  expect((await readdir(w.root)).filter((f) => f.includes('.packpub-'))).toEqual([]);
}
/** Store `gz` as the one layer of hello:<tag>, with the real manifest's config; more manifest fields from `extra`. */
function publish(tag: string, gz: Buffer, extra: Record<string, unknown> = {}): void {
  const digest = w.hostile.putBlob(REPO, gz);
  const doc = { ...w.doc, layers: [{ ...w.doc.layers[0], digest, size: gz.length }], ...extra };
  w.hostile.putManifest(REPO, tag, Buffer.from(JSON.stringify(doc)), MANIFEST_TYPE);
}
const tgzOf = async (entries: CraftEntry[]): Promise<Buffer> => gzipSync(await craftTar(entries));

describe('blobs that are not what the manifest says', () => {
  const layerGet = (r: { method: string; path: string }) => r.method === 'GET' && r.path === `/v2/${REPO}/blobs/${w.layer}`;

  it('other bytes of the same length under the layer digest', async () => {
    await answering((r) => (layerGet(r) ? { status: 200, body: Buffer.alloc(w.blob.length, 0x41) } : undefined), () =>
      readsRefused('1.0.0', new RegExp(`blob ${w.layer} does not match its digest \\(got sha256:[0-9a-f]{64}\\)`)),
    );
  });

  it.each([
    ['longer', (res: import('node:http').ServerResponse) => res.end(Buffer.concat([w.blob, Buffer.alloc(5000, 0x42)])), 'is longer than the'],
    ['shorter', (res: import('node:http').ServerResponse) => res.end(w.blob.subarray(0, w.blob.length - 10)), 'bytes, its descriptor says'],
  ])('a body %s than its descriptor, sent without a Content-Length', async (_how, send, says) => {
    await answering((r) => (layerGet(r) ? { status: 200, body: send } : undefined), () => readsRefused('1.0.0', says));
  });
});

describe('what stands where a pack manifest belongs', () => {
  it('an image index: "is not a pack: it holds an image index" for pull, inspect, copy and tag (was: "manifest is not an OCI image manifest")', async () => {
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: MANIFEST_TYPE, digest: sha256(w.manifest), size: w.manifest.length }] }));
    w.hostile.putManifest(REPO, '2.0.0', index, 'application/vnd.oci.image.index.v1+json');
    const says = `${w.R}/spectro-packs/archive/hello:2.0.0 is not a pack: it holds an image index (1 manifest, e.g. a multi-platform image), not an image manifest`;
    await readsRefused('2.0.0', says);
    expectClear(await runCli(['tag', 'hello:2.0.0', 'idx', '--registry', w.R]), 1, says);
    expect((await runCli(['list', 'hello', '--registry', w.R, '--json'])).stdout).not.toContain('"idx"');
    // list and copy --all name it so too (was: "not an OCI image manifest").
    const list = await runCli(['list', 'hello', '--registry', w.R]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stderr).toContain('note: hello:2.0.0 is not a pack (an image index of 1 manifest); pull, inspect, tag and copy refuse it');
    const listed = JSON.parse((await runCli(['list', 'hello', '--registry', w.R, '--json'])).stdout) as { packs: Array<{ versions: Array<{ version: string; notPack?: string }> }> };
    expect(listed.packs[0]?.versions.find((v) => v.version === '2.0.0')?.notPack).toBe('an image index of 1 manifest');
    const layout = fresh('copied-all');
    const copy = await runCli(['copy', 'hello', '--all', '--from', w.R, '--to', `oci:${layout}`]);
    expect(copy.stderr).toContain(`skipped hello:2.0.0: ${w.R}/spectro-packs/archive/hello:2.0.0 is not a pack (an image index of 1 manifest); --all leaves it out`);
    expect((await runCli(['list', 'hello', '--oci-layout', layout, '--json'])).stdout).not.toContain('"2.0.0"');
  });

  it('a manifest with an extra layer: copy refuses it as pull and inspect do (was: copied, exit 0)', async () => {
    const extra = w.hostile.putBlob(REPO, Buffer.from('extra'));
    const doc = { ...w.doc, layers: [...w.doc.layers, { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: extra, size: 5 }] };
    w.hostile.putManifest(REPO, '3.0.0', Buffer.from(JSON.stringify(doc)), MANIFEST_TYPE);
    await readsRefused('3.0.0', `${w.R}/spectro-packs/archive/hello:3.0.0 is not a pack: its manifest has 2 layers (a pack has exactly one)`);
  });

  it.each<[string, (other: Record<string, unknown>) => Record<string, unknown>, string, string]>([
    ['"LAYERS" after "layers"', (other) => ({ ...w.doc, LAYERS: [other] }), 'manifest', '"LAYERS", which Go\'s JSON reader (Palette\'s, the registry\'s) reads as "layers"'],
    ['"layer\u017f" (a long s) after "layers"', (other) => ({ ...w.doc, ['layer\u017f']: [other] }), 'manifest', '"layer\u017f", which Go\'s JSON reader (Palette\'s, the registry\'s) reads as "layers"'],
    ['a layer\'s "Digest" after its "digest"', (other) => ({ ...w.doc, layers: [{ ...w.doc.layers[0], Digest: other['digest'] }] }), 'descriptor', '"Digest", which Go\'s JSON reader (Palette\'s, the registry\'s) reads as "digest"'],
  ])('a manifest key Go reads as a field it also has (%s): pull, inspect and copy refuse it (was: the exact key read, exit 0; Go, as skopeo and Palette read it, takes the later key: another layer)', async (_what, make, what, says) => {
    const tag = `fold-${n++}`;
    const other = { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: w.hostile.putBlob(REPO, gzipSync(Buffer.alloc(1024))), size: 0 };
    w.hostile.putManifest(REPO, tag, Buffer.from(JSON.stringify(make(other))), MANIFEST_TYPE);
    await readsRefused(tag, `${w.R}/spectro-packs/archive/hello:${tag} is not a pack: ${what} has a key ${says}: packpub would read another ${what} than Palette`);
    const pull = await runCli(['pull', `hello:${tag}`, '--registry', w.R, '-o', fresh('folded')]);
    expect(pull.stderr).toContain('hint: no tool writes a manifest so (a hand-made or hostile one): do not use this tag; ask its publisher to push the version again');
  });
});

describe('manifests Go reads otherwise than JSON.parse', () => {
  const size = () => w.doc.layers[0]?.size ?? 0;
  const layerAt = () => `"digest":"${w.layer}","size":${size()}`;
  // Each was pulled, inspected and copied, exit 0, while Go's encoding/json (the registry's, ORAS's, Palette's) refuses
  // the manifest or reads another one.
  it.each<[string, (text: string) => string, () => string]>([
    ['a layer size of 467.0', (t) => t.replace(layerAt(), `"digest":"${w.layer}","size":${size()}.0`), () => `manifest's layers[0].size is ${size()}.0, not an integer: Go's JSON reader (Palette's, ORAS's, the registry's) refuses the manifest`],
    ['a config size of 2e0', (t) => t.replace('"size":2}', '"size":2e0}'), () => "manifest's config.size is 2e0, not an integer"],
    ['schemaVersion 2.0', (t) => t.replace('"schemaVersion":2', '"schemaVersion":2.0'), () => "manifest's schemaVersion is 2.0, not an integer"],
    ['"layers" given twice (Go merges the first layer\'s annotations into the second)', (t) => t.replace('"layers":[', `"layers":[{"mediaType":"x","digest":"${w.layer}","size":1,"annotations":{"org.opencontainers.image.title":"other.tar.gz"}}],"layers":[`), () => 'manifest has the key "layers" twice, which Go\'s JSON reader (Palette\'s, the registry\'s) merges where packpub keeps the last'],
    ['a layer\'s "annotations" given twice', (t) => t.replace(layerAt(), `${layerAt()},"annotations":{"a":"b"}`), () => `manifest's layers[0] has the key "annotations" twice`],
    ['a manifest annotation that is a number', (t) => `${t.slice(0, t.lastIndexOf('"annotations":{'))}"annotations":{"n":1,${t.slice(t.lastIndexOf('"annotations":{') + '"annotations":{'.length)}`, () => `manifest's annotations "n" is not a string: Go's JSON reader (Palette's, ORAS's, the registry's) refuses the manifest`],
  ])('%s: pull, inspect and copy refuse it', async (_what, make, says) => {
    const tag = `go-${n++}`;
    const text = make(w.manifest.toString());
    expect(text).not.toBe(w.manifest.toString());
    w.hostile.putManifest(REPO, tag, Buffer.from(text), MANIFEST_TYPE);
    await readsRefused(tag, `${w.R}/spectro-packs/archive/hello:${tag} is not a pack: ${says()}`);
    const pull = await runCli(['pull', `hello:${tag}`, '--registry', w.R, '-o', fresh('go')]);
    expect(pull.stderr).toContain('hint: no tool writes a manifest so (a hand-made or hostile one): do not use this tag; ask its publisher to push the version again');
  });
});

describe('lists with names no registry may hold, and lists from elsewhere', () => {
  const json = (body: unknown): HostileAnswer => ({ status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('a catalog with "..", capitals and control characters: list shows the packs, leaves those out (was: exit 2, as if the user had typed them)', async () => {
    const names = [REPO, `${REPO}/../../../v2/x`, 'evil/spectro-packs/archive/UPPER', `evil/spectro-packs/archive/esc${ESC}]0;t`];
    const run = await answering((r) => (r.path === '/v2/_catalog' ? json({ repositories: names }) : undefined), () => runCli(['list', '--registry', w.R, '--json', '--debug']));
    expectClear(run, 0, /listed repository names that are not valid, left out: .*"evil\/spectro-packs\/archive\/UPPER"/);
    expect((JSON.parse(run.stdout) as { packs: Array<{ name: string }> }).packs.map((p) => p.name)).toEqual(['hello']);
    expect(w.hostile.requests.filter((r) => r.path.includes('..') || r.path.includes('UPPER'))).toEqual([]);
    expect(run.stderr).not.toContain(ESC);
  });

  it('a tag list with tags outside the grammar: list and delete --dry-run see the valid ones (was: exit 2, "reference ../x is not a valid OCI tag")', async () => {
    const tags = (r: { path: string }) => (r.path === `/v2/${REPO}/tags/list` ? json({ name: REPO, tags: ['1.0.0', '../../x', `e${ESC}[2J`, 'a'.repeat(200)] }) : undefined);
    const listed = await answering(tags, () => runCli(['list', 'hello', '--registry', w.R]));
    expectClear(listed, 0, '');
    expect(listed.stdout).toMatch(/^hello\s+1\.0\.0\s+sha256:/m);
    expect(listed.stdout).not.toContain('../');
    const planned = await answering(tags, () => runCli(['delete', 'hello:1.0.0', '--registry', w.R, '--dry-run']));
    expectClear(planned, 0, '');
    expect(planned.stdout).toContain(`would delete hello:1.0.0: ${w.R}/spectro-packs/archive/hello:1.0.0 (${sha256(w.manifest)})`);
  });

  it('tag pages that overlap list each version once (was: 1.1.0 twice in list --json, exit 0)', async () => {
    const tagsOf = `/v2/${REPO}/tags/list`;
    const run = await answering(
      (r) => {
        if (r.method !== 'GET' || r.path !== tagsOf) return undefined;
        // A page that starts again at the last tag of the one before (an off-by-one `last` in a registry or proxy).
        const first = r.query.get('last') === null;
        const headers: Record<string, string> = first ? { 'content-type': 'application/json', link: `<${tagsOf}?last=1.1.0>; rel="next"` } : { 'content-type': 'application/json' };
        return { status: 200, headers, body: JSON.stringify({ name: REPO, tags: first ? ['1.0.0', '1.1.0'] : ['1.1.0', '2.0.0'] }) };
      },
      () => runCli(['list', 'hello', '--registry', w.R, '--json']),
    );
    expectClear(run, 0, /^$/);
    const listed = (JSON.parse(run.stdout) as { packs: Array<{ versions: Array<{ version: string }> }> }).packs.flatMap((p) => p.versions.map((v) => v.version));
    expect(listed).toEqual(['1.0.0', '1.1.0', '2.0.0']);
  });

  it('a catalog page larger than 16 MiB is named as such (was: "something that is not JSON")', async () => {
    const endless = (res: import('node:http').ServerResponse) => {
      res.write('{"repositories":["');
      const pump = (): void => {
        while (!res.destroyed && res.write('a'.repeat(65_536)));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    };
    const run = await answering((r) => (r.path === '/v2/_catalog' ? { status: 200, headers: { 'content-type': 'application/json' }, body: endless } : undefined), () => runCli(['list', '--registry', w.R]));
    expectClear(run, 1, `error: ${w.hostile.host} answered /v2/_catalog with a page larger than 16 MiB`);
  });

  it('a tag list or catalog redirected to another server is refused (was: its tags listed as this registry\'s, exit 0); no credentials go there', async () => {
    w.other.behaviour = { answer: (r) => (r.path === '/v2/_catalog' ? json({ repositories: [REPO] }) : r.path.endsWith('/tags/list') ? json({ name: REPO, tags: ['6.6.6'] }) : undefined) };
    const since = w.other.requests.length;
    const login = ['-u', 'robot', '--password-stdin'];
    const redirect = (r: { path: string; authorization: string | undefined }): HostileAnswer | undefined =>
      r.authorization === undefined ? { status: 401, headers: { 'www-authenticate': 'Basic realm="hostile"' } } : r.path.endsWith('/tags/list') || r.path === '/v2/_catalog' ? { status: 302, headers: { location: `${w.other.url}${r.path}` } } : undefined;
    const tags = await answering(redirect, () => runCli(['list', 'hello', '--registry', w.R, ...login], { stdin: 'S3cret-pw\n' }));
    expectClear(tags, 1, `error: ${w.hostile.host} redirected tags of ${REPO} to another origin (${w.other.url})`);
    expect(tags.stdout).not.toContain('6.6.6');
    const catalog = await answering(redirect, () => runCli(['list', '--registry', w.R, ...login], { stdin: 'S3cret-pw\n' }));
    expectClear(catalog, 1, `error: ${w.hostile.host} redirected repository catalog to another origin (${w.other.url})`);
    expect(w.other.requests.slice(since).map((r) => r.authorization)).toEqual(w.other.requests.slice(since).map(() => undefined));
    w.other.behaviour = {};
  });

  it('a manifest redirected to another server is read there without the credentials', async () => {
    const since = w.other.requests.length;
    const run = await answering(
      (r): HostileAnswer | undefined => (r.authorization === undefined ? { status: 401, headers: { 'www-authenticate': 'Basic realm="hostile"' } } : r.path.endsWith('/manifests/1.0.0') ? { status: 307, headers: { location: `${w.other.url}${r.path}` } } : undefined),
      () => runCli(['inspect', 'hello:1.0.0', '--registry', w.R, '-u', 'robot', '--password-stdin'], { stdin: 'S3cret-pw\n' }),
    );
    expectClear(run, 1, `${w.R}/spectro-packs/archive/hello:1.0.0 does not exist`);
    const there = w.other.requests.slice(since);
    expect(there.map((r) => `${r.method} ${r.path}`)).toEqual([`GET /v2/${REPO}/manifests/1.0.0`]);
    expect(there[0]?.authorization).toBeUndefined();
  });
});

describe('annotations that are not strings', () => {
  it('a created time and a layer title that are a number and an object: list notes the tag, inspect refuses it, as Go refuses the manifest (was: a crash, "this is a bug in packpub"; then shown as absent, exit 0)', async () => {
    // Not a version: the archive's pack.json is version 1.0.0 (a version tag holding it would be refused).
    const tag = `odd-${n++}`;
    const layer = { ...w.doc.layers[0], annotations: { 'org.opencontainers.image.title': { evil: true } } };
    w.hostile.putManifest(REPO, tag, Buffer.from(JSON.stringify({ ...w.doc, layers: [layer], annotations: { 'org.opencontainers.image.created': 1700000000 } })), MANIFEST_TYPE);
    const why = `manifest's annotations "org.opencontainers.image.created" is not a string: Go's JSON reader (Palette's, ORAS's, the registry's) refuses the manifest`;
    const list = await runCli(['list', 'hello', '--registry', w.R]);
    expectClear(list, 0, `note: hello:${tag} is not a pack (not an OCI image manifest as Go reads it: ${why}); pull, inspect, tag and copy refuse it`);
    const listJson = await runCli(['list', 'hello', '--registry', w.R, '--json']);
    expect(listJson.code).toBe(0);
    const listed = (JSON.parse(listJson.stdout) as { packs: Array<{ versions: Array<{ version: string; notPack?: string }> }> }).packs[0]?.versions.find((v) => v.version === tag);
    expect(listed?.notPack).toBe(`not an OCI image manifest as Go reads it: ${why}`);
    expectClear(await runCli(['inspect', `hello:${tag}`, '--registry', w.R, '--json']), 1, `${w.R}/spectro-packs/archive/hello:${tag} is not a pack: ${why}`);
  });
});

describe('JSON nested without end', () => {
  // Built as text: JSON.stringify of such a value overflows the stack, which was the crash.
  const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;

  it('a pack.json of arrays in arrays: inspect and pull refuse it as no pack (was: "Maximum call stack size exceeded", a crash; then shown as none, exit 0)', async () => {
    const tag = `9.3.${n++}`;
    publish(tag, await tgzOf([{ name: 'hello/pack.json', content: `{"name":"hello","version":"${tag}","x":${deep(100_000)}}` }]));
    const says = `hello:${tag} is not a pack: the pack.json of its archive nests deeper than 64 levels`;
    for (const json of [[], ['--json']]) {
      const run = await runCli(['inspect', `hello:${tag}`, '--registry', w.R, ...json]);
      expectClear(run, 1, says);
      expect(run.stdout).toBe('');
    }
    const out = fresh('pulled');
    expectClear(await runCli(['pull', `hello:${tag}`, '--registry', w.R, '-o', out]), 1, says);
    await expect(readdir(out)).rejects.toThrow();
  });

  it('a manifest with a field of arrays in arrays: inspect refuses it as no pack (was: the same crash with --json)', async () => {
    const tag = `9.3.${n++}`;
    const plain = JSON.stringify(w.doc);
    w.hostile.putManifest(REPO, tag, Buffer.from(`${plain.slice(0, -1)},"extra":${deep(100_000)}}`), MANIFEST_TYPE);
    for (const json of [[], ['--json']]) {
      expectClear(await runCli(['inspect', `hello:${tag}`, '--registry', w.R, ...json]), 1, `error: ${w.R}/spectro-packs/archive/hello:${tag} is not a pack: its manifest nests deeper than 64 levels`);
    }
  });
});

describe('an archive that inflates without end', () => {
  it('inspect refuses a layer of gzipped zeros as pull does (was: inflated whole, exit 0; a 1 GiB layer would take hours)', async () => {
    const tag = `9.1.${n++}`;
    // A file of 20 MiB of zeros after pack.json: ~20 KiB once gzipped, over the 500:1 ratio once 16 MiB are inflated.
    // (Zeros after the tar's end marker are never inflated: Palette's reader stops at the marker, and so do pull and inspect.)
    const zeros = { name: 'hello/zeros.bin', content: Buffer.alloc(20 * 1024 * 1024) };
    publish(tag, gzipSync(await craftTar([{ name: 'hello/pack.json', content: '{"name":"hello","version":"1.0.0"}' }, zeros])));
    const says = 'error: the archive expands more than 500 times its compressed size (decompression-bomb guard)';
    expectClear(await runCli(['inspect', `hello:${tag}`, '--registry', w.R]), 1, says);
    const out = fresh('pulled');
    expectClear(await runCli(['pull', `hello:${tag}`, '--registry', w.R, '-o', out]), 1, says);
    await expect(readdir(out)).rejects.toThrow();
  });
});

describe('archives that reach out of the pull folder', () => {
  const PACK_JSON = { name: 'hello/pack.json', content: '{"name":"hello","version":"1.0.0"}' };
  // Never created: an entry that reached it would show.
  const OUTSIDE = join(tmpdir(), `packpub-hostile-reads-outside-${process.pid}`);
  it.each<[string, () => CraftEntry[], string]>([
    ['a ".." path', () => [PACK_JSON, { name: '../outside/escape.txt', content: 'x' }], 'archive entry "../outside/escape.txt" contains a ".." segment (path traversal)'],
    ['an absolute path', () => [PACK_JSON, { name: join(OUTSIDE, 'abs.txt'), content: 'x' }], `archive entry "${join(OUTSIDE, 'abs.txt')}" is an absolute path`],
    ['a pax path with ".."', () => [PACK_JSON, { name: 'hello/ok.txt', pax: { path: '../../outside/pax.txt' }, content: 'x' }], 'archive entry "../../outside/pax.txt" contains a ".." segment'],
    ['a symlink out, then a file through it', () => [PACK_JSON, { name: 'hello/link', type: 'symlink', linkname: OUTSIDE }, { name: 'hello/link/x.txt', content: 'x' }], `archive entry "hello/link" is a symbolic link (to "${OUTSIDE}")`],
    ['a hard link to an absolute path', () => [PACK_JSON, { name: 'hello/hl', type: 'link', linkname: '/etc/passwd' }], 'archive hard link target of "hello/hl": "/etc/passwd" is an absolute path'],
    ['a hard link up and out', () => [PACK_JSON, { name: 'hello/hl', type: 'link', linkname: '../../etc/passwd' }], 'archive hard link target of "hello/hl": "../../etc/passwd" contains a ".." segment'],
    ['a device file', () => [PACK_JSON, { name: 'hello/null', type: 'character-device', devmajor: 1, devminor: 3 }], 'archive entry "hello/null" is a device file'],
    ['a named pipe', () => [PACK_JSON, { name: 'hello/pipe', type: 'fifo' }], 'archive entry "hello/pipe" is a named pipe (fifo)'],
  ])('%s: pull exits 1 (UNSAFE_ARCHIVE) and writes nothing anywhere', async (_what, entries, says) => {
    const tag = `9.0.${n++}`;
    publish(tag, await tgzOf(entries()));
    const before = (await readdir(w.root)).sort();
    const out = join(w.root, 'pull-here');
    const run = await runCli(['pull', `hello:${tag}`, '--registry', w.R, '-o', out]);
    expectClear(run, 1, `error: ${says}`);
    expect(run.stderr).toContain('hint: do not use this archive; ask its publisher to rebuild it with packpub build');
    expect((await readdir(w.root)).sort()).toEqual(before);
    await expect(readdir(OUTSIDE)).rejects.toThrow();
  });
});

describe('delete names the digest of the bytes the tag serves', () => {
  it('a HEAD naming another digest: --dry-run and the DELETE use the manifest\'s own (was: the HEAD\'s, which could delete another manifest)', async () => {
    const real = sha256(w.manifest);
    const lie = sha256(Buffer.from('another manifest'));
    w.hostile.putManifest(REPO, '5.0.0', w.manifest, MANIFEST_TYPE);
    let deleted = false;
    const lying = (r: { method: string; path: string }): HostileAnswer | undefined => {
      if (r.method === 'DELETE' && r.path.endsWith(`/manifests/${real}`)) {
        deleted = true;
        return { status: 202 };
      }
      if (r.method === 'DELETE') return { status: 404, headers: { 'content-type': 'application/json' }, body: '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}' };
      if (r.path.endsWith('/manifests/1.0.0') || r.path.endsWith('/manifests/5.0.0')) {
        if (deleted && r.path.endsWith('/manifests/5.0.0')) return { status: 404, headers: { 'content-type': 'application/json' }, body: '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}' };
        if (r.method === 'HEAD') return { status: 200, headers: { 'content-type': MANIFEST_TYPE, 'docker-content-digest': r.path.endsWith('/5.0.0') ? lie : real, 'content-length': String(w.manifest.length) } };
      }
      return undefined;
    };
    // 1.0.0 holds the same manifest: a generic registry deletes manifests, so both tags are named.
    const planned = await answering(lying, () => runCli(['delete', 'hello:5.0.0', 'hello:1.0.0', '--registry', w.R, '--dry-run']));
    expectClear(planned, 0, '');
    expect(planned.stdout).toContain(`would delete hello:5.0.0: ${w.R}/spectro-packs/archive/hello:5.0.0 (${real})`);
    expect(planned.stdout).not.toContain(lie);
    const since = w.hostile.requests.length;
    const run = await answering(lying, () => runCli(['delete', 'hello:5.0.0', 'hello:1.0.0', '--registry', w.R, '--force']));
    const deletes = w.hostile.requests.slice(since).filter((r) => r.method === 'DELETE').map((r) => r.path);
    expect(deletes.length).toBeGreaterThan(0);
    expect(deletes).toEqual(deletes.map(() => `/v2/${REPO}/manifests/${real}`));
    expect(run.stderr).not.toContain(lie);
    expect(stackLines(run.stderr)).toEqual([]);
  });
});

describe('tag trusts the bytes a tag serves, not its HEAD', () => {
  it('a HEAD naming the version\'s digest for a tag that serves other bytes: a conflict, not "already" (was: exit 0, nothing written)', async () => {
    const real = sha256(w.manifest);
    const other = Buffer.from(JSON.stringify({ ...w.doc, annotations: { ...w.doc.annotations, 'org.opencontainers.image.title': 'other' } }));
    w.hostile.putManifest(REPO, '9.0.0', other, MANIFEST_TYPE);
    const lying = (r: { method: string; path: string }): HostileAnswer | undefined =>
      r.method === 'HEAD' && r.path.endsWith('/manifests/9.0.0') ? { status: 200, headers: { 'content-type': MANIFEST_TYPE, 'docker-content-digest': real, 'content-length': String(other.length) } } : undefined;
    const run = await answering(lying, () => runCli(['tag', 'hello:1.0.0', '9.0.0', '--allow-other-version', '--registry', w.R]));
    expectClear(run, 1, `9.0.0 (${sha256(other)}) already tags other content`);
    const held = Buffer.from(await (await fetch(`${w.hostile.url}/v2/${REPO}/manifests/9.0.0`, { headers: { accept: MANIFEST_TYPE } })).arrayBuffer());
    expect(sha256(held)).toBe(sha256(other));
    // A tag that does hold the version is still left alone (exit 0, nothing written).
    w.hostile.putManifest(REPO, '9.0.1', w.manifest, MANIFEST_TYPE);
    const since = w.hostile.requests.length;
    const again = await runCli(['tag', 'hello:1.0.0', '9.0.1', '--allow-other-version', '--registry', w.R]);
    expectClear(again, 0, '');
    expect(w.hostile.requests.slice(since).filter((r) => r.method === 'PUT')).toEqual([]);
  });
});

describe('control characters meant for the terminal are shown, not obeyed', () => {
  it('in a created annotation and an archive folder name (inspect, list), and in a registry\'s error message', async () => {
    publish('7.0.0', await tgzOf([{ name: `he${ESC}[31mllo/pack.json`, content: '{"name":"hello","version":"7.0.0"}' }]), {
      annotations: { ...w.doc.annotations, 'org.opencontainers.image.created': `2026${ESC}[2J${ESC}]0;owned\u0007` },
    });
    const inspected = await runCli(['inspect', 'hello:7.0.0', '--registry', w.R]);
    expectClear(inspected, 0, '');
    expect(inspected.stdout).toContain('  created   2026U+001B[2JU+001B]0;ownedU+0007\n');
    expect(inspected.stdout).toContain('  folder    heU+001B[31mllo\n');
    const listed = await runCli(['list', 'hello', '--registry', w.R]);
    expect(listed.stdout).toMatch(/^hello\s+7\.0\.0\s+.*2026U\+001B\[2JU\+001B\]0;ownedU\+0007$/m);
    const json = await runCli(['inspect', 'hello:7.0.0', '--registry', w.R, '--json']);
    expect((JSON.parse(json.stdout) as { manifest: { created: string } }).manifest.created).toBe(`2026${ESC}[2J${ESC}]0;owned\u0007`);

    const refused = await answering(
      (r) => (r.path.endsWith('/manifests/1.0.0') ? { status: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ errors: [{ code: 'MANIFEST_INVALID', message: `bad${ESC}[2J${ESC}]0;owned\u0007` }] }) } : undefined),
      () => runCli(['inspect', 'hello:1.0.0', '--registry', w.R]),
    );
    expectClear(refused, 1, 'badU+001B[2JU+001B]0;ownedU+0007');
    for (const run of [inspected, listed, refused]) expect(run.stdout + run.stderr).not.toContain(ESC);
  });

  it('in a registry error that push reports on stderr (--json: one line a pack), for a pack and for the base repository', async () => {
    const pack = await writePack(join(w.root, `esc-${n++}`), { name: 'hello', version: '8.0.0' });
    const said = (code: string) => ({ errors: [{ code, message: `no${ESC}[2J${ESC}]0;owned\u0007` }] });
    const shown = 'noU+001B[2JU+001B]0;ownedU+0007';
    const onePack = await answering(
      (r) => (r.path.endsWith('/manifests/8.0.0') ? { status: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify(said('MANIFEST_INVALID')) } : undefined),
      () => runCli(['push', pack, '--registry', w.R, '--json']),
    );
    expectClear(onePack, 1, shown);
    const other = await writePack(join(w.root, `esc-${n++}`), { name: 'hello-too', version: '8.0.0' });
    const wholeTarget = (json: string[]) => answering(
      // The base repository's empty artifact (written before any pack of the target): absent, then refused.
      (r) =>
        !r.path.startsWith('/v2/evil/spectro-packs/archive/manifests/')
          ? undefined
          : r.method === 'PUT'
            ? { status: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify(said('MANIFEST_INVALID')) }
            : { status: 404 },
      () => runCli(['push', pack, other, '--registry', w.R, ...json]),
    );
    const runs = [onePack, await wholeTarget([]), await wholeTarget(['--json'])];
    for (const run of runs.slice(1)) expectClear(run, 1, shown);
    for (const run of runs) expect(run.stdout + run.stderr).not.toContain(ESC);
  });

  it('in a registry refusal that stops several packs: --json and --json-lines tell it once on stderr, as U+XXXX', async () => {
    const packs = [await writePack(join(w.root, `esc-${n++}`), { name: 'shared-a', version: '8.0.0' }), await writePack(join(w.root, `esc-${n++}`), { name: 'shared-b', version: '8.0.0' })];
    // Every pack repository asks for credentials, then refuses them with the same words (its own repository aside).
    const refusing = (json: string[]) => answering(
      (r): HostileAnswer | undefined =>
        !r.path.startsWith('/v2/evil/spectro-packs/archive/shared-')
          ? undefined
          : r.authorization === undefined
            ? { status: 401, headers: { 'www-authenticate': 'Basic realm="evil"' } }
            : { status: 403, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ errors: [{ code: 'DENIED', message: `no${ESC}[2J${ESC}]0;owned\u0007` }] }) },
      () => runCli(['push', ...packs, '--registry', w.R, ...json], { env: { PACKPUB_USERNAME: 'u', PACKPUB_PASSWORD: 'p' } }),
    );
    for (const json of [['--json'], ['--json-lines']]) {
      const run = await refusing(json);
      expectClear(run, 1, `FAILED registry ${w.R}: credentials rejected or no push permission on <pack repository>: noU+001B[2JU+001B]0;ownedU+0007 (stopped 2 packs: shared-a:8.0.0, shared-b:8.0.0) (hint: `);
      // One line for the shared cause, none per pack; the report on stdout has both packs failed.
      expect(run.stderr.split('\n').filter((l) => l !== '')).toHaveLength(1);
      type Result = { name: string; status: string; error?: { code: string } };
      const results: Result[] =
        json[0] === '--json'
          ? (JSON.parse(run.stdout) as { results: Result[] }).results
          : run.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Result & { type: string }).filter((l) => l.type === 'result');
      expect(results.map((r) => [r.name, r.status, r.error?.code]).sort()).toEqual([['shared-a', 'failed', 'AUTH'], ['shared-b', 'failed', 'AUTH']]);
      expect(run.stdout + run.stderr).not.toContain(ESC);
      for (const name of ['shared-a', 'shared-b']) expect((await fetch(`${w.hostile.url}/v2/evil/spectro-packs/archive/${name}/tags/list`)).status).toBe(404);
    }
  });
});

describe("push's look-up of what the tag holds", () => {
  it('an empty 200 answer is an error, not "already holds different content" (was: a conflict, which --force replaced)', async () => {
    const pack = await writePack(fresh('pack'), { name: 'hello', version: '8.0.0' });
    const since = w.hostile.requests.length;
    const run = await answering((r) => (r.method === 'GET' && r.path.endsWith('/manifests/8.0.0') ? { status: 200, headers: { 'content-type': MANIFEST_TYPE } } : undefined), () =>
      runCli(['push', pack, '--registry', w.R, '--no-cache']),
    );
    expectClear(run, 1, `FAILED hello:8.0.0: ${w.hostile.host} answered 200 with an empty body instead of manifest 8.0.0 of ${REPO}`);
    expect(run.stderr).not.toContain('already holds different content');
    expect(w.hostile.requests.slice(since).filter((r) => r.method === 'PUT')).toEqual([]);
  });

  it('an image index at the tag is a conflict; --force replaces it with the pack (held)', async () => {
    const pack = await writePack(fresh('pack'), { name: 'hello', version: '8.1.0' });
    w.hostile.putManifest(REPO, '8.1.0', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] })), 'application/vnd.oci.image.index.v1+json');
    expectClear(await runCli(['push', pack, '--registry', w.R, '--no-cache']), 1, `CONFLICT hello:8.1.0: ${w.R}/spectro-packs/archive/hello:8.1.0 already holds different content`);
    expectClear(await runCli(['push', pack, '--registry', w.R, '--no-cache', '--force']), 0, '');
    const inspected = await runCli(['inspect', 'hello:8.1.0', '--registry', w.R, '--json']);
    expectClear(inspected, 0, '');
    expect((JSON.parse(inspected.stdout) as { packJson: { version: string } }).packJson.version).toBe('8.1.0');
  });
});
