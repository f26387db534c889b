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

/** `shell` (its file, then its arguments) run in `cwd`, running packpub in a working folder it spoils: exit 2, nothing on stdout, `stderr` exactly. */
async function expectRefused(shell: [string, ...string[]], cwd: string, stderr: string): Promise<void> {
  const [file, ...args] = shell;
  const failure = await runChild(file, args, { cwd, env: cliBaseEnv() }).then(
    () => undefined,
    (err: ChildFailure) => err,
  );
  expect(failure?.code).toBe(2);
  expect(failure?.stdout.toString()).toBe('');
  expect(failure?.stderr.toString()).toBe(stderr);
}

describe('a working folder removed after the shell entered it', () => {
  it.each([['push', 'packs'], ['list', '--oci-layout', '/nonexistent']])('packpub %s: exit 2, one error and its hint, no stack trace', async (...line) => {
    const root = await stack.tempDir('packpub-cwd-gone-');
    const script = 'mkdir gone && cd gone && rmdir ../gone && exec "$@"';
    await expectRefused(
      ['sh', '-c', script, 'sh', process.execPath, BIN, ...line],
      root,
      'error: the working folder cannot be read (ENOENT: it was removed or moved after this shell entered it)\n' +
        'hint: cd into a folder that exists (cd "$PWD" enters a folder made again under the same name), then run packpub again\n',
    );
  });

  it('one whose path is longer than the system allows (reached one cd at a time): exit 2, said as such (was: "removed or moved")', async () => {
    const root = await stack.tempDir('packpub-cwd-long-');
    // 21 levels of 200 bytes: past Linux's PATH_MAX (4096), where getcwd() answers ERANGE. The script removes them
    // (rm walks a tree that deep; the temp folder's removal by path could not).
    const script = 'top=$PWD; for i in $(seq 21); do mkdir "$1" && cd "$1" || exit 9; done; d=$1; shift; "$@"; code=$?; cd "$top" && rm -rf "$d"; exit $code';
    await expectRefused(
      ['bash', '--noprofile', '--norc', '-c', script, 'bash', 'd'.repeat(200), process.execPath, BIN, 'validate', 'pack'],
      root,
      'error: the working folder cannot be read (ERANGE: its path is longer than the system allows, 4096 bytes on Linux)\n' +
        'hint: cd into a folder with a shorter path (nearer the top of the tree), then run packpub again with the pack folders named from there\n',
    );
  });
});
