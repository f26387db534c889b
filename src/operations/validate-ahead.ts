import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { WORKER_YOUNG_GENERATION_MB, worthWorkers, type WorkersAhead } from './validate-work.js';
import { cpuThreads } from '../util/cores.js';

/*
 * The validation workers bin/packpub.js starts for `packpub validate` before it loads the program (issue 16),
 * built into dist/bundle/validate-ahead.cjs. Node compiles each built-in module a thread loads after a V8 flag
 * changed from its source instead of its code cache, and a worker thread loads ~175 of them (~125 to start,
 * the rest for its file): a worker started once bin had set its flags (--interrupt-budget, --liftoff-only)
 * spent ~40 ms more CPU before its first pack (the bench tree: ~145 instead of ~105 ms). Started here, a worker
 * loads them under V8's defaults while the main thread loads the program, then waits; startValidation takes it
 * (WorkersAhead.take), bin sets its flags once it has loaded them, and the worker then compiles its file with
 * V8's code cache under the flags, as a worker the pool starts does.
 */

/** The worker's entry (beside this file in dist/bundle/): it knows a worker started ahead by its workerData.loaded. */
const WORKER_FILE = fileURLToPath(new URL('./validate-worker.js', import.meta.url));

/**
 * The pack folders of a `validate` command line after the command word, against `cwd`: every word but the flags
 * (all of validate's are switches), every word after `--`. Only an estimate for starting workers: the
 * command reads the line again.
 */
export function packDirsOf(words: readonly string[], cwd: string): string[] {
  const end = words.indexOf('--');
  const flagged = end === -1 ? words : words.slice(0, end);
  const after = end === -1 ? [] : words.slice(end + 1);
  return [...flagged.filter((word) => !word.startsWith('-')), ...after].map((dir) => resolve(cwd, dir));
}

/** Atomics.waitAsync (ES2024, in Node since 16), which the compiler's library (ES2023) does not declare. */
interface AtomicsWaitAsync {
  waitAsync(array: Int32Array, index: number, value: number): { async: false; value: string } | { async: true; value: Promise<string> };
}

interface Started {
  worker: Worker;
  loaded: Int32Array;
  exited: boolean;
}

/**
 * Start the workers startValidation would start for `packpub validate` with these words after the command
 * (one per usable core but one (cpuThreads), one per pack but one, none unless the packs are worth workers: worthWorkers), or
 * undefined when it would start none. `beforeWorkers` runs before the first starts (bin/packpub.js: the V8 flags read as a worker's
 * isolate is made), `flags` once those taken have loaded their built-ins (bin/packpub.js: its V8 flags). A worker
 * never keeps the process alive before it is taken (a command line refused first), and one that fails is
 * not taken.
 */
export function startValidationAhead(words: readonly string[], flags: () => void, beforeWorkers: () => void = () => undefined): WorkersAhead | undefined {
  const dirs = packDirsOf(words, process.cwd());
  const count = Math.min(cpuThreads(), dirs.length) - 1;
  if (count < 1 || !worthWorkers(dirs)) return undefined;
  beforeWorkers();
  const started: Started[] = [];
  for (let i = 0; i < count; i++) {
    const loaded = new Int32Array(new SharedArrayBuffer(4));
    try {
      const worker = new Worker(WORKER_FILE, { resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB }, workerData: { loaded } });
      const one: Started = { worker, loaded, exited: false };
      worker.on('error', () => undefined);
      worker.on('exit', () => {
        one.exited = true;
      });
      worker.unref();
      started.push(one);
    } catch {
      break;
    }
  }
  let taken = false;
  return {
    take(wanted) {
      if (taken) return { workers: [], ready: () => true, whenReady: Promise.resolve() };
      taken = true;
      const kept = started.filter((one) => !one.exited).slice(0, wanted);
      for (const one of started) if (!kept.includes(one)) void one.worker.terminate();
      let done = false;
      let settle = (): void => undefined;
      const whenReady = new Promise<void>((resolve) => (settle = resolve));
      // The flags wait for every worker taken: once all have loaded their built-ins (or ended), checked whenever
      // asked (between packs) and, while this thread waits, as a worker says so (Atomics.waitAsync needs the
      // event loop) or ends.
      const ready = (): boolean => {
        if (!done && kept.every((one) => one.exited || Atomics.load(one.loaded, 0) === 1)) {
          done = true;
          flags();
          settle();
        }
        return done;
      };
      for (const one of kept) {
        one.worker.once('exit', ready);
        const wait = (Atomics as unknown as AtomicsWaitAsync).waitAsync(one.loaded, 0, 0);
        if (wait.async) void wait.value.then(ready);
      }
      ready();
      return { workers: kept.map((one) => one.worker), ready, whenReady };
    },
  };
}
