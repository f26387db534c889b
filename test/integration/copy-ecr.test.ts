import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyPacks } from '../../src/operations/copy.js';
import { openTarget, type PackTarget } from '../../src/targets/open.js';
import { startEcrWorld } from '../support/ecr-proxy.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * Promotion into and out of ECR (API stand-in + an ECR-like registry front): repositories do not appear
 * on push, so copy must create them; blob downloads redirect to "S3", which must not see credentials.
 */

describe('copy to and from ECR', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-copy-ecr-');
    const ecr = await startEcrWorld(stack, 'testAKIDCOPYECR');
    const staging = join(root, 'staging');
    const packs = [
      await writePack(join(root, 'packs/hello-1.0.0'), { name: 'hello', version: '1.0.0' }),
      await writePack(join(root, 'packs/hello-1.1.0'), { name: 'hello', version: '1.1.0' }),
    ];
    const pushed = await runCli(['push', ...packs, '--oci-layout', staging], { env: { SOURCE_DATE_EPOCH: '1700000000' } });
    expect(pushed.code, pushed.stderr).toBe(0);
    return { ...ecr, root, staging };
  });

  async function openEcr(): Promise<PackTarget> {
    return openTarget({ registry: `${w.host}/spectro-oci`, ...w.connection(w.root), ecrRepositories: { tagMutability: 'IMMUTABLE' } });
  }

  it('creates the repositories, copies by digest, and finds a re-run unchanged', async () => {
    const from = await openTarget({ ociLayout: w.staging });
    const to = await openEcr();
    try {
      const report = await copyPacks(from, to, { name: 'hello', all: true });
      expect(report.summary).toMatchObject({ total: 2, copied: 2, failed: 0 });
      expect([...w.standin.repositories.keys()].sort()).toEqual(['spectro-oci/spectro-packs/archive', 'spectro-oci/spectro-packs/archive/hello']);
      expect(w.standin.repositories.get('spectro-oci/spectro-packs/archive/hello')?.imageTagMutability).toBe('IMMUTABLE');
      for (const r of report.results) {
        const there = await to.store.getManifest('spectro-oci/spectro-packs/archive/hello', r.version);
        const here = await from.store.getManifest('spectro-packs/archive/hello', r.version);
        expect(there?.descriptor.digest).toBe(here?.descriptor.digest);
        expect(there?.bytes.equals(here?.bytes ?? Buffer.alloc(0))).toBe(true);
      }
      // Immutable tags: an identical digest is recognised before any write, so a re-run does not trip over them.
      const again = await copyPacks(from, to, { name: 'hello', all: true });
      expect(again.summary).toMatchObject({ total: 2, unchanged: 2, copiedBytes: 0 });
    } finally {
      await from.store.close();
      await to.store.close();
    }
  });

  it('copies back out of ECR through the S3 redirect without sending credentials there', async () => {
    const from = await openEcr();
    const to = await openTarget({ ociLayout: join(w.root, 'from-ecr') });
    try {
      w.proxy.s3Requests.length = 0;
      const report = await copyPacks(from, to, { all: true });
      expect(report.summary).toMatchObject({ total: 2, copied: 2 });
      expect(w.proxy.s3Requests.length).toBeGreaterThan(0);
      expect(w.proxy.s3Requests.every((r) => !r.hadAuthorization && r.status === 200)).toBe(true);
      const original = await openTarget({ ociLayout: w.staging });
      for (const version of ['1.0.0', '1.1.0']) {
        expect((await to.store.headManifest('spectro-packs/archive/hello', version))?.digest).toBe(
          (await original.store.headManifest('spectro-packs/archive/hello', version))?.digest,
        );
      }
    } finally {
      await from.store.close();
      await to.store.close();
    }
  });
});
