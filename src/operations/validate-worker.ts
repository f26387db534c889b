import { parentPort, type MessagePort } from 'node:worker_threads';
import { errorMessage, isPackpubError } from '../errors.js';
import { useBlockingReads } from '../pack/files.js';
import type { ValidateOptions } from '../pack/validate.js';
import { validatePackFolder } from './validate-folder.js';
import type { ValidateListRequest, ValidateListResponse, ValidateRequest, ValidateResponse } from './validate-pool.js';

/*
 * The entry of a validation worker thread (validate-pool.ts): validate each pack it is sent (validatePackFolder), or each pack
 * of a list it claims (validateMany), and answer with the report. Runs from dist/bundle/validate-worker.js
 * (the CLI's bundle, scripts/build-cli.mjs) or, for the library, the compiled dist/operations/validate-worker.js.
 */

if (parentPort === null) throw new Error('validate-worker.js runs as a worker thread of the validation pool');
const port: MessagePort = parentPort;
// This thread only validates: blocking reads of pack files cost far less CPU than thread-pool round trips.
useBlockingReads();

/** The answer for one pack: its report, or the error validatePack threw. */
async function answer(id: number, dir: string, options: ValidateOptions): Promise<ValidateResponse> {
  try {
    return { id, report: await validatePackFolder(dir, options) };
  } catch (err) {
    return {
      id,
      error: isPackpubError(err) ? { message: err.message, code: err.code, ...(err.hint === undefined ? {} : { hint: err.hint }) } : { message: errorMessage(err) },
    };
  }
}

/** A whole list (validateMany): claim the next pack from the shared counter until none is left. */
async function validateList({ list, options, next }: ValidateListRequest): Promise<void> {
  const claim = new Int32Array(next);
  for (let i = Atomics.add(claim, 0, 1); i < list.length; i = Atomics.add(claim, 0, 1)) {
    port.postMessage((await answer(i, list[i] as string, options)) satisfies ValidateListResponse);
  }
  port.postMessage({ done: true } satisfies ValidateListResponse);
}

port.on('message', (request: ValidateRequest | ValidateListRequest) => {
  if ('list' in request) void validateList(request);
  else void answer(request.id, request.dir, request.options).then((response) => port.postMessage(response));
});
