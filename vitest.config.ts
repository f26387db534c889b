import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { defineConfig } from 'vitest/config';
import LongFirstSequencer, { WAITING_FILES } from './test/sequencer.ts';
import { useTmpfsForTests } from './test/support/test-tmpdir.ts';

const ROOT = fileURLToPath(new URL('.', import.meta.url));
/**
 * Test files that replace a module with vi.mock: the replacement reaches only modules evaluated after it,
 * so in a worker shared with earlier files (which already loaded src/ with the real module) it would
 * silently not apply. These run in fresh workers of their own, after the others (project 'mocks'): about 2 s
 * at the end of the run, on no other file's time. None does now: a spy on a module's export (vi.spyOn on
 * `import * as`) and, for node:fs and other built-ins, a function replaced on Node's module object and
 * published with syncBuiltinESMExports() reach modules already loaded (test/unit/pack/validate-internal.test.ts,
 * case-blind-fs.test.ts).
 */
const MOCKING_TESTS = readdirSync(join(ROOT, 'test'), { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.test.ts'))
  .map((f) => `test/${f.split('\\').join('/')}`)
  .filter((f) => readFileSync(join(ROOT, f), 'utf8').includes('vi.mock('));

/**
 * `npm test` (scripts/test.sh) runs the suite as two vitest processes side by side: PACKPUB_TEST_LANE=shared runs
 * every file but test/sequencer.ts's WAITING_FILES in the three shared workers, PACKPUB_TEST_LANE=waiting runs those
 * in one worker of its own, which mostly waits while the three use the cores. Unset (a plain `vitest run`, or
 * `npm test -- <files>`): one process, every file in the three workers.
 */
const LANE = process.env['PACKPUB_TEST_LANE'];
if (LANE !== undefined && LANE !== 'shared' && LANE !== 'waiting') throw new Error(`PACKPUB_TEST_LANE is ${LANE}: shared, waiting or unset`);

// The suite's temp folders (tests', registries' storage, CLI runs') on a tmpfs when there is one with room.
useTmpfsForTests();

// The V8 settings of the workers (execArgv below) for vitest's main process too, from here on: it too runs a
// little of much different code (the workers' requests for modules, their results, the reporters). A subset
// of 45 unit files, its own CPU (process.cpuUsage at exit), runs interleaved on the loaded machine (noisy):
// 2.98 CPU-s on average over 7 runs without, 2.32 over 3 with them set here (2.76 over 5 with them on its
// command line); minor page faults 27,500-31,300 -> 23,100-26,600. Set here, they reach only this process:
// the workers' command line is the execArgv below.
const WORKER_FLAGS: string[] = createRequire(import.meta.url)('./bin/v8-flags.cjs').workerFlags();
for (const flag of WORKER_FLAGS) setFlagsFromString(flag);

/** The suite's files, but those that mock a module (MOCKING_TESTS above). */
const PACKPUB_PROJECT = {
  name: 'packpub',
  // The benchmark harness's own tests (bench/, not shipped) run here too: a project of their own
  // started workers that imported src/ and were transformed again (~3 CPU-s).
  include: LANE === 'waiting' ? WAITING_FILES : ['test/**/*.test.ts'],
  exclude: LANE === 'shared' ? [...MOCKING_TESTS, ...WAITING_FILES] : MOCKING_TESTS,
  // Builds dist/ when src/ is newer, for the tests that run bin/packpub.js as a process.
  globalSetup: ['./test/global-setup.ts'],
};

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // vitest's main process transforms each of src/'s and test/'s ~360 TypeScript modules for the workers:
    // about half of its CPU (4-5 of 9-10 CPU-s a run). The results are kept on disk between runs
    // (node_modules/.experimental-vitest-cache), each under a hash of the file's content, this config and
    // the files it imports, and vitest's version: a changed file is transformed again, an unchanged one is
    // read back. A fresh checkout (CI) starts empty and transforms everything, as without the cache.
    // scripts/test.sh removes entries not written for a week (a file's every past version stays otherwise).
    experimental: { fsModuleCache: true },
    pool: 'forks',
    // Test files share their worker process instead of each starting a fresh one that imports vitest, src/
    // and its dependencies again (a quarter of the suite's CPU). The runner test/per-file-setup.ts, before and
    // after every file, puts back or refuses what a file could leave to the next (registered secrets, the retry
    // clock, environment, archive cache, spies, working directory, signal listeners); test/isolation.test.ts
    // proves that one file does not see another's secrets.
    isolate: false,
    runner: './test/per-file-setup.ts',
    // The workers run with the V8 settings bin/packpub.js gives the CLI (bin/v8-flags.cjs, only those the
    // running V8 has): undici's WebAssembly HTTP parser kept on the baseline compiler, and on Node 20 a function
    // optimised only after 8 times V8's default budget of bytecode. A worker runs a little of much different
    // code (test files, the product in-process) rather than a few hot loops: without them the workers' CPU is
    // ~15 % higher (same assertions; the code runs the same). Against other settings (40 test files, each
    // variant's run at the same time as the present flags', the workers' CPU by test/support/cpu-meter.ts): V8's
    // default budget +6 % and +13 % (two rounds), 2x +6 %; 16x (+3 %, -2 %), 32x, --always-sparkplug,
    // --no-flush-bytecode, --max-semi-space-size=32, --single-threaded-gc within ±3 % (the runs' noise). A
    // profile of the whole suite (perf) finds the workers running much code a few times each: mostly Sparkplug
    // code and V8's property-access builtins, little optimised code; GC ~8 %, compiling ~9 % (TurboFan threads
    // included).
    execArgv: WORKER_FLAGS,
    // Most test files wait on processes and sockets (registries, the built CLI, proxies), not on a core:
    // more files than cores run at once (vitest's default on 2 cores is one file at a time). Three: a fourth
    // fills the stretches where three files wait at once when the machine is busy with other work, but on an
    // idle one (CI) it cost more than it filled: whole runs, interleaved, 113.1 vs 105.6 s and 202.6 vs 191.0
    // CPU-s; 125.5-128.8 vs 117.2 s earlier.
    maxWorkers: 3,
    // The waiting lane (PACKPUB_TEST_LANE above): one worker.
    ...(LANE === 'waiting' ? { maxWorkers: 1 } : {}),
    // The files that are one long chain of steps start first (test/sequencer.ts).
    sequence: { sequencer: LongFirstSequencer },
    reporters: ['default', './test/support/summary-reporter.ts'],
    // With no file that mocks a module, one project: its settings at the top (PACKPUB_PROJECT). As a project of
    // `projects` it had a vite server of its own beside vitest's, and this file was bundled and evaluated again
    // for it: vitest's main process ~0.1-0.15 CPU-s more at each start (a run of one test file, 6 interleaved
    // rounds: 0.79-1.24 vs 0.73-1.04 CPU-s), in each of npm test's two processes.
    ...(MOCKING_TESTS.length === 0 || LANE === 'waiting'
      ? PACKPUB_PROJECT
      : {
          projects: [
            { extends: true, test: PACKPUB_PROJECT },
            {
              extends: true,
              test: {
                name: 'mocks',
                include: MOCKING_TESTS,
                isolate: true,
                globalSetup: ['./test/global-setup.ts'],
                // After every file of the shared workers, not among them: with at most maxWorkers processes, a
                // fresh worker for one of these files took the place of a shared one, whose files then started
                // another worker that imported vitest, src/ and its dependencies again.
                sequence: { groupOrder: 1 },
              },
            },
          ],
        }),
  },
});
