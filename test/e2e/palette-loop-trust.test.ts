import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { staticProvider } from '../../src/credentials/chain.js';
import { sha256Digest } from '../../src/oci/digest.js';
import type { Descriptor } from '../../src/oci/manifest.js';
import { MEDIA_TYPE_OCI_MANIFEST } from '../../src/oci/media-types.js';
import { openGenericRegistryStore } from '../../src/targets/registry-store.js';
import { skipWaits } from '../support/clock.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { startPaletteStandin } from '../support/palette-standin.js';
import { startRecordingProxy } from '../support/recording-proxy.js';
import { holdVersions, registryAdmin } from '../support/registry-admin.js';
import { startRegistry } from '../support/registry.js';
import { setup } from '../support/stage.js';

/*
 * trust: `palette sync` without names confirms "every version under the base path". A pack repository also
 * holds tags that are no pack version: cosign's sha256-<hex>.sig/.att (a signed pack has one each), a container
 * image someone pushed there. Palette lists none of them, so waiting for them ended every such run on
 * --palette-timeout (10 minutes by default) with exit 3, "Palette may have refused the pack", for packs Palette
 * listed. Named, such a tag was waited for the same way. A real registry holds the tags; the Palette stand-in
 * syncs from it and, as Palette, indexes only packs.
 *
 * And `palette doctor` exit 0 says Palette is set up to sync the target. A Basic registry in Palette whose
 * endpoint names the other scheme than the registry speaks (https:// for a plain-HTTP registry, http:// for an
 * HTTPS one) matched by host and base path and passed every check, though Palette connects by that scheme and
 * each sync fails.
 */

const KEY = `apikey-${Math.random().toString(36).slice(2)}-tenant-admin`;
const REPO = 'np/spectro-packs/archive/hello';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';

const clock = skipWaits();
const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-palette-non-packs-');
  const registry = stack.add(await startRegistry());
  // A proxy answering manifest reads of cosign's tags 412, as a Harbor project that serves only signed artifacts
  // answers an attestation's (Palette, the stand-in, reads the registry straight).
  const proxy = stack.add(await startRecordingProxy(registry.host, {
    onRequest: (r) =>
      r.kind === 'manifest-get' && /\/manifests\/sha256-[0-9a-f]{64}\.(att|sig)$/.test(r.path)
        ? { status: 412, headers: { 'content-type': 'application/json' }, body: '{"errors":[{"code":"PROJECTPOLICYVIOLATION","message":"The image is not signed by cosign."}]}' }
        : 'pass',
  }));
  const labs = { [registry.host]: { url: registry.url }, [proxy.host]: { url: registry.url } };
  const palette = stack.add(await startPaletteStandin({ keys: { [KEY]: { role: 'tenant-admin' } }, labs, clock }));
  const env = { HOME: join(root, 'home'), DOCKER_CONFIG: join(root, 'docker'), SPECTROCLOUD_HOST: palette.url, SPECTROCLOUD_APIKEY: KEY };
  const at = ['--registry', `${registry.host}/np`];
  const registered = await runCli(['palette', 'register', ...at], { env });
  if (registered.code !== 0) throw new Error(registered.stderr);
  const pushed = await runCli(['push', await writePack(join(root, 'hello'), { name: 'hello', version: '1.0.0' }), ...at], { env });
  if (pushed.code !== 0) throw new Error(pushed.stderr);
  const admin = registryAdmin(registry);
  const signed = (await admin.digestOf(REPO, '1.0.0')) ?? '';
  const store = await openGenericRegistryStore({ host: registry.host, credentials: staticProvider('none', undefined) });
  stack.add({ close: () => store.close() });
  /** A manifest of `configType` and one layer under `tag`, pushed straight to the registry. */
  const put = async (tag: string, configType: string, layer: { mediaType: string; body: string }) => {
    const config = Buffer.from('{}');
    const configDesc: Descriptor = { mediaType: configType, digest: sha256Digest(config), size: config.length };
    const bytes = Buffer.from(layer.body);
    const layerDesc: Descriptor = { mediaType: layer.mediaType, digest: sha256Digest(bytes), size: bytes.length };
    for (const [d, b] of [[configDesc, config], [layerDesc, bytes]] as const) await store.pushBlob(REPO, d, () => Readable.from([b]));
    await store.pushManifest(REPO, tag, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE_OCI_MANIFEST, config: configDesc, layers: [layerDesc] })), MEDIA_TYPE_OCI_MANIFEST);
  };
  const sigTag = `sha256-${signed.slice('sha256:'.length)}.sig`;
  await put(sigTag, OCI_CONFIG, { mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', body: '{"critical":{}}' });
  await put(sigTag.replace(/\.sig$/, '.att'), OCI_CONFIG, { mediaType: 'application/vnd.dsse.envelope.v1+json', body: '{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}' });
  await put('debug', OCI_CONFIG, { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', body: 'an image' });
  const uid = [...palette.registries.values()].find((r) => r.spec['baseContentPath'] === 'np')?.uid ?? '';
  // For doctor: a registry in Palette at each scheme, each base path holding a pack.
  const spec = (endpoint: string, base: string) => ({ endpoint, baseContentPath: base, providerType: 'pack', isSyncSupported: true, auth: { type: 'noAuth' } });
  const wrong = palette.addRegistry('basic', 'wrong-scheme', spec(`https://${registry.host}`, 'sch'));
  palette.addRegistry('basic', 'right-scheme', spec(`http://${registry.host}`, 'ok'));
  palette.addRegistry('basic', 'sync-off', { ...spec(`http://${registry.host}`, 'off'), isSyncSupported: false });
  palette.addRegistry('basic', 'through-proxy', spec(`http://${proxy.host}`, 'np'));
  for (const base of ['sch', 'ok']) {
    const more = await runCli(['push', join(root, 'hello'), '--registry', `${registry.host}/${base}`], { env });
    if (more.code !== 0) throw new Error(more.stderr);
  }
  return { root, registry, proxy, palette, env, at, admin, sigTag, uid, wrong };
});
const fast = ['--palette-poll-interval', '0.02', '--palette-timeout', '60'];
const syncs = () => w.palette.registries.get(w.uid)?.syncRequests.length ?? 0;

describe('palette sync of a base path holding tags that are no pack version', () => {
  it('confirms the packs and leaves the signature and the image out, saying so; exit 0 (was: waited for them, exit 3 after --palette-timeout)', async () => {
    const before = syncs();
    const run = await runCli(['palette', 'sync', ...w.at, ...fast], { env: w.env });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/visible in Palette hello:1\.0\.0 \(packUid [0-9a-f]+\)/);
    expect(run.stdout + run.stderr).not.toContain('not visible');
    expect(run.stderr).toContain(
      `note: palette sync leaves out 3 tag(s) under registry ${w.registry.host}/np that hold no pack, which Palette never lists: hello:debug (a container image), hello:${w.sigTag.replace(/\.sig$/, '.att')} (a cosign attestation), hello:${w.sigTag} (a cosign signature)`,
    );
    expect(syncs()).toBe(before + 1);

    const json = await runCli(['palette', 'sync', ...w.at, ...fast, '--json'], { env: w.env });
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as { status: string; targets: Array<{ packs: Array<{ name: string; version: string; status: string }> }> };
    expect(report.status).toBe('visible');
    expect(report.targets[0]?.packs.map((p) => [p.name, p.version, p.status])).toEqual([['hello', '1.0.0', 'visible']]);
    // What Palette indexed: the pack only.
    expect([...(w.palette.registries.get(w.uid)?.index.get('hello')?.keys() ?? [])]).toEqual(['1.0.0']);
  });

  it('named, a tag that holds no pack is refused before any sync, as a version the target lacks is (was: synced, waited for, exit 3)', async () => {
    const before = syncs();
    for (const [tag, what] of [[w.sigTag, 'a cosign signature'], ['debug', 'a container image']] as const) {
      const run = await runCli(['palette', 'sync', `hello:${tag}`, 'hello:1.0.0', ...w.at, ...fast], { env: w.env });
      expect(run.code, run.stdout + run.stderr).toBe(1);
      expect(run.stderr).toContain(`error: ${w.registry.host}/${REPO}:${tag} is not a pack (${what}): Palette never lists it; nothing was synced`);
      expect(run.stdout).toBe('');
    }
    expect(syncs()).toBe(before);
    // The registry still holds the tags: sync only reads.
    expect(await w.admin.digestOf(REPO, w.sigTag)).toMatch(/^sha256:/);
  });
});

describe('palette doctor on a Basic endpoint of the other scheme', () => {
  it('fails palette-endpoint, naming the endpoint to write; exit 1 (was: every check ok, exit 0)', async () => {
    const run = await runCli(['palette', 'doctor', '--registry', `${w.registry.host}/sch`], { env: w.env });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toContain(
      `FAIL  palette-endpoint: Palette registry wrong-scheme (${w.wrong}) has endpoint https://${w.registry.host}, but ${w.registry.host} speaks plain HTTP: Palette's sync cannot read it\n        fix: edit wrong-scheme: Endpoint http://${w.registry.host}\n`,
    );
    expect(run.stdout).toContain('1 problem found');
    // Palette's records are as they were: doctor only reads.
    expect(w.palette.registries.get(w.wrong)?.spec['endpoint']).toBe(`https://${w.registry.host}`);
  });

  it('the scheme the registry speaks passes, as before', async () => {
    const run = await runCli(['palette', 'doctor', '--registry', `${w.registry.host}/ok`, '--json'], { env: w.env });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { problems: number; findings: { check: string; ok: boolean }[] };
    expect(report.problems).toBe(0);
    expect(report.findings.filter((f) => f.check === 'palette-endpoint')).toEqual([]);
    expect(report.findings.find((f) => f.check === 'palette-registry')).toMatchObject({ ok: true });
  });

  it('palette register finding such a registry creates none beside it, says what keeps it from syncing, exit 1 (was: "already serves", nothing more; then a warning, exit 0)', async () => {
    const count = w.palette.registries.size;
    const run = await runCli(['palette', 'register', '--registry', `${w.registry.host}/sch`], { env: w.env });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toContain(`Palette registry wrong-scheme (${w.wrong}) is registered for ${w.registry.host}/sch but cannot sync it as it is: nothing created`);
    expect(run.stderr).toBe(
      `error: Palette registry wrong-scheme has endpoint https://${w.registry.host}, but ${w.registry.host} speaks plain HTTP: its every sync fails until it has Endpoint http://${w.registry.host}; edit it in Palette (packpub palette doctor checks it)\n`,
    );
    const off = await runCli(['palette', 'register', '--registry', `${w.registry.host}/off`, '--json'], { env: w.env });
    expect(off.code, off.stderr).toBe(1);
    expect(JSON.parse(off.stdout)).toMatchObject({ status: 'exists', problems: ['Palette registry sync-off has sync off: Palette lists no pack from it until it is turned on'] });
    expect(off.stderr).toContain('error: Palette registry sync-off has sync off');
    const right = await runCli(['palette', 'register', '--registry', `${w.registry.host}/ok`], { env: w.env });
    expect(right.code).toBe(0);
    expect(right.stderr).toBe('');
    expect(w.palette.registries.size).toBe(count);
  });

  it('auth.tls.enabled is read too: a failure when it agrees with the wrong endpoint; a note, no failure, when the two disagree (was: the endpoint alone judged)', async () => {
    const spec = (endpoint: string, base: string, tls: boolean) => ({ endpoint, baseContentPath: base, providerType: 'pack', isSyncSupported: true, auth: { type: 'noAuth', tls: { enabled: tls, insecureSkipVerify: false } } });
    const H = w.registry.host;
    const cases = [
      // base, endpoint, auth.tls.enabled, doctor's exit code, the palette-endpoint finding
      ['tls-both-wrong', `https://${H}`, true, 1, `FAIL  palette-endpoint: Palette registry tls-both-wrong (UID) has endpoint https://${H} and TLS on (auth.tls.enabled true), but ${H} speaks plain HTTP: Palette's sync cannot read it\n        fix: edit tls-both-wrong: Endpoint http://${H}, TLS off\n`],
      ['tls-disagree', `https://${H}`, false, 0, `ok    palette-endpoint: Palette registry tls-disagree (UID) has endpoint https://${H} and TLS off (auth.tls.enabled false), and ${H} speaks plain HTTP: the two disagree, and which one Palette's sync follows is not documented; make both say plain HTTP (edit tls-disagree: Endpoint http://${H}, TLS off)\n`],
      ['tls-only-wrong', H, true, 0, `ok    palette-endpoint: Palette registry tls-only-wrong (UID) has TLS on (auth.tls.enabled true), and ${H} speaks plain HTTP: the two disagree`],
      ['tls-agrees', `http://${H}`, false, 0, undefined],
    ] as const;
    for (const [base, endpoint, tls, code, says] of cases) {
      const uid = w.palette.addRegistry('basic', base, spec(endpoint, base, tls));
      const pushed = await runCli(['push', join(w.root, 'hello'), '--registry', `${H}/${base}`]);
      expect(pushed.code, pushed.stderr).toBe(0);
      const run = await runCli(['palette', 'doctor', '--registry', `${H}/${base}`], { env: w.env });
      expect(run.code, run.stdout + run.stderr).toBe(code);
      if (says === undefined) expect(run.stdout).not.toContain('palette-endpoint');
      else expect(run.stdout).toContain(says.replace('UID', uid));
      expect(run.stdout).toContain(code === 0 ? 'no problems found' : '1 problem found');
      // register finding it creates nothing, and judges as doctor does (its exit code too).
      const count = w.palette.registries.size;
      const register = await runCli(['palette', 'register', '--registry', `${H}/${base}`], { env: w.env });
      expect(register.code, register.stderr).toBe(code);
      expect(w.palette.registries.size).toBe(count);
      if (says === undefined) expect(register.stderr).toBe('');
      else expect(register.stderr).toContain(code === 1 ? `its every sync fails until it has Endpoint http://${H}, TLS off; edit it in Palette` : "the two disagree, and which one Palette's sync follows is not documented");
      // doctor and register only read: Palette's record is as it was.
      expect(w.palette.registries.get(uid)?.spec['endpoint']).toBe(endpoint);
    }
  });

  it("palette sync reads no manifest of cosign's tags: a registry refusing them (412) does not stop it (was: exit 1, the refusal)", async () => {
    w.proxy.clear();
    const run = await runCli(['palette', 'sync', '--registry', `${w.proxy.host}/np`, ...fast], { env: w.env });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/visible in Palette hello:1\.0\.0 \(packUid [0-9a-f]+\)/);
    expect(run.stderr).toContain('note: palette sync leaves out 3 tag(s)');
    expect(w.proxy.count((r) => r.kind === 'manifest-get' && /sha256-/.test(r.path))).toBe(0);
    expect(w.proxy.count((r) => r.kind === 'manifest-get' && r.path.endsWith('/hello/manifests/debug'))).toBe(1);
  });

  it("list there: cosign's tags whose reads are refused (412) are named by their tags, the listing stands (was: exit 1, the refusal)", async () => {
    const run = await runCli(['list', 'hello', '--registry', `${w.proxy.host}/np`]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/hello +1\.0\.0 +sha256:/);
    const att = w.sigTag.replace(/\.sig$/, '.att');
    // copy reads them as list does, and is refused the same (was: "copy takes it as it is"; copy --all failed it).
    const refused = 'the registry refuses to serve its manifest, so copy fails it too; pull, inspect and tag refuse it';
    expect(run.stderr).toContain(`note: hello:${att} is not a pack (a cosign attestation); ${refused}`);
    expect(run.stderr).toContain(`note: hello:${w.sigTag} is not a pack (a cosign signature); ${refused}`);
    const copied = await runCli(['copy', 'hello', '--all', '--from', `${w.proxy.host}/np`, '--to', `oci:${join(w.root, 'copied-412')}`]);
    expect(copied.code, copied.stdout + copied.stderr).toBe(1);
    expect(copied.stderr).toContain(`hello:${att}`);
    expect(copied.stderr).toContain('412 PROJECTPOLICYVIOLATION');
    expect(run.stderr).toContain('note: hello:debug is not a pack (a container image)');
    // A pack version refused the same way still stops it: that is no tag whose name says what it holds.
    const hook = w.proxy.onRequest;
    w.proxy.onRequest = (r) => (r.kind === 'manifest-get' && r.path.endsWith('/hello/manifests/1.0.0') ? { status: 412, headers: { 'content-type': 'application/json' }, body: '{"errors":[{"code":"PROJECTPOLICYVIOLATION","message":"The image is not signed by cosign."}]}' } : 'pass');
    try {
      const refused = await runCli(['list', 'hello', '--registry', `${w.proxy.host}/np`]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('412 PROJECTPOLICYVIOLATION');
    } finally {
      w.proxy.onRequest = hook;
    }
  });
});

describe('palette sync where the project serves only signed artifacts', () => {
  const POLICY = { status: 412, headers: { 'content-type': 'application/json' }, body: '{"errors":[{"code":"PROJECTPOLICYVIOLATION","message":"The image is not signed by cosign."}]}' };

  it('an unsigned version the registry refuses (412) is synced with the rest and reported not visible, saying why; exit 3 (was: exit 1 at once, nothing synced)', async () => {
    const hook = w.proxy.onRequest;
    // 3.0.0 is listed too (some runs), and no manifest is served for it (404): Palette cannot read it either.
    let listed = false;
    // 2.0.0 is listed, and its manifest refused by the policy; Palette, reading the registry, never finds it.
    w.proxy.onRequest = (r) =>
      r.kind === 'tags' && r.path.split('?')[0]?.endsWith('/hello/tags/list') === true
        ? { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: REPO, tags: ['1.0.0', '2.0.0', ...(listed ? ['3.0.0'] : [])] }) }
        : r.kind === 'manifest-get' && r.path.endsWith('/hello/manifests/2.0.0')
          ? POLICY
          : 'pass';
    try {
      const proxied = () => [...w.palette.registries.values()].find((r) => r.spec['endpoint'] === `http://${w.proxy.host}`)?.syncRequests.length ?? 0;
      for (const named of [[], ['hello:2.0.0', 'hello:1.0.0']]) {
        const before = proxied();
        const run = await runCli(['palette', 'sync', ...named, '--registry', `${w.proxy.host}/np`, ...fast], { env: w.env });
        expect(run.code, run.stdout + run.stderr).toBe(3);
        expect(run.stdout).toMatch(/^visible in Palette hello:1\.0\.0 \(packUid [0-9a-f]+\)$/m);
        const line = run.stdout.split('\n').find((l) => l.startsWith('NOT VISIBLE in Palette hello:2.0.0: ')) ?? '';
        expect(line).toContain("Palette's sync of through-proxy finished but does not list hello:2.0.0: ");
        expect(line).toContain('412 PROJECTPOLICYVIOLATION');
        expect(line).toContain('Palette reads the registry as packpub does: sign the version (cosign) or ask a project admin to relax the policy');
        expect(line).not.toContain('timed out');
        expect(run.stderr).toContain('error: published, but not visible in Palette (exit 3)');
        expect(proxied()).toBe(before + 1);
      }
      // Without names, a listed tag no manifest is served for is reported so once the others are confirmed (was: waited
      // for until --palette-timeout, then "Palette may have refused the pack").
      listed = true;
      const run = await runCli(['palette', 'sync', '--registry', `${w.proxy.host}/np`, ...fast], { env: w.env });
      expect(run.code, run.stdout + run.stderr).toBe(3);
      expect(run.stdout).toMatch(/^visible in Palette hello:1\.0\.0 \(packUid [0-9a-f]+\)$/m);
      expect(run.stdout).toContain('NOT VISIBLE in Palette hello:2.0.0: ');
      expect(run.stdout).toContain(
        `NOT VISIBLE in Palette hello:3.0.0: Palette's sync of through-proxy finished but does not list hello:3.0.0: the tag is listed, but no manifest is served for it by ${w.proxy.host} (404, also when read again after a pause), so Palette cannot read it either; push the version again, or check the registry's replication or cache\n`,
      );
      expect(run.stdout).not.toContain('timed out');
    } finally {
      w.proxy.onRequest = hook;
    }
  });
});

describe('palette sync of a base path holding a repository nested below spectro-packs/archive', () => {
  it('leaves it out, saying so, and refuses it named; exit 0 for the packs (was: waited for until --palette-timeout, exit 3 "Palette may have refused the pack")', async () => {
    // Pushed by another tool: packpub's own pack names are one path component, and Palette lists a pack as one repository directly below spectro-packs/archive.
    await holdVersions(w.registry, [{ repository: 'np/spectro-packs/archive/team/app', tag: '1.0.0' }]);
    const before = syncs();
    const run = await runCli(['palette', 'sync', ...w.at, ...fast], { env: w.env });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^visible in Palette hello:1\.0\.0 \(packUid [0-9a-f]+\)\n$/);
    expect(run.stderr).toContain(`team/app:1.0.0 (a repository nested below spectro-packs/archive: no pack's)`);
    expect(syncs()).toBe(before + 1);
    const named = await runCli(['palette', 'sync', 'team/app:1.0.0', ...w.at, ...fast], { env: w.env });
    expect(named.code, named.stdout + named.stderr).toBe(2);
    expect(named.stderr).toContain('error: pack name "team/app" holds "/": Palette lists a pack as one repository directly below spectro-packs/archive, named as its pack.json name is (one path component)\n');
    expect(named.stdout).toBe('');
    expect(syncs()).toBe(before + 1);
    // doctor counts the pack repositories Palette lists packs from: hello's, not team/app's (was: 2).
    const doctor = await runCli(['palette', 'doctor', ...w.at], { env: w.env });
    expect(doctor.stdout).toContain(`ok    base-repository: ${w.registry.host}/np/spectro-packs/archive exists (1 pack repository below it)\n`);
  });
});
