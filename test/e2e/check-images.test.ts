import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticProvider } from '../../src/credentials/chain.js';
import { normalizeImage } from '../../src/operations/check-images.js';
import { openGenericRegistryStore } from '../../src/targets/registry-store.js';
import { pushTestPack } from '../support/artifacts.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/files.js';
import { writePack } from '../support/packs.js';
import { freePort, startRegistry, type RunningRegistry } from '../support/registry.js';

/** A pack whose pack.content.images lists exactly `images`. */
async function packWithImages(root: string, name: string, images: string[]): Promise<string> {
  const values = ['pack:', `  namespace: ${name}`, '  content:', '    images:', ...images.map((i) => `      - image: ${i}`), 'manifests:', '  app:', '    replicas: 1', ''].join('\n');
  return writePack(join(root, name), { name, version: '1.0.0', files: { 'values.yaml': values } });
}

describe('--check-images', () => {
  let anon: RunningRegistry;
  let gated: RunningRegistry;
  let closedPort: number;
  let work: { dir: string; cleanup: () => Promise<void> };
  let dockerConfig: string;
  const password = `pw-${Math.random().toString(36).slice(2)}`;

  beforeAll(async () => {
    [anon, gated] = await Promise.all([startRegistry(), startRegistry({ auth: 'htpasswd', users: { alice: password } })]);
    closedPort = await freePort();
    work = await tempDir();
    const a = await openGenericRegistryStore({ host: anon.host, credentials: staticProvider('none', undefined) });
    await pushTestPack(a, 'team/app', '1.0.0', Buffer.from('tiny image layer'));
    await a.close();
    const g = await openGenericRegistryStore({ host: gated.host, credentials: staticProvider('test', { username: 'alice', password }) });
    await pushTestPack(g, 'private/app', '2.0.0', Buffer.from('tiny private layer'));
    await g.close();
    dockerConfig = join(work.dir, 'docker');
    await mkdir(dockerConfig);
    const auth = Buffer.from(`alice:${password}`).toString('base64');
    await writeFile(join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [gated.host]: { auth } } }));
  }, 60_000);

  afterAll(async () => {
    await Promise.all([anon?.stop(), gated?.stop()]);
    await work?.cleanup();
  });

  it('normalises references as Docker does', () => {
    expect(normalizeImage('nginx').full).toBe('docker.io/library/nginx:latest');
    expect(normalizeImage('bitnami/redis:7').full).toBe('docker.io/bitnami/redis:7');
    expect(normalizeImage('localhost:5000/x').full).toBe('localhost:5000/x:latest');
    expect(normalizeImage('ghcr.io/a/b@sha256:abc')).toMatchObject({ host: 'ghcr.io', repository: 'a/b', reference: 'sha256:abc' });
  });

  it('validate: an existing image passes; a missing one is an error naming it (exit 1)', async () => {
    const ok = await packWithImages(work.dir, 'present', [`${anon.host}/team/app:1.0.0`]);
    const missing = await packWithImages(work.dir, 'absent', [`${anon.host}/team/app:9.9.9`]);
    const good = await runCli(['validate', '--check-images', ok], { env: { DOCKER_CONFIG: dockerConfig } });
    expect(good.stdout).toContain('OK');
    expect(good.stdout).not.toMatch(/image/);
    expect(good.code).toBe(0);
    const bad = await runCli(['validate', '--check-images', missing], { env: { DOCKER_CONFIG: dockerConfig } });
    expect(bad.stdout).toContain(`error   values.yaml pack.content.images[0]: image ${anon.host}/team/app:9.9.9 does not exist`);
    expect(bad.stdout).toContain('FAILED');
    expect(bad.code).toBe(1);
    // Off by default: the same pack passes without the flag.
    expect((await runCli(['validate', missing])).code).toBe(0);
  });

  it('validate: a credentialed image is gated without credentials and found with a Docker config', async () => {
    const pack = await packWithImages(work.dir, 'private', [`${gated.host}/private/app:2.0.0`]);
    const emptyConfig = join(work.dir, 'empty-docker');
    await mkdir(emptyConfig, { recursive: true });
    const without = await runCli(['validate', '--check-images', pack], { env: { DOCKER_CONFIG: emptyConfig } });
    expect(without.stdout).toContain(`info    values.yaml pack.content.images[0]: image ${gated.host}/private/app:2.0.0: gated, not checked`);
    expect(without.code).toBe(0);
    // Not checked is not a failure, even where warnings fail (as pack-central's CI treats a gated image).
    const strict = await runCli(['validate', '--check-images', '--strict', pack], { env: { DOCKER_CONFIG: emptyConfig } });
    expect(strict.stdout).toContain('gated, not checked');
    expect(strict.code).toBe(0);
    const withCreds = await runCli(['validate', '--check-images', pack], { env: { DOCKER_CONFIG: dockerConfig } });
    expect(withCreds.stdout).not.toMatch(/gated|image /);
    expect(withCreds.stdout).not.toContain(password);
    expect(withCreds.code).toBe(0);
    const missing = await packWithImages(work.dir, 'private-missing', [`${gated.host}/private/app:0.0.1`]);
    const gone = await runCli(['validate', '--check-images', missing], { env: { DOCKER_CONFIG: dockerConfig } });
    expect(gone.stdout).toContain('does not exist');
    expect(gone.code).toBe(1);
  });

  it('validate: an unreachable host is noted "cannot check", not a failure, even with --strict', async () => {
    const pack = await packWithImages(work.dir, 'offline', [`127.0.0.1:${closedPort}/team/app:1.0.0`]);
    const run = await runCli(['validate', '--check-images', pack], { env: { DOCKER_CONFIG: dockerConfig } });
    expect(run.stdout).toContain(`info    values.yaml pack.content.images[0]: image 127.0.0.1:${closedPort}/team/app:1.0.0: cannot check: 127.0.0.1:${closedPort} unreachable`);
    expect(run.code).toBe(0);
    const strict = await runCli(['validate', '--check-images', '--strict', pack], { env: { DOCKER_CONFIG: dockerConfig } });
    expect(strict.stdout).toContain('cannot check');
    expect(strict.code).toBe(0);
  }, 60_000);

  it('push --check-images refuses to publish a pack with a missing image, and publishes one whose images exist', async () => {
    const missing = await packWithImages(work.dir, 'push-absent', [`${anon.host}/team/app:9.9.9`]);
    const layout = join(work.dir, 'layout');
    const refused = await runCli(['push', '--check-images', '--oci-layout', layout, missing], { env: { DOCKER_CONFIG: dockerConfig } });
    expect(refused.stderr).toContain(`image ${anon.host}/team/app:9.9.9 does not exist`);
    expect(refused.stderr).toContain('nothing was published');
    expect(refused.code).toBe(1);
    await expect(readdir(layout)).rejects.toThrow(/ENOENT/);
    const ok = await packWithImages(work.dir, 'push-present', [`${anon.host}/team/app:1.0.0`]);
    const pushed = await runCli(['push', '--check-images', '--oci-layout', layout, ok], { env: { DOCKER_CONFIG: dockerConfig } });
    expect(pushed.code).toBe(0);
    expect((await readdir(layout, { recursive: true })).map(String).some((p) => p.endsWith('push-present'))).toBe(true);
  });
});
