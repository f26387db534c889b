import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { setup } from '../support/stage.js';

/*
 * review34 (s35): a push --shard I/N whose shard holds no pack (a matrix with more jobs than packs) exits 0, as
 * documented, but its --junit report held no test case, and Jenkins' junit step fails the build on such a report
 * ("None of the test reports contained any result"; GitLab shows an empty report): a job that did as asked went red.
 * Now the suite holds one passing case, `nothing to push`, saying so.
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir();
  await cp('examples/hello-manifests', join(root, 'packs/hello'), { recursive: true });
  return { root };
});

describe('an empty shard\'s JUnit report', () => {
  it('--shard 2/2 of one pack: exit 0, "nothing to push in shard 2/2", one passing case, nothing published', async () => {
    const run = await runCli(['push', 'packs', '--recursive', '--shard', '2/2', '--oci-layout', 'layout', '--junit', 'junit.xml'], { cwd: w.root });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('nothing to push in shard 2/2');
    const xml = await readFile(join(w.root, 'junit.xml'), 'utf8');
    expect(xml).toMatch(/<testsuites name="packpub push" tests="1" failures="0" errors="0" /);
    expect(xml).toMatch(/<testsuite name="oci-layout [^"]*layout" tests="1" failures="0" errors="0" skipped="0" /);
    expect(xml.match(/<testcase /g)).toHaveLength(1);
    expect(xml).toMatch(/<testcase name="nothing to push" classname="oci-layout [^"]*layout" time="0.000">\n {6}<system-out>no pack to push in this run \(a --shard I\/N that holds none\): nothing was published, as asked<\/system-out>\n {4}<\/testcase>/);
    const list = await runCli(['list', '--oci-layout', 'layout', '--json'], { cwd: w.root });
    expect(JSON.parse(list.stdout)).toMatchObject({ packs: [] });
  });
});
