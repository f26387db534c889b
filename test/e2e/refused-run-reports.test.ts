import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { runChildText } from '../support/spawner.js';
import { setup } from '../support/stage.js';

/*
 * review5 (s24): a push or validate refused before it started (a usage or configuration error, exit 2) wrote no
 * --junit file: GitLab's `reports: junit` then warned "no files" and Jenkins' junit step failed with "No test report
 * files were found", neither saying why; and a JUnit file a kept workspace held from an earlier run was read as this
 * run's (every pack passed). In GitHub Actions the job summary said nothing. Now the JUnit file holds one error case
 * naming the refusal (suite `refused`, type the error's code), and the job summary says "refused, nothing was
 * attempted" with the error and its hint. The exit code stays 2, stdout stays empty (docs/report.md).
 */

const XSD = fileURLToPath(new URL('../fixtures/junit-jenkins.xsd', import.meta.url));

/** An earlier run's report, all passing, left in the workspace. */
const STALE = '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="packpub push" tests="1" failures="0" errors="0"><testsuite name="old" tests="1"><testcase name="hello:1.0.0" classname="old"/></testsuite></testsuites>\n';

describe('a run refused before it started', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir();
    await mkdir(join(root, 'packs'));
    await cp('examples/hello-manifests', join(root, 'packs', 'hello'), { recursive: true });
    return { root };
  });

  const inCi = async (name: string, argv: string[]) => {
    const summary = join(w.root, `${name}.md`);
    await writeFile(summary, '');
    await writeFile(join(w.root, `${name}.xml`), STALE);
    const run = await runCli([...argv, '--junit', `${name}.xml`], { cwd: w.root, env: { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary, GITHUB_WORKSPACE: w.root } });
    return { run, xml: await readFile(join(w.root, `${name}.xml`), 'utf8'), md: await readFile(summary, 'utf8') };
  };

  it('push naming a target packpub.yaml does not have: exit 2, the JUnit report one error case naming it (was: no file, or the last run\'s)', async () => {
    const { run, xml, md } = await inCi('push-target', ['push', 'packs/hello', '--target', 'prod']);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stdout).toBe('');
    const error = /^error: (.*)$/m.exec(run.stderr)?.[1] ?? '';
    expect(error).toContain('prod');
    expect(xml).toContain('<testsuites name="packpub push" tests="1" failures="0" errors="1"');
    expect(xml).toMatch(new RegExp(`<testsuite name="refused" tests="1" failures="0" errors="1"[^>]*>\\n {4}<testcase name="run" classname="refused" time="[\\d.]+">\\n {6}<error message="refused: ${escape(error)}" type="(USAGE|CONFIG)">`));
    expect(xml).not.toContain('hello:1.0.0');
    // The JUnit file is what Jenkins' junit step reads: valid against its schema.
    await runChildText('xmllint', ['--noout', '--schema', XSD, join(w.root, 'push-target.xml')]);
    expect(md.split('\n')[0]).toBe('### packpub push: refused, nothing was attempted');
    expect(md).toContain(`- ${error.replace(/[\\`*_[\]|#~]/g, '\\$&')}`);
  });

  it('validate of a folder that does not exist: exit 2, the JUnit report one error case naming it', async () => {
    const { run, xml, md } = await inCi('validate-missing', ['validate', 'packs/hello', 'packs/gone']);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/^error: .*packs\/gone/m);
    expect(xml).toContain('<testsuites name="packpub validate" tests="1" failures="0" errors="1"');
    expect(xml).toMatch(/<error message="refused: [^"]*packs\/gone[^"]*" type="USAGE">/);
    expect(md.split('\n')[0]).toBe('### packpub validate: refused, nothing was attempted');
  });

  it.each([
    ['an unknown flag', ['push', 'packs/hello', '--forse'], /forse/],
    ['--force with --skip-existing', ['push', 'packs/hello', '--force', '--skip-existing'], /--force.*--skip-existing|--skip-existing.*--force/],
    ['validate with a switch given a value', ['validate', 'packs/hello', '--strict=maybe'], /strict/],
  ])('a command line packpub cannot read (%s): exit 2, the JUnit report one error case naming it (was: the last run\'s file kept)', async (_what, argv, named) => {
    const name = `unread-${argv.length}-${argv[2]?.replace(/\W/g, '')}`;
    const { run, xml, md } = await inCi(name, argv);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(named);
    expect(xml).toContain(`<testsuites name="packpub ${argv[0]}" tests="1" failures="0" errors="1"`);
    expect(xml).toMatch(/<testsuite name="refused" [^>]*>\n {4}<testcase name="run" classname="refused" time="[\d.]+">\n {6}<error message="refused: [^"]+" type="USAGE">/);
    expect(xml).not.toContain('hello:1.0.0');
    expect(md.split('\n')[0]).toBe(`### packpub ${argv[0]}: refused, nothing was attempted`);
  });

  it('--junit without a value, the next word a flag: exit 2, no file named after the flag', async () => {
    const run = await runCli(['push', 'packs/hello', '--junit', '--dry-run'], { cwd: w.root });
    expect(run.code).toBe(2);
    await expect(readFile(join(w.root, '--dry-run'))).rejects.toThrow(/ENOENT/);
  });

  it('a --junit folder that does not exist: exit 2, and no file is made', async () => {
    const run = await runCli(['push', 'packs/hello', '--junit', 'missing/junit.xml'], { cwd: w.root });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--junit \S*missing\/junit\.xml: folder \S* does not exist/);
    await expect(readFile(join(w.root, 'missing/junit.xml'))).rejects.toThrow(/ENOENT/);
    // A folder: refused up front (was: published, then exit 1 when the report could not be written over it).
    await mkdir(join(w.root, 'reports'));
    const folder = await runCli(['push', 'packs/hello', '--oci-layout', 'layout', '--junit', 'reports'], { cwd: w.root });
    expect(folder.code).toBe(2);
    expect(folder.stderr).toMatch(/^error: --junit \S*reports is a folder$/m);
    await expect(readFile(join(w.root, 'layout/index.json'))).rejects.toThrow(/ENOENT/);
  });
});

/** `s` in a regular expression, as XML attribute text. */
function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
