import { appendFile, cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { setup } from '../support/stage.js';

/*
 * review5 (s24): two runs that exit 0 while the target does not hold what the pack folder holds read as plain
 * successes in CI. A dry run (a pull request's check) planning a conflict: its JUnit case passed and GitHub got no
 * annotation, though the real run would fail (exit 1). --skip-existing keeping a version with other content: the job
 * summary said "succeeded" and no annotation named the version. Exit codes unchanged (0, as documented); now the
 * JUnit case of a planned conflict is skipped with what the real run would do, each gets a ::warning at its
 * pack.json, and the summary of a run that kept versions says so.
 */

describe('exit 0, but the target does not hold the folder\'s pack', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir();
    await cp('examples/hello-manifests', join(root, 'hello'), { recursive: true });
    const first = await runCli(['push', 'hello', '--oci-layout', 'layout'], { cwd: root });
    expect(first.code, first.stderr).toBe(0);
    await appendFile(join(root, 'hello', 'README.md'), '\nChanged without a new version.\n');
    return { root };
  });

  const inCi = async (name: string, extra: string[]) => {
    const summary = join(w.root, `${name}.md`);
    await writeFile(summary, '');
    const run = await runCli(['push', 'hello', '--oci-layout', 'layout', '--junit', `${name}.xml`, ...extra], {
      cwd: w.root,
      env: { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary, GITHUB_WORKSPACE: w.root },
    });
    return { run, xml: await readFile(join(w.root, `${name}.xml`), 'utf8'), md: await readFile(summary, 'utf8') };
  };

  it('--dry-run planning a conflict: exit 0, the JUnit case skipped saying the real run would fail (was: passed), a ::warning', async () => {
    const { run, xml, md } = await inCi('dry', ['--dry-run']);
    expect(run.code, run.stderr).toBe(0);
    // review34 (s35): the totals line said "1 planned" alone.
    expect(run.stdout).toMatch(/^1 pack\(s\) to oci-layout \S*layout: 1 planned \(1 would conflict: the real run would fail, exit 1\); uploaded 0 B in /m);
    expect(xml).toMatch(/<testsuite name="oci-layout [^"]*layout" tests="1" failures="0" errors="0" skipped="1"/);
    expect(xml).toContain('<skipped message="dry run: holds different content; the real run would refuse it (CONFLICT, exit 1)"/>');
    expect(xml).not.toContain('<system-out>planned conflict');
    expect(run.stderr).toMatch(/^::warning file=hello\/pack\.json,title=packpub would conflict::hello-manifests:1\.0\.0 -> \S+: dry run: holds different content; the real run would refuse it \(CONFLICT, exit 1\)%0Ahint: publish the change as a new version/m);
    expect(md.split('\n')[0]).toBe('### packpub push: dry run, nothing published; 1 would conflict (the real run would fail)');
  });

  it('--skip-existing keeping a version with other content: exit 0, the summary says kept (was: "succeeded"), a ::warning', async () => {
    const { run, xml, md } = await inCi('kept', ['--skip-existing']);
    expect(run.code, run.stderr).toBe(0);
    expect(md.split('\n')[0]).toBe('### packpub push: succeeded; 1 kept with different content (--skip-existing)');
    expect(run.stderr).toMatch(/^::warning file=hello\/pack\.json,title=packpub skipped::hello-manifests:1\.0\.0 -> \S+: holds different content; kept as is \(--skip-existing\): the target does not hold what this folder holds%0Ahint: /m);
    expect(xml).toContain('<skipped message="holds different content; kept as is (--skip-existing)"/>');
    // The layout still holds the first push's content: nothing was replaced.
    const again = await runCli(['push', 'hello', '--oci-layout', 'layout', '--dry-run', '--json'], { cwd: w.root });
    expect((JSON.parse(again.stdout) as { results: Array<{ plan?: string }> }).results[0]?.plan).toBe('conflict');
  });
});
