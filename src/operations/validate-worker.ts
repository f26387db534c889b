import { parentPort } from 'node:worker_threads';
import { errorMessage, isPackpubError } from '../errors.js';
import { useBlockingReads } from '../pack/files.js';
import { validatePack } from '../pack/validate.js';
import type { ValidateRequest, ValidateResponse } from './validate-pool.js';

/*
 * The entry of a validation worker thread (validate-pool.ts): validate each pack it is sent and answer
 * with the report. Runs from dist/bundle/validate-worker.js (the CLI's bundle, scripts/build-cli.mjs) or,
 * for the library, the compiled dist/operations/validate-worker.js.
 */

const port = parentPort;
if (port === null) throw new Error('validate-worker.js runs as a worker thread of the validation pool');
// This thread only validates: blocking reads of pack files cost far less CPU than thread-pool round trips.
useBlockingReads();

port.on('message', (request: ValidateRequest) => {
  validatePack(request.dir, request.options).then(
    (report) => port.postMessage({ id: request.id, report } satisfies ValidateResponse),
    (err: unknown) =>
      port.postMessage({
        id: request.id,
        error: isPackpubError(err)
          ? { message: err.message, code: err.code, ...(err.hint === undefined ? {} : { hint: err.hint }) }
          : { message: errorMessage(err) },
      } satisfies ValidateResponse),
  );
});
