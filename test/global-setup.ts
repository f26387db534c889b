import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/*
 * Once per `vitest run`, before any test file: the built CLI (dist/bundle/, run by the tests that spawn
 * bin/packpub.js) and the library build (dist/, tsc: test/e2e/package.test.ts packs it) must match src/.
 * Each is rebuilt when older than any source file (`npm run build` does both); a build that fails fails
 * the run, so no test runs an old build or skips for want of one.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) newest = Math.max(newest, (await stat(join(e.parentPath, e.name))).mtimeMs);
  }
  return newest;
}

async function builtAt(file: string): Promise<number> {
  try {
    return (await stat(join(ROOT, file))).mtimeMs;
  } catch {
    return 0;
  }
}

async function buildWith(what: string, args: string[]): Promise<void> {
  try {
    await promisify(execFile)(process.execPath, args, { cwd: ROOT });
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string };
    throw new Error(`building ${what} for the tests failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

export default async function setup(): Promise<void> {
  const sources = await newestMtime(join(ROOT, 'src'));
  // The bundle also holds package.json's version, and scripts/build-cli.mjs decides its shape.
  const bundleInputs = Math.max(sources, await builtAt('package.json'), await builtAt('scripts/build-cli.mjs'));
  await Promise.all([
    (await builtAt('dist/bundle/packpub.js')) >= bundleInputs ? undefined : buildWith('the CLI bundle (dist/bundle/)', [join(ROOT, 'scripts/build-cli.mjs')]),
    (await builtAt('dist/index.js')) >= sources ? undefined : buildWith('dist/', [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json']),
  ]);
}
