import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { deferred, type Deferred } from '../util/concurrency.js';
import { defaultCacheDir, type FolderVerdict } from './archive-cache.js';

/*
 * Checking the cache's pack folders ahead, on a worker thread (issue 16). An unchanged re-run spends most
 * of its own time on two things that need not wait for each other: loading the program (argument parser,
 * registry client) and one lstat per file and folder of every pack (stat-tree.ts). The worker starts
 * before the argument parser loads, reads the cache index and checks every folder it remembers under the
 * paths the command line names; the push then takes the verdicts of the folders it really publishes.
 *
 * A verdict is exactly folderKey's (archive-cache.ts): the same stat signatures of the same record, only
 * taken a few hundred milliseconds earlier, within the run, as a check on the main thread would also be
 * taken before the lookups. A folder the worker does not cover, or any worker failure, leaves the check to
 * the main thread: never a verdict that was not computed.
 */

/** What the worker is started with. */
export interface FolderCheckRequest {
  cacheDir: string;
  /** Paths named on the command line: the remembered folders in or below those that are folders are checked. */
  paths: string[];
  /** Checked instead when none of `paths` is a folder (packs listed in packpub.yaml): the working folder. */
  otherwise: string;
}

/**
 * Shared between the threads (an Int32Array over a SharedArrayBuffer): slot 0 is set when the main thread
 * no longer wants verdicts; slot 1 + i says who checks folder i of the worker's list, claimed with
 * compareExchange so that each folder is checked exactly once, by whichever thread gets to it first.
 */
export const CLAIM = { free: 0, worker: 1, main: 2 } as const;

/** Folders the worker may claim (the cache index keeps at most this many; any beyond are the main thread's). */
const MAX_CLAIMS = 20_000;

/** What the worker sends: first the folders it may check, then their verdicts, a few at a time, in that order. */
export type FolderCheckMessage = { type: 'folders'; folders: string[] } | { type: 'verdicts'; verdicts: FolderVerdict[] };

export interface FolderChecks {
  /** The cache folder the verdicts are of: they count only for a push using the same cache. */
  readonly cacheDir: string;
  /**
   * The worker's verdict on the folder at real path `root`; undefined when the caller must check it itself:
   * the worker does not cover it, has not got to it yet (the caller claims it), has not even listed its
   * folders yet (it is left behind: a thread starved of CPU must not hold the push), or failed.
   */
  verdict(root: string): Promise<FolderVerdict | undefined>;
  /** Resolves once the worker has ended, every verdict it reached received. */
  readonly finished: Promise<void>;
  /** Stop the worker (idempotent). */
  close(): Promise<void>;
}

const WORKER_FILE = fileURLToPath(new URL('./folder-check-worker.js', import.meta.url));

/**
 * Start checking the folders a `packpub push` with these arguments may publish, when the cache is on.
 * Undefined for any other command, with --no-cache, or when the worker's file is not beside this module
 * (the sources run directly, as under the test runner): the push then checks its folders itself.
 */
export function startFolderChecks(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string): FolderChecks | undefined {
  if (argv[0] !== 'push' || argv.includes('--no-cache') || argv.includes('--help') || !existsSync(WORKER_FILE)) return undefined;
  // Every word that is not a flag may be a pack folder or a root: a flag's value costs one failed stat.
  const named = argv.slice(1).filter((a) => !a.startsWith('-'));
  return checkFoldersAhead({ cacheDir: defaultCacheDir(env), paths: named.map((p) => resolve(cwd, p)), otherwise: cwd });
}

/** The worker for `request` (exported for tests). */
export function checkFoldersAhead(request: FolderCheckRequest, workerFile = WORKER_FILE): FolderChecks {
  const claims = new Int32Array(new SharedArrayBuffer(4 * (1 + MAX_CLAIMS)));
  const worker = new Worker(workerFile, { workerData: { request, claims } });
  /** Index of each folder in the worker's list, once it sent it. */
  let listed: Map<string, number> | undefined;
  const known = new Map<string, FolderVerdict>();
  const pending = new Map<string, Deferred<FolderVerdict | undefined>>();
  worker.on('message', (message: FolderCheckMessage) => {
    if (message.type === 'folders') {
      listed ??= new Map(message.folders.map((folder, i) => [folder, i]));
      for (const folder of message.folders) pending.set(folder, deferred());
    } else {
      for (const verdict of message.verdicts) {
        known.set(verdict.root, verdict);
        pending.get(verdict.root)?.resolve(verdict);
      }
    }
  });
  let ended = false;
  /**
   * No more verdicts wanted or coming (the worker is done, failed, or left behind): it checks nothing
   * further, and every folder whose verdict has not arrived is the caller's (resolving twice is a no-op).
   */
  const end = () => {
    ended = true;
    Atomics.store(claims, 0, 1);
    for (const d of pending.values()) d.resolve(undefined);
  };
  const finished = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.on('error', end);
  worker.on('exit', end);
  let closed: Promise<void> | undefined;
  return {
    cacheDir: request.cacheDir,
    finished,
    async verdict(root) {
      const done = known.get(root);
      if (done !== undefined) return done;
      if (listed === undefined) {
        end(); // not even started on its list: the caller is ahead of it, and checks every folder itself
        return undefined;
      }
      const i = listed.get(root);
      if (ended || i === undefined || i >= MAX_CLAIMS) return undefined;
      // Not begun by the worker: the caller's now. Claimed by the worker: its verdict is on the way.
      if (Atomics.compareExchange(claims, 1 + i, CLAIM.free, CLAIM.main) === CLAIM.free) return undefined;
      return pending.get(root)?.promise;
    },
    close() {
      end();
      closed ??= worker.terminate().then(() => undefined, () => undefined);
      return closed;
    },
  };
}
