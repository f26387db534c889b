import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { setup } from '../support/stage.js';

/*
 * review s21 L10: a pack name with capitals and another character a name cannot hold was told to "use lowercase:
 * "bad name"", a name refused just the same. The lowercase hint is now given only when lowercase is the fix.
 */

describe('the hint for a pack name that is not a valid repository name', () => {
  const w = setup(async (stack) => ({ root: await stack.tempDir() }));

  it('suggests lowercase only when that gives a valid name', async () => {
    const spaced = await runCli(['init', join(w.root, 'a'), '--name', 'Bad Name', '--version', '1.0.0']);
    expectRun(spaced, { code: 2, stderr: ['pack name "Bad Name" has an invalid path component "Bad Name"', 'path components use lowercase letters and digits'] });
    expect(spaced.stderr).not.toContain('use lowercase: "bad name"');
    expectRun(await runCli(['init', join(w.root, 'b'), '--name', 'Hello', '--version', '1.0.0']), { code: 2, stderr: ['hint: use lowercase: "hello"'] });
  });
});
