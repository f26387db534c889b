import { readdir, symlink, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runAction } from '../support/action-runner.js';
import { BIN, TEST_CACHE_DIR } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * The action's push step with the built packpub of this checkout (the install step is the action test's): a `report`
 * (or `junit`) in a folder that does not exist yet failed the shell's redirection: packpub never ran, and the
 * exit-code output said 1, "some pack failed"; an empty `report` failed the same way. Reports into folders that do
 * not exist yet, and a re-run's upload replacing the artifact of the same name ("Re-run failed jobs": upload-artifact
 * v4+ answers 409 Conflict unless told to overwrite), are asserted by action.test.ts's runs, which push anyway.
 * The refusals here come before packpub runs.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-action-reports-');
  const workspace = join(root, 'workspace');
  await writePack(join(workspace, 'packs/hello'), { name: 'hello', version: '1.0.0' });
  const bin = join(root, 'bin');
  await mkdir(bin);
  await symlink(BIN, join(bin, 'packpub'));
  await mkdir(join(root, 'runner-temp'));
  return { root, workspace, bin };
});

function run(inputs: Record<string, string>) {
  return runAction({
    actionPath: ROOT,
    workspace: w.workspace,
    runnerTemp: join(w.root, 'runner-temp'),
    skip: ['install'],
    path: [w.bin],
    env: { PACKPUB_CACHE_DIR: TEST_CACHE_DIR },
    inputs: { packs: 'packs/hello', recursive: 'false', cache: 'false', 'report-artifact': 'packpub-report', ...inputs },
  });
}

describe('the action\'s reports', () => {
  it('an empty report input is refused (exit 2) before packpub runs', async () => {
    const r = await run({ report: '' });
    expect(r.exitCode).toBe(2);
    expect(r.outputs['exit-code']).toBe('2');
    expect(r.log).toContain('::error title=packpub action::the report input is empty: give a file path (default packpub-report.json)');
  });
  it('a report or junit input holding a line break (a YAML "|" block leaves one at its end) is refused (exit 2) before packpub runs', async () => {
    for (const inputs of [{ report: 'lined/packpub.json\n' }, { junit: 'lined/junit.xml\n' }] as Record<string, string>[]) {
      const r = await run(inputs);
      expect(r.exitCode, r.log).toBe(2);
      expect(r.outputs['exit-code']).toBe('2');
      expect(r.log).toContain(`::error title=packpub action::the ${Object.keys(inputs)[0]} input holds a line break: give one file path on one line`);
      // Was: exit 0, the report written to a file whose name ends in a line break, the report output naming another.
      expect(await readdir(w.workspace)).not.toContain('lined');
    }
  });
});
