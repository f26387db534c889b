import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { setup } from '../../support/stage.js';
import { removeDeadRunDirs } from '../../support/test-tmpdir.js';
import { spawnChild, startChild } from '../../support/spawner.js';

/*
 * A suite run killed by SIGKILL (or SIGTERM: neither runs vitest's exit handler) leaves its tmpfs folder
 * behind; the next run removes it, and nothing else. The killed run here is a real process, named and
 * killed as vitest's main process would be.
 */
describe('temp folders of killed suite runs', () => {
  const w = setup(async (stack) => ({ root: await stack.tempDir('packpub-tmpdir-') }));

  /** Start a process that makes its run folder under `parent` (the name vitest's run uses), then is killed by `signal`. */
  async function killedRun(parent: string, signal: NodeJS.Signals): Promise<string> {
    // A shell, not a Node process (a tenth of the CPU): `exec sleep` keeps the pid the folder is named after,
    // and, like vitest's main process, it removes nothing when killed by either signal.
    const script = 'd=$(mktemp -d "$1/packpub-test-$$-XXXXXX") && echo x > "$d/data" && echo "$d" && exec sleep 1000';
    const child = spawnChild('sh', ['-c', script, 'sh', parent], { stdio: ['ignore', 'pipe', 'inherit'] });
    const dir = await new Promise<string>((resolve) => child.stdout?.once('data', (b: Buffer) => resolve(b.toString().trim())));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
    return dir;
  }

  it.each(['SIGKILL', 'SIGTERM'] as const)('a run killed by %s: its folder stays, and the next run removes it', async (signal) => {
    const parent = join(w.root, signal);
    await mkdir(parent);
    const dir = await killedRun(parent, signal);
    expect(await readdir(parent)).toEqual([dir.slice(parent.length + 1)]);
    expect(removeDeadRunDirs(parent)).toEqual([dir.slice(parent.length + 1)]);
    expect(await readdir(parent)).toEqual([]);
  });

  it("leaves live runs' folders, folders of other names and files alone", async () => {
    const parent = join(w.root, 'others');
    await mkdir(parent);
    const live = await startChild('sleep', ['1000'], { stdio: ['ignore', 'ignore', 'ignore'] });
    try {
      const keep = [`packpub-test-${process.pid}-aaaaaa`, `packpub-test-${live.pid}-bbbbbb`, 'packpub-test-cccccc', 'packpub-test-1-x', 'other-99999999-dddddd'];
      for (const name of keep) await mkdir(join(parent, name));
      const dead = await killedRun(parent, 'SIGKILL');
      const deadPid = /packpub-test-(\d+)-/.exec(dead)?.[1];
      await writeFile(join(parent, `packpub-test-${deadPid}-eeeeee`), 'a file, not a run folder');
      expect(removeDeadRunDirs(parent)).toEqual([dead.slice(parent.length + 1)]);
      expect((await readdir(parent)).sort()).toEqual([...keep, `packpub-test-${deadPid}-eeeeee`].sort());
    } finally {
      live.kill('SIGKILL');
    }
  });
});
