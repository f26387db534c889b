import { lstatSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { boundedRun, expectRun, spawnCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { runChildText } from '../support/spawner.js';
import { setup } from '../support/stage.js';

/*
 * packpub's cache index (index.json in PACKPUB_CACHE_DIR) that is a named pipe: read as none (opened without
 * waiting), but the push's save at its end wrote into the pipe, as into a file the user named, and waited for a reader
 * for ever after "published" (ended only by a signal, exit 130, or SIGKILL). The index is packpub's own file: whatever
 * is at its name is replaced by the save, as an OCI layout's own files are.
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir();
  const cache = join(root, 'cache');
  await mkdir(cache);
  await runChildText('mkfifo', [join(cache, 'index.json')]);
  return { root, cache, pack: await writePack(join(root, 'pack'), { name: 'pipecache', version: '1.0.0' }) };
});

describe('a cache index that is a named pipe', () => {
  it('push publishes and ends, exit 0, the pipe replaced by the index; the next push finds the pack unchanged', async () => {
    const layout = join(w.root, 'layout');
    const push = async () => {
      const run = spawnCli(['push', w.pack, '--oci-layout', layout], { env: { PACKPUB_CACHE_DIR: w.cache } });
      // Was: waited for a reader of the pipe for ever.
      return boundedRun(run.done, 60_000).finally(() => run.child.kill('SIGKILL'));
    };
    expectRun(await push(), { code: 0, stdout: ['published pipecache:1.0.0'] });
    const index = lstatSync(join(w.cache, 'index.json'));
    expect(index.isFile()).toBe(true);
    expect(index.mode & 0o777).toBe(0o600);
    expectRun(await push(), { code: 0, stdout: ['unchanged pipecache:1.0.0'] });
  });
});
