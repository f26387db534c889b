import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/*
 * Once per `vitest run`, before any test file: the built CLI (dist/, run by the tests that spawn
 * bin/packpub.js) must match src/. It is rebuilt when older than any source file; a build that fails
 * fails the run, so no test runs an old build or skips for want of one.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) newest = Math.max(newest, (await stat(join(e.parentPath, e.name))).mtimeMs);
  }
  return newest;
}

async function builtAt(): Promise<number> {
  try {
    return (await stat(join(ROOT, 'dist/cli/main.js'))).mtimeMs;
  } catch {
    return 0;
  }
}

export default async function setup(): Promise<void> {
  if ((await builtAt()) >= (await newestMtime(join(ROOT, 'src')))) return;
  try {
    await promisify(execFile)(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT });
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string };
    throw new Error(`building dist/ for the tests failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}
