import { expect, it } from 'vitest';
import { redactText, registerSecret } from '../../../src/util/redact.js';
import { runCli } from '../../support/cli.js';

/*
 * The in-process runner (test/support/cli.ts runCli) gives each run what a fresh process of the built CLI
 * holds, so a test that moved a run in-process cannot pass because of an earlier run's state: no secret
 * registered before (it could mask this run's output), process.env put back, and a run that changes the
 * working directory or leaves signal or exit listeners fails.
 */

const SECRET = 'runner-isolation-Secret-4e2f';

it('starts each run from no registered secret', async () => {
  registerSecret(SECRET);
  expect(redactText(SECRET)).not.toContain(SECRET);
  expect((await runCli(['--version'])).code).toBe(0);
  expect(redactText(SECRET)).toBe(SECRET);
});

it('puts back process.env as the run found it: a variable added, changed or removed while it went on', async () => {
  process.env['PACKPUB_RUNNER_CHANGED'] = 'as the run found it';
  process.env['PACKPUB_RUNNER_REMOVED'] = 'as the run found it too';
  try {
    const run = runCli(['--help']);
    process.env['PACKPUB_RUNNER_ISOLATION'] = 'set while the run went on';
    process.env['PACKPUB_RUNNER_CHANGED'] = 'changed while the run went on';
    delete process.env['PACKPUB_RUNNER_REMOVED'];
    expect((await run).code).toBe(0);
    expect(process.env['PACKPUB_RUNNER_ISOLATION']).toBeUndefined();
    expect(process.env['PACKPUB_RUNNER_CHANGED']).toBe('as the run found it');
    expect(process.env['PACKPUB_RUNNER_REMOVED']).toBe('as the run found it too');
  } finally {
    delete process.env['PACKPUB_RUNNER_CHANGED'];
    delete process.env['PACKPUB_RUNNER_REMOVED'];
  }
});

it('fails a run that leaves the working directory changed or a signal or exit listener behind', async () => {
  const cwd = process.cwd();
  const moved = runCli(['--help']);
  process.chdir('/');
  try {
    await expect(moved).rejects.toThrow('changed the working directory');
  } finally {
    process.chdir(cwd);
  }
  for (const event of ['SIGINT', 'SIGTERM', 'exit'] as const) {
    const listener = (): void => {};
    const left = runCli(['--help']);
    process.on(event, listener);
    try {
      await expect(left).rejects.toThrow('left process listeners behind');
    } finally {
      process.off(event, listener);
    }
  }
});
