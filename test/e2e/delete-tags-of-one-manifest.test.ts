import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { helloPackAndEnv } from '../support/published.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { expectReportValid } from '../support/report-schema.js';
import { setup } from '../support/stage.js';

/*
 * `delete` of several tags of one manifest in one call, in an OCI layout (which removes tags, not manifests): the
 * lines said the manifest "stays under" tags the same call removes. The dry run said `stable` would stay under
 * `1.0.x` while `1.0.x` was named to go too; the real run said so of `stable` after it had removed `1.0.x` (and
 * `--json` gave that tag in `otherTags` of an `untagged` version, "the tags it stays under"). Now: the tags kept.
 */

const REPO = 'spectro-packs/archive/hello';

const w = setup(async (stack) => {
  const hello = await helloPackAndEnv(stack);
  const layout = join(hello.root, 'layout');
  expectRun(await runCli(['push', hello.pack, '--oci-layout', layout], { env: hello.env }), { code: 0 });
  expectRun(await runCli(['tag', 'hello:1.0.0', '1.0.x', 'stable', '--oci-layout', layout], { env: hello.env }), { code: 0 });
  return { ...hello, layout };
});

describe('delete of two tags of one manifest, a third kept', () => {
  it('the dry run and the run name only the tag the manifest stays under', async () => {
    const del = (...extra: string[]) => runCli(['delete', 'hello:1.0.x', 'hello:stable', '--oci-layout', w.layout, ...extra], { env: w.env });
    const dry = await del('--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    const lines = dry.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const [i, tag] of ['1.0.x', 'stable'].entries()) {
      expect(lines[i]).toMatch(new RegExp(`^would delete hello:${tag}: .*: the tag only; the manifest stays under 1\\.0\\.0$`));
    }
    expect([...(await layoutHoldings(w.layout)).tags.keys()].sort()).toEqual([`${REPO}:1.0.0`, `${REPO}:1.0.x`, `${REPO}:stable`]);

    const run = await del('--force', '--json');
    expect(run.code, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout) as { results: Array<{ version: string; status: string; otherTags: string[] }> };
    expectReportValid(doc);
    // 1.0.x went first, while stable still held the manifest; stable then stayed under 1.0.0 alone (was: 1.0.0, 1.0.x).
    expect(doc.results.map((r) => [r.version, r.status, r.otherTags])).toEqual([
      ['1.0.x', 'untagged', ['1.0.0', 'stable']],
      ['stable', 'untagged', ['1.0.0']],
    ]);
    const held = await layoutHoldings(w.layout);
    expect(held.problems).toEqual([]);
    expect([...held.tags.keys()]).toEqual([`${REPO}:1.0.0`]);
  });
});
