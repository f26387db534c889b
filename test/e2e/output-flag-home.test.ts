import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * `pull -o=~/x` and `build -o=~/x`: the shell leaves a `~` after `=` alone, and both made a folder named `~` under
 * the working directory, exit 0, while the output read as the home folder. Now `~/...` is the home folder's, as
 * for every other path flag (cli/io.ts userPath).
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-output-home-');
  const home = join(root, 'home');
  const work = join(root, 'work');
  await mkdir(home);
  await mkdir(work);
  const pack = await writePack(join(root, 'hello'), { name: 'hello', version: '1.0.0' });
  const layout = join(root, 'layout');
  expectRun(await runCli(['push', pack, '--oci-layout', layout]), { code: 0 });
  return { home, work, pack, layout, env: { HOME: home } };
});

describe('-o=~/... is the home folder', () => {
  it('pull and build write there, and no folder named ~ appears in the working directory (was: ./~/...)', async () => {
    expectRun(await runCli(['pull', 'hello:1.0.0', '--oci-layout', w.layout, '-o=~/pulled'], { cwd: w.work, env: w.env }), { code: 0, stdout: [join(w.home, 'pulled')] });
    expect(existsSync(join(w.home, 'pulled', 'pack.json'))).toBe(true);
    expectRun(await runCli(['build', w.pack, '-o=~/hello.tar.gz'], { cwd: w.work, env: w.env }), { code: 0, stdout: [`built ${join(w.home, 'hello.tar.gz')}`] });
    expectRun(await runCli(['build', w.pack, '--output=~/dist/'], { cwd: w.work, env: w.env }), { code: 0, stdout: [`built ${join(w.home, 'dist', 'hello-1.0.0.tar.gz')}`] });
    expect(await readdir(w.work)).toEqual([]);
  });
});
