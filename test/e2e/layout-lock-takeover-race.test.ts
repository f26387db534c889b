import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli, spawnCli, waitFor, type SpawnedCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';
import { pidNamespace } from '../../src/util/pid.js';
import { deadPid } from '../support/spawner.js';

/*
 * chaos s22 F11: two runs find the OCI layout's index lock left by a killed run. Run C judges it stale; before C
 * removes it, run B removes it too and makes its own lock, and reads index.json to add its tag. C's removal by path
 * then removed B's FRESH lock: C took the lock, wrote index.json with its tag and ended; B then wrote the index it had
 * read, without C's tag. Both exit 0, C's tag lost. Now a stale lock is judged again and removed under a takeover
 * lock (`<lock>.takeover`, O_EXCL): B, arriving while C holds it, waits. Preloads hold each process at the point
 * the race needs (C right before it removes the stale lock, B right before it asks for the takeover lock): no timing.
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
    const dead = await deadPid();
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
    // C: judged the killed run's lock stale and took the takeover lock; about to remove the stale lock.
    const c = await held('c', w.packs[2]!, 'unlink', 0, lock);
    // B: judged the same lock stale, about to take the takeover lock, which C holds: it must wait, not remove.
    const b = await held('b', w.packs[1]!, 'open', 0, `${lock}.takeover`);
    await writeFile(join(b.dir, 'go'), '');
    await writeFile(join(c.dir, 'go'), '');
    const [cRun, bRun] = await Promise.all([c.run.done, b.run.done]);
    expect(bRun.code, bRun.stderr).toBe(0);
    expect(cRun.code, cRun.stderr).toBe(0);
    const tags = await layoutHoldings(layout);
    expect(tags.problems).toEqual([]);
    // Was: ['race:1.0.0', 'race:2.0.0'], C's 3.0.0 lost though it said published.
    expect([...tags.tags.keys()].sort()).toEqual(['1.0.0', '2.0.0', '3.0.0'].map((v) => `${REPO}:${v}`));
    expect(existsSync(lock)).toBe(false);
    expect(existsSync(`${lock}.takeover`)).toBe(false);
  });
});
