import semver from 'semver';
import { PackpubError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { stringAnnotation } from '../oci/manifest.js';
import { ANNOTATION_CREATED } from '../oci/media-types.js';
import { baseRepository, packNameOf, packRepository } from '../pack/naming.js';
import { isValidRepositoryPath } from '../oci/reference.js';
import { isOversizedManifest, isRegistryError } from '../registry/errors.js';
import { RETRY_DEFAULTS, backoffDelayMs, currentRetryClock } from '../registry/retry.js';
import { isAmbiguousTag } from '../targets/artifact-store.js';
import type { ReadableTarget } from '../targets/open.js';
import { mapConcurrent } from '../util/concurrency.js';
import { cosignAttachment, heldManifest } from './resolve-pack.js';

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

/** Versions of one pack whose manifest `list` reads for digest, size and created time (the newest ones). */
export const MAX_DETAILS = 1000;
/** Manifests one `list` reads in all: past it, each pack gets its newest versions' details, the same number for every pack. */
export const MAX_DETAILS_PER_RUN = 5000;
/** Pack repositories `list` without a name reads (a tag list each): 20 times pack-central's packs. */
export const MAX_PACKS = 5000;
/** Versions of all packs together that one `list` keeps. */
export const MAX_VERSIONS = 100_000;
/**
 * Listed tags whose manifest read answered "not there" that one `list` reads again, once each, after a pause:
 * a replica or cache behind the tag list answers so for a moment. A registry naming thousands of tags it does
 * not serve is no passing fault, and costs at most this many more requests.
 */
export const MAX_REREADS = 100;
/** The bounds one `list` keeps to (ListOptions.limits); the defaults are the MAX_* above. */
export interface ListLimits {
  /** Pack repositories read without a name (MAX_PACKS). */
  packs: number;
  /** Versions of all packs together (MAX_VERSIONS). */
  versions: number;
  /** Manifests read per pack (MAX_DETAILS). */
  detailsPerPack: number;
  /** Manifests read in all (MAX_DETAILS_PER_RUN). */
  detailsPerRun: number;
  /** Listed tags read again after a 404 (MAX_REREADS). */
  rereads: number;
}

const DEFAULT_LIMITS: ListLimits = { packs: MAX_PACKS, versions: MAX_VERSIONS, detailsPerPack: MAX_DETAILS, detailsPerRun: MAX_DETAILS_PER_RUN, rereads: MAX_REREADS };

/** `notPack` of a tag an OCI layout's index.json names for several manifests (skopeo reads the first, ORAS the last). */
export const TWICE = "a tag the layout's index.json names for more than one manifest: skopeo reads the first, ORAS the last";

/** `notPack` of a tag whose manifest answer is over the 4 MiB limit. */
export const TOO_LARGE = 'a manifest larger than 4 MiB';

/** `notPack` of a tag the tag list names whose manifest the registry does not serve (404, also when read again). */
export const NOT_SERVED = 'the tag is listed, but no manifest is served for it';

/** The stderr note for a repository the store's listing names whose tag list answers 404 (readTagLists). */
export function tagsNotServedNote(name: string, location: string, command: 'list' | 'copy'): string {
  const what = command === 'list' ? 'no version of it is listed' : 'no version of it was copied';
  return `note: ${location} lists the repository of ${name}, but answers 404 for its tag list, also when asked again: ${what} (a first push that stopped before its manifest, every version deleted, or a replica behind the catalog?)`;
}

/** The pause before a listed tag that answered "not there" is read again: the retry policy's first delay, or `delayMs` (--retry-delay). */
export async function pauseBeforeReread(delayMs: number | undefined, signal?: AbortSignal): Promise<void> {
  const clock = currentRetryClock();
  await clock.sleep(backoffDelayMs(0, () => clock.random(), delayMs ?? RETRY_DEFAULTS.initialDelayMs), signal);
}

export interface ListedPack {
  name: string;
  repository: string;
  versions: ListedVersion[];
  /**
   * Listing every pack: the store's repository listing (the catalog) names the repository, but its tag list
   * answers that the store does not know it (404, also when read again after a pause), so `versions` is empty.
   */
  tagsNotServed?: true;
  /** Tags listed without digest, size and created time (past MAX_DETAILS, or the run's budget): cosign's first, then the oldest. */
  detailsOmitted?: number;
}

export interface ListOptions {
  /** Only this pack. */
  name?: string;
  /** Read each version's manifest for digest, size and created time (default true). */
  details?: boolean;
  concurrency?: number;
  /** The pause before a listed tag that answered "not there" is read again (default: the retry policy's first delay, 250 ms). */
  rereadDelayMs?: number;
  /** With details: the tags whose manifest is read (default every one the bounds leave); the others are listed without (counted in detailsOmitted). */
  readTag?: (tag: string) => boolean;
  /**
   * A version whose manifest read a registry policy refuses (412, not an immutable tag rule: Harbor serving only
   * signed artifacts): true keeps it listed without details (palette sync reports it), false (default) ends the listing with the refusal.
   */
  onRefused?: (version: { name: string; version: string }, err: unknown) => boolean;
  /** Lower (or other) bounds than the defaults, e.g. to keep a listing of a huge registry small; each one left out is its default. */
  limits?: Partial<ListLimits>;
}

/** Versions that parse as semver (leading `v` allowed) in semver order, then the others in string order. */
export function sortVersions(versions: string[]): string[] {
  // Each version parsed once (semver.compare parses both sides on every comparison: ~n log n parses).
  const parsed: Array<{ text: string; version: semver.SemVer }> = [];
  const other: string[] = [];
  for (const text of versions) {
    const version = semver.parse(text, { loose: true });
    if (version === null) other.push(text);
    else parsed.push({ text, version });
  }
  parsed.sort((a, b) => a.version.compare(b.version) || (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
  other.sort();
  return [...parsed.map((p) => p.text), ...other];
}

/** Packs under the target's base path and their versions. */
export async function listPacks(target: ReadableTarget, options: ListOptions = {}): Promise<ListedPack[]> {
  const store = target.store;
  // A bound given as undefined (`{ packs: opts.maxPacks }` with none set) is left out, as the type allows: its default.
  const given = Object.entries(options.limits ?? {}).filter(([, n]) => n !== undefined);
  const limits: ListLimits = { ...DEFAULT_LIMITS, ...Object.fromEntries(given) };
  for (const [what, n] of Object.entries(limits)) {
    if (!Number.isSafeInteger(n) || n < 0) throw new PackpubError('USAGE', `listPacks: limits.${what} must be a whole number of 0 or more, not ${String(n)}`);
  }
  const base = store.reference(baseRepository(target.basePath));
  const listed =
    options.name !== undefined
      ? [packRepository(target.basePath, options.name)]
      : await store.listRepositories(baseRepository(target.basePath));
  // A name no registry may hold, from a store's own listing (Harbor's or ECR's API): it names nothing readable.
  const repositories = [...new Set(listed)].sort().flatMap((repository) => {
    const name = packNameOf(target.basePath, repository);
    return name === undefined || !isValidRepositoryPath(repository) ? [] : [{ name, repository }];
  });
  // A request per repository, then per version: a huge or hostile catalog is refused before the first, not read for hours.
  if (repositories.length > limits.packs) {
    throw new PackpubError('REGISTRY', `${base} holds ${repositories.length} repositories; listing every pack reads at most ${limits.packs} (a tag list each)`, {
      hint: 'name the pack (packpub list <name>), or give a base path deeper down; if the registry should not hold that many, report it to its owner',
    });
  }
  const concurrency = options.concurrency ?? 8;
  let versionCount = 0;
  const tagLists = await readTagLists(store, repositories.map((r) => r.repository), {
    named: options.name !== undefined,
    concurrency,
    ...(options.rereadDelayMs === undefined ? {} : { rereadDelayMs: options.rereadDelayMs }),
    rereads: limits.rereads,
    onTags: (tags) => {
      versionCount += tags.length;
      if (versionCount > limits.versions) {
        throw new PackpubError('REGISTRY', `the packs under ${base} have more than ${limits.versions} versions together; list keeps at most that many`, {
          hint: 'name the pack (packpub list <name>); if the registry should not hold that many tags, report it to its owner',
        });
      }
    },
  });
  // One manifest read per version, for the newest MAX_DETAILS of each pack and MAX_DETAILS_PER_RUN in all: a
  // repository with a huge tag list (or a registry inventing one) must not cost a request per tag.
  const perPack = options.details === false ? 0 : detailsPerPack(tagLists.map((tags) => tags?.length ?? 0), limits);
  const packs: ListedPack[] = [];
  const reads: Array<{ name: string; versions: ListedVersion[]; index: number; repository: string }> = [];
  repositories.forEach(({ name, repository }, i) => {
    const listedTags = tagLists[i];
    if (listedTags === undefined) {
      packs.push({ name, repository, versions: [], tagsNotServed: true });
      return;
    }
    const tags = sortVersions(listedTags);
    if (tags.length === 0 && options.name === undefined) return;
    const versions = tags.map((version): ListedVersion => ({ version, reference: store.reference(repository, version) }));
    const readTag = options.readTag;
    const detailed = detailedIndexes(tags, perPack).filter((i) => readTag === undefined || readTag(tags[i] ?? ''));
    for (const index of detailed) reads.push({ name, versions, index, repository });
    const omitted = tags.length - detailed.length;
    packs.push({ name, repository, versions, ...(omitted > 0 && options.details !== false ? { detailsOmitted: omitted } : {}) });
  });
  const read = async ({ name, versions, index, repository }: (typeof reads)[number]): Promise<boolean> => {
    const listed = versions[index];
    const onRefused = options.onRefused;
    return listed === undefined || (await readDetails(store, repository, listed, onRefused && ((err) => onRefused({ name, version: listed.version }, err))));
  };
  const served = await mapConcurrent(reads, concurrency, read);
  // A tag the tag list just named, answered 404: read once more after a pause (as a retry waits), all such tags
  // together, so that one passing 404 does not list a published version as "not a pack".
  const again = reads.filter((_, i) => served[i] === false).slice(0, limits.rereads);
  if (again.length > 0) {
    await pauseBeforeReread(options.rereadDelayMs);
    await mapConcurrent(again, concurrency, read);
  }
  return packs;
}

export interface TagListOptions {
  /** The repositories were named by the user, not by the store's listing: a 404 is "no such pack", an empty list. */
  named: boolean;
  concurrency: number;
  /** The pause before a tag list that answered 404 is read again (default: the retry policy's first delay). */
  rereadDelayMs?: number;
  /** Tag lists read again after a 404 at most (MAX_REREADS). */
  rereads?: number;
  /** Each tag list as it is read (a bound to check): may throw. */
  onTags?: (tags: string[]) => void;
  signal?: AbortSignal;
}

/**
 * The tags of each repository, in the order given. A repository the store's own listing named whose tag list
 * answers 404 (distribution: blobs and no manifest yet, a first push that ended before it; distribution 3 also
 * once every tag was deleted; or a replica behind the catalog) is read once more after a pause, all such together,
 * as a listed tag's manifest is; still 404, it is undefined: the caller says so rather than leaving it out unseen.
 */
export async function readTagLists(store: ReadableTarget['store'], repositories: readonly string[], options: TagListOptions): Promise<Array<string[] | undefined>> {
  const read = async (repository: string): Promise<string[] | undefined> => {
    const tags = options.named || store.listTagsKnown === undefined ? await store.listTags(repository) : await store.listTagsKnown(repository);
    if (tags !== undefined) options.onTags?.(tags);
    return tags;
  };
  const lists = await mapConcurrent(repositories, options.concurrency, read);
  const again = lists.flatMap((tags, i) => (tags === undefined ? [i] : [])).slice(0, options.rereads ?? MAX_REREADS);
  if (again.length > 0) {
    await pauseBeforeReread(options.rereadDelayMs, options.signal);
    const reread = await mapConcurrent(again, options.concurrency, (i) => read(repositories[i] ?? ''));
    again.forEach((i, k) => (lists[i] = reread[k]));
  }
  return lists;
}

/**
 * Which of a pack's tags (sortVersions order) get their manifest read, at most `count`: the newest versions first,
 * then other tags, and cosign's (sha256-<hex>.sig ...) last: they never hold a pack, and a signed pack has as many.
 */
function detailedIndexes(tags: string[], count: number): number[] {
  if (count >= tags.length) return tags.map((_, i) => i);
  const rank = (tag: string) => (cosignAttachment(tag) !== undefined ? 0 : semver.valid(tag, { loose: true }) === null ? 1 : 2);
  const ranks = tags.map(rank);
  return tags
    .map((_, i) => i)
    .sort((a, b) => (ranks[b] ?? 0) - (ranks[a] ?? 0) || b - a)
    .slice(0, count)
    .sort((a, b) => a - b);
}

/** The largest number of newest versions per pack (at most MAX_DETAILS) whose manifests fit MAX_DETAILS_PER_RUN. */
function detailsPerPack(counts: number[], limits: ListLimits): number {
  const reads = (cap: number) => counts.reduce((n, c) => n + Math.min(c, cap), 0);
  let low = 0;
  let high = limits.detailsPerPack;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (reads(mid) <= limits.detailsPerRun) low = mid;
    else high = mid - 1;
  }
  return low;
}

/** A 412 (not PRECONDITION: an immutable tag rule) for a read: a project policy refusing to serve the artifact. */
export function refusedByPolicy(err: unknown): boolean {
  const cause: unknown = isRegistryError(err) ? err : (err as { cause?: unknown } | undefined)?.cause;
  return isRegistryError(cause) && cause.status === 412 && cause.ociCode !== 'PRECONDITION';
}

/** Read a listed tag's manifest into `listed`; false when the registry says it is not there. */
async function readDetails(store: ReadableTarget['store'], repository: string, listed: ListedVersion, onRefused: ((err: unknown) => boolean) | undefined): Promise<boolean> {
  let fetched: Awaited<ReturnType<typeof store.getManifest>>;
  try {
    fetched = await store.getManifest(repository, listed.version);
  } catch (err) {
    // A manifest over 4 MiB (registries take none larger; a pack's is under 1 KiB) is no pack: one such tag failed
    // the whole listing, exit 1.
    if (isOversizedManifest(err)) {
      listed.notPack = TOO_LARGE;
      return true;
    }
    // An OCI layout's index naming the tag for several manifests: noted, the rest listed (was: the first taken, exit 0).
    if (isAmbiguousTag(err)) {
      listed.notPack = TWICE;
      return true;
    }
    if (!refusedByPolicy(err)) throw err;
    // A registry that serves only signed artifacts (Harbor's policy: 412) refuses reading a cosign attestation,
    // which has no signature of its own: the tag's name says what it holds; the rest of the listing stands.
    const cosign = cosignAttachment(listed.version);
    if (cosign === undefined) {
      if (onRefused?.(err) === true) return true;
      throw err;
    }
    listed.notPack = cosign;
    return true;
  }
  if (fetched === undefined) {
    // Listed, not served (a cache or replica behind, a manifest lost): pull, inspect, tag and copy fail on it.
    listed.notPack = NOT_SERVED;
    return false;
  }
  delete listed.notPack;
  listed.digest = fetched.descriptor.digest;
  const held = heldManifest(fetched.bytes, listed.version);
  if (held.notPack !== undefined) listed.notPack = held.notPack;
  else if (held.layer !== undefined) listed.size = held.layer.size;
  const created = stringAnnotation(held.manifest?.annotations, ANNOTATION_CREATED);
  if (created !== undefined) listed.created = created;
  return true;
}
