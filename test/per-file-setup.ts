/*
 * Runs before every test file (vitest `setupFiles`). Test files share worker processes (`isolate: false`
 * in vitest.config.ts: each file re-importing vitest, src/ and the AWS SDK cost a quarter of the suite's
 * CPU), so each file must start from what a fresh process holds. This module is evaluated again before
 * each file, ahead of the file itself, and puts back or refuses what a file could leave behind
 * (support/per-file.ts startFile):
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
 *
 * No static import: vitest evaluates this file again for every test file, and each import of it (even of a
 * module the worker holds already) was a request to vitest's main process and its answer. The module that
 * does the work is imported by the worker's first file and kept on globalThis for the others. (A worker
 * whose files are isolated, project 'mocks' in vitest.config.ts, runs one file: its first.)
 */
import type * as PerFile from './support/per-file.js';

const held = globalThis as typeof globalThis & { __packpubPerFile?: typeof PerFile };
(held.__packpubPerFile ??= await import('./support/per-file.js')).startFile();
