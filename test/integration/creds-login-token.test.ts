import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { sharedRegistryWith } from '../support/push-setup.js';
import { setup } from '../support/stage.js';

/*
 * trust: a real distribution registry in token mode behind a token service that, as Harbor's does, answers
 * wrong credentials with a 200 and a token for no one (empty `sub`, no access). /v2/ accepts any valid token,
 * so the ping alone took a wrong password: login said "Login succeeded", exit 0, and saved it (as docker login
 * does); the next push failed. Now login refuses it and saves nothing; the right password is still saved.
 */

const USER = 'publisher';
const PASSWORD = 'token-login-secret-41';

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-login-token-');
  const { registry, tokens } = await sharedRegistryWith(stack, 'token', { [USER]: PASSWORD });
  const pack = await writePack(join(root, 'hello-1.0.0'), { name: 'hello', version: '1.0.0' });
  return { root, registry, tokens, pack };
});
const env = (dir: string) => ({ HOME: join(w.root, 'home'), DOCKER_CONFIG: join(w.root, dir) });

describe('login against a token service that hands wrong credentials an anonymous token', () => {
  it('a wrong password: exit 1, "credentials rejected", nothing saved (was: "Login succeeded", saved)', async () => {
    const run = await runCli(['login', w.registry.host, '-u', USER, '--password-stdin'], { stdin: 'not-the-password-9\n', env: env('wrong') });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stderr).toContain(`error: credentials rejected by ${w.registry.host}: its token service (${new URL(w.tokens?.realm ?? '').host}) answered them with an anonymous token (no subject), as it answers a wrong user name or password`);
    expect(run.stdout).toBe('');
    expect(run.stdout + run.stderr).not.toContain('not-the-password-9');
    await expect(stat(join(w.root, 'wrong', 'config.json'))).rejects.toThrow();
    // The token service did get the credentials, and answered with a token.
    expect(w.tokens?.requests.some((r) => r.user === USER && !r.authenticated)).toBe(true);
  });

  it('the right password: saved, and push uses it', async () => {
    const run = await runCli(['login', w.registry.host, '-u', USER, '--password-stdin'], { stdin: `${PASSWORD}\n`, env: env('right') });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Login succeeded: credentials for ${w.registry.host} saved in ${join(w.root, 'right', 'config.json')}`);
    const saved = JSON.parse(await readFile(join(w.root, 'right', 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
    expect(Buffer.from(saved.auths[w.registry.host]?.auth ?? '', 'base64').toString()).toBe(`${USER}:${PASSWORD}`);
    const push = await runCli(['push', w.pack, '--registry', `${w.registry.host}/${w.registry.base}/p`], { env: env('right') });
    expect(push.code, push.stderr).toBe(0);
    expect(push.stdout).toContain('published hello:1.0.0');
  });
});
