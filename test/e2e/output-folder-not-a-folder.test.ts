import { lstat, readFile, readdir, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { helloPackAndEnv } from '../support/published.js';
import { setup } from '../support/stage.js';

/*
 * A folder packpub writes into (`--oci-layout`, `copy --to oci:`, `build -o DIR/`, `init DIR`) that is a symbolic link
 * to nothing, or a path through a file: `build` and `init` ended "this is a bug in packpub" (EEXIST, ENOENT of a temp
 * file), `push` and `copy` failed each pack with a bare "ENOENT ... mkdir" or "ENOTDIR ... stat", and `inspect`, `pull`
 * and `tag` of a layout that is a file ended as a bug too. Now: LOCAL_WRITE (exit 1) naming the path and what is in
 * the way, nothing made; a read of such a layout finds nothing there, as `list` already said.
 */

const w = setup(async (stack) => {
  const hello = await helloPackAndEnv(stack);
  const file = join(hello.root, 'a-file');
  await writeFile(file, 'x');
  const link = join(hello.root, 'to-nowhere');
  await symlink(join(hello.root, 'nowhere'), link);
  const source = join(hello.root, 'source');
  expectRun(await runCli(['push', hello.pack, '--oci-layout', source], { env: hello.env }), { code: 0 });
  return { ...hello, file, link, source };
});

const linkRefused = (path: string) => [`cannot create the folder ${path}`, `${w.link} is a symbolic link to ${join(w.root, 'nowhere')}, which does not exist`, 'create the folder the link names, or remove the link'];
const fileRefused = (path: string) => [`cannot create the folder ${path}`, `${w.file} is not a folder`, 'move that file aside'];

/** The link and the file are as they were, and nothing was made beside them. */
async function untouched(): Promise<void> {
  expect(await readlink(w.link)).toBe(join(w.root, 'nowhere'));
  expect(await readFile(w.file, 'utf8')).toBe('x');
  expect((await readdir(w.root)).sort()).toEqual(['a-file', 'cache', 'hello', 'source', 'to-nowhere']);
}

describe('an output folder that is a link to nothing, or a path through a file', () => {
  it('push --oci-layout and copy --to oci: fail each pack, exit 1, naming what is in the way (was: a bare ENOENT / ENOTDIR)', async () => {
    const layoutIn = (root: string) => join(root, 'spectro-packs/archive/hello/blobs/sha256');
    expectRun(await runCli(['push', w.pack, '--oci-layout', w.link], { env: w.env }), { code: 1, stderr: linkRefused(layoutIn(w.link)) });
    expectRun(await runCli(['push', w.pack, '--oci-layout', join(w.file, 'sub')], { env: w.env }), { code: 1, stderr: fileRefused(layoutIn(join(w.file, 'sub'))) });
    expectRun(await runCli(['push', w.pack, '--oci-layout', w.file], { env: w.env }), { code: 1, stderr: fileRefused(layoutIn(w.file)) });
    expectRun(await runCli(['copy', 'hello:1.0.0', '--from', `oci:${w.source}`, '--to', `oci:${w.link}`], { env: w.env }), { code: 1, stderr: linkRefused(layoutIn(w.link)) });
    await untouched();
  });

  it('build -o: exit 1, the same words; init: exit 2, as its other folder refusals (was: "this is a bug in packpub")', async () => {
    const build = await runCli(['build', w.pack, '-o', `${w.link}/`], { env: w.env });
    expectRun(build, { code: 1, stderr: [`cannot create the folder ${w.link}: it is a symbolic link to ${join(w.root, 'nowhere')}, which does not exist`] });
    const init = await runCli(['init', w.link, '--name', 'x', '--version', '1.0.0'], { env: w.env });
    expectRun(init, { code: 2, stderr: [`${w.link} is a symbolic link to ${join(w.root, 'nowhere')}, which does not exist`, 'hint: give a new folder name (packpub init creates it), or create the folder the link names'] });
    for (const run of [build, init]) expect(run.stderr).not.toContain('bug in packpub');
    const throughFile = await runCli(['build', w.pack, '-o', join(w.file, 'x.tar.gz')], { env: w.env });
    expectRun(throughFile, { code: 1, stderr: [`cannot create the folder ${w.file}: it is not a folder`, 'move that file aside'] });
    expect(throughFile.stderr).not.toContain('bug in packpub');
    await untouched();
  });

  it('inspect, pull and tag of a layout that is a file: the version does not exist there, exit 1 (was: "a bug in packpub")', async () => {
    for (const argv of [['inspect', 'hello:1.0.0'], ['pull', 'hello:1.0.0', '-o', join(w.root, 'out')], ['tag', 'hello:1.0.0', 'stable']]) {
      const run = await runCli([...argv, '--oci-layout', w.file], { env: w.env });
      expectRun(run, { code: 1, stderr: [`oci:${w.file}/spectro-packs/archive/hello:1.0.0 does not exist`] });
      expect(run.stderr).not.toContain('bug in packpub');
    }
    await untouched();
    expect((await lstat(w.file)).isFile()).toBe(true);
  });
});
