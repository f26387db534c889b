import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { staticProvider } from '../../src/credentials/chain.js';
import { sha256Digest } from '../../src/oci/digest.js';
import type { Descriptor } from '../../src/oci/manifest.js';
import { MEDIA_TYPE_OCI_MANIFEST } from '../../src/oci/media-types.js';
import { packRepository } from '../../src/pack/naming.js';
import { openGenericRegistryStore } from '../../src/targets/registry-store.js';
import { runCli } from '../support/cli.js';
import { registryAdmin } from '../support/registry-admin.js';
import { sharedRegistry } from '../support/registry.js';
import { setup } from '../support/stage.js';

/*
 * A tag under the pack base path that holds something other than a pack: a one-layer container image and a
 * Helm chart have exactly one layer, as a pack does. pull, inspect, tag and copy must refuse them (exit 1, nothing
 * written) instead of extracting a container filesystem as if it were a pack, or tagging it.
 */

async function tarGz(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name, mtime: new Date(0) }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return gzipSync(Buffer.concat(chunks));
}

const NON_PACKS = [
  ['a container image', 'web', 'application/vnd.oci.image.config.v1+json', 'application/vnd.oci.image.layer.v1.tar+gzip'],
  ['a Docker image', 'worker', 'application/vnd.docker.container.image.v1+json', 'application/vnd.docker.image.rootfs.diff.tar.gzip'],
  ['a Helm chart', 'nginx', 'application/vnd.cncf.helm.config.v1+json', 'application/vnd.cncf.helm.chart.content.v1.tar+gzip'],
] as const;

describe('pull, inspect, tag and copy refuse a one-layer artifact that is not a pack', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-nonpack-');
    // The worker's registry, this file's artifacts under a base path of its own.
    const registry = await sharedRegistry();
    const apps = `${registry.base}/apps`;
    const store = await openGenericRegistryStore({ host: registry.host, credentials: staticProvider('none', undefined) });
    stack.add({ close: () => store.close() });
    for (const [, name, configType, layerType] of NON_PACKS) {
      const repo = packRepository(apps, name);
      const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
      const layer = await tarGz({ [`${name}/server.js`]: 'console.log("hi")\n' });
      const configDesc: Descriptor = { mediaType: configType, digest: sha256Digest(config), size: config.length };
      const layerDesc: Descriptor = { mediaType: layerType, digest: sha256Digest(layer), size: layer.length };
      await store.pushBlob(repo, configDesc, () => Readable.from([config]));
      await store.pushBlob(repo, layerDesc, () => Readable.from([layer]));
      const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE_OCI_MANIFEST, config: configDesc, layers: [layerDesc] }));
      await store.pushManifest(repo, '1.0.0', manifest, MEDIA_TYPE_OCI_MANIFEST);
    }
    return { root, registry, apps, admin: registryAdmin(registry) };
  });

  it('list names them as not packs', async () => {
    const list = await runCli(['list', '--registry', `${w.registry.host}/${w.apps}`]);
    expect(list.code, list.stderr).toBe(0);
    for (const [what, name] of NON_PACKS) {
      expect(list.stdout).toMatch(new RegExp(`^${name}\\s+1\\.0\\.0\\s+sha256:`, 'm'));
      expect(list.stderr).toContain(`note: ${name}:1.0.0 is not a pack (${what === 'a Docker image' ? 'a container image' : what}); pull, inspect, tag and copy refuse it`);
    }
    const json = await runCli(['list', 'web', '--registry', `${w.registry.host}/${w.apps}`, '--json']);
    expect(json.code, json.stderr).toBe(0);
    const [web] = (JSON.parse(json.stdout) as { packs: Array<{ versions: Array<Record<string, unknown>> }> }).packs;
    expect(web?.versions[0]).toMatchObject({ version: '1.0.0', notPack: 'a container image' });
    expect(web?.versions[0]).not.toHaveProperty('size');
  });

  it.each(NON_PACKS)('%s', async (_what, name, configType) => {
    const target = ['--registry', `${w.registry.host}/${w.apps}`];
    const reference = `${w.registry.host}/${packRepository(w.apps, name)}:1.0.0`;
    const message = `error: ${reference} is not a pack: its config is ${configType}`;

    const out = join(w.root, `${name}-out`);
    const pull = await runCli(['pull', `${name}:1.0.0`, '-o', out, ...target]);
    expect(pull.code).toBe(1);
    expect(pull.stderr).toContain(message);
    expect(pull.stdout).toBe('');
    expect(existsSync(out)).toBe(false);

    const inspect = await runCli(['inspect', `${name}:1.0.0`, ...target]);
    expect(inspect.code).toBe(1);
    expect(inspect.stderr).toContain(message);
    expect(inspect.stdout).toBe('');

    const tag = await runCli(['tag', `${name}:1.0.0`, '1.0', ...target]);
    expect(tag.code).toBe(1);
    expect(tag.stderr).toContain(message);
    expect(await w.admin.digestOf(packRepository(w.apps, name), '1.0')).toBeUndefined();

    const layout = join(w.root, `${name}-layout`);
    const copy = await runCli(['copy', `${name}:1.0.0`, '--from', `${w.registry.host}/${w.apps}`, '--to', `oci:${layout}`]);
    expect(copy.code).toBe(1);
    expect(copy.stderr).toContain(`FAILED ${name}:1.0.0`);
    expect(copy.stderr).toContain(`is not a pack: its config is ${configType}`);
    expect(existsSync(join(layout, 'spectro-packs', 'archive', name, 'index.json'))).toBe(false);
  });
});
