import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, spawnCli, waitFor } from '../support/cli.js';
import { tempDir } from '../support/files.js';
import { writePack } from '../support/packs.js';
import { stackLines } from '../support/secrets.js';

/*
 * issue 13 item 17: `packpub list | head -5` closes the pipe while packpub still writes; it must end
 * quietly (no EPIPE stack trace), with the exit code of the work it did.
 */

describe('a reader that stops early', () => {
  it('list into a closed pipe ends quietly with exit 0', async () => {
    const { dir, cleanup } = await tempDir('packpub-pipe-');
    try {
      const layout = join(dir, 'layout');
      const pack = await writePack(join(dir, 'p'), { name: 'many', version: '1.0.0' });
      expect((await runCli(['push', pack, '--oci-layout', layout])).code).toBe(0);
      // 1500 tags on the one manifest: more output (about 110 KB) than a pipe buffers (64 KiB)
      const indexPath = join(layout, 'spectro-packs/archive/many/index.json');
      const index = JSON.parse(await readFile(indexPath, 'utf8')) as { manifests: Array<{ annotations: Record<string, string> }> };
      const entry = index.manifests[0]!;
      for (let i = 0; i < 1500; i++) index.manifests.push({ ...entry, annotations: { 'org.opencontainers.image.ref.name': `0.0.${i}` } });
      await writeFile(indexPath, JSON.stringify(index));

      const run = spawnCli(['list', '--oci-layout', layout]);
      await waitFor(() => run.stdout().length > 0, 'the first line of output');
      run.child.stdout?.destroy(); // as `head` does once it has its lines
      const done = await run.done;
      expect(done.stderr).not.toContain('EPIPE');
      expect(stackLines(done.stderr)).toEqual([]);
      // Nothing but the note that only the newest 1000 versions get their details.
      expect(done.stderr.trim().split('\n')).toEqual([
        'note: many has 1501 versions; digest, size and created time are shown for the newest 1000 only',
      ]);
      expect(done.code).toBe(0);
      expect(done.stdout.startsWith('PACK')).toBe(true);
    } finally {
      await cleanup();
    }
  });
});
