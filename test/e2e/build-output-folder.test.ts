import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';
import { runChildText } from '../support/spawner.js';

/*
 * `build -o` into the pack folder was refused whatever the pack's .packignore said: the file written changes a
 * folder the build reads while it packs (review s21 F8). Into a folder the .packignore leaves out (a line "dist/"),
 * nothing the build reads changes once that folder exists: build makes it first and writes there, and the archive
 * holds no trace of it. A file anywhere else in the pack is still refused, with that way out in the hint.
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-build-ignored-');
  const pack = await writePack(join(root, 'hello'), { name: 'hello', version: '1.0.0' });
  await writeFile(join(pack, '.packignore'), '*.tar.gz\ndist/\n');
  return { root, pack };
});
const entries = async (archive: string) => (await runChildText('tar', ['-tzf', archive])).stdout.split('\n').filter(Boolean);

describe('build -o inside the pack folder', () => {
  it('into a folder .packignore leaves out: built, twice (was: refused, exit 2); the archive holds none of it', async () => {
    const archive = join(w.pack, 'dist', 'hello.tar.gz');
    for (let run = 0; run < 2; run++) {
      expectRun(await runCli(['build', '.', '-o', 'dist/hello.tar.gz'], { cwd: w.pack }), { code: 0, stdout: [`built ${archive}`], stderr: '' });
    }
    const held = await entries(archive);
    expect(held).toContain('hello-1.0.0/pack.json');
    expect(held.filter((e) => e.includes('dist') || e.includes('.tar.gz'))).toEqual([]);
    // The same bytes as a build from outside the pack.
    expectRun(await runCli(['build', 'hello', '-o', 'outside.tar.gz'], { cwd: w.root, env: { SOURCE_DATE_EPOCH: '0' } }), { code: 0 });
    expectRun(await runCli(['build', '.', '-o', 'dist/same.tar.gz'], { cwd: w.pack, env: { SOURCE_DATE_EPOCH: '0' } }), { code: 0 });
    expect((await readFile(join(w.pack, 'dist/same.tar.gz'))).equals(await readFile(join(w.root, 'outside.tar.gz')))).toBe(true);
  });

  it('anywhere else in the pack (its root, even with "*.tar.gz" in .packignore; a folder not left out): refused as before, the way out in the hint', async () => {
    const before = (await readdir(w.pack)).sort();
    for (const extra of [[], ['-o', 'hello.tar.gz'], ['-o', 'out/hello.tar.gz']]) {
      expectRun(await runCli(['build', '.', ...extra], { cwd: w.pack }), {
        code: 2,
        stdout: '',
        stderr: [`inside the pack folder ${w.pack}, which it is packing`, `or write it into a folder the pack's .packignore leaves out (a line "dist/", then -o dist/<file>.tar.gz)`],
      });
    }
    expect((await readdir(w.pack)).sort()).toEqual(before);
  });

  it('-o naming a folder (existing, or with a trailing slash) writes <name>-<version>.tar.gz into it (was: "EISDIR ... a bug in packpub", exit 1)', async () => {
    await mkdir(join(w.root, 'existing'));
    for (const out of ['existing', 'fresh/']) {
      const archive = join(w.root, out, 'hello-1.0.0.tar.gz');
      expectRun(await runCli(['build', 'hello', '-o', out], { cwd: w.root }), { code: 0, stdout: [`built ${archive}`], stderr: '' });
      expect(await entries(archive)).toContain('hello-1.0.0/pack.json');
    }
    // Into the pack's ignored folder the same way, and a folder of the pack not left out still refused.
    expectRun(await runCli(['build', '.', '-o', 'dist'], { cwd: w.pack }), { code: 0, stdout: [`built ${join(w.pack, 'dist', 'hello-1.0.0.tar.gz')}`] });
    await mkdir(join(w.pack, 'kept'));
    expectRun(await runCli(['build', '.', '-o', 'kept'], { cwd: w.pack }), { code: 2, stderr: [`build would write the archive into ${join(w.pack, 'kept')}, inside the pack folder`] });
    expect(await readdir(join(w.pack, 'kept'))).toEqual([]);
  });
});
