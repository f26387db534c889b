import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { setup } from '../support/stage.js';

/*
 * review4 (s23): values an unset CI variable leaves empty, in flags of init and push that had no refusal of
 * their own. `init "$DIR"` made the pack in the working directory (exit 0), `init --from-chart ""` read the
 * working directory as a chart (exit 1, "no Chart.yaml"), `--addon-type ""` took the default and `" "` was written
 * into pack.json; `push --annotation-file ""` said "cannot be read as JSON: EISDIR" with a hint on the file's
 * format. Each is now "<flag> is empty", exit 2, nothing written.
 */

describe('empty values', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir();
    await mkdir(join(root, 'empty'));
    await mkdir(join(root, 'pack'));
    await writeFile(join(root, 'pack', 'pack.json'), JSON.stringify({ name: 'ann', version: '1.0.0', displayName: 'Ann', layer: 'addon', addonType: 'system app' }));
    return { root };
  });

  it.each([
    [['init', '', '--name', 'x', '--version', '1.0.0'], 'the folder is empty'],
    [['init', 'p1', '--from-chart', ''], '--from-chart is empty'],
    [['init', 'p2', '--name', 'x', '--version', '1.0.0', '--addon-type', ''], '--addon-type is empty'],
    [['init', 'p3', '--name', 'x', '--version', '1.0.0', '--addon-type', ' '], '--addon-type is empty'],
  ])('packpub %j: exit 2, "%s", nothing written', async (argv, message) => {
    const cwd = join(w.root, 'empty');
    const run = await runCli(argv, { cwd });
    expectRun(run, { code: 2, stdout: '', stderr: [`error: ${message}`, 'hint: give a value (an unset CI variable often leaves it empty)'] });
    expect(await readdir(cwd)).toEqual([]);
  });

  it('push --annotation-file "": exit 2, "--annotation-file is empty", nothing published', async () => {
    const run = await runCli(['push', 'pack', '--oci-layout', 'layout', '--annotation-file', ''], { cwd: w.root });
    expectRun(run, { code: 2, stdout: '', stderr: ['error: --annotation-file is empty', 'hint: give a value (an unset CI variable often leaves it empty), or leave --annotation-file out'] });
    expect(run.stderr).not.toContain('EISDIR');
    expect(existsSync(join(w.root, 'layout'))).toBe(false);
  });
});
