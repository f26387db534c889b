import type { Digest } from '../oci/digest.js';
import { validateTag, type PackRef } from '../oci/reference.js';
import type { PackTarget } from '../targets/open.js';
import { resolvePack } from './resolve-pack.js';

export interface TagResult {
  reference: string;
  digest: Digest;
  tags: string[];
}

/** Put more tags on a published pack version: the same manifest bytes under each new tag. */
export async function tagPack(target: PackTarget, ref: PackRef, tags: string[]): Promise<TagResult> {
  for (const tag of tags) validateTag(tag);
  const resolved = await resolvePack(target, ref);
  for (const tag of tags) {
    await target.store.pushManifest(resolved.repository, tag, resolved.fetched.bytes, resolved.fetched.descriptor.mediaType);
  }
  return { reference: resolved.reference, digest: resolved.fetched.descriptor.digest, tags };
}
