import { existsSync } from 'node:fs';
import { readdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OciLayoutStore } from '../../src/targets/oci-layout.js';
import { pushTestPack } from '../support/artifacts.js';
import { expectRun, runCli } from '../support/cli.js';
import { tgz } from '../support/files.js';
import { helloPackAndEnv } from '../support/published.js';
import { setup } from '../support/stage.js';

/*
 * Paths the system refuses: a symbolic link loop on the way to `build -o` or `pull -o`, and an archive whose entry,
 * under pull's staging folder, passes 4096 bytes (each entry within the archive rules): "this is a bug in packpub"
 * (ELOOP, ENAMETOOLONG as they came). Now LOCAL_WRITE, exit 1, saying what the system refused and what to do.
 */

const w = setup(async (stack) => {
  const hello = await helloPackAndEnv(stack);
  const loop = join(hello.root, 'loop-a');
  await symlink(join(hello.root, 'loop-b'), loop);
  await symlink(loop, join(hello.root, 'loop-b'));
  // An archive whose deepest file is 4040 bytes long inside it: under pull's staging folder, past 4096.
  const deep = `long-1.0.0/${Array.from({ length: 20 }, () => 'd'.repeat(200)).join('/')}/x.yaml`;
  const layer = await tgz({ 'long-1.0.0/pack.json': JSON.stringify({ name: 'long', version: '1.0.0', displayName: 'Long', layer: 'addon', addonType: 'x', cloudTypes: ['all'] }), [deep]: 'a: 1\n' });
  const layout = join(hello.root, 'layout');
  await pushTestPack(new OciLayoutStore(layout), 'spectro-packs/archive/long', '1.0.0', layer);
  return { ...hello, loop, layout };
});

describe('a path the system refuses', () => {
  it('a link loop on the way to build -o and pull -o: exit 1, the loop named (was: "a bug in packpub")', async () => {
    for (const argv of [['build', w.pack, '-o', join(w.loop, 'x.tar.gz')], ['pull', 'long:1.0.0', '--oci-layout', w.layout, '-o', join(w.loop, 'x')]]) {
      const run = await runCli(argv, { env: w.env });
      expectRun(run, { code: 1, stderr: [`cannot create the folder ${w.loop}`, 'a symbolic link on its way leads back to itself (ELOOP)', 'fix or remove that link'] });
      expect(run.stderr).not.toContain('bug in packpub');
    }
  });

  it('an archive path past the system limit under the pull folder: exit 1, said so, nothing left (was: "a bug in packpub")', async () => {
    const out = join(w.root, 'pulled');
    const run = await runCli(['pull', 'long:1.0.0', '--oci-layout', w.layout, '-o', out], { env: w.env });
    expectRun(run, { code: 1, stderr: [`into ${out}: a path of its archive, under that folder, is longer than this system allows (ENAMETOOLONG)`, 'pull into a folder with a shorter path'] });
    expect(run.stderr).not.toContain('bug in packpub');
    expect(existsSync(out)).toBe(false);
    expect((await readdir(w.root)).filter((name) => name.includes('packpub'))).toEqual([]);
  });

  it('push --oci-layout, copy --to oci: and list through a link loop: exit 1, the loop named (was: a bare ELOOP per pack, INTERNAL)', async () => {
    const layout = join(w.loop, 'lay');
    const runs = [
      await runCli(['push', w.pack, '--oci-layout', layout], { env: w.env }),
      await runCli(['copy', 'long:1.0.0', '--from', `oci:${w.layout}`, '--to', `oci:${layout}`], { env: w.env }),
      await runCli(['list', 'hello', '--oci-layout', layout], { env: w.env }),
    ];
    for (const run of runs) {
      expectRun(run, { code: 1, stderr: [`cannot use ${layout}/spectro-packs/archive/`, 'a symbolic link on its way leads back to itself (ELOOP)', 'fix or remove that link'] });
      expect(run.stderr).not.toContain('bug in packpub');
      expect(run.stderr).not.toContain('too many symbolic links');
    }
  });
});

