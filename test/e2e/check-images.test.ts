import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticProvider } from '../../src/credentials/chain.js';
import { normalizeImage } from '../../src/operations/check-images.js';
import { openGenericRegistryStore } from '../../src/targets/registry-store.js';
import { pushTestPack } from '../support/artifacts.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/files.js';
import { writePack } from '../support/packs.js';
import { expectReportValid } from '../support/report-schema.js';
import { RegistryReader } from '../support/registry-reader.js';
import { freePort, sharedRegistry, type SharedRegistry } from '../support/registry.js';

/** A pack whose pack.content.images lists exactly `images`. */
async function packWithImages(root: string, name: string, images: string[]): Promise<string> {
  const values = ['pack:', `  namespace: ${name}`, '  content:', '    images:', ...images.map((i) => `      - image: ${i}`), 'manifests:', '  app:', '    replicas: 1', ''].join('\n');
  return writePack(join(root, name), { name, version: '1.0.0', files: { 'values.yaml': values } });
}

describe('--check-images', () => {
  let anon: SharedRegistry;
  let gated: SharedRegistry;
  let closedPort: number;
  let work: { dir: string; cleanup: () => Promise<void> };
  let dockerConfig: string;
  const password = `pw-${Math.random().toString(36).slice(2)}`;

  /** Repositories the registry holds below `base`/ (the catalog, as a client would list it), each without the file's own `registry.base`/. */
  async function repositoriesUnder(registry: SharedRegistry, base: string): Promise<string[]> {
    const own = `${registry.base}/`;
    return (await new RegistryReader(registry.url).catalog()).filter((r) => r.startsWith(`${own}${base}/`)).map((r) => r.slice(own.length));
  }


  beforeAll(async () => {
    [anon, gated] = await Promise.all([sharedRegistry(), sharedRegistry({ auth: 'htpasswd', users: { alice: password } })]);
    closedPort = await freePort();
    work = await tempDir();
    const a = await openGenericRegistryStore({ host: anon.host, credentials: staticProvider('none', undefined) });
    await pushTestPack(a, `${anon.base}/team/app`, '1.0.0', Buffer.from('tiny image layer'));
    await a.close();
    const g = await openGenericRegistryStore({ host: gated.host, credentials: staticProvider('test', { username: 'alice', password }) });
    await pushTestPack(g, `${gated.base}/private/app`, '2.0.0', Buffer.from('tiny private layer'));
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
    const ok = await packWithImages(work.dir, 'present', [`${anon.host}/${anon.base}/team/app:1.0.0`]);
    const missing = await packWithImages(work.dir, 'absent', [`${anon.host}/${anon.base}/team/app:9.9.9`]);
    const good = await runCli(['validate', '--check-images', ok], { env: { DOCKER_CONFIG: dockerConfig } });
    expect(good.stdout).toContain('OK');
    expect(good.stdout).not.toMatch(/image/);
    expect(good.code).toBe(0);
    const bad = await runCli(['validate', '--check-images', missing], { env: { DOCKER_CONFIG: dockerConfig } });
    expect(bad.stdout).toContain(`error   values.yaml pack.content.images[0]: image ${anon.host}/${anon.base}/team/app:9.9.9 does not exist`);
    expect(bad.stdout).toContain('FAILED');
    expect(bad.code).toBe(1);
    // Off by default: the same pack passes without the flag.
    expect((await runCli(['validate', missing])).code).toBe(0);
  });

  it('validate: a credentialed image is gated without credentials and found with a Docker config', async () => {
    const pack = await packWithImages(work.dir, 'private', [`${gated.host}/${gated.base}/private/app:2.0.0`]);
    const emptyConfig = join(work.dir, 'empty-docker');
    await mkdir(emptyConfig, { recursive: true });
    const without = await runCli(['validate', '--check-images', pack], { env: { DOCKER_CONFIG: emptyConfig } });
    expect(without.stdout).toContain(`info    values.yaml pack.content.images[0]: image ${gated.host}/${gated.base}/private/app:2.0.0: gated, not checked`);
    expect(without.code).toBe(0);
    // Not checked is not a failure, even where warnings fail (as pack-central's CI treats a gated image).
    const strict = await runCli(['validate', '--check-images', '--strict', pack], { env: { DOCKER_CONFIG: emptyConfig } });
    expect(strict.stdout).toContain('gated, not checked');
    expect(strict.code).toBe(0);
    const withCreds = await runCli(['validate', '--check-images', pack], { env: { DOCKER_CONFIG: dockerConfig } });
    expect(withCreds.stdout).not.toMatch(/gated|image /);
    expect(withCreds.stdout).not.toContain(password);
    expect(withCreds.code).toBe(0);
    const missing = await packWithImages(work.dir, 'private-missing', [`${gated.host}/${gated.base}/private/app:0.0.1`]);
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
    const missing = await packWithImages(work.dir, 'push-absent', [`${anon.host}/${anon.base}/team/app:9.9.9`]);
    const layout = join(work.dir, 'layout');
    const refused = await runCli(['push', '--check-images', '--oci-layout', layout, missing], { env: { DOCKER_CONFIG: dockerConfig } });
    expect(refused.stderr).toContain(`image ${anon.host}/${anon.base}/team/app:9.9.9 does not exist`);
    expect(refused.stderr).toContain('nothing was published');
    expect(refused.code).toBe(1);
    await expect(readdir(layout)).rejects.toThrow(/ENOENT/);
    const ok = await packWithImages(work.dir, 'push-present', [`${anon.host}/${anon.base}/team/app:1.0.0`]);
    const pushed = await runCli(['push', '--check-images', '--oci-layout', layout, ok], { env: { DOCKER_CONFIG: dockerConfig } });
    expect(pushed.code).toBe(0);
    expect((await readdir(layout, { recursive: true })).map(String).some((p) => p.endsWith('push-present'))).toBe(true);
  });

  describe('push --check-images reports', () => {
    interface Result {
      dir: string;
      name?: string;
      status: string;
      target?: string;
      error?: { code: string; message: string; hint?: string };
      findings?: Array<{ severity: string; rule: string; file: string; path?: string; message: string }>;
    }
    let emptyConfig: string;
    let culprit: string;
    let bystander: string;
    const missingImage = () => `${anon.host}/${anon.base}/team/app:9.9.9`;
    const gatedImage = () => `${gated.host}/${gated.base}/private/app:2.0.0`;

    beforeAll(async () => {
      emptyConfig = join(work.dir, 'no-creds');
      await mkdir(emptyConfig, { recursive: true });
      culprit = await packWithImages(join(work.dir, 'report'), 'culprit', [`${anon.host}/${anon.base}/team/app:1.0.0`, missingImage(), gatedImage()]);
      bystander = await packWithImages(join(work.dir, 'report'), 'bystander', [`${anon.host}/${anon.base}/team/app:1.0.0`]);
    });

    it('a refused run prints a --json report naming the pack and the image, exits 1 and publishes nothing', async () => {
      const run = await runCli(['push', '--check-images', '--json', '--registry', `${anon.host}/${anon.base}/refused`, culprit, bystander], { env: { DOCKER_CONFIG: emptyConfig } });
      expect(run.code).toBe(1);
      // stderr keeps its text.
      expect(run.stderr).toContain(`image ${missingImage()} does not exist`);
      expect(run.stderr).toContain('packpub: 1 image not found; nothing was published');
      const report = JSON.parse(run.stdout) as { ok: boolean; target: string; summary: Record<string, number>; results: Result[] };
      expectReportValid(report);
      expect(report.ok).toBe(false);
      expect(report.summary).toMatchObject({ total: 2, failed: 2, published: 0, uploadedBytes: 0 });
      const bad = report.results.find((r) => r.name === 'culprit');
      expect(bad).toMatchObject({ dir: culprit, status: 'failed', target: `registry ${anon.host}/${anon.base}/refused`, error: { code: 'IMAGE_NOT_FOUND' } });
      expect(bad?.error?.message).toContain(`image ${missingImage()} does not exist`);
      expect(bad?.findings?.map((f) => `${f.severity} ${f.rule} ${f.path}`)).toEqual(['error image-not-found pack.content.images[1]', 'info image-gated pack.content.images[2]']);
      const held = report.results.find((r) => r.name === 'bystander');
      expect(held).toMatchObject({ dir: bystander, status: 'failed', error: { code: 'IMAGE_NOT_FOUND', message: 'not published because another pack names an image that does not exist' } });
      expect(held?.findings).toBeUndefined();
      expect(await repositoriesUnder(anon, 'refused')).toEqual([]);
    });

    it('a refused run prints --json-lines results and the summary last', async () => {
      const run = await runCli(['push', '--check-images', '--json-lines', '--registry', `${anon.host}/${anon.base}/refused`, culprit, bystander], { env: { DOCKER_CONFIG: emptyConfig } });
      expect(run.code).toBe(1);
      const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; name?: string; status?: string; error?: { code: string }; summary?: Record<string, number> });
      for (const line of lines) expectReportValid(line, '#/$defs/jsonLine');
      expect(lines.map((l) => `${l.type} ${l.name ?? ''} ${l.status ?? ''} ${l.error?.code ?? ''}`.trim())).toEqual([
        'result bystander failed IMAGE_NOT_FOUND',
        'result culprit failed IMAGE_NOT_FOUND',
        'summary',
      ]);
      expect(lines.at(-1)?.summary).toMatchObject({ total: 2, failed: 2 });
      expect(await repositoriesUnder(anon, 'refused')).toEqual([]);
    });

    it('a refused run writes the --junit file and GitHub annotations', async () => {
      const junit = join(work.dir, 'report', 'junit.xml');
      const run = await runCli(['push', '--check-images', '--junit', junit, '--registry', `${anon.host}/${anon.base}/refused`, culprit, bystander], {
        env: { DOCKER_CONFIG: emptyConfig, GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: work.dir, GITHUB_STEP_SUMMARY: '' },
      });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('nothing was published');
      const xml = await readFile(junit, 'utf8');
      expect(xml).toMatch(/tests="2"/);
      expect(xml).toMatch(/failures="2"/);
      expect(xml).toContain('type="IMAGE_NOT_FOUND"');
      expect(xml).toContain(`image ${missingImage()} does not exist`);
      expect(run.stderr).toContain(`::error file=report/culprit/values.yaml,title=packpub image-not-found::culprit:1.0.0: pack.content.images[1]: image ${missingImage()} does not exist`);
      expect(run.stderr).toContain('::notice file=report/culprit/values.yaml,title=packpub image-gated::');
      expect(await repositoriesUnder(anon, 'refused')).toEqual([]);
    });

    it('--continue-on-error publishes the packs whose images exist, reports the others failed and exits 1', async () => {
      const run = await runCli(['push', '--check-images', '--continue-on-error', '--json', '--registry', `${anon.host}/${anon.base}/goes-on`, culprit, bystander], {
        env: { DOCKER_CONFIG: emptyConfig },
      });
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toContain(`image ${missingImage()} does not exist`);
      expect(run.stderr).toContain('packpub: 1 image not found; 1 pack naming it not published (--continue-on-error: publishing the other 1)');
      const report = JSON.parse(run.stdout) as { ok: boolean; summary: Record<string, number>; results: Result[] };
      expectReportValid(report);
      expect(report.ok).toBe(false);
      expect(report.summary).toMatchObject({ total: 2, published: 1, failed: 1 });
      expect(report.results.find((r) => r.name === 'culprit')).toMatchObject({ status: 'failed', error: { code: 'IMAGE_NOT_FOUND' } });
      expect(report.results.find((r) => r.name === 'bystander')).toMatchObject({ status: 'published' });
      expect(await repositoriesUnder(anon, 'goes-on')).toEqual(['goes-on/spectro-packs/archive', 'goes-on/spectro-packs/archive/bystander']);
      // --json-lines: one result per pack, the refused one included, then the summary.
      const lines = await runCli(['push', '--check-images', '--continue-on-error', '--json-lines', '--registry', `${anon.host}/${anon.base}/goes-on`, culprit, bystander], {
        env: { DOCKER_CONFIG: emptyConfig },
      });
      expect(lines.code).toBe(1);
      const parsed = lines.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; name?: string; status?: string; summary?: Record<string, number> });
      for (const line of parsed) expectReportValid(line, '#/$defs/jsonLine');
      expect(parsed.map((l) => `${l.type} ${l.name ?? ''} ${l.status ?? ''}`.trim()).sort()).toEqual(['result bystander unchanged', 'result culprit failed', 'summary']);
      expect(parsed.at(-1)?.summary).toMatchObject({ total: 2, unchanged: 1, failed: 1 });
      // Every pack naming a missing image: nothing to go on with, as without the flag.
      const none = await runCli(['push', '--check-images', '--continue-on-error', '--registry', `${anon.host}/${anon.base}/goes-on-none`, culprit], { env: { DOCKER_CONFIG: emptyConfig } });
      expect(none.code).toBe(1);
      expect(none.stderr).toContain('nothing was published');
      expect(await repositoriesUnder(anon, 'goes-on-none')).toEqual([]);
    });

    it('a run that goes on carries the images not checked in its results', async () => {
      const pack = await packWithImages(join(work.dir, 'report'), 'noted', [`${anon.host}/${anon.base}/team/app:1.0.0`, gatedImage()]);
      const run = await runCli(['push', '--check-images', '--json', '--registry', `${anon.host}/${anon.base}/noted`, pack], { env: { DOCKER_CONFIG: emptyConfig } });
      expect(run.stderr).toContain(`image ${gatedImage()}: gated, not checked`);
      expect(run.code).toBe(0);
      const report = JSON.parse(run.stdout) as { ok: boolean; results: Result[] };
      expectReportValid(report);
      expect(report.ok).toBe(true);
      expect(report.results).toHaveLength(1);
      expect(report.results[0]).toMatchObject({ name: 'noted', status: 'published' });
      expect(report.results[0]?.findings?.map((f) => `${f.severity} ${f.rule} ${f.file} ${f.path}`)).toEqual(['info image-gated values.yaml pack.content.images[1]']);
      expect(await repositoriesUnder(anon, 'noted')).toContain('noted/spectro-packs/archive/noted');
      // --json-lines: the same note on the result line (an unchanged re-run).
      const lines = await runCli(['push', '--check-images', '--json-lines', '--registry', `${anon.host}/${anon.base}/noted`, pack], { env: { DOCKER_CONFIG: emptyConfig } });
      expect(lines.code).toBe(0);
      const result = lines.stdout.trim().split('\n').map((l) => JSON.parse(l) as Result & { type: string }).find((l) => l.type === 'result');
      expect(result).toMatchObject({ status: 'unchanged', findings: [{ severity: 'info', rule: 'image-gated' }] });
      if (result !== undefined) expectReportValid(result, '#/$defs/jsonLine');
    });
      it("images on the target registry are checked with the target's credentials, and only there", async () => {
      const pack = await packWithImages(join(work.dir, 'report'), 'own-registry', [gatedImage()]);
      // The target is the credentialed registry; the Docker config is empty: --password-stdin alone reaches the image.
      const own = await runCli(['push', '--check-images', '--json', '--registry', `${gated.host}/${gated.base}/own`, '-u', 'alice', '--password-stdin', pack], {
        env: { DOCKER_CONFIG: emptyConfig },
        stdin: `${password}\n`,
      });
      expect(own.stderr).not.toMatch(/gated|not checked/);
      expect(own.stdout + own.stderr).not.toContain(password);
      expect(own.code).toBe(0);
      const report = JSON.parse(own.stdout) as { results: Result[] };
      expectReportValid(report);
      expect(report.results[0]).toMatchObject({ name: 'own-registry', status: 'published' });
      expect(report.results[0]?.findings).toBeUndefined();
      // A missing image on the target registry is found missing (not "gated") with the same credentials.
      const absent = await packWithImages(join(work.dir, 'report'), 'own-absent', [`${gated.host}/${gated.base}/private/app:0.0.1`]);
      const refused = await runCli(['push', '--check-images', '--json', '--registry', `${gated.host}/${gated.base}/own`, '-u', 'alice', '--password-stdin', absent], {
        env: { DOCKER_CONFIG: emptyConfig },
        stdin: `${password}\n`,
      });
      expect(refused.code).toBe(1);
      expect((JSON.parse(refused.stdout) as { results: Result[] }).results[0]).toMatchObject({ name: 'own-absent', status: 'failed', error: { code: 'IMAGE_NOT_FOUND' } });
      // Another target's credentials are not sent to the image's host: still gated.
      const other = await packWithImages(join(work.dir, 'report'), 'other-registry', [gatedImage()]);
      const elsewhere = await runCli(['push', '--check-images', '--registry', `${anon.host}/${anon.base}/elsewhere`, '-u', 'alice', '--password-stdin', other], {
        env: { DOCKER_CONFIG: emptyConfig },
        stdin: `${password}\n`,
      });
      expect(elsewhere.stderr).toContain(`image ${gatedImage()}: gated, not checked`);
      expect(elsewhere.code).toBe(0);
      // Nor are the environment's (PACKPUB_USERNAME / PACKPUB_PASSWORD are the target's): they went to every image host.
      const envRun = await runCli(['push', '--check-images', '--registry', `${anon.host}/${anon.base}/elsewhere`, other], {
        env: { DOCKER_CONFIG: emptyConfig, PACKPUB_USERNAME: 'alice', PACKPUB_PASSWORD: password },
      });
      expect(envRun.stderr).toContain(`image ${gatedImage()}: gated, not checked`);
      expect(envRun.code).toBe(0);
    });
  });
});

