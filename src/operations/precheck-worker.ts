import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import { checkAhead, type ChecksAheadData, type ChecksAheadMessage } from './precheck.js';

/*
 * The worker thread bin/packpub.js starts for `packpub push` (precheck.ts): checks the archive cache's
 * remembered folders below the named ones and posts the answers. Runs from dist/bundle/precheck-worker.cjs
 * (scripts/build-cli.mjs). Any failure only leaves the run to check its folders itself.
 */

const { args, port } = workerData as ChecksAheadData;
try {
  // Any message from the run (PortChecksAhead done()) means it asks no more: the checks left are not made.
  checkAhead({ args, cwd: process.cwd(), env: process.env, send: (message) => port.postMessage(message), stopped: () => receiveMessageOnPort(port) !== undefined });
} catch {
  // the run checks every folder itself
}
// The last message, whatever happened: a run waiting for an answer (PortChecksAhead wait) checks the rest itself.
port.postMessage({ answers: [], end: true } satisfies ChecksAheadMessage);
port.close();
