import type { Readable } from 'node:stream';
import type { PackpubError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import type { Descriptor, FetchedManifest } from '../oci/manifest.js';

export type { FetchedManifest } from '../oci/manifest.js';

const ambiguous = new WeakSet<object>();
/** `err`, marked as a tag an OCI layout's index names for several manifests (isAmbiguousTag). */
export function ambiguousTag<E extends object>(err: E): E {
  ambiguous.add(err);
  return err;
}
/** Whether `err` refused a tag the layout's index names for several manifests: list notes it, the rest listed. */
export function isAmbiguousTag(err: unknown): boolean {
  return typeof err === 'object' && err !== null && ambiguous.has(err);
}

/** What to do when another publisher wrote the same tag while this run was writing it. */
export const TAG_RACE_HINT =
  'two runs published this version at the same time; check which content it holds now (packpub inspect), and publish different content under a new version';

/** What to do when another run moved a tag while delete was removing it. */
export const DELETE_RACE_HINT = 'another run changed this version while delete ran; nothing was deleted: check what it holds now (packpub inspect) and run delete again if it should go';

export interface PushManifestOptions {
  /**
   * Write the tag only if it still holds this digest (`null`: only if the tag does not exist). The OCI
   * layout checks this under its index lock, so check-and-write is atomic there (CONFLICT otherwise).
   * Registries offer no compare-and-swap (distribution-spec has no conditional PUT): they ignore it, and
   * callers check just before writing and read the tag back afterwards.
   */
  ifTagHolds?: Digest | null;
}

/**
 * Something the user must be told about a repository that does not stop the push: e.g. an existing ECR
 * repository that keeps its own resource tags where others were asked. Carried into the pack's result.
 */
export interface StoreWarning {
  message: string;
  hint?: string;
}

export interface PrepareRepositoryOptions {
  /**
   * The repository holds only packpub's empty marker artifact (`<base>/spectro-packs/archive`), no pack:
   * an existing one is not compared with the settings asked for new repositories.
   */
  marker?: boolean;
}

export interface PushBlobOptions {
  /** A repository of the same store holding this blob, to mount it from (see pushBlob). */
  mountFrom?: string;
  /** Write the blob even where the store holds a file of its name and size (one blobIntact found damaged). */
  replace?: boolean;
}

export type StoreKind = 'oci-layout' | 'generic' | 'harbor' | 'ecr';

/**
 * What removing a published version takes away on a store:
 * - `tag`: only the tag; the manifest stays as long as other tags point at it (Harbor's tag and artifact
 *   API, ECR `BatchDeleteImage` by tag, the OCI layout's index);
 * - `manifest`: the manifest by digest, and with it every tag that points at it (a distribution-spec
 *   registry: `DELETE /v2/<name>/manifests/<digest>`), so it is only safe when no other tag points there.
 */
export type DeleteScope = 'tag' | 'manifest';

export interface DeleteTagRequest {
  repository: string;
  tag: string;
  /** The digest the tag held when the caller looked; a store that can check it refuses (CONFLICT) when it moved. */
  digest: Digest;
  /** The other tags of the repository that point at `digest` (the caller found them); they must survive. */
  otherTags: readonly string[];
}

/**
 * Where packs live: a registry (generic, Harbor, ECR) or a local OCI image layout.
 * Every operation works through this interface, so any store can stand where another stands
 * (the oras-go "Target" idea: fetch, push, tag, resolve, list roles composed into one).
 * Repository names are full paths below the host, e.g. `proj/spectro-packs/archive/hello`.
 */
export interface ArtifactStore {
  readonly kind: StoreKind;
  /** `host[:port]` of a registry, or the layout directory as given. */
  readonly location: string;
  /** A reference for user messages, e.g. `harbor.example.com/p/spectro-packs/archive/x:1.0.0` or `oci:./oci-packs/...:1.0.0`. */
  reference(repository: string, tag?: string): string;

  /**
   * The manifest under a tag or digest, or undefined when the tag, digest or repository does not exist.
   * `known`: a manifest the caller already holds (bytes that hash to its digest), for instance one this
   * machine published before; a store that can ask "still this digest?" without the bytes being sent again
   * (a registry: a conditional read) answers `known` itself when the reference resolves to its digest.
   * `signal`: aborting it gives the read up at once (ABORTED), whatever request is in flight.
   */
  getManifest(repository: string, reference: string, known?: FetchedManifest, signal?: AbortSignal): Promise<FetchedManifest | undefined>;
  /** Digest-only existence check of a manifest (HEAD); undefined when absent. */
  headManifest(repository: string, reference: string): Promise<Descriptor | undefined>;
  /**
   * Store manifest bytes under a tag or under their digest (reference = digest: untagged).
   * Returns the digest the store reports (checked against the local digest where the store sends one).
   */
  pushManifest(repository: string, reference: string, bytes: Buffer, mediaType: string, options?: PushManifestOptions): Promise<Digest>;

  /**
   * Whether the store holds the blob. `size` (its descriptor's): a store that can check it cheaply (an OCI layout: one
   * stat) counts a file of another size as missing, as a host crash or a copy of the layout killed mid-file leaves it.
   */
  hasBlob(repository: string, digest: Digest, size?: number): Promise<boolean>;
  /**
   * Whether the store serves a blob hasBlob said it holds, by reading its first byte (a registry's HEAD may be answered
   * by a cache or proxy that lies): false only when the blob is not there. Absent where hasBlob looks at the blob itself.
   */
  servesBlob?(repository: string, digest: Digest): Promise<boolean>;
  /**
   * Whether the blob hasBlob said it holds has the bytes its digest names, read whole: where hasBlob trusts a file's
   * size (the OCI layout), one damaged at its own size (a flipped bit, a region a crash zeroed) was held, and a copy
   * into the layout said `copied` over a version pull then refused. Absent where the store checks what it takes.
   */
  blobIntact?(repository: string, descriptor: Descriptor): Promise<boolean>;
  /**
   * Upload a blob; `open` may be called more than once (retries), each call returning a fresh stream.
   * `mountFrom`: a repository of the same store that holds the blob; a registry may then link it from
   * there without the bytes being sent (stores that cannot, upload).
   */
  pushBlob(repository: string, descriptor: Descriptor, open: () => Readable, options?: PushBlobOptions): Promise<void>;
  /**
   * A stream of the blob's bytes, verified against the descriptor while it flows (oci/digest.ts
   * `verifying`): read to the end, it proves the content; otherwise it errors with DIGEST_MISMATCH.
   * `signal`: aborting it gives the download up at once (ABORTED), the request or the body in flight.
   */
  fetchBlob(repository: string, descriptor: Descriptor, signal?: AbortSignal): Promise<Readable>;

  /** Tags of a repository (unsorted); empty when the repository does not exist. */
  listTags(repository: string): Promise<string[]>;
  /**
   * listTags, but undefined when the store answers that it does not know the repository (a registry's 404
   * NAME_UNKNOWN), for a repository its own listing named: distribution answers so for one holding blobs
   * and no manifest (a first push that ended before its manifest), distribution 3 also once every tag was
   * deleted, and a replica behind the catalog. Absent where the two cannot differ (the OCI layout).
   */
  listTagsKnown?(repository: string): Promise<string[] | undefined>;
  /** Repositories whose name starts with `prefix/` (every level below it). */
  listRepositories(prefix: string): Promise<string[]>;

  /** How deleteTag removes a version (see DeleteScope). */
  readonly deleteScope: DeleteScope;
  /**
   * Remove `tag` so that it no longer resolves, keeping `otherTags`: NOT_FOUND when the tag is not there,
   * CONFLICT when a `manifest`-scope store is asked to delete content other tags still point at.
   */
  deleteTag(request: DeleteTagRequest): Promise<void>;

  /**
   * Make sure a repository can receive pushes (ECR CreateRepository, Harbor project check); no-op elsewhere.
   * Fails when the repository exists with a setting that would make the push untrue to what was asked
   * (ECR: KMS encryption or key); a lesser difference becomes a warning (repositoryWarnings).
   */
  prepareRepository(repository: string, options?: PrepareRepositoryOptions): Promise<void>;
  /**
   * prepareRepository's read-only twin, for a dry run: makes the same comparison of an existing repository's
   * settings with what was asked, throwing the refusal prepareRepository would throw (CONFLICT) and keeping
   * the same warnings (repositoryWarnings), but only reads (ECR: DescribeRepositories, ListTagsForResource
   * when resource tags were asked; never CreateRepository). A repository that does not exist passes: the real
   * run would create it; with ECR's --no-create-repositories it is refused (NOT_FOUND) as the real run's
   * first write into it is, the base repository (`marker`) too. Harbor: a missing project is refused
   * (NOT_FOUND) as the real run refuses it, unless --create-project would create it. Absent where preparing
   * checks nothing.
   */
  checkRepository?(repository: string, options?: PrepareRepositoryOptions): Promise<void>;
  /**
   * The refusal (CONFLICT) pushManifest would throw for writing `tag`, which holds another digest `holds`
   * (ECR: a repository that existed with mutable tags where immutable ones were asked, in which packpub never
   * replaces a version, or an immutable repository; Harbor: an immutable tag rule matching the tag), reading
   * only; undefined when the store would replace it, or cannot tell. A dry run planning an overwrite (--force) asks it.
   */
  refusesReplacing?(repository: string, tag: string, holds: Digest): Promise<PackpubError | undefined>;
  /**
   * The refusal any write into `repository` would meet, known without a request from what checkRepository found
   * (Harbor: read-only mode); undefined when writing may go on. A dry run asks it where it plans a write, so a
   * version found unchanged is still planned as such.
   */
  refusesWriting?(repository: string): PackpubError | undefined;
  /**
   * The refusal deleting `tag` (which holds `digest`) would meet, read before anything is deleted (Harbor: read-only
   * mode, an immutable tag rule protecting the tag); undefined when the delete may go on, or the store cannot tell.
   * delete's plan asks it, so a dry run ends as the delete would.
   */
  refusesDeleting?(repository: string, tag: string, digest: Digest): Promise<PackpubError | undefined>;
  /** What prepareRepository (or checkRepository) found about `repository` that the user must be told (empty or absent: nothing). */
  repositoryWarnings?(repository: string): readonly StoreWarning[];
  /**
   * Say, without any request, that this run may push to `repository`, so reads made before
   * prepareRepository already ask for push rights (one token for pull and push); absent where reads and
   * writes need nothing alike (the OCI layout).
   */
  intendPush?(repository: string): void;
  /**
   * Say, without any request, that this run's uploads may mount blobs from `repository` (pushBlob
   * `mountFrom`), so every push token covers reading it; absent where mounting means nothing.
   */
  intendMountFrom?(repository: string): void;

  /** Release connections and timers. */
  close(): Promise<void>;
}

/** What a read-only operation may do to a store (list, inspect, pull, the source of a copy): it cannot write. */
export type ReadableStore = Pick<
  ArtifactStore,
  'kind' | 'location' | 'reference' | 'getManifest' | 'headManifest' | 'fetchBlob' | 'listTags' | 'listTagsKnown' | 'listRepositories'
>;

/** What publishing to a store needs (the destination of a copy): check what is there, then write blobs and manifests. */
export type WritableStore = Pick<
  ArtifactStore,
  | 'kind'
  | 'location'
  | 'reference'
  | 'getManifest'
  | 'headManifest'
  | 'hasBlob'
  | 'servesBlob'
  | 'blobIntact'
  | 'pushBlob'
  | 'pushManifest'
  | 'prepareRepository'
  | 'checkRepository'
  | 'refusesReplacing'
  | 'refusesWriting'
  | 'repositoryWarnings'
  | 'intendPush'
  | 'intendMountFrom'
>;

/** What removing published versions needs (delete): read tags and digests, then delete. */
export type DeletableStore = Pick<ArtifactStore, 'kind' | 'location' | 'reference' | 'getManifest' | 'headManifest' | 'listTags' | 'deleteScope' | 'deleteTag' | 'refusesDeleting'>;
