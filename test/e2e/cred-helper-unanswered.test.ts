import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { helloPackAndEnv } from '../support/published.js';
import { RegistryReader } from '../support/registry-reader.js';
import { sharedRegistry } from '../support/registry.js';
import { setup } from '../support/stage.js';

/*
 * A Docker config naming a credential helper that is not installed (`credsStore: desktop`, Docker Desktop's, on a CI
 * runner or in WSL): every command failed "credential helper docker-credential-desktop ... is not installed or not on
 * PATH", exit 1, also against a registry that asks no credentials, where ORAS (which asks a helper only when
 * challenged) works. Now packpub goes on without credentials and gives the helper's error only when the registry
 * asks for them (a 401 or 403): the same error, exit 1, where they are needed.
 */

const HELPER = 'packpub-test-not-installed';

const w = setup(async (stack) => {
  const hello = await helloPackAndEnv(stack);
  const docker = join(hello.root, 'docker');
  await mkdir(docker);
  await writeFile(join(docker, 'config.json'), JSON.stringify({ credsStore: HELPER }));
  const [anon, gated] = await Promise.all([sharedRegistry(), sharedRegistry({ auth: 'htpasswd', users: { alice: 'pw-unanswered' } })]);
  return { ...hello, env: { ...hello.env, DOCKER_CONFIG: docker }, anon, gated };
});

const helperError = [`credential helper docker-credential-${HELPER}`, 'is not installed or not on PATH', `hint: install docker-credential-${HELPER}, or remove the credHelpers/credsStore entry`];

describe('a credential helper that is not installed', () => {
  it('a registry that asks no credentials: push, list and pull work, exit 0 (was: the helper error, exit 1)', async () => {
    const registry = `${w.anon.host}/${w.anon.base}/unanswered`;
    expectRun(await runCli(['push', w.pack, '--registry', registry], { env: w.env }), { code: 0, stdout: ['published hello:1.0.0'] });
    expect(await new RegistryReader(w.anon.url).tags(`${w.anon.base}/unanswered/spectro-packs/archive/hello`)).toEqual(['1.0.0']);
    expectRun(await runCli(['list', 'hello', '--registry', registry], { env: w.env }), { code: 0, stdout: ['hello  1.0.0'] });
    expectRun(await runCli(['pull', 'hello:1.0.0', '--registry', registry, '-o', join(w.root, 'pulled')], { env: w.env }), { code: 0 });
  });

  it('a registry that asks for credentials: the helper error, exit 1, nothing pushed', async () => {
    const registry = `${w.gated.host}/${w.gated.base}/unanswered`;
    expectRun(await runCli(['push', w.pack, '--registry', registry], { env: w.env }), { code: 1, stderr: helperError });
    expectRun(await runCli(['list', '--registry', registry], { env: w.env }), { code: 1, stderr: helperError });
    const reader = new RegistryReader(w.gated.url, { username: 'alice', password: 'pw-unanswered' });
    expect(await reader.tags(`${w.gated.base}/unanswered/spectro-packs/archive/hello`)).toEqual([]);
  });
});
