import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/*
 * Once per `vitest run`, before any test file: the built CLI (dist/bundle/, run by the tests that spawn
 * bin/packpub.js) and the library build (dist/, tsc: test/e2e/library.test.ts imports it by the package's
 * name) must match src/.
 * scripts/build-stale.mjs rebuilds each when older than its inputs (under `npm test`, scripts/test.sh has
 * just run it and says so with PACKPUB_BUILD_SETTLED=1, so it is not run again); a build that fails fails
 * the run, so no test runs an old build or skips for want of one.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export default async function setup(): Promise<void> {
  if (process.env['PACKPUB_BUILD_SETTLED'] === '1') return;
  try {
    await promisify(execFile)(process.execPath, [fileURLToPath(new URL('../scripts/build-stale.mjs', import.meta.url))], { cwd: ROOT });
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string };
    throw new Error(`building dist/ for the tests failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}
