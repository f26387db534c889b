import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/*
 * The order test files start in (vitest.config.ts `sequence.sequencer`). vitest's own order runs the
 * longest files first only when it has timings of an earlier run on this machine; a fresh checkout (CI)
 * runs the largest files first, whose length says little about their time. A few files are one long chain
 * of steps that cannot overlap (npm installing the action, dozens of CLI processes in a row, kill rounds):
 * started late, the run ends waiting on one of them while the cores idle. They start first, in this order
 * (longest chain first); every other file keeps vitest's order.
 */
export const LONG_FILES = [
  'test/e2e/action.test.ts',
  'test/e2e/secrets-commands-htpasswd.test.ts',
  'test/e2e/secrets-commands-token.test.ts',
  'test/e2e/push-registry.test.ts',
  'test/e2e/kill-sigkill.test.ts',
  'test/integration/faults-push.test.ts',
  'test/e2e/delete.test.ts',
  'test/e2e/publish-race.test.ts',
  'test/e2e/kill-sigint.test.ts',
];

/*
 * Files that mostly wait (a real timeout, deadline, grace or Retry-After that is their subject, a racy-mtime margin,
 * a stand-in's held answer) and use little CPU: measured in whole-suite runs (per-file CPU by support/cpu-meter.ts;
 * the time each file's whole process tree slept, sampled), each sleeps 1-10 s and is more than half asleep.
 * Among the three shared workers, two or three of them waiting at once left cores idle: `npm test` (scripts/test.sh)
 * runs them in a fourth worker of their own beside the three, in a vitest process of their own (PACKPUB_TEST_LANE in
 * vitest.config.ts), which waits while the others use the cores. The two processes should end together: the list is
 * chosen by a model of the run (per file its CPU and sleep, four lanes sharing two cores), against the files' CPU now
 * and 10-20 % less; when the test files' CPU falls further, this worker ends last and files go back. A plain `vitest run`
 * runs them with the others. Longest first. hostile-writes and bundle (4-5 s each, about two thirds waiting) joined them
 * when this lane still ended 10-20 s before the shared one (whole runs at load ~5); two interleaved pairs of whole runs
 * (load 6-12) with them here: the shared lane ended 6-14 s sooner, this one 14-17 s later, still first.
 */
export const WAITING_FILES = [
  'test/e2e/palette-values-bounded.test.ts',
  'test/e2e/interim-answers.test.ts',
  'test/e2e/hostile-registry.test.ts',
  'test/e2e/fuzz-registry.test.ts',
  'test/e2e/creds-helpers.test.ts',
  'test/e2e/ci-examples-signals.test.ts',
  'test/e2e/palette-edges.test.ts',
  'test/e2e/hostile-writes.test.ts',
  'test/integration/palette-sync.test.ts',
  'test/e2e/bundle.test.ts',
  'test/unit/credentials/cred-helper.test.ts',
  'test/e2e/ecr-public.test.ts',
  'test/integration/registry-token.test.ts',
  'test/e2e/version-tags.test.ts',
  'test/e2e/upload-deadline.test.ts',
  'test/e2e/journey.test.ts',
  'test/e2e/push-checks-ahead-cold.test.ts',
  'test/e2e/rerun-damaged-cache.test.ts',
  'test/unit/credentials/ecr-token.test.ts',
  'test/e2e/check-images.test.ts',
  'test/e2e/palette-hostile.test.ts',
  'test/e2e/rerun-builtins.test.ts',
  'test/e2e/abandoned-copy-delete-reports.test.ts',
  'test/unit/registry/close-abandons.test.ts',
  'test/e2e/hostile-login.test.ts',
  'test/integration/registry-network.test.ts',
  'test/integration/harbor-store.test.ts',
  'test/e2e/retry-after-past-deadline.test.ts',
  'test/e2e/harbor-api-error-drip.test.ts',
  'test/e2e/cache-index-owner.test.ts',
  'test/unit/net/proxy-tunnel.test.ts',
  'test/integration/robust-pack-changes.test.ts',
  'test/integration/rerun-abort.test.ts',
  'test/integration/creds-ecr-throttle.test.ts',
  'test/unit/bench/registry-profile.test.ts',
  'test/integration/checks-ahead-push.test.ts',
  'test/unit/registry/manifest-deadline.test.ts',
];

export default class LongFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    // A renamed or removed file must leave the list too, or it would silently stop being started first.
    for (const file of [...LONG_FILES, ...WAITING_FILES]) if (!existsSync(join(root, file))) throw new Error(`test/sequencer.ts lists ${file}, which does not exist`);
    const sorted = await super.sort(files);
    const path = (spec: TestSpecification): string => relative(root, spec.moduleId).split('\\').join('/');
    // The waiting files' own worker (scripts/test.sh) takes them longest first; among the others they keep vitest's order.
    const first = sorted.every((spec) => WAITING_FILES.includes(path(spec))) ? WAITING_FILES : LONG_FILES;
    const rank = (spec: TestSpecification): number => {
      const i = first.indexOf(path(spec));
      return i === -1 ? first.length : i;
    };
    return sorted
      .map((spec, position) => ({ spec, position, rank: rank(spec) }))
      .sort((a, b) => a.rank - b.rank || a.position - b.position)
      .map(({ spec }) => spec);
  }
}
