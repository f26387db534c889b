import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildArchive } from '../../src/archive/build.js';
import { validatePack } from '../../src/pack/validate.js';
import { listPacks, openTarget } from '../../src/index.js';
import { MIN_WORK_FOR_WORKERS, worthWorkers } from '../../src/operations/validate-pool.js';
import { usableCpus } from '../../src/util/cores.js';
import { startRecordingProxy } from '../support/recording-proxy.js';
import { sharedRegistry, skopeoSyncManifests } from '../support/registry.js';
import { type CliRun, runBin, runCli } from '../support/cli.js';
import { CORPUS_DIR, CORPUS_SAME_PATH, HAVE_CORPUS, writePack } from '../support/packs.js';
import { spawnChild } from '../support/spawner.js';
import { setup } from '../support/stage.js';

/*
 * Validation on worker threads (src/operations/validate-pool.ts), through the built CLI: the worker entry
 * runs from dist/, so these tests spawn bin/packpub.js (npm run build first). A push of the small packs
 * alone starts no worker (less work than MIN_WORK_FOR_WORKERS, as the validation of the same tree shows): what
 * it holds back while verdicts are pending is checked in-process, the same CLI code without a process start
 * (~0.3 CPU-s each).
 */

const VALID = 12;

const world = setup(async (stack) => {
  const root = await stack.tempDir('packpub-pool-');
  const tree = join(root, 'packs');
  for (let i = 0; i < VALID; i++) await writePack(join(tree, `p${String(i).padStart(2, '0')}`), { name: `pool-${i}`, version: `1.0.${i}` });
  // Sorted last: the valid packs are validated before its verdict arrives.
  await writePack(join(tree, 'zz-bad'), { name: 'pool-bad', version: '1.0.0', packJson: { layer: 'nope' } });
  // Outside the tree push publishes: its README alone is MIN_WORK_FOR_WORKERS of bytes, so a list holding it
  // is worth starting workers (validation only checks that the README exists).
  const big = join(root, 'big');
  await writePack(big, { name: 'pool-big', version: '1.0.0' });
  await writeFile(join(big, 'README.md'), Buffer.alloc(MIN_WORK_FOR_WORKERS, 0x20));
  const small = (await readdir(tree)).sort().map((d) => join(tree, d));
  const packDirs = [big, ...small];
  // The corpus but the packs whose path another takes (CORPUS_SAME_PATH): real reports, warnings included.
  if (HAVE_CORPUS) packDirs.push(...(await readdir(CORPUS_DIR)).sort().filter((d) => !CORPUS_SAME_PATH.has(d)).map((d) => join(CORPUS_DIR, d)));
  return { root, tree, small, packDirs };
});
/** The built CLI under `node --cpu-prof`: V8 writes one profile per JavaScript thread, workers included. */
function runProfiled(args: string[], profDir: string): Promise<CliRun> {
  return runBin(args, { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] });
}

describe('packpub validate on worker threads', () => {
  it('checks many packs on worker threads, with the same reports, in the same order, as checking them one by one', async () => {
    const profDir = join(world.root, 'profiles');
    await mkdir(profDir);
    const run = await runProfiled(['validate', '--json', ...world.packDirs], profDir);
    expect(run.code, run.stderr).toBe(1);
    const reports = JSON.parse(run.stdout) as Array<{ dir: string; passed: boolean }>;
    const expected = [];
    for (const dir of world.packDirs) expected.push(await validatePack(dir));
    expect(reports).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(reports.filter((r) => !r.passed).map((r) => r.dir)).toEqual([join(world.tree, 'zz-bad')]);
    // The main thread's profile plus at least one worker thread's (2 cores or more).
    const profiles = (await readdir(profDir)).filter((f) => f.endsWith('.cpuprofile'));
    expect(profiles.length).toBeGreaterThanOrEqual(Math.min(2, usableCpus()));
    // The main thread (thread id 0 in the file name) validates packs too: one worker fewer to start.
    const main = profiles.find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f));
    const frames = (JSON.parse(await readFile(join(profDir, main ?? 'none'), 'utf8')) as { nodes: Array<{ callFrame: { functionName: string } }> }).nodes;
    expect(frames.some((n) => n.callFrame.functionName === 'validatePack')).toBe(true);
  });

  it('exits 2 for a folder that does not exist among many, with the workers started ahead stopped, before checking any pack', async () => {
    const many = [...world.packDirs.slice(0, 8), join(world.root, 'no-such-pack')];
    const run = await runBin(['validate', ...many]);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`error: pack folder "${join(world.root, 'no-such-pack')}" does not exist`);
  });

  it('checks a tree of small packs on the main thread, however many (a worker costs more than checking them), bad pack included, and says which passed', async () => {
    // One thread for what one pack and many small packs share: less work than MIN_WORK_FOR_WORKERS, no worker.
    const profDir = join(world.root, 'profiles-few');
    await mkdir(profDir);
    const few = world.small;
    expect(few.length).toBe(VALID + 1);
    const run = await runProfiled(['validate', ...few], profDir);
    expect(run.code, run.stderr).toBe(1);
    // Each pack's verdict, in the order given.
    const verdicts = few.map((dir, i) => (i < VALID ? `${dir}: pool-${i}:1.0.${i} OK` : `${dir}: pool-bad:1.0.0 FAILED`));
    expect(run.stdout.split('\n').filter((l) => / (OK|FAILED)$/.test(l))).toEqual(verdicts);
    expect(run.stdout).toContain(`${VALID + 1} packs checked: ${VALID} passed, 1 failed`);
    expect((await readdir(profDir)).filter((f) => f.endsWith('.cpuprofile'))).toHaveLength(1);
  });
});

describe('packpub push with validation overlapped with building', () => {
  const w = setup(async (stack) => {
    // The worker's registry, this file's packs under a base path of its own (`P`); the proxy sees only this file's requests.
    const registry = await sharedRegistry();
    const proxy = stack.add(await startRecordingProxy(registry.url));
    return { registry, proxy, P: registry.base };
  });
  it('touches no registry and leaves no archive behind when one pack is invalid; --continue-on-error pushes the others', async () => {
    // The archives are built in the run's work folder under TMPDIR (one of this test's own, to see it emptied).
    const tmp = join(world.root, 'tmp');
    await mkdir(tmp);
    const env = { PACKPUB_CACHE_DIR: join(world.root, 'cache') };
    // What a process would do too: no worker for these packs.
    expect(worthWorkers(world.small)).toBe(false);
    w.proxy.clear();
    const blocked = await runCli(['push', world.tree, '--recursive', '--registry', `${w.proxy.host}/${w.P}/pool`, '--json'], { env, tmpdir: tmp });
    expect(blocked.code, blocked.stderr).toBe(1);
    const report = JSON.parse(blocked.stdout) as { summary: Record<string, number>; results: Array<{ name: string; status: string; error?: { message: string } }> };
    expect(report.summary['invalid']).toBe(1);
    expect(report.summary['published'] ?? 0).toBe(0);
    const held = report.results.filter((r) => r.status === 'failed');
    expect(held).toHaveLength(VALID);
    for (const r of held) expect(r.error?.message).toBe('not pushed because other packs are invalid');
    expect(w.proxy.requests.filter((r) => r.path.startsWith('/v2/'))).toEqual([]);
    // Archives built while the verdicts came in are gone with the run's work folder.
    expect(await readdir(join(tmp, 'packpub-work'))).toEqual([]);

    // One pack pushed at a time: still nothing reaches the registry.
    const one = await runCli(['push', world.tree, '--recursive', '--registry', `${w.proxy.host}/${w.P}/pool`, '--concurrency', '1', '--json'], { env: { PACKPUB_CACHE_DIR: join(world.root, 'cache-one') }, tmpdir: tmp });
    expect(one.code, one.stderr).toBe(1);
    const oneReport = JSON.parse(one.stdout) as typeof report;
    expect(oneReport.summary).toEqual(report.summary);
    expect(w.proxy.requests.filter((r) => r.path.startsWith('/v2/'))).toEqual([]);
    expect(await readdir(join(tmp, 'packpub-work'))).toEqual([]);

    const pushed = await runCli(['push', world.tree, '--recursive', '--registry', `${w.proxy.host}/${w.P}/pool`, '--continue-on-error', '--json'], { env, tmpdir: tmp });
    expect(pushed.code, pushed.stderr).toBe(1);
    const after = JSON.parse(pushed.stdout) as typeof report;
    expect(after.summary['published']).toBe(VALID);
    expect(after.summary['invalid']).toBe(1);
    const tagged = w.proxy.requests.filter((r) => r.method === 'PUT' && /\/manifests\/1\.0\.\d+$/.test(r.path) && r.status === 201);
    expect(tagged.map((r) => r.path).sort()).toEqual(
      Array.from({ length: VALID }, (_, i) => `/v2/${w.P}/pool/spectro-packs/archive/pool-${i}/manifests/1.0.${i}`).sort(),
    );
    expect(await readdir(join(tmp, 'packpub-work'))).toEqual([]);
  });

  it.each([
    ['in its upload slot', undefined],
    // One slot: the packs after the first are built ahead of their slot while it uploads; a build that fails there is
    // made again in the slot, which reports why.
    ['ahead of its upload slot (--concurrency 1)', 1],
  ])('does not publish a pack whose folder changed after its check on a worker, before its build %s from that check\'s listing', async (_, concurrency) => {
    // The library of dist/ (its worker file beside it), in a process of its own: once the last verdict is in, a file
    // is added to p00 (a new one per case), checked on a worker whose listing its build uses. The build stats the listed
    // entries again.
    const dirs = [world.packDirs[0] as string, ...world.small.slice(0, 2)];
    const edited = dirs[1] as string;
    const layout = join(world.root, `layout-edited-${concurrency ?? 'default'}`);
    const lib = pathToFileURL(fileURLToPath(new URL('../../dist/index.js', import.meta.url))).href;
    const code = `
      import { lstatSync, writeFileSync } from 'node:fs';
      const { openTarget, pushPacks } = await import(${JSON.stringify(lib)});
      const dirs = ${JSON.stringify(dirs)};
      const target = await openTarget({ ociLayout: ${JSON.stringify(layout)} });
      let verdicts = 0;
      const report = await pushPacks(target, { packs: dirs, ${concurrency === undefined ? '' : `concurrency: ${concurrency}, `}onEvent: (e) => {
        if (e.type !== 'validated' || ++verdicts < dirs.length) return;
        // A file time the kernel's coarse clock stamps past this moment (so past the check's start).
        const now = Date.now();
        do writeFileSync(${JSON.stringify(join(edited, `added-${concurrency ?? 'default'}.txt`))}, 'added after the check');
        while (lstatSync(${JSON.stringify(join(edited, `added-${concurrency ?? 'default'}.txt`))}).ctimeMs < now + 1);
      } });
      await target.store.close();
      process.stdout.write(JSON.stringify(report.results.map((r) => [r.name, r.status, r.error?.message ?? ''])));
    `;
    // A file, not `-e`: the workers inherit the process's flags, and --input-type stops a worker's start.
    const script = join(world.root, `push-edited-${concurrency ?? 'default'}.mjs`);
    await writeFile(script, code);
    const child = spawnChild(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (c: Buffer) => out.push(c));
    child.stderr?.on('data', (c: Buffer) => err.push(c));
    const exit = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
    expect(exit, Buffer.concat(err).toString('utf8')).toBe(0);
    expect(JSON.parse(Buffer.concat(out).toString('utf8'))).toEqual([
      ['pool-big', 'published', ''],
      ['pool-0', 'failed', 'the pack folder changed while packpub was packing pool-0-1.0.0'],
      ['pool-1', 'published', ''],
    ]);
    // The layout holds the two others and nothing of pool-0; the run's work folder is gone (checked by the CLI tests).
    const target = await openTarget({ ociLayout: layout });
    try {
      const held = await listPacks(target);
      expect(held.map((p) => [p.name, p.versions.map((v) => v.version)]).sort()).toEqual([
        ['pool-1', ['1.0.1']],
        ['pool-big', ['1.0.0']],
      ]);
    } finally {
      await target.store.close();
    }
  });

  it('builds the archives on the validation workers, the same bytes as a build on the calling thread, and the registry holds them', async () => {
    // The big pack makes the run worth workers; the small valid packs are built there too.
    const dirs = [world.packDirs[0] as string, ...world.small.slice(0, VALID)];
    const profDir = join(world.root, 'profiles-push');
    await mkdir(profDir);
    const run = await runProfiled(['push', ...dirs, '--registry', `${w.registry.host}/${w.P}/built`, '--no-cache', '--json'], profDir);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { results: Array<{ dir: string; name: string; version: string; status: string; layerDigest: string; digest: string }> };
    expect(report.results.map((r) => r.status)).toEqual(dirs.map(() => 'published'));
    const out = join(world.root, 'here');
    await mkdir(out);
    // skopeo reads every pushed tag (one process for all of them, every blob fetched and checked against its digest).
    const repo = (name: string) => `${w.P}/built/spectro-packs/archive/${name}`;
    const read = await skopeoSyncManifests(w.registry.host, report.results.map((r) => ({ repo: repo(r.name), tag: r.version })), await mkdtemp(join(world.root, 'skopeo-')));
    for (const r of report.results) {
      const here = await buildArchive(r.dir, join(out, `${r.name}.tar.gz`), { name: r.name, version: r.version });
      expect(r.layerDigest, r.name).toBe(here.digest);
      const held = JSON.parse((read.get(`${repo(r.name)}:${r.version}`) ?? '{}').toString()) as { layers: Array<{ digest: string; size: number }> };
      expect(held.layers, r.name).toEqual([expect.objectContaining({ digest: here.digest, size: here.size })]);
    }
    // The tar writers (tarChunksHere for a pack deflated on the thread, tarBytes for a larger one) run on a
    // worker thread (thread id > 0 in the profile's name), never on the main thread.
    const profiles = (await readdir(profDir)).filter((f) => f.endsWith('.cpuprofile'));
    const writesTar = async (f: string) =>
      (JSON.parse(await readFile(join(profDir, f), 'utf8')) as { nodes: Array<{ callFrame: { functionName: string } }> }).nodes.some((n) => n.callFrame.functionName === 'tarBytes' || n.callFrame.functionName === 'tarChunksHere');
    const main = profiles.filter((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f));
    expect(main).toHaveLength(1);
    expect(await writesTar(main[0] as string)).toBe(false);
    expect((await Promise.all(profiles.filter((f) => !main.includes(f)).map(writesTar))).some(Boolean)).toBe(true);
  });
});
