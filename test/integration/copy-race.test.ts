import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { staticProvider } from '../../src/credentials/chain.js';
import { copyPacks } from '../../src/operations/copy.js';
import { packRepository } from '../../src/pack/naming.js';
import type { ArtifactStore } from '../../src/targets/artifact-store.js';
import { openTarget } from '../../src/targets/open.js';
import { pushTestPack } from '../support/artifacts.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { layoutHoldings, RegistryReader } from '../support/registry-reader.js';
import { sharedRegistry } from '../support/registry.js';
import { setup } from '../support/stage.js';

/*
 * copy checks the destination version before it uploads the blobs and writes the manifest after. Another
 * publisher that writes the same version in between (as `push` or another copy would) must not be
 * overwritten silently and reported as copied: the version is a conflict, the other publisher's manifest
 * stays. Checked on a real registry and on an OCI layout, by reading what each holds afterwards.
 */

const ENV = { SOURCE_DATE_EPOCH: '1700000000' };

describe('copy does not overwrite a version another publisher wrote during the copy', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-copy-race-');
    const registry = await sharedRegistry();
    const src = join(root, 'staging');
    const pack = await writePack(join(root, 'packs/hello-1.0.0'), { name: 'hello', version: '1.0.0' });
    const pushed = await runCli(['push', pack, '--oci-layout', src], { env: ENV });
    expect(pushed.code, pushed.stderr).toBe(0);
    return { root, registry, src };
  });

  const targets: Array<[string, () => { option: { registry: string } | { ociLayout: string }; held: () => Promise<string | undefined> }]> = [
    [
      'a registry',
      () => ({
        option: { registry: `${w.registry.host}/${w.registry.base}` },
        held: async () => (await new RegistryReader(w.registry.url).tagDigests(w.registry.base)).get(`${packRepository(w.registry.base, 'hello')}:1.0.0`),
      }),
    ],
    [
      'an OCI layout',
      () => ({
        option: { ociLayout: join(w.root, 'prod-layout') },
        held: async () => [...(await layoutHoldings(join(w.root, 'prod-layout'))).tags.entries()].find(([k]) => k.endsWith('/hello:1.0.0'))?.[1],
      }),
    ],
  ];

  it.each(targets)('on %s', async (_what, destination) => {
    const { option, held } = destination();
    const credentials = staticProvider('none', undefined);
    const from = await openTarget({ ociLayout: w.src, credentials });
    const to = await openTarget({ ...option, credentials });
    const other = await openTarget({ ...option, credentials });
    const repo = packRepository(to.basePath, 'hello');
    // The other publisher writes hello:1.0.0 while the copy uploads its first blob.
    let theirs: string | undefined;
    const store = Object.create(to.store) as ArtifactStore;
    store.pushBlob = async (...args) => {
      theirs ??= (await pushTestPack(other.store, repo, '1.0.0', Buffer.from('another publisher'))).digest;
      return to.store.pushBlob(...args);
    };
    try {
      const report = await copyPacks(from, { ...to, store }, { name: 'hello', version: '1.0.0' });
      expect(theirs).toBeDefined();
      const [result] = report.results;
      expect(result?.status).toBe('conflict');
      expect(result?.error?.code).toBe('CONFLICT');
      expect(result?.existingDigest).toBe(theirs);
      expect(result?.error?.message).toContain(`was written by another publisher during this copy (it holds ${theirs}`);
      expect(report.summary).toMatchObject({ total: 1, copied: 0, conflict: 1 });
      expect(await held()).toBe(theirs);
    } finally {
      await Promise.all([from.store.close(), to.store.close(), other.store.close()]);
    }
  });
});
