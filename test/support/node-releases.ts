import { accessSync, constants, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/*
 * The Node.js releases the suite runs the built CLI with besides the one running the suite (test/node-releases.txt),
 * fetched by scripts/ensure-test-tools.sh (which `npm test` runs first) into the folder below.
 */

/** The versions test/node-releases.txt names. */
export const NODE_RELEASES: readonly string[] = readFileSync(new URL('../node-releases.txt', import.meta.url), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));

/** scripts/ensure-test-tools.sh's folder of Node.js binaries (the same rule). */
function releasesDir(): string {
  const own = process.env['PACKPUB_TEST_NODE_DIR'];
  if (own !== undefined && own !== '') return own;
  const xdg = process.env['XDG_CACHE_HOME'];
  return join(xdg !== undefined && xdg !== '' ? xdg : join(process.env['HOME'] ?? homedir(), '.cache'), 'packpub-test', 'node');
}

/** The node binary of `version`; a missing one fails the test that asks (never a skip). */
export function nodeRelease(version: string): string {
  const node = join(releasesDir(), version, 'node');
  try {
    accessSync(node, constants.X_OK);
  } catch {
    throw new Error(`Node.js ${version} is not at ${node}: run scripts/ensure-test-tools.sh (npm test runs it)`);
  }
  return node;
}
