import { existsSync } from 'node:fs';
import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli, spawnCli, waitFor, type SpawnedCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';

/*
 * A run of another host (or of another PID namespace on this one) takes over the lock beside an OCI layout's
 * index.json or a Docker config once it is older than its staleMs (30 s, 10 s): its owner there cannot be asked
 * whether it is alive. A writer that stalled that long inside the lock (a paused VM, a hung NFS disk) then renamed
 * the file it had read and changed before the stall over what the taker wrote meanwhile: the taker's tag (or
 * logout) was undone, and both runs said done, exit 0. Now the writer checks, right before its rename, that the lock
 * still holds its own nonce, and refuses otherwise. The stall is a preload holding the writer right before it writes
 * its temp file (after its read under the lock); the takeover is the lock rewritten as an old lock of another host,
 * which the second run then takes by age, as it would over there. No timing.
 */

const HOLD = resolve('test/fixtures/node-options/hold-on-fs-call.cjs');
const REPO = 'spectro-packs/archive/stall';

/** What a run on another host leaves in a lock it holds, 60 s old: older than both staleMs. */
async function otherHostsOldLock(lock: string): Promise<void> {
  await writeFile(lock, '4242 build-agent-7.example 0123456789abcdef ns4026531836');
  const old = new Date(Date.now() - 60_000);
  await utimes(lock, old, old);
}

describe('a writer whose lock another host took over while it stalled', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir();
    const packs = await Promise.all(['1.0.0', '2.0.0', '3.0.0'].map((version) => writePack(join(root, version), { name: 'stall', version })));
    return { root, packs, env: { PACKPUB_CACHE_DIR: join(root, 'cache'), SOURCE_DATE_EPOCH: '1700000000' } };
  });

  /** `args` run as a process held right before it writes the temp file of `file` (under its lock), until released. */
  const heldAtWrite = async (name: string, args: string[], file: string, stdin?: string): Promise<{ run: SpawnedCli; go: () => Promise<void> }> => {
    const dir = join(w.root, name);
    await mkdir(dir);
    const env = { ...w.env, PACKPUB_TEST_HOLD_PATH: `${file}.tmp-`, PACKPUB_TEST_HOLD_PREFIX: '1', PACKPUB_TEST_HOLD_DIR: dir, PACKPUB_TEST_HOLD_CALLS: 'open,writeFile', PACKPUB_TEST_HOLD_ARG: '0' };
    const run = spawnCli(args, { env, nodeArgs: ['--require', HOLD], ...(stdin === undefined ? {} : { stdin }) });
    await waitFor(() => existsSync(join(dir, 'held')), `${name} to reach its index write`);
    return { run, go: () => writeFile(join(dir, 'go'), '') };
  };

  it("OCI layout: the stalled push refuses (exit 1) and the taker's tag stays (was: dropped, both exit 0)", async () => {
    const layout = join(w.root, 'layout');
    expectRun(await runCli(['push', w.packs[0]!, '--oci-layout', layout], { env: w.env }), { code: 0 });
    const index = join(layout, REPO, 'index.json');
    const lock = `${index}.lock`;
    const stalled = await heldAtWrite('a', ['push', w.packs[1]!, '--oci-layout', layout], index);
    await otherHostsOldLock(lock);
    expectRun(await runCli(['push', w.packs[2]!, '--oci-layout', layout], { env: w.env }), { code: 0, stdout: ['published stall:3.0.0'] });
    await stalled.go();
    const a = await stalled.run.done;
    expect(a.code, a.stdout + a.stderr).toBe(1);
    expect(a.stdout + a.stderr).toContain(`${lock} was taken over by another run while this one held it (it stalled for more than 30 s): oci:${join(layout, REPO)} was not changed by this run`);
    const tags = await layoutHoldings(layout);
    expect(tags.problems).toEqual([]);
    expect([...tags.tags.keys()].sort()).toEqual([`${REPO}:1.0.0`, `${REPO}:3.0.0`]);
    // Nothing of the stalled run's left: no temp file, and the lock (the taker's, released) is not recreated.
    expect(existsSync(lock)).toBe(false);
    const again = await runCli(['push', w.packs[1]!, '--oci-layout', layout], { env: w.env });
    expectRun(again, { code: 0, stdout: ['published stall:2.0.0'] });
    expect([...(await layoutHoldings(layout)).tags.keys()].sort()).toEqual(['1.0.0', '2.0.0', '3.0.0'].map((v) => `${REPO}:${v}`));
  });

  it("Docker config: the stalled logout refuses (exit 1) and the taker's logout is not undone (was: its credential back, both exit 0)", async () => {
    const config = join(w.root, 'docker', 'config.json');
    await mkdir(join(w.root, 'docker'));
    const entry = (user: string) => ({ auth: Buffer.from(`${user}:secret-${user}`).toString('base64') });
    await writeFile(config, JSON.stringify({ auths: { 'a.example': entry('a'), 'b.example': entry('b') } }));
    const stalled = await heldAtWrite('login-a', ['logout', 'a.example', '--registry-config', config], config);
    await otherHostsOldLock(`${config}.lock`);
    expectRun(await runCli(['logout', 'b.example', '--registry-config', config], { env: w.env }), { code: 0 });
    await stalled.go();
    const a = await stalled.run.done;
    expect(a.code, a.stdout + a.stderr).toBe(1);
    expect(a.stderr).toContain(`docker config ${config} was not changed: another process took over ${config}.lock while this one held it (it stalled for more than 10 s)`);
    // b's logout stands (was: the stalled logout wrote back the config it had read, b's credential in it).
    expect(JSON.parse(await readFile(config, 'utf8'))).toEqual({ auths: { 'a.example': entry('a') } });
  });
});
