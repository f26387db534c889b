import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { setup } from '../support/stage.js';

/*
 * review4 (s23): `packpub validate` as a CI gate wrote nothing but its own output: in GitHub Actions no
 * annotation on the files and no job summary, no --junit for GitLab/Jenkins, and with --json nothing human on
 * stderr. Now it reports as push does, in push's vocabulary: an annotation per finding at its file, line and
 * column (title `packpub <rule>`), a job summary, `--junit FILE` (failures typed PACK_INVALID), and with --json
 * one `INVALID <pack>: <where>: <message>` line per failed pack on stderr.
 */

describe('validate in CI', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir();
    await mkdir(join(root, 'packs'));
    await cp('examples/hello-manifests', join(root, 'packs', 'good'), { recursive: true });
    await cp('examples/hello-manifests', join(root, 'packs', 'bad'), { recursive: true });
    const packJson = join(root, 'packs', 'bad', 'pack.json');
    const doc = JSON.parse(await readFile(packJson, 'utf8')) as Record<string, unknown>;
    await writeFile(packJson, JSON.stringify({ ...doc, name: 'bad-pack', layer: 'bogus' }, null, 2));
    return { root };
  });

  const gh = (summary: string) => ({ GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary, GITHUB_WORKSPACE: w.root });

  it('a failing pack: exit 1, an ::error at its pack.json line, a job summary saying failed, a JUnit failure, stdout the JSON as before', async () => {
    const summary = join(w.root, 'failing.md');
    await writeFile(summary, '');
    const run = await runCli(['validate', 'packs/good', 'packs/bad', '--json', '--junit', 'failing.xml'], { cwd: w.root, env: gh(summary) });
    expectRun(run, { code: 1 });
    const reports = JSON.parse(run.stdout) as Array<{ passed: boolean; findings: Array<{ line?: number; column?: number }> }>;
    expect(reports.map((r) => r.passed)).toEqual([true, false]);
    const finding = reports[1]!.findings[0]!;
    expect(run.stderr).toContain(`::error file=packs/bad/pack.json,line=${finding.line},col=${finding.column},title=packpub pack-json-schema::bad-pack:1.0.0: layer: must be one of`);
    expect(run.stderr).toMatch(new RegExp(`^INVALID bad-pack:1\\.0\\.0: pack\\.json:${finding.line}:${finding.column} layer: must be one of .*\\(found "bogus"\\)$`, 'm'));
    const md = await readFile(summary, 'utf8');
    expect(md.split('\n')[0]).toBe('### packpub validate: failed');
    expect(md).toMatch(/^\| hello-manifests \| 1\.0\.0 \| passed \| 0 \| 0 \|/m);
    expect(md).toMatch(/^\| bad-pack \| 1\.0\.0 \| failed \| 1 \| 0 \| pack\.json:\d+: must be one of/m);
    expect(md).toContain('**Totals:** 2 packs checked: 1 passed, 1 failed (1 error, 0 warnings)');
    const xml = await readFile(join(w.root, 'failing.xml'), 'utf8');
    expect(xml).toContain('<testsuites name="packpub validate" tests="2" failures="1" errors="0"');
    expect(xml).toMatch(/<testcase name="bad-pack:1\.0\.0" classname="validate" time="[\d.]+">\n {6}<failure message="invalid: 1 error, 0 warnings" type="PACK_INVALID">error pack\.json:\d+:\d+ layer: must be one of/);
    expect(xml).toMatch(/<testcase name="hello-manifests:1\.0\.0" classname="validate" time="[\d.]+">\n {6}<system-out>passed: 0 errors, 0 warnings/);
  });

  it('every pack passing: exit 0, no annotation, a job summary saying passed, a JUnit report without failures', async () => {
    const summary = join(w.root, 'passing.md');
    await writeFile(summary, '');
    const run = await runCli(['validate', 'packs/good', '--junit', 'passing.xml'], { cwd: w.root, env: gh(summary) });
    expectRun(run, { code: 0, stdout: ['1 pack checked: 1 passed, 0 failed'] });
    expect(run.stderr).not.toContain('::');
    expect((await readFile(summary, 'utf8')).split('\n')[0]).toBe('### packpub validate: passed');
    expect(await readFile(join(w.root, 'passing.xml'), 'utf8')).toContain('<testsuites name="packpub validate" tests="1" failures="0" errors="0"');
  });

  it('--junit into a folder that does not exist: exit 2 before anything is checked', async () => {
    const run = await runCli(['validate', 'packs/good', '--junit', 'missing/out.xml'], { cwd: w.root });
    expectRun(run, { code: 2, stdout: '', stderr: ['error: --junit ', `${join(w.root, 'missing')} does not exist`, 'hint: create the folder first'] });
  });
});
