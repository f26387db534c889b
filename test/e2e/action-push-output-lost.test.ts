import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runChildText, type ChildFailure } from '../support/spawner.js';
import { setup } from '../support/stage.js';

/*
 * review34 (s35): scripts/action-push.cjs (the end of action.yml's push step) appends exit-code=<code> to GITHUB_OUTPUT
 * once packpub has ended. A file it could not write (a full disk) threw from the exit handler: a stack trace and exit 1
 * for a run whose packpub exited 0. Now a ::warning says so and the step's exit code is packpub's.
 */

const SCRIPT = fileURLToPath(new URL('../../scripts/action-push.cjs', import.meta.url));

const w = setup(async (stack) => ({ root: await stack.tempDir('packpub-action-output-') }));

describe('the action\'s exit-code output lost', () => {
  it('GITHUB_OUTPUT on a full disk (/dev/full), packpub exiting 0: exit 0, a ::warning, the report in place', async () => {
    const report = join(w.root, 'report.json');
    const command = [process.execPath, '-e', 'process.stdout.write(\'{"ok":true}\\n\')'];
    const env = { PATH: process.env['PATH'] ?? '', GITHUB_OUTPUT: '/dev/full', IN_REPORT: report };
    const run = await runChildText(process.execPath, [SCRIPT, join(w.root, 'report.tmp'), ...command], { cwd: w.root, env }).then(
      (r) => ({ code: 0, stderr: r.stderr }),
      (err: ChildFailure) => ({ code: err.code as number, stderr: String(err.stderr) }),
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^::warning title=packpub action::cannot set the exit-code output \(GITHUB_OUTPUT \/dev\/full\): ENOSPC[^\n]*; the step's own exit code is packpub's \(0\)\n$/);
    expect(await readFile(report, 'utf8')).toBe('{"ok":true}\n');
  });
});
