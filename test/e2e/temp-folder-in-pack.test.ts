import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runBin, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';

/*
 * TMPDIR inside the pack folder being packed (`TMPDIR=$PWD/tmp` in a job whose checkout is the pack): push made its
 * work folder there (tmp/packpub-work/<run>), and a small pack, built in memory, was published with that run's empty
 * work folder inside its archive, exit 0, the next push of the unchanged pack a CONFLICT; a larger one failed every
 * run, "tmp/packpub-work changed while packpub was packing: make sure nothing writes into the pack folder". `build -o -`
 * (its archive written through a temp file in TMPDIR) failed so too. Now refused before anything runs, as packpub's
 * cache folder in the pack is, unless the pack's .packignore leaves that folder out.
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir();
  const pack = await writePack(join(root, 'tmpin'), { name: 'tmpin', version: '1.0.0' });
  await mkdir(join(pack, 'tmp'));
  return { root, pack };
});

describe('TMPDIR inside the pack folder', () => {
  it('push and build -o - are refused, exit 2, nothing written (was: published with the work folder inside, or "changed while packing"); left out by .packignore, published and then unchanged', async () => {
    const tmp = join(w.pack, 'tmp');
    const layout = join(w.root, 'layout');
    expectRun(await runCli(['push', w.pack, '--oci-layout', layout], { env: { TMPDIR: tmp } }), {
      code: 2,
      stdout: '',
      stderr: [
        `error: packpub's work folder (TMPDIR's packpub-work, where push builds archives) ${join(tmp, 'packpub-work')} is inside the pack folder ${w.pack}: every push would put it into the pack's archive`,
        'hint: set TMPDIR to a folder outside the pack, or leave it out of the pack with a line "tmp/" in its .packignore',
      ],
    });
    expectRun(await runBin(['build', w.pack, '-o', '/dev/null'], { env: { TMPDIR: tmp } }), {
      code: 2,
      stdout: '',
      stderr: [`error: the temp folder (TMPDIR, where build writes an archive for a pipe first) ${tmp} is inside the pack folder ${w.pack}: every build would put it into the pack's archive`],
    });
    expect(existsSync(layout)).toBe(false);
    expect(await readdir(tmp)).toEqual([]);

    await writeFile(join(w.pack, '.packignore'), 'tmp/\n');
    expectRun(await runCli(['push', w.pack, '--oci-layout', layout], { env: { TMPDIR: tmp } }), { code: 0, stdout: ['published tmpin:1.0.0'] });
    expectRun(await runCli(['push', w.pack, '--oci-layout', layout], { env: { TMPDIR: tmp } }), { code: 0, stdout: ['unchanged tmpin:1.0.0'] });
    expect((await layoutHoldings(layout)).problems).toEqual([]);
    const out = join(w.root, 'pulled');
    expectRun(await runCli(['pull', 'tmpin:1.0.0', '--oci-layout', layout, '-o', out]), { code: 0 });
    expect(await readdir(out)).not.toContain('tmp');
  });
});
