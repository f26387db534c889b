import semver from 'semver';
import type { Digest } from '../oci/digest.js';
import { stringAnnotation } from '../oci/manifest.js';
import { ANNOTATION_CREATED } from '../oci/media-types.js';
import { baseRepository, packNameOf, packRepository } from '../pack/naming.js';
import { isValidRepositoryPath } from '../oci/reference.js';
import type { ReadableTarget } from '../targets/open.js';
import { mapConcurrent } from '../util/concurrency.js';
import { heldManifest } from './resolve-pack.js';

export { cosignAttachment } from './resolve-pack.js';

export interface ListedVersion {
  version: string;
  reference: string;
  /** Manifest digest. */
  digest?: Digest;
  /** Size of the pack archive layer in bytes. */
  size?: number;
  /** `org.opencontainers.image.created` of the manifest. */
  created?: string;
  /** Set when the tag holds something other than a pack (pull, inspect, tag and copy refuse it): what it is. */
  notPack?: string;
}

/** Versions whose manifest `list` reads for digest, size and created time (the newest ones). */
export const MAX_DETAILS = 1000;

export interface ListedPack {
  name: string;
  repository: string;
  versions: ListedVersion[];
  /** Older versions listed without digest, size and created time (more than MAX_DETAILS versions). */
  detailsOmitted?: number;
}

export interface ListOptions {
  /** Only this pack. */
  name?: string;
  /** Read each version's manifest for digest, size and created time (default true). */
  details?: boolean;
  concurrency?: number;
}

/** Versions that parse as semver (leading `v` allowed) in semver order, then the others in string order. */
export function sortVersions(versions: string[]): string[] {
  const parsed = versions.filter((v) => semver.valid(v, { loose: true }) !== null);
  const other = versions.filter((v) => semver.valid(v, { loose: true }) === null);
  parsed.sort((a, b) => semver.compare(a, b, { loose: true }) || (a < b ? -1 : a > b ? 1 : 0));
  other.sort();
  return [...parsed, ...other];
}

/** Packs under the target's base path and their versions. */
export async function listPacks(target: ReadableTarget, options: ListOptions = {}): Promise<ListedPack[]> {
  const store = target.store;
  const repositories =
    options.name !== undefined
      ? [packRepository(target.basePath, options.name)]
      : await store.listRepositories(baseRepository(target.basePath));
  const packs: ListedPack[] = [];
  for (const repository of repositories.sort()) {
    const name = packNameOf(target.basePath, repository);
    // A name no registry may hold, from a store's own listing (Harbor's or ECR's API): it names nothing readable.
    if (name === undefined || !isValidRepositoryPath(repository)) continue;
    const tags = sortVersions(await store.listTags(repository));
    if (tags.length === 0 && options.name === undefined) continue;
    // One manifest read per version, for the newest MAX_DETAILS only: a repository with a huge tag list
    // (or a registry inventing one) must not cost a request per tag.
    const firstDetailed = Math.max(0, tags.length - MAX_DETAILS);
    const versions = await mapConcurrent(tags, options.concurrency ?? 8, async (version, i): Promise<ListedVersion> => {
      const listed: ListedVersion = { version, reference: store.reference(repository, version) };
      if (options.details === false || i < firstDetailed) return listed;
      const fetched = await store.getManifest(repository, version);
      if (fetched === undefined) {
        // Listed, not served (a cache or replica behind, a manifest lost): pull and the others answer "does not exist".
        listed.notPack = 'the tag is listed, but no manifest is served for it';
        return listed;
      }
      listed.digest = fetched.descriptor.digest;
      const held = heldManifest(fetched.bytes, version);
      if (held.notPack !== undefined) listed.notPack = held.notPack;
      else if (held.layer !== undefined) listed.size = held.layer.size;
      const created = stringAnnotation(held.manifest?.annotations, ANNOTATION_CREATED);
      if (created !== undefined) listed.created = created;
      return listed;
    });
    packs.push({ name, repository, versions, ...(firstDetailed > 0 && options.details !== false ? { detailsOmitted: firstDetailed } : {}) });
  }
  return packs;
}
