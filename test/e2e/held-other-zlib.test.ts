import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { deflateRawSync, gunzipSync, gzipSync } from 'node:zlib';
import { request } from 'undici';
import { describe, expect, it, vi } from 'vitest';
import { staticProvider } from '../../src/credentials/chain.js';
import { sha256Digest } from '../../src/oci/digest.js';
import { EMPTY_CONFIG, EMPTY_CONFIG_BYTES, packManifest, serializeManifest } from '../../src/oci/manifest.js';
import { MEDIA_TYPE_LAYER_TAR, MEDIA_TYPE_OCI_MANIFEST } from '../../src/oci/media-types.js';
import { heldLayerCap, judgeHeldLayer } from '../../src/operations/held-layer.js';
import type { ArtifactStore } from '../../src/targets/artifact-store.js';
import { OciLayoutStore } from '../../src/targets/oci-layout.js';
import { GenericRegistryStore, openGenericRegistryStore } from '../../src/targets/registry-store.js';
import { expectRun, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { settledPastRacyMargin, sharedProxiedRegistry } from '../support/push-setup.js';
import { registryAdmin } from '../support/registry-admin.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { expectReportValid } from '../support/report-schema.js';
import { setup } from '../support/stage.js';

/*
 * The same pack gzips to other bytes on another processor or Node build (README, Reproducibility): a version a CI
 * runner published was "already holds different content" (exit 1) when the release job ran again elsewhere, though
 * the pack was byte-identical. Now push reads the held layer and compares what it inflates to with this build's tar:
 * the same tar is `unchanged` (exit 0, the held digest kept and reported, a warning saying why, nothing uploaded);
 * another tar (one byte of a file, a mode, an entry time), a layer that is no gzip, too large to read, or a gzip bomb,
 * is the conflict it was, the registry as it was. Here the held layers are made by `gzip -1 -n` and by Node's zlib
 * with other settings, under the manifest packpub writes (another created time: not compared).
 */

const EPOCH = '1700000000';
const HELD_CREATED = new Date('2021-06-01T00:00:00Z');

/** A text that zlib levels pack into other bytes (varied lines), large enough that a stored gzip passes the read cap. */
function bigText(): string {
  const lines: string[] = [];
  for (let i = 0; i < 12_000; i++) lines.push(`key${i % 977}: value-${(i * 7919) % 10_007} ${i % 3 === 0 ? 'alpha' : 'beta'}`);
  return `${lines.join('\n')}\n`;
}

/** `gzip -1 -n` (the gzip program, not Node's zlib) of `tar`. */
function gzipCli(tar: Buffer): Buffer {
  return execFileSync('gzip', ['-1', '-n', '-c'], { input: tar, maxBuffer: 64 * 1024 * 1024 });
}

/**
 * `tar` framed as packpub frames it (1 MiB gzip members, level 6, header OS 255) but deflated by the system's zlib through
 * Python: what packpub writes on a Node linked to the system's zlib (some distributions' nodejs packages).
 */
function systemZlib(tar: Buffer): Buffer {
  const script = [
    'import sys, zlib, struct',
    't = sys.stdin.buffer.read()',
    'out = []',
    'for i in range(0, len(t), 1 << 20):',
    '    b = t[i:i + (1 << 20)]',
    '    c = zlib.compressobj(6, zlib.DEFLATED, -15, 8)',
    "    out.append(bytes([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]) + c.compress(b) + c.flush() + struct.pack('<II', zlib.crc32(b) & 0xffffffff, len(b)))",
    "sys.stdout.buffer.write(b''.join(out))",
  ].join('\n');
  return execFileSync('python3', ['-c', script], { input: tar, maxBuffer: 64 * 1024 * 1024 });
}

/** A version holding `gz` as its layer, under the manifest packpub writes for it (created at HELD_CREATED); its digest. */
async function hold(store: ArtifactStore, repo: string, tag: string, gz: Buffer, title: string, extra: Record<string, unknown> = {}): Promise<string> {
  const layer = { digest: sha256Digest(gz), size: gz.length };
  await store.pushBlob(repo, EMPTY_CONFIG, () => Readable.from([EMPTY_CONFIG_BYTES]));
  await store.pushBlob(repo, { mediaType: MEDIA_TYPE_LAYER_TAR, ...layer }, () => Readable.from([gz]));
  let bytes = serializeManifest(packManifest({ layer, title, created: HELD_CREATED }));
  if (Object.keys(extra).length > 0) bytes = Buffer.from(JSON.stringify({ ...(JSON.parse(bytes.toString()) as object), ...extra }));
  return store.pushManifest(repo, tag, bytes, MEDIA_TYPE_OCI_MANIFEST);
}

describe('push over a version holding the same pack compressed by another zlib', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-otherzlib-');
    const reg = await sharedProxiedRegistry(stack);
    const base = `${reg.registry.base}/oz`;
    const store = await openGenericRegistryStore({ host: reg.registry.host, credentials: staticProvider('none', undefined) });
    stack.add({ close: () => store.close() });
    const env = { SOURCE_DATE_EPOCH: EPOCH, PACKPUB_CACHE_DIR: join(root, 'cache') };
    /** The pack `oz:<version>` written at `<root>/<folder>` (big.txt changed by `edit`), and the tar packpub builds of it (entry times from `epoch`). */
    const pack = async (folder: string, version: string, edit: (text: string) => string = (t) => t, epoch = EPOCH) => {
      const dir = await writePack(join(root, folder), { name: 'oz', version, files: { 'big.txt': edit(bigText()) } });
      const out = join(root, `${folder}.tar.gz`);
      expectRun(await runCli(['build', dir, '-o', out], { env: { ...env, SOURCE_DATE_EPOCH: epoch } }), { code: 0 });
      const gz = await readFile(out);
      return { dir, gz, tar: gunzipSync(gz) };
    };
    return { root, reg, base, store, env, pack, admin: registryAdmin(reg.registry) };
  });

  const repoOf = () => `${w.base}/spectro-packs/archive/oz`;
  const target = () => ['--registry', `${w.reg.proxy.host}/${w.base}`, '--retry-delay', '0'];
  const writes = () => w.reg.proxy.count((r) => r.kind === 'upload-start' || r.kind === 'upload-put' || r.kind === 'upload-patch' || r.kind === 'manifest-put');
  const layerReads = () => w.reg.proxy.count((r) => r.kind === 'blob-get');
  /**
   * Manifest writes into the pack's repository. A version the cache never saw in a repository it knows is read right
   * before its write, after its layer was uploaded (push.ts publishTo `unread`), as before: blobs, never the tag.
   */
  const tagWrites = () => w.reg.proxy.count((r) => r.kind === 'manifest-put' && r.path.startsWith(`/v2/${repoOf()}/manifests/`));

  it('the same tar gzipped by `gzip -1 -n`: unchanged (exit 0), the held digest kept and reported, a warning, nothing uploaded; --tag puts the tag on the held version', async () => {
    const { dir, gz, tar } = await w.pack('same', '1.0.0');
    const other = gzipCli(tar);
    expect(other.equals(gz)).toBe(false);
    const held = await hold(w.store, repoOf(), '1.0.0', other, 'oz-1.0.0.tar.gz');
    w.reg.proxy.clear();
    const run = await runCli(['push', dir, ...target(), '--json'], { env: w.env });
    expectRun(run, { code: 0, stderr: [`holds this pack's files in layer ${sha256Digest(other)}, compressed by another build of zlib than this build's ${sha256Digest(gz)}: kept as it is (unchanged)`] });
    const report = JSON.parse(run.stdout) as { results: Array<Record<string, unknown>> };
    expectReportValid(report);
    expect(report.results).toMatchObject([{ status: 'unchanged', digest: held, layerDigest: sha256Digest(other), size: other.length, uploadedBytes: 0 }]);
    expect(report.results[0]?.['warnings']).toEqual([expect.objectContaining({ message: expect.stringContaining('compressed by another build of zlib') })]);
    expect(writes()).toBe(0);
    expect(layerReads()).toBe(1);
    expect(await w.admin.digestOf(repoOf(), '1.0.0')).toBe(held);

    // Human output, and an extra tag: written onto the held version, as onto any unchanged one.
    w.reg.proxy.clear();
    const tagged = await runCli(['push', dir, ...target(), '--tag', 'stable'], { env: w.env });
    expectRun(tagged, { code: 0, stdout: [`unchanged oz:1.0.0: already published at ${w.reg.proxy.host}/${repoOf()}:1.0.0`], stderr: ['compressed by another build of zlib'] });
    expect(w.reg.proxy.count((r) => r.kind === 'upload-start' || r.kind === 'upload-put')).toBe(0);
    expect(await w.admin.digestOf(repoOf(), 'stable')).toBe(held);
    expect(await w.admin.digestOf(repoOf(), '1.0.0')).toBe(held);
  });

  it('--dry-run plans unchanged (the layer read, nothing written); --force and --skip-existing leave it unchanged too', async () => {
    const { dir, tar } = await w.pack('flags', '1.1.0');
    // Node's zlib with another memLevel and level: other bytes again.
    const other = gzipSync(tar, { level: 2, memLevel: 5 });
    const held = await hold(w.store, repoOf(), '1.1.0', other, 'oz-1.1.0.tar.gz');
    w.reg.proxy.clear();
    const dry = await runCli(['push', dir, ...target(), '--dry-run', '--json'], { env: w.env });
    expectRun(dry, { code: 0 });
    expectReportValid(JSON.parse(dry.stdout));
    expect((JSON.parse(dry.stdout) as { results: unknown[] }).results).toMatchObject([{ status: 'planned', plan: 'unchanged', digest: held, layerDigest: sha256Digest(other) }]);
    for (const flag of ['--force', '--skip-existing']) {
      const run = await runCli(['push', dir, ...target(), flag, '--json'], { env: w.env });
      expectRun(run, { code: 0 });
      expect((JSON.parse(run.stdout) as { results: unknown[] }).results, flag).toMatchObject([{ status: 'unchanged', digest: held }]);
    }
    expect(writes()).toBe(0);
    expect(await w.admin.digestOf(repoOf(), '1.1.0')).toBe(held);
  });

  // Python is not everywhere the suite runs (a node:*-slim image): there, the gzip program and Node's zlib cases above stand.
  it.skipIf(spawnSync('python3', ['--version']).error !== undefined)('packpub\'s own framing deflated by the system\'s zlib (as on a Node linked to it): unchanged, exit 0', async () => {
    const { dir, gz, tar } = await w.pack('system', '1.3.0');
    const other = systemZlib(tar);
    expect(gunzipSync(other).equals(tar)).toBe(true);
    const held = await hold(w.store, repoOf(), '1.3.0', other, 'oz-1.3.0.tar.gz');
    const run = await runCli(['push', dir, ...target(), '--json'], { env: w.env });
    expectRun(run, { code: 0 });
    // Where Node's zlib deflates as the system's does (a CPU without SSE4.2 and PCLMUL, a Node linked to the system's
    // zlib), the bytes are this build's own: unchanged without a word. Here (x86-64 with them) they differ.
    const note = 'compressed by another build of zlib';
    if (other.equals(gz)) expect(run.stderr).not.toContain(note);
    else expect(run.stderr).toContain(note);
    expect((JSON.parse(run.stdout) as { results: unknown[] }).results).toMatchObject([{ status: 'unchanged', digest: held, layerDigest: sha256Digest(other) }]);
    expect(await w.admin.digestOf(repoOf(), '1.3.0')).toBe(held);
  });

  it('a re-run here knows the held layer from the cache: unchanged without reading it again; under another manifest shape, --force replaces it', async () => {
    const { dir, tar } = await w.pack('remember', '1.2.0');
    await settledPastRacyMargin(dir);
    const other = gzipCli(tar);
    const held = await hold(w.store, repoOf(), '1.2.0', other, 'oz-1.2.0.tar.gz');
    expectRun(await runCli(['push', dir, ...target()], { env: w.env }), { code: 0, stdout: ['unchanged oz:1.2.0'] });
    w.reg.proxy.clear();
    const again = await runCli(['push', dir, ...target(), '--json'], { env: w.env });
    expectRun(again, { code: 0, stderr: ['compressed by another build of zlib'] });
    expect((JSON.parse(again.stdout) as { results: unknown[] }).results).toMatchObject([{ status: 'unchanged', digest: held, layerDigest: sha256Digest(other) }]);
    expect(layerReads()).toBe(0);
    expect(writes()).toBe(0);
    // The same layer under another title is not what this build writes: built, and replaced with --force (not a failure).
    const retitled = await hold(w.store, repoOf(), '1.2.0', other, 'renamed.tar.gz');
    const forced = await runCli(['push', dir, ...target(), '--force', '--json'], { env: w.env });
    expectRun(forced, { code: 0 });
    const [result] = (JSON.parse(forced.stdout) as { results: Array<{ status: string; digest: string }> }).results;
    expect(result?.status).toBe('overwritten');
    expect(result?.digest).not.toBe(retitled);
    expect(await w.admin.digestOf(repoOf(), '1.2.0')).toBe(result?.digest);
  });

  it.each([
    ['one byte of a file', 'content', (t: string) => t.replace('value-0 alpha', 'value-0 alphA'), EPOCH, false],
    ['a file mode', 'mode', (t: string) => t, EPOCH, true],
    ['the entry times', 'mtime', (t: string) => t, '1600000000', false],
  ] as const)('another tar (%s), gzipped by gzip -1 -n: the conflict it was (exit 1), the registry as it was', async (_what, folder, edit, epoch, executable) => {
    const version = `2.0.0-${folder}`;
    const ours = await w.pack(`ours-${folder}`, version);
    const theirs = await w.pack(`theirs-${folder}`, version, edit, epoch);
    if (executable) {
      await chmod(join(theirs.dir, 'README.md'), 0o755);
      const out = join(w.root, `theirs-${folder}-x.tar.gz`);
      expectRun(await runCli(['build', theirs.dir, '-o', out], { env: w.env }), { code: 0 });
      theirs.tar = gunzipSync(await readFile(out));
    }
    expect(theirs.tar.length).toBe(ours.tar.length);
    expect(theirs.tar.equals(ours.tar)).toBe(false);
    const other = gzipCli(theirs.tar);
    const held = await hold(w.store, repoOf(), version, other, `oz-${version}.tar.gz`);
    w.reg.proxy.clear();
    const run = await runCli(['push', ours.dir, ...target()], { env: w.env });
    expectRun(run, { code: 1, stderr: [`CONFLICT oz:${version}: ${w.reg.proxy.host}/${repoOf()}:${version} already holds different content (published layer ${sha256Digest(other)}, this build ${sha256Digest(ours.gz)})`] });
    expect(run.stderr).not.toContain('another build of zlib');
    expect(tagWrites()).toBe(0);
    expect(await w.admin.digestOf(repoOf(), version)).toBe(held);
  });

  it('a held layer that is no gzip, one too large to read, a gzip bomb, a missing layer: conflicts that say so, the registry as it was', async () => {
    const { dir, gz, tar } = await w.pack('odd', '3.0.0');
    const ref = `${w.reg.proxy.host}/${repoOf()}:3.0.0`;
    const cases: Array<{ layer: Buffer; why: string; missing?: boolean }> = [
      // The tar's first blocks, not compressed.
      { layer: tar.subarray(0, 4096), why: ', which is not valid gzip (incorrect header check)' },
      // Stored (level 0): the same tar, but more than twice this build's archive: not read.
      { layer: gzipSync(tar, { level: 0 }), why: `, which is ${gzipSync(tar, { level: 0 }).length} bytes, more than twice this build's ${gz.length}: not read to compare` },
      // This build's tar, then 64 MiB of zeros: inflated only up to the tar's size, then refused as other content.
      { layer: Buffer.concat([gzipCli(tar), gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 })]), why: '' },
      { layer: gzipCli(tar), why: ', which the store does not serve (', missing: true },
    ];
    for (const c of cases) {
      const held = await hold(w.store, repoOf(), '3.0.0', c.layer, 'oz-3.0.0.tar.gz');
      if (c.missing === true) {
        const res = await request(`${w.reg.registry.url}/v2/${repoOf()}/blobs/${sha256Digest(c.layer)}`, { method: 'DELETE' });
        await res.body.dump();
        expect(res.statusCode).toBe(202);
      }
      w.reg.proxy.clear();
      const run = await runCli(['push', dir, ...target()], { env: w.env });
      expectRun(run, { code: 1, stderr: [`CONFLICT oz:3.0.0: ${ref} already holds different content (published layer ${sha256Digest(c.layer)}${c.why}`] });
      if (c.why === '') expect(run.stderr).toContain(`(published layer ${sha256Digest(c.layer)}, this build ${sha256Digest(gz)})`);
      expect(tagWrites()).toBe(0);
      expect(await w.admin.digestOf(repoOf(), '3.0.0')).toBe(held);
    }
  });

  it('a held manifest of another shape (another layer title, an artifactType): the conflict, its layer not read', async () => {
    const { dir, tar } = await w.pack('shape', '4.0.0');
    const other = gzipCli(tar);
    for (const [title, extra] of [['other-name.tar.gz', {}], ['oz-4.0.0.tar.gz', { artifactType: 'application/vnd.example' }]] as const) {
      const held = await hold(w.store, repoOf(), '4.0.0', other, title, extra);
      w.reg.proxy.clear();
      const run = await runCli(['push', dir, ...target()], { env: w.env });
      expectRun(run, { code: 1, stderr: ['already holds different content'] });
      expect(layerReads()).toBe(0);
      expect(await w.admin.digestOf(repoOf(), '4.0.0')).toBe(held);
    }
  });

  it('a read of the layer cut short once: read on (the retry policy), and unchanged only once the comparison completed', async () => {
    const { dir, tar } = await w.pack('cut', '5.1.0');
    const other = gzipCli(tar);
    const held = await hold(w.store, repoOf(), '5.1.0', other, 'oz-5.1.0.tar.gz');
    w.reg.proxy.clear();
    let cut = 0;
    w.reg.proxy.onRequest = (r) => (r.kind === 'blob-get' && cut++ === 0 ? 'truncate' : 'pass');
    try {
      const run = await runCli(['push', dir, ...target(), '--no-cache', '--json'], { env: w.env });
      expectRun(run, { code: 0 });
      expect((JSON.parse(run.stdout) as { results: unknown[] }).results).toMatchObject([{ status: 'unchanged', digest: held, layerDigest: sha256Digest(other) }]);
      expect(w.reg.proxy.count((r) => r.kind === 'blob-get' && r.outcome === 'truncated')).toBe(1);
      expect(layerReads()).toBe(2);
    } finally {
      w.reg.proxy.onRequest = undefined;
    }
    expect(await w.admin.digestOf(repoOf(), '5.1.0')).toBe(held);
  });

  it('a registry that fails every read of the layer: exit 1 saying the comparison failed (not unchanged, not "different content")', async () => {
    const { dir, gz, tar } = await w.pack('failing', '5.0.0');
    const other = gzipCli(tar);
    const held = await hold(w.store, repoOf(), '5.0.0', other, 'oz-5.0.0.tar.gz');
    w.reg.proxy.clear();
    w.reg.proxy.onRequest = (r) => (r.kind === 'blob-get' ? { status: 503 } : 'pass');
    try {
      const run = await runCli(['push', dir, ...target(), '--json'], { env: w.env });
      expectRun(run, { code: 1 });
      const [result] = (JSON.parse(run.stdout) as { results: Array<{ status: string; error: { message: string } }> }).results;
      expect(result?.status).toBe('failed');
      expect(result?.error.message).toContain(`holds layer ${sha256Digest(other)}, not this build's ${sha256Digest(gz)}; reading it to compare failed: `);
      expect(layerReads()).toBeGreaterThan(1);
      expect(tagWrites()).toBe(0);
    } finally {
      w.reg.proxy.onRequest = undefined;
    }
    expect(await w.admin.digestOf(repoOf(), '5.0.0')).toBe(held);
  });

  it('another runner publishing the same pack with another zlib between this run\'s uploads and its write: unchanged (was: "replaced by another publisher", exit 1)', async () => {
    const { dir, tar } = await w.pack('race', '7.0.0');
    const other = gzipCli(tar);
    let theirs: string | undefined;
    // The other runner writes right before this run's look-again (headManifest), after this run found the version absent.
    const original = GenericRegistryStore.prototype.headManifest;
    const spy = vi.spyOn(GenericRegistryStore.prototype, 'headManifest').mockImplementation(async function (this: GenericRegistryStore, ...a) {
      if (a[1] === '7.0.0' && theirs === undefined) theirs = await hold(w.store, repoOf(), '7.0.0', other, 'oz-7.0.0.tar.gz');
      return original.apply(this, a);
    });
    try {
      // --no-cache: the version is read before the uploads (a cache knowing the repository reads it only before the write).
      const run = await runCli(['push', dir, ...target(), '--no-cache', '--json'], { env: w.env });
      expectRun(run, { code: 0, stderr: ['compressed by another build of zlib'] });
      expect(theirs).toBeDefined();
      expect((JSON.parse(run.stdout) as { results: unknown[] }).results).toMatchObject([{ status: 'unchanged', digest: theirs, layerDigest: sha256Digest(other) }]);
    } finally {
      spy.mockRestore();
    }
    expect(await w.admin.digestOf(repoOf(), '7.0.0')).toBe(theirs);
  });

  it('an OCI layout: the same tar gzipped by gzip -1 -n is unchanged, another tar a conflict; the layout as it was', async () => {
    const layout = join(w.root, 'layout');
    const store = new OciLayoutStore(layout);
    const repo = 'spectro-packs/archive/oz';
    const same = await w.pack('layout-same', '6.0.0');
    const held = await hold(store, repo, '6.0.0', gzipCli(same.tar), 'oz-6.0.0.tar.gz');
    const run = await runCli(['push', same.dir, '--oci-layout', layout], { env: w.env });
    expectRun(run, { code: 0, stdout: ['unchanged oz:6.0.0'], stderr: ['compressed by another build of zlib'] });
    // In GitHub Actions, the warning is an annotation too.
    const inCi = await runCli(['push', same.dir, '--oci-layout', layout], { env: { ...w.env, GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: w.root } });
    expect(inCi.code, inCi.stderr).toBe(0);
    expect(inCi.stderr).toMatch(/^::warning [^\n]*holds this pack's files in layer sha256:[0-9a-f]{64}, compressed by another build of zlib/m);
    expect((await layoutHoldings(layout)).tags.get(`${repo}:6.0.0`)).toBe(held);

    const ours = await w.pack('layout-ours', '6.1.0');
    const theirs = await w.pack('layout-theirs', '6.1.0', (t) => t.replace('value-0 alpha', 'value-0 alphA'));
    const other = Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), deflateRawSync(theirs.tar, { level: 1 }), Buffer.alloc(8)]);
    const otherHeld = await hold(store, repo, '6.1.0', other, 'oz-6.1.0.tar.gz');
    const conflict = await runCli(['push', ours.dir, '--oci-layout', layout], { env: w.env });
    // The hand-made gzip's trailer is zeros: its data differs before the trailer is read.
    expectRun(conflict, { code: 1, stderr: [`already holds different content (published layer ${sha256Digest(other)}, this build ${sha256Digest(ours.gz)})`] });
    const holdings = await layoutHoldings(layout);
    expect(holdings.tags.get(`${repo}:6.1.0`)).toBe(otherHeld);
    expect(holdings.tags.get(`${repo}:6.0.0`)).toBe(held);
  });
});

describe('judgeHeldLayer over a gzip bomb that starts with this build\'s tar', () => {
  it('reads the held layer only a little past this build\'s tar (not its 1 GiB of zeros), and answers not the same', async () => {
    // An incompressible file, so that the cap (twice this build's archive) lets a 1 GiB bomb of zeros be read.
    const tar = Buffer.concat([randomBytes(1024 * 1024), Buffer.alloc(10 * 1024)]);
    const ours = gzipSync(tar);
    const zeros = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
    const bomb = Buffer.concat([gzipCli(tar), ...Array.from({ length: 16 }, () => zeros)]);
    expect(bomb.length).toBeLessThan(heldLayerCap(ours.length));
    let pulled = 0;
    async function* served(): AsyncGenerator<Buffer> {
      for (let at = 0; at < bomb.length; at += 16 * 1024) {
        const chunk = bomb.subarray(at, at + 16 * 1024);
        pulled += chunk.length;
        yield chunk;
      }
    }
    const layer = { mediaType: MEDIA_TYPE_LAYER_TAR, digest: sha256Digest(bomb), size: bomb.length };
    const held = serializeManifest(packManifest({ layer, title: 'oz-1.0.0.tar.gz', created: HELD_CREATED }));
    const verdict = await judgeHeldLayer(
      { fetchBlob: () => Promise.resolve(Readable.from(served())) },
      'spectro-packs/archive/oz',
      { descriptor: { mediaType: MEDIA_TYPE_OCI_MANIFEST, digest: sha256Digest(held), size: held.length }, bytes: held },
      { title: 'oz-1.0.0.tar.gz', digest: sha256Digest(ours), size: ours.length, tarSize: tar.length, open: () => Readable.from([ours]) },
    );
    expect(verdict).toEqual({ same: false });
    // The compressed tar, the piece zlib was given when the inflated bytes passed the tar's size, and what was read ahead.
    expect(pulled).toBeLessThan(gzipCli(tar).length + 1024 * 1024);
  });
});
