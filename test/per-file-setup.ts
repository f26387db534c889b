import { TestRunner, type RunnerTestFile, type RunnerTestSuite } from 'vitest';
import { startFile } from './support/per-file.js';

/*
 * vitest's test runner (vitest.config.ts `runner`), with what every test file needs before and after it. Test files
 * share worker processes (`isolate: false` in vitest.config.ts: each file re-importing vitest, src/ and the AWS SDK
 * cost a quarter of the suite's CPU), so each file must start from what a fresh process holds. Before a file is
 * imported, and after it has run, this puts back or refuses what a file could leave behind (support/per-file.ts
 * startFile):
 * - the secrets registered for redaction (src/util/redact.ts): forgotten, so a secret of one file never
 *   masks another file's output (which could let a secrets test pass for the wrong reason);
 * - the retry clock tests install (src/registry/retry.ts useRetryClock): back to the system clock;
 * - how pack files are read (src/pack/files.ts useBlockingReads, which push and validate switch on): with promises
 *   again, so a file testing that path (test/unit/pack/pack.test.ts files-blocking) meets it;
 * - process.env: what the file changed is put back as it was when the file started;
 * - the CLI runs' archive cache (TEST_CACHE_DIR of support/cli.ts): emptied, so no file finds archives
 *   another file's runs remembered;
 * - the test certificates handed out (support/tls.ts): the file's first set is the worker's first again;
 * - spies (vi.spyOn) restored; real timers;
 * - the working directory and SIGINT/SIGTERM listeners must be as the file found them: the file fails
 *   otherwise (a file that needs to change them must restore them itself).
 * test/isolation.test.ts proves a file cannot see another file's secrets.
 *
 * Hooks of the runner, which a worker loads once, rather than a setup file (`setupFiles`), which vitest fetches from
 * its main process, evaluates and resolves again before every file: 150 one-test files, 4 interleaved rounds in a
 * cgroup, 3.70 -> 3.34 CPU-s (~2.4 ms a file).
 */
export default class PerFileRunner extends TestRunner {
  /** What to do once the file has run (startFile's answer): an error for what the file must restore itself. */
  private ending: ((file: string) => Error | undefined) | undefined;

  override onCollectStart(file: RunnerTestFile): void {
    super.onCollectStart(file);
    this.ending = startFile();
  }

  override async onAfterRunSuite(suite: RunnerTestSuite): Promise<void> {
    const ending = this.ending;
    if (ending !== undefined && suite.file === suite) {
      this.ending = undefined;
      const error = ending(suite.file.filepath);
      if (error !== undefined && suite.result !== undefined) {
        suite.result.state = 'fail';
        (suite.result.errors ??= []).push({ name: error.name, message: error.message, stack: error.stack });
      }
    }
    await super.onAfterRunSuite(suite);
  }

  override onAfterRunFiles(files?: RunnerTestFile[]): void {
    // A file whose import failed ends without running its suite: what it changed is put back all the same.
    this.ending?.(files?.[0]?.filepath ?? 'unknown');
    this.ending = undefined;
    super.onAfterRunFiles();
  }
}
