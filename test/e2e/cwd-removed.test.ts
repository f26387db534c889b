import { describe, expect, it } from 'vitest';
import { BIN, cliBaseEnv } from '../support/cli.js';
import { runChild, type ChildFailure } from '../support/spawner.js';
import { stage } from '../support/stage.js';

/*
 * packpub started in a folder removed after the shell entered it (a step that deleted and made again the
 * workspace, a temp folder cleaned under the job): Node cannot read the working folder, and packpub ended
 * with Node's own stack trace (`Error: ENOENT: no such file or directory, uv_cwd`), exit 1. Now one line says
 * what is wrong and how to get out, exit 2, before anything is done.
 */

const stack = stage();

describe('a working folder removed after the shell entered it', () => {
  it.each([['push', 'packs'], ['list', '--oci-layout', '/nonexistent']])('packpub %s: exit 2, one error and its hint, no stack trace', async (...line) => {
    const root = await stack.tempDir('packpub-cwd-gone-');
    const script = 'mkdir gone && cd gone && rmdir ../gone && exec "$@"';
    const failure = await runChild('sh', ['-c', script, 'sh', process.execPath, BIN, ...line], { cwd: root, env: cliBaseEnv() }).then(
      () => undefined,
      (err: ChildFailure) => err,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stdout.toString()).toBe('');
    expect(failure?.stderr.toString()).toBe(
      'error: the working folder cannot be read (ENOENT: it was removed or moved after this shell entered it)\n' +
        'hint: cd into a folder that exists (cd "$PWD" enters a folder made again under the same name), then run packpub again\n',
    );
  });
});
