import { chmod, chown, cp, mkdir, readFile, readdir, rm, stat, symlink, truncate, utimes, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MIN_WORK_FOR_WORKERS } from '../../src/operations/validate-pool.js';
import { usableCpus } from '../../src/util/cores.js';
import { expectRun, runBin, type CliRun } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';
import { runChildText, type ChildFailure } from '../support/spawner.js';

/*
 * The built CLI compiles its bundle with V8's code cache, kept in packpub's cache folder (bin/code-cache.cjs).
 * A run must do exactly what it does without one whatever the folder holds: a damaged file, a file made for
 * other code of the same length (V8 itself checks only the length), or a folder it cannot write. Real
 * processes: the cache is read before the program runs. Each built-CLI run costs ~0.3 CPU-s, so the cases
 * start from copies of one warm cache folder (one push made it) instead of a run of their own to fill it.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** How long something took, the only part of a run's output that differs from run to run. */
const DURATION = /\b\d+(\.\d+)? ?m?s\b/g;
/** Text of validate's summary line (cli/commands/validate.ts), found once in its chunk. */
const LINE = ' checked: ';

const world = setup(async (stack) => {
  const root = await stack.tempDir();
  const pack = await writePack(join(root, 'hello-1.0.0'), { name: 'hello', version: '1.0.0' });
  return { root, pack };
});

let n = 0;

/** Push the pack (with `more` flags) to a new OCI layout with `cache` as packpub's cache folder; the run and the layout. */
async function pushTo(cache: string, more: string[] = []) {
  const layout = join(world.root, `layout-${n++}`);
  const result = await runBin(['push', world.pack, '--oci-layout', layout, ...more], { env: { SOURCE_DATE_EPOCH: '1700000000', PACKPUB_CACHE_DIR: cache }, ownCodeCache: true });
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

interface Warm {
  /** The cache folder the first push filled. */
  cache: string;
  /** Its code cache files (one per chunk the push compiled). */
  names: string[];
  /** What that push printed (durations as T) and the manifest its layout's tag names: every other push must match. */
  stdout: string;
  digest: string;
}

let warmed: Promise<Warm> | undefined;

/** The first push of the file, with an empty cache folder (made once, by whichever case needs it first). */
function warm(): Promise<Warm> {
  warmed ??= (async () => {
    const cache = join(world.root, 'cache-warm');
    const first = await pushTo(cache);
    expectRun(first.result, { code: 0, stdout: ['published hello:1.0.0 -> oci:'], stderr: '' });
    const files = await cacheFiles(cache);
    expect(files.length).toBeGreaterThan(4);
    expect(files.every((f) => f.whole)).toBe(true);
    return { cache, names: files.map((f) => f.name), stdout: first.stdout.replace(DURATION, 'T'), digest: await tagged(first.layout) };
  })();
  return warmed;
}

/** A copy of the warm cache folder (its files written now): a push with it finds every chunk cached. */
async function warmCopy(name: string): Promise<Warm & { dir: string }> {
  const w = await warm();
  const cache = join(world.root, name);
  await cp(w.cache, cache, { recursive: true });
  return { ...w, cache, dir: join(cache, 'v8-code') };
}

/** A push (with `more` flags) that must do what the first did: exit 0, nothing on stderr, the same output and manifest. */
async function pushSame(cache: string, more: string[] = []): Promise<void> {
  const w = await warm();
  const push = await pushTo(cache, more);
  expectRun(push.result, { code: 0, stderr: '' });
  expect(push.stdout.replace(DURATION, 'T'), more.join(' ')).toBe(w.stdout);
  expect(await tagged(push.layout)).toBe(w.digest);
}

/** A copy of the program (bin/, dist/bundle/ without source maps), run as a process: for a run of changed chunks. */
async function programCopy(name: string, bundle: (from: string) => boolean = (from) => !from.endsWith('.map')) {
  const prog = join(world.root, name);
  await mkdir(join(prog, 'dist'), { recursive: true });
  await cp(join(ROOT, 'bin'), join(prog, 'bin'), { recursive: true });
  await cp(join(ROOT, 'dist/bundle'), join(prog, 'dist/bundle'), { recursive: true, filter: bundle });
  await cp(join(ROOT, 'package.json'), join(prog, 'package.json'));
  await symlink(join(ROOT, 'node_modules'), join(prog, 'node_modules'));
  const run = async (args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> => {
    try {
      const { stdout, stderr } = await runChildText(process.execPath, [join(prog, 'bin/packpub.js'), ...args], { env: { PATH: process.env['PATH'], HOME: process.env['HOME'], ...env } });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as ChildFailure;
      return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout.toString('utf8'), stderr: e.stderr.toString('utf8') };
    }
  };
  return { bundle: join(prog, 'dist/bundle'), run };
}

const DAY = 24 * 3600 * 1000;

/** Set a file's times to `ago` milliseconds before now. */
async function age(path: string, ago: number): Promise<void> {
  const then = new Date(Date.now() - ago);
  await utimes(path, then, then);
}

describe("the bundle's code cache never changes what a run does, and the runs that write it prune its folder", () => {
  it("cache files another user owns, or others may write (mode 0666, as a umask of 0 makes them), are not used: the run compiles from source, does the same, and writes them again as its own user's, 0644", async () => {
    const c = await warmCopy('cache-foreign');
    // Without the archive cache the push checks and builds the pack as the first did, loading every chunk
    // that push cached (with it, a folder the first push recorded as settled is known unchanged: its checks'
    // chunks were not loaded, their files not rewritten, as happened when the first push came late enough).
    for (const entry of await readdir(c.cache)) if (entry !== basename(c.dir)) await rm(join(c.cache, entry), { recursive: true });
    const names = (await readdir(c.dir)).sort();
    // The suite runs as root (CI), which may give files away; another user could have written these. The files
    // take turns: another user's (0644), or this user's that anyone may write (0666).
    for (const [i, name] of names.entries()) await (i % 2 === 0 ? chown(join(c.dir, name), 4242, 4242) : chmod(join(c.dir, name), 0o666));
    await pushSame(c.cache);
    // A chunk read from its cache file is not saved again: each file rewritten means none was used.
    const files = await Promise.all(names.map(async (name) => (await stat(join(c.dir, name)))));
    expect(files.map((f) => f.uid)).toEqual(names.map(() => process.getuid?.()));
    expect(files.map((f) => f.mode & 0o777)).toEqual(names.map(() => 0o644));
  });

  it("a validation worker's file is written, then used; a run that finds every file whole lists nothing; one that finds damaged files, files made for other code of the same length and a missing one uses none of them, writes them whole and prunes", async () => {
    // Two packs (the pool starts one worker per core but one, and per pack but one): one whose README alone
    // is worth starting workers, and one that fails. The cache folder holds push's chunks already.
    const root = join(world.root, 'worker-tree');
    const big = join(root, 'big');
    await writePack(big, { name: 'big', version: '1.0.0' });
    await writeFile(join(big, 'README.md'), Buffer.alloc(MIN_WORK_FOR_WORKERS, 0x20));
    const bad = join(root, 'bad');
    await writePack(bad, { name: 'bad', version: '1.0.0', packJson: { layer: 'nope' } });
    const c = await warmCopy('cache-chain');
    const validate = (run: (args: string[], env: NodeJS.ProcessEnv) => Promise<CliRun> = (args, env) => runBin(args, { env, ownCodeCache: true })) => run(['validate', big, bad], { PACKPUB_CACHE_DIR: c.cache });

    // validate's own chunks and the worker's file written (one worker on more than one core, none on one).
    const first = await validate();
    expectRun(first, { code: 1, stdout: ['big:1.0.0 OK', 'nope', `${LINE}1 passed, 1 failed`] });
    const files = await cacheFiles(c.cache);
    expect(files.every((f) => f.whole)).toBe(true);
    const names = files.map((f) => f.name);
    const worker = names.filter((name) => name.startsWith('validate-worker.cjs-'));
    expect(worker.length).toBe(usableCpus() > 1 ? 1 : 0);
    const workerFile = join(c.dir, worker[0] ?? 'none');
    const workerWritten = worker.length === 0 ? undefined : (await stat(workerFile)).mtimeMs;

    // Pruned by age: older than a week, a killed run's temporary file; kept: a file of 6 days, a run's
    // temporary file being written, a file not named as the cache names its files.
    const copy = await readFile(join(c.dir, c.names[0] ?? ''));
    const old = { 'gone-AAAAAAAA.cjs-1abc.bin': 8 * DAY, 'gone-AAAAAAAA.cjs-1abc.bin.4242-x7.tmp': 11 * 60_000 };
    const fresh = { 'kept-BBBBBBBB.cjs-2abc.bin': 6 * DAY, 'kept-BBBBBBBB.cjs-2abc.bin.4243-y8.tmp': 60_000, 'notes.txt': 30 * DAY };
    for (const [file, ago] of Object.entries({ ...old, ...fresh })) {
      await writeFile(join(c.dir, file), copy);
      await age(join(c.dir, file), ago);
    }
    // A file still used but written over a week ago (a hit does not write it again): pruned too, and
    // written again by the next run that misses it (as the missing one below).
    const used = c.names[5] ?? '';
    await age(join(c.dir, used), 8 * DAY);

    // Every file found whole (the worker's too: the hit writes nothing): the folder is not even listed.
    expect(await validate()).toEqual(first);
    expect((await readdir(c.dir)).sort()).toEqual([...names, ...Object.keys(old), ...Object.keys(fresh)].sort());
    if (workerWritten !== undefined) expect((await stat(workerFile)).mtimeMs, 'a hit writes nothing').toBe(workerWritten);

    // Other code of the same length: a copy of the program (the same chunks, so the same cache files) with
    // the text of validate's summary changed in its chunk, whose cached code holds the old text.
    const program = await programCopy('program');
    let summary = '';
    let text = '';
    for (const file of (await readdir(program.bundle)).filter((f) => f.endsWith('.cjs') && f.startsWith('validate-'))) {
      const chunk = await readFile(join(program.bundle, file), 'utf8');
      if (chunk.includes(LINE)) [summary, text] = [file, chunk];
    }
    expect(names.some((name) => name.startsWith(`${summary}-`))).toBe(true);
    expect(text.split(LINE).length).toBe(2);
    await writeFile(join(program.bundle, summary), text.replace(LINE, LINE.toUpperCase()));

    // Cut short; one byte of the code changed (V8 would take it: it checks the header, not the code), the
    // worker's file's too; junk of the same size; a header alone; gone: files of validate's own chunks.
    const own = names.filter((name) => !c.names.includes(name) && !worker.includes(name) && !name.startsWith(`${summary}-`));
    expect(own.length).toBeGreaterThan(4);
    const at = (i: number) => join(c.dir, own[i] ?? '');
    await truncate(at(0), Math.floor((await readFile(at(0))).length / 2));
    for (const path of [at(1), ...(workerWritten === undefined ? [] : [workerFile])]) {
      const changed = await readFile(path);
      changed[changed.length - 100] = (changed[changed.length - 100] ?? 0) ^ 0x55;
      await writeFile(path, changed);
    }
    await writeFile(at(2), Buffer.alloc((await readFile(at(2))).length, 0x41));
    const headOnly = await readFile(at(3));
    await writeFile(at(3), headOnly.subarray(0, headOnly.indexOf(10, headOnly.indexOf(10) + 1) + 1));
    await rm(at(4));
    expect((await cacheFiles(c.cache)).filter((f) => !f.whole).map((f) => f.name)).toEqual([...own.slice(0, 4), ...worker].sort());
    // Pruned by size (sparse files: their sizes count, not their blocks): 1 + 31 + 1 MiB and the rest
    // exceed 32 MiB, so the oldest go first, the 6-day file above being younger, until the rest fit.
    const sized = { 'older-CCCCCCCC.cjs-3abc.bin': 6.8 * DAY, 'big-DDDDDDDD.cjs-4abc.bin': 6.5 * DAY, 'newer-EEEEEEEE.cjs-5abc.bin': DAY };
    for (const [file, ago] of Object.entries(sized)) {
      await writeFile(join(c.dir, file), '');
      await truncate(join(c.dir, file), file.startsWith('big') ? 31 * 1024 * 1024 : 1024 * 1024);
      await age(join(c.dir, file), ago);
    }

    expect(await validate(program.run)).toEqual({ ...first, stdout: first.stdout.replace(LINE, LINE.toUpperCase()) });
    const kept = names.filter((f) => f !== used);
    expect((await readdir(c.dir)).sort()).toEqual([...kept, ...Object.keys(fresh), 'newer-EEEEEEEE.cjs-5abc.bin'].sort());
    expect((await cacheFiles(c.cache)).filter((f) => names.includes(f.name))).toEqual(kept.map((name) => ({ name, whole: true })));
  });

  it("a chunk missing from the bundle: Node's own error for it (chunks require one another without Node's path search, bin/code-cache.cjs)", async () => {
    const maps = (await readdir(join(ROOT, 'dist/bundle'))).filter((f) => f.endsWith('.cjs.map'));
    let missing = '';
    for (const map of maps) if ((JSON.parse(await readFile(join(ROOT, 'dist/bundle', map), 'utf8')) as { sources: string[] }).sources.some((s) => s.endsWith('src/operations/list.ts'))) missing = map.slice(0, -'.map'.length);
    // The chunk list's command loads as it runs (the listing itself), not the entry.
    expect(missing).toMatch(/^[\w.-]+-[\w-]{8}\.cjs$/);
    const program = await programCopy('program-missing', (from) => !from.endsWith('.map') && basename(from) !== missing);
    const cache = join(world.root, 'cache-missing');
    const run = await program.run(['list', '--oci-layout', join(world.root, 'no-layout')], { PACKPUB_CACHE_DIR: cache });
    expectRun(run, { code: 1, stdout: '', stderr: [`error: Cannot find module './${missing}'`, 'Require stack:', 'hint: this is a bug in packpub'] });
  });

  it('a cache folder that cannot be written: the same run, nothing cached', async () => {
    // The code cache's folder is a file: neither read nor written (the archive cache beside it still works).
    const c = await warmCopy('cache-blocked');
    await rm(c.dir, { recursive: true });
    await writeFile(c.dir, 'not a folder\n');
    await pushSame(c.cache);
    expect(await readFile(c.dir, 'utf8')).toBe('not a folder\n');
  });
});

describe('push --no-cache leaves the cache folder alone', () => {
  it('a push --no-cache writes nothing there and does what a push with the cache does', async () => {
    const cache = join(world.root, 'cache-off');
    await mkdir(cache);
    await pushSame(cache, ['--no-cache']);
    expect(await readdir(cache)).toEqual([]);
  });

  it('--no-cache, --cache=false and --cache false turn the code cache off; a later --cache wins', async () => {
    // What bin/packpub.js reads from the command line before it loads the program (main() reads the same
    // spellings as yargs: test/unit/cli/quick-args.test.ts), with the program replaced by one chunk whose
    // main() only lets bin set its V8 flags, so that each run costs Node's start and not the program's: with
    // the code cache on, bin writes that chunk's code at exit.
    const program = await programCopy('program-stand-in', () => false);
    await mkdir(program.bundle, { recursive: true });
    await writeFile(
      join(program.bundle, 'packpub.cjs'),
      "'use strict';\nexports.main = async (args, io, hooks) => { (hooks.beforeCommand ?? hooks.beforeNetwork)(); return 0; };\nexports.runAsProcess = (run) => run.then((code) => { process.exitCode = code; });\n",
    );
    const lines = [
      // (--no-cache alone: the push above.)
      ...[['--cache=false'], ['--cache', 'false'], ['--cache', '--no-cache'], ['--cache=true', '--cache=false']].map((flags) => ({ flags, on: false })),
      ...[['--no-cache', '--cache'], ['--cache', 'true']].map((flags) => ({ flags, on: true })),
    ];
    for (const { flags, on } of lines) {
      const cache = join(world.root, `cache-flags-${n++}`);
      await mkdir(cache);
      const run = await program.run(['push', world.pack, ...flags], { PACKPUB_CACHE_DIR: cache });
      expectRun(run, { code: 0, stdout: '', stderr: '' });
      expect(await readdir(cache), flags.join(' ')).toEqual(on ? ['v8-code'] : []);
      if (on) expect(await cacheFiles(cache), flags.join(' ')).toEqual([{ name: expect.stringMatching(/^packpub\.cjs-[0-9a-z]+\.bin$/) as string, whole: true }]);
    }
  });
});

describe('a run that collects V8 coverage (NODE_V8_COVERAGE, as c8 sets it) compiles the bundle as Node does', () => {
  it("the bundle's functions keep their block coverage with a warm cache folder: no code cache read or written", async () => {
    // push's chunks cached, not validate's own: a run that read the cache would lose the block ranges of the
    // chunks it found (V8 keeps them only for functions it compiled from source), one that wrote it would
    // write the others.
    const c = await warmCopy('cache-coverage');
    const times = async () => Promise.all((await readdir(c.dir)).sort().map(async (f) => [f, (await stat(join(c.dir, f))).mtimeMs]));
    const before = await times();
    const coverage = join(world.root, 'coverage');
    const run = await runBin(['validate', world.pack], { env: { PACKPUB_CACHE_DIR: c.cache, NODE_V8_COVERAGE: coverage }, ownCodeCache: true });
    expectRun(run, { code: 0, stdout: ['hello:1.0.0 OK'] });
    const chunks: Array<{ url: string; functions: Array<{ isBlockCoverage: boolean }> }> = [];
    for (const file of await readdir(coverage)) {
      const { result: scripts } = JSON.parse(await readFile(join(coverage, file), 'utf8')) as { result: typeof chunks };
      chunks.push(...scripts.filter((s) => s.url.includes('/dist/bundle/') && s.url.endsWith('.cjs')));
    }
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks.filter((s) => !s.functions.some((f) => f.isBlockCoverage)).map((s) => s.url)).toEqual([]);
    expect(await times()).toEqual(before);
  });
});
