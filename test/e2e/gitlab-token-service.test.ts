import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runBin } from '../support/cli.js';
import { startForwardProxy } from '../support/forward-proxy.js';
import { writePack } from '../support/packs.js';
import { startRegistry } from '../support/registry.js';
import { runChildText } from '../support/spawner.js';
import { setup } from '../support/stage.js';
import { startTokenServer } from '../support/token-server.js';
import { makeTestCertificates } from '../support/tls.js';

/*
 * GitLab.com's registry (registry.gitlab.com) challenges `Bearer realm="https://gitlab.com/jwt/auth",
 * service="container_registry"`: its token service is on the domain above the registry's name, which runs that name.
 * packpub withheld credentials from it as "a token service on another host": `packpub login registry.gitlab.com` and a
 * push with a user name and token failed unless --allow-cross-host-auth. Here a real registry in token mode, serving TLS
 * as registry.gitlab.com on a port of its own (a plain one behind the proxy's TLS would name http:// upload
 * Locations), and the token server, reached as gitlab.com:443 through a forward proxy that speaks TLS as that name;
 * the process trusts their CA.
 */

const PASSWORD = 'glpat-6f0c2d1e9b';

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-gitlab-');
  const certs = stack.add(await makeTestCertificates({ hosts: ['registry.gitlab.com', 'gitlab.com', '127.0.0.1'] }));
  const token = stack.add(await startTokenServer({ users: { alice: PASSWORD }, service: 'container_registry' }));
  const registry = stack.add(await startRegistry({ auth: 'token', tls: certs, token: { ...token, realm: 'https://gitlab.com/jwt/auth' } }));
  const proxy = stack.add(
    await startForwardProxy({ hosts: { 'registry.gitlab.com': '127.0.0.1' }, terminate: { 'gitlab.com:443': { to: new URL(token.realm).host, certs } } }),
  );
  const pack = await writePack(join(root, 'pack'), { name: 'hello', version: '1.0.0' });
  const env = { HTTPS_PROXY: proxy.url, NODE_EXTRA_CA_CERTS: certs.caFile, DOCKER_CONFIG: join(root, 'docker'), HOME: join(root, 'home') };
  return { root, token, registry, env, pack, host: `registry.gitlab.com:${registry.port}` };
});

describe("GitLab.com's token service (gitlab.com) is its registry's own", () => {
  it('login registry.gitlab.com: the token goes to gitlab.com, is checked and saved (exit 0)', async () => {
    const before = w.token.requests.length;
    const run = await runBin(['login', w.host, '-u', 'alice', '--password-stdin'], { stdin: PASSWORD, env: w.env });
    expectRun(run, { code: 0, stdout: [`Login succeeded: credentials for ${w.host} saved in ${join(w.root, 'docker', 'config.json')}`] });
    expect(run.stdout + run.stderr).not.toContain(PASSWORD);
    expect(w.token.requests.slice(before).map((r) => [r.user, r.authenticated])).toEqual([['alice', true]]);
    const saved = JSON.parse(await readFile(join(w.root, 'docker', 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
    expect(Buffer.from(saved.auths[w.host]?.auth ?? '', 'base64').toString()).toBe(`alice:${PASSWORD}`);
  });

  it('push with those credentials: published, exit 0 (was: "credentials were not sent to the token service gitlab.com", exit 1)', async () => {
    const run = await runBin(['push', w.pack, '--registry', `${w.host}/alice/packs`, '--json'], { env: { ...w.env, PACKPUB_USERNAME: 'alice', PACKPUB_PASSWORD: PASSWORD } });
    expectRun(run, { code: 0 });
    expect(run.stdout + run.stderr).not.toContain(PASSWORD);
    // What the registry holds, read by skopeo with a token of the token server's own.
    const repo = 'alice/packs/spectro-packs/archive/hello';
    const held = await runChildText('skopeo', ['inspect', '--raw', '--tls-verify=false', '--registry-token', w.token.adminToken(repo), `docker://${w.registry.host}/${repo}:1.0.0`]);
    const published = (JSON.parse(run.stdout) as { results: Array<{ status: string; digest: string }> }).results;
    expect(published).toMatchObject([{ status: 'published', digest: `sha256:${createHash('sha256').update(held.stdout).digest('hex')}` }]);
  });
});
