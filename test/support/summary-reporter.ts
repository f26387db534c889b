import { appendFileSync } from 'node:fs';
import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints the plain closing line CI reads: "N passed, N failed, N skipped" (a file that failed without a failed test, its
 * set-up say, counts one failed). With PACKPUB_TEST_SUMMARY set (scripts/test.sh,
 * which runs two vitest processes side by side), appends the three numbers to that file instead: the script prints
 * one line for both.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = unhandledErrors.length;
    let skipped = 0;
    for (const mod of testModules) {
      let failedHere = 0;
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failedHere++;
        else skipped++;
      }
      // A file that failed with no test of it failing (it did not load, or a beforeAll/afterAll hook threw and its
      // tests were skipped): one failure, not "0 failed" beside a run that failed.
      failed += failedHere === 0 && mod.state() === 'failed' ? 1 : failedHere;
    }
    const file = process.env['PACKPUB_TEST_SUMMARY'];
    if (file !== undefined && file !== '') appendFileSync(file, `${passed} ${failed} ${skipped}\n`);
    else process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
