import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { staticProvider } from '../../src/credentials/chain.js';
import { sha256Digest } from '../../src/oci/digest.js';
import { copyPacks, type CopyEvent } from '../../src/operations/copy.js';
import { openTarget } from '../../src/targets/open.js';
import { skopeoInspectLayout, skopeoInspectRaw, skopeoSyncManifests } from '../support/registry.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';
import { harborAndBasic } from '../support/push-setup.js';

/*
 * Promotion between two real registries: a distribution behind a Harbor-like token service (staging) and
 * a distribution with htpasswd Basic auth (production), through a recording proxy that counts uploads.
 */

const HARBOR_USER = 'robot$staging+ci';
const HARBOR_PASSWORD = 'staging-token-secret-31';
const BASIC_USER = 'releaser';
const BASIC_PASSWORD = 'basic-prod-secret-77';
const SECRETS = [HARBOR_PASSWORD, BASIC_PASSWORD];
const ENV = { SOURCE_DATE_EPOCH: '1700000000' };
const ARCHIVE = 'spectro-packs/archive';
const stagingCreds = { username: HARBOR_USER, password: HARBOR_PASSWORD };
const prodCreds = { username: BASIC_USER, password: BASIC_PASSWORD };

/** `name:version` -> manifest bytes of packs under `base` on `host`, read by one skopeo sync (every blob fetched and verified). */
async function syncedRaw(host: string, base: string, versions: ReadonlyArray<readonly [string, string]>, dir: string, creds: { username: string; password: string }): Promise<Map<string, Buffer>> {
  await mkdir(dir, { recursive: true });
  const read = await skopeoSyncManifests(host, versions.map(([name, version]) => ({ repo: `${base}/${ARCHIVE}/${name}`, tag: version })), dir, { creds });
  return new Map(versions.map(([name, version]) => [`${name}:${version}`, read.get(`${base}/${ARCHIVE}/${name}:${version}`) ?? Buffer.alloc(0)]));
}

const VERSIONS = [
  ['hello', '1.0.0'],
  ['hello', '1.1.0'],
  ['world', '2.0.0'],
] as const;

describe('copy between a token-auth registry and a Basic-auth registry', () => {
  /** Both sides' credentials from the environment, as a CI job would set them from secrets. */
  let env: NodeJS.ProcessEnv;

  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-copy-reg-');
    const { tokens, harbor: staging, basic: prod, proxy } = await harborAndBasic(stack, { [HARBOR_USER]: HARBOR_PASSWORD }, { [BASIC_USER]: BASIC_PASSWORD });
    const stagingRef = `${staging.host}/staging`;
    const prodRef = `${proxy.host}/${prod.base}/prod`;
    env = {
      ...ENV,
      PACKPUB_FROM_USERNAME: HARBOR_USER,
      PACKPUB_FROM_PASSWORD: HARBOR_PASSWORD,
      PACKPUB_TO_USERNAME: BASIC_USER,
      PACKPUB_TO_PASSWORD: BASIC_PASSWORD,
    };
    const packs = await Promise.all(VERSIONS.map(([name, version]) => writePack(join(root, 'packs', `${name}-${version}`), { name, version })));
    const pushed = await runCli(['push', ...packs, '--registry', stagingRef, '--username', HARBOR_USER, '--password-stdin'], {
      env: ENV,
      stdin: `${HARBOR_PASSWORD}\n`,
    });
    expect(pushed.code, pushed.stderr).toBe(0);
    // What staging holds, as skopeo reads it (every tag in one process, every blob verified): the copies are compared with it.
    const staged = await syncedRaw(staging.host, 'staging', VERSIONS, join(root, 'staged'), stagingCreds);
    return { root, tokens, staging, prod, proxy, stagingRef, prodRef, staged };
  });

  const rawAt = (host: string, base: string, name: string, version: string, creds: { username: string; password: string }) =>
    skopeoInspectRaw(`${host}/${base}/${ARCHIVE}/${name}:${version}`, { creds });
  /** The manifest of staging's `name:version` as skopeo read it after the push. */
  const stagedRaw = (name: string, version: string): Buffer => {
    const raw = w.staged.get(`${name}:${version}`);
    if (raw === undefined) throw new Error(`staging has no ${name}:${version}`);
    return raw;
  };

  function expectNoSecrets(text: string): void {
    for (const secret of [...SECRETS, ...w.tokens.issuedTokens]) expect(text).not.toContain(secret);
  }

  it('--all yields identical manifest digests on both registries, and a re-run uploads nothing', async () => {
    const first = await runCli(['copy', '--all', '--from', w.stagingRef, '--to', w.prodRef, '--json'], { env });
    expectNoSecrets(first.stdout + first.stderr);
    expect(first.code, first.stderr).toBe(0);
    const report = JSON.parse(first.stdout) as { ok: boolean; summary: Record<string, number>; results: Array<{ name: string; version: string; status: string; digest: string }> };
    expect(report.ok).toBe(true);
    expect(report.summary).toMatchObject({ total: 3, copied: 3, failed: 0, conflict: 0 });
    const copied = await syncedRaw(w.prod.host, `${w.prod.base}/prod`, VERSIONS, join(w.root, 'copied'), prodCreds);
    for (const [name, version] of VERSIONS) {
      const a = stagedRaw(name, version);
      const b = copied.get(`${name}:${version}`);
      expect(b?.equals(a)).toBe(true);
      expect(report.results.find((r) => r.name === name && r.version === version)?.digest).toBe(sha256Digest(a));
    }
    // Per repository each blob goes up once: hello's two versions share one config upload.
    // base repository: config; hello: config + 2 layers; world: config + 1 layer.
    const uploads = w.proxy.count((r) => r.method === 'POST' && r.path.includes('/blobs/uploads/'));
    expect(uploads).toBe(6);
    // Palette's base repository exists at the destination, as after a push (an untagged empty artifact).
    expect(w.proxy.count((r) => r.method === 'PUT' && r.path.startsWith(`/v2/${w.prod.base}/prod/${ARCHIVE}/manifests/sha256:`))).toBe(1);

    w.proxy.clear();
    const again = await runCli(['copy', '--all', '--from', w.stagingRef, '--to', w.prodRef], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('3 unchanged');
    expect(w.proxy.count((r) => r.method === 'POST' || r.method === 'PUT' || r.method === 'PATCH')).toBe(0);
  });

  it('verifies blobs end to end: skopeo can pull what was copied', async () => {
    // skopeo checks every blob against its digest while copying (and keeps the digests: --preserve-digests).
    const pulled = await syncedRaw(w.prod.host, `${w.prod.base}/prod`, [['world', '2.0.0']], join(w.root, 'skopeo-pulled'), prodCreds);
    expect(pulled.get('world:2.0.0')?.equals(stagedRaw('world', '2.0.0'))).toBe(true);
  });

  it('copies from a registry to an OCI layout and back with the same digest', async () => {
    const layout = join(w.root, 'layout');
    const down = await runCli(['copy', 'hello:1.1.0', '--from', w.prodRef, '--to', `oci:${layout}`], {
      env: { PACKPUB_FROM_USERNAME: BASIC_USER, PACKPUB_FROM_PASSWORD: BASIC_PASSWORD },
    });
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toContain('copied hello:1.1.0');
    const local = await skopeoInspectLayout(layout, 'hello', '1.1.0');
    const original = stagedRaw('hello', '1.1.0');
    expect(local.equals(original)).toBe(true);

    const up = await runCli(['copy', 'hello:1.1.0', '--from', `oci:${layout}`, '--to', `${w.staging.host}/restored`], {
      env: { PACKPUB_TO_USERNAME: HARBOR_USER, PACKPUB_TO_PASSWORD: HARBOR_PASSWORD },
    });
    expect(up.code, up.stderr).toBe(0);
    expect((await rawAt(w.staging.host, 'restored', 'hello', '1.1.0', stagingCreds)).equals(original)).toBe(true);
  });

  it('a different manifest under the version is a conflict; --force replaces it', async () => {
    const changed = await writePack(join(w.root, 'changed/hello-1.0.0'), { name: 'hello', version: '1.0.0', files: { 'README.md': '# changed\n' } });
    const pushed = await runCli(['push', changed, '--registry', `${w.prod.host}/${w.prod.base}/other`, '--username', BASIC_USER, '--password-stdin'], {
      env: ENV,
      stdin: BASIC_PASSWORD,
    });
    expect(pushed.code, pushed.stderr).toBe(0);
    const theirs = await rawAt(w.prod.host, `${w.prod.base}/other`, 'hello', '1.0.0', prodCreds);

    const refused = await runCli(['copy', 'hello:1.0.0', '--from', w.stagingRef, '--to', `${w.prod.host}/${w.prod.base}/other`], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('CONFLICT hello:1.0.0');
    expect((await rawAt(w.prod.host, `${w.prod.base}/other`, 'hello', '1.0.0', prodCreds)).equals(theirs)).toBe(true);

    const forced = await runCli(['copy', 'hello:1.0.0', '--from', w.stagingRef, '--to', `${w.prod.host}/${w.prod.base}/other`, '--force'], { env });
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toContain('overwritten hello:1.0.0');
    expect((await rawAt(w.prod.host, `${w.prod.base}/other`, 'hello', '1.0.0', prodCreds)).equals(stagedRaw('hello', '1.0.0'))).toBe(true);
  });

  it('reports rejected destination credentials per version without printing secrets', async () => {
    const result = await runCli(['copy', 'world:2.0.0', '--from', w.stagingRef, '--to', `${w.prod.host}/${w.prod.base}/denied`], {
      env: { ...env, PACKPUB_TO_PASSWORD: 'wrong-password-xyz' },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('FAILED world:2.0.0');
    expectNoSecrets(result.stdout + result.stderr);
    expect(result.stderr).not.toContain('wrong-password-xyz');
  });

  it('works as a library with per-side credential providers, streaming and reporting each blob', async () => {
    const from = await openTarget({ registry: w.stagingRef, credentials: staticProvider('test', stagingCreds) });
    const to = await openTarget({ registry: `${w.prod.host}/${w.prod.base}/library`, credentials: staticProvider('test', prodCreds) });
    const events: CopyEvent[] = [];
    try {
      const report = await copyPacks(from, to, { name: 'hello', all: true, onEvent: (e) => events.push(e) });
      expect(report.summary).toMatchObject({ total: 2, copied: 2 });
      expect(report.results.map((r) => r.version)).toEqual(['1.0.0', '1.1.0']);
      const uploaded = events.filter((e) => e.type === 'blob-upload-done' && !e.skipped).length;
      // Two distinct layers and one shared config blob.
      expect(uploaded).toBe(3);
      expect(report.summary.copiedBytes).toBe(report.results.reduce((n, r) => n + (r.size ?? 0), 0) - 2);
      for (const r of report.results) {
        expect((await rawAt(w.prod.host, `${w.prod.base}/library`, 'hello', r.version, prodCreds)).equals(stagedRaw('hello', r.version))).toBe(true);
      }
    } finally {
      await from.store.close();
      await to.store.close();
    }
  });
});
