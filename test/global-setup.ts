import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { writePack } from './support/packs.js';

/*
 * Once per `vitest run`, before any test file: the built CLI (dist/bundle/, run by the tests that spawn
 * bin/packpub.js) and the library build (dist/, tsc: test/e2e/library.test.ts imports it by the package's
 * name) must match src/.
 * scripts/build-stale.mjs rebuilds each when older than its inputs (under `npm test`, scripts/test.sh has
 * just run it and says so with PACKPUB_BUILD_SETTLED=1, so it is not run again); a build that fails fails
 * the run, so no test runs an old build or skips for want of one.
 * Then the run's pool of V8 code files for the built CLI's processes (test/support/cli.ts), shared by the
 * workers, starts with the code of one push of a small pack to an OCI layout (~0.35 CPU-s once): most
 * processes the suite starts push, and the files that start first would otherwise each compile every chunk.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/packpub.js', import.meta.url));

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (process.env['PACKPUB_BUILD_SETTLED'] !== '1') {
    try {
      await promisify(execFile)(process.execPath, [fileURLToPath(new URL('../scripts/build-stale.mjs', import.meta.url))], { cwd: ROOT });
    } catch (err) {
      const { stdout, stderr } = err as { stdout?: string; stderr?: string };
      throw new Error(`building dist/ for the tests failed:\n${stdout ?? ''}${stderr ?? ''}`);
    }
  }
  if (process.env['PACKPUB_TEST_CODE_POOL'] !== undefined) return undefined;
  return startCodePool();
}

/** Make the run's code pool (the `v8-code` folder of a cache folder one push used); returns its removal. */
async function startCodePool(): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'packpub-test-code-pool-'));
  const cache = join(dir, 'cache');
  const pack = join(dir, 'pack');
  await writePack(pack, { name: 'seed', version: '1.0.0' });
  const env = { PATH: process.env['PATH'], HOME: process.env['HOME'], PACKPUB_CACHE_DIR: cache, TMPDIR: tmpdir() };
  try {
    await promisify(execFile)(process.execPath, [BIN, 'push', pack, '--oci-layout', join(dir, 'layout')], { cwd: dir, env });
  } catch (err) {
    // The pool starts empty then, as a worker's did: the first runs compile the chunks and add their code.
    console.warn(`the code pool starts empty: the seed push failed: ${(err as { stderr?: string }).stderr ?? String(err)}`);
  }
  process.env['PACKPUB_TEST_CODE_POOL'] = join(cache, 'v8-code');
  return () => rm(dir, { recursive: true, force: true });
}
