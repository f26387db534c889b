import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { startHostileRegistry } from '../support/hostile-registry.js';
import { setup } from '../support/stage.js';

/*
 * review s21 L7: a password in PACKPUB_PASSWORD (or a packpub.yaml passwordEnv variable) that ends in a line
 * break, as a secret stored from a file keeps it, was sent with it: "credentials rejected", while the same value
 * piped to --password-stdin worked (one trailing newline dropped there, as docker does). Now the same rule.
 */

const USERS = { ci: 'secret-ci-0042' };

describe('credentials from the environment ending in a line break', () => {
  const w = setup(async (stack) => ({ hostile: stack.add(await startHostileRegistry({ users: USERS })), root: await stack.tempDir() }));
  const list = (env: NodeJS.ProcessEnv, extra: string[] = []) => runCli(['list', 'nothere', '--registry', `${w.hostile.host}/base`, '--retry-attempts', '1', ...extra], { env, cwd: w.root });

  it('are read without it, as --password-stdin reads them (was: credentials rejected, exit 1)', async () => {
    for (const end of ['\n', '\r\n']) {
      expectRun(await list({ PACKPUB_USERNAME: 'ci', PACKPUB_PASSWORD: `${USERS.ci}${end}` }), { code: 0, stderr: ['no pack nothere in registry'] });
      expectRun(await list({ PACKPUB_USERNAME: `ci${end}`, PACKPUB_PASSWORD: USERS.ci }), { code: 0, stderr: ['no pack nothere in registry'] });
    }
    // A line break alone is an empty value, refused as one.
    expectRun(await list({ PACKPUB_USERNAME: 'ci', PACKPUB_PASSWORD: '\n' }), { code: 2, stderr: ['PACKPUB_USERNAME is set but PACKPUB_PASSWORD is empty'] });
    // Only one: a password with a line break inside is sent as it is, and refused by the registry.
    expectRun(await list({ PACKPUB_USERNAME: 'ci', PACKPUB_PASSWORD: `${USERS.ci}\n\n` }), { code: 1, stderr: ['credentials rejected'] });
    // --username with the password from the environment likewise.
    expectRun(await list({ PACKPUB_PASSWORD: `${USERS.ci}\n` }, ['--username', 'ci']), { code: 0, stderr: ['no pack nothere in registry'] });
    // login, which reads the variables itself, likewise: the Docker config it writes holds the password without it.
    const config = join(w.root, 'docker-config.json');
    expectRun(await runCli(['login', w.hostile.host, '--registry-config', config], { env: { PACKPUB_USERNAME: 'ci\n', PACKPUB_PASSWORD: `${USERS.ci}\r\n` }, cwd: w.root }), { code: 0, stdout: ['Login succeeded'] });
    const saved = JSON.parse(await readFile(config, 'utf8')) as { auths: Record<string, { auth: string }> };
    expect(Buffer.from(saved.auths[w.hostile.host]?.auth ?? '', 'base64').toString()).toBe(`ci:${USERS.ci}`);
    // packpub.yaml's passwordEnv likewise.
    await writeFile(join(w.root, 'packpub.yaml'), `targets:\n  reg:\n    registry: ${w.hostile.host}/base\n    auth:\n      username: ci\n      passwordEnv: REG_SECRET\n`);
    expectRun(await runCli(['list', 'nothere', '--target', 'reg', '--retry-attempts', '1'], { env: { REG_SECRET: `${USERS.ci}\n` }, cwd: w.root }), { code: 0, stderr: ['no pack nothere in registry'] });
  });
});
