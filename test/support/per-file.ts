import { rmSync } from 'node:fs';
import { afterAll, expect, vi } from 'vitest';
import { forgetSecrets } from '../../src/util/redact.js';
import { systemClock, useRetryClock } from '../../src/registry/retry.js';
import { TEST_CACHE_DIR } from './cli.js';
import { meterFile } from './cpu-meter.js';
import { newFileForCertificates } from './tls.js';

/*
 * What test/per-file-setup.ts does before and after every test file, in a module evaluated once per worker:
 * vitest evaluates a setup file again before each file, and each static import of it was a request to vitest's
 * main process and back (per-file-setup.ts says why it imports this module only once).
 */

function resetShared(): void {
  forgetSecrets();
  newFileForCertificates();
  useRetryClock(systemClock);
  rmSync(TEST_CACHE_DIR, { recursive: true, force: true });
}

const table = process.env['PACKPUB_TEST_CPU'];

/** Called as a test file starts (from its setup file): puts back what the file before it could leave behind. */
export function startFile(): void {
  const metered = table === undefined || table === '' ? undefined : meterFile(table);
  resetShared();
  const env = { ...process.env };
  const cwd = process.cwd();
  const signalListeners = { SIGINT: process.listenerCount('SIGINT'), SIGTERM: process.listenerCount('SIGTERM') };

  afterAll(() => {
    vi.restoreAllMocks();
    vi.useRealTimers();
    for (const key of Object.keys(process.env)) if (!(key in env)) delete process.env[key];
    Object.assign(process.env, env);
    resetShared();
    const left = process.cwd();
    if (left !== cwd) process.chdir(cwd);
    expect(left, 'the test file changed the working directory and did not restore it').toBe(cwd);
    expect({ SIGINT: process.listenerCount('SIGINT'), SIGTERM: process.listenerCount('SIGTERM') }, 'the test file left signal listeners behind').toEqual(signalListeners);
    metered?.(expect.getState().testPath ?? 'unknown');
  });
}
