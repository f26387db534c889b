import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualPublish } from '../../bench/baseline.js';
import { VerificationFailed, verifyCopies, verifyManifests } from '../../bench/verify.js';
import { parseManifest, packLayer } from '../../src/oci/manifest.js';
import { sharedRegistry, skopeoInspectRaw, type SharedRegistry } from '../support/registry.js';
import { writePack } from '../support/packs.js';

// The bench's manual baseline must publish exactly ORAS 1.0's manifest, or its comparison is meaningless.
describe('bench: manual tar + ORAS-1.0-style push baseline', () => {
  // The worker's shared registry: this file's repositories under `bench` below the base path it hands the file.
  let registry: SharedRegistry;
  let work: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'packpub-bench-baseline-'));
    registry = await sharedRegistry();
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('pushes NAME-VERSION.tar.gz as the single layer of an ORAS 1.0 manifest, and skopeo reads back the same bytes', async () => {
    await writePack(join(work, 'packs', 'hello-folder'), { name: 'hello', version: '1.2.3' });
    const { pushed, cpuS } = await manualPublish([{ parent: join(work, 'packs'), folder: 'hello-folder', name: 'hello', version: '1.2.3' }], {
      registryHost: registry.host,
      basePath: `${registry.base}/bench`,
      workDir: work,
      created: new Date('2024-01-01T00:00:00Z'),
    });
    expect(cpuS).toBeGreaterThanOrEqual(0);
    expect(pushed).toHaveLength(1);
    const [p] = pushed;
    if (p === undefined) throw new Error('nothing pushed');
    expect(p.repository).toBe(`${registry.base}/bench/spectro-packs/archive/hello`);

    const raw = await skopeoInspectRaw(`${registry.host}/${p.repository}:1.2.3`);
    const manifest = parseManifest(raw);
    expect(manifest.config).toEqual({ mediaType: 'application/vnd.unknown.config.v1+json', digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2 });
    expect(packLayer(manifest)?.annotations).toEqual({ 'org.opencontainers.image.title': 'hello-1.2.3.tar.gz' });
    expect(manifest.annotations).toEqual({ 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' });
    expect('artifactType' in manifest).toBe(false);

    const ref = { ref: `docker://${registry.host}/${p.repository}:1.2.3`, digest: p.manifestDigest };
    await expect(verifyManifests([ref])).resolves.toBeUndefined();
    await expect(verifyCopies([ref], work)).resolves.toBeUndefined();
  });

  it('fails loudly when a published manifest is not what was reported', async () => {
    const wrong = { ref: `docker://${registry.host}/${registry.base}/bench/spectro-packs/archive/hello:1.2.3`, digest: `sha256:${'0'.repeat(64)}` };
    await expect(verifyManifests([wrong])).rejects.toBeInstanceOf(VerificationFailed);
    const missing = { ref: `docker://${registry.host}/${registry.base}/bench/spectro-packs/archive/nope:1.0.0`, digest: wrong.digest };
    await expect(verifyManifests([missing])).rejects.toThrow(/skopeo inspect failed/);
  });
});
