import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import type { BuildOptions, BuiltArchive } from '../archive/build.js';
import type { PackEntry } from '../archive/walk.js';
import { PackpubError, type ErrorCode } from '../errors.js';
import { archiveFileName } from '../pack/naming.js';
import { cpuThreads } from '../util/cores.js';
import type { ValidateOptions, ValidationReport } from '../pack/validate.js';
import { WORKER_YOUNG_GENERATION_MB, WORKERS_AHEAD, worthWorkers, type WorkersAhead } from './validate-work.js';

export { MIN_WORK_FOR_WORKERS, packWork, worthWorkers, WORKER_YOUNG_GENERATION_MB } from './validate-work.js';

/*
 * Pack validation on every core (issue 16): a pool of worker threads, each running validatePackFolder on the
 * packs it is handed (validate-worker.ts). Validation is CPU work (YAML parsing, schema checks, gunzip of
 * chart archives) that would otherwise hold the main thread while it should be uploading. Push builds its
 * archives on the same workers (build): walking, reading, tar, hashing and deflate on a thread that has
 * nothing else to do, with blocking reads and synchronous deflate, instead of the main thread's round trips
 * through libuv's pool (the main thread's CPU on the bench tree's first publish: 4.0 s -> 2.0 s).
 *
 * The worker is the compiled validate-worker.js beside this module (dist/). When it is not there (the
 * sources run directly, as under the test runner) or the packs are less work than MIN_WORK_FOR_WORKERS
 * (starting a worker costs more than checking a few small packs), packs are validated on the calling
 * thread: same function, same reports.
 */

/** What a worker is asked: one pack; with `listing`, the entries of its archive too when it passes (validateForBuild). */
export interface ValidateRequest {
  id: number;
  dir: string;
  options: ValidateOptions;
  listing?: true;
}

/** Where push builds the archive of `name`:`version` in its work folder (when it is too large to hold in memory). */
export function workFile(workDir: string, name: string, version: string): string {
  return join(workDir, `${name}__${archiveFileName(name, version)}`);
}

/** An error thrown on a worker, as its answer carries it. */
export interface WorkerError {
  message: string;
  code?: ErrorCode;
  hint?: string;
}

/** What a worker answers: the report (and the archive's entries, when asked and listed), or the error validatePack threw (a folder that is not one). */
export type ValidateResponse = { id: number; report: ValidationReport; entries?: PackEntry[] } | { id: number; error: WorkerError };

/** An archive a worker built: its held bytes as an ArrayBuffer of their own. */
export type WorkerBuilt = Omit<BuiltArchive, 'bytes'> & { heldBytes?: ArrayBuffer };

/** What a build may be asked on a worker: buildArchive's options that survive a message. */
export type PoolBuildOptions = Pick<BuildOptions, 'name' | 'version' | 'mtime' | 'checked' | 'inMemoryUpTo' | 'entries'>;

/** A worker is asked to build one archive (buildArchive on its thread). */
export interface BuildRequest {
  id: number;
  build: { dir: string; outFile: string; options: PoolBuildOptions };
}

/** The archive a worker built (its held bytes as an ArrayBuffer of their own), or the error buildArchive threw. */
export type BuildResponse = { id: number; built: WorkerBuilt } | { id: number; error: WorkerError };

export interface ValidatePool {
  validate(dir: string, options: ValidateOptions): Promise<ValidationReport>;
  /**
   * validate, and on a worker, for a pack that passes, the entries of its archive from the walk the check made
   * (validateForBuild): a build given them (PoolBuildOptions `entries`, with `checked` from before this check)
   * walks the folder no second time. `entries` is undefined for a pack that fails.
   */
  validateListing(dir: string, options: ValidateOptions): Promise<{ report: ValidationReport; entries?: PackEntry[] }>;
  /**
   * buildArchive of a pack, on a worker when the pool has workers (or would start them: the packs are worth
   * it), where its reads and deflate do not hold the calling thread; else on the calling thread.
   */
  build(dir: string, outFile: string, options: PoolBuildOptions): Promise<BuiltArchive>;
  /** Stop the workers (idempotent). Pending validations are rejected. */
  close(): Promise<void>;
}

export interface ValidatePoolOptions {
  /**
   * The packs the caller may validate: at most one worker per pack, and none unless they are at least
   * MIN_WORK_FOR_WORKERS of work (estimated on the first validation, so a run that validates none pays nothing).
   */
  dirs: readonly string[];
  /** Threads at most (default: cpuThreads(), one per usable core, at most MAX_CPU_THREADS). */
  threads?: number;
}

const WORKER_FILE = fileURLToPath(new URL('./validate-worker.js', import.meta.url));

/** Packs a worker is given at once: one parsing while the other waits for its file reads. */
const PER_WORKER = 2;

async function buildHere(dir: string, outFile: string, options: PoolBuildOptions): Promise<BuiltArchive> {
  // Loaded on first use: a run that finds every pack unchanged never needs the tar, walk and gzip code.
  const { buildArchive } = await import('../archive/build.js');
  return buildArchive(dir, outFile, options);
}

/**
 * Load the validator's modules on this thread now, with the pack.json schema's validator (which validation
 * loads at its first pack.json). `packpub validate` does this before startValidation takes the workers bin
 * started ahead, after which bin sets its V8 flags (once they have loaded their built-ins): the validator's
 * code is then compiled, and its code cache (bin/code-cache.cjs) written and read, under the same flags every
 * run, whichever thread is ready first, and this thread compiles it while the workers load (issue 16).
 */
export async function loadValidator(): Promise<void> {
  await Promise.all([import('./validate-folder.js'), import('../pack/pack-json-validate.generated.js')]);
}

async function validateHere(dir: string, options: ValidateOptions): Promise<ValidationReport> {
  // Loaded on first use: an unchanged re-run never needs the validator (schema compiler, YAML parser).
  const { validatePackFolder } = await import('./validate-folder.js');
  return validatePackFolder(dir, options);
}

async function validateListingHere(dir: string, options: ValidateOptions): Promise<{ report: ValidationReport; entries?: PackEntry[] }> {
  const { validateForBuild } = await import('./validate-folder.js');
  return validateForBuild(dir, options, true);
}

type Answer = { report: ValidationReport; entries?: PackEntry[] } | BuiltArchive;

interface Task {
  request: ValidateRequest | BuildRequest;
  resolve: (answer: Answer) => void;
  reject: (err: unknown) => void;
}

/** A worker's archive as buildArchive returns it. */
function fromWorker({ heldBytes, ...built }: WorkerBuilt): BuiltArchive {
  return heldBytes === undefined ? built : { ...built, bytes: Buffer.from(heldBytes) };
}

interface PoolWorker {
  worker: Worker;
  busy: Map<number, Task>;
}

/**
 * A pool of validation workers, started on first use, at most one per usable core (cpuThreads) and one per pack; or, when the
 * packs are less work than MIN_WORK_FOR_WORKERS (decided on the first validation), none: all on this thread.
 */
export function createValidatePool(options: ValidatePoolOptions): ValidatePool {
  const threads = Math.max(1, Math.min(options.threads ?? cpuThreads(), options.dirs.length));
  if (!existsSync(WORKER_FILE)) return { validate: validateHere, validateListing: validateListingHere, build: buildHere, close: async () => undefined };
  let here: boolean | undefined;
  const workers: PoolWorker[] = [];
  const queue: Task[] = [];
  let nextId = 0;
  let closed = false;

  const fail = (pw: PoolWorker, err: unknown): void => {
    const i = workers.indexOf(pw);
    if (i >= 0) workers.splice(i, 1);
    for (const task of pw.busy.values()) task.reject(err);
    pw.busy.clear();
    void pw.worker.terminate();
    pump();
  };

  const start = (): PoolWorker => {
    const worker = startWorker();
    const pw: PoolWorker = { worker, busy: new Map() };
    worker.on('message', (msg: ValidateResponse | BuildResponse) => {
      const task = pw.busy.get(msg.id);
      if (task === undefined) return;
      pw.busy.delete(msg.id);
      if ('report' in msg) task.resolve(msg.entries === undefined ? { report: msg.report } : { report: msg.report, entries: msg.entries });
      else if ('built' in msg) task.resolve(fromWorker(msg.built));
      else task.reject(answerError(msg));
      pump();
    });
    worker.on('error', (err) => fail(pw, workerFailed(err)));
    worker.on('exit', (code) => {
      if (pw.busy.size > 0) fail(pw, new PackpubError('INTERNAL', `a validation worker exited (code ${code}) before it answered`));
    });
    workers.push(pw);
    return pw;
  };

  function pump(): void {
    while (queue.length > 0 && !closed) {
      const pw = workers.find((w) => w.busy.size === 0) ?? (workers.length < threads ? start() : workers.find((w) => w.busy.size < PER_WORKER));
      if (pw === undefined) break;
      const task = queue.shift() as Task;
      pw.busy.set(task.request.id, task);
      pw.worker.ref();
      pw.worker.postMessage(task.request);
    }
    // Idle workers must not keep the process alive (a library caller that forgets close()).
    for (const w of workers) if (w.busy.size === 0) w.worker.unref();
  }

  const submit = <T extends Answer>(request: ValidateRequest | BuildRequest): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      queue.push({ request, resolve: resolve as (answer: Answer) => void, reject });
      pump();
    });

  return {
    validate(dir, validateOptions) {
      if (closed) return Promise.reject(new PackpubError('INTERNAL', 'the validation pool is closed'));
      here ??= !worthWorkers(options.dirs);
      if (here) return validateHere(dir, validateOptions);
      return submit<{ report: ValidationReport }>({ id: nextId++, dir, options: validateOptions }).then((a) => a.report);
    },
    validateListing(dir, validateOptions) {
      if (closed) return Promise.reject(new PackpubError('INTERNAL', 'the validation pool is closed'));
      here ??= !worthWorkers(options.dirs);
      if (here) return validateListingHere(dir, validateOptions);
      return submit<{ report: ValidationReport; entries?: PackEntry[] }>({ id: nextId++, dir, options: validateOptions, listing: true });
    },
    build(dir, outFile, buildOptions) {
      if (closed) return Promise.reject(new PackpubError('INTERNAL', 'the validation pool is closed'));
      here ??= !worthWorkers(options.dirs);
      if (here) return buildHere(dir, outFile, buildOptions);
      return submit<BuiltArchive>({ id: nextId++, build: { dir, outFile, options: buildOptions } });
    },
    async close() {
      if (closed) return;
      closed = true;
      const err = new PackpubError('ABORTED', 'validation stopped');
      for (const task of queue.splice(0)) task.reject(err);
      await Promise.all(
        workers.splice(0).map((w) => {
          for (const task of w.busy.values()) task.reject(err);
          return w.worker.terminate();
        }),
      );
    },
  };
}

/** The error a worker answered, as the caller would have caught it on its own thread. */
function answerError(msg: { error: WorkerError }): Error {
  return msg.error.code === undefined ? new Error(msg.error.message) : new PackpubError(msg.error.code, msg.error.message, msg.error.hint === undefined ? {} : { hint: msg.error.hint });
}

function workerFailed(err: Error): PackpubError {
  return new PackpubError('INTERNAL', `a validation worker failed: ${err.message}`, { cause: err });
}

/**
 * A whole list of packs, for a worker (validateMany): it claims the next index from `next` (an Int32Array
 * over the SharedArrayBuffer) until none is left, answering with each report, then with `{ done: true }`.
 */
export interface ValidateListRequest {
  list: string[];
  options: ValidateOptions;
  next: SharedArrayBuffer;
}

export type ValidateListResponse = ValidateResponse | { done: true };

/** What a validation worker needs to compile its file with V8's code cache: in a CLI run, bin/code-cache.cjs's settings (where, for which flags). */
function workerSettings(): unknown {
  const v8Code = (globalThis as { [key: symbol]: unknown })[Symbol.for('packpub.v8-code')];
  return typeof v8Code === 'function' ? v8Code() : undefined;
}

/**
 * A validation worker thread, its heap sized as above. In a CLI run, bin/code-cache.cjs says where V8's code
 * cache is and for which flags, and the bundle's worker compiles its file with it (scripts/build-cli.mjs).
 */
function startWorker(): Worker {
  const settings = workerSettings();
  return new Worker(WORKER_FILE, { resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB }, ...(settings === undefined ? {} : { workerData: { v8Code: settings } }) });
}

/**
 * The workers bin/packpub.js started ahead for this list (validate-ahead.ts), taken once: `count` of them at
 * most (the others are stopped), and whether they have been sent the code cache's settings, which they wait for
 * (polled, or awaited: `started`); undefined when there are none.
 */
function takeWorkersAhead(count: number): { workers: Worker[]; started: () => boolean; whenStarted: Promise<void> } | undefined {
  const global = globalThis as { [key: symbol]: unknown };
  const ahead = global[WORKERS_AHEAD] as WorkersAhead | undefined;
  if (ahead === undefined) return undefined;
  delete global[WORKERS_AHEAD];
  const { workers, ready, whenReady } = ahead.take(count);
  for (const worker of workers) worker.ref();
  let sent = false;
  // Sent once they loaded their built-ins and bin has set its V8 flags: the settings name them.
  const started = (): boolean => {
    if (!sent && ready()) {
      sent = true;
      const settings = workerSettings();
      for (const worker of workers) worker.postMessage({ v8Code: settings });
    }
    return sent;
  };
  started();
  return { workers, started, whenStarted: whenReady.then(() => void started()) };
}

/** Validation threads started ahead of the list (startValidation): they load the validator while the caller checks its arguments. */
export interface ValidationCrew {
  /** validateMany of these packs, on the threads already started (once); the workers are stopped as it ends (close awaits that). */
  run(dirs: readonly string[], options: ValidateOptions): Promise<ValidationReport[]>;
  /** Stop the workers (idempotent): after run, or instead of it. */
  close(): Promise<void>;
}

/**
 * Start the worker threads for validating `dirs` now (validateMany's, minus this thread), so a worker's
 * start (a Node environment, the validator's modules: ~0.1-0.2 s of one core) overlaps what the caller does
 * before it runs the list, instead of delaying the first pack the worker can take. None when the packs are
 * less work than MIN_WORK_FOR_WORKERS. In a `packpub validate` run, the workers bin/packpub.js started ahead
 * (validate-ahead.ts) are taken first: they loaded their built-in modules before bin set its V8 flags.
 */
export function startValidation(dirs: readonly string[], threads = cpuThreads()): ValidationCrew {
  const workerCount = Math.max(1, Math.min(threads, dirs.length)) - 1;
  const workers: StartedWorker[] = [];
  const worth = workerCount > 0 && existsSync(WORKER_FILE) && worthWorkers(dirs);
  const ahead = takeWorkersAhead(worth ? workerCount : 0);
  if (worth) {
    for (let w = 0; w < workerCount; w++) {
      const early = ahead?.workers[w];
      const worker = early ?? startWorker();
      // Watched from its start: a worker that fails before it is given the list is no uncaught error.
      const failed = new Promise<never>((_, reject) => {
        worker.on('error', (err) => reject(workerFailed(err)));
        worker.on('exit', (code) => reject(new PackpubError('INTERNAL', `a validation worker exited (code ${code}) before it answered`)));
      });
      // Awaited in run, after this thread's own packs: until then (or without a run) not unhandled.
      failed.catch(() => undefined);
      workers.push({ worker, failed, ...(early === undefined || ahead === undefined ? {} : { ahead: { started: ahead.started, whenStarted: ahead.whenStarted } }) });
    }
  }
  let used = false;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= Promise.all(workers.map(({ worker }) => worker.terminate())).then(() => undefined));
  return {
    async run(dirs, options) {
      if (used) throw new PackpubError('INTERNAL', 'a validation crew runs one list');
      used = true;
      try {
        return await validateOnThreads(dirs, options, workers);
      } finally {
        // The workers are told to stop now; their teardown overlaps what the caller does with the reports.
        void close();
      }
    },
    close,
  };
}

/**
 * Validate `dirs` on every core, this thread included, for a caller with nothing else to do meanwhile
 * (the validate command): the reports in the order of `dirs`, or the first error (by position) that
 * validatePack threw. Every thread, this one and each worker, claims the next pack itself from one
 * shared counter, so no thread waits for another to be handed its next pack and none is idle before the
 * list is done (issue 16: a busy main thread answered a worker only between its own packs, and the worker
 * sat idle a fifth of the time). This thread validates from the start, while the workers are starting (from
 * the end of the list until one has it: validateOnThreads).
 * Less work than MIN_WORK_FOR_WORKERS, or no worker file: all on this thread.
 */
export async function validateMany(dirs: readonly string[], options: ValidateOptions, threads = cpuThreads()): Promise<ValidationReport[]> {
  const crew = startValidation(dirs, threads);
  try {
    return await crew.run(dirs, options);
  } finally {
    await crew.close();
  }
}

interface StartedWorker {
  worker: Worker;
  /** Rejects when the worker fails or exits (also after its list is done: then nobody waits). */
  failed: Promise<never>;
  /** A worker bin/packpub.js started ahead: whether it may be given the list yet (polled), and when it may. */
  ahead?: { started(): boolean; whenStarted: Promise<void> };
}

/**
 * validateMany's work, on this thread and `workers` (already started). A worker started ahead may be given the
 * list only once it has loaded its built-ins (then bin sets its V8 flags), which this thread learns between
 * its own packs: until a worker has the list, this thread checks packs from the end of the list (the worker is
 * given those before them), so a long pack at the front does not keep a loaded worker waiting; from then on
 * every thread claims from the front (issue 16: the worker sat loaded and idle for ~20-90 ms, up to ~400 ms
 * under load, until the main thread had finished its first pack).
 */
async function validateOnThreads(dirs: readonly string[], options: ValidateOptions, workers: readonly StartedWorker[]): Promise<ValidationReport[]> {
  const settled: Array<{ report: ValidationReport } | { error: unknown } | undefined> = new Array(dirs.length);
  const next = new Int32Array(new SharedArrayBuffer(4));
  const running: Array<Promise<void>> = [];
  // The packs from `end` on are this thread's, taken from the back before any worker had the list.
  let end = dirs.length;
  let request: ValidateListRequest | undefined;
  // A worker started ahead gets the list once it may: checked between this thread's packs, or as it can.
  const waiting = new Set<StartedWorker>();
  const give = (one: StartedWorker): void => {
    if (!waiting.delete(one)) return;
    request ??= { list: dirs.slice(0, end), options, next: next.buffer as SharedArrayBuffer };
    one.worker.postMessage(request);
  };
  for (const one of workers) {
    const { worker, failed, ahead } = one;
    const done = new Promise<void>((resolve) => {
      worker.on('message', (msg: ValidateListResponse) => {
        if ('done' in msg) resolve();
        else settled[msg.id] = 'report' in msg ? { report: msg.report } : { error: answerError(msg) };
      });
    });
    const finished = Promise.race([done, failed]);
    // Awaited below, after this thread's own packs: until then a failure must not count as unhandled.
    finished.catch(() => undefined);
    running.push(finished);
    waiting.add(one);
    if (ahead === undefined || ahead.started()) give(one);
    else void ahead.whenStarted.then(() => give(one));
  }
  // The next pack for this thread: from the back while workers wait and none has the list, else from the front.
  const claim = (): number | undefined => {
    for (const one of waiting) if (one.ahead?.started() === true) give(one);
    if (request === undefined && waiting.size > 0) return end > 0 ? --end : undefined;
    const i = Atomics.add(next, 0, 1);
    return i < end ? i : undefined;
  };
  for (let i = claim(); i !== undefined; i = claim()) {
    try {
      settled[i] = { report: await validateHere(dirs[i] as string, options) };
    } catch (error) {
      settled[i] = { error };
    }
    // A turn of the event loop between packs: this thread reads pack files with blocking calls, so a pack's
    // checks never yield to it, and a SIGINT or SIGTERM (the CLI's handler: exit 130) or a worker's message
    // would otherwise wait for the whole list.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await Promise.all(running);
  return settled.map((s, i) => {
    if (s === undefined) throw new PackpubError('INTERNAL', `pack ${dirs[i] ?? i} was never validated`);
    if ('error' in s) throw s.error;
    return s.report;
  });
}
