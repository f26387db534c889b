import { describe, expect, it } from 'vitest';
import { BIN, cliBaseEnv } from '../support/cli.js';
import { runChild, type ChildFailure } from '../support/spawner.js';

/*
 * `packpub --version` (an install check in a CI script) with its standard output on a full disk (`> /dev/full`)
 * exited 0 with nothing written: its fast path (bin/packpub.js) took every write error for a reader that closed
 * the pipe. Now a write error other than a closed pipe is said, exit 1, as main() says a lost output.
 */

async function version(redirect: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return runChild('sh', ['-c', `exec "$0" "$1" --version ${redirect}`, process.execPath, BIN], { env: cliBaseEnv() }).then(
    (r) => ({ code: 0, stdout: r.stdout.toString(), stderr: r.stderr.toString() }),
    (err: ChildFailure) => ({ code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout.toString(), stderr: err.stderr.toString() }),
  );
}

describe('packpub --version whose output cannot be written', () => {
  it('> /dev/full: exit 1, the reason on stderr (was: exit 0)', async () => {
    const run = await version('> /dev/full');
    expect(run).toEqual({ code: 1, stdout: '', stderr: 'error: cannot write to standard output: ENOSPC: no space left on device, write\n' });
  });

  it('written: exit 0, the version alone', async () => {
    const run = await version('');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^\d+\.\d+\.\d+\S*\n$/);
    expect(run.stderr).toBe('');
  });
});
