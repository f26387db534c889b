import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, readdir, stat, symlink, truncate, utimes, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MIN_WORK_FOR_WORKERS } from '../../src/operations/validate-pool.js';
import { expectRun, runBin, type CliRun } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * The built CLI compiles its bundle with V8's code cache, kept in packpub's cache folder (bin/code-cache.js).
 * A run must do exactly what it does without one whatever the folder holds: a damaged file, a file made for
 * other code of the same length (V8 itself checks only the length), or a folder it cannot write. Real
 * processes: the cache is read before the program runs.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const execFileP = promisify(execFile);
/** How long something took, the only part of a run's output that differs from run to run. */
const DURATION = /\b\d+(\.\d+)? ?m?s\b/g;

const world = setup(async (stack) => {
  const root = await stack.tempDir();
  const pack = await writePack(join(root, 'hello-1.0.0'), { name: 'hello', version: '1.0.0' });
  return { root, pack };
});

let n = 0;

/** Push the pack to a new OCI layout with `cache` as packpub's cache folder; the run and the layout. */
async function pushTo(cache: string, run: (args: string[], env: NodeJS.ProcessEnv) => Promise<CliRun> = (args, env) => runBin(args, { env }), more: string[] = []) {
  const layout = join(world.root, `layout-${n++}`);
  const result = await run(['push', world.pack, '--oci-layout', layout, ...more], { SOURCE_DATE_EPOCH: '1700000000', PACKPUB_CACHE_DIR: cache });
  return { result, layout, stdout: result.stdout.split(layout).join('LAYOUT') };
}

/** The manifest digest the layout's tag names. */
async function tagged(layout: string): Promise<string> {
  const index = JSON.parse(await readFile(join(layout, 'spectro-packs/archive/hello/index.json'), 'utf8')) as { manifests: Array<{ digest: string; annotations?: Record<string, string> }> };
  expect(index.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name'])).toEqual(['1.0.0']);
  return index.manifests[0]?.digest ?? '';
}

/** The cache files, and whether each is whole: its header's sizes, then the source and two equal copies of the code. */
async function cacheFiles(cache: string): Promise<Array<{ name: string; whole: boolean }>> {
  const dir = join(cache, 'v8-code');
  const files = [];
  for (const name of (await readdir(dir)).sort()) {
    const bytes = await readFile(join(dir, name));
    const end = bytes.indexOf(10, bytes.indexOf(10) + 1);
    let whole = false;
    try {
      const head = JSON.parse(bytes.toString('utf8', bytes.indexOf(10) + 1, end)) as { source: number; data: number };
      const data = end + 1 + head.source;
      whole = bytes.length === data + 2 * head.data && bytes.subarray(data, data + head.data).equals(bytes.subarray(data + head.data));
    } catch {
      whole = false;
    }
    files.push({ name, whole });
  }
  return files;
}

describe("the bundle's code cache never changes what a run does", () => {
  it('a damaged cache file (cut short, changed code, junk) is not used: the same run, and the file is written whole again', async () => {
    const cache = join(world.root, 'cache-damaged');
    const first = await pushTo(cache);
    expectRun(first.result, { code: 0, stdout: ['published hello:1.0.0 -> oci:'], stderr: '' });
    const files = await cacheFiles(cache);
    expect(files.length).toBeGreaterThan(3);
    expect(files.every((f) => f.whole)).toBe(true);
    const at = (i: number) => join(cache, 'v8-code', files[i]?.name ?? '');
    // Cut short; one byte of the code changed (V8 would take it: it checks the header, not the code);
    // junk of the same size; a header alone.
    await truncate(at(0), Math.floor((await readFile(at(0))).length / 2));
    const changed = await readFile(at(1));
    changed[changed.length - 100] = (changed[changed.length - 100] ?? 0) ^ 0x55;
    await writeFile(at(1), changed);
    await writeFile(at(2), Buffer.alloc((await readFile(at(2))).length, 0x41));
    const headOnly = await readFile(at(3));
    await writeFile(at(3), headOnly.subarray(0, headOnly.indexOf(10, headOnly.indexOf(10) + 1) + 1));
    expect((await cacheFiles(cache)).slice(0, 4).map((f) => f.whole)).toEqual([false, false, false, false]);

    const again = await pushTo(cache);
    expectRun(again.result, { code: 0, stderr: '' });
    expect(again.stdout.replace(DURATION, 'T')).toBe(first.stdout.replace(DURATION, 'T'));
    expect(await tagged(again.layout)).toBe(await tagged(first.layout));
    expect((await cacheFiles(cache)).map((f) => f.whole)).toEqual(files.map(() => true));
  });

  it('a cache made for other code of the same length is not used: the run executes the code on disk', async () => {
    // A copy of the program whose text of one line is then changed, keeping every file's length.
    const prog = join(world.root, 'program');
    await mkdir(join(prog, 'dist'), { recursive: true });
    await cp(join(ROOT, 'bin'), join(prog, 'bin'), { recursive: true });
    await cp(join(ROOT, 'dist/bundle'), join(prog, 'dist/bundle'), { recursive: true });
    await cp(join(ROOT, 'package.json'), join(prog, 'package.json'));
    await symlink(join(ROOT, 'node_modules'), join(prog, 'node_modules'));
    const runCopy = async (args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> => {
      try {
        const { stdout, stderr } = await execFileP(process.execPath, [join(prog, 'bin/packpub.js'), ...args], { env: { PATH: process.env['PATH'], HOME: process.env['HOME'], ...env } });
        return { code: 0, stdout, stderr };
      } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    };
    const cache = join(world.root, 'cache-other');
    const first = await pushTo(cache, runCopy);
    expectRun(first.result, { code: 0, stdout: ['published hello:1.0.0 -> oci:'], stderr: '' });
    const layout = first.layout;
    const rerun = await runCopy(['push', world.pack, '--oci-layout', layout], { SOURCE_DATE_EPOCH: '1700000000', PACKPUB_CACHE_DIR: cache });
    expectRun(rerun, { code: 0, stdout: ['unchanged hello:1.0.0: already published at oci:'], stderr: '' });

    const bundle = join(prog, 'dist/bundle');
    const chunk = (await readdir(bundle)).find((f) => f.endsWith('.cjs') && f.startsWith('render-'));
    expect(chunk).toBeDefined();
    const text = await readFile(join(bundle, chunk ?? ''), 'utf8');
    expect(text).toContain(': already published at ');
    await writeFile(join(bundle, chunk ?? ''), text.replace(': already published at ', ': ALREADY published at '));
    const changed = await runCopy(['push', world.pack, '--oci-layout', layout], { SOURCE_DATE_EPOCH: '1700000000', PACKPUB_CACHE_DIR: cache });
    expectRun(changed, { code: 0, stdout: ['unchanged hello:1.0.0: ALREADY published at oci:'], stderr: '' });
    expect(await tagged(layout)).toBe(await tagged(first.layout));
  });

  it('a cache folder that cannot be written: the same run, nothing cached', async () => {
    const reference = await pushTo(join(world.root, 'cache-reference'));
    expectRun(reference.result, { code: 0, stdout: ['published hello:1.0.0 -> oci:'], stderr: '' });
    // The code cache's folder is a file: neither read nor written (the archive cache beside it still works).
    const cache = join(world.root, 'cache-blocked');
    await mkdir(cache, { recursive: true });
    await writeFile(join(cache, 'v8-code'), 'not a folder\n');
    for (const round of [1, 2]) {
      const run = await pushTo(cache);
      expectRun(run.result, { code: 0, stderr: '' });
      expect(run.stdout.replace(DURATION, 'T'), `round ${round}`).toBe(reference.stdout.replace(DURATION, 'T'));
      expect(await tagged(run.layout)).toBe(await tagged(reference.layout));
    }
    expect(await readFile(join(cache, 'v8-code'), 'utf8')).toBe('not a folder\n');
  });
});

const DAY = 24 * 3600 * 1000;

/** Set a file's times to `ago` milliseconds before now. */
async function age(path: string, ago: number): Promise<void> {
  const then = new Date(Date.now() - ago);
  await utimes(path, then, then);
}

describe('the code cache folder is pruned by the runs that write it', () => {
  /** A cache folder a push filled, its files' names, and the run's output to compare others with. */
  async function filled(name: string) {
    const cache = join(world.root, name);
    const first = await pushTo(cache);
    expectRun(first.result, { code: 0, stdout: ['published hello:1.0.0 -> oci:'], stderr: '' });
    const dir = join(cache, 'v8-code');
    const names = (await readdir(dir)).sort();
    expect(names.length).toBeGreaterThan(3);
    return { cache, dir, names, stdout: first.stdout.replace(DURATION, 'T'), layout: first.layout };
  }

  /** A push that finds the chunk `missing` uncached (so it writes that file): the same run as the first. */
  async function pushMissing(c: Awaited<ReturnType<typeof filled>>, missing: string) {
    await writeFile(join(c.dir, missing), '');
    const run = await pushTo(c.cache);
    expectRun(run.result, { code: 0, stderr: '' });
    expect(run.stdout.replace(DURATION, 'T')).toBe(c.stdout);
    expect(await tagged(run.layout)).toBe(await tagged(c.layout));
  }

  it("files not written for a week and killed runs' temporary files go; a run that finds every chunk cached removes nothing", async () => {
    const c = await filled('cache-prune');
    const copy = await readFile(join(c.dir, c.names[0] ?? ''));
    // Older than a week, a killed run's temporary file; a file of 6 days, a run's temporary file being
    // written, a file not named as the cache names its files.
    const old = { 'gone-AAAAAAAA.cjs-1abc.bin': 8 * DAY, 'gone-AAAAAAAA.cjs-1abc.bin.4242-x7.tmp': 11 * 60_000 };
    const fresh = { 'kept-BBBBBBBB.cjs-2abc.bin': 6 * DAY, 'kept-BBBBBBBB.cjs-2abc.bin.4243-y8.tmp': 60_000, 'notes.txt': 30 * DAY };
    for (const [file, ago] of Object.entries({ ...old, ...fresh })) {
      await writeFile(join(c.dir, file), copy);
      await age(join(c.dir, file), ago);
    }
    // A file still used but written over a week ago (a hit does not write it again).
    const used = c.names[1] ?? '';
    await age(join(c.dir, used), 8 * DAY);

    // Every chunk found: the folder is not even listed.
    const hit = await pushTo(c.cache);
    expectRun(hit.result, { code: 0, stderr: '' });
    expect(hit.stdout.replace(DURATION, 'T')).toBe(c.stdout);
    expect((await readdir(c.dir)).sort()).toEqual([...c.names, ...Object.keys(old), ...Object.keys(fresh)].sort());

    // One chunk written: the old files go, the used one too (its next run writes it again).
    await pushMissing(c, c.names[0] ?? '');
    expect((await readdir(c.dir)).sort()).toEqual([...c.names.filter((f) => f !== used), ...Object.keys(fresh)].sort());
    await pushMissing(c, c.names[0] ?? '');
    expect((await readdir(c.dir)).sort()).toEqual([...c.names, ...Object.keys(fresh)].sort());
    expect((await cacheFiles(c.cache)).filter((f) => c.names.includes(f.name)).every((f) => f.whole)).toBe(true);
  });

  it('beyond 32 MiB the oldest files go first, until the rest fit', async () => {
    const c = await filled('cache-cap');
    // Sparse files: their sizes count, not their blocks.
    const files = { 'older-CCCCCCCC.cjs-3abc.bin': 5 * DAY, 'big-DDDDDDDD.cjs-4abc.bin': 2 * DAY, 'newer-EEEEEEEE.cjs-5abc.bin': DAY };
    for (const [file, ago] of Object.entries(files)) {
      await writeFile(join(c.dir, file), '');
      await truncate(join(c.dir, file), file.startsWith('big') ? 31 * 1024 * 1024 : 1024 * 1024);
      await age(join(c.dir, file), ago);
    }
    await pushMissing(c, c.names[0] ?? '');
    // 1 + 31 + 1 MiB and the run's own files exceed 32 MiB: the oldest two go, the rest fit.
    expect((await readdir(c.dir)).sort()).toEqual([...c.names, 'newer-EEEEEEEE.cjs-5abc.bin'].sort());
    expect((await stat(join(c.dir, c.names[0] ?? ''))).size).toBeGreaterThan(0);
  });
});

describe('push --no-cache leaves the cache folder alone', () => {
  it('--no-cache, --cache=false and --cache false write nothing there; a later --cache wins', async () => {
    const reference = await pushTo(join(world.root, 'cache-on'));
    expectRun(reference.result, { code: 0, stdout: ['published hello:1.0.0 -> oci:'], stderr: '' });
    for (const off of [['--no-cache'], ['--cache=false'], ['--cache', 'false'], ['--cache', '--no-cache'], ['--cache=true', '--cache=false']]) {
      const cache = join(world.root, `cache-off-${n}`);
      await mkdir(cache);
      const run = await pushTo(cache, undefined, off);
      expectRun(run.result, { code: 0, stderr: '' });
      expect(run.stdout.replace(DURATION, 'T'), off.join(' ')).toBe(reference.stdout.replace(DURATION, 'T'));
      expect(await tagged(run.layout)).toBe(await tagged(reference.layout));
      expect(await readdir(cache), off.join(' ')).toEqual([]);
    }
    for (const on of [['--no-cache', '--cache'], ['--cache', 'true']]) {
      const cache = join(world.root, `cache-on-${n}`);
      const run = await pushTo(cache, undefined, on);
      expectRun(run.result, { code: 0, stderr: '' });
      expect((await readdir(cache)).sort(), on.join(' ')).toEqual(['index.json', 'v8-code']);
      expect((await cacheFiles(cache)).length).toBeGreaterThan(3);
    }
  });
});

describe("a validation worker's code is cached too", () => {
  it('the worker file is written on the first run, used by the next, and not used when damaged: the same reports', async () => {
    // A pack whose README alone is worth starting workers, two small ones and one that fails.
    const root = join(world.root, 'worker-tree');
    const big = join(root, 'big');
    await writePack(big, { name: 'big', version: '1.0.0' });
    await writeFile(join(big, 'README.md'), Buffer.alloc(MIN_WORK_FOR_WORKERS, 0x20));
    const dirs = [big];
    for (const i of [1, 2]) {
      dirs.push(join(root, `small-${i}`));
      await writePack(join(root, `small-${i}`), { name: `small-${i}`, version: '1.0.0' });
    }
    dirs.push(join(root, 'bad'));
    await writePack(join(root, 'bad'), { name: 'bad', version: '1.0.0', packJson: { layer: 'nope' } });
    const cache = join(world.root, 'cache-worker');
    const validate = () => runBin(['validate', '--json', ...dirs], { env: { PACKPUB_CACHE_DIR: cache } });
    const workerFiles = async () => (await cacheFiles(cache)).filter((f) => f.name.startsWith('validate-worker.cjs-'));

    const first = await validate();
    expectRun(first, { code: 1, stdout: ['"big"', '"small-2"', 'nope'] });
    const files = await workerFiles();
    // One worker per core but one (none on one core).
    expect(files.map((f) => f.whole)).toEqual(availableParallelism() > 1 ? [true] : []);
    if (files.length === 0) return;
    const path = join(cache, 'v8-code', files[0]?.name ?? '');
    const written = (await stat(path)).mtimeMs;

    const again = await validate();
    expect(again).toEqual(first);
    expect((await stat(path)).mtimeMs, 'a hit writes nothing').toBe(written);

    const changed = await readFile(path);
    changed[changed.length - 100] = (changed[changed.length - 100] ?? 0) ^ 0x55;
    await writeFile(path, changed);
    const damaged = await validate();
    expect(damaged).toEqual(first);
    expect((await workerFiles()).map((f) => f.whole)).toEqual([true]);
  });
});

describe('a run that collects V8 coverage (NODE_V8_COVERAGE, as c8 sets it) compiles the bundle as Node does', () => {
  it("the bundle's functions keep their block coverage on a run after another: no code cache read or written", async () => {
    const cache = join(world.root, 'cache-coverage');
    const run = async (i: number) => {
      const coverage = join(world.root, `coverage-${i}`);
      const result = await runBin(['validate', world.pack], { env: { PACKPUB_CACHE_DIR: cache, NODE_V8_COVERAGE: coverage } });
      expectRun(result, { code: 0, stdout: ['hello:1.0.0 OK'] });
      // V8 keeps block ranges only for functions it compiled from source, not for code read from a cache.
      const chunks: Array<{ url: string; functions: Array<{ isBlockCoverage: boolean }> }> = [];
      for (const file of await readdir(coverage)) {
        const { result: scripts } = JSON.parse(await readFile(join(coverage, file), 'utf8')) as { result: typeof chunks };
        chunks.push(...scripts.filter((s) => s.url.includes('/dist/bundle/') && s.url.endsWith('.cjs')));
      }
      expect(chunks.length).toBeGreaterThan(3);
      return chunks.every((s) => s.functions.some((f) => f.isBlockCoverage));
    };
    expect(await run(1)).toBe(true);
    expect(await run(2)).toBe(true);
    expect(await readdir(cache).catch(() => [])).not.toContain('v8-code');
  });
});
