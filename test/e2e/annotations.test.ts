import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedRegistry, skopeoInspectRaw, type SharedRegistry } from '../support/registry.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/files.js';
import { writePack } from '../support/packs.js';
import { runChildText } from '../support/spawner.js';

describe('push --annotation / --annotation-file (manifest annotations, as ORAS 1.0 writes them)', () => {
  let registry: SharedRegistry;
  let root: string;
  let cleanup: () => Promise<void>;
  let pack: string;
  const env = { SOURCE_DATE_EPOCH: '1700000000' };

  beforeAll(async () => {
    registry = await sharedRegistry();
    ({ dir: root, cleanup } = await tempDir());
    pack = await writePack(join(root, 'p'), { name: 'annotated', version: '1.0.0' });
    await writeFile(join(root, 'annotations.json'), JSON.stringify({ $manifest: { 'org.opencontainers.image.revision': '0123abc', 'z<&>': 'é "q"' } }));
  });
  afterAll(async () => {
    await registry?.stop();
    await cleanup?.();
  });

  it('adds them to the manifest with keys sorted and Go escaping, so the digest is reproducible', async () => {
    const args = ['--annotation', 'org.opencontainers.image.source=https://example.com/org/packs', '--annotation-file', 'annotations.json', '--json'];
    const run = await runCli(['push', pack, '--registry', `${registry.host}/${registry.base}/one`, ...args], { cwd: root, env });
    expect(run.code, run.stderr).toBe(0);
    const result = (JSON.parse(run.stdout) as { results: Array<{ digest: string; layerDigest: string; size: number }> }).results[0];
    const raw = (await skopeoInspectRaw(`${registry.host}/${registry.base}/one/spectro-packs/archive/annotated:1.0.0`)).toString();
    expect(raw).toBe(
      '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",' +
        '"config":{"mediaType":"application/vnd.unknown.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},' +
        `"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"${result?.layerDigest}","size":${result?.size},"annotations":{"org.opencontainers.image.title":"annotated-1.0.0.tar.gz"}}],` +
        '"annotations":{"org.opencontainers.image.created":"2023-11-14T22:13:20Z","org.opencontainers.image.revision":"0123abc",' +
        '"org.opencontainers.image.source":"https://example.com/org/packs","z\\u003c\\u0026\\u003e":"é \\"q\\""}}',
    );
    // The same pack and annotations elsewhere: the same manifest digest.
    const again = await runCli(['push', pack, '--registry', `${registry.host}/${registry.base}/two`, ...args], { cwd: root, env });
    expect(again.code).toBe(0);
    expect((JSON.parse(again.stdout) as { results: Array<{ digest: string }> }).results[0]?.digest).toBe(result?.digest);
  });

  it('lets a given created time replace the default one, as oras-go does', async () => {
    const run = await runCli(['push', pack, '--oci-layout', join(root, 'layout'), '-a', 'org.opencontainers.image.created=2020-01-01T00:00:00Z'], { env });
    expect(run.code, run.stderr).toBe(0);
    const { stdout: raw } = await runChildText('skopeo', ['inspect', '--raw', `oci:${join(root, 'layout/spectro-packs/archive/annotated')}:1.0.0`]);
    expect(raw).toContain('"annotations":{"org.opencontainers.image.created":"2020-01-01T00:00:00Z"}}');
  });

  it.each([
    [['--annotation', 'novalue'], '--annotation "novalue" is not KEY=VALUE'],
    // `-a org.opencontainers.image.revision=$GITHUB_SHA` with the variable unset (was: published with an empty revision, exit 0)
    [['-a', 'org.opencontainers.image.revision='], '--annotation "org.opencontainers.image.revision=" has an empty value\nhint: give the value (an unset CI variable often leaves it empty), or leave the annotation out'],
    [['--annotation', 'k= '], '--annotation "k= " has an empty value'],
    [['--annotation', 'k=1', '--annotation', 'k=2'], 'annotation k is given twice (--annotation)'],
    [['--annotation-file', 'layers.json'], '--annotation-file layers.json: "annotated-1.0.0.tar.gz" is not supported; packpub annotates the manifest only ("$manifest")'],
    [['--annotation-file', 'missing.json'], '--annotation-file missing.json cannot be read as JSON'],
  ])('refuses %j before pushing anything (exit 2)', async (flags, message) => {
    await writeFile(join(root, 'layers.json'), JSON.stringify({ 'annotated-1.0.0.tar.gz': { a: 'b' } }));
    const run = await runCli(['push', pack, '--registry', `${registry.host}/${registry.base}/refused`, ...flags], { cwd: root, env });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`error: ${message}`);
    await expect(skopeoInspectRaw(`${registry.host}/${registry.base}/refused/spectro-packs/archive/annotated:1.0.0`)).rejects.toThrow();
  });
});
