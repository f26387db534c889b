import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';

/*
 * review4 (s23): `packpub delete` in GitHub Actions (a clean-up job) made no annotation of a version it could not
 * delete: the job's annotations said only "Process completed with exit code 1". Now each version that fails the run
 * (missing without --ignore-missing, refused, failed) is an ::error titled `packpub delete`, with its hint.
 */

describe('delete in GitHub Actions', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir();
    const pack = await writePack(join(root, 'pack'), { name: 'delann', version: '1.0.0' });
    return { root, pack };
  });

  it('a version that does not exist: exit 1, an ::error naming it; with --ignore-missing: exit 0, none', async () => {
    const layout = join(w.root, 'layout');
    expectRun(await runCli(['push', w.pack, '--oci-layout', layout]), { code: 0 });
    const run = await runCli(['delete', 'delann:9.9.9', '--oci-layout', layout, '--force', '--json'], { env: { GITHUB_ACTIONS: 'true' } });
    expectRun(run, { code: 1 });
    const errors = run.stderr.split('\n').filter((l) => l.startsWith('::error'));
    expect(errors).toEqual([expect.stringMatching(/^::error title=packpub delete::missing delann:9\.9\.9.*: .*does not exist/)]);
    const ignored = await runCli(['delete', 'delann:9.9.9', '--oci-layout', layout, '--force', '--ignore-missing'], { env: { GITHUB_ACTIONS: 'true' } });
    expectRun(ignored, { code: 0 });
    expect(ignored.stderr).not.toContain('::');
    expect([...(await layoutHoldings(layout)).tags.keys()]).toEqual(['spectro-packs/archive/delann:1.0.0']);
  });
});
