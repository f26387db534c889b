#!/usr/bin/env node
// File reads and deflate jobs share libuv's threadpool (4 threads by default); a few more keep small
// reads from queueing behind compression. Must be set before the pool is first used.
process.env.UV_THREADPOOL_SIZE ??= '8';
// undici parses HTTP with llhttp compiled to WebAssembly. V8 compiles it twice: at once with its baseline
// compiler (Liftoff), then again with the optimising one (TurboFan) on background threads, which cost a
// quarter of the CPU of a short run (a re-run that finds its packs unchanged) to speed up parsing the few
// small response heads a registry sends. The baseline code is all a CLI run needs. Set here, not in the
// library: the flag is process-wide, and a program embedding packpub decides its own.
const v8 = await import('node:v8');
v8.setFlagsFromString('--liftoff-only');
// V8 optimises a function with TurboFan once it has run a budget of bytecode (66 KB by default). Each
// thread of a run compiles its own hot functions again, and on a whole tree's validation that was about
// a third of all instructions (issue 16): with 8 times the budget only the really hot functions are
// optimised, and validating the bench tree costs ~12 % less CPU. A long run still optimises what is hot.
v8.setFlagsFromString('--interrupt-budget=540672');
// The program runs from its bundle (scripts/build-cli.mjs): a few files instead of one per module. Its
// source maps are read only for --debug, whose stack traces then name src/ files and lines.
if (process.argv.includes('--debug')) process.setSourceMapsEnabled(true);
const { main, runAsProcess } = await import('../dist/bundle/packpub.js');

// The run's exit code becomes the process's; a run that never finishes fails instead of exiting 0.
runAsProcess(main(process.argv.slice(2)));
