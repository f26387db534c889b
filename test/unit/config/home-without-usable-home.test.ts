import { mkdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { setup } from '../../support/stage.js';

/*
 * `~/` in packpub.yaml is the home folder. With HOME set but empty it was joined to "", so an ociLayout
 * `~/layouts/prod` became `/layouts/prod` at the root of the file system (written there by a job running as root);
 * with HOME unset, a folder named `~` beside the file. Both now use the user's home folder, as the Docker config does.
 */

const w = setup(async (stack) => {
  const dir = await stack.tempDir('packpub-config-home-');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'packpub.yaml'), 'targets:\n  local:\n    ociLayout: ~/layouts/prod\n');
  return { dir };
});

describe('~/ in packpub.yaml without a usable HOME', () => {
  it.each([
    ['HOME set but empty', { HOME: '' }],
    ['HOME unset', {}],
  ])('%s: the home folder, never the root or a folder named ~', async (_what, env: NodeJS.ProcessEnv) => {
    const loaded = await loadConfig({ cwd: w.dir, env });
    expect(loaded.config?.targets?.['local']?.ociLayout).toBe(join(homedir(), 'layouts/prod'));
  });

  it('HOME set: that folder, as before', async () => {
    const loaded = await loadConfig({ cwd: w.dir, env: { HOME: '/home/ci' } });
    expect(loaded.config?.targets?.['local']?.ociLayout).toBe('/home/ci/layouts/prod');
  });
});
