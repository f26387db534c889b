import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * review4 (s23): GITHUB_WORKSPACE reached through a symlink (a self-hosted runner's work folder on another disk):
 * pack folders are real paths, so every annotation named an absolute path (file=/real/.../pack.json), which GitHub
 * cannot attach to a file of the repository. Now the workspace's real path is tried too: file=packs/x/pack.json.
 */

describe('annotations with a workspace reached through a symlink', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir();
    const real = join(root, 'real');
    await mkdir(real);
    const dir = await writePack(join(real, 'packs', 'linked'), { name: 'linked', version: '1.0.0' });
    const packJson = JSON.parse(await readFile(join(dir, 'pack.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(dir, 'pack.json'), JSON.stringify({ ...packJson, layer: 'bogus' }, null, 2));
    const link = join(root, 'workspace');
    await symlink(real, link);
    return { link };
  });

  it.each([
    ['validate', ['validate', 'packs/linked']],
    ['push', ['push', 'packs/linked', '--oci-layout', 'layout']],
  ])('%s: exit 1, the ::error names the file relative to the workspace (was: its absolute real path)', async (_name, argv) => {
    const run = await runCli(argv, { cwd: w.link, env: { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: w.link } });
    expectRun(run, { code: 1 });
    const errors = run.stderr.split('\n').filter((l) => l.startsWith('::error'));
    expect(errors.length).toBeGreaterThan(0);
    for (const e of errors) expect(e).toMatch(/^::error file=packs\/linked\/pack\.json,line=\d+/);
  });
});
