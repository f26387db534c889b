import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { boundedRun, type CliRun, runCli } from '../support/cli.js';
import { startHarborStandin } from '../support/harbor-standin.js';
import { writePack } from '../support/packs.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';

/*
 * Harbor's REST API (or a proxy in front of it) answering the project look-up with an error status the API does
 * not give, its body dripping in a byte at a time: every byte arrives within --request-timeout, so only a bound on
 * the whole body ends the wait. The error body was read to its 64 KiB limit however long that took (300 bytes at
 * 0.4 s each: a push held 2 minutes; a 64 KiB body: 7 hours).
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-harbor-drip-');
  const harbor = stack.add(await startHarborStandin({ users: { robot: 'pw-Harbor-Drip-3' }, projects: ['proj'] }));
  return { root, harbor };
});

const BOUND_MS = 20_000;

const bounded = (run: Promise<CliRun>): Promise<CliRun> => boundedRun(run, BOUND_MS);

describe('a Harbor API error answer whose body drips in', () => {
  it('ends the push within the timeouts, exit 1 with the status and what arrived, nothing published (was: held until the whole body came)', async () => {
    const dir = await writePack(join(w.root, 'dripped'), { name: 'dripped', version: '1.0.0' });
    const body = `{"errors":[{"code":"TEAPOT","message":"${'y'.repeat(300)}"}]}`;
    w.harbor.apiQuirk = (_method, path) => (path.includes('/projects/') ? { status: 418, headers: { 'content-type': 'application/json' }, body, dripMs: 400 } : undefined);
    let run: CliRun;
    try {
      run = await bounded(
        runCli(['push', dir, '--registry', `${w.harbor.host}/proj`, '--no-cache', '-u', 'robot', '--password-stdin', '--request-timeout', '1', '--retry-deadline', '3', '--retry-attempts', '2'], {
          stdin: 'pw-Harbor-Drip-3',
        }),
      );
    } finally {
      w.harbor.apiQuirk = undefined;
    }
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`${w.harbor.host} answered 418`);
    expect(run.stderr).toContain('/api/v2.0/projects/proj');
    expect(stackLines(run.stderr)).toEqual([]);
    expect(w.harbor.repositories.has('proj/spectro-packs/archive/dripped')).toBe(false);
  });
});
