import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { staticProvider } from '../../src/credentials/chain.js';
import { parsePackRef } from '../../src/oci/reference.js';
import { tagPack } from '../../src/operations/tag.js';
import { packRepository } from '../../src/pack/naming.js';
import type { ArtifactStore } from '../../src/targets/artifact-store.js';
import { openTarget } from '../../src/targets/open.js';
import { pushTestPack } from '../support/artifacts.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { registryAdmin } from '../support/registry-admin.js';
import { sharedRegistry } from '../support/registry.js';
import { setup } from '../support/stage.js';

/*
 * tag reads each new tag before writing it. Another publisher that sets the tag in between must not have
 * it moved without --force (a real registry has no compare-and-swap: tag looks again right before the write).
 */

describe('tag does not move a tag another publisher set during the run', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-tag-race-');
    const registry = await sharedRegistry();
    const pack = await writePack(join(root, 'hello-1.0.0'), { name: 'hello', version: '1.0.0' });
    const pushed = await runCli(['push', pack, '--registry', `${registry.host}/${registry.base}`], { env: { SOURCE_DATE_EPOCH: '1700000000' } });
    expect(pushed.code, pushed.stderr).toBe(0);
    return { registry };
  });

  it('on a registry', async () => {
    const credentials = staticProvider('none', undefined);
    const target = await openTarget({ registry: `${w.registry.host}/${w.registry.base}`, credentials });
    const other = await openTarget({ registry: `${w.registry.host}/${w.registry.base}`, credentials });
    const repo = packRepository(w.registry.base, 'hello');
    let theirs: string | undefined;
    // The other publisher sets 1.0 right after tag's first look at it.
    const store = Object.create(target.store) as ArtifactStore;
    store.getManifest = async (repository, reference) => {
      const answer = await target.store.getManifest(repository, reference);
      if (reference === '1.0' && theirs === undefined) theirs = (await pushTestPack(other.store, repo, '1.0', Buffer.from('another publisher'))).digest;
      return answer;
    };
    try {
      const err = await tagPack({ ...target, store }, parsePackRef('hello:1.0.0'), ['1.0']).catch((e: unknown) => e);
      expect(theirs).toBeDefined();
      expect(err).toMatchObject({ code: 'CONFLICT' });
      expect((err as Error).message).toContain(`:1.0 was set to ${theirs} by another publisher during this run`);
      expect(await registryAdmin(w.registry).digestOf(repo, '1.0')).toBe(theirs);
    } finally {
      await Promise.all([target.store.close(), other.store.close()]);
    }
  });
});
