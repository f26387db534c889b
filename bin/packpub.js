#!/usr/bin/env node
'use strict';
// CommonJS (bin/package.json): a program whose entry is an ES module starts Node's ES module loader first,
// ~5-10 ms of CPU before its first line that a CommonJS entry does not pay, and nothing else on this thread
// is an ES module (the bundle is CommonJS; so are the entries of the check-ahead worker and the validation
// workers, dist/bundle/validate-worker.js: dist/bundle/package.json) (issue 16).
const args = process.argv.slice(2);
if (args.length === 1 && args[0] === '--version') {
  // `packpub --version` (scripts check it) loads one small file the build writes (scripts/build-cli.mjs)
  // and sets no V8 flag: the bundle's entry alone cost a quarter of the run's CPU (issue 16). It prints
  // what main() prints for it, and a reader that closes the pipe early ends it as quietly (cli/io.ts).
  const { VERSION } = require('../dist/bundle/version.cjs');
  // A reader that closed the pipe early (`| head`) is no failure; any other write error (`> /dev/full`) is: said, exit 1
  // (it exited 0 with nothing written), as main() says a lost output.
  process.stdout.on('error', (err) => {
    if (err.code !== 'EPIPE') {
      process.stderr.write(`error: cannot write to standard output: ${err.message}\n`);
      process.exitCode = 1;
    }
    process.stdout.destroy();
  });
  process.stdout.write(`${VERSION}\n`);
} else {
  // A signal while the program loads (its bundle is read and compiled before main() listens for one) ends the run
  // as one after it does (cli/main.ts runAsProcess): exit 130, said, instead of Node's default death by the signal.
  const early = (sig) => {
    process.stderr.write(`${sig}: interrupted\n`);
    process.exit(130);
  };
  process.on('SIGINT', early).on('SIGTERM', early);
  // File reads and deflate jobs share libuv's threadpool (4 threads by default); a few more keep small
  // reads from queueing behind compression. Must be set before the pool is first used.
  process.env.UV_THREADPOOL_SIZE ??= '8';
  // The program runs from its bundle (scripts/build-cli.mjs): a few files instead of one per module. Its
  // source maps are read only for --debug, whose stack traces then name src/ files and lines; any other run
  // compiles the bundle with V8's code cache (bin/code-cache.cjs), before any V8 flag is set, unless told to
  // leave packpub's cache folder alone (push --no-cache: that folder is neither read nor written), or unless
  // the run collects V8 coverage (NODE_V8_COVERAGE, as c8 sets it): V8 keeps only function counts, no block
  // ranges, for code read from a cache, so such runs compile as Node does.
  const debug = args.includes('--debug');
  if (debug) process.setSourceMapsEnabled(true);
  const cacheOff = noCache(args);
  const coverage = (process.env.NODE_V8_COVERAGE ?? '') !== '';
  const { pathToFileURL } = require('node:url');
  const codeCache = debug || cacheOff || coverage ? undefined : require('./code-cache.cjs').useCodeCache(new URL('../dist/bundle/', pathToFileURL(__filename)));
  // A push checks the archive cache's remembered folders first on a worker thread, while this thread loads
  // the program (src/operations/precheck.ts): an unchanged pack costs one lstat per file and folder. Only
  // with more than one core and a machine not saturated (load average below twice its cores): on one that is,
  // the worker would only add its own start and checks to the CPU the run competes for. And only when the
  // cache folder holds an index: a first publish (a CI job without a kept cache) remembers no folder, and the
  // worker would only start, find nothing and stop (~60 ms of CPU, and this thread waits for its built-ins).
  const ahead = args[0] === 'push' && !cacheOff && spareCore(require('node:os')) && remembers() ? startChecksAhead() : undefined;
  const v8 = require('node:v8');
  const flags = () => setV8Flags(v8, ahead?.loaded, codeCache, args[0] === 'validate');
  // `packpub validate` of packs worth validation workers starts them now (src/operations/validate-ahead.ts), as
  // the pool would once the command runs: they load their built-in modules while this thread loads the program,
  // and the pool takes them (startValidation), which sets the V8 flags once they have (issue 16).
  const validating = args[0] === 'validate' ? validationAhead(flags) : false;
  const { main, runAsProcess } = require('../dist/bundle/packpub.cjs');
  // The V8 flags are set once the command is loaded; for a push later, once it found its packs, before its
  // first request (main()'s beforeNetwork): a check-ahead worker has then loaded its built-ins, where this
  // thread used to wait for it (~45 ms of a ~600 ms unchanged re-run, issue 16). Every push sets them there,
  // with a worker or without, so that each chunk is compiled, and its code cached, under the same flags.
  // A validate with workers started ahead sets them as the pool takes the workers.
  const hooks = args[0] === 'push' ? { beforeNetwork: flags } : validating ? {} : { beforeCommand: flags };
  // The run's exit code becomes the process's; a run that never finishes fails instead of exiting 0.
  // It ends the process once the run settles: what the run leaves open (a push's idle registry connections) ends with it.
  runAsProcess(main(args, undefined, { ...hooks, endsProcess: true, ...(ahead === undefined ? {} : { checksAhead: ahead.port }) }));
  // Only once runAsProcess listens: a signal that came while the program loaded is handled at the event loop's first
  // turn, by the listeners there then; with none left for a moment, Node would stop listening and drop it.
  process.off('SIGINT', early).off('SIGTERM', early);
}

/**
 * Whether the command line turns packpub's cache off, as main()'s parser reads it: --no-cache, --cache=false
 * or --cache false, the last of them and --cache / --cache=true / --cache true winning, before any `--`.
 * (main() refuses other spellings, --no-cache=true or --cache=0, with exit 2.)
 */
function noCache(line) {
  let off = false;
  for (let i = 0; i < line.length && line[i] !== '--'; i++) {
    if (line[i] === '--no-cache' || line[i] === '--cache=false') off = true;
    else if (line[i] === '--cache=true') off = false;
    else if (line[i] === '--cache') off = line[i + 1] === 'false';
  }
  return off;
}

/**
 * Whether a worker thread is likely to find a core: more than one, and a 1-minute load average below twice
 * their number. The runs just before count in the average (a first publish keeps it near 1.5 on 2 cores for
 * a minute, a CI job's earlier steps too), and there the worker still pays; at 8-10 times the cores it did not.
 */
function spareCore(os) {
  const cores = os.availableParallelism();
  return cores > 1 && os.loadavg()[0] < 2 * cores;
}

/**
 * Whether packpub's cache folder holds an archive cache index (src/operations/archive-cache.ts INDEX_FILE, in
 * the folder its defaultCacheDir names: bin/code-cache.cjs cacheDir), which the check-ahead worker reads.
 */
function remembers() {
  try {
    return require('node:fs').existsSync(require('node:path').join(require('./code-cache.cjs').cacheDir(process.env), 'index.json'));
  } catch {
    return false;
  }
}

/**
 * Start the validation workers of `packpub validate` (dist/bundle/validate-ahead.cjs) and leave them where the pool
 * takes them (a global: main() and the library need not know), `flags` to run then; whether any started.
 * A failure only leaves the pool to start its own.
 */
function validationAhead(flags) {
  try {
    const workers = require('../dist/bundle/validate-ahead.cjs').startValidationAhead(args.slice(1), flags);
    if (workers === undefined) return false;
    globalThis[Symbol.for('packpub.validation-ahead')] = workers;
    return true;
  } catch {
    return false;
  }
}

/**
 * Start dist/bundle/precheck-worker.cjs (through checks-ahead.cjs) with the command line; the port its answers
 * arrive on, read by push when it needs them, and the word the worker sets to 1 once it loaded its built-in
 * modules (setV8Flags waits for it). The worker never keeps the process alive, and a worker that fails only
 * leaves the run to check every folder itself.
 */
function startChecksAhead() {
  const { MessageChannel, Worker } = require('node:worker_threads');
  const { port1, port2 } = new MessageChannel();
  const loaded = new Int32Array(new SharedArrayBuffer(4));
  try {
    const worker = new Worker(require('node:path').join(__dirname, 'checks-ahead.cjs'), { workerData: { args, port: port2, loaded }, transferList: [port2], stdout: true, stderr: true });
    worker.on('error', () => undefined);
    worker.unref();
  } catch {
    return undefined;
  }
  return { port: port1, loaded };
}

/**
 * V8 settings for a CLI run, set once main() has loaded the command (and yargs, when it reads the line), before
 * the command runs (a push: before its first request; undici and the validation workers load after; a validate
 * with workers started ahead: once they loaded theirs): Node compiles a built-in
 * module that loads after a V8 flag changed from its source instead of its code cache, and saves a new
 * cache, so with the flags set at start every built-in the parser and the command loaded cost more
 * (issue 16). A worker thread does so for every built-in it loads after the change, so the check-ahead
 * worker's load (checks-ahead.cjs: ~35 modules, crypto's most) is waited for first. Set here, not in the
 * library: the flags are process-wide, and a program embedding packpub decides its own.
 */
function setV8Flags(v8, checksAheadLoaded, codeCache, validating) {
  // A check-ahead worker still loading its built-ins is waited for, up to 100 ms (this thread idles meanwhile,
  // leaving the worker a core): usually a few ms to a few tens on 2 cores.
  if (checksAheadLoaded !== undefined) Atomics.wait(checksAheadLoaded, 0, 0, 100);
  // The chunks compiled so far are cached under the flags they were compiled with: V8 refuses a cache made
  // under other flags (bin/code-cache.cjs sets these back to V8's defaults for the moment it saves them).
  // (--liftoff-only also turns --wasm-tier-up and --wasm-dynamic-tiering off.)
  const osr = validating ? { flags: ['--no-use-osr'], undo: ' --use-osr' } : { flags: [], undo: '' };
  codeCache?.setFlags(['--liftoff-only', '--interrupt-budget=540672', '--semi-space-growth-factor=1', ...osr.flags], [`--no-liftoff-only --wasm-tier-up --wasm-dynamic-tiering --interrupt-budget=67584 --semi-space-growth-factor=2${osr.undo}`]);
  // undici parses HTTP with llhttp compiled to WebAssembly. V8 compiles it twice: at once with its baseline
  // compiler (Liftoff), then again with the optimising one (TurboFan) on background threads, which cost a
  // quarter of the CPU of a short run (a re-run that finds its packs unchanged) to speed up parsing the few
  // small response heads a registry sends. The baseline code is all a CLI run needs. (Set only
  // as undici compiles it, the flag mostly came too late: TurboFan still ran.)
  v8.setFlagsFromString('--liftoff-only');
  // V8 optimises a function with TurboFan once it has run a budget of bytecode (66 KB by default). Each
  // thread of a run compiles its own hot functions again, and on a whole tree's validation that was about
  // a third of all instructions (issue 16): with 8 times the budget only the really hot functions are
  // optimised, and validating the bench tree costs ~12 % less CPU. A long run still optimises what is hot.
  v8.setFlagsFromString('--interrupt-budget=540672');
  // V8 doubles a thread's young generation whenever many objects survive a collection: this thread's new
  // space grew from 1 MiB to 32 MiB (v8.getHeapSpaceStatistics) while it validated its share of the bench
  // tree, where a validation worker's is capped (validate-work.ts WORKER_YOUNG_GENERATION_MB). Each page it
  // grew by is a page fault (dear on a kernel that isolates page tables), and objects that die young no longer
  // die in the core's cache. With a growth factor of 1 (read by V8 at each growth, so it holds from now on, on
  // every thread) it grows no more (4 MiB at the end of that run): `packpub validate` of the bench tree (220
  // packs) 1.50 -> 1.40 s, 2.67 -> 2.49 CPU-s, 47,400 -> 39,600 page faults, peak RSS 195 -> 173 MB (8
  // interleaved runs each at real-time priority on the loaded 2-core machine); a first publish (into an OCI
  // layout) and an unchanged re-run the same within noise (issue 16).
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  // A function V8 finds hot while it is still looping is compiled with TurboFan to enter the optimised code
  // mid-loop (on-stack replacement), then compiled again for its next call. In `packpub validate` of the bench
  // tree that happened to 2-4 functions per run (--trace-opt), among them two of the largest (the template
  // reference scan, a YAML reader: the costliest compilations of the run). Without it such a function is
  // optimised for its next call only: validating 44 packs of the bench tree took 3.5 % fewer instructions
  // (callgrind, two rounds: 3,254 -> 3,129 M and 3,247 -> 3,142 M), the output the same. Only for validate: a
  // push builds archives in a few long calls per pack, and was measured no better (issue 16).
  for (const flag of osr.flags) v8.setFlagsFromString(flag);
}
