#!/usr/bin/env node
// File reads and deflate jobs share libuv's threadpool (4 threads by default); a few more keep small
// reads from queueing behind compression. Must be set before the pool is first used.
process.env.UV_THREADPOOL_SIZE ??= '8';
// undici parses HTTP with llhttp compiled to WebAssembly. V8 compiles it twice: at once with its baseline
// compiler (Liftoff), then again with the optimising one (TurboFan) on background threads, which cost a
// quarter of the CPU of a short run (a re-run that finds its packs unchanged) to speed up parsing the few
// small response heads a registry sends. The baseline code is all a CLI run needs. Set here, not in the
// library: the flag is process-wide, and a program embedding packpub decides its own.
(await import('node:v8')).setFlagsFromString('--liftoff-only');
// The program runs from its bundle (scripts/build-cli.mjs): a few files instead of one per module. Its
// source maps are read only for --debug, whose stack traces then name src/ files and lines.
if (process.argv.includes('--debug')) process.setSourceMapsEnabled(true);
const { main, runAsProcess } = await import('../dist/bundle/packpub.js');

// The run's exit code becomes the process's; a run that never finishes fails instead of exiting 0.
runAsProcess(main(process.argv.slice(2)));
