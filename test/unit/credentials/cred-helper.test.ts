import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { helperErase, helperGet, helperStore } from '../../../src/credentials/cred-helper.js';
import { isPackpubError } from '../../../src/errors.js';
import { waitFor } from '../../support/cli.js';
import { makeCredHelperFixture } from '../../support/cred-helper-fixture.js';
import { stillRunning } from '../../support/spawner.js';
import { setup } from '../../support/stage.js';

// The hanging helper's test has a fixture of its own: it waits out its timeout beside the other tests
// (describe.concurrent), and each test's "no helper left running" looks at its own fixture's processes only.
const w = setup(async (stack) => {
  const [helper, hanging] = await Promise.all([makeCredHelperFixture(), makeCredHelperFixture()]);
  return { helper: stack.add(helper), hanging: stack.add(hanging) };
});
describe.concurrent('credential helper protocol', () => {
  it('stores, gets and erases through docker-credential-<name>', async () => {
    const opts = { env: w.helper.env };
    await helperStore('packpubtest', { serverUrl: 'harbor.example.com', username: 'robot$p+ci', secret: 's3cret' }, opts);
    expect(await w.helper.entries()).toEqual({ 'harbor.example.com': { Username: 'robot$p+ci', Secret: 's3cret' } });
    expect(await helperGet('packpubtest', 'harbor.example.com', opts)).toEqual({
      username: 'robot$p+ci',
      password: 's3cret',
      source: 'credential helper docker-credential-packpubtest',
    });
    expect(await helperErase('packpubtest', 'harbor.example.com', opts)).toBe(true);
    expect(await w.helper.entries()).toEqual({});
    expect(await helperGet('packpubtest', 'harbor.example.com', opts)).toBeUndefined();
    expect(await helperErase('packpubtest', 'harbor.example.com', opts)).toBe(false);
  });

  it('never puts the helper output in the error when it is not JSON', async () => {
    const runner = async () => ({ code: 0, stdout: 'SECRET-IN-OUTPUT', stderr: '' });
    const err = await helperGet('x', 'h', { runner }).catch((e: unknown) => e);
    expect(isPackpubError(err, 'CREDENTIALS')).toBe(true);
    expect((err as Error).message).not.toContain('SECRET-IN-OUTPUT');
  });

  it('gives up on a helper that does not answer, and kills it', async () => {
    // The real runner against a helper that reads its input and then never answers.
    const err = await helperGet('packpubtest', 'h', { env: { ...w.helper.env, PACKPUB_TEST_HELPER_HANG: '1' }, timeoutMs: 200 }).catch((e: unknown) => e);
    expect(isPackpubError(err, 'CREDENTIALS')).toBe(true);
    expect((err as Error).message).toBe('credential helper docker-credential-packpubtest get did not answer within 0.2 s (it was stopped)');
    await waitFor(async () => (await w.helper.running()).length === 0, 'the helper to be killed', 5_000);
  });

  it('kills the whole process group of a hanging helper, children holding its pipes included', async () => {
    // The real runner against a helper whose sleeping child keeps the helper's stdout/stderr open: killing
    // only the helper left that child running and the pipes open, which kept packpub alive. The helper starts
    // its child before it reads its input; the timeout must leave it time to: 1 s (it takes ~10 ms here), and
    // when the helper was killed before its child started (the pid file not written: under a load of 15-30 even
    // 2 s was now and then too short), again with 4 s.
    const pidFile = join(w.hanging.dir, 'child.pid');
    let err: unknown;
    let childPid = 0;
    for (const timeoutMs of [1_000, 4_000]) {
      await rm(pidFile, { force: true });
      err = await helperGet('packpubtest', 'h', { env: { ...w.hanging.env, PACKPUB_TEST_HELPER_HANG_CHILD: pidFile }, timeoutMs }).catch((e: unknown) => e);
      childPid = Number(await readFile(pidFile, 'utf8').catch(() => ''));
      if (childPid > 0) break;
    }
    expect(isPackpubError(err, 'CREDENTIALS')).toBe(true);
    expect((err as Error).message).toMatch(/^credential helper docker-credential-packpubtest get did not answer within [14] s \(it was stopped\)$/);
    expect(childPid).toBeGreaterThan(0);
    try {
      await waitFor(() => !stillRunning(childPid), `the helper's child (pid ${childPid}) to be killed`, 5_000);
    } finally {
      try {
        process.kill(childPid, 'SIGKILL'); // leave nothing behind when the assertion fails
      } catch {
        // already gone
      }
    }
    await waitFor(async () => (await w.hanging.running()).length === 0, 'the helper to be killed', 5_000);
  });
});
