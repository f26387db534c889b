import { mkdir, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli, spawnCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { sharedRegistry } from '../support/registry.js';
import { setup } from '../support/stage.js';

/*
 * chaos s22 F2: `pull -o <folder>` into an existing empty folder moves the extracted pack in entry by entry (the
 * folder itself is kept: a mount point, a folder made by the CI job). A SIGKILL between two of those moves (a
 * cancelled job, an OOM kill: no exit handler runs) left pack.json there with part of the pack (values.yaml
 * missing), a folder a later step (a validate, a push of a mirror) took for a pack. Now pack.json is moved last: a
 * folder holding it holds the whole pack. The re-run is refused, as before, and now says that an earlier pull was
 * interrupted there; once emptied, the pull completes.
 * The kill comes from a preload, right before the pull's last move into the folder: a point the process itself
 * reaches, not a time.
 */

const KILL_ON_RENAME = resolve('test/fixtures/node-options/kill-on-fs-call.cjs');

describe('pull -o into an existing empty folder, SIGKILLed while it moves the pack in', () => {
  const w = setup(async (stack) => {
    const registry = await sharedRegistry();
    const root = await stack.tempDir();
    const pack = await writePack(join(root, 'pack'), { name: 'pullkill', version: '1.0.0' });
    const target = `${registry.host}/${registry.base}/pullkill`;
    expectRun(await runCli(['push', pack, '--registry', target]), { code: 0 });
    return { root, pack, target, entries: (await readdir(pack)).sort() };
  });

  it('leaves no pack.json beside part of the pack; the re-run says the pull was interrupted; emptied, it completes', async () => {
    const out = join(w.root, 'out');
    await mkdir(out);
    const run = spawnCli(['pull', 'pullkill:1.0.0', '--registry', w.target, '-o', out], {
      nodeArgs: ['--require', KILL_ON_RENAME],
      // Killed right before the last of its moves into `out`: all but one entry are in place.
      env: { PACKPUB_TEST_KILL_DIR: out, PACKPUB_TEST_KILL_AT: String(w.entries.length) },
    });
    const killed = await run.done;
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const left = (await readdir(out)).filter((name) => !name.startsWith('.packpub-pull-'));
    expect(left.length).toBe(w.entries.length - 1);
    // Was: pack.json among them (moved in readdir order), a pack folder missing a file.
    expect(left).not.toContain('pack.json');

    const again = await runCli(['pull', 'pullkill:1.0.0', '--registry', w.target, '-o', out]);
    expectRun(again, {
      code: 2,
      stdout: '',
      stderr: [`error: ${out} already exists and is not empty`, `hint: an earlier pull into it was interrupted (it holds a .packpub-pull-* folder): empty ${out} and pull again`],
    });

    for (const name of await readdir(out)) await rm(join(out, name), { recursive: true, force: true });
    expectRun(await runCli(['pull', 'pullkill:1.0.0', '--registry', w.target, '-o', out]), { code: 0 });
    expect((await readdir(out)).sort()).toEqual(w.entries);
  });
});
