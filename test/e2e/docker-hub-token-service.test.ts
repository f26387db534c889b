import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { staticProvider } from '../../src/credentials/chain.js';
import { openGenericRegistryStore } from '../../src/targets/registry-store.js';
import { pushTestPack } from '../support/artifacts.js';
import { runBin } from '../support/cli.js';
import { startForwardProxy } from '../support/forward-proxy.js';
import { writePack } from '../support/packs.js';
import { startRegistry } from '../support/registry.js';
import { setup } from '../support/stage.js';
import { startTokenServer } from '../support/token-server.js';
import { makeTestCertificates } from '../support/tls.js';

/*
 * Docker Hub's registry (registry-1.docker.io) challenges `Bearer realm="https://auth.docker.io/token",
 * service="registry.docker.io"`: its token service is Docker's own, where `docker login` sends the password. packpub
 * withheld credentials from it as "a token service on another host": `packpub login docker.io` failed unless
 * --allow-cross-host-auth, and --check-images read a private Docker Hub image anonymously ("gated, not checked ... log
 * in with docker login") after a login. Here a real registry in token mode and the token server, both plain HTTP on
 * loopback, are reached as registry-1.docker.io:443 and auth.docker.io:443 through a forward proxy that speaks TLS as
 * those names (the only way to reach port 443 of Docker's names on this machine); the process trusts its CA.
 */

const PASSWORD = 'hub-password-7c1e';

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-docker-hub-');
  const certs = stack.add(await makeTestCertificates({ hosts: ['registry-1.docker.io', 'auth.docker.io'] }));
  const token = stack.add(await startTokenServer({ users: { alice: PASSWORD }, service: 'registry.docker.io' }));
  const registry = stack.add(await startRegistry({ auth: 'token', token: { ...token, realm: 'https://auth.docker.io/service/token' } }));
  const seed = await openGenericRegistryStore({ host: registry.host, plainHttp: true, credentials: staticProvider('seed', { registryToken: token.adminToken('alice/private') }) });
  try {
    await pushTestPack(seed, 'alice/private', '1.0.0', Buffer.from('private image layer'));
  } finally {
    await seed.close();
  }
  const proxy = stack.add(
    await startForwardProxy({
      terminate: {
        'registry-1.docker.io:443': { to: registry.host, certs },
        'auth.docker.io:443': { to: new URL(token.realm).host, certs },
      },
    }),
  );
  const values = (tag: string) => ['pack:', '  namespace: app', '  content:', '    images:', `      - image: docker.io/alice/private:${tag}`, ''].join('\n');
  const present = await writePack(join(root, 'present'), { name: 'present', version: '1.0.0', files: { 'values.yaml': values('1.0.0') } });
  const missing = await writePack(join(root, 'missing'), { name: 'missing', version: '1.0.0', files: { 'values.yaml': values('9.9.9') } });
  const env = { HTTPS_PROXY: proxy.url, NODE_EXTRA_CA_CERTS: certs.caFile, DOCKER_CONFIG: join(root, 'docker'), HOME: join(root, 'home') };
  return { root, token, env, present, missing };
});

describe("Docker Hub's token service (auth.docker.io) is Docker Hub's own", () => {
  it('login docker.io: the password goes to auth.docker.io, is checked and saved under Docker Hub\'s key (exit 0)', async () => {
    const before = w.token.requests.length;
    const run = await runBin(['login', 'docker.io', '-u', 'alice', '--password-stdin'], { stdin: PASSWORD, env: w.env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Login succeeded: credentials for docker.io saved in ${join(w.root, 'docker', 'config.json')}`);
    expect(run.stderr).not.toContain('another host');
    expect(run.stdout + run.stderr).not.toContain(PASSWORD);
    expect(w.token.requests.slice(before).map((r) => [r.user, r.authenticated])).toEqual([['alice', true]]);
    const saved = JSON.parse(await readFile(join(w.root, 'docker', 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
    expect(Object.keys(saved.auths)).toEqual(['https://index.docker.io/v1/']);
    expect(Buffer.from(saved.auths['https://index.docker.io/v1/']?.auth ?? '', 'base64').toString()).toBe(`alice:${PASSWORD}`);
  });

  it('--check-images with a docker login: a private image is found and a missing tag fails the run (was: both "gated, not checked", exit 0)', async () => {
    const docker = join(w.root, 'docker-login');
    await mkdir(docker, { recursive: true });
    await writeFile(join(docker, 'config.json'), JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: Buffer.from(`alice:${PASSWORD}`).toString('base64') } } }));
    const before = w.token.requests.length;
    const run = await runBin(['validate', '--check-images', w.present, w.missing], { env: { ...w.env, DOCKER_CONFIG: docker } });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toContain('error   values.yaml pack.content.images[0]: image docker.io/alice/private:9.9.9 does not exist');
    expect(run.stdout).not.toContain('gated');
    expect(run.stdout).not.toContain('docker.io/alice/private:1.0.0');
    expect(w.token.requests.slice(before).every((r) => r.user === 'alice' && r.authenticated)).toBe(true);
    expect(run.stdout + run.stderr).not.toContain(PASSWORD);
  });
});
