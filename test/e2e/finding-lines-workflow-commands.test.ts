import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * A validation finding quotes the pack's own text: a chart path in pack.json holding a line break and
 * "::error::..." printed a line of its own in push's output, which the GitHub runner took as an annotation
 * (and "##[...]" anywhere in a line as a command of its older syntax). A pull request from a fork controls
 * that text. Now push's finding lines show it as printable() does (U+003A, U+0023); the annotations packpub
 * makes of the findings stay whole, escaped as workflow commands are.
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-finding-lines-');
  const dir = await writePack(join(root, 'packs/vf'), { name: 'vf', version: '1.0.0' });
  const json = { name: 'vf', version: '1.0.0', displayName: 'VF', layer: 'addon', addonType: 'system app', charts: ['charts/a\n::error file=evil.txt::INJECTED\n##[add-mask]packpub.tgz'] };
  await writeFile(join(dir, 'pack.json'), JSON.stringify(json, null, 2));
  return { root };
});

/** Exit 1, and every workflow command in the output is one of packpub's annotations of the pack's pack.json. */
function expectOnlyOwnAnnotations(run: CliRun): void {
  expect(run.code).toBe(1);
  const lines = `${run.stdout}\n${run.stderr}`.split('\n');
  const commands = lines.filter((l) => /^\s*::/.test(l));
  expect(commands.length).toBeGreaterThan(0);
  for (const c of commands) expect(c).toMatch(/^::(error|warning|notice) file=packs\/vf\/pack\.json,line=\d+,col=\d+,title=packpub [a-z-]+::vf:1\.0\.0: /);
  expect(lines.filter((l) => !l.startsWith('::') && l.includes('##['))).toEqual([]);
}

describe('finding lines never become workflow commands', () => {
  it('push in GitHub Actions: the only commands are packpub\'s own annotations', async () => {
    const run = await runCli(['push', 'packs/vf', '--oci-layout', join(w.root, 'layout')], { cwd: w.root, env: { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: w.root } });
    expectOnlyOwnAnnotations(run);
    expect(run.stdout + run.stderr).toContain('chart archive "charts/a\nU+003A:error file=evil.txt::INJECTED\nU+0023#[add-mask]packpub.tgz" does not exist in the pack');
  });
});

describe('validate\'s finding lines never become workflow commands', () => {
  it('validate in GitHub Actions prints the chart path spelled out; the only commands are packpub\'s own annotations', async () => {
    const run = await runCli(['validate', 'packs/vf'], { cwd: w.root, env: { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: w.root } });
    expectOnlyOwnAnnotations(run);
    expect(run.stdout).toContain('chart archive "charts/a\nU+003A:error file=evil.txt::INJECTED\nU+0023#[add-mask]packpub.tgz" does not exist in the pack');
  });
});
