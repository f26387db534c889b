import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { folderCheck } from '../archive/stat-tree.js';
import { readFolderRecords, rememberedTreeHolds } from './archive-cache.js';
import type { FolderCheckData, FolderCheckMessage, FolderCheckOnly } from './folder-checks.js';

/*
 * The entry of the early folder-check thread (folder-checks.ts): check remembered pack folders, one at a
 * time, and answer for each. Runs from dist/bundle/folder-check-worker.js (the CLI's bundle,
 * scripts/build-cli.mjs) or, for the library, the compiled dist/operations/folder-check-worker.js.
 */

if (parentPort === null) throw new Error('folder-check-worker.js runs as a worker thread (folder-checks.ts)');
const port: MessagePort = parentPort;
const { cacheDir, cwd, words } = workerData as FolderCheckData;
const records = readFolderRecords(cacheDir);
const checked = new Set<string>();

function realPath(path: string): string | undefined {
  try {
    return realpathSync.native(resolve(cwd, path));
  } catch {
    return undefined;
  }
}

// Until the run says which folders it found: the remembered folders at or below a word naming a folder.
const below = words.flatMap((word) => {
  const real = word.startsWith('-') ? undefined : realPath(word);
  return real === undefined ? [] : [real];
});
let queue = [...records.keys()].filter((root) => below.some((top) => root === top || root.startsWith(top.endsWith('/') ? top : `${top}/`))).sort();
let adopted = false;
let at = 0;
let scheduled = false;

function step(): void {
  scheduled = false;
  const root = queue[at++];
  if (root === undefined) {
    // Done only once the run's own list is checked; before that, wait for it.
    if (adopted) {
      port.postMessage({ done: true } satisfies FolderCheckMessage);
      port.close();
    }
    return;
  }
  const record = records.get(root);
  if (record !== undefined && !checked.has(root)) {
    checked.add(root);
    const since = folderCheck(root);
    const holds = rememberedTreeHolds(root, record);
    port.postMessage({ root, key: record.key, paths: record.paths, digest: record.digest, holds, since } satisfies FolderCheckMessage);
  }
  schedule();
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  // One folder per turn: the run's list is taken in as soon as it arrives.
  setImmediate(step);
}

port.on('message', (message: FolderCheckOnly) => {
  adopted = true;
  queue = message.only.flatMap((dir) => {
    const root = realPath(dir);
    return root === undefined || checked.has(root) || !records.has(root) ? [] : [root];
  });
  at = 0;
  schedule();
});

schedule();
