import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectRun, runBin, runCli } from '../support/cli.js';
import { pushStatuses, rerunTree } from '../support/push-setup.js';
import { setup } from '../support/stage.js';

/*
 * bin/packpub.js starts a worker that checks the archive cache's remembered folders ahead of a push (issue 16).
 * A push whose cache folder holds no index (a first publish, a CI job without a kept cache) has nothing
 * remembered: it starts no such worker (was: started it, ~60 ms of CPU for nothing); the re-run, which has
 * an index, does. Nor does a re-run whose cgroup's CPU quota grants one CPU (a container limited to 1 CPU on a
 * large host, where Node 20 counts the host's CPUs): bin/packpub.js counts usable CPUs as the validation pool does
 * (was: every CPU Node counted). The built CLI as users run it, with a preload (NODE_OPTIONS, as a user could give
 * it) that makes the machine look idle with 4 CPUs, gives its cgroup the quota asked for, and records the worker's start.
 */

const PRELOAD = fileURLToPath(new URL('../fixtures/node-options/checks-ahead-started.cjs', import.meta.url));

const world = setup((stack) => rerunTree(stack, 2, { seed: 29, prefix: 'checks-ahead-cold' }));

/** Pushes of the tree to the registry path `sub`, with the preload; how many check-ahead workers they started; an unchanged re-run's checks. */
function pushes(sub: string) {
  const log = join(world.work.root, `checks-ahead-${sub}.log`);
  const env = { ...world.work.env, NODE_OPTIONS: `--require=${JSON.stringify(PRELOAD)}`, PACKPUB_TEST_CHECKS_AHEAD_LOG: log };
  const push = (extra: NodeJS.ProcessEnv = {}) => runBin(world.pushArgs(sub), { env: { ...env, ...extra } });
  const started = async () => (existsSync(log) ? (await readFile(log, 'utf8')).split('\n').filter((l) => l !== '').length : 0);
  const unchanged = (run: Awaited<ReturnType<typeof runBin>>) => {
    expectRun(run, { code: 0 });
    const report = JSON.parse(run.stdout) as { summary: { uploadedBytes: number }; results: Array<{ status: string }> };
    expect(report.results.map((r) => r.status)).toEqual(['unchanged', 'unchanged']);
    expect(report.summary.uploadedBytes).toBe(0);
  };
  return { push, started, unchanged };
}

describe('the check-ahead worker of a push', () => {
  it('is not started without a cache index; the re-run starts it and finds both packs unchanged', async () => {
    const { push, started, unchanged } = pushes('cold');
    const first = await push();
    expectRun(first, { code: 0 });
    expect(pushStatuses(first.stdout)).toEqual(['published', 'published']);
    expect(await started()).toBe(0);

    unchanged(await push());
    expect(await started()).toBe(1);
  });

  it('is not started under a cgroup CPU quota of one CPU: the re-run finds both packs unchanged on its own', async () => {
    const { push, started, unchanged } = pushes('quota');
    // The first publish fills the registry path and the cache index the re-runs read: the same CLI code in-process.
    const first = await runCli(world.pushArgs('quota'), { env: world.work.env });
    expectRun(first, { code: 0 });
    expect(pushStatuses(first.stdout)).toEqual(['published', 'published']);

    for (const [quota, workers] of [['100000 100000', 0], ['150000 100000', 0], ['200000 100000', 1]] as const) {
      const before = await started();
      unchanged(await push({ PACKPUB_TEST_CPU_QUOTA: quota }));
      expect({ quota, started: (await started()) - before }).toEqual({ quota, started: workers });
    }
  });
});
