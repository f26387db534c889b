import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cgroupCpus, MAX_CPU_THREADS } from '../../src/util/cores.js';
import { expectRun, runBin } from '../support/cli.js';
import { packTree, pushStatuses } from '../support/push-setup.js';
import { sharedRegistry } from '../support/registry.js';
import { RegistryReader } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';

/*
 * A machine (or what Node says of one) with many CPUs: Node 20 counts every CPU of the host in a container with a
 * CPU limit (a CI runner pod on a 64-CPU node). packpub started a validation worker per CPU, at most one per pack:
 * 9 for these 10 packs, 63 for pack-central (1.3 GB, where a pod's memory limit ends the job). Now at most
 * MAX_CPU_THREADS threads, the main one included. The built CLI as users run it, with a preload (NODE_OPTIONS)
 * that makes Node say 64 CPUs and records each worker started.
 */

const PRELOAD = fileURLToPath(new URL('../fixtures/node-options/many-cores.cjs', import.meta.url));
/** More than MAX_CPU_THREADS: one worker per pack would be more workers than the bound. */
const PACKS = 10;

const world = setup(async (stack) => {
  // 10 x 900 kB of files: more than MIN_WORK_FOR_WORKERS (counted in file bytes), so the packs are worth
  // workers. The payloads are zeros: how many workers start does not depend on what the files hold, and
  // random bytes only cost the push deflating 9 MB that do not compress and the registry storing them.
  const work = await packTree(stack, PACKS, { prefix: 'many-cores', seed: 64, payloadBytes: [900_000, 900_000] });
  await Promise.all(work.packs.map((p) => writeFile(join(p.dir, 'payload.bin'), Buffer.alloc(900_000))));
  const registry = await sharedRegistry();
  const log = join(work.root, 'workers.log');
  const env = { ...work.env, NODE_OPTIONS: `--require=${JSON.stringify(PRELOAD)}`, PACKPUB_TEST_WORKERS_LOG: log };
  const workers = async () => (existsSync(log) ? (await readFile(log, 'utf8')).split('\n').filter((l) => l !== '').length : 0);
  return { work, registry, env, workers };
});

describe('on a machine Node says has 64 CPUs', () => {
  it('validate checks every pack on at most MAX_CPU_THREADS threads', async () => {
    const run = await runBin(['validate', ...world.work.packs.map((p) => p.dir), '--json'], { env: world.env });
    expectRun(run, { code: 0 });
    const reports = JSON.parse(run.stdout) as Array<{ passed: boolean }>;
    expect(reports.map((r) => r.passed)).toEqual(Array<boolean>(PACKS).fill(true));
    // The main thread checks packs too: the workers are one fewer. A CPU quota on the suite's cgroup (docker
    // --cpus) bounds them below the 64 Node says, as it does on such a runner.
    expect(await world.workers()).toBe(Math.min(cgroupCpus() ?? MAX_CPU_THREADS, MAX_CPU_THREADS) - 1);
  });

  it('push publishes every pack with at most MAX_CPU_THREADS workers', async () => {
    const before = await world.workers();
    const { registry } = world;
    const run = await runBin(['push', world.work.tree, '--recursive', '--registry', `${registry.host}/${registry.base}`, '--json'], { env: world.env });
    expectRun(run, { code: 0 });
    expect(pushStatuses(run.stdout)).toEqual(Array<string>(PACKS).fill('published'));
    const started = (await world.workers()) - before;
    expect(started).toBeGreaterThan(0);
    expect(started).toBeLessThanOrEqual(MAX_CPU_THREADS);
    const held = await new RegistryReader(registry.url).holdings(`${registry.base}/spectro-packs/archive`);
    expect(held.problems).toEqual([]);
    expect([...held.tags.keys()].sort()).toEqual(world.work.packs.map((p) => `${registry.base}/spectro-packs/archive/${p.name}:${p.version}`).sort());
  });
});
