import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createVitest } from 'vitest/node';

/*
 * Test files share worker processes (vitest.config.ts, `isolate: false`); test/per-file-setup.ts (vitest's runner)
 * puts back what one file could leave to the next. Here two files that each register a short secret for redaction
 * and set an environment variable run one after the other in a single worker: with that runner neither sees the
 * other's secret or variable; with vitest's own the second one fails, so this check can turn red. Two more files
 * leave a changed working directory and a signal listener: the runner fails each, saying what it left.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface FileOutcome {
  file: string;
  state: string;
  errors: string[];
}

async function runInOneWorker(runner: string | undefined): Promise<FileOutcome[]> {
  const vitest = await createVitest('test', {
    config: false,
    root: ROOT,
    include: ['test/fixtures/isolation/*.ts'],
    ...(runner === undefined ? {} : { runner }),
    pool: 'forks',
    isolate: false,
    maxWorkers: 1,
    watch: false,
    // a reporter that prints nothing (an empty list would mean the default one)
    reporters: [{ onInit: () => undefined }],
    // The transformed modules kept on disk between runs, as the suite's own (vitest.config.ts): each run here
    // otherwise transformed the runner's imports again (~0.5 of its ~2.3 CPU-s).
    experimental: { fsModuleCache: true },
  });
  try {
    const { testModules, unhandledErrors } = await vitest.runTestSpecifications(await vitest.globTestSpecifications());
    expect(unhandledErrors).toEqual([]);
    return testModules
      .map((m) => ({
        file: m.relativeModuleId,
        state: m.state(),
        errors: [...m.errors(), ...[...m.children.allTests()].flatMap((t) => t.result().errors ?? [])].map((e) => e.message),
      }))
      .sort((a, b) => a.file.localeCompare(b.file));
  } finally {
    await vitest.close();
  }
}

describe('test files sharing a worker', () => {
  it('start clean with the per-file runner: no secret or variable of the file before', async () => {
    expect(await runInOneWorker('test/per-file-setup.ts')).toEqual([
      { file: 'test/fixtures/isolation/leaves-cwd.ts', state: 'failed', errors: [expect.stringMatching(/^the test file changed the working directory \(to .+\) and did not restore it$/)] },
      { file: 'test/fixtures/isolation/leaves-listener.ts', state: 'failed', errors: [expect.stringMatching(/^the test file left signal listeners behind: \{"SIGINT":\d+,"SIGTERM":\d+\}, \{"SIGINT":\d+,"SIGTERM":\d+\} when it started$/)] },
      { file: 'test/fixtures/isolation/one.ts', state: 'passed', errors: [] },
      { file: 'test/fixtures/isolation/two.ts', state: 'passed', errors: [] },
    ]);
  });

  it('see the file before them without it (so the check above can fail)', async () => {
    const outcomes = await runInOneWorker(undefined);
    expect(outcomes.map((o) => o.state).sort()).toEqual(['failed', 'passed', 'passed', 'passed']);
    const failed = outcomes.find((o) => o.state === 'failed');
    expect(failed?.file).toMatch(/^test\/fixtures\/isolation\/(one|two)\.ts$/);
    // Both secrets mask the second file's text, and the first file's variable is still set.
    expect(failed?.errors).toEqual([expect.stringContaining("'status: ***, answer: ***'"), expect.stringMatching(/^expected 'set by (one|two)' to be undefined/)]);
  });
});
