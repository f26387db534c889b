import { createRequire } from 'node:module';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIN_WORK_FOR_WORKERS } from '../../src/operations/validate-pool.js';
import { usableCpus } from '../../src/util/cores.js';
import { expectRun, runBin } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * The validation workers bin/packpub.js starts for `packpub validate` before it loads the program
 * (src/operations/validate-ahead.ts): a worker started once bin had set its V8 flags compiled every built-in
 * module it loaded from source (~40 ms of CPU more before its first pack, issue 16). Through the built CLI,
 * with a module loaded first in every thread (--require) that logs each V8 flag bin sets and, on a worker
 * thread, its start and each built-in module it loads (all in one file, in the order they happen).
 */

const world = setup(async (stack) => {
  const root = await stack.tempDir('packpub-ahead-');
  // Its README alone makes the list worth a worker; the others are small, one of them failing.
  const big = join(root, 'big');
  await writePack(big, { name: 'ahead-big', version: '1.0.0' });
  await writeFile(join(big, 'README.md'), Buffer.alloc(MIN_WORK_FOR_WORKERS, 0x20));
  const good = join(root, 'good');
  await writePack(good, { name: 'ahead-good', version: '1.0.0' });
  const bad = join(root, 'bad');
  await writePack(bad, { name: 'ahead-bad', version: '1.0.0', packJson: { layer: 'nope' } });
  const logger = join(root, 'log-threads.cjs');
  await writeFile(
    logger,
    `const { appendFileSync } = require('node:fs');
const { isMainThread } = require('node:worker_threads');
const Module = require('node:module');
const v8 = require('node:v8');
const log = (line) => appendFileSync(process.env.PACKPUB_TEST_THREAD_LOG, line + '\\n');
if (isMainThread) {
  const set = v8.setFlagsFromString;
  v8.setFlagsFromString = (flags) => { log('v8-flags:' + flags); set(flags); };
} else {
  log('worker-start');
  let seen = process.moduleLoadList.length;
  const load = Module._load;
  Module._load = function (...args) {
    const loaded = load.apply(this, args);
    for (const list = process.moduleLoadList; seen < list.length; seen++) if (list[seen].startsWith('NativeModule ')) log('worker-builtin:' + list[seen].slice(13));
    return loaded;
  };
}
`,
  );
  return { root, big, good, bad, logger };
});

let runs = 0;

/** `packpub validate` of `dirs` through the built CLI, and what the threads logged. */
async function logged(dirs: string[]) {
  const log = join(world.root, `threads-${runs++}.txt`);
  await writeFile(log, '');
  const run = await runBin(['validate', ...dirs], { nodeArgs: ['--require', world.logger], env: { PACKPUB_TEST_THREAD_LOG: log } });
  const lines = (await readFile(log, 'utf8')).split('\n').filter((l) => l !== '');
  // The flags set before the first worker starts (startFlags) are not the run's, set once the workers have loaded.
  const firstFlag = lines.findIndex((l) => l.startsWith('v8-flags:') && !startFlags(true).includes(l.slice(9)));
  return { run, lines, before: firstFlag === -1 ? lines : lines.slice(0, firstFlag), after: firstFlag === -1 ? [] : lines.slice(firstFlag) };
}

const { runFlags, startFlags } = createRequire(import.meta.url)('../../bin/v8-flags.cjs') as { runFlags(validating: boolean): { flags: string[] }; startFlags(validating: boolean): string[] };

describe('packpub validate: validation workers started ahead', () => {
  it('a worker starts and loads its built-in modules before bin sets its V8 flags, then checks packs as any worker (on one core: none, the flags set as the command starts)', async () => {
    const { run, lines, before, after } = await logged([world.big, world.good, world.bad]);
    expectRun(run, { code: 1, stdout: ['ahead-big:1.0.0 OK', 'ahead-good:1.0.0 OK', 'ahead-bad:1.0.0 FAILED', '3 packs checked: 2 passed, 1 failed'] });
    // One worker (one per core but one, one per pack but one), started before the flags were set...
    expect(lines.filter((l) => l === 'worker-start')).toHaveLength(Math.min(usableCpus(), 3) - 1);
    // (One core, a CPU quota of 1: no worker, and the same verdicts, as for packs not worth one below.)
    if (usableCpus() === 1) return void expect(lines[0]).toBe('v8-flags:--liftoff-only');
    expect(before).toContain('worker-start');
    // The flags V8 reads as it makes a worker's isolate (on Node 20: no TurboFan on background threads) before the first.
    expect(before.slice(0, before.indexOf('worker-start'))).toEqual(startFlags(true).map((f) => `v8-flags:${f}`));
    expect(after[0]).toBe('v8-flags:--liftoff-only');
    // ...with the built-ins its file needs (the validator reads chart archives with zlib) loaded before them,
    // and none after: each was compiled with Node's code cache.
    expect(before).toEqual(expect.arrayContaining(['worker-builtin:zlib', 'worker-builtin:crypto', 'worker-builtin:vm']));
    expect(after.filter((l) => l.startsWith('worker-'))).toEqual([]);
  });

  it('packs that are not worth a worker: none started, the flags set as the command starts', async () => {
    const { run, lines } = await logged([world.good, world.bad]);
    expectRun(run, { code: 1, stdout: ['ahead-good:1.0.0 OK', 'ahead-bad:1.0.0 FAILED'] });
    expect(lines.filter((l) => l.startsWith('worker-'))).toEqual([]);
    expect(lines[0]).toBe('v8-flags:--liftoff-only');
    // validate's own: no on-stack replacement (bin/packpub.js); a push does without it (test/e2e/bundle.test.ts).
    // (On Node 20; on another Node's V8 only the flags it has: bin/v8-flags.cjs.)
    const flags = runFlags(true).flags;
    expect(lines.slice(0, flags.length)).toEqual(flags.map((f) => `v8-flags:${f}`));
  });
});
