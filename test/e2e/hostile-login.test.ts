import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startAnswerFuzzer } from '../support/answer-fuzzer.js';
import { runCli } from '../support/cli.js';
import { sharedRegistry } from '../support/registry.js';
import { setup } from '../support/stage.js';

/*
 * trust (fuzz): `login` against a registry (htpasswd, behind the answer fuzzer) whose /v2/ check never answers.
 * login took no --request-timeout / --retry-attempts / --retry-deadline, so a CI step waited the defaults (6
 * attempts of 60 s: 6 minutes measured), then said "raise --request-timeout", a flag login refused. Now login
 * takes the network limits every other command takes.
 */

const USER = 'login-fuzz';
const PASSWORD = 'login-fuzz-secret-81';

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-hostile-login-');
  const registry = await sharedRegistry({ auth: 'htpasswd', users: { [USER]: PASSWORD } });
  const fuzz = stack.add(await startAnswerFuzzer(registry.host));
  return { root, registry, fuzz };
});
const env = (name: string) => ({ HOME: join(w.root, 'home'), DOCKER_CONFIG: join(w.root, name) });

describe('login against a registry that never answers', () => {
  it('ends after --retry-attempts x --request-timeout, names the wait, saves nothing', async () => {
    w.fuzz.applied = [];
    w.fuzz.plan = { decide: (method, path) => (method === 'GET' && path === '/v2/' ? { kind: 'stall-head' } : undefined) };
    try {
      const argv = ['login', w.fuzz.host, '-u', USER, '--password-stdin', '--request-timeout', '0.5', '--retry-attempts', '2', '--retry-delay', '0'];
      const run = await runCli(argv, { stdin: PASSWORD, env: env('stalled') });
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toContain(`error: timed out waiting for ${w.fuzz.host}`);
      expect(run.stderr).toContain('raise --request-timeout');
      expect(run.stdout + run.stderr).not.toContain(PASSWORD);
      expect(w.fuzz.applied).toHaveLength(2);
    } finally {
      w.fuzz.plan = undefined;
    }
    await expect(stat(join(w.root, 'stalled', 'config.json'))).rejects.toThrow();
  });

  it('the same limits on a registry that answers: login succeeds and saves the credentials', async () => {
    const argv = ['login', w.fuzz.host, '-u', USER, '--password-stdin', '--request-timeout', '5', '--retry-deadline', '10', '--retry-attempts', '2'];
    const run = await runCli(argv, { stdin: PASSWORD, env: env('fine') });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Login succeeded: credentials for ${w.fuzz.host}`);
    const saved = JSON.parse(await readFile(join(w.root, 'fine', 'config.json'), 'utf8')) as { auths: Record<string, { auth?: string }> };
    expect(saved.auths[w.fuzz.host]?.auth).toBe(Buffer.from(`${USER}:${PASSWORD}`).toString('base64'));
  });
});

describe("login --help's network flags", () => {
  it('say what login waits for: the registry and its token service, not ECR API calls, which it never makes (was: the shared text naming ECR and STS)', async () => {
    const help = await runCli(['login', '--help']);
    expect(help.code, help.stderr).toBe(0);
    // yargs wraps the descriptions: read the text as one line.
    const text = help.stdout.replace(/\s+/g, ' ');
    expect(text).toContain('--request-timeout Seconds to wait for a response or body progress from the registry or its token service, and for the credential helper that saves them (default 60)');
    expect(text).not.toMatch(/ECR|STS|AssumeRole|Palette/);
    // Commands that do call ECR keep the table's words.
    const list = await runCli(['list', '--help']);
    expect(list.stdout.replace(/\s+/g, ' ')).toContain('and for each whole ECR API call, STS AssumeRole included');
    // An ECR host asks nothing of ECR: login says there is nothing to save, without a request.
    const ecr = await runCli(['login', '123456789012.dkr.ecr.eu-west-1.amazonaws.com', '-u', 'AWS', '--password-stdin'], { stdin: 'x' });
    expect(ecr.code, ecr.stderr).toBe(0);
    expect(ecr.stdout).toContain('Nothing was saved.');
  });
});
