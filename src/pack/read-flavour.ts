/*
 * How this thread reads pack files (pack/files.ts): with promises, or with blocking calls once a thread or command
 * asks for them. A module of its own, with nothing else in it: push asks for blocking reads as it starts, and its
 * unchanged re-run, which reads no pack file, must not load pack/files.ts for that (test/e2e/bundle.test.ts).
 */

let blocking = false;

/**
 * Read pack files with blocking calls from now on, in this thread: for a thread that only validates (a
 * validation worker, the validate command) or validates and builds small packs (push). A pack's files are small and
 * mostly cached, and each non-blocking call costs a round trip through libuv's thread pool, several times the read
 * itself (issue 16). `on` false: non-blocking again, as a fresh thread reads (the test runner, between test files
 * sharing a process: test/support/per-file.ts).
 */
export function useBlockingReads(on = true): void {
  blocking = on;
}

/** Whether this thread reads pack files with blocking calls (useBlockingReads). */
export function blockingReads(): boolean {
  return blocking;
}
