import { readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * review s21 F7: `cd pack && packpub push .` puts the default layout ./oci-packs inside the pack folder, and the
 * archive walk took it: the first push published, the next push of the unchanged pack was a CONFLICT ("already
 * holds different content", exit 1), and --force published the pack with its own earlier layout inside it, one more
 * level on every run. A layout target inside a pack folder is now refused before anything runs, unless the pack's
 * .packignore leaves it out.
 */

describe('an OCI layout target inside the pack folder being pushed', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir();
    return { root, pack: await writePack(join(root, 'inpack'), { name: 'inpack', version: '1.0.0' }) };
  });

  it('is refused before anything is written, naming both and the .packignore way out (was: published, then a CONFLICT on the unchanged pack)', async () => {
    for (const extra of [[], ['--oci-layout', 'out/layout'], ['--oci-layout', '.'], ['--force']]) {
      expectRun(await runCli(['push', '.', ...extra], { cwd: w.pack }), {
        code: 2,
        stdout: '',
        stderr: [`is inside the pack folder ${w.pack}: every push would put it into the pack's archive`, '.packignore'],
      });
    }
    expect(await readdir(w.pack)).not.toContain('oci-packs');
    expect(await readdir(w.pack)).not.toContain('out');
  });

  it('a pack named through a link (a glob\'s link to a folder), the layout given by the real path, or the other way round: refused too, nothing written (was: published with the layout inside, exit 0)', async () => {
    const real = await writePack(join(w.root, 'linked-real'), { name: 'linked', version: '1.0.0' });
    await symlink(real, join(w.root, 'linked'));
    for (const [pack, layout] of [['linked', 'linked-real/layout'], ['linked-real', 'linked/layout'], ['*', 'linked-real/layout']]) {
      expectRun(await runCli(['push', pack as string, '--oci-layout', layout as string], { cwd: w.root }), {
        code: 2,
        stdout: '',
        stderr: [`error: the OCI layout ${join(w.root, layout as string)} is inside the pack folder ${join(w.root, pack === '*' ? 'linked' : (pack as string))}: every push would put it into the pack's archive`],
      });
    }
    expect(await readdir(real)).not.toContain('layout');
  });

  it('left out by the pack\'s .packignore, it is published, and the next push finds the pack unchanged', async () => {
    await writeFile(join(w.pack, '.packignore'), 'oci-packs/\n');
    expectRun(await runCli(['push', '.'], { cwd: w.pack }), { code: 0, stdout: ['published inpack:1.0.0'] });
    expectRun(await runCli(['push', '.'], { cwd: w.pack }), { code: 0, stdout: ['unchanged inpack:1.0.0'] });
    // From the folder above, the default layout is beside the pack, not in it.
    expectRun(await runCli(['push', 'inpack'], { cwd: w.root }), { code: 0, stdout: ['published inpack:1.0.0'] });
  });
});
