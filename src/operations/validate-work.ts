import { readdirSync, statSync } from 'node:fs';

/*
 * What a validation worker thread is worth and how it is started, for the pool (validate-pool.ts) and for the
 * workers bin/packpub.js starts ahead for `validate` (validate-ahead.ts): without the pool's imports.
 */

/**
 * Packs that are less work than this (packWork, bytes) are validated on the calling thread only. A worker
 * costs ~0.12 CPU-s to start (a Node environment, the validator's modules loaded again) and warms up its
 * own compiled code, while one core validates about 20 MB of such bytes a second (the bench tree: 43 MB in
 * 2.1 CPU-s); below this a worker saves little time for its CPU (issue 16: a tree of twelve small packs cost
 * 0.55 CPU-s with one worker, 0.43 without). Counted by work, not by packs: many tiny packs stay here.
 */
export const MIN_WORK_FOR_WORKERS = 8 * 1024 * 1024;

/** Work counted for a pack beyond its files' bytes: pack.json and its schema, the folder walk, the reports. */
const WORK_PER_PACK = 32 * 1024;

/**
 * A cheap estimate of the work of validating a pack, in bytes: WORK_PER_PACK plus the files in its folder
 * and in its charts/ and manifests/ folders (one level: chart archives, manifests, values, logo: most of what
 * validation reads). Blocking calls, a few per pack; what cannot be read counts nothing (validation says why).
 */
export function packWork(dir: string): number {
  let work = WORK_PER_PACK;
  const add = (folder: string, top: boolean): void => {
    let entries;
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.isFile()) {
        try {
          work += statSync(`${folder}/${entry.name}`).size;
        } catch {
          // gone meanwhile: validation reports it
        }
      } else if (top && entry.isDirectory() && (entry.name === 'charts' || entry.name === 'manifests')) add(`${folder}/${entry.name}`, false);
    }
  };
  add(dir, true);
  return work;
}

/** Whether validating `dirs` is MIN_WORK_FOR_WORKERS of work or more: estimated pack by pack, only until it is. */
export function worthWorkers(dirs: readonly string[]): boolean {
  let work = 0;
  for (const dir of dirs) {
    work += packWork(dir);
    if (work >= MIN_WORK_FOR_WORKERS) return true;
  }
  return false;
}

/**
 * Young generation of a validation worker's heap, in MiB (three semi-spaces' worth: V8 sizes a semi-space
 * at a third of it). V8 lets a busy thread's semi-spaces grow to 16 MiB each; validating the bench tree
 * with 2 MiB ones cost less CPU (young objects stay in the core's cache; the few that outlive a pack are
 * copied no more often) and about 50 MB less peak memory (issue 16).
 */
export const WORKER_YOUNG_GENERATION_MB = 6;

/**
 * Where bin/packpub.js leaves the validation workers it started ahead for `packpub validate` (validate-ahead.ts)
 * for startValidation, which takes them (once).
 */
export const WORKERS_AHEAD = Symbol.for('packpub.validation-ahead');

/** Validation workers started before the program loaded (validate-ahead.ts). */
export interface WorkersAhead {
  /**
   * Up to `count` of the workers, those still running (the others are stopped). Each loads its built-in modules,
   * then waits for one message, `{ v8Code }` (the code cache's settings, or undefined), which it may be sent
   * once `ready()` (polled: this thread may be busy with no turn of its event loop) returns true or
   * `whenReady` settles: every worker taken has loaded them, or ended, and bin/packpub.js has set its V8 flags.
   * It then loads its file and answers as any validation worker. Once: a second call takes none.
   */
  take(count: number): TakenAhead;
}

/** What WorkersAhead.take hands over. */
export interface TakenAhead {
  workers: import('node:worker_threads').Worker[];
  ready(): boolean;
  whenReady: Promise<void>;
}
