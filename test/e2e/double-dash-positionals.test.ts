import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { setup } from '../support/stage.js';

/*
 * A command's own arguments given after `--` (`tag REF -- -rc1`, `pull -- NAME:V`): yargs does not count them, and the
 * error said `packpub tag needs <tags...>` of tags that were given. Now it says, as for any command, that nothing
 * after `--` is read (a secret-looking value there not shown).
 */

const w = setup(async (stack) => ({ root: await stack.tempDir('packpub-double-dash-') }));

describe('positionals after "--"', () => {
  it('are named as not read, exit 2 (was: "needs <tags...>")', async () => {
    const layout = join(w.root, 'layout');
    for (const [argv, command, rest] of [
      [['tag', 'hello:1.0.0', '--oci-layout', layout, '--', '-rc1'], 'tag', '"-rc1"'],
      [['pull', '--oci-layout', layout, '--', 'hello:1.0.0'], 'pull', '"hello:1.0.0"'],
      [['tag', 'hello:1.0.0', '--oci-layout', layout, '--', '--password=typed-secret', 'x'], 'tag', '--password=(not shown) "x"'],
    ] as const) {
      const run = await runCli([...argv]);
      expectRun(run, { code: 2, stdout: '', stderr: [`error: packpub ${command} does not read what follows "--": ${rest}\n`, 'hint: drop the "--"'] });
      expect(run.stderr).not.toContain('needs <');
      expect(run.stderr).not.toContain('typed-secret');
    }
    expect(existsSync(layout)).toBe(false);
    // Left out for real, the usage says what is missing, as before.
    expectRun(await runCli(['tag', 'hello:1.0.0', '--oci-layout', layout]), { code: 2, stderr: ['packpub tag needs <tags...>'] });
  });
});
