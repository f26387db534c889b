import { rmSync } from 'node:fs';
import { afterAll, expect, vi } from 'vitest';
import { forgetSecrets } from '../src/util/redact.js';
import { systemClock, useRetryClock } from '../src/registry/retry.js';
import { TEST_CACHE_DIR } from './support/cli.js';
import { meterFile } from './support/cpu-meter.js';
import { newFileForCertificates } from './support/tls.js';

/*
 * Runs before every test file (vitest `setupFiles`). Test files share worker processes (`isolate: false`
 * in vitest.config.ts: each file re-importing vitest, src/ and the AWS SDK cost a quarter of the suite's
 * CPU), so each file must start from what a fresh process holds. This module is evaluated again before
 * each file, ahead of the file itself, and puts back or refuses what a file could leave behind:
 * - the secrets registered for redaction (src/util/redact.ts): forgotten, so a secret of one file never
 *   masks another file's output (which could let a secrets test pass for the wrong reason);
 * - the retry clock tests install (src/registry/retry.ts useRetryClock): back to the system clock;
 * - process.env: what the file changed is put back as it was when the file started;
 * - the CLI runs' archive cache (TEST_CACHE_DIR of support/cli.ts): emptied, so no file finds archives
 *   another file's runs remembered;
 * - the test certificates handed out (support/tls.ts): the file's first set is the worker's first again;
 * - spies (vi.spyOn) restored; real timers;
 * - the working directory and SIGINT/SIGTERM listeners must be as the file found them: the file fails
 *   otherwise (a file that needs to change them must restore them itself).
 * test/isolation.test.ts proves a file cannot see another file's secrets.
 */

function resetShared(): void {
  forgetSecrets();
  newFileForCertificates();
  useRetryClock(systemClock);
  rmSync(TEST_CACHE_DIR, { recursive: true, force: true });
}

const table = process.env['PACKPUB_TEST_CPU'];
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
