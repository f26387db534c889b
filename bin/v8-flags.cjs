'use strict';
/**
 * The V8 flags a CLI run sets (bin/packpub.js setV8Flags), for the V8 of the Node that runs it, and the
 * values that set them back (bin/code-cache.cjs saves code under V8's defaults).
 *
 * Each flag but --liftoff-only and --no-concurrent-recompilation (startFlags) was measured on Node 20's V8 (11.3), and exists under that name only there
 * among the releases packpub supports: Node 21's V8 (11.8) has neither --interrupt-budget nor
 * --semi-space-growth-factor, Node 22's and 24's (12.4, 13.6) count invocations instead of a bytecode budget
 * (no --interrupt-budget). V8 does not refuse a flag it does not know: it prints "Error: unrecognized flag"
 * on standard error and ignores the rest of that string, so on Node 22 every command printed three such
 * lines (CI logs, annotations read "Error:"). A flag is set only on the V8 it was measured on; elsewhere
 * V8's defaults, except --liftoff-only (every V8 of Node 20 to 24 has it, with --wasm-tier-up and
 * --wasm-dynamic-tiering to set back) and validate's --no-concurrent-recompilation (every V8 of Node 20 to 26 has
 * it, and it was measured on each).
 * vitest.config.ts gives the test workers the same flags (workerFlags).
 */

/** Whether `v8` (process.versions.v8) is the V8 the tuning flags were measured on: Node 20's, 11.3. */
function measuredOn(v8) {
  return v8.startsWith('11.3.');
}

/**
 * The flags for a run (`validating`: `packpub validate`) and the one string that sets V8's defaults back.
 *
 * - --liftoff-only: undici parses HTTP with llhttp compiled to WebAssembly. V8 compiles it twice: at once with
 *   its baseline compiler (Liftoff), then again with the optimising one (TurboFan) on background threads,
 *   which cost a quarter of the CPU of a short run (a re-run that finds its packs unchanged) to speed up
 *   parsing the few small response heads a registry sends. The baseline code is all a CLI run needs. (Set
 *   only as undici compiles it, the flag mostly came too late: TurboFan still ran.)
 * - --interrupt-budget: V8 optimises a function with TurboFan once it has run a budget of bytecode (66 KB by
 *   default). Each thread of a run compiles its own hot functions again, and on a whole tree's validation
 *   that was about a third of all instructions (issue 16): with 8 times the budget only the really hot
 *   functions are optimised, and validating the bench tree costs ~12 % less CPU. A long run still optimises
 *   what is hot. `validate` takes 8 times the budget, every other command (a push) 4 times. Counted by
 *   callgrind (instructions of all threads, each setting with its code cache warm; 2026-12-07): `validate`
 *   of 44 bench packs is cheapest at 8x (2x 3.94 G, 4x 3.81 G, 8x 3.74 G, 16x 4.16 G, 32x 4.29 G); an
 *   unchanged re-run of the bench tree against a registry at 4x (815 / 813 M) against 8x (840 / 842 M), 2x
 *   (838 M) and 16x (827 / 825 M); a first publish of 22 bench packs into an OCI layout the same within its
 *   spread (4x 4.05 / 4.33 / 4.03 G, 8x 4.41 / 4.14 / 4.05 G).
 * - --semi-space-growth-factor=1: V8 doubles a thread's young generation whenever many objects survive a
 *   collection: the main thread's new space grew from 1 MiB to 32 MiB (v8.getHeapSpaceStatistics) while it
 *   validated its share of the bench tree, where a validation worker's is capped (validate-work.ts
 *   WORKER_YOUNG_GENERATION_MB). Each page it grew by is a page fault (dear on a kernel that isolates page
 *   tables), and objects that die young no longer die in the core's cache. With a growth factor of 1 (read by
 *   V8 at each growth, so it holds from now on, on every thread) it grows no more (4 MiB at the end of that
 *   run): `packpub validate` of the bench tree (220 packs) 1.50 -> 1.40 s, 2.67 -> 2.49 CPU-s, 47,400 ->
 *   39,600 page faults, peak RSS 195 -> 173 MB (8 interleaved runs each at real-time priority on the loaded
 *   2-core machine); a first publish (into an OCI layout) and an unchanged re-run the same within noise.
 * - --no-use-osr, validate only: a function V8 finds hot while it is still looping is compiled with TurboFan
 *   to enter the optimised code mid-loop (on-stack replacement), then compiled again for its next call. In
 *   `packpub validate` of the bench tree that happened to 2-4 functions per run (--trace-opt), among them two
 *   of the largest (the template reference scan, a YAML reader: the costliest compilations of the run).
 *   Without it such a function is optimised for its next call only: validating 44 packs of the bench tree
 *   took 3.5 % fewer instructions (callgrind, two rounds: 3,254 -> 3,129 M and 3,247 -> 3,142 M), the output
 *   the same. Only for validate: a push builds archives in a few long calls per pack, and was measured no
 *   better (issue 16).
 */
function runFlags(validating, v8 = process.versions.v8) {
  const flags = ['--liftoff-only'];
  let undo = '--no-liftoff-only --wasm-tier-up --wasm-dynamic-tiering';
  if (measuredOn(v8)) {
    flags.push(`--interrupt-budget=${validating ? 540672 : 270336}`, '--semi-space-growth-factor=1');
    undo += ' --interrupt-budget=67584 --semi-space-growth-factor=2';
    if (validating) {
      flags.push('--no-use-osr');
      undo += ' --use-osr';
    }
  }
  return { flags, undo: [undo] };
}

/**
 * The flags set before a run starts its first worker thread (bin/packpub.js): V8 reads them as it makes each
 * worker's isolate, not the main thread's, which it made before. None changes which compiled code V8 accepts from a
 * code cache (a worker started after them loads Node's built-ins as fast), so none is set back.
 *
 * - --no-concurrent-recompilation, validate only: a validation worker's V8 compiles a hot function with TurboFan on
 *   the worker's own thread, not on one of V8's background threads. While the main thread and every worker
 *   validate, each core is busy with one of them, and a background compile waited for a core (the hot function
 *   running unoptimised meanwhile) as long as the machine was busy. `packpub validate` of 44 bench packs: 4.37 / 4.25 G
 *   instructions -> 4.00 G (callgrind, all threads); of the bench tree (220 packs), 5 interleaved rounds at real-time
 *   priority on the loaded 2-core machine: 2.43-3.15 s (median 2.52) -> 1.57-2.15 s (1.93), 4.5-5.8 -> 2.9-4.0 CPU-s.
 *   Set at run time, it does not reach the main thread's isolate (made before): with `node
 *   --no-concurrent-recompilation` the tree took 1.49-1.72 s (issue 16). Every V8 of the Node releases packpub runs on
 *   has the flag (Node 20 to 26), and on each it pays the same (RT rounds, bench tree, without -> with: Node 22
 *   1.69-3.01 -> 1.69-2.15 s, 24 1.59-2.73 -> 1.37-1.67 s, 26 1.63-2.15 -> 1.49-1.92 s).
 */
function startFlags(validating) {
  return validating ? ['--no-concurrent-recompilation'] : [];
}

/**
 * The flags of vitest's workers (vitest.config.ts execArgv): a worker runs a little of much different code
 * (test files, the product in-process) rather than a few hot loops; the budget cut its CPU ~15 %.
 */
function workerFlags(v8 = process.versions.v8) {
  return measuredOn(v8) ? ['--liftoff-only', '--interrupt-budget=540672'] : ['--liftoff-only'];
}

module.exports = { runFlags, startFlags, workerFlags };
