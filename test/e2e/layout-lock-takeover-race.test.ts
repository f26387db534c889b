import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli, spawnCli, waitFor, type SpawnedCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';
import { pidNamespace } from '../../src/util/pid.js';

/*
 * chaos s22 F11: two runs find the OCI layout's index lock left by a killed run. Run C judges it stale; before C
 * removes it, run B removes it too and makes its own lock, and reads index.json to add its tag. C's removal by path
 * then removed B's FRESH lock: C took the lock, wrote index.json with its tag and ended; B then wrote the index it had
 * read, without C's tag. Both exit 0, C's tag lost. Now a run moves the stale lock aside and removes it only when it
 * is the lock it judged stale; another one is put back and waited for. Preloads hold each process at the point the
 * race needs (C right before it removes the lock, B right before it writes index.json): no timing.
 */

const HOLD = resolve('test/fixtures/node-options/hold-on-fs-call.cjs');
const REPO = 'spectro-packs/archive/race';

describe('two runs taking over the lock a killed run left in an OCI layout', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir();
    const packs = await Promise.all(['1.0.0', '2.0.0', '3.0.0'].map((version) => writePack(join(root, version), { name: 'race', version })));
    return { root, packs, env: { PACKPUB_CACHE_DIR: join(root, 'cache'), SOURCE_DATE_EPOCH: '1700000000' } };
  });

  it("both tags stay: the run that judged the lock stale does not remove the other run's fresh lock", async () => {
    const layout = join(w.root, 'layout');
    expectRun(await runCli(['push', w.packs[0]!, '--oci-layout', layout], { env: w.env }), { code: 0 });
    const lock = join(layout, REPO, 'index.json.lock');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
    await writeFile(lock, `${dead} ${hostname()} 0123456789abcdef ns${pidNamespace() ?? '-'}`);

    /** Push `pack`, held right before the first call in `calls` naming `path` (argument `arg`) until released. */
    const held = async (name: string, pack: string, calls: string, arg: number, path: string): Promise<{ run: SpawnedCli; dir: string }> => {
      const dir = join(w.root, name);
      await mkdir(dir);
      const env = { ...w.env, PACKPUB_TEST_HOLD_PATH: path, PACKPUB_TEST_HOLD_DIR: dir, PACKPUB_TEST_HOLD_CALLS: calls, PACKPUB_TEST_HOLD_ARG: String(arg) };
      const run = spawnCli(['push', pack, '--oci-layout', layout], { env, nodeArgs: ['--require', HOLD] });
      await waitFor(() => existsSync(join(dir, 'held')), `${name} to reach its held call`);
      return { run, dir };
    };
    // C: judged the killed run's lock stale, about to remove it.
    const c = await held('c', w.packs[2]!, 'unlink,rename', 0, lock);
    // B: took the same lock over, read index.json, about to write it (the rename of its temp file onto it).
    const b = await held('b', w.packs[1]!, 'rename', 1, join(layout, REPO, 'index.json'));
    await writeFile(join(c.dir, 'go'), '');
    // C either goes on (it removed B's lock: was) or puts B's lock back and waits for it (now).
    let cDone = false;
    void c.run.done.then(() => (cDone = true));
    const putBack = async () => (await readFile(join(c.dir, 'log'), 'utf8').catch(() => '')).split('\n').some((line) => line.startsWith('link '));
    await waitFor(async () => cDone || (await putBack()), 'C to take the lock or put it back');
    await writeFile(join(b.dir, 'go'), '');
    const [cRun, bRun] = await Promise.all([c.run.done, b.run.done]);
    expect(bRun.code, bRun.stderr).toBe(0);
    expect(cRun.code, cRun.stderr).toBe(0);
    const tags = await layoutHoldings(layout);
    expect(tags.problems).toEqual([]);
    // Was: ['race:1.0.0', 'race:2.0.0'], C's 3.0.0 lost though it said published.
    expect([...tags.tags.keys()].sort()).toEqual(['1.0.0', '2.0.0', '3.0.0'].map((v) => `${REPO}:${v}`));
    expect(existsSync(lock)).toBe(false);
  });
});
