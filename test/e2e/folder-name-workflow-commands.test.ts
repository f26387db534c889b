import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * A folder name is the repository's text (a pull request from a fork names its folders; `packpub validate packs/*`
 * prints each match): one holding a line break and "::error ...::" printed, in validate's verdict line, init's and
 * pull's folder lines, a line the GitHub runner took as a workflow command (an annotation of the attacker's text,
 * or ::stop-commands:: silencing packpub's own). Now those lines show it as printable() does (the first ":" as U+003A), as
 * push and build already did.
 */

const NAME = 'x\n::error title=pwned::injected';

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-folder-name-');
  await writePack(join(root, NAME, 'pack'), { name: 'vf', version: '1.0.0' });
  return { root };
});

/** No line of the run's output is a workflow command; exit 0. */
function expectNoCommands(run: CliRun): void {
  expect(run.code, run.stderr).toBe(0);
  expect(`${run.stdout}\n${run.stderr}`.split('\n').filter((l) => /^\s*::/.test(l))).toEqual([]);
}

describe('a folder name never becomes a workflow command', () => {
  it('validate, init and pull: the line after the break starts U+003A; what they do is unchanged', async () => {
    const env = { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: w.root };
    const validate = await runCli(['validate', join(NAME, 'pack')], { cwd: w.root, env });
    expectNoCommands(validate);
    expect(validate.stdout).toContain('x\nU+003A:error title=pwned::injected/pack: vf:1.0.0 OK\n');

    const init = await runCli(['init', join(NAME, 'new'), '--name', 'fresh', '--version', '1.0.0', '--layer', 'os'], { cwd: w.root, env });
    expectNoCommands(init);
    expect(init.stdout).toContain('created pack fresh:1.0.0 in x\nU+003A:error title=pwned::injected/new\n');
    expect(JSON.parse(await readFile(join(w.root, NAME, 'new', 'pack.json'), 'utf8'))).toMatchObject({ name: 'fresh', version: '1.0.0' });

    const layout = join(w.root, 'layout');
    const push = await runCli(['push', join(NAME, 'pack'), '--oci-layout', layout], { cwd: w.root, env });
    expectNoCommands(push);
    const pulled = join(w.root, NAME, 'pulled');
    const pull = await runCli(['pull', `oci:${layout}/spectro-packs/archive/vf:1.0.0`, '-o', pulled], { cwd: w.root, env });
    expectNoCommands(pull);
    expect(pull.stdout).toContain(`into ${w.root}/x\nU+003A:error title=pwned::injected/pulled: `);
    expect(JSON.parse(await readFile(join(pulled, 'pack.json'), 'utf8'))).toMatchObject({ name: 'vf', version: '1.0.0' });
  });
});
