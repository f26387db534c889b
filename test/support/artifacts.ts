import { Readable } from 'node:stream';
import { sha256Digest, type Digest } from '../../src/oci/digest.js';
import { EMPTY_CONFIG, EMPTY_CONFIG_BYTES, packManifest, serializeManifest, type Descriptor } from '../../src/oci/manifest.js';
import { MEDIA_TYPE_LAYER_TAR, MEDIA_TYPE_OCI_MANIFEST } from '../../src/oci/media-types.js';
import type { ArtifactStore } from '../../src/targets/artifact-store.js';

export interface PushedTestPack {
  manifest: Buffer;
  digest: Digest;
  layerDesc: Descriptor;
}

/**
 * Push a pack-shaped artifact (the {} config, one layer, the ORAS 1.0 manifest with a fixed created time)
 * the way the push operation does: blobs the store lacks, then the manifest under `tag`.
 */
export async function pushTestPack(store: ArtifactStore, repo: string, tag: string, layer: Buffer, title = `${tag}.tar.gz`): Promise<PushedTestPack> {
  const layerDesc: Descriptor = { mediaType: MEDIA_TYPE_LAYER_TAR, digest: sha256Digest(layer), size: layer.length };
  for (const [desc, bytes] of [
    [EMPTY_CONFIG, EMPTY_CONFIG_BYTES],
    [layerDesc, layer],
  ] as const) {
    if (!(await store.hasBlob(repo, desc.digest))) await store.pushBlob(repo, desc, () => Readable.from([bytes]));
  }
  const manifest = serializeManifest(packManifest({ layer: layerDesc, title, created: new Date('2024-05-01T00:00:00Z') }));
  const digest = await store.pushManifest(repo, tag, manifest, MEDIA_TYPE_OCI_MANIFEST);
  return { manifest, digest, layerDesc };
}

/** A whole (small) stream in memory, for asserting on downloaded bytes. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
