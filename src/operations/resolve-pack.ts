import { PackpubError } from '../errors.js';
import { packLayer, parseManifest, type Descriptor, type ImageManifest } from '../oci/manifest.js';
import { NOT_PACK_CONFIG_TYPES } from '../oci/media-types.js';
import { packRepository } from '../pack/naming.js';
import type { PackRef } from '../oci/reference.js';
import type { ReadableTarget } from '../targets/open.js';
import type { FetchedManifest } from '../targets/artifact-store.js';

export interface ResolvedPack {
  repository: string;
  reference: string;
  fetched: FetchedManifest;
  manifest: ImageManifest;
  layer: Descriptor;
}

/** The error for a version that is not published at `reference`. */
export function versionNotFound(reference: string, ref: PackRef): PackpubError {
  return new PackpubError('NOT_FOUND', `${reference} does not exist`, { hint: `list what is published with: packpub list ${ref.name}` });
}

/** Refuse a manifest whose config says it is another kind of one-layer artifact (a container image, a Helm chart). */
export function refuseOtherArtifact(manifest: ImageManifest, reference: string): void {
  const other = NOT_PACK_CONFIG_TYPES.get(manifest.config.mediaType);
  if (other !== undefined) {
    throw new PackpubError('REGISTRY', `${reference} is not a pack: its config is ${manifest.config.mediaType} (${other})`, {
      hint: 'check the name and --registry: this tag holds another kind of artifact, not a pack',
    });
  }
}

/** Read a published pack's manifest and its single archive layer, or fail with NOT_FOUND. */
export async function resolvePack(target: ReadableTarget, ref: PackRef): Promise<ResolvedPack> {
  const repository = packRepository(target.basePath, ref.name);
  const reference = target.store.reference(repository, ref.version);
  const fetched = await target.store.getManifest(repository, ref.version);
  if (fetched === undefined) throw versionNotFound(reference, ref);
  const manifest = parseManifest(fetched.bytes);
  refuseOtherArtifact(manifest, reference);
  const layer = packLayer(manifest);
  if (layer === undefined) {
    throw new PackpubError('REGISTRY', `${reference} is not a pack: its manifest has ${manifest.layers.length} layers (a pack has exactly one)`);
  }
  return { repository, reference, fetched, manifest, layer };
}
