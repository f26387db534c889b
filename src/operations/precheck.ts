import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { archiveMtime } from '../archive/format.js';
import { ArchiveCache, defaultCacheDir, type FolderCheckAhead, type FolderChecksAhead } from './archive-cache.js';

/*
 * Checks of the archive cache's remembered folders made ahead of the run (issue 16). An unchanged pack is
 * known from the cache by one lstat per file and folder it holds: ~12,000 calls for the pack-central-shaped
 * bench tree, the largest share of an unchanged re-run's main-thread CPU, on the thread that also loads the
 * program and answers the registry. `packpub push` (bin/packpub.js) starts precheck-worker.ts at once, before
 * it loads the rest of itself: the worker checks every remembered folder at or below the folders the command
 * line names while the main thread loads the parser, the commands and the HTTP stack, and pushPacks takes
 * each answer that is there when it needs it (ArchiveCache `remembered().holds()`), checking any other
 * folder itself.
 *
 * An answer says what the folder held when its check began (`since`), like the run's own check: a folder
 * known from it is built, if it must be, only as it was then (buildArchive `checked`), and an answer about
 * another record of the folder than the one the run reads (another run saved the cache meanwhile) is not used.
 */

/** What bin/packpub.js hands the worker. */
export interface ChecksAheadData {
  /** The command line after the program name. */
  args: string[];
  /** Where the worker posts its answers (ChecksAheadMessage), in batches. */
  port: MessagePort;
}

/**
 * One batch of answers: per folder (real path), its check. `planned`: the folders the worker will answer for
 * (its first message, before any check); `end`: the worker's last message (precheck-worker.ts).
 */
export interface ChecksAheadMessage {
  answers: Array<[root: string, check: FolderCheckAhead]>;
  planned?: string[];
  end?: true;
}

/** Answers posted in batches of this many folders, the first batch as soon as it is checked. */
const BATCH = 8;

/**
 * A run waiting for answers (PortChecksAhead wait) stops waiting when the worker posted nothing for this
 * long (a batch takes a few ms): it then checks every folder without an answer itself, as without a worker.
 */
const STALLED_MS = 50;

/** The existing folders a command line names (real paths): the pack folders and roots it may push. */
export function namedFolders(args: readonly string[], cwd: string): string[] {
  const folders = new Set<string>();
  for (const arg of args) {
    if (arg.startsWith('-')) continue;
    try {
      folders.add(realpathSync.native(resolve(cwd, arg)));
    } catch {
      // not a path (a command, a flag's value, a glob): nothing to check ahead
    }
  }
  return [...folders];
}

/**
 * The worker's work: check every folder the cache (`env`'s, as push's) remembers at or below a folder the
 * command line names, for this run's archive mtime, and `send` the answers in batches, until `stopped`.
 */
export function checkAhead(options: { args: readonly string[]; cwd: string; env: NodeJS.ProcessEnv; send: (message: ChecksAheadMessage) => void; stopped?: () => boolean }): void {
  const roots = namedFolders(options.args, options.cwd);
  if (roots.length === 0) return;
  let batch: ChecksAheadMessage['answers'] = [];
  const dir = defaultCacheDir(options.env);
  if (dir === undefined) return;
  new ArchiveCache(dir).checkFoldersBelow(roots, archiveMtime(options.env), (root, check) => {
    batch.push([root, check]);
    if (batch.length < BATCH) return;
    options.send({ answers: batch });
    batch = [];
  }, { planned: (folders) => options.send({ answers: [], planned: folders }), ...(options.stopped === undefined ? {} : { stopped: options.stopped }) });
  if (batch.length > 0) options.send({ answers: batch });
}

/**
 * The answers of a worker running checkAhead, read from its port when the run asks (receiveMessageOnPort:
 * synchronously, without waiting for a turn of the event loop). A folder with no answer yet has none;
 * `wait(root)` waits for it while the worker is still checking. `done()` tells the worker to stop: any
 * message on the port does (precheck-worker.ts).
 */
export class PortChecksAhead implements FolderChecksAhead {
  private readonly answers = new Map<string, FolderCheckAhead>();
  /** The folders the worker will answer for, once it said (ChecksAheadMessage `planned`). */
  private planned: ReadonlySet<string> | undefined;
  /** The worker posted its last message, or posted nothing for STALLED_MS: no more waiting. */
  private over = false;
  private listening = false;
  private waiters: Array<() => void> = [];

  constructor(private readonly port: MessagePort) {}

  private take(message: ChecksAheadMessage): void {
    for (const [folder, check] of message.answers) this.answers.set(folder, check);
    if (message.planned !== undefined) this.planned = new Set(message.planned);
    if (message.end === true) this.over = true;
  }

  answer(root: string): FolderCheckAhead | undefined {
    for (let m = receiveMessageOnPort(this.port); m !== undefined; m = receiveMessageOnPort(this.port)) this.take(m.message as ChecksAheadMessage);
    return this.answers.get(root);
  }

  /**
   * Undefined when `root` has its answer, or none will come (the worker ended, or will not check it: not
   * remembered below the folders the command line names); otherwise settles at the worker's next message
   * (then ask again), or once it posted nothing for STALLED_MS. Push waits so while the worker is checking the
   * folder rather than checking it too, the same files at the same time (it did when the run caught up with
   * the worker on a loaded machine), and meanwhile serves the registry's answers.
   */
  wait(root: string): Promise<void> | undefined {
    if (this.answer(root) !== undefined || this.over || this.planned?.has(root) === false) return undefined;
    if (!this.listening) {
      this.listening = true;
      this.port.on('message', (message: ChecksAheadMessage) => {
        this.take(message);
        this.wake();
      });
      this.port.unref(); // the waiters' timers keep the run alive, not the port
    }
    return new Promise((resolve) => {
      const stalled = setTimeout(() => {
        this.over = true;
        this.wake();
      }, STALLED_MS);
      this.waiters.push(() => {
        clearTimeout(stalled);
        resolve();
      });
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  done(): void {
    this.port.postMessage('done');
  }
}
