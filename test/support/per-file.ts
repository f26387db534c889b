import { rmSync } from 'node:fs';
import { vi } from 'vitest';
import { forgetSecrets } from '../../src/util/redact.js';
import { useBlockingReads } from '../../src/pack/files.js';
import { systemClock, useRetryClock } from '../../src/registry/retry.js';
import { TEST_CACHE_DIR, watchEnvForFile } from './cli.js';
import { meterFile } from './cpu-meter.js';
import { newFileForCertificates } from './tls.js';

/*
 * What test/per-file-setup.ts (vitest's runner) does before and after every test file.
 */

function resetShared(): void {
  forgetSecrets();
  newFileForCertificates();
  useRetryClock(systemClock);
  // Pack files read with promises, as a fresh process does until push or validate asks for blocking reads.
  useBlockingReads(false);
  rmSync(TEST_CACHE_DIR, { recursive: true, force: true });
}

const table = process.env['PACKPUB_TEST_CPU'];

/**
 * Called as a test file starts, before it is imported: puts back what the file before it could leave behind. The
 * answer is called once the file has run: it puts back what the file changed, and returns an error for what the file
 * must restore itself (its working directory, signal listeners).
 */
export function startFile(): (file: string) => Error | undefined {
  const metered = table === undefined || table === '' ? undefined : meterFile(table);
  resetShared();
  // What the file writes in process.env is noted as it writes it (support/cli.ts): no copy of all of it per file.
  const putBackEnv = watchEnvForFile();
  const cwd = process.cwd();
  const signalListeners = { SIGINT: process.listenerCount('SIGINT'), SIGTERM: process.listenerCount('SIGTERM') };

  return (file) => {
    vi.restoreAllMocks();
    vi.useRealTimers();
    putBackEnv();
    resetShared();
    const left = process.cwd();
    if (left !== cwd) process.chdir(cwd);
    const listeners = { SIGINT: process.listenerCount('SIGINT'), SIGTERM: process.listenerCount('SIGTERM') };
    metered?.(file);
    if (left !== cwd) return new Error(`the test file changed the working directory (to ${left}) and did not restore it`);
    if (listeners.SIGINT !== signalListeners.SIGINT || listeners.SIGTERM !== signalListeners.SIGTERM) {
      return new Error(`the test file left signal listeners behind: ${JSON.stringify(listeners)}, ${JSON.stringify(signalListeners)} when it started`);
    }
    return undefined;
  };
}
