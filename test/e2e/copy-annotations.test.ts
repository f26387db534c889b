import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';
import { conflictingPacks } from '../support/published.js';

/*
 * review4 (s23): `packpub copy` in GitHub Actions (a promotion job) made no annotation of a version it could not
 * copy: the job's annotations said only "Process completed with exit code 1", the reason being in the log alone.
 * Now each failed or conflicting version is an ::error (title `packpub <status>`, as push's), with its hint.
 */

describe('copy in GitHub Actions', () => {
  const w = setup((stack) => conflictingPacks(stack, 'cpann', { name: 'cpann', version: '2.0.0' }));

  it('a conflicting version: exit 1, an ::error naming it and its hint; the other version copied', async () => {
    const from = join(w.root, 'from');
    const to = join(w.root, 'to');
    expectRun(await runCli(['push', w.one, w.other, '--oci-layout', from]), { code: 0 });
    expectRun(await runCli(['push', w.two, '--oci-layout', to]), { code: 0 });
    const run = await runCli(['copy', 'cpann', '--all', '--from', `oci:${from}`, '--to', `oci:${to}`, '--json'], { env: { GITHUB_ACTIONS: 'true' } });
    expectRun(run, { code: 1 });
    const errors = run.stderr.split('\n').filter((l) => l.startsWith('::error'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^::error title=packpub conflict::conflict cpann:1\.0\.0( -> \S+)?: .*different.*%0Ahint: /);
    const tags = (await layoutHoldings(to)).tags;
    expect([...tags.keys()].sort()).toEqual(['spectro-packs/archive/cpann:1.0.0', 'spectro-packs/archive/cpann:2.0.0']);

    // review5 (s24): exit 0, yet the destination does not hold the source's version: a ::warning each (was: none).
    for (const [flag, title, said] of [
      ['--skip-existing', 'skipped', "holds different content; kept as is (--skip-existing): the destination does not hold the source's version"],
      ['--dry-run', 'would conflict', 'dry run: holds different content; the real run would refuse it (CONFLICT, exit 1)'],
    ] as const) {
      const kept = await runCli(['copy', 'cpann:1.0.0', '--from', `oci:${from}`, '--to', `oci:${to}`, flag], { env: { GITHUB_ACTIONS: 'true' } });
      expectRun(kept, { code: 0 });
      expect(kept.stderr.split('\n').filter((l) => l.startsWith('::'))).toEqual([`::warning title=packpub ${title}::cpann:1.0.0 -> ${`oci:${to}/spectro-packs/archive/cpann:1.0.0`}: ${said}`]);
    }
  });
});
