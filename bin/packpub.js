#!/usr/bin/env node
// File reads and deflate jobs share libuv's threadpool (4 threads by default); a few more keep small
// reads from queueing behind compression. Must be set before the pool is first used.
process.env.UV_THREADPOOL_SIZE ??= '8';
const { main } = await import('../dist/cli/main.js');

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
