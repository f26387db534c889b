import { existsSync, linkSync, lstatSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/io.js';
import { forgetSecrets } from '../../src/util/redact.js';
import { spawnChild, type SpawnedChild } from './spawner.js';

/*
 * Two ways to run packpub in a test, and which to use:
 * - runCli: the same CLI code (main()) in this process, with captured stdout/stderr and the exit code main()
 *   returns. For a test that checks only what a command prints, its exit code and what the target holds.
 *   A run starts from what a fresh process holds: no registered secret (when no other in-process run is
 *   going); afterwards process.env is as the run found it, and the run must have left the working directory
 *   alone and removed the process listeners it added (SIGINT, SIGTERM, exit). The archive cache is on disk
 *   (TEST_CACHE_DIR unless the run's env names another), so runs see it as successive processes would.
 *   `tmpdir` gives a run alone in the process the temp folder a child would get from TMPDIR (os.tmpdir(), where
 *   push builds its archives), e.g. to check that the run left nothing there.
 * - spawnCli/runBin: a real process of the built CLI (bin/packpub.js -> dist/). For a test whose subject is
 *   what a process does: signals and kills, exit code and output when a pipe closes, a terminal, the bundle
 *   itself (what dist/ imports at run time, worker threads started from dist/), environment Node reads as
 *   it starts (NODE_EXTRA_CA_CERTS) or an output file descriptor, two real processes racing, a process that must end
 *   (no socket or timer keeps it alive), and secrets never reaching a real process's output on each family of
 *   error paths (where Node itself could print). Where one test needs several such processes, one process
 *   that checks several things is preferred to several.
 */

/** A cache folder of this test process's own, so runs never share ~/.cache/packpub with the user. */
export const TEST_CACHE_DIR = join(tmpdir(), `packpub-test-cache-${process.pid}`);
process.on('exit', () => rmSync(TEST_CACHE_DIR, { recursive: true, force: true }));

/**
 * The environment every CLI run starts from (in-process or a child): PATH, HOME, the test cache and the suite's
 * TMPDIR when it has one (support/test-tmpdir.ts), nothing else.
 */
export function cliBaseEnv(): NodeJS.ProcessEnv {
  const tmp = process.env['TMPDIR'];
  return { PATH: process.env['PATH'], HOME: process.env['HOME'], PACKPUB_CACHE_DIR: TEST_CACHE_DIR, ...(tmp === undefined ? {} : { TMPDIR: tmp }) };
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  stdin?: string;
  /** Pretend stdout/stderr are terminals. */
  tty?: boolean;
  /**
   * In-process runs only: os.tmpdir() while the run goes on (process.env.TMPDIR, put back after; no other
   * in-process run may go on meanwhile). One where a run could hang (under /proc) is a process's (spawnCli).
   */
  tmpdir?: string;
}

function capture(tty: boolean): { stream: PassThrough & { isTTY?: boolean }; text: () => string } {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean };
  if (tty) stream.isTTY = true;
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** In-process runs going on now (publish-race runs two side by side). */
let inProcessRuns = 0;

/** How many listeners the process holds for the events a run may listen to (cli/signals.ts, push and pull's clean-up). */
function processListeners(): Record<string, number> {
  return Object.fromEntries(['SIGINT', 'SIGTERM', 'exit'].map((event) => [event, process.listenerCount(event)]));
}

/** Names set, changed or removed in process.env, each with its value before the first such write. */
interface EnvWrites {
  /** While in-process runs went on (runCli puts them back). */
  before: Map<string, string | undefined>;
  /** Since the test file started, whoever wrote them (support/per-file.ts puts them back). */
  file: Map<string, string | undefined>;
}

/**
 * process.env, watched for writes while in-process runs go on: this worker's process.env becomes a Proxy of Node's
 * own that passes every read and write through to it (so Node, child processes and the product see the same
 * environment) and notes the names written while `inProcessRuns` > 0. A run then puts back only what was written:
 * reading all of process.env before and after each run cost ~170 us of a worker's CPU (~1 us a name, ~80 names,
 * twice; 3,000 runs a suite). Kept on globalThis, so that the module evaluated again wraps process.env once.
 */
function envWrites(): EnvWrites {
  const key = Symbol.for('packpub.test.envWrites');
  const global = globalThis as { [key]?: EnvWrites };
  const held = global[key];
  if (held !== undefined) return held;
  const writes: EnvWrites = { before: new Map(), file: new Map() };
  const real = process.env;
  const note = (name: string | symbol): void => {
    if (typeof name !== 'string') return;
    if (!writes.file.has(name)) writes.file.set(name, real[name]);
    if (inProcessRuns > 0 && !writes.before.has(name)) writes.before.set(name, real[name]);
  };
  process.env = new Proxy(real, {
    set: (target, name, value) => {
      note(name);
      return Reflect.set(target, name, value);
    },
    deleteProperty: (target, name) => {
      note(name);
      return Reflect.deleteProperty(target, name);
    },
    defineProperty: (target, name, attributes) => {
      note(name);
      return Reflect.defineProperty(target, name, attributes);
    },
  });
  global[key] = writes;
  return writes;
}
const ENV_WRITES = envWrites();

/** process.env put back: each name of `written` to its value before. */
function putBack(written: Map<string, string | undefined>): void {
  for (const [name, value] of written) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  written.clear();
}

/** process.env put back as the runs found it: each name written while they went on, to its value before. */
function restoreEnv(): void {
  putBack(ENV_WRITES.before);
}

/**
 * For support/per-file.ts: from now on, note what is written in process.env; the answer puts it back as it was now
 * (a test file's own writes, vi.stubEnv's, its runs').
 */
export function watchEnvForFile(): () => void {
  ENV_WRITES.file.clear();
  return () => putBack(ENV_WRITES.file);
}

/** Run the CLI in-process, as a user would call it, capturing what it prints (see the note above on isolation). */
export async function runCli(argv: string[], options: RunOptions = {}): Promise<CliRun> {
  const alone = inProcessRuns === 0;
  if (options.tmpdir !== undefined && !alone) throw new Error('runCli: a run with its own tmpdir needs the process to itself');
  // What a fresh process holds: no secret registered by an earlier run, which could mask this run's output.
  if (alone) forgetSecrets();
  // Writes from here on are the runs' (ENV_WRITES); what was written between runs is not.
  if (alone) ENV_WRITES.before.clear();
  const tmpdirBefore = process.env['TMPDIR'];
  const cwd = process.cwd();
  const listeners = processListeners();
  const out = capture(options.tty === true);
  const err = capture(options.tty === true);
  const io: CliIo = {
    stdout: out.stream,
    stderr: err.stream,
    stdin: Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]),
    env: { ...cliBaseEnv(), ...(options.tmpdir === undefined ? {} : { TMPDIR: options.tmpdir }), ...options.env },
    cwd: options.cwd ?? process.cwd(),
  };
  inProcessRuns++;
  if (options.tmpdir !== undefined) process.env['TMPDIR'] = options.tmpdir;
  let code: number;
  try {
    code = await main(argv, io);
  } finally {
    inProcessRuns--;
    if (options.tmpdir !== undefined) {
      if (tmpdirBefore === undefined) delete process.env['TMPDIR'];
      else process.env['TMPDIR'] = tmpdirBefore;
    }
  }
  // Checked and put back for a run that had the process to itself (runs side by side share it).
  const solo = alone && inProcessRuns === 0;
  if (solo) {
    // What the run set in process.env (the AWS SDK's warning switch, src/aws/ecr-sdk.ts) goes with it.
    restoreEnv();
    // expect() only when something differs: two expect() calls cost ~40-50 us of a worker's CPU a run (3,000 runs).
    const after = processListeners();
    if (Object.keys(after).some((event) => after[event] !== listeners[event])) expect(after, `packpub ${argv.join(' ')} left process listeners behind`).toEqual(listeners);
    if (process.cwd() !== cwd) expect(process.cwd(), `packpub ${argv.join(' ')} changed the working directory`).toBe(cwd);
  }
  return { code, stdout: out.text(), stderr: err.text() };
}

export const BIN = fileURLToPath(new URL('../../bin/packpub.js', import.meta.url));

export interface SpawnedCli {
  child: SpawnedChild;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  /** Exit code (or -1 for a killed process, see `signal`) and all output. */
  done: Promise<CliRun & { signal: NodeJS.Signals | null }>;
}

/**
 * How the built CLI is run as a child: RunOptions, and options for Node itself (`--cpu-prof`: one profile per
 * JavaScript thread). `ownCodeCache`: the run's cache folder gets no V8 code cache from the worker's earlier
 * runs, and lends none (see lendCodeCache): for the code cache's own tests.
 */
export type BinOptions = Omit<RunOptions, 'tty' | 'tmpdir'> & {
  nodeArgs?: string[];
  /** The node binary to run it with (support/node-releases.ts); the suite's own by default. */
  node?: string;
  ownCodeCache?: boolean;
  /**
   * Run as a user the file modes bind (a CI job meeting a file or folder another user, or a container step run as
   * root, left): the tests run as root, so root without the capabilities that let it read or write any file
   * (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH; util-linux setpriv).
   */
  modesBind?: boolean;
};

/*
 * The built CLI compiles its bundle's chunks with V8's code cache (bin/code-cache.cjs), kept in the `v8-code`
 * folder of packpub's cache folder; a process that finds none compiles the chunks it loads and writes their
 * code at exit: a push cost ~0.45 CPU-s so, ~0.3 with the cache. Most tests give each world a cache folder of
 * its own (its archive cache is part of what they check), so nearly every process of the suite started
 * without a code cache. The code cache never changes what a run does (test/e2e/code-cache.test.ts: damaged,
 * foreign or stale files are not used), so this worker keeps the code files its runs wrote in a pool of its
 * own (regular files of this user that no one else may write, hard-linked: a run replaces a file by renaming
 * a new one over it, never writes into it), and a run whose cache folder has no `v8-code` folder yet starts
 * with links to them there, as a user's cache folder holds the code of their earlier runs (copies cost the
 * worker ~5-20 ms per run for the pool's 50-200 files; a test that changes cache files in place gives its runs
 * a code cache of their own, `ownCodeCache`, as the code cache's tests do). The archive cache itself is never
 * shared.
 * Under vitest the pool is the run's, shared by its workers (PACKPUB_TEST_CODE_POOL, which
 * test/global-setup.ts starts with the code of one push): with a pool per worker, the long files that start
 * first in every worker (test/sequencer.ts) found it empty and compiled every chunk, and each worker
 * compiled each chunk once more.
 */
const RUN_POOL = process.env['PACKPUB_TEST_CODE_POOL'];
const CODE_POOL = RUN_POOL === undefined || RUN_POOL === '' ? join(tmpdir(), `packpub-test-v8-code-${process.pid}`) : RUN_POOL;
if (CODE_POOL !== RUN_POOL) process.on('exit', () => rmSync(CODE_POOL, { recursive: true, force: true }));
/** bin/code-cache.cjs's code folder in packpub's cache folder, and the names of its files (no temporary ones). */
const CODE_DIR = 'v8-code';
const CODE_FILE = /^[^/\\]+\.cjs-[0-9a-z]+\.bin$/;

/** The code folder of the cache folder a run's environment names (PACKPUB_CACHE_DIR only). */
function codeDirOf(env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  const cache = env['PACKPUB_CACHE_DIR'];
  return cache === undefined || cache === '' ? undefined : join(resolve(cwd, cache), CODE_DIR);
}

/** Link the pool's code files into `dir` when it does not exist and is on the pool's file system. */
function lendCodeCache(dir: string | undefined): void {
  if (dir === undefined || existsSync(dir)) return;
  let names: string[];
  try {
    names = readdirSync(CODE_POOL);
    // The nearest folder that exists: on another file system (a small tmpfs a test fills) nothing is copied.
    let near = dirname(dir);
    while (!existsSync(near)) near = dirname(near);
    if (names.length === 0 || !statSync(near).isDirectory() || statSync(near).dev !== statSync(CODE_POOL).dev) return;
    mkdirSync(dir, { recursive: true });
  } catch {
    return;
  }
  for (const name of names) {
    try {
      linkSync(join(CODE_POOL, name), join(dir, name));
    } catch {
      // not linked: that chunk is compiled from source
    }
  }
}

/** Add the code files a finished run's cache folder holds to the pool (the first of each name stays). */
function keepCodeCache(dir: string | undefined): void {
  if (dir === undefined) return;
  try {
    const names = readdirSync(dir).filter((name) => CODE_FILE.test(name));
    if (names.length === 0) return;
    mkdirSync(CODE_POOL, { recursive: true });
    // Mostly the pool's own files, lent to the run and used: only the others are looked at.
    const pooled = new Set(readdirSync(CODE_POOL));
    for (const name of names) {
      if (pooled.has(name)) continue;
      try {
        const file = lstatSync(join(dir, name));
        if (!file.isFile() || (file.mode & 0o022) !== 0 || file.uid !== process.getuid?.()) continue;
        linkSync(join(dir, name), join(CODE_POOL, name));
      } catch {
        // already in the pool, or another file system
      }
    }
  } catch {
    // no code folder: nothing to keep
  }
}

/** Start the built CLI (dist/, built by the suite's global setup) as a child process a test can signal. */
export function spawnCli(args: string[], options: BinOptions = {}): SpawnedCli {
  const cwd = options.cwd ?? process.cwd();
  const env = { ...cliBaseEnv(), ...options.env };
  const codeDir = options.ownCodeCache === true ? undefined : codeDirOf(env, cwd);
  lendCodeCache(codeDir);
  const node = [...(options.nodeArgs ?? []), BIN, ...args];
  const bound = options.modesBind === true && process.getuid?.() === 0;
  const exec = options.node ?? process.execPath;
  const child = bound ? spawnChild('setpriv', ['--bounding-set=-dac_override,-dac_read_search', exec, ...node], { cwd, env }) : spawnChild(exec, node, { cwd, env });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (c: Buffer) => out.push(c));
  child.stderr?.on('data', (c: Buffer) => err.push(c));
  child.stdin?.end(options.stdin ?? '');
  const stdout = () => Buffer.concat(out).toString('utf8');
  const stderr = () => Buffer.concat(err).toString('utf8');
  const done = new Promise<CliRun & { signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      keepCodeCache(codeDir);
      resolve({ code: code ?? -1, signal, stdout: stdout(), stderr: stderr() });
    });
  });
  return { child, stdout, stderr, done };
}

/** Run the built CLI as a child process to the end. */
export async function runBin(args: string[], options: BinOptions = {}): Promise<CliRun> {
  const { code, stdout, stderr } = await spawnCli(args, options).done;
  return { code, stdout, stderr };
}

/** What a user should read from a run: its exit code, and text each stream contains ('' for a stream that must stay empty). */
export interface ExpectedRun {
  code: number;
  stdout?: string[] | '';
  stderr?: string[] | '';
}

/** Check a run's exit code and output against `expected` (the failure message shows the run's stderr). */
export function expectRun(run: CliRun, expected: ExpectedRun): void {
  expect(run.code, run.stderr).toBe(expected.code);
  for (const stream of ['stdout', 'stderr'] as const) {
    const want = expected[stream];
    if (want === '') expect(run[stream]).toBe('');
    else for (const text of want ?? []) expect(run[stream]).toContain(text);
  }
}

/** A run refused to write `path` on a local disk: exit 1, the path, the cause and its fix, never "bug in packpub". */
export function expectLocalWriteRefused(run: CliRun, path: string, cause: string, fix: string): void {
  expectRun(run, { code: 1, stderr: [`cannot write ${path}`, cause, fix] });
  expect(run.stderr).not.toContain('bug in packpub');
}

/** `run`'s outcome, or a failure naming the hang once `boundMs` have passed (a run that must end, not wait for ever). */
export async function boundedRun(run: Promise<CliRun>, boundMs: number): Promise<CliRun> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still running after ${boundMs} ms`)), boundMs);
  });
  try {
    return await Promise.race([run, hung]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolve once `check` holds (polled every 20 ms); reject after `timeoutMs` with `what` in the message. */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `packpub validate <dir>`, then `packpub push <dir> --oci-layout <layout>`, as a user runs them (no colour). */
export async function validateThenPush(dir: string, layout: string): Promise<{ validate: CliRun; push: CliRun }> {
  const validate = await runCli(['validate', dir], { env: { NO_COLOR: '1' } });
  const push = await runCli(['push', dir, '--oci-layout', layout], { env: { NO_COLOR: '1' } });
  return { validate, push };
}

/** validateThenPush of the pack `<root>/case-<i>` (writeValidPackPerCase) into the layout `<root>/layout-<i>`. */
export async function validateThenPushCase(root: string, i: number): Promise<{ dir: string; layout: string; validate: CliRun; push: CliRun }> {
  const dir = join(root, `case-${i}`);
  const layout = join(root, `layout-${i}`);
  return { dir, layout, ...(await validateThenPush(dir, layout)) };
}

/** push refused the pack web:1.0.0 as invalid: exit 1, said so, and `layout` holds nothing of it. */
export async function expectPushRefusedInvalid(push: CliRun, layout: string): Promise<void> {
  expect(push.code).toBe(1);
  expect(push.stdout + push.stderr).toContain('INVALID web:1.0.0: 1 error(s) in validation');
  expect(existsSync(join(layout, 'spectro-packs/archive/web'))).toBe(false);
}
