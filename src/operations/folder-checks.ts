import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CheckedFolder } from '../archive/stat-tree.js';
import { defaultCacheDir, hasIndex, type RememberedFolder } from './archive-cache.js';

/*
 * The stat checks of remembered pack folders on a thread of their own, started before the run has even
 * parsed its command line (issue 16). An unchanged re-run of a tree is ~12,000 lstat calls: on the main
 * thread they came after start-up (loading the argument parser, the push modules, the HTTP client,
 * opening the target), while the second core sat idle; here they run during it.
 *
 * The worker (folder-check-worker.ts) reads the archive cache's folder records itself and checks, with
 * the very function the main thread would use (rememberedTreeHolds), first the folders below the words
 * of the command line that name folders (a guess, only ever a speed-up), then exactly the pack folders
 * the run found (adopt). An answer is used only for the record the main thread holds (same key, paths
 * and digest: the index may have been rewritten in between); anything else is checked on the main thread
 * as before. A folder that holds counts as checked from the moment the worker began its check
 * (folderCheck: its build, if any, must find nothing changed since).
 */

/** What the worker is started with. */
export interface FolderCheckData {
  cacheDir: string;
  cwd: string;
  /** Words of the command line: those naming folders say where to start checking. */
  words: string[];
}

/** What the main thread sends: check exactly these pack folders (paths as found), in this order. */
export interface FolderCheckOnly {
  only: string[];
}

/** What the worker answers: one folder's check, or that it is done. */
export type FolderCheckMessage = { done: true } | { root: string; key: string; paths: string; digest: string; holds: boolean; since: CheckedFolder };

/** The answer push uses: whether the folder holds as remembered, and since when it was checked. */
export interface EarlyCheck {
  holds: boolean;
  since: CheckedFolder;
}

const WORKER_FILE = fileURLToPath(new URL('./folder-check-worker.js', import.meta.url));

export class EarlyFolderChecks {
  private readonly answers = new Map<string, Extract<FolderCheckMessage, { root: string }>>();
  private readonly waiting = new Map<string, Array<() => void>>();
  private finished = false;
  private adopted = false;

  private constructor(private readonly worker: Worker) {
    // Until a run adopts it, the worker does not keep the process alive (a usage error, --help).
    worker.unref();
    worker.on('message', (m: FolderCheckMessage) => {
      if ('done' in m) return this.finish();
      this.answers.set(m.root, m);
      this.wake(m.root);
    });
    // A worker that fails only costs speed: its folders are checked on the main thread.
    worker.on('error', () => this.finish());
    worker.on('exit', () => this.finish());
  }

  /** Start the worker; undefined when it cannot run here (the sources run directly, as under the test runner). */
  static start(data: FolderCheckData): EarlyFolderChecks | undefined {
    if (!existsSync(WORKER_FILE)) return undefined;
    try {
      return new EarlyFolderChecks(new Worker(WORKER_FILE, { workerData: data }));
    } catch {
      return undefined;
    }
  }

  /** Check exactly these pack folders from now on (paths as found, in the order they will be asked); the process waits for the answers. */
  adopt(dirs: readonly string[]): void {
    if (this.finished) return;
    this.adopted = true;
    this.worker.ref();
    this.worker.postMessage({ only: [...dirs] } satisfies FolderCheckOnly);
  }

  /** The worker's check of the folder as remembered; undefined when it did not check this very record (check it on this thread). */
  async checked(folder: RememberedFolder): Promise<EarlyCheck | undefined> {
    if (!this.answers.has(folder.root) && !this.finished) {
      await new Promise<void>((resolve) => {
        const list = this.waiting.get(folder.root) ?? [];
        list.push(resolve);
        this.waiting.set(folder.root, list);
      });
    }
    const answer = this.answers.get(folder.root);
    if (answer === undefined || answer.key !== folder.key || answer.digest !== folder.tree.digest || answer.paths !== folder.tree.paths) return undefined;
    return { holds: answer.holds, since: answer.since };
  }

  /** Stop the worker (idempotent); later questions are answered "not checked". */
  async close(): Promise<void> {
    this.finish();
    this.answers.clear();
    await this.worker.terminate();
  }

  /** close(), unless a run adopted the worker (it closes it when done). */
  async closeUnadopted(): Promise<void> {
    if (!this.adopted) await this.close();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    for (const root of [...this.waiting.keys()]) this.wake(root);
  }

  private wake(root: string): void {
    const list = this.waiting.get(root);
    if (list === undefined) return;
    this.waiting.delete(root);
    for (const resolve of list) resolve();
  }
}

/**
 * EarlyFolderChecks.start for a run of the cache defaultCacheDir(env) picks, from the folders named by
 * `words`; none when that cache has no index yet (a first run: nothing is remembered, and a thread would
 * only cost its start).
 */
export function startEarlyFolderChecks(env: NodeJS.ProcessEnv, cwd: string, words: string[]): EarlyFolderChecks | undefined {
  const cacheDir = defaultCacheDir(env);
  return hasIndex(cacheDir) ? EarlyFolderChecks.start({ cacheDir, cwd, words }) : undefined;
}
