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
async function answering<T>(answer: (r: { method: string; path: string; authorization: string | undefined }) => HostileAnswer | undefined, run: () => Promise<T>): Promise<T> {
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
  });

  it('a manifest with an extra layer: copy refuses it as pull and inspect do (was: copied, exit 0)', async () => {
    const extra = w.hostile.putBlob(REPO, Buffer.from('extra'));
    const doc = { ...w.doc, layers: [...w.doc.layers, { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: extra, size: 5 }] };
    w.hostile.putManifest(REPO, '3.0.0', Buffer.from(JSON.stringify(doc)), MANIFEST_TYPE);
    await readsRefused('3.0.0', `${w.R}/spectro-packs/archive/hello:3.0.0 is not a pack: its manifest has 2 layers (a pack has exactly one)`);
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
