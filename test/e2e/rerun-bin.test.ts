import { chmod, cp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker } from 'node:worker_threads';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectRun, runBin, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { sharedProxiedRegistry, packTree, settledPastRacyMargin, type PackTree, type ProxiedRegistry } from '../support/push-setup.js';
import { RegistryReader } from '../support/registry-reader.js';
import { stage } from '../support/stage.js';
import { indexDocument, indexDocumentText } from '../../src/operations/archive-cache.js';
import { PortChecksAhead } from '../../src/operations/precheck.js';

/*
 * The built CLI (bin/packpub.js -> dist/), as users and the bench run it, against a real registry behind a
 * recording proxy: what a re-run of an unchanged tree asks the registry, and that the registry's word still
 * decides. The registry asks for no credentials, as the bench's does: a re-run with Basic auth is
 * push-registry.test.ts's (htpasswd: unchanged, nothing uploaded), and distribution checks a Basic password
 * with bcrypt on every request, which cost the registry here about half its CPU. In-process tests load the
 * sources through vitest, so only a test like this one sees what the built modules import at run time: the
 * first test's unchanged re-run (the bench's path) is a process of the built CLI, on the archive cache of a
 * publish in-process (a first publish by the built CLI to a registry is bundle.test.ts's, which records
 * what it loads). The later tests check what a run reports and asks the registry, the same CLI code run
 * in-process (runCli), which spares a process start-up per run.
 */

const BASE = 'rerun';

interface PushJson {
  results: Array<{ dir: string; name: string; version: string; status: string; digest?: string; layerDigest?: string; error?: { code: string; message: string } }>;
}

describe('re-running a push with the built CLI', () => {
  const stack = stage();
  let reg: ProxiedRegistry;
  /** BASE under the base path the worker's shared registry hands this file. */
  let base: string;
  let work: PackTree;
  let reader: RegistryReader;
  let env: NodeJS.ProcessEnv;
  const pushArgs = (args: string[]) => ['push', ...args, '--registry', `${reg.proxy.host}/${base}`, '--json'];
  /** The built CLI as a process (`bin`) or the same code in-process. */
  const push = (args: string[], bin = false) => (bin ? runBin(pushArgs(args), { env }) : runCli(pushArgs(args), { env }));
  const repoOf = (name: string) => `${base}/spectro-packs/archive/${name}`;
  /** Requests addressed to one pack repository, as `METHOD path-below-it status`. */
  const requestsTo = (name: string) => {
    const prefix = `/v2/${repoOf(name)}/`;
    return reg.proxy.requests
      .filter((r) => r.path.startsWith(prefix) && r.status !== 401)
      .map((r) => `${r.method} ${r.path.slice(prefix.length).replace(/^blobs\/uploads\/[^?]+\?.*$/, 'blobs/uploads/ID').replace(/sha256:[0-9a-f]{64}/, 'DIGEST')} ${r.status}`);
  };

  /**
   * The trees of the tests below that publish one of their own, made before the first test and settled past
   * the racy margin together (one wait of about a second, not one per test): a push records every stat
   * signature only of what changed before that margin, so a re-run knows the folders from the cache.
   */
  const OWN_TREES = { ahead: [3, 18], 'ahead-bin': [4, 22], worker: [2, 23], bumped: [2, 19], deleted: [2, 20], cached: [3, 21] } as const;
  let ownTrees: Record<keyof typeof OWN_TREES, PackTree>;

  /** The tree `prefix` of OWN_TREES, published straight to the registry. */
  const publishedTree = async (prefix: keyof typeof OWN_TREES) => {
    const own = ownTrees[prefix];
    const ownEnv = own.env;
    const first = await runCli(['push', own.tree, '--recursive', '--registry', `${reg.registry.host}/${base}`, '--json'], { env: ownEnv });
    expectRun(first, { code: 0 });
    return { own, ownEnv, published: (JSON.parse(first.stdout) as PushJson).results };
  };

  beforeAll(async () => {
    const shared = await sharedProxiedRegistry(stack);
    reg = shared;
    base = `${shared.registry.base}/${BASE}`;
    reader = new RegistryReader(reg.registry.url);
    work = await packTree(stack, 3, { seed: 16, prefix: 'rerun' });
    env = work.env;
    const made = await Promise.all(Object.entries(OWN_TREES).map(async ([prefix, [count, seed]]) => [prefix, await packTree(stack, count, { seed, prefix })] as const));
    ownTrees = Object.fromEntries(made) as typeof ownTrees;
    await Promise.all(made.map(([, own]) => settledPastRacyMargin(own.tree)));
  });

  it('publishes a tree, then confirms each unchanged version with one conditional request and uploads nothing', async () => {
    const first = await push([work.tree, '--recursive']);
    expectRun(first, { code: 0 });
    const published = (JSON.parse(first.stdout) as PushJson).results;
    expect(published.map((r) => r.status)).toEqual(['published', 'published', 'published']);
    const holdings = await reader.holdings(base);
    expect(holdings.problems).toEqual([]);
    for (const r of published) expect(holdings.tags.get(`${repoOf(r.name)}:${r.version}`)).toBe(r.digest);

    reg.proxy.clear();
    const again = await push([work.tree, '--recursive'], true);
    expectRun(again, { code: 0 });
    const results = (JSON.parse(again.stdout) as PushJson).results;
    expect(results.map((r) => [r.status, r.digest])).toEqual(published.map((r) => ['unchanged', r.digest]));
    // The GET offered the digest the first run published (If-None-Match) and the registry answered 304: the
    // tag still holds that manifest, whose layer is the archive this content builds. Nothing was written, so
    // there is nothing of this run for a read-back at the end to confirm.
    for (const pack of work.packs) expect(requestsTo(pack.name)).toEqual([`GET manifests/${pack.version} 304`]);
    expect(reg.proxy.count((r) => r.method !== 'GET' && r.method !== 'HEAD')).toBe(0);
    expect(await reader.tagDigests(base)).toEqual(holdings.tags);
  });

  it('still finds a version replaced in the registry between runs, although the cache knows the folder', async () => {
    const [victim, other] = work.packs;
    if (victim === undefined || other === undefined) throw new Error('packTree made too few packs');
    // Another publisher replaces the version with different content (a copy of the folder, one file changed).
    const copy = join(work.root, 'elsewhere');
    await cp(victim.dir, copy, { recursive: true });
    await writeFile(join(copy, 'README.md'), '# replaced by someone else\n');
    const replaced = await runCli(['push', copy, '--registry', `${reg.registry.host}/${base}`, '--force', '--json'], { env: { ...env, PACKPUB_CACHE_DIR: join(work.root, 'other-cache') } });
    expectRun(replaced, { code: 0 });
    const theirs = (JSON.parse(replaced.stdout) as PushJson).results[0];
    expect(theirs?.status).toBe('overwritten');

    reg.proxy.clear();
    const rerun = await push([work.tree, '--recursive']);
    expectRun(rerun, { code: 1 });
    const results = (JSON.parse(rerun.stdout) as PushJson).results;
    const mine = results.find((r) => r.name === victim.name);
    expect(mine?.status).toBe('conflict');
    expect(mine?.error?.message).toContain(`already holds different content (published layer ${theirs?.layerDigest}`);
    // The digest this cache remembered was offered and is not what the tag holds: the registry sent the manifest. Its
    // layer, which no build here made, was read to compare with this build's tar (another zlib's could hold it).
    expect(requestsTo(victim.name)).toEqual([`GET manifests/${victim.version} 200`, 'GET blobs/DIGEST 200']);
    expect(results.filter((r) => r.name !== victim.name).map((r) => r.status)).toEqual(['unchanged', 'unchanged']);
    // The other publisher's version is still there, untouched.
    expect((await reader.tagDigests(base)).get(`${repoOf(victim.name)}:${victim.version}`)).toBe(theirs?.digest);
    expect(reg.proxy.count((r) => r.method === 'PUT' || r.method === 'POST')).toBe(0);
  });

  it('knows unchanged folders from the cache by their stat signatures, and never a changed one', async () => {
    const { own, ownEnv, published } = await publishedTree('ahead');
    const [changed, ...kept] = own.packs;
    if (changed === undefined) throw new Error('packTree made too few packs');
    await writeFile(join(changed.dir, 'README.md'), '# changed after publishing, a few bytes longer than before\n');

    reg.proxy.clear();
    const again = await runCli(['push', own.tree, '--recursive', '--registry', `${reg.proxy.host}/${base}`, '--json'], { env: ownEnv });
    expectRun(again, { code: 1 });
    const results = (JSON.parse(again.stdout) as PushJson).results;
    const mine = results.find((r) => r.name === changed.name);
    expect(mine?.status).toBe('conflict');
    expect(mine?.layerDigest).not.toBe(published.find((r) => r.name === changed.name)?.layerDigest);
    expect(results.filter((r) => r.name !== changed.name).map((r) => [r.name, r.status, r.digest])).toEqual(
      kept.map((p) => [p.name, 'unchanged', published.find((r) => r.name === p.name)?.digest]),
    );
    for (const pack of kept) expect(requestsTo(pack.name)).toEqual([`GET manifests/${pack.version} 304`]);
    // The changed folder is still the same version: the read sent before its check (under the version the
    // cache remembered) is the one its conflict was decided on, not asked again.
    expect(requestsTo(changed.name)).toEqual([`GET manifests/${changed.version} 304`]);
    expect(reg.proxy.count((r) => r.method !== 'GET' && r.method !== 'HEAD')).toBe(0);
  });

  it('sees every change with the built CLI (which checks the remembered folders ahead on a worker thread when a core is idle): an edit of the same size, a new file, a mode change', async () => {
    const { own, ownEnv, published } = await publishedTree('ahead-bin');
    const [edited, added, executable, kept] = own.packs;
    if (edited === undefined || added === undefined || executable === undefined || kept === undefined) throw new Error('packTree made too few packs');
    const readme = join(edited.dir, 'README.md');
    const text = await readFile(readme, 'utf8');
    expect(text.toUpperCase()).not.toBe(text);
    await writeFile(readme, text.toUpperCase()); // in place, same size
    await writeFile(join(added.dir, 'NOTES.md'), 'added after publishing\n');
    await chmod(join(executable.dir, 'README.md'), 0o755);

    reg.proxy.clear();
    const again = await runBin(['push', own.tree, '--recursive', '--registry', `${reg.proxy.host}/${base}`, '--json'], { env: ownEnv });
    expectRun(again, { code: 1 });
    const results = (JSON.parse(again.stdout) as PushJson).results;
    const was = (name: string) => published.find((r) => r.name === name);
    for (const changed of [edited, added, executable]) {
      const mine = results.find((r) => r.name === changed.name);
      expect(mine?.status).toBe('conflict');
      expect(mine?.layerDigest).not.toBe(was(changed.name)?.layerDigest);
    }
    expect(results.find((r) => r.name === kept.name)).toMatchObject({ status: 'unchanged', digest: was(kept.name)?.digest });
    expect(requestsTo(kept.name)).toEqual([`GET manifests/${kept.version} 304`]);
    // Nothing written: each version still holds what the first run published.
    expect(reg.proxy.count((r) => r.method !== 'GET' && r.method !== 'HEAD')).toBe(0);
    const held = await reader.tagDigests(base);
    for (const p of own.packs) expect(held.get(`${repoOf(p.name)}:${p.version}`)).toBe(was(p.name)?.digest);
  });

  it("the built worker that checks ahead (as bin/packpub.js starts it) loads its built-ins, says so, then answers for the remembered folders below the named ones", async () => {
    const { own } = await publishedTree('worker');
    const [edited, kept] = own.packs;
    if (edited === undefined || kept === undefined) throw new Error('packTree made too few packs');
    await writeFile(join(edited.dir, 'README.md'), '# changed after publishing\n');
    const { port1, port2 } = new MessageChannel();
    const loaded = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(fileURLToPath(new URL('../../bin/checks-ahead.cjs', import.meta.url)), {
      workerData: { args: ['push', own.tree, '--recursive', '--registry', `${reg.proxy.host}/${base}`], port: port2, loaded },
      transferList: [port2],
      env: own.env,
    });
    const exit = await new Promise<number>((resolve, reject) => worker.once('exit', resolve).once('error', reject));
    expect(exit).toBe(0);
    // The word bin/packpub.js waits for before it sets its V8 flags.
    expect(Atomics.load(loaded, 0)).toBe(1);
    const answers = new PortChecksAhead(port1);
    expect(answers.answer(await realpath(kept.dir))).toMatchObject({ held: true });
    expect(answers.answer(await realpath(edited.dir))).toMatchObject({ held: false });
    // Its last message came too: a run asking for a folder it did not answer does not wait.
    expect(answers.wait(join(own.tree, 'not-remembered'))).toBeUndefined();
    port1.close();
  });

  it('the check-ahead worker loads, before saying so, every built-in module the built worker imports', async () => {
    const importsOf = async (file: string) =>
      [...(await readFile(fileURLToPath(new URL(file, import.meta.url)), 'utf8')).matchAll(/\brequire\(["'](node:[^'"]+)["']\)/g)].map((m) => m[1]);
    const worker = await importsOf('../../dist/bundle/precheck-worker.cjs');
    expect(worker).toContain('node:crypto');
    expect(await importsOf('../../bin/checks-ahead.cjs')).toEqual(expect.arrayContaining(worker));
  });

  it('a check-ahead worker whose load fails says so before it ends, so bin/packpub.js does not wait out its 100 ms', async () => {
    // A module loaded first in the worker (--require) refuses node:crypto, the built-in the worker loads first.
    const refuse = join(await stack.tempDir('packpub-refuse-'), 'refuse-crypto.cjs');
    await writeFile(
      refuse,
      "const Module = require('node:module');\nconst load = Module._load;\nModule._load = function (request, ...rest) { if (request === 'node:crypto') throw new Error('refused by the test'); return load.call(this, request, ...rest); };\n",
    );
    const loaded = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(fileURLToPath(new URL('../../bin/checks-ahead.cjs', import.meta.url)), {
      workerData: { args: [], loaded },
      execArgv: ['--require', refuse],
      stdout: true,
      stderr: true,
    });
    const failed = await new Promise<Error>((resolve) => worker.once('error', resolve));
    expect(failed.message).toBe('refused by the test');
    expect(Atomics.load(loaded, 0)).toBe(1);
  });

  it('publishes a folder whose version changed since the cache knew it, and leaves the version it remembered as it was', async () => {
    const { own, ownEnv, published } = await publishedTree('bumped');
    const [bumped, kept] = own.packs;
    if (bumped === undefined || kept === undefined) throw new Error('packTree made too few packs');
    const packJson = join(bumped.dir, 'pack.json');
    const doc = JSON.parse(await readFile(packJson, 'utf8')) as { version: string };
    const newVersion = `${bumped.version}-next`;
    await writeFile(packJson, JSON.stringify({ ...doc, version: newVersion }, null, 2));

    reg.proxy.clear();
    const again = await runCli(['push', own.tree, '--recursive', '--registry', `${reg.proxy.host}/${base}`, '--json'], { env: ownEnv });
    expectRun(again, { code: 0 });
    const results = (JSON.parse(again.stdout) as PushJson).results;
    expect(results.map((r) => [r.name, r.version, r.status]).sort()).toEqual(
      [
        [bumped.name, newVersion, 'published'],
        [kept.name, kept.version, 'unchanged'],
      ].sort(),
    );
    // The version the cache remembered was only read (the read sent before the folder's check), never written.
    const old = requestsTo(bumped.name).filter((r) => r.includes(`manifests/${bumped.version} `));
    expect(old).toEqual([`GET manifests/${bumped.version} 304`]);
    const held = await reader.tagDigests(base);
    expect(held.get(`${repoOf(bumped.name)}:${bumped.version}`)).toBe(published.find((r) => r.name === bumped.name)?.digest);
    expect(held.get(`${repoOf(bumped.name)}:${newVersion}`)).toBe(results.find((r) => r.name === bumped.name)?.digest);
  });

  it('writes nothing while another pack is invalid, although the unchanged packs were already looked up', async () => {
    // Unchanged packs are read on the registry while the others are still being validated; a write waits for every verdict.
    const before = await reader.tagDigests(base);
    const bad = join(work.tree, 'zz-bad');
    await writePack(bad, { name: 'rerun-bad', version: '1.0.0', packJson: { layer: 'nope' } });
    try {
      reg.proxy.clear();
      const run = await push([work.tree, '--recursive']);
      expectRun(run, { code: 1 });
      const results = (JSON.parse(run.stdout) as PushJson).results;
      expect(results.find((r) => r.dir === bad)?.status).toBe('invalid');
      const held = results.filter((r) => r.dir !== bad);
      expect(held.map((r) => [r.status, r.error?.message])).toEqual(work.packs.map(() => ['failed', 'not pushed because other packs are invalid']));
      // At most the one read of each version; no upload, no manifest, no tag.
      for (const pack of work.packs) expect([[], [`GET manifests/${pack.version} 304`]]).toContainEqual(requestsTo(pack.name));
      expect(reg.proxy.count((r) => r.method !== 'GET' && r.method !== 'HEAD')).toBe(0);
      expect(await reader.tagDigests(base)).toEqual(before);
    } finally {
      await rm(bad, { recursive: true, force: true });
    }
  });

  it('publishes again a version deleted from the registry since the run that remembered its manifest', async () => {
    const { own, ownEnv, published } = await publishedTree('deleted');
    const [gone, kept] = own.packs;
    if (gone === undefined || kept === undefined) throw new Error('packTree made too few packs');
    const digest = published.find((r) => r.name === gone.name)?.digest ?? '';
    const removed = await fetch(`${reg.registry.url}/v2/${repoOf(gone.name)}/manifests/${digest}`, { method: 'DELETE' });
    expect(removed.status).toBe(202);
    expect((await reader.tagDigests(base)).has(`${repoOf(gone.name)}:${gone.version}`)).toBe(false);

    reg.proxy.clear();
    const again = await runCli(['push', own.tree, '--recursive', '--registry', `${reg.proxy.host}/${base}`, '--json'], { env: ownEnv });
    expectRun(again, { code: 0 });
    const results = (JSON.parse(again.stdout) as PushJson).results;
    expect(results.map((r) => [r.name, r.status, r.digest]).sort()).toEqual(
      [
        [gone.name, 'published', digest],
        [kept.name, 'unchanged', published.find((r) => r.name === kept.name)?.digest],
      ].sort(),
    );
    // The digest offered for the deleted tag was not confirmed: the registry said the tag is unknown.
    expect(requestsTo(gone.name)[0]).toBe(`GET manifests/${gone.version} 404`);
    expect(requestsTo(kept.name)).toEqual([`GET manifests/${kept.version} 304`]);
    expect((await reader.tagDigests(base)).get(`${repoOf(gone.name)}:${gone.version}`)).toBe(digest);
  });

  it('offers the registry only remembered manifests whose bytes hash to their digest, and takes its answer over the cache', async () => {
    const { own, ownEnv, published } = await publishedTree('cached');
    const [damaged, swapped, other] = own.packs;
    if (damaged === undefined || swapped === undefined || other === undefined) throw new Error('packTree made too few packs');
    const indexFile = join(own.env['PACKPUB_CACHE_DIR'] ?? '', 'index.json');
    const index = indexDocument(await readFile(indexFile, 'utf8'));
    if (index === undefined) throw new Error('the first run left no index this build reads');
    const keyOf = (p: { name: string; version: string }) => `${repoOf(p.name)}:${p.version}`;
    const entry = (p: { name: string; version: string }) => {
      const e = index.manifests[keyOf(p)];
      if (e === undefined) throw new Error(`the first run remembered no manifest for ${keyOf(p)}`);
      return e;
    };
    // One entry's text no longer hashes to its digest; another names a valid manifest the tag does not hold.
    index.manifests[keyOf(damaged)] = { ...entry(damaged), text: entry(damaged).text.replace('"schemaVersion":2', '"schemaVersion": 2') };
    index.manifests[keyOf(swapped)] = entry(other);
    await writeFile(indexFile, indexDocumentText(index));

    reg.proxy.clear();
    const again = await runCli(['push', own.tree, '--recursive', '--registry', `${reg.proxy.host}/${base}`, '--json'], { env: ownEnv });
    expectRun(again, { code: 0 });
    const results = (JSON.parse(again.stdout) as PushJson).results;
    expect(results.map((r) => [r.name, r.status, r.digest]).sort()).toEqual(published.map((r) => [r.name, 'unchanged', r.digest]).sort());
    // The damaged entry was not offered and the swapped one not confirmed: the registry sent both manifests.
    expect(requestsTo(damaged.name)).toEqual([`GET manifests/${damaged.version} 200`]);
    expect(requestsTo(swapped.name)).toEqual([`GET manifests/${swapped.version} 200`]);
    expect(requestsTo(other.name)).toEqual([`GET manifests/${other.version} 304`]);
    expect(reg.proxy.count((r) => r.method !== 'GET' && r.method !== 'HEAD')).toBe(0);
    // What the registry answered is remembered in place of the wrong entries.
    const after = indexDocument(await readFile(indexFile, 'utf8'));
    for (const p of [damaged, swapped]) expect(after?.manifests[keyOf(p)]?.digest).toBe(published.find((r) => r.name === p.name)?.digest);
  });
});
