#!/usr/bin/env node
'use strict';
// CommonJS (bin/package.json): a program whose entry is an ES module starts Node's ES module loader first,
// ~5-10 ms of CPU before its first line that a CommonJS entry does not pay, and nothing else on this thread
// is an ES module (the bundle is CommonJS; so are the entries of the check-ahead worker and the validation
// workers, dist/bundle/validate-worker.js: dist/bundle/package.json) (issue 16).
// The Node.js releases packpub runs on, as package.json's "engines" says (test/e2e/node-releases.test.ts keeps
// the two the same): 20 from 20.18.1 (undici's floor), and 22.3.0 or later (zlib.crc32, which Node 21 lacks: a
// push there failed every pack with "crc32 is not a function"; process.getBuiltinModule, which came in 22.3.0 and
// 20.16.0: on 22.2.0 every command ended in "process.getBuiltinModule is not a function"). On another, one line and
// exit 2, not a failure halfway through a run.
const [major, minor, patch] = process.versions.node.split('.').map(Number);
if (!(major === 20 ? minor > 18 || (minor === 18 && patch >= 1) : major > 22 || (major === 22 && minor >= 3))) {
  process.stderr.write(`error: packpub needs Node.js 20.18.1 or a later 20, or 22.3.0 or later; this is Node.js ${process.versions.node}\n`);
  process.exit(2);
}
const args = process.argv.slice(2);
if (args.length === 1 && args[0] === '--version') {
  // `packpub --version` (scripts check it) loads one small file the build writes (scripts/build-cli.mjs)
  // and sets no V8 flag: the bundle's entry alone cost a quarter of the run's CPU (issue 16).
  const { VERSION } = require('../dist/bundle/version.cjs');
  // Written with write(2) on fd 1, not through process.stdout: creating that stream loads ~28 built-in modules
  // (streams, and net for a pipe or tty for a terminal), ~8 ms of a ~120 ms run's CPU (issue 16). A reader that
  // closed the pipe early (`| head`) is no failure; any other write error (`> /dev/full`) is: said, exit 1 (it
  // exited 0 with nothing written), as main() says a lost output (cli/io.ts). An output that would block (a full
  // pipe left non-blocking) is left to the stream, which waits until it can write.
  const lost = (err) => {
    if (err.code !== 'EPIPE') {
      process.stderr.write(`error: cannot write to standard output: ${err.message}\n`);
      process.exitCode = 1;
    }
  };
  const line = Buffer.from(`${VERSION}\n`);
  let written = 0;
  try {
    const { writeSync } = require('node:fs');
    while (written < line.length) written += writeSync(1, line, written);
  } catch (err) {
    if (err.code !== 'EAGAIN') lost(err);
    else {
      process.stdout.on('error', (e) => {
        lost(e);
        process.stdout.destroy();
      });
      process.stdout.write(line.subarray(written));
    }
  }
} else {
  // A signal while the program loads (its bundle is read and compiled before main() listens for one) ends the run
  // as one after it does (cli/main.ts runAsProcess): exit 130, said, instead of Node's default death by the signal.
  const early = (sig) => {
    process.stderr.write(`${sig}: interrupted\n`);
    // A terminal that hung up: closed first, or Node aborts as it exits setting it back (cli/io.ts closeHungUpTerminalAtExit).
    if (sig === 'SIGHUP') {
      const { closeSync, fstatSync } = require('node:fs');
      for (const fd of [0, 1, 2]) {
        try {
          if (fstatSync(fd).isCharacterDevice() && !require('node:tty').isatty(fd)) closeSync(fd);
        } catch {}
      }
    }
    process.exit(130);
  };
  process.on('SIGINT', early).on('SIGTERM', early).on('SIGHUP', early);
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
  // Whether a push checks its remembered folders ahead on a worker (below): decided before the code cache is in
  // place, so the small file spareCore reads is compiled as Node does, its code not cached (nor saved at exit).
  const checkAhead = args[0] === 'push' && !cacheOff && remembers() && spareCore(require('node:os'));
  const { pathToFileURL } = require('node:url');
  const codeCache = debug || cacheOff || coverage ? undefined : require('./code-cache.cjs').useCodeCache(new URL('../dist/bundle/', pathToFileURL(__filename)));
  // A push checks the archive cache's remembered folders first on a worker thread, while this thread loads
  // the program (src/operations/precheck.ts): an unchanged pack costs one lstat per file and folder. Only
  // with more than one usable core (spareCore) and a machine not saturated (load average below twice them): on one that is,
  // the worker would only add its own start and checks to the CPU the run competes for. And only when the
  // cache folder holds an index: a first publish (a CI job without a kept cache) remembers no folder, and the
  // worker would only start, find nothing and stop (~60 ms of CPU, and this thread waits for its built-ins).
  const ahead = checkAhead ? startChecksAhead() : undefined;
  const v8 = require('node:v8');
  const flags = () => setV8Flags(v8, ahead?.loaded, codeCache, args[0]);
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
  process.off('SIGINT', early).off('SIGTERM', early).off('SIGHUP', early);
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
 * Whether a worker thread is likely to find a core: more than one usable, and a 1-minute load average below twice
 * their number. Usable as the validation pool counts them (src/util/cores.ts usableCpus, built as
 * dist/bundle/cores.cjs): the CPUs the process may run on, within its cgroup's CPU quota (a container limited to
 * 1 CPU on a large host, where Node 20 counts the host's). Read only here, for a push whose cache remembers
 * folders. The runs just before count in the average (a first publish keeps it near 1.5 on 2 cores for a
 * minute, a CI job's earlier steps too), and there the worker still pays; at 8-10 times the cores it did not.
 */
function spareCore(os) {
  let cores;
  try {
    cores = require('../dist/bundle/cores.cjs').usableCpus();
  } catch {
    return false;
  }
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
    // Set before the first worker starts: V8 reads them as it makes a worker's isolate (bin/v8-flags.cjs startFlags).
    const startFlags = () => {
      const v8 = require('node:v8');
      for (const flag of require('./v8-flags.cjs').startFlags(true)) v8.setFlagsFromString(flag);
    };
    const workers = require('../dist/bundle/validate-ahead.cjs').startValidationAhead(args.slice(1), flags, startFlags);
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

/** The built-in modules a command's main thread loads after setV8Flags (which loads them first). */
function loadedLater(command) {
  if (command === 'validate') return ['node:crypto', 'node:fs/promises', 'node:zlib', 'node:process'];
  if (command === 'build') return ['node:zlib', 'node:process'];
  if (command === 'push') return ['node:zlib'];
  // The commands that read a target (cli/target-command.ts): an OCI layout's store and the registry stack read
  // files through node:fs/promises; inspect and pull gunzip the pack's archive, pull writes it out.
  if (command === 'list' || command === 'delete' || command === 'tag') return ['node:fs/promises'];
  if (command === 'inspect') return ['node:fs/promises', 'node:zlib'];
  return command === 'pull' ? ['node:fs/promises', 'node:zlib', 'node:process'] : [];
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
function setV8Flags(v8, checksAheadLoaded, codeCache, command) {
  // A check-ahead worker still loading its built-ins is waited for, up to 100 ms (this thread idles meanwhile,
  // leaving the worker a core): usually a few ms to a few tens on 2 cores.
  if (checksAheadLoaded !== undefined) Atomics.wait(checksAheadLoaded, 0, 0, 100);
  // The built-in modules the command's chunks load once it runs, loaded now, from Node's code cache: after the
  // flags, validate's pack checks (crypto, fs/promises, zlib, the yaml package's process: 26 modules) were
  // compiled from source, ~5 ms of a one-pack validate's ~100 ms CPU, ~20 ms of a first run's ~180 ms (no code
  // cache yet). test/e2e/rerun-builtins.test.ts keeps the lists whole.
  for (const id of loadedLater(command)) require(id);
  // inspect and pull read the pack's archive through a file stream, whose module node:fs loads on first use.
  if (command === 'inspect' || command === 'pull') void require('node:fs').ReadStream;
  // The chunks compiled so far are cached under the flags they were compiled with: V8 refuses a cache made
  // under other flags (bin/code-cache.cjs sets these back to V8's defaults for the moment it saves them).
  // Which flags, and why each: bin/v8-flags.cjs (only those the running V8 has).
  const { flags, undo } = require('./v8-flags.cjs').runFlags(command === 'validate');
  codeCache?.setFlags(flags, undo);
  for (const flag of flags) v8.setFlagsFromString(flag);
}
