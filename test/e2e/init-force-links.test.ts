import { mkdir, readFile, readdir, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { setup } from '../support/stage.js';

/*
 * `init --force` into a folder where a file of init's names is a symbolic link (README.md -> a file elsewhere, as a
 * cloned repository may hold) wrote through it: the file outside the folder was replaced, exit 0, and the pack then
 * failed validate on the link; a `manifests` link to a folder elsewhere got the example manifest there. Now refused
 * before anything is written, exit 2, naming the link and where it leads.
 */

const w = setup(async (stack) => ({ root: await stack.tempDir('packpub-init-links-') }));

describe('init --force over symbolic links', () => {
  it('a file of init\'s names that is a link: refused, exit 2, the file it leads to and the folder unchanged (was: replaced, exit 0)', async () => {
    const dir = join(w.root, 'file-link');
    await mkdir(dir);
    const victim = join(w.root, 'victim.txt');
    await writeFile(victim, 'precious\n');
    await symlink(victim, join(dir, 'README.md'));
    expectRun(await runCli(['init', dir, '--force', '--name', 'links', '--version', '1.0.0']), {
      code: 2,
      stdout: '',
      stderr: [`${dir}: README.md (to ${victim}) is a symbolic link; init --force replaces files there, and would write where it leads`, 'hint: remove the link (or give another folder), then run init again; nothing was written'],
    });
    expect(await readFile(victim, 'utf8')).toBe('precious\n');
    expect(await readdir(dir)).toEqual(['README.md']);
    expect(await readlink(join(dir, 'README.md'))).toBe(victim);
  });

  it('a manifests folder that is a link: refused, exit 2, nothing written where it leads', async () => {
    const dir = join(w.root, 'folder-link');
    const elsewhere = join(w.root, 'elsewhere');
    await mkdir(dir);
    await mkdir(elsewhere);
    await symlink(elsewhere, join(dir, 'manifests'));
    expectRun(await runCli(['init', dir, '--force', '--name', 'links', '--version', '1.0.0']), { code: 2, stderr: [`${dir}: manifests (to ${elsewhere}) is a symbolic link`] });
    expect(await readdir(elsewhere)).toEqual([]);
    expect(await readdir(dir)).toEqual(['manifests']);
  });

  it('without links, --force writes as before', async () => {
    const dir = join(w.root, 'plain');
    await mkdir(dir);
    await writeFile(join(dir, 'README.md'), 'old\n');
    expectRun(await runCli(['init', dir, '--force', '--name', 'links', '--version', '1.0.0']), { code: 0, stdout: ['created pack links:1.0.0'] });
    expect(await readFile(join(dir, 'README.md'), 'utf8')).not.toBe('old\n');
  });
});
