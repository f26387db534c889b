import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.js';
import { tempDir } from '../../support/files.js';
import { writePack } from '../../support/packs.js';

describe('copy flags', () => {
  it('refuses --check-images (copy checks no images) instead of ignoring it, and copies nothing', async () => {
    const { dir, cleanup } = await tempDir('packpub-copy-flags-');
    try {
      const pack = await writePack(join(dir, 'p'), { name: 'imgs', version: '1.0.0' });
      const from = join(dir, 'from');
      const to = join(dir, 'to');
      expect((await runCli(['push', pack, '--oci-layout', from])).code).toBe(0);

      const run = await runCli(['copy', 'imgs:1.0.0', '--from', `oci:${from}`, '--to', `oci:${to}`, '--check-images']);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^error: unknown flag --check-images\n/);
      await expect(readdir(to)).rejects.toThrow(); // nothing was copied

      const help = await runCli(['copy', '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).not.toContain('--check-images');
    } finally {
      await cleanup();
    }
  });
});
