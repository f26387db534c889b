import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { tempDir, treeOf } from '../support/files.js';
import { stage } from '../support/stage.js';
import { CORPUS_DIR, HAVE_CORPUS, writePack } from '../support/packs.js';
import { runChild, runChildText } from '../support/spawner.js';

/** The corpus packs the layout journey publishes and pulls back (see its test). */
const LAYOUT_CORPUS = ['appdynamics-collector-1.13.684', 'argo-rollouts-1.2.1'];

async function skopeoRaw(layout: string, repo: string, tag: string): Promise<Buffer> {
  const { stdout } = await runChild('skopeo', ['inspect', '--raw', `oci:${join(layout, repo)}:${tag}`]);
  return stdout;
}

describe('push to the local OCI layout', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let layout: string;
  let pack: string;

  beforeAll(async () => {
    ({ dir: root, cleanup } = await tempDir());
    layout = join(root, 'store');
    pack = await writePack(join(root, 'hello-1.0.0'), { name: 'hello', version: '1.0.0' });
  });
  afterAll(async () => cleanup());

  it('publishes a pack that skopeo reads back byte for byte', async () => {
    const result = await runCli(['push', pack, '--oci-layout', layout], { env: { SOURCE_DATE_EPOCH: '1700000000' } });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`published hello:1.0.0 -> oci:${layout}/spectro-packs/archive/hello:1.0.0`);
    const raw = await skopeoRaw(layout, 'spectro-packs/archive/hello', '1.0.0');
    const text = raw.toString('utf8');
    expect(text).toMatch(
      /^\{"schemaVersion":2,"mediaType":"application\/vnd\.oci\.image\.manifest\.v1\+json","config":\{"mediaType":"application\/vnd\.unknown\.config\.v1\+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2\},"layers":\[\{"mediaType":"application\/vnd\.oci\.image\.layer\.v1\.tar","digest":"sha256:[0-9a-f]{64}","size":\d+,"annotations":\{"org\.opencontainers\.image\.title":"hello-1\.0\.0\.tar\.gz"\}\}\],"annotations":\{"org\.opencontainers\.image\.created":"2023-11-14T22:13:20Z"\}\}$/,
    );
    const index = JSON.parse(await readFile(join(layout, 'spectro-packs/archive/hello/index.json'), 'utf8'));
    const blob = await readFile(join(layout, 'spectro-packs/archive/hello/blobs/sha256', index.manifests[0].digest.slice(7)));
    expect(blob.equals(raw)).toBe(true);
  });

  it('reports an identical re-push as unchanged and writes nothing', async () => {
    const before = await readFile(join(layout, 'spectro-packs/archive/hello/index.json'), 'utf8');
    const result = await runCli(['push', pack, '--oci-layout', layout], { env: { SOURCE_DATE_EPOCH: '1700000000' } });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('unchanged hello:1.0.0: already published');
    expect(await readFile(join(layout, 'spectro-packs/archive/hello/index.json'), 'utf8')).toBe(before);
  });

  it('publishes the same pack from a differently named folder as the same digest: unchanged, no conflict', async () => {
    const copy = await writePack(join(root, 'ci-runner-checkout'), { name: 'hello', version: '1.0.0' });
    expect(await treeOf(copy)).toEqual(await treeOf(pack));
    const before = await readFile(join(layout, 'spectro-packs/archive/hello/index.json'), 'utf8');
    const result = await runCli(['push', copy, '--oci-layout', layout], { env: { SOURCE_DATE_EPOCH: '1700000000' } });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('unchanged hello:1.0.0: already published');
    expect(await readFile(join(layout, 'spectro-packs/archive/hello/index.json'), 'utf8')).toBe(before);
  });

  it('refuses different content under a published version unless --force', async () => {
    const changed = await writePack(join(root, 'hello-changed'), { name: 'hello', version: '1.0.0', files: { 'README.md': '# changed\n' } });
    const refused = await runCli(['push', changed, '--oci-layout', layout]);
    expectRun(refused, { code: 1, stderr: ['CONFLICT hello:1.0.0', 'Palette caches pack digests'] });
    const forced = await runCli(['push', changed, '--oci-layout', layout, '--force']);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('overwritten hello:1.0.0');
    const skipped = await runCli(['push', pack, '--oci-layout', layout, '--skip-existing']);
    expect(skipped.code).toBe(0);
    expect(skipped.stdout).toContain('skipped hello:1.0.0');
    // Put the original back for the tests below.
    expect((await runCli(['push', pack, '--oci-layout', layout, '--force'])).code).toBe(0);
  });

  it('refuses --force together with --skip-existing as a usage error and writes nothing', async () => {
    const changed = await writePack(join(root, 'hello-contradiction'), { name: 'hello', version: '1.0.0', files: { 'README.md': '# other\n' } });
    const before = await readFile(join(layout, 'spectro-packs/archive/hello/index.json'), 'utf8');
    const result = await runCli(['push', changed, '--oci-layout', layout, '--force', '--skip-existing']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--force and --skip-existing contradict each other');
    expect(result.stdout).toBe('');
    expect(await readFile(join(layout, 'spectro-packs/archive/hello/index.json'), 'utf8')).toBe(before);
  });

  it('lists, inspects, tags and pulls what it published', async () => {
    const pack2 = await writePack(join(root, 'hello-1.10.0'), { name: 'hello', version: '1.10.0' });
    const pack3 = await writePack(join(root, 'hello-1.9.0'), { name: 'hello', version: '1.9.0' });
    expect((await runCli(['push', pack2, pack3, '--oci-layout', layout])).code).toBe(0);
    const list = await runCli(['list', '--oci-layout', layout]);
    expect(list.code).toBe(0);
    const versions = list.stdout.split('\n').filter((l) => l.startsWith('hello ')).map((l) => l.split(/\s+/)[1]);
    expect(versions).toEqual(['1.0.0', '1.9.0', '1.10.0']);

    const inspect = await runCli(['inspect', 'hello:1.0.0', '--oci-layout', layout, '--json']);
    expect(inspect.code).toBe(0);
    const info = JSON.parse(inspect.stdout);
    expect(info.packJson.name).toBe('hello');
    expect(info.folder).toBe('hello-1.0.0');
    expect(info.layer.title).toBe('hello-1.0.0.tar.gz');

    const tag = await runCli(['tag', 'hello:1.0.0', '1.0.x', '--oci-layout', layout]);
    expect(tag.code).toBe(0);
    expect((await skopeoRaw(layout, 'spectro-packs/archive/hello', '1.0.x')).equals(await skopeoRaw(layout, 'spectro-packs/archive/hello', '1.0.0'))).toBe(true);

    const out = join(root, 'pulled');
    const pull = await runCli(['pull', 'hello:1.0.0', '--oci-layout', layout, '-o', out]);
    expect(pull.code).toBe(0);
    expect(pull.stdout).toContain(`into ${out}`);
    expect(await treeOf(out)).toEqual(await treeOf(pack));
  });

  it('refuses to pull an archive whose bytes do not match the digest, writing nothing', async () => {
    const store = join(root, 'tamper');
    expect((await runCli(['push', pack, '--oci-layout', store])).code).toBe(0);
    const repoDir = join(store, 'spectro-packs/archive/hello');
    const index = JSON.parse(await readFile(join(repoDir, 'index.json'), 'utf8'));
    const manifest = JSON.parse(await readFile(join(repoDir, 'blobs/sha256', index.manifests[0].digest.slice(7)), 'utf8'));
    const layerPath = join(repoDir, 'blobs/sha256', manifest.layers[0].digest.slice(7));
    const bytes = await readFile(layerPath);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 20) ^ 0xff, bytes.length - 20);
    await writeFile(layerPath, bytes);
    const out = join(root, 'tampered-out');
    const pull = await runCli(['pull', 'hello:1.0.0', '--oci-layout', store, '-o', out]);
    expect(pull.code).toBe(1);
    expect(pull.stderr).toMatch(/digest|not valid gzip/i);
    await expect(readdir(out)).rejects.toThrow();
    expect((await readdir(root)).filter((f) => f.includes('packpub-'))).toEqual([]);
  });

  it('gives reproducible manifest digests with SOURCE_DATE_EPOCH', async () => {
    const env = { SOURCE_DATE_EPOCH: '1600000000' };
    const a = await runCli(['push', pack, '--oci-layout', join(root, 'a'), '--json'], { env });
    const b = await runCli(['push', pack, '--oci-layout', join(root, 'b'), '--json'], { env });
    expect(a.code).toBe(0);
    const da = JSON.parse(a.stdout).results[0].digest;
    expect(da).toMatch(/^sha256:/);
    expect(JSON.parse(b.stdout).results[0].digest).toBe(da);
  });

  it('validates first: an invalid pack is not published', async () => {
    const bad = await writePack(join(root, 'bad'), { name: 'bad', version: '1.0.0', files: { 'pack.json': '{"name": "bad",' } });
    const result = await runCli(['push', bad, '--oci-layout', layout]);
    expectRun(result, { code: 1, stderr: ['INVALID', 'pack.json'] });
    expect((await runCli(['list', 'bad', '--oci-layout', layout])).stdout).not.toContain('1.0.0');
  });

  it('never reuses a remembered verdict or archive once a file changed', async () => {
    const dir = await writePack(join(root, 'cached-1.0.0'), { name: 'cached', version: '1.0.0' });
    const store = join(root, 'cache-store');
    const cacheEnv = { PACKPUB_CACHE_DIR: join(root, 'own-cache') };
    expect((await runCli(['push', dir, '--oci-layout', store], { env: cacheEnv })).code).toBe(0);
    expect((await runCli(['push', dir, '--oci-layout', store], { env: cacheEnv })).stdout).toContain('unchanged cached:1.0.0');
    await writeFile(join(dir, 'pack.json'), '{"name": "cached", "version": "1.0.0", "layer": "nope"}');
    const broken = await runCli(['push', dir, '--oci-layout', store], { env: cacheEnv });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('INVALID cached:1.0.0');
    await writePack(dir, { name: 'cached', version: '1.0.0', files: { 'README.md': '# same version, new text\n' } });
    const changed = await runCli(['push', dir, '--oci-layout', store], { env: cacheEnv });
    expect(changed.code).toBe(1);
    expect(changed.stderr).toContain('CONFLICT cached:1.0.0');
  });

  it('refuses a misspelled flag before doing anything (exit 2)', async () => {
    const store = join(root, 'typo-store');
    const result = await runCli(['push', pack, '--oci-layout', store, '--dry-runn']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown flag --dry-runn: did you mean --dry-run?');
    expect(result.stdout).toBe('');
    await expect(readdir(store)).rejects.toThrow();
  });

  it('gives a usage error (exit 2) for a folder without pack.json', async () => {
    const result = await runCli(['push', root, '--oci-layout', layout]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('has no pack.json');
    expect(result.stderr).toContain('--recursive');
  });

  describe.skipIf(!HAVE_CORPUS)('the shared corpus', () => {
    it('publishes corpus packs to a layout and pulls them back identical', async () => {
      const store = join(root, 'corpus-store');
      // The pack of most files (249: a chart archive and the same chart unpacked beside it, five charts deep, hidden
      // files) and a pack of Kubernetes manifests alone (kubeManifests, no chart). What else the corpus holds takes no other path into a layout and out: the layout stores one blob per
      // archive whatever it holds. Every corpus pack is archived and unpacked again, tree, types and contents
      // compared, by integration/archive-corpus; published through the CLI by integration/faults-push (and
      // nvidia-nvsentinel by push-registry); validated through the CLI by validate-pool.
      const folders = (await readdir(CORPUS_DIR)).filter((f) => LAYOUT_CORPUS.includes(f)).map((f) => join(CORPUS_DIR, f));
      expect(folders).toHaveLength(LAYOUT_CORPUS.length);
      const result = await runCli(['push', ...folders, '--oci-layout', store, '--json']);
      const report = JSON.parse(result.stdout);
      expect(report.results.map((r: { status: string }) => r.status)).toEqual(folders.map(() => 'published'));
      expect(result.code).toBe(0);
      for (const r of report.results as Array<{ name: string; version: string; dir: string }>) {
        const out = join(root, 'corpus-pull', r.name);
        const pull = await runCli(['pull', `${r.name}:${r.version}`, '--oci-layout', store, '-o', out]);
        expect(pull.code, pull.stderr).toBe(0);
        expect(await treeOf(out)).toEqual(await treeOf(r.dir));
      }
    });
  });
});

describe('packpub build', () => {
  const stack = stage();
  it('writes the archive and prints reference and digests', async () => {
    const dir = await stack.tempDir();
    const pack = await writePack(join(dir, 'demo'), { name: 'demo', version: '2.0.0' });
    const result = await runCli(['build', pack, '-o', 'demo.tar.gz', '--registry', 'harbor.example.com/proj'], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('harbor.example.com/proj/spectro-packs/archive/demo:2.0.0');
    expect(result.stdout).toMatch(/layer {6}sha256:[0-9a-f]{64}/);
    const { stdout } = await runChildText('tar', ['-tzf', join(dir, 'demo.tar.gz')]);
    // The top folder is <name>-<version> from pack.json, whatever the folder is called.
    expect(stdout.split('\n')[0]).toBe('demo-2.0.0/');
    await writeFile(join(dir, 'x'), '');
  });

  it('reads a relative pack folder from the run\'s working directory, which a program calling main() chooses', async () => {
    const dir = await stack.tempDir();
    await writePack(join(dir, 'demo'), { name: 'demo', version: '2.0.1' });
    // The test process runs elsewhere: the folder must be found in the run's cwd, not the process's.
    expect(process.cwd()).not.toBe(dir);
    const result = await runCli(['build', 'demo', '--json'], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    const printed = JSON.parse(result.stdout) as { archive: Record<string, unknown>; manifest: Record<string, unknown> };
    expect(printed).toMatchObject({ name: 'demo', version: '2.0.1', archive: { path: join(dir, 'demo-2.0.1.tar.gz') } });
    // Exactly the fields docs/report.md lists for `build --json`: no cache records (file lists, stat trees).
    expect(Object.keys(printed).sort()).toEqual(['archive', 'manifest', 'name', 'reference', 'version']);
    expect(Object.keys(printed.archive).sort()).toEqual(['digest', 'entries', 'fileName', 'path', 'size', 'uncompressedSize']);
    expect(Object.keys(printed.manifest).sort()).toEqual(['digest', 'size']);
    const { stdout } = await runChildText('tar', ['-tzf', join(dir, 'demo-2.0.1.tar.gz')]);
    expect(stdout.split('\n')[0]).toBe('demo-2.0.1/');
    // A missing folder is still named as typed.
    const missing = await runCli(['build', 'nope'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('pack folder "nope" does not exist');
  });
});
