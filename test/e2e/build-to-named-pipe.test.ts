import { createReadStream, statSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli, spawnCli, waitFor } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { runChildText } from '../support/spawner.js';
import { setup } from '../support/stage.js';

/*
 * `build -o FIFO` (a named pipe, as README's "written into a pipe or device" allows) waits for a program to read the
 * pipe, as a shell's `> fifo` does. That open waited in a thread of Node's pool, which Node joins as the process ends:
 * SIGTERM or Ctrl-C printed "SIGTERM: interrupted" and the process stayed, for ever (a CI job's cancel, `timeout`,
 * killed only by SIGKILL). The pipe is now opened without waiting and again until a reader comes: a signal ends the
 * run, exit 130, and the temp file the archive went through is removed.
 */

const EPOCH = { SOURCE_DATE_EPOCH: '1700000000' };

const w = setup(async (stack) => {
  const root = await stack.tempDir();
  const pack = await writePack(join(root, 'pack'), { name: 'piped', version: '1.0.0' });
  const file = join(root, 'piped.tgz');
  expectRun(await runCli(['build', pack, '-o', file], { env: EPOCH }), { code: 0 });
  const fifo = join(root, 'out.fifo');
  await runChildText('mkfifo', [fifo]);
  return { root, pack, fifo, archive: await readFile(file) };
});

describe('build -o into a named pipe', () => {
  it('no reader: SIGTERM ends the run, exit 130, its temp file removed (was: "SIGTERM: interrupted", then waited for ever)', async () => {
    const tmp = join(w.root, 'tmp-waiting');
    await mkdir(tmp);
    const run = spawnCli(['build', w.pack, '-o', w.fifo], { env: { ...EPOCH, TMPDIR: tmp } });
    // The archive whole in its temp file: what is left is waiting for a reader.
    await waitFor(async () => (await readdir(tmp)).some((name) => statSync(join(tmp, name), { throwIfNoEntry: false })?.size === w.archive.length), 'the archive written whole to its temp file');
    run.child.kill('SIGTERM');
    expectRun(await run.done, { code: 130, stdout: '', stderr: ['SIGTERM: interrupted'] });
    expect(await readdir(tmp)).toEqual([]);
  });

  it('a reader that comes later gets the archive byte for byte, exit 0', async () => {
    const run = spawnCli(['build', w.pack, '-o', w.fifo], { env: EPOCH });
    const chunks: Buffer[] = [];
    for await (const chunk of createReadStream(w.fifo)) chunks.push(chunk as Buffer);
    expectRun(await run.done, { code: 0, stdout: [`built ${w.fifo}`] });
    expect(Buffer.concat(chunks).equals(w.archive)).toBe(true);
  });
});
