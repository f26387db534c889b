import { realpathSync, statSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { foldersUnder, type FolderVerdict } from './archive-cache.js';
import { CLAIM, type FolderCheckMessage, type FolderCheckRequest } from './folder-check.js';

/*
 * The entry of the worker thread that checks the cache's pack folders ahead (folder-check.ts): the stat
 * calls of an unchanged tree, while the main thread is still loading modules. Runs from
 * dist/bundle/folder-check-worker.js (the CLI's bundle, scripts/build-cli.mjs) or, for the library, the
 * compiled dist/operations/folder-check-worker.js.
 */

const port = parentPort;
if (port === null) throw new Error('folder-check-worker.js runs as a worker thread of folder-check.ts');
const { request, claims } = workerData as { request: FolderCheckRequest; claims: Int32Array };

function realFolders(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const path of paths) {
    try {
      if (statSync(path).isDirectory()) out.push(realpathSync.native(path));
    } catch {
      // not there (a flag's value, a glob): nothing of it to check
    }
  }
  return out;
}
const named = realFolders(request.paths);
const roots = named.length > 0 ? named : realFolders([request.otherwise]);
const { folders, check } = roots.length === 0 ? { folders: [], check: () => undefined } : foldersUnder(request.cacheDir, roots);
port.postMessage({ type: 'folders', folders } satisfies FolderCheckMessage);
// A few verdicts per message: the main thread starts each pack's lookup as its verdict arrives. A folder
// the main thread claimed first is its own; once it wants no more verdicts (slot 0), stop.
let batch: FolderVerdict[] = [];
for (const [i, root] of folders.entries()) {
  if (i + 1 >= claims.length || Atomics.load(claims, 0) !== 0) break;
  if (Atomics.compareExchange(claims, i + 1, CLAIM.free, CLAIM.worker) !== CLAIM.free) continue;
  const verdict = check(root);
  if (verdict !== undefined) batch.push(verdict);
  if (batch.length === 4) {
    port.postMessage({ type: 'verdicts', verdicts: batch } satisfies FolderCheckMessage);
    batch = [];
  }
}
if (batch.length > 0) port.postMessage({ type: 'verdicts', verdicts: batch } satisfies FolderCheckMessage);
