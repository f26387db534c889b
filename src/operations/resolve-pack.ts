import { PackpubError, isPackpubError } from '../errors.js';
import { GO_REFUSES_HINT, packLayer, parseManifest, type Descriptor, type ImageManifest } from '../oci/manifest.js';
import { MEDIA_TYPE_OCI_INDEX, NOT_PACK_CONFIG_TYPES } from '../oci/media-types.js';
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

/** The error for a version that is not published at `reference`; `flags` choose the target again in the hint's command. */
export function versionNotFound(reference: string, ref: PackRef, flags = ''): PackpubError {
  return new PackpubError('NOT_FOUND', `${reference} does not exist`, { hint: `list what is published with: packpub list ${ref.name}${flags}` });
}

/**
 * The pack manifest in `bytes` and its single layer; refused, naming `reference`, when the tag holds something
 * else: an image index, another kind of manifest, another kind of one-layer artifact, or several layers.
 */
export function packManifest(bytes: Uint8Array, reference: string): { manifest: ImageManifest; layer: Descriptor } {
  let manifest: ImageManifest;
  try {
    manifest = parseManifest(bytes);
  } catch (err) {
    if (!isPackpubError(err, 'REGISTRY')) throw err;
    const index = imageIndex(bytes);
    throw new PackpubError('REGISTRY', `${reference} is not a pack: ${index !== undefined ? `it holds an image index (${index}, e.g. a multi-platform image), not an image manifest` : err.message}`, {
      hint: index === undefined && err.hint !== undefined ? err.hint : 'check the name and --registry: this tag holds another kind of artifact, not a pack',
      cause: err,
    });
  }
  refuseOtherArtifact(manifest, reference);
  const layer = packLayer(manifest);
  if (layer === undefined) {
    throw new PackpubError('REGISTRY', `${reference} is not a pack: its manifest has ${manifest.layers.length} layers (a pack has exactly one)`);
  }
  return { manifest, layer };
}

/** The manifests of the image index `bytes` hold (`1 manifest`, `no manifests`), or undefined when they hold none. */
function imageIndex(bytes: Uint8Array): string | undefined {
  const doc = jsonObject(bytes);
  const entries = doc?.['manifests'];
  // An index has manifests; a document naming an index's type but holding layers is named by its own words.
  if (doc === undefined || !(Array.isArray(entries) || (doc['mediaType'] === MEDIA_TYPE_OCI_INDEX && !('layers' in doc)))) return undefined;
  return Array.isArray(entries) ? `${entries.length} manifest${entries.length === 1 ? '' : 's'}` : 'no manifests';
}

function jsonObject(bytes: Uint8Array): Record<string, unknown> | undefined {
  try {
    const doc: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
    return typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? (doc as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Refuse a manifest whose config says it is another kind of one-layer artifact (a container image, a Helm chart). */
function refuseOtherArtifact(manifest: ImageManifest, reference: string): void {
  const other = NOT_PACK_CONFIG_TYPES.get(manifest.config.mediaType);
  if (other !== undefined) {
    throw new PackpubError('REGISTRY', `${reference} is not a pack: its config is ${manifest.config.mediaType} (${other})`, {
      hint: 'check the name and --registry: this tag holds another kind of artifact, not a pack',
    });
  }
}

/** Read a published pack's manifest and its single archive layer, or fail with NOT_FOUND; `signal` gives the read up. */
export async function resolvePack(target: ReadableTarget, ref: PackRef, signal?: AbortSignal): Promise<ResolvedPack> {
  const repository = packRepository(target.basePath, ref.name);
  const reference = target.store.reference(repository, ref.version);
  const fetched = await target.store.getManifest(repository, ref.version, undefined, signal);
  if (fetched === undefined) throw versionNotFound(reference, ref, target.flags);
  const { manifest, layer } = packManifest(fetched.bytes, reference);
  return { repository, reference, fetched, manifest, layer };
}

/** cosign's tag for what it attaches to the image with digest sha256:<hex> (its SIGNATURE_SPEC "tag-based discovery"). */
const COSIGN_TAG = /^sha256-[0-9a-f]{64}\.(sig|att|sbom)$/;
const COSIGN_KINDS: Readonly<Record<string, string>> = { sig: 'a cosign signature', att: 'a cosign attestation', sbom: 'an SBOM attached by cosign' };

/** What a cosign tag (`sha256-<hex>.sig`, `.att`, `.sbom`) holds, or undefined for any other tag. */
export function cosignAttachment(tag: string): string | undefined {
  const kind = COSIGN_TAG.exec(tag)?.[1];
  return kind === undefined ? undefined : COSIGN_KINDS[kind];
}

/** A tag's manifest as list and copy see it: a pack (its manifest and layer), or what it holds instead (`notPack`). */
export interface HeldManifest {
  /** Undefined when the bytes are not an image manifest (an index, another document). */
  manifest?: ImageManifest;
  /** The pack layer, when the tag holds a pack. */
  layer?: Descriptor;
  notPack?: string;
}

export function heldManifest(bytes: Uint8Array, tag: string): HeldManifest {
  let manifest: ImageManifest;
  try {
    manifest = parseManifest(bytes);
  } catch (err) {
    // Named as pull, inspect, tag and copy name it when refusing it (was: "not an OCI image manifest" for an index).
    const index = imageIndex(bytes);
    // One Go refuses or reads otherwise (a size of 467.0, a key twice): why, as pull says it.
    const why = isPackpubError(err) && err.hint === GO_REFUSES_HINT ? `not an OCI image manifest as Go reads it: ${err.message}` : 'not an OCI image manifest';
    return { notPack: index === undefined ? why : `an image index of ${index}` };
  }
  const other = NOT_PACK_CONFIG_TYPES.get(manifest.config.mediaType);
  const layer = packLayer(manifest);
  if (other === undefined && layer !== undefined) return { manifest, layer };
  return { manifest, notPack: cosignAttachment(tag) ?? other ?? `an artifact with ${manifest.layers.length} layers` };
}
