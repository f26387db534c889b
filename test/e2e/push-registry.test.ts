import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256Digest } from '../../src/oci/digest.js';
import { EMPTY_CONFIG } from '../../src/oci/manifest.js';
import { startRecordingProxy } from '../support/recording-proxy.js';
import { skopeoInspectRaw, skopeoSyncManifests } from '../support/registry.js';
import { runCli } from '../support/cli.js';
import { tempDir, treeOf } from '../support/files.js';
import { CORPUS_DIR, HAVE_CORPUS, writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';
import { sharedRegistryWith } from '../support/push-setup.js';

const USER = 'ci-bot';
const PASSWORD = 'e2e-secret-Pa55word';
const BASE = 'spectro-oci-registry';

/*
 * Basic auth (htpasswd) and a token service (Harbor-like): the journeys below with credentials. Pushes to a
 * registry without auth take the same path minus the challenge, and most e2e files push to one (kill-sigkill,
 * validate-pool, concurrent-push, release-tree, ...): a third, anonymous pass of this file repeated their work.
 */
type Mode = 'htpasswd' | 'token';
/** The corpus packs each mode pushes and pulls back: the largest layer (about 750 KiB) and a small one. */
const CORPUS_SUBSET = ['nvidia-nvsentinel-v1.1.0', 'hello-universe-pack'];

describe.each<Mode>(['htpasswd', 'token'])('push to a real registry (%s)', (mode) => {
  const cli = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => runCli([...args, '--registry', w.registryArg], { env: { ...w.env, ...extraEnv } });
  const creds = { username: USER, password: PASSWORD };
  const uploads = () => w.proxy.count((r) => r.method === 'POST' && r.path.includes('/blobs/uploads/'));
  /** A run refused for different content under `ref`: exit 1, the conflict and Palette's cache named. */
  const expectConflict = (run: { code: number; stderr: string }, ref: string) => {
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`CONFLICT ${ref}`);
    expect(run.stderr).toContain('Palette caches pack digests');
  };

  /**
   * A journey whose requests and outcome do not depend on how the registry authenticates (the cache's
   * look-ups, conflicts and --force, tag/list/inspect/pull of what was pushed): run in token mode only, the
   * mode with more steps (a challenge and a token per repository scope). Basic auth's pushes, mounts, a
   * wrong password and --password-stdin are the other cases here; secrets-commands-htpasswd runs every
   * command (tag, list, inspect, pull, copy) with the Basic password.
   */
  const tokenOnly = (name: string, test: () => Promise<void>) => {
    if (mode === 'token') it(name, test);
  };

  const w = setup(async (stack) => {
    // The worker's registry of this mode (token: a token server of the file's own on the shared realm), every
    // repository under the base path it hands this block (`base`).
    const { registry, tokens: token } = await sharedRegistryWith(stack, mode, { [USER]: PASSWORD });
    const proxy = stack.add(await startRecordingProxy(registry.url));
    const base = `${registry.base}/${BASE}`;
    const registryArg = `${proxy.host}/${base}`;
    const root = await stack.tempDir();
    // A cache of each mode's own: the cache keys tags by repository path, which both modes' registries share.
    const env = { SOURCE_DATE_EPOCH: '1700000000', PACKPUB_USERNAME: USER, PACKPUB_PASSWORD: PASSWORD, PACKPUB_CACHE_DIR: join(root, 'cache') };
    return { registry, token, proxy, root, env, registryArg, base };
  });
  it('publishes, then recognises the same content without uploading anything', async () => {
    const pack = await writePack(join(w.root, 'hello'), { name: 'hello', version: '1.0.0' });
    const first = await cli(['push', pack]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`published hello:1.0.0 -> ${w.proxy.host}/${w.base}/spectro-packs/archive/hello:1.0.0`);
    // The {} config into the base repository (with its empty artifact) and into the pack repository, then the layer.
    expect(uploads()).toBe(3);

    // skopeo, an independent client, reads exactly the ORAS 1.0.0 shape we pushed.
    const raw = await skopeoInspectRaw(`${w.registry.host}/${w.base}/spectro-packs/archive/hello:1.0.0`, { creds });
    expect(raw.toString()).toMatch(
      /^\{"schemaVersion":2,"mediaType":"application\/vnd\.oci\.image\.manifest\.v1\+json","config":\{"mediaType":"application\/vnd\.unknown\.config\.v1\+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2\},"layers":\[\{"mediaType":"application\/vnd\.oci\.image\.layer\.v1\.tar","digest":"sha256:[0-9a-f]{64}","size":\d+,"annotations":\{"org\.opencontainers\.image\.title":"hello-1\.0\.0\.tar\.gz"\}\}\],"annotations":\{"org\.opencontainers\.image\.created":"2023-11-14T22:13:20Z"\}\}$/,
    );
    // The base repository exists (an untagged empty artifact, as the Palette docs push with ORAS).
    const catalog = await cli(['list']);
    expect(catalog.code).toBe(0);

    w.proxy.clear();
    const again = await cli(['push', pack]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('unchanged hello:1.0.0');
    expect(uploads()).toBe(0);
    expect(w.proxy.count((r) => r.method === 'PUT')).toBe(0);
  });

  it('publishes a new version into an existing repository in 6 requests: the config mounted, the layer, one look-up right before the write, one read-back', async () => {
    const pack = await writePack(join(w.root, 'hello-1.1.0'), { name: 'hello', version: '1.1.0' });
    w.proxy.clear();
    const result = await cli(['push', pack, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { results: Array<{ status: string; digest: string; layerDigest: string }> };
    expect(report.results.map((r) => r.status)).toEqual(['published']);
    const repo = `/v2/${w.base}/spectro-packs/archive/hello/`;
    const sequence = w.proxy.requests
      .filter((r) => r.path.startsWith(repo) && r.status !== 401) // token mode: challenges come first
      .map((r) => `${r.method} ${r.path.slice(repo.length).replace(/^blobs\/uploads\/[^?]+\?.*$/, 'blobs/uploads/ID').replace(/sha256(:|%3A)[0-9a-f]{64}/, 'DIGEST')} ${r.status}`);
    // The cache knows the repository (1.0.0 was published from here), not this version: most likely new, so it is
    // looked up once, right before the write, not before the uploads too.
    expect(sequence).toEqual([
      `POST blobs/uploads/?mount=DIGEST&from=${encodeURIComponent(`${w.base}/spectro-packs/archive`)} 201`, // the {} config, from the base repository
      'POST blobs/uploads/ 202', // the layer: new content, small, sent without asking
      'PUT blobs/uploads/ID 201',
      'GET manifests/1.1.0 404', // what the registry holds under this version, right before the write
      'PUT manifests/1.1.0 201',
      'GET manifests/1.1.0 200', // the read-back at the end of the run (GET: the bytes hashed)
    ]);
    // What the registry holds is what was reported.
    const raw = await skopeoInspectRaw(`${w.registry.host}/${w.base}/spectro-packs/archive/hello:1.1.0`, { creds });
    expect(sha256Digest(raw)).toBe(report.results[0]?.digest);
    expect(raw.toString()).toContain(`"digest":"${report.results[0]?.layerDigest}"`);
  });

  tokenOnly('a version the cache never saw, there already: found right before the write, unchanged with this content, a conflict (the tag kept) with other', async () => {
    const repo = `/v2/${w.base}/spectro-packs/archive/hello/`;
    const mine = (r: { path: string; status?: number | undefined }) => r.path.startsWith(repo) && r.status !== 401;
    // Published from elsewhere (--no-cache: this run's cache neither reads nor learns anything).
    const same = await writePack(join(w.root, 'hello-3.0.0'), { name: 'hello', version: '3.0.0' });
    const elsewhere = await cli(['push', same, '--no-cache', '--json']);
    expect(elsewhere.code, elsewhere.stderr).toBe(0);
    const held = (JSON.parse(elsewhere.stdout) as { results: Array<{ digest: string }> }).results[0]?.digest;
    w.proxy.clear();
    const again = await cli(['push', same, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as { results: Array<{ status: string; digest: string }> }).results.map((r) => `${r.status} ${r.digest}`)).toEqual([`unchanged ${held}`]);
    // Looked up after the upload (which found the layer there: a blob upload is idempotent), and nothing written under the tag.
    expect(w.proxy.requests.filter(mine).map((r) => `${r.method} ${r.path.slice(repo.length).split('/')[0]}`)).toEqual(['POST blobs', 'POST blobs', 'PUT blobs', 'GET manifests']);

    const theirs = await writePack(join(w.root, 'hello-3.1.0-theirs'), { name: 'hello', version: '3.1.0', files: { 'README.md': '# theirs\n' } });
    const published = await cli(['push', theirs, '--no-cache', '--json']);
    expect(published.code, published.stderr).toBe(0);
    const theirDigest = (JSON.parse(published.stdout) as { results: Array<{ digest: string }> }).results[0]?.digest;
    const ours = await writePack(join(w.root, 'hello-3.1.0-ours'), { name: 'hello', version: '3.1.0', files: { 'README.md': '# ours\n' } });
    w.proxy.clear();
    const refused = await cli(['push', ours]);
    expectConflict(refused, 'hello:3.1.0');
    expect(refused.stderr).toContain('already holds different content');
    expect(w.proxy.count((r) => mine(r) && r.path.includes('/manifests/') && r.method !== 'GET')).toBe(0);
    const raw = await skopeoInspectRaw(`${w.registry.host}/${w.base}/spectro-packs/archive/hello:3.1.0`, { creds });
    expect(sha256Digest(raw)).toBe(theirDigest);
  });

  tokenOnly('a first publish of a tree: once the first 8 versions held nothing, later ones are looked up once, right before their write; one held among the first keeps every look-up first', async () => {
    /** Each pack's requests in its repository, in order (token mode's challenges left out). */
    const sequences = (names: string[]) =>
      names.map((name) => {
        const repo = `/v2/${w.base}/spectro-packs/archive/${name}/`;
        return w.proxy.requests
          .filter((r) => r.path.startsWith(repo) && r.status !== 401)
          .map((r) => `${r.method} ${r.path.slice(repo.length).replace(/^blobs\/uploads\/[^?]+\?.*$/, 'blobs/uploads/ID').replace(/\?mount=.*$/, '?mount')} ${r.status}`);
      });
    const readFirst = ['GET manifests/1.0.0 404', 'POST blobs/uploads/?mount 201', 'POST blobs/uploads/ 202', 'PUT blobs/uploads/ID 201', 'HEAD manifests/1.0.0 404', 'PUT manifests/1.0.0 201', 'GET manifests/1.0.0 200'];
    const readLater = ['POST blobs/uploads/?mount 201', 'POST blobs/uploads/ 202', 'PUT blobs/uploads/ID 201', 'GET manifests/1.0.0 404', 'PUT manifests/1.0.0 201', 'GET manifests/1.0.0 200'];
    // One pack at a time (--concurrency 1), a cache of the run's own that knows none of these repositories.
    const push = async (prefix: string, readme: (i: number) => string) => {
      const names = Array.from({ length: 10 }, (_, i) => `${prefix}-${i}`);
      const dirs = await Promise.all(names.map((name, i) => writePack(join(w.root, prefix, name), { name, version: '1.0.0', files: { 'README.md': readme(i) } })));
      return { names, dirs, run: (...more: string[]) => cli(['push', ...dirs, '--concurrency', '1', '--json', ...more], { PACKPUB_CACHE_DIR: join(w.root, prefix, 'cache') }) };
    };
    type Report = { results: Array<{ status: string; digest?: string }> };

    // Nothing of the tree on the registry: the 9th and 10th packs are read once, after their uploads (6 requests).
    const fresh = await push('fresh', () => '# ours\n');
    w.proxy.clear();
    const first = await fresh.run();
    expect(first.code, first.stderr).toBe(0);
    const published = JSON.parse(first.stdout) as Report;
    expect(published.results.map((r) => r.status)).toEqual(Array(10).fill('published'));
    expect(sequences(fresh.names)).toEqual([...Array(8).fill(readFirst), readLater, readLater]);
    const raw = await skopeoInspectRaw(`${w.registry.host}/${w.base}/spectro-packs/archive/fresh-9:1.0.0`, { creds });
    expect(sha256Digest(raw)).toBe(published.results[9]?.digest);

    // Without a cache too. The 10th there already with other content (published elsewhere): found after its upload, a
    // conflict, the tag kept.
    const later = await push('later', (i) => `# ours ${i}\n`);
    const theirs = await writePack(join(w.root, 'later-theirs'), { name: 'later-9', version: '1.0.0', files: { 'README.md': '# theirs\n' } });
    const elsewhere = await cli(['push', theirs, '--no-cache', '--json']);
    expect(elsewhere.code, elsewhere.stderr).toBe(0);
    const theirDigest = (JSON.parse(elsewhere.stdout) as Report).results[0]?.digest;
    w.proxy.clear();
    const refused = await later.run('--no-cache');
    expectConflict(refused, 'later-9:1.0.0');
    expect(refused.stderr).toContain('already holds different content');
    expect((JSON.parse(refused.stdout) as Report).results.map((r) => r.status)).toEqual([...Array(9).fill('published'), 'conflict']);
    const [eighth, tenth] = [sequences(later.names)[8], sequences(later.names)[9] ?? []];
    expect(eighth).toEqual(readLater);
    // Uploaded, then read right before the write: theirs (its layer then read to compare), no manifest written.
    expect(tenth.slice(0, 4)).toEqual([...readLater.slice(0, 3), 'GET manifests/1.0.0 200']);
    expect(tenth.filter((r) => r.startsWith('PUT manifests'))).toEqual([]);
    expect(sha256Digest(await skopeoInspectRaw(`${w.registry.host}/${w.base}/spectro-packs/archive/later-9:1.0.0`, { creds }))).toBe(theirDigest);

    // The 3rd there already with this content: every version is looked up before its uploads, the held one unchanged, nothing sent for it.
    const held = await push('held', () => '# ours\n');
    const before = await cli(['push', held.dirs[2] ?? '', '--no-cache', '--json']);
    expect(before.code, before.stderr).toBe(0);
    w.proxy.clear();
    const mixed = await held.run();
    expect(mixed.code, mixed.stderr).toBe(0);
    expect((JSON.parse(mixed.stdout) as Report).results.map((r) => r.status)).toEqual(['published', 'published', 'unchanged', ...Array(7).fill('published')]);
    const seen = sequences(held.names);
    expect(seen[2]).toEqual(['GET manifests/1.0.0 200']);
    expect(seen.filter((_, i) => i !== 2)).toEqual(Array(9).fill(readFirst));
  });

  it('mounts the config once per repository and run: two new versions of one pack in one run, both held with it', async () => {
    const first = await writePack(join(w.root, 'twice-2.0.0'), { name: 'twice', version: '2.0.0' });
    const second = await writePack(join(w.root, 'twice-2.1.0'), { name: 'twice', version: '2.1.0', files: { 'README.md': '# 2.1.0\n' } });
    w.proxy.clear();
    const result = await cli(['push', first, second, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { results: Array<{ status: string; digest: string }> };
    expect(report.results.map((r) => r.status)).toEqual(['published', 'published']);
    const repo = `/v2/${w.base}/spectro-packs/archive/twice/`;
    const mine = w.proxy.requests.filter((r) => r.path.startsWith(repo) && r.status !== 401);
    expect(mine.filter((r) => r.method === 'POST' && r.path.includes('mount=')).map((r) => r.status)).toEqual([201]);
    // Distribution accepts a manifest only when its config and layer are in the repository: both were.
    expect(mine.filter((r) => r.method === 'PUT' && r.path.includes('/manifests/')).map((r) => `${r.path.slice(repo.length)} ${r.status}`).sort()).toEqual([
      'manifests/2.0.0 201',
      'manifests/2.1.0 201',
    ]);
    for (const [i, version] of ['2.0.0', '2.1.0'].entries()) {
      const raw = await skopeoInspectRaw(`${w.registry.host}/${w.base}/spectro-packs/archive/twice:${version}`, { creds });
      expect(sha256Digest(raw)).toBe(report.results[i]?.digest);
      expect(raw.toString()).toContain(`"config":{"mediaType":"application/vnd.unknown.config.v1+json","digest":"${EMPTY_CONFIG.digest}","size":2}`);
    }
  });

  tokenOnly('refuses different content under a published version, and replaces it with --force', async () => {
    const changed = await writePack(join(w.root, 'hello-changed'), { name: 'hello', version: '1.0.0', files: { 'README.md': '# changed\n' } });
    w.proxy.clear();
    const refused = await cli(['push', changed]);
    expectConflict(refused, 'hello:1.0.0');
    expect(w.proxy.count((r) => r.method === 'PUT' || r.method === 'POST')).toBe(0);
    const forced = await cli(['push', changed, '--force']);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('overwritten hello:1.0.0');
    const inspect = await cli(['inspect', 'hello:1.0.0', '--json']);
    expect(JSON.parse(inspect.stdout).layer.digest).toBe(JSON.parse((await cli(['push', changed, '--json'])).stdout).results[0].layerDigest);
  });

  tokenOnly('tags, lists, inspects and pulls back the identical tree', async () => {
    const pack = await writePack(join(w.root, 'tools-2.1.0'), { name: 'tools', version: '2.1.0', files: { 'charts/readme.txt': 'x'.repeat(10_000) } });
    const older = await writePack(join(w.root, 'tools-2.0.9'), { name: 'tools', version: '2.0.9' });
    expect((await cli(['push', pack, older])).code).toBe(0);
    const tag = await cli(['tag', 'tools:2.1.0', '2.1.x', '2.x']);
    expect(tag.code).toBe(0);
    expect(tag.stdout).toContain(': tagged as 2.1.x\n');
    expect(tag.stdout).toContain(': tagged as 2.x\n');
    // skopeo reads both tags (one process) and gets the same manifest bytes.
    const toolsRepo = `${w.base}/spectro-packs/archive/tools`;
    const read = await skopeoSyncManifests(w.registry.host, [{ repo: toolsRepo, tag: '2.x' }, { repo: toolsRepo, tag: '2.1.0' }], await mkdtemp(join(w.root, 'skopeo-tags-')), { creds });
    const [byTag, byVersion] = [read.get(`${toolsRepo}:2.x`), read.get(`${toolsRepo}:2.1.0`)];
    expect(byTag?.length).toBeGreaterThan(0);
    expect(byTag?.equals(byVersion ?? Buffer.alloc(0))).toBe(true);

    const list = await cli(['list', '--json']);
    expect(list.code).toBe(0);
    const listed = JSON.parse(list.stdout).packs as Array<{ name: string; versions: Array<{ version: string; digest: string; size: number; created: string }> }>;
    const tools = listed.find((p) => p.name === 'tools');
    expect(tools?.versions.map((v) => v.version)).toEqual(['2.0.9', '2.1.0', '2.1.x', '2.x']);
    expect(tools?.versions[1]?.created).toBe('2023-11-14T22:13:20Z');
    expect(listed.map((p) => p.name)).toContain('hello');

    const inspect = await cli(['inspect', 'tools:2.1.0']);
    expect(inspect.code).toBe(0);
    expect(inspect.stdout).toContain('"name": "tools"');
    expect(inspect.stdout).toContain('tools-2.1.0.tar.gz');

    const out = join(w.root, 'pulled-tools');
    const pull = await cli(['pull', 'tools:2.1.0', '-o', out]);
    expect(pull.code).toBe(0);
    expect(await treeOf(out)).toEqual(await treeOf(pack));
  });

  it('explains a missing pack and a wrong password in one line, without the secret', async () => {
    const missing = await cli(['inspect', 'nope:1.0.0']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.split('\n')[0]).toMatch(/^error: .*nope:1\.0\.0 does not exist$/);
    const pack = await writePack(join(w.root, 'denied'), { name: 'denied', version: '1.0.0' });
    const wrong = await cli(['push', pack], { PACKPUB_PASSWORD: 'not-the-password' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/credentials rejected/);
    expect(wrong.stderr).not.toContain('Error:');
    expect(wrong.stdout + wrong.stderr).not.toContain('not-the-password');
    expect(wrong.stdout + wrong.stderr).not.toContain(PASSWORD);
  });

  it('takes the password from stdin with --username', async () => {
    const pack = await writePack(join(w.root, 'stdin-pack'), { name: 'stdin-pack', version: '0.1.0' });
    const result = await runCli(['push', pack, '--registry', w.registryArg, '--username', USER, '--password-stdin'], {
      stdin: `${PASSWORD}\n`,
      env: { SOURCE_DATE_EPOCH: '1700000000' },
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  // Two corpus packs, the largest layer and a small one, through the token service (a token per repository:
  // the mode with more steps; Basic auth's uploads and pulls are the cases above). Every corpus pack to a
  // registry, each read back by skopeo byte for byte, is test/integration/faults-push.test.ts's (through a
  // faulty network), and pulling each back is push-layout's: what a pack holds does not change how a registry
  // authenticates its requests, so the same packs under Basic auth proved nothing more (~2 CPU-s, ~7 s).
  if (mode === 'token') describe.skipIf(!HAVE_CORPUS)('the shared corpus', () => {
    it('pushes the largest and a small corpus pack, skopeo reads each, and each pulls back byte-identical', async () => {
      const folders = (await readdir(CORPUS_DIR)).filter((f) => CORPUS_SUBSET.includes(f)).map((f) => join(CORPUS_DIR, f));
      expect(folders).toHaveLength(CORPUS_SUBSET.length);
      const push = await cli(['push', ...folders, '--json']);
      const report = JSON.parse(push.stdout);
      expect(report.summary.published).toBe(folders.length);
      expect(push.code).toBe(0);
      const results = report.results as Array<{ name: string; version: string; dir: string; digest: string }>;
      // skopeo reads every pushed tag (one process for all of them).
      const images = results.map((r) => ({ repo: `${w.base}/spectro-packs/archive/${r.name}`, tag: r.version }));
      const read = await skopeoSyncManifests(w.registry.host, images, await mkdtemp(join(w.root, 'skopeo-')), { creds });
      for (const r of results) {
        expect(sha256Digest(read.get(`${w.base}/spectro-packs/archive/${r.name}:${r.version}`) ?? ''), `${r.name}:${r.version}`).toBe(r.digest);
        const out = join(w.root, 'corpus', r.name);
        const pull = await cli(['pull', `${r.name}:${r.version}`, '-o', out]);
        expect(pull.code, pull.stderr).toBe(0);
        expect(await treeOf(out)).toEqual(await treeOf(r.dir));
      }
    });
  });
});

describe('registry errors a user must get right', () => {
  it('a refused connection is one line, exit 1', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const pack = await writePack(join(dir, 'p'), { name: 'p', version: '1.0.0' });
      const result = await runCli(['push', pack, '--registry', '127.0.0.1:1/base', '--retry-attempts', '1']);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/127\.0\.0\.1:1/);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      await writeFile(join(dir, 'done'), '');
    } finally {
      await cleanup();
    }
  });

  it('an invalid base path or pack name names the offending part (exit 2 / 1)', async () => {
    const bad = await runCli(['list', '--registry', 'example.com/Bad_Path']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"Bad_Path"');
    const scheme = await runCli(['list', '--registry', 'https://example.com/base']);
    expect(scheme.code).toBe(2);
    expect(scheme.stderr).toContain('must not include a URL scheme');
  });
});
