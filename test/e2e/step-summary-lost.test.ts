import { cp, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { setup } from '../support/stage.js';

/*
 * review34 (s35): a job summary GitHub's runner could not take (a full disk; GITHUB_STEP_SUMMARY in a folder that is
 * gone) was a plain "warning: cannot append ..." line deep in the log: the run's page showed a green step, no summary
 * and nothing saying why. It is a ::warning annotation now; the exit code stays the run's own (the packs were
 * published as asked).
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir();
  await cp('examples/hello-manifests', join(root, 'hello'), { recursive: true });
  return { root };
});

const LOST = /^::warning title=packpub job summary::cannot append the job summary to GITHUB_STEP_SUMMARY \(([^)]*)\): ([A-Z]+)\b.*the job summary is missing or cut short/m;

describe('a job summary the runner cannot take is an annotation', () => {
  it('push, GITHUB_STEP_SUMMARY on a full disk (/dev/full): exit 0, a ::warning saying ENOSPC, the pack published', async () => {
    const env = { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: '/dev/full', GITHUB_WORKSPACE: w.root };
    const run = await runCli(['push', 'hello', '--oci-layout', 'layout'], { cwd: w.root, env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr.match(LOST)?.slice(1)).toEqual(['/dev/full', 'ENOSPC']);
    expect(run.stderr).not.toMatch(/^warning: cannot append/m);
    const list = await runCli(['list', '--oci-layout', 'layout', '--json'], { cwd: w.root });
    expect(JSON.parse(list.stdout)).toMatchObject({ packs: [{ name: 'hello-manifests' }] });
  });

  it('validate, GITHUB_STEP_SUMMARY in a folder that does not exist: exit 0, a ::warning saying ENOENT, no file made', async () => {
    const summary = join(w.root, 'gone', 'summary.md');
    const env = { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary, GITHUB_WORKSPACE: w.root };
    const run = await runCli(['validate', 'hello'], { cwd: w.root, env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr.match(LOST)?.slice(1)).toEqual([summary, 'ENOENT']);
    await expect(stat(summary)).rejects.toThrow(/ENOENT/);
  });

  // Printed after the run's own annotations, it was the 11th warning of a run with 10, which GitHub does not show.
  it('validate of 12 packs with a warning each: exit 0, the lost summary among the 10 warnings GitHub shows', async () => {
    const dirs: string[] = [];
    for (let i = 0; i < 12; i++) {
      const dir = join(w.root, `v${i}`);
      await cp(join(w.root, 'hello'), dir, { recursive: true });
      const json = JSON.parse(await readFile(join(dir, 'pack.json'), 'utf8')) as Record<string, unknown>;
      await writeFile(join(dir, 'pack.json'), JSON.stringify({ ...json, name: `v${i}`, version: 'v1.0.0' }, null, 2));
      dirs.push(dir);
    }
    const env = { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: '/dev/full', GITHUB_WORKSPACE: w.root };
    const run = await runCli(['validate', ...dirs], { cwd: w.root, env });
    expect(run.code, run.stderr).toBe(0);
    const warnings = run.stderr.split('\n').filter((l) => l.startsWith('::warning '));
    expect(warnings).toHaveLength(10);
    expect(warnings.filter((l) => LOST.test(l))).toHaveLength(1);
    expect(warnings.at(-1)).toMatch(/^::warning title=packpub validate::4 more warnings are not annotated/);
  });
});
