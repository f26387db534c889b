import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/files.js';
import { leaks, secretForms } from '../support/secrets.js';

/*
 * issue 6, "Secrets", the odd corners: a token service that answers a bare token instead of JSON, and a
 * credential helper that prints its secret where JSON was expected. Error messages and their --debug causes
 * must not quote what was received (V8's JSON SyntaxError quotes the first characters of its input).
 */

const TOKEN = 'rawtokenAAAA0123456789-not-json-at-all';
const HELPER_SECRET = 'helpersecret-9d8c7b6a5f4e';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function close(server: Server | undefined): Promise<void> {
  if (server === undefined) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe('secrets in answers that are not what was expected', () => {
  let registry: Server;
  let tokens: Server;
  let registryHost = '';
  let root: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ dir: root, cleanup } = await tempDir('packpub-odd-'));
    tokens = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(TOKEN));
    const tokenHost = await listen(tokens);
    registry = createServer((_req, res) => {
      res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${tokenHost}/token",service="odd"`, 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
    });
    registryHost = await listen(registry);
  });

  afterAll(async () => {
    await close(registry);
    await close(tokens);
    await cleanup?.();
  });

  it('a token service answering a bare token: one clear error, the token not quoted even with --debug', async () => {
    const run = await runCli(['list', '--registry', `${registryHost}/base`, '--debug'], {
      env: { PACKPUB_USERNAME: 'u', PACKPUB_PASSWORD: 'odd-password-1234', DOCKER_CONFIG: join(root, 'none') },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`error: token service ${registryHost.split(':')[0]}`);
    expect(run.stderr).toContain('answered with something that is not JSON');
    const text = run.stdout + run.stderr;
    expect(leaks(text, [...secretForms('token', TOKEN), { label: 'token prefix', value: TOKEN.slice(0, 8) }])).toEqual([]);
  });

  // Known bug (issue 6 report, src/credentials/cred-helper.ts): the helper's non-JSON answer reaches --debug through
  // the SyntaxError kept as the error's cause. Drop `.fails` once the cause no longer quotes it.
  it('a credential helper printing its secret instead of JSON: not quoted even with --debug', async () => {
    const bin = join(root, 'bin');
    await mkdir(bin, { recursive: true });
    const helper = join(bin, 'docker-credential-leaky');
    await writeFile(helper, `#!/bin/sh\ncat >/dev/null\necho '${HELPER_SECRET}'\n`);
    await chmod(helper, 0o755);
    const docker = join(root, 'docker');
    await mkdir(docker, { recursive: true });
    await writeFile(join(docker, 'config.json'), JSON.stringify({ credsStore: 'leaky' }));
    const run = await runCli(['list', '--registry', `${registryHost}/base`, '--debug'], {
      env: { PATH: `${bin}:${process.env['PATH'] ?? ''}`, DOCKER_CONFIG: docker },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('answered something that is not JSON');
    expect(leaks(run.stdout + run.stderr, [{ label: 'helper secret prefix', value: HELPER_SECRET.slice(0, 8) }])).toEqual([]);
  });

  // Known bug (issue 6 report, src/credentials/docker-config.ts): "is not valid JSON: <SyntaxError message>" quotes
  // the text around the error, here the start of a stored `auth`, even without --debug. Drop `.fails` once fixed.
  it('a broken Docker config: the error does not quote the stored auth', async () => {
    const docker = join(root, 'broken-docker');
    await mkdir(docker, { recursive: true });
    const auth = Buffer.from('robot:stored-Pa55word-e1f2').toString('base64');
    await writeFile(join(docker, 'config.json'), `{"auths":{"${registryHost}":{"auth":${auth}}}}`); // the quotes around the value are missing
    const run = await runCli(['list', '--registry', `${registryHost}/base`], { env: { DOCKER_CONFIG: docker } });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('is not valid JSON');
    expect(leaks(run.stdout + run.stderr, [{ label: 'stored auth prefix', value: auth.slice(0, 8) }])).toEqual([]);
  });
});
