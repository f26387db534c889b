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

export default class LongFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    // A renamed or removed file must leave the list too, or it would silently stop being started first.
    for (const file of LONG_FILES) if (!existsSync(join(root, file))) throw new Error(`test/sequencer.ts lists ${file}, which does not exist`);
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification): number => {
      const i = LONG_FILES.indexOf(relative(root, spec.moduleId).split('\\').join('/'));
      return i === -1 ? LONG_FILES.length : i;
    };
    return sorted
      .map((spec, position) => ({ spec, position, rank: rank(spec) }))
      .sort((a, b) => a.rank - b.rank || a.position - b.position)
      .map(({ spec }) => spec);
  }
}
