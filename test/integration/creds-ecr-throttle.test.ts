import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ecrCredentialProvider } from '../../src/credentials/ecr-token.js';
import { runCli } from '../support/cli.js';
import { startEcrWorld } from '../support/ecr-proxy.js';
import { writePack } from '../support/packs.js';
import { RegistryReader } from '../support/registry-reader.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';

/*
 * trust: GetAuthorizationToken throttled (ThrottlingException after the SDK's own retries) while pushing 12 packs
 * to ECR. One token serves the whole run, so it is one cause: told once, with a hint that fits (not "lower
 * --concurrency": packpub asks for one token per run), asked for once rather than again for every pack (each ask
 * spends the account's rate other jobs share), and within the run's time. Real @aws-sdk/client-ecr, ECR stand-in.
 */

const ACCESS_KEY = 'testAKIDTHROTTLE';

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-ecr-throttle-');
  const packs = await Promise.all(Array.from({ length: 12 }, (_, i) => writePack(join(root, `p${i}`), { name: `p${String(i).padStart(2, '0')}`, version: '1.0.0' })));
  return { ...(await startEcrWorld(stack, ACCESS_KEY)), root, packs };
});

describe('a throttled GetAuthorizationToken', () => {
  it('12 packs: one line naming the cause and 12 packs, one token call (one SDK attempt: AWS_MAX_ATTEMPTS=1), exit 1, nothing pushed', async () => {
    w.standin.fail('GetAuthorizationToken', 'ThrottlingException', 'Rate exceeded');
    const since = w.standin.calls.length;
    try {
      const args = ['--registry', `${w.host}/thr`, '--resolve', w.resolve, '--plain-http', '--ecr-endpoint', w.standin.url];
      // AWS_MAX_ATTEMPTS (the SDK's own setting, taken from the run's environment): one attempt, no backoff to wait.
      const run = await runCli(['push', ...w.packs, ...args], { env: { HOME: join(w.root, 'home'), DOCKER_CONFIG: join(w.root, 'docker'), AWS_MAX_ATTEMPTS: '1' } });
      const calls = w.standin.calls.slice(since).filter((c) => c.op === 'GetAuthorizationToken').length;
      expect(run.code, run.stderr).toBe(1);
      expect(stackLines(run.stderr)).toEqual([]);
      const lines = run.stderr.trimEnd().split('\n');
      expect(lines, run.stderr).toHaveLength(2);
      expect(lines[0]).toMatch(/^FAILED registry \S+\/thr: ECR provider: AWS throttled ecr:GetAuthorizationToken for \S+ \(ThrottlingException\), after the SDK's retries \(stopped 12 packs: p00:1\.0\.0, p01:1\.0\.0, \S+ and 9 more\)$/);
      expect(lines[1]).toBe('  hint: packpub asks for one token per run (and not again for a minute after this): other jobs or tools of this account and region (docker login, credential helpers, nodes pulling images) use up its GetAuthorizationToken rate; try again later');
      // One SDK call with its one attempt (AWS_MAX_ATTEMPTS), not one call per pack or per wave of packs (was: 9).
      expect(calls).toBe(1);
    } finally {
      w.standin.allow('GetAuthorizationToken');
    }
    expect((await new RegistryReader(w.registry.url).tagDigests('thr')).size).toBe(0);
  });

  it('a token call that stalls: one call, over within one --request-timeout, not one per wave of packs', async () => {
    w.standin.stall = { op: 'GetAuthorizationToken', mode: 'hang' };
    const since = w.standin.calls.length;
    try {
      const args = ['--registry', `${w.host}/stall`, '--resolve', w.resolve, '--plain-http', '--ecr-endpoint', w.standin.url, '--request-timeout', '1', '--concurrency', '2'];
      const run = await runCli(['push', ...w.packs, ...args], { env: { HOME: join(w.root, 'home'), DOCKER_CONFIG: join(w.root, 'docker') } });
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(/^FAILED registry \S+\/stall: the ECR API at \S+ did not answer ecr:GetAuthorizationToken for \S+: .*\(stopped 12 packs: /m);
      // One call, bounded by --request-timeout: before, each wave of 2 packs made its own and waited --request-timeout more (6 calls).
      expect(w.standin.calls.slice(since).filter((c) => c.op === 'GetAuthorizationToken')).toHaveLength(1);
    } finally {
      w.standin.stall = undefined;
    }
    expect((await new RegistryReader(w.registry.url).tagDigests('stall')).size).toBe(0);
  });

  it('a failed token call is the answer for a minute, not for the rest of a long run: asked again after, and used', async () => {
    let clock = 1_000_000;
    const answers: Array<Error | string> = [new Error('ThrottlingException: Rate exceeded'), 'second-password'];
    let calls = 0;
    const provider = ecrCredentialProvider({
      now: () => clock,
      fetchToken: async () => {
        calls++;
        const next = answers.shift();
        if (next === undefined || next instanceof Error) throw next ?? new Error('no more answers');
        return { username: 'AWS', password: next, expiresAt: new Date(clock + 12 * 3600_000) };
      },
    });
    const host = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
    await expect(provider.resolve(host)).rejects.toThrow('Rate exceeded');
    clock += 60_000 - 1;
    // Within the minute: the same answer, no second call (every pack of a throttled run asking would spend the rate).
    await expect(provider.resolve(host)).rejects.toThrow('Rate exceeded');
    expect(calls).toBe(1);
    clock += 1;
    // After it: asked again (before, the first failure stayed the answer for as long as the provider lived).
    expect(await provider.resolve(host)).toMatchObject({ username: 'AWS', password: 'second-password', source: 'ECR' });
    expect(calls).toBe(2);
  });
});
