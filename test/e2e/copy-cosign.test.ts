import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { staticProvider } from '../../src/credentials/chain.js';
import { sha256Digest } from '../../src/oci/digest.js';
import type { Descriptor } from '../../src/oci/manifest.js';
import { MEDIA_TYPE_OCI_MANIFEST } from '../../src/oci/media-types.js';
import { openGenericRegistryStore } from '../../src/targets/registry-store.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { registryAdmin } from '../support/registry-admin.js';
import { sharedRegistry, skopeoInspectLayout, skopeoInspectRaw, skopeoSyncManifests } from '../support/registry.js';
import { startHarborStandin } from '../support/harbor-standin.js';
import { startRecordingProxy } from '../support/recording-proxy.js';
import { RegistryReader, tokenHoldings } from '../support/registry-reader.js';
import { expectReportValid } from '../support/report-schema.js';
import { setup } from '../support/stage.js';

/*
 * A pack repository that also holds what cosign attaches to a version (sha256-<hex>.sig, .att: tag-based discovery)
 * and a container image someone pushed there. `copy --all` copies every pack version and cosign's tags verbatim
 * (same digest: the signature still verifies at the destination, as after skopeo sync or crane copy), leaves the
 * image out with one line on stderr, and exits 0. Before, it copied everything and exited 1 ("is not a pack").
 */

const ARCHIVE = 'spectro-packs/archive';
const REPO = `staging/${ARCHIVE}/hello`;
const ENV = { SOURCE_DATE_EPOCH: '1700000000' };
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';

describe('copy --all of a pack repository holding cosign signatures and a container image', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-copy-cosign-');
    // The worker's registry: every repository of this file under its base path, which `host` (below) includes;
    // `admin` and `put` take repositories under it too.
    const registry = await sharedRegistry();
    const within = (repo: string) => `${registry.base}/${repo}`;
    const packs = await Promise.all(['1.0.0', '1.1.0'].map((version) => writePack(join(root, `hello-${version}`), { name: 'hello', version })));
    const pushed = await runCli(['push', ...packs, '--registry', `${registry.host}/${within('staging')}`], { env: ENV });
    expect(pushed.code, pushed.stderr).toBe(0);
    const whole = registryAdmin(registry);
    const admin = { digestOf: (repo: string, tag: string) => whole.digestOf(within(repo), tag) };
    const signed = await admin.digestOf(REPO, '1.0.0');
    if (signed === undefined) throw new Error('hello:1.0.0 was not pushed');
    const hex = signed.slice('sha256:'.length);
    const store = await openGenericRegistryStore({ host: registry.host, credentials: staticProvider('none', undefined) });
    stack.add({ close: () => store.close() });
    const put = async (repo: string, tag: string, configType: string, layers: Array<{ mediaType: string; body: string; annotations?: Record<string, string> }>) => {
      const config = Buffer.from(JSON.stringify({ architecture: '', os: '', rootfs: { type: 'layers', diff_ids: [] } }));
      const configDesc: Descriptor = { mediaType: configType, digest: sha256Digest(config), size: config.length };
      await store.pushBlob(within(repo), configDesc, () => Readable.from([config]));
      const descs: Descriptor[] = [];
      for (const layer of layers) {
        const bytes = Buffer.from(layer.body);
        const desc: Descriptor = { mediaType: layer.mediaType, digest: sha256Digest(bytes), size: bytes.length, ...(layer.annotations ? { annotations: layer.annotations } : {}) };
        await store.pushBlob(within(repo), desc, () => Readable.from([bytes]));
        descs.push(desc);
      }
      const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE_OCI_MANIFEST, config: configDesc, layers: descs }));
      await store.pushManifest(within(repo), tag, manifest, MEDIA_TYPE_OCI_MANIFEST);
      return manifest;
    };
    const payload = JSON.stringify({ critical: { identity: { 'docker-reference': `${registry.host}/${within(REPO)}` }, image: { 'docker-manifest-digest': signed }, type: 'cosign container image signature' }, optional: null });
    const sigTag = `sha256-${hex}.sig`;
    const attTag = `sha256-${hex}.att`;
    const sig = await put(REPO, sigTag, OCI_CONFIG, [
      { mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', body: payload, annotations: { 'dev.cosignproject.cosign/signature': 'MEUCIQDsig' } },
    ]);
    const att = await put(REPO, attTag, OCI_CONFIG, [{ mediaType: 'application/vnd.dsse.envelope.v1+json', body: JSON.stringify({ payloadType: 'application/vnd.in-toto+json', payload: 'e30=', signatures: [] }) }]);
    await put(REPO, 'debug', OCI_CONFIG, [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', body: 'not really a tar' }]);
    return { root, registry, within, host: `${registry.host}/${registry.base}`, admin, signed, sigTag, attTag, sig, att, put };
  });

  it('copies the versions and cosign tags verbatim, leaves the image out with one line, exits 0', async () => {
    const host = w.host;
    const copy = await runCli(['copy', 'hello', '--all', '--from', `${host}/staging`, '--to', `${host}/prod`]);
    expect(copy.code, copy.stderr).toBe(0);
    const notPack = `skipped hello:debug: ${host}/${REPO}:debug is not a pack (a container image); --all leaves it out`;
    expect(copy.stderr.split(notPack).length - 1, copy.stderr).toBe(1);
    expect(copy.stderr).not.toContain('FAILED');
    expect(copy.stdout).toMatch(new RegExp(`^copied hello:${w.sigTag} -> `, 'm'));
    expect(copy.stdout).toMatch(new RegExp(`^copied hello:${w.attTag} -> `, 'm'));
    expect(copy.stdout).toContain('5 version(s) from');
    expect(copy.stdout).toContain('4 copied, 1 skipped');

    // What prod holds, as skopeo reads it (every blob fetched and verified): the same manifests, not the image.
    const prodRepo = `prod/${ARCHIVE}/hello`;
    const tags = ['1.0.0', '1.1.0', w.sigTag, w.attTag];
    const synced = await skopeoSyncManifests(w.registry.host, tags.map((tag) => ({ repo: w.within(prodRepo), tag })), w.root);
    expect(synced.get(`${w.within(prodRepo)}:${w.sigTag}`)).toEqual(w.sig);
    expect(synced.get(`${w.within(prodRepo)}:${w.attTag}`)).toEqual(w.att);
    expect(sha256Digest(synced.get(`${w.within(prodRepo)}:1.0.0`) ?? Buffer.alloc(0))).toBe(w.signed);
    expect(await w.admin.digestOf(prodRepo, 'debug')).toBeUndefined();

    // Again: nothing to do, still exit 0, the image named once more.
    const again = await runCli(['copy', '--all', '--from', `${host}/staging`, '--to', `${host}/prod`, '--json']);
    expect(again.code, again.stderr).toBe(0);
    const report = JSON.parse(again.stdout) as { ok: boolean; summary: Record<string, number>; results: Array<Record<string, unknown>> };
    expectReportValid(report);
    expect(report.ok).toBe(true);
    expect(report.summary).toMatchObject({ total: 5, unchanged: 4, skipped: 1, failed: 0 });
    expect(report.results.find((r) => r['version'] === 'debug')).toMatchObject({ status: 'skipped', notPack: 'a container image' });
    expect(again.stderr.split(notPack).length - 1, again.stderr).toBe(1);
  });

  it('a dry run plans the same; an OCI layout takes the signature; the image named alone is still refused', async () => {
    const host = w.host;
    const dry = await runCli(['copy', 'hello', '--all', '--dry-run', '--from', `${host}/staging`, '--to', `${host}/dry`, '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    const planned = JSON.parse(dry.stdout) as { results: Array<Record<string, unknown>> };
    expectReportValid(planned);
    const plans = planned.results.map((r) => [r['version'], r['plan'], r['notPack']]);
    expect(plans).toEqual([
      ['1.0.0', 'new', undefined],
      ['1.1.0', 'new', undefined],
      ['debug', 'skip', 'a container image'],
      [w.attTag, 'new', undefined],
      [w.sigTag, 'new', undefined],
    ]);
    expect(await w.admin.digestOf(`dry/${ARCHIVE}/hello`, '1.0.0')).toBeUndefined();

    const layout = join(w.root, 'layout');
    const toLayout = await runCli(['copy', `hello:${w.sigTag}`, '--from', `${host}/staging`, '--to', `oci:${layout}`]);
    expect(toLayout.code, toLayout.stderr).toBe(0);
    expect(await skopeoInspectLayout(layout, 'hello', w.sigTag)).toEqual(w.sig);

    const image = await runCli(['copy', 'hello:debug', '--from', `${host}/staging`, '--to', `oci:${layout}`]);
    expect(image.code).toBe(1);
    expect(image.stderr).toContain(`FAILED hello:debug: ${host}/${REPO}:debug is not a pack: its config is ${OCI_CONFIG} (a container image)`);
    expect(existsSync(join(layout, ARCHIVE, 'hello'))).toBe(true);
    await expect(skopeoInspectLayout(layout, 'hello', 'debug')).rejects.toThrow();
  });

  it('a destination that holds its own signature under the tag: a conflict saying so, exit 1; --skip-existing keeps it, exit 0', async () => {
    const host = w.host;
    const prodRepo = `signed/${ARCHIVE}/hello`;
    // The destination signed the version itself: another signature manifest under the same cosign tag.
    const own = await w.put(prodRepo, w.sigTag, OCI_CONFIG, [{ mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', body: '{"prod":true}' }]);
    const ownDigest = sha256Digest(own);
    const args = ['copy', 'hello', '--all', '--from', `${host}/staging`, '--to', `${host}/signed`];
    const conflict = await runCli(args);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toContain(`CONFLICT hello:${w.sigTag}: ${host}/${prodRepo}:${w.sigTag} already holds a different manifest (${ownDigest}; the source has ${sha256Digest(w.sig)})`);
    expect(conflict.stderr).toContain("hint: the destination holds other content under cosign's tag (signed there as well?): --skip-existing keeps it, --force replaces it with the source's");
    expect(conflict.stderr).not.toContain('Palette caches');
    expect(await w.admin.digestOf(prodRepo, w.sigTag)).toBe(ownDigest);
    const kept = await runCli([...args, '--skip-existing']);
    expect(kept.code, kept.stderr).toBe(0);
    expect(kept.stdout).toMatch(new RegExp(`^skipped hello:${w.sigTag}: `, 'm'));
    expect(await w.admin.digestOf(prodRepo, w.sigTag)).toBe(ownDigest);
    expect(await w.admin.digestOf(prodRepo, '1.0.0')).toBe(w.signed);
  });

  it('--all where no tag holds a pack: nothing to copy, exit 1, nothing written', async () => {
    const host = w.host;
    // A base path of its own: the other cases copy all of staging.
    await w.put(`tools/${ARCHIVE}/kit`, 'nightly', 'application/vnd.example.kit.config.v1+json', [
      { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', body: 'part one' },
      { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', body: 'part two' },
    ]);
    await w.put(`tools/${ARCHIVE}/kit`, 'debug', OCI_CONFIG, [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', body: 'an image' }]);
    for (const args of [['kit', '--all'], ['--all'], ['kit', '--all', '--dry-run']]) {
      const run = await runCli(['copy', ...args, '--from', `${host}/tools`, '--to', `${host}/tools-prod`]);
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(1);
      const where = args[0] === 'kit' ? `of ${host}/tools/${ARCHIVE}/kit` : `under ${host}/tools/${ARCHIVE}`;
      expect(run.stderr).toContain(`nothing to copy: no tag ${where} holds a pack (2 tags hold another kind of artifact)`);
      expect(run.stderr).toContain(`skipped kit:nightly: ${host}/tools/${ARCHIVE}/kit:nightly is not a pack (an artifact with 2 layers)`);
    }
    expect(await w.admin.digestOf(`tools-prod/${ARCHIVE}/kit`, 'nightly')).toBeUndefined();
    expect(await w.admin.digestOf(`tools-prod/${ARCHIVE}/kit`, 'debug')).toBeUndefined();
  });

  it('--all over a version tag holding an artifact of no known kind (a pack pushed wrong): FAILED as when named, exit 1; the packs copied', async () => {
    const host = w.host;
    const pack = await writePack(join(w.root, 'kit-1.0.0'), { name: 'kit', version: '1.0.0' });
    const pushed = await runCli(['push', pack, '--registry', `${host}/broken`], { env: ENV });
    expect(pushed.code, pushed.stderr).toBe(0);
    await w.put(`broken/${ARCHIVE}/kit`, '1.1.0', 'application/vnd.example.kit.config.v1+json', [
      { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', body: 'kit archive' },
      { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', body: 'stray file' },
    ]);
    await w.put(`broken/${ARCHIVE}/kit`, 'debug', OCI_CONFIG, [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', body: 'an image' }]);
    const run = await runCli(['copy', 'kit', '--all', '--from', `${host}/broken`, '--to', `${host}/broken-prod`]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`FAILED kit:1.1.0: ${host}/broken/${ARCHIVE}/kit:1.1.0 is not a pack: its manifest has 2 layers (a pack has exactly one)`);
    expect(run.stderr).toContain(`skipped kit:debug: ${host}/broken/${ARCHIVE}/kit:debug is not a pack (a container image); --all leaves it out`);
    expect(await w.admin.digestOf(`broken-prod/${ARCHIVE}/kit`, '1.0.0')).toBe(await w.admin.digestOf(`broken/${ARCHIVE}/kit`, '1.0.0'));
    expect(await w.admin.digestOf(`broken-prod/${ARCHIVE}/kit`, '1.1.0')).toBeUndefined();
    expect(await w.admin.digestOf(`broken-prod/${ARCHIVE}/kit`, 'debug')).toBeUndefined();
  });

  it('list names what cosign attached, and pull refuses it', async () => {
    const host = w.host;
    const list = await runCli(['list', 'hello', '--registry', `${host}/staging`]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stderr).toContain(`note: hello:${w.sigTag} is not a pack (a cosign signature); copy takes it as it is; pull, inspect and tag refuse it`);
    expect(list.stderr).toContain(`note: hello:${w.attTag} is not a pack (a cosign attestation)`);
    expect(list.stderr).toContain('note: hello:debug is not a pack (a container image)');
    const out = join(w.root, 'pulled');
    const pull = await runCli(['pull', `hello:${w.sigTag}`, '-o', out, '--registry', `${host}/staging`]);
    expect(pull.code).toBe(1);
    expect(pull.stderr).toContain('is not a pack');
    expect(existsSync(out)).toBe(false);
    expect(await skopeoInspectRaw(`${host}/${REPO}:${w.sigTag}`)).toEqual(w.sig);
  });

  it('into Harbor: the versions and cosign tags land under the source digests, read back; again: unchanged, exit 0', async () => {
    const host = w.host;
    const harbor = await startHarborStandin({ users: { admin: 'Harbor12345-cosign' }, projects: ['prod'] });
    try {
      const env = { PACKPUB_TO_USERNAME: 'admin', PACKPUB_TO_PASSWORD: 'Harbor12345-cosign', HOME: join(w.root, 'home'), DOCKER_CONFIG: join(w.root, 'docker') };
      const args = ['copy', 'hello', '--all', '--from', `${host}/staging`, '--to', `${harbor.host}/prod`, '--json'];
      const copy = await runCli(args, { env });
      expect(copy.code, copy.stderr).toBe(0);
      const report = JSON.parse(copy.stdout) as { summary: Record<string, number>; results: Array<Record<string, unknown>> };
      expectReportValid(report);
      expect(report.summary).toMatchObject({ total: 5, copied: 4, skipped: 1, failed: 0 });
      expect(report.results.find((r) => r['version'] === 'debug')).toMatchObject({ status: 'skipped', notPack: 'a container image' });
      // What Harbor's registry holds, read straight (not through packpub): the source's manifest bytes under every tag.
      const repo = `prod/${ARCHIVE}/hello`;
      const reader = new RegistryReader(harbor.registry.url, { bearer: harbor.token.adminToken(repo) });
      expect(await reader.manifest(repo, w.sigTag)).toEqual(w.sig);
      expect(await reader.manifest(repo, w.attTag)).toEqual(w.att);
      expect(sha256Digest((await reader.manifest(repo, '1.0.0')) ?? Buffer.alloc(0))).toBe(w.signed);
      expect(await reader.manifest(repo, 'debug')).toBeUndefined();
      const holdings = await tokenHoldings(harbor.registry.url, harbor.token.tokenFor, 'prod');
      expect(holdings.problems).toEqual([]);
      expect([...holdings.tags.keys()].sort()).toEqual([`${repo}:1.0.0`, `${repo}:1.1.0`, `${repo}:${w.attTag}`, `${repo}:${w.sigTag}`]);
      // Listed through Harbor's REST API as the source lists them.
      const list = await runCli(['list', 'hello', '--registry', `${harbor.host}/prod`, '-u', 'admin', '--password-stdin', '--json'], { stdin: 'Harbor12345-cosign', env });
      expect(list.code, list.stderr).toBe(0);
      const listed = (JSON.parse(list.stdout) as { packs: Array<{ versions: Array<{ version: string; notPack?: string }> }> }).packs[0]?.versions;
      expect(listed?.map((v) => [v.version, v.notPack])).toEqual([
        ['1.0.0', undefined],
        ['1.1.0', undefined],
        [w.attTag, 'a cosign attestation'],
        [w.sigTag, 'a cosign signature'],
      ]);
      const again = await runCli(args, { env });
      expect(again.code, again.stderr).toBe(0);
      expect((JSON.parse(again.stdout) as { summary: Record<string, number> }).summary).toMatchObject({ total: 5, unchanged: 4, skipped: 1, failed: 0 });
    } finally {
      await harbor.close();
    }
  });

  it('into Harbor before 2.8, which answers a signature 404 while the artifact it signs is not there: each version before its signature, exit 0 (was: FAILED, exit 1)', async () => {
    const host = w.host;
    const harbor = await startHarborStandin({ users: { admin: 'Harbor12345-cosign' }, projects: ['prod'], signatureNeedsSubject: true });
    // The signed version's manifest write is slow: a signature copied alongside would come first.
    const proxy = await startRecordingProxy(harbor.host, { onRequest: (r) => (r.method === 'PUT' && r.path.endsWith('/hello/manifests/1.0.0') ? { delayMs: 400 } : 'pass') });
    try {
      const env = { PACKPUB_TO_USERNAME: 'admin', PACKPUB_TO_PASSWORD: 'Harbor12345-cosign', HOME: join(w.root, 'home'), DOCKER_CONFIG: join(w.root, 'docker') };
      const copy = await runCli(['copy', 'hello', '--all', '--from', `${host}/staging`, '--to', `${proxy.host}/prod`, '--to-registry-type', 'harbor'], { env });
      expect(copy.code, copy.stdout + copy.stderr).toBe(0);
      expect(copy.stdout).toContain('4 copied, 1 skipped');
      expect(harbor.refusals).toEqual([]);
      const repo = `prod/${ARCHIVE}/hello`;
      const reader = new RegistryReader(harbor.registry.url, { bearer: harbor.token.adminToken(repo) });
      expect(await reader.manifest(repo, w.sigTag)).toEqual(w.sig);
      expect(sha256Digest((await reader.manifest(repo, '1.0.0')) ?? Buffer.alloc(0))).toBe(w.signed);
    } finally {
      await proxy.close();
      await harbor.close();
    }
  });
});
