import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { staticProvider } from '../../src/credentials/chain.js';
import { openGenericRegistryStore } from '../../src/targets/registry-store.js';
import { pushTestPack } from '../support/artifacts.js';
import { runCli, type CliRun } from '../support/cli.js';
import { craftTar } from '../support/files.js';
import { startRecordingProxy } from '../support/recording-proxy.js';
import { sharedRegistry } from '../support/registry.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';

/*
 * A pack layer with bytes after its gzip member, or after the tar's end-of-archive marker. Palette reads a layer
 * with Go's compress/gzip under Go's archive/tar, which stops at the end marker and never reads past it: checked
 * with Go 1.19 (a tar.gz followed by "GARBAGE", by "\x1f\x8bxx", with its trailer's CRC damaged, two tar.gz one
 * after the other: all read, the first tar's entries only; a tar without end marker followed by anything but
 * another gzip member: "unexpected EOF" / "gzip: invalid header"). pull and inspect take what Go takes and refuse
 * what Go refuses; the layer's digest still covers every byte. The layers sit in a real registry.
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-after-end-marker-');
  const registry = await sharedRegistry();
  const store = await openGenericRegistryStore({ host: registry.host, credentials: staticProvider('none', undefined) });
  stack.add({ close: () => store.close() });
  const proxy = stack.add(await startRecordingProxy(registry.host));
  return { root, registry, store, proxy, R: `${registry.host}/${registry.base}/m`, REPO: `${registry.base}/m/spectro-packs/archive/hello` };
});

let n = 0;
const VALUES = 'replicas: 2\n';
const packJson = (version: string, displayName = 'first') => JSON.stringify({ name: 'hello', version, displayName });
/** A pack's tar (tar-stream writes the end-of-archive marker: two zero blocks) for hello:<version>. */
const packTar = (version: string) => craftTar([
  { name: 'hello/', type: 'directory' },
  { name: 'hello/pack.json', content: packJson(version) },
  { name: 'hello/values.yaml', content: VALUES },
]);
/** The same tar without its end-of-archive marker: Go's reader then needs the bytes after it. */
const withoutMarker = async (version: string) => {
  const tar = await packTar(version);
  expect(tar.subarray(-1024).every((b) => b === 0)).toBe(true);
  return tar.subarray(0, tar.length - 1024);
};
function expectRun(run: CliRun, code: number): void {
  expect(run.code, run.stdout + run.stderr).toBe(code);
  expect(stackLines(run.stderr)).toEqual([]);
  expect(run.stderr).not.toContain('this is a bug in packpub');
}
async function publish(layer: Buffer): Promise<string> {
  const tag = `1.0.${n++}`;
  await pushTestPack(w.store, w.REPO, tag, layer);
  return tag;
}

describe('bytes after the end-of-archive marker: read as Palette reads them (was: "the archive is not valid gzip", exit 1)', () => {
  it.each<[string, (tar: Buffer) => Buffer]>([
    ['"GARBAGE" after the gzip member', (tar) => Buffer.concat([gzipSync(tar), Buffer.from('GARBAGE')])],
    ['the start of another gzip member that is none', (tar) => Buffer.concat([gzipSync(tar), Buffer.from([0x1f, 0x8b, 0x78, 0x78])])],
    ["the member's trailer damaged (CRC-32)", (tar) => {
      const gz = gzipSync(tar);
      gz[gz.length - 8] = (gz[gz.length - 8] as number) ^ 0xff;
      return gz;
    }],
    ["the member's trailer cut off", (tar) => gzipSync(tar).subarray(0, -8)],
    ['20 MiB of zeros after the marker inside the member (was: refused as a decompression bomb)', (tar) => gzipSync(Buffer.concat([tar, Buffer.alloc(20 * 1024 * 1024)]))],
  ])('%s: pull writes the pack and inspect shows it, exit 0', async (_what, shape) => {
    const tag = `1.0.${n}`;
    const layer = shape(await packTar(tag));
    expect(await publish(layer)).toBe(tag);
    const inspect = await runCli(['inspect', `hello:${tag}`, '--registry', w.R, '--json']);
    expectRun(inspect, 0);
    expect((JSON.parse(inspect.stdout) as { packJson: unknown }).packJson).toEqual(JSON.parse(packJson(tag)));
    const out = join(w.root, `pulled-${tag}`);
    expectRun(await runCli(['pull', `hello:${tag}`, '--registry', w.R, '-o', out]), 0);
    expect((await readdir(out)).sort()).toEqual(['pack.json', 'values.yaml']);
    expect(await readFile(join(out, 'values.yaml'), 'utf8')).toBe(VALUES);
  });

  it('two tar.gz one after the other: the first tar is pulled and shown, nothing of the second (was: refused, "tar readers read the archive differently")', async () => {
    const tag = `1.0.${n}`;
    const second = await craftTar([
      { name: 'hello/pack.json', content: packJson(tag, 'second') },
      { name: 'hello/extra.yaml', content: 'x: 1\n' },
    ]);
    expect(await publish(Buffer.concat([gzipSync(await packTar(tag)), gzipSync(second)]))).toBe(tag);
    const inspect = await runCli(['inspect', `hello:${tag}`, '--registry', w.R, '--json']);
    expectRun(inspect, 0);
    expect((JSON.parse(inspect.stdout) as { packJson: { displayName: string } }).packJson.displayName).toBe('first');
    const out = join(w.root, `pulled-${tag}`);
    expectRun(await runCli(['pull', `hello:${tag}`, '--registry', w.R, '-o', out]), 0);
    expect((await readdir(out)).sort()).toEqual(['pack.json', 'values.yaml']);
    expect(JSON.parse(await readFile(join(out, 'pack.json'), 'utf8'))).toEqual(JSON.parse(packJson(tag)));
  });

  it('the bytes after the marker still count for the digest: other ones served are refused (DIGEST_MISMATCH), nothing written', async () => {
    const tag = `1.0.${n}`;
    const layer = Buffer.concat([gzipSync(await packTar(tag)), Buffer.from('GARBAGE')]);
    expect(await publish(layer)).toBe(tag);
    const digest = `sha256:${createHash('sha256').update(layer).digest('hex')}`;
    const served = Buffer.concat([layer.subarray(0, -7), Buffer.from('garbage')]);
    w.proxy.onRequest = (r) => (r.method === 'GET' && r.path.endsWith(`/blobs/${digest}`) ? { status: 200, headers: { 'content-type': 'application/octet-stream', 'content-length': String(served.length) }, body: served } : 'pass');
    try {
      const P = `${w.proxy.host}/${w.registry.base}/m`;
      const out = join(w.root, `pulled-${tag}`);
      const pull = await runCli(['pull', `hello:${tag}`, '--registry', P, '-o', out]);
      expectRun(pull, 1);
      expect(pull.stderr).toMatch(/digest/i);
      await expect(readdir(out)).rejects.toThrow();
      const inspect = await runCli(['inspect', `hello:${tag}`, '--registry', P]);
      expectRun(inspect, 1);
      expect(inspect.stderr).toMatch(/digest/i);
    } finally {
      w.proxy.onRequest = undefined;
    }
  });
});

describe('a tar without end marker followed by bytes that are no gzip member: refused, as Go refuses it', () => {
  it.each<[string, Buffer]>([
    ['"GARBAGE"', Buffer.from('GARBAGE')],
    ['zeros (was: pulled, exit 0: Node takes zeros after a member for padding; Go reads them as a gzip header and fails)', Buffer.alloc(64)],
  ])('%s: pull and inspect exit 1, nothing written', async (_what, after) => {
    const tag = `1.0.${n}`;
    expect(await publish(Buffer.concat([gzipSync(await withoutMarker(tag)), after]))).toBe(tag);
    const says = 'error: the archive is not valid gzip: bytes after the gzip data that are not another gzip member';
    const inspect = await runCli(['inspect', `hello:${tag}`, '--registry', w.R]);
    expectRun(inspect, 1);
    expect(inspect.stderr).toContain(says);
    const out = join(w.root, `pulled-${tag}`);
    const pull = await runCli(['pull', `hello:${tag}`, '--registry', w.R, '-o', out]);
    expectRun(pull, 1);
    expect(pull.stderr).toContain(says);
    await expect(readdir(out)).rejects.toThrow();
  });

  it('the same tar without end marker, nothing after its member: pulled (Go reads a tar that ends at an entry boundary)', async () => {
    const tag = `1.0.${n}`;
    expect(await publish(gzipSync(await withoutMarker(tag)))).toBe(tag);
    const out = join(w.root, `pulled-${tag}`);
    expectRun(await runCli(['pull', `hello:${tag}`, '--registry', w.R, '-o', out]), 0);
    expect((await readdir(out)).sort()).toEqual(['pack.json', 'values.yaml']);
  });
});
