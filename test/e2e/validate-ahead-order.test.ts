import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIN_WORK_FOR_WORKERS } from '../../src/operations/validate-pool.js';
import { usableCpus } from '../../src/util/cores.js';
import { expectRun, runBin } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * Which thread checks which pack while a validation worker started ahead (src/operations/validate-ahead.ts) is
 * still loading: the main thread learns that it has loaded only between its own packs, so it checks packs from
 * the end of the list until a worker has the list, and a long first pack does not keep a loaded worker
 * waiting (issue 16). Through the built CLI, with a module loaded first in every thread (--require) that logs
 * each pack.json a thread opens and holds the worker back until the main thread has opened two.
 */

const world = setup(async (stack) => {
  const root = await stack.tempDir('packpub-ahead-order-');
  // Its README alone makes the list worth a worker; the others are small, one of them failing.
  const big = join(root, 'big');
  await writePack(big, { name: 'order-big', version: '1.0.0' });
  await writeFile(join(big, 'README.md'), Buffer.alloc(MIN_WORK_FOR_WORKERS, 0x20));
  const dirs = [big];
  for (const name of ['p0', 'p1', 'p2', 'bad', 'p3', 'p4']) {
    dirs.push(await writePack(join(root, name), name === 'bad' ? { name: 'order-bad', version: '1.0.0', packJson: { layer: 'nope' } } : { name: `order-${name}`, version: '1.0.0' }));
  }
  const logger = join(root, 'log-packs.cjs');
  await writeFile(
    logger,
    `const fs = require('node:fs');
const { isMainThread } = require('node:worker_threads');
const logFile = process.env.PACKPUB_TEST_PACK_LOG;
const thread = isMainThread ? 'main' : 'worker';
const open = fs.openSync;
fs.openSync = function (path, ...rest) {
  if (typeof path === 'string' && path.endsWith('/pack.json')) fs.appendFileSync(logFile, thread + ':' + require('node:path').basename(require('node:path').dirname(path)) + '\\n');
  return open.call(this, path, ...rest);
};
if (!isMainThread) {
  // Held before it loads anything (up to 20 s): until the main thread has opened two packs' pack.json.
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const until = Date.now() + 20000;
  while (Date.now() < until && fs.readFileSync(logFile, 'utf8').split('\\n').filter((l) => l.startsWith('main:')).length < 2) Atomics.wait(pause, 0, 0, 5);
}
`,
  );
  return { root, dirs, logger };
});

describe('packpub validate: the main thread while a worker started ahead loads', () => {
  it('checks packs from the end of the list until the worker has it (on one core, with no worker, all in list order); every pack is checked once and reported in the order given', async () => {
    const log = join(world.root, 'packs.txt');
    await writeFile(log, '');
    const run = await runBin(['validate', ...world.dirs], { nodeArgs: ['--require', world.logger], env: { PACKPUB_TEST_PACK_LOG: log } });
    const names = world.dirs.map((d) => basename(d));
    expectRun(run, { code: 1, stdout: ['6 passed, 1 failed'] });
    const verdicts = run.stdout.split('\n').filter((l) => / (OK|FAILED)$/.test(l));
    expect(verdicts).toEqual(world.dirs.map((d, i) => `${d}: order-${names[i]}:1.0.0 ${names[i] === 'bad' ? 'FAILED' : 'OK'}`));
    const opened = (await readFile(log, 'utf8')).split('\n').filter((l) => l !== '');
    // One core (a CPU quota of 1): no worker is started, the main thread checks every pack in the order given.
    if (usableCpus() === 1) return void expect(opened).toEqual(names.map((n) => `main:${n}`));
    // The main thread's first two packs are the last two of the list (the worker is held until it opened them).
    expect(opened.filter((l) => l.startsWith('main:')).slice(0, 2)).toEqual(['main:p4', 'main:p3']);
    // Each pack checked once, by one thread or the other.
    expect(opened.map((l) => l.slice(l.indexOf(':') + 1)).sort()).toEqual([...names].sort());
  });
});
