import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * review s21 F8: `cd pack && packpub build .` writes ./<name>-<version>.tar.gz into the pack folder it is packing,
 * which changes under it: the build always failed, exit 1, "the pack folder changed while packpub was packing ...
 * make sure nothing writes into the pack folder", though nothing but packpub wrote there (a .packignore leaving
 * out *.tar.gz did not help). Now refused up front, exit 2, saying where the archive would go and what to do.
 */

describe('build with its archive inside the pack folder', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir();
    return { root, pack: await writePack(join(root, 'buildin'), { name: 'buildin', version: '1.0.0' }) };
  });

  it('is refused before packing, naming both folders (was: "the pack folder changed while packpub was packing", exit 1); -o outside builds', async () => {
    const before = (await readdir(w.pack)).sort();
    for (const extra of [[], ['-o', 'out/archive.tgz']]) {
      expectRun(await runCli(['build', '.', ...extra], { cwd: w.pack }), { code: 2, stdout: '', stderr: [`inside the pack folder ${w.pack}, which it is packing`, 'give -o a path outside the pack'] });
    }
    expect((await readdir(w.pack)).sort()).toEqual(before);
    expectRun(await runCli(['build', '.', '-o', '../buildin.tgz'], { cwd: w.pack }), { code: 0, stdout: [`built ${join(w.root, 'buildin.tgz')}`] });
    expectRun(await runCli(['build', 'buildin'], { cwd: w.root }), { code: 0, stdout: [`built ${join(w.root, 'buildin-1.0.0.tar.gz')}`] });
  });
});
