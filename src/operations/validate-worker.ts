import { parentPort, type MessagePort } from 'node:worker_threads';
import { errorMessage, isPackpubError } from '../errors.js';
import { useBlockingReads } from '../pack/files.js';
import type { BuildOptions } from '../archive/build.js';
import type { ValidateOptions } from '../pack/validate.js';
import { validateForBuild, validatePackFolder } from './validate-folder.js';
import {
  type BuildRequest,
  type BuildResponse,
  type ValidateListRequest,
  type ValidateListResponse,
  type ValidateRequest,
  type ValidateResponse,
  type WorkerBuilt,
  type WorkerError,
} from './validate-pool.js';

/*
 * The entry of a validation worker thread (validate-pool.ts): validate each pack it is sent (validatePackFolder), or each pack
 * of a list it claims (validateMany), and answer with the report; build the archive of a pack it is sent to
 * build (buildArchive, on this thread), and answer with it. Runs from dist/bundle/validate-worker.cjs (the
 * CLI's bundle, which its entry validate-worker.js compiles with V8's code cache: scripts/build-cli.mjs) or,
 * for the library, the compiled dist/operations/validate-worker.js.
 */

if (parentPort === null) throw new Error('validate-worker.js runs as a worker thread of the validation pool');
const port: MessagePort = parentPort;
// This thread only validates: blocking reads of pack files cost far less CPU than thread-pool round trips.
useBlockingReads();

/** A thrown error as the answer carries it. */
function errorAnswer(err: unknown): WorkerError {
  return isPackpubError(err) ? { message: err.message, code: err.code, ...(err.hint === undefined ? {} : { hint: err.hint }) } : { message: errorMessage(err) };
}

/** The answer for one pack: its report (with `list`, the entries of its archive when it passes), or the error validatePack threw. */
async function answer(id: number, dir: string, options: ValidateOptions, list = false): Promise<ValidateResponse> {
  try {
    if (!list) return { id, report: await validatePackFolder(dir, options) };
    const { report, entries } = await validateForBuild(dir, options, true);
    return entries === undefined ? { id, report } : { id, report, entries };
  } catch (err) {
    return { id, error: errorAnswer(err) };
  }
}

/** buildArchive on this thread, as a worker answers it (held bytes in an ArrayBuffer of their own, added to `transfer`). */
async function buildHere(dir: string, outFile: string, options: BuildOptions, transfer: ArrayBuffer[]): Promise<WorkerBuilt> {
  // Loaded on the first build: `packpub validate` never needs the tar and gzip code.
  const { buildArchive } = await import('../archive/build.js');
  const { bytes, ...archive } = await buildArchive(dir, outFile, { ...options, onThisThread: true });
  if (bytes === undefined) return archive;
  // Moved, not copied, when the bytes are a whole ArrayBuffer of their own (a large one is): a slice of
  // Node's shared pool (a small one) is copied out first.
  const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer ? bytes.buffer : new Uint8Array(bytes).buffer;
  transfer.push(own);
  return { ...archive, heldBytes: own };
}

/** Build one archive. */
async function build({ id, build: { dir, outFile, options } }: BuildRequest): Promise<void> {
  let response: BuildResponse;
  const transfer: ArrayBuffer[] = [];
  try {
    response = { id, built: await buildHere(dir, outFile, options, transfer) };
  } catch (err) {
    response = { id, error: errorAnswer(err) };
  }
  port.postMessage(response, transfer);
}

/**
 * A whole list (validateMany): claim the next pack from the shared counter until none is left. The pool stops
 * this worker only after its last message, so V8's code for its file (when there was none to use: the CLI's
 * bin/code-cache.cjs `packpub.v8-code-later`) is saved then rather than before its first answer: it then holds
 * the functions the checks compiled, which later runs' workers read instead of compiling (issue 16).
 */
async function validateList({ list, options, next }: ValidateListRequest): Promise<void> {
  const later = (globalThis as { [key: symbol]: unknown })[Symbol.for('packpub.v8-code-later')];
  const saveCode = typeof later === 'function' ? (later as () => () => void)() : undefined;
  const claim = new Int32Array(next);
  for (let i = Atomics.add(claim, 0, 1); i < list.length; i = Atomics.add(claim, 0, 1)) {
    port.postMessage((await answer(i, list[i] as string, options)) satisfies ValidateListResponse);
  }
  saveCode?.();
  port.postMessage({ done: true } satisfies ValidateListResponse);
}

port.on('message', (request: ValidateRequest | ValidateListRequest | BuildRequest) => {
  if ('list' in request) void validateList(request);
  else if (!('dir' in request)) void build(request);
  else void answer(request.id, request.dir, request.options, request.listing === true).then((response) => port.postMessage(response));
});
