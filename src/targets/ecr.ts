import { isEcrPublicHost, parseEcrHost } from '../aws/ecr-host.js';
import { awsFilesOf, EcrClients } from '../aws/ecr-sdk.js';
import { iamDenialHint } from '../aws/iam-denial.js';
import { errorMessage, isPackpubError, PackpubError } from '../errors.js';
import { sha256Digest, type Digest } from '../oci/digest.js';
import { isRegistryError, type RegistryError } from '../registry/errors.js';
import { redactText } from '../util/redact.js';
import { EcrApi, type EcrRepositoryDetails } from './ecr-api.js';
import { awsConnectionOf, type EcrRepositoryOptions, type RegistryConnectionOptions } from './options.js';
import { onceper } from '../util/concurrency.js';
import type { RegistryClient } from '../registry/client.js';
import type { ArtifactStore, DeleteTagRequest, FetchedManifest, PrepareRepositoryOptions, StoreWarning } from './artifact-store.js';
import type { Descriptor } from '../oci/manifest.js';
import type { Readable } from 'node:stream';
import { asksRepositorySettings, checkEcrSettings } from './ecr-settings.js';
import { GenericRegistryStore } from './registry-store.js';

/*
 * AWS ECR on top of the generic registry store (registries.md, "AWS ECR"):
 * - repositories are not created on push: prepareRepository calls CreateRepository (already-exists is fine);
 * - `/v2/_catalog` answers 405: listRepositories uses DescribeRepositories;
 * - an immutable repository refuses to re-put a tag with 400 TAG_INVALID, even with the same manifest:
 *   same digest means "already published", a different one is a conflict.
 * - a version is deleted with BatchDeleteImage by tag: ECR keeps the image while other tags point at it.
 * Tags are listed through the registry API (Link pages of at most 1000), which the generic store does.
 */

/** A manifest digest no repository holds (the hash of this text, which nothing pushes): reading it tells whether a repository exists (probe). */
const PROBE_DIGEST = sha256Digest(Buffer.from('packpub: does this ECR repository exist?', 'utf8'));

export class EcrStore extends GenericRegistryStore {
  override readonly kind = 'ecr' as const;
  private readonly ensure: (repository: string) => Promise<void>;

  constructor(
    client: RegistryClient,
    private readonly api: EcrApi,
    private readonly settings: EcrRepositoryOptions,
  ) {
    super(client);
    this.ensure = onceper(async (key) => {
      const marker = key.startsWith('marker:');
      const repository = marker ? key.slice('marker:'.length) : key;
      const made = this.settings.create === false ? 'exists' : await this.create(repository);
      // The repository was already there: ECR keeps its own settings. Compare them with what was asked
      // (ecr-settings.ts), except on the base repository, which holds only packpub's empty marker.
      if (made === 'created' || marker) return;
      await this.compare(repository);
    });
    this.check = onceper(async (key) => {
      const marker = key.startsWith('marker:');
      const repository = marker ? key.slice('marker:'.length) : key;
      if (this.settings.create === false) await this.mustExist(repository);
      if (!marker) await this.compare(repository);
    });
  }

  /** checkRepository, once per repository (`marker:<repo>` for the base repository, as `ensure`). */
  private readonly check: (key: string) => Promise<void>;

  /** DescribeRepositories, once per repository and run (compare, refusesReplacing). */
  private readonly described = onceper((repository: string) => this.api.describeRepository(repository));

  /**
   * ECR's word on whether a repository exists, from a manifest read (ecr:BatchGetImage, which the push's own look-up
   * needs anyway): ECR answers a read in a missing repository 404 NAME_UNKNOWN, and a manifest missing from an existing
   * one 404 MANIFEST_UNKNOWN ("Requested image not found"). The manifest asked for is PROBE_DIGEST, which no content
   * has. Another 404 cannot tell: the repository is taken to be there; any other failure is `undefined`, with it.
   */
  private probe(repository: string): Promise<{ there: boolean | undefined; error?: unknown }> {
    return probeRepository(this.client, repository);
  }

  /**
   * With --no-create-repositories, a dry run's check that the repository exists, as the real run finds out on
   * its first write (NOT_FOUND, explain), by the registry's word (probe): no permission beyond ecr:BatchGetImage.
   */
  private async mustExist(repository: string): Promise<void> {
    const { there, error } = await this.probe(repository);
    if (there === false) throw this.missing(repository, error, true);
    if (there === undefined) throw error;
  }

  /**
   * CreateRepository, or 'exists' when IAM denies it for a repository that is there already. Least-privilege CI roles
   * often may push to repositories made beforehand (Terraform, an admin) but not create any: IAM answers
   * AccessDeniedException before ECR looks whether the repository exists, and every pack failed (exit 1) although
   * nothing needed creating. The registry tells (probe): a repository it does not know keeps the denial as the error.
   */
  private async create(repository: string): Promise<'created' | 'exists'> {
    try {
      return await this.api.createRepository(repository, this.settings);
    } catch (err) {
      if (!isPackpubError(err, 'AUTH') || (err.cause as { name?: string } | undefined)?.name !== 'AccessDeniedException') throw err;
      if ((await this.probe(repository)).there === true) return 'exists';
      throw new PackpubError('AUTH', err.message, {
        hint: `${iamDenialHint('ecr:CreateRepository', err.message, repository) ?? 'grant ecr:CreateRepository to the IAM identity packpub runs as'}, or create the repository beforehand (aws ecr create-repository --repository-name ${repository}) and push with that identity`,
        cause: err.cause,
      });
    }
  }

  /**
   * Compare an existing repository's own settings with what was asked (checkEcrSettings): throw the
   * refusal, remember the warnings. Reads only (DescribeRepositories, ListTagsForResource when --ecr-tag
   * was asked); a repository that does not exist has nothing to compare.
   */
  private async compare(repository: string): Promise<void> {
    if (!asksRepositorySettings(this.settings)) return;
    const found = await this.described(repository);
    if (found === undefined) return; // created by the real run, or (--no-create-repositories) the push says it is missing
    const tags =
      Object.keys(this.settings.tags ?? {}).length === 0 || found.arn === undefined
        ? undefined
        : await this.api.repositoryTags(found.arn).then(
            (t) => ({ tags: t }),
            (err: unknown) => ({ error: errorMessage(err) }),
          );
    const check = checkEcrSettings(this.settings, found, tags, this.reference(repository));
    if (check.refusal !== undefined) throw check.refusal;
    if (check.warnings.length > 0) this.warnings.set(repository, check.warnings);
    if (this.settings.tagMutability !== undefined && keepsLessThanAsked(this.settings, found)) {
      this.mutableDespiteAsked.set(repository, { mutability: found.imageTagMutability ?? 'MUTABLE', exclusions: found.tagMutabilityExclusions ?? [] });
    }
  }

  /** What the existing repositories' own settings made untrue of what was asked (checkEcrSettings). */
  private readonly warnings = new Map<string, StoreWarning[]>();

  /**
   * Repositories that were there before the run with other tag mutability settings than --ecr-tag-mutability (and
   * its exclusion filters) asked, under which ECR lets tags move that the asked settings make immutable (their
   * settings, as ECR reports them). Creation settings do not change an existing repository, so packpub itself keeps
   * the promise there: it never replaces such a tag, as ECR would not in a repository made as asked (pushManifest).
   * Whichever way it was asked: IMMUTABLE* onto MUTABLE, and MUTABLE_WITH_EXCLUSION '*.*.*' onto MUTABLE alike.
   */
  private readonly mutableDespiteAsked = new Map<string, { mutability: string; exclusions: readonly string[] }>();

  override async prepareRepository(repository: string, options?: PrepareRepositoryOptions): Promise<void> {
    await this.ensure(options?.marker === true ? `marker:${repository}` : repository);
    await super.prepareRepository(repository);
  }

  /**
   * The refusal replacing `tag` (which holds `holds`) would meet: packpub's own (mutableDespiteAsked), or ECR's in a
   * repository whose tags are immutable (IMMUTABLE, or a tag the exclusion filters of a *_WITH_EXCLUSION mutability
   * make so), where ECR answers the manifest PUT 400 TAG_INVALID. A dry run with --force planned "overwrite", exit 0,
   * there, and the real run ended in a conflict, exit 1. Read with DescribeRepositories (once per repository); a
   * repository that cannot be described (no ecr:DescribeRepositories) is planned as before.
   */
  async refusesReplacing(repository: string, tag: string, holds: Digest): Promise<PackpubError | undefined> {
    const own = this.refusesReplacingAsAsked(repository, tag, holds);
    if (own !== undefined) return own;
    const found = await this.described(repository).catch(() => undefined);
    if (found?.imageTagMutability === undefined || !tagImmutable(found.imageTagMutability, found.tagMutabilityExclusions ?? [], tag)) return undefined;
    return immutableConflict(this.reference(repository, tag), holds);
  }

  /** Replacing a tag of a repository that existed with mutable tags where immutable ones were asked (mutableDespiteAsked). */
  private refusesReplacingAsAsked(repository: string, tag: string, holds: Digest): PackpubError | undefined {
    const found = this.mutableDespiteAsked.get(repository);
    if (found === undefined) return undefined;
    const asked = this.settings.tagMutability ?? 'IMMUTABLE';
    const askedFilters = this.settings.tagMutabilityExclusions ?? [];
    // A tag the asked settings leave mutable (IMMUTABLE_WITH_EXCLUSION with `latest`) moves, as ECR would move it in a
    // repository made with them: `--tag latest` onto a new version was refused, exit 1. One the repository's own
    // settings make immutable is ECR's to refuse (400 TAG_INVALID), in its own words.
    if (!tagImmutable(asked, askedFilters, tag) || tagImmutable(found.mutability, found.exclusions, tag)) return undefined;
    const has = found.exclusions.length === 0 ? found.mutability : `${found.mutability} (exclusion filters ${found.exclusions.join(' ')})`;
    const filters = askedFilters.map((f) => ` --image-tag-mutability-exclusion-filters filterType=WILDCARD,filter='${f}'`).join('');
    return new PackpubError(
      'CONFLICT',
      `${this.reference(repository, tag)} already holds a different artifact (${holds}); --ecr-tag-mutability ${asked}${askedFilters.length === 0 ? '' : ` with --ecr-tag-mutability-exclusion ${askedFilters.join(' ')}`} was asked, but the ECR repository existed with ${has} tags, so replacing it is refused as ECR would refuse it in a repository made as asked`,
      {
        hint: `--ecr-tag-mutability applies to repositories packpub creates; give this one the settings asked (aws ecr put-image-tag-mutability --repository-name ${repository} --image-tag-mutability ${asked}${filters}) and publish a new version, or leave out --ecr-tag-mutability to replace the version with --force`,
      },
    );
  }

  /** prepareRepository's read-only twin: the same comparison, no CreateRepository; with creation off, the repository must exist (mustExist). */
  checkRepository(repository: string, options?: PrepareRepositoryOptions): Promise<void> {
    return this.check(options?.marker === true ? `marker:${repository}` : repository);
  }

  repositoryWarnings(repository: string): readonly StoreWarning[] {
    return this.warnings.get(repository) ?? [];
  }

  override async listRepositories(prefix: string): Promise<string[]> {
    const repos = await this.api.listRepositories(prefix);
    return repos.map((r) => r.name).sort();
  }

  override async pushManifest(repository: string, reference: string, bytes: Buffer, mediaType: string): Promise<Digest> {
    if (this.mutableDespiteAsked.has(repository) && !reference.startsWith('sha256:')) {
      const local = sha256Digest(bytes);
      const current = await super.headManifest(repository, reference);
      const refusal = current === undefined || current.digest === local ? undefined : this.refusesReplacingAsAsked(repository, reference, current.digest);
      if (refusal !== undefined) throw refusal;
    }
    try {
      return await super.pushManifest(repository, reference, bytes, mediaType);
    } catch (err) {
      if (!isRegistryError(err) || err.ociCode !== 'TAG_INVALID' || reference.startsWith('sha256:')) throw this.explain(err, repository);
      // Immutable repository: ECR refuses any re-put of an existing tag, even with identical bytes.
      const local = sha256Digest(bytes);
      const current = await super.headManifest(repository, reference).catch(() => undefined);
      if (current?.digest === local) return local;
      throw immutableConflict(this.reference(repository, reference), current?.digest, err);
    }
  }

  /** Always a plain upload: ECR does not document mounting blobs across repositories. */
  override async pushBlob(...[repository, descriptor, open]: Parameters<ArtifactStore['pushBlob']>): Promise<void> {
    try {
      await super.pushBlob(repository, descriptor, open);
    } catch (err) {
      throw this.explain(err, repository);
    }
  }

  override intendMountFrom(): void {}

  /** Manifest reads (ecr:BatchGetImage, which a push's look-up at the version needs too): an IAM denial named as such. */
  override async headManifest(repository: string, reference: string): Promise<Descriptor | undefined> {
    try {
      return await super.headManifest(repository, reference);
    } catch (err) {
      throw this.denied(err, repository);
    }
  }

  override async getManifest(repository: string, reference: string, known?: FetchedManifest, signal?: AbortSignal): Promise<FetchedManifest | undefined> {
    try {
      return await super.getManifest(repository, reference, known, signal);
    } catch (err) {
      throw this.denied(err, repository);
    }
  }

  /** A blob download (ecr:GetDownloadUrlForLayer: pull, inspect, copy's source): an IAM denial named as such. */
  override async fetchBlob(repository: string, descriptor: Descriptor, signal?: AbortSignal): Promise<Readable> {
    try {
      return await super.fetchBlob(repository, descriptor, signal);
    } catch (err) {
      throw this.denied(err, repository);
    }
  }

  /** A tag list (ecr:ListImages: list NAME, copy NAME, palette sync): an IAM denial named as such. */
  override async listTags(repository: string): Promise<string[]> {
    try {
      return await super.listTags(repository);
    } catch (err) {
      throw this.denied(err, repository);
    }
  }

  /** listTags of a repository DescribeRepositories named (list, copy --all). */
  override async listTagsKnown(repository: string): Promise<string[] | undefined> {
    try {
      return await super.listTagsKnown(repository);
    } catch (err) {
      throw this.denied(err, repository);
    }
  }

  /** A blob check (ecr:BatchCheckLayerAvailability, asked before every upload): an IAM denial named as such. */
  override async hasBlob(repository: string, digest: Digest): Promise<boolean> {
    try {
      return await super.hasBlob(repository, digest);
    } catch (err) {
      throw this.denied(err, repository);
    }
  }

  override readonly deleteScope = 'tag' as const;

  override deleteTag({ repository, tag, digest }: DeleteTagRequest): Promise<void> {
    return this.api.deleteTag(repository, tag, digest, this.reference(repository, tag));
  }

  /**
   * A missing repository when creation is off: say how to create it. An IAM denial on the registry API (403 DENIED
   * "User: ... is not authorized to perform: ecr:InitiateLayerUpload on resource: ..."): the action AWS names, not
   * "credentials rejected or no push permission ..., or run packpub login" (there is no login for ECR).
   */
  private explain(err: unknown, repository: string): unknown {
    if (isRegistryError(err) && err.ociCode === 'NAME_UNKNOWN' && this.settings.create === false) return this.missing(repository, err, false);
    return this.denied(err, repository);
  }

  /** An IAM denial the registry API names (403 DENIED "... not authorized to perform: ecr:<action> ..."), said as such; else `err`. */
  private denied(err: unknown, repository: string): unknown {
    const full = imageLimitReached(err, repository, this.location);
    if (full !== undefined) return full;
    // A HEAD's 403 carries no body, so no reason: IAM refusing the action the HEAD needs (ecr:BatchGetImage for a
    // manifest, ecr:BatchCheckLayerAvailability for a blob, which every upload asks first), or a token that expired (a
    // stale `docker login` one in the Docker config; packpub renews its own long before). A blob HEAD's read as
    // "credentials rejected or no push permission ..., or run packpub login", and there is no login for ECR.
    const headed = isRegistryError(err) && err.status === 403 && (err.ociMessage ?? '') === '' && err.method === 'HEAD' ? /\/(manifests|blobs)\//.exec(err.url ?? '')?.[1] : undefined;
    if (headed !== undefined) {
      const [what, action] = headed === 'manifests' ? ['read manifests', 'ecr:BatchGetImage'] : ['check for blobs', 'ecr:BatchCheckLayerAvailability'];
      return new PackpubError('AUTH', `ECR refused to ${what} of ${repository} on ${this.location} (403 to a HEAD, which carries no reason): ${action} is not allowed to this identity, or its token has expired`, {
        hint: `grant ${action} on the repository to the IAM identity packpub runs as (its IAM policy, or the repository's policy); a token a docker login left in the Docker config goes with: packpub logout ${this.location}`,
        cause: err,
      });
    }
    const action = isRegistryError(err) && err.status === 403 ? /\bnot authorized to perform: (ecr:[A-Za-z]+)/.exec(err.ociMessage ?? '')?.[1] : undefined;
    if (action !== undefined) {
      const said = (err as RegistryError).ociMessage ?? '';
      return new PackpubError('AUTH', `AWS denied ${action} for ${repository} on ${this.location}: ${redactText(said).slice(0, 400)}`, {
        hint: iamDenialHint(action, said, repository) ?? `grant ${action} on the repository to the IAM identity packpub runs as (its IAM policy, or the repository's policy), then run again`,
        cause: err,
      });
    }
    return err;
  }

  private missing(repository: string, cause: unknown, dryRun: boolean): PackpubError {
    // A registry with a CREATE_ON_PUSH repository creation template creates it on the first push, which a read cannot tell.
    const template = dryRun ? ' (unless a CREATE_ON_PUSH repository creation template of the registry creates it on the real push: a dry run cannot tell)' : '';
    return new PackpubError('NOT_FOUND', `ECR repository ${repository} does not exist on ${this.location}`, {
      hint: `drop --no-create-repositories so packpub creates it, or run: aws ecr create-repository --repository-name ${repository}${template}`,
      cause,
    });
  }

  override async close(): Promise<void> {
    this.api.close();
    await super.close();
  }
}

/** EcrStore.probe, for ECR Public too (ecr-public.ts), whose registry answers a read in a missing repository the same way. */
export async function probeRepository(client: RegistryClient, repository: string): Promise<{ there: boolean | undefined; error?: unknown }> {
  try {
    await client.getManifest(repository, PROBE_DIGEST);
    return { there: true };
  } catch (error) {
    if (isRegistryError(error) && error.ociCode === 'NAME_UNKNOWN') return { there: false, error };
    return isPackpubError(error, 'NOT_FOUND') ? { there: true } : { there: undefined, error };
  }
}

/**
 * ECR's (and ECR Public's) "Images per repository" quota: a manifest PUT of a new image into a full repository is answered
 * 403 DENIED "The repository with name '<r>' in registry with id '<id>' already has the maximum allowed number of images
 * which is '<n>'" (aws/containers-roadmap#2159, kubernetes-sigs/aws-ebs-csi-driver#1998, vllm-project/vllm#48065), which
 * read "credentials rejected or no push permission ...", with a hint to check the identity's permissions (or, on ECR
 * Public, to log in again). Undefined for any other failure.
 */
export function imageLimitReached(err: unknown, repository: string, location: string): PackpubError | undefined {
  if (!isRegistryError(err) || err.status !== 403) return undefined;
  const limit = /already has the maximum allowed number of images which is '(\d+)'/.exec(err.ociMessage ?? '')?.[1];
  if (limit === undefined) return undefined;
  return new PackpubError('REGISTRY', `${location} refused a new image in ${repository}: the repository already holds the maximum number of images, ${limit} (the "Images per repository" service quota)`, {
    hint: 'delete images no longer needed from it (packpub delete, or a lifecycle policy that expires old ones), or ask for a higher "Images per repository" quota in Service Quotas; a retry does not help',
    cause: err,
  });
}

/** ECR refusing to replace a tag of an immutable repository (400 TAG_INVALID), as a conflict. */
function immutableConflict(reference: string, holds: Digest | undefined, cause?: unknown): PackpubError {
  return new PackpubError('CONFLICT', `${reference} is immutable and already holds a different artifact${holds === undefined ? '' : ` (${holds})`}`, {
    hint: 'the ECR repository has immutable tags: publish a new version instead of replacing this one',
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Whether ECR keeps `tag` immutable in a repository of this tag mutability: IMMUTABLE / MUTABLE, turned over for a
 * tag one of the exclusion filters of IMMUTABLE_WITH_EXCLUSION / MUTABLE_WITH_EXCLUSION matches (API reference,
 * ImageTagMutabilityExclusionFilter: WILDCARD filters, `*` any run of characters).
 */
export function tagImmutable(mutability: string, exclusions: readonly string[], tag: string): boolean {
  const excluded = mutability.endsWith('_WITH_EXCLUSION') && exclusions.some((f) => wildcard(f).test(tag));
  return mutability.startsWith('IMMUTABLE') !== excluded;
}

/**
 * Whether the repository's own tag mutability (`found`) lets some tag move that the asked settings make immutable: the
 * same settings never do; otherwise only where the asked ones make anything immutable that ECR may not keep so. Asked
 * MUTABLE (plain) keeps nothing; everything else is compared tag by tag (refusesReplacingAsAsked).
 */
function keepsLessThanAsked(asked: EcrRepositoryOptions, found: EcrRepositoryDetails): boolean {
  const sorted = (f: readonly string[] | undefined) => [...(f ?? [])].sort().join(' ');
  const mutability = found.imageTagMutability ?? 'MUTABLE';
  if (asked.tagMutability === undefined || asked.tagMutability === 'MUTABLE' || mutability === 'IMMUTABLE') return false;
  return asked.tagMutability !== mutability || sorted(asked.tagMutabilityExclusions) !== sorted(found.tagMutabilityExclusions);
}

function wildcard(filter: string): RegExp {
  return new RegExp(`^${filter.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\-]/g, '\\$&')).join('.*')}$`);
}

/** ECR's ImageTagMutabilityExclusionFilter (API reference): a WILDCARD filter's value. */
const EXCLUSION_FILTER_RE = /^[0-9a-zA-Z._*-]{1,128}$/;

/**
 * Resource tags ECR refuses at CreateRepository (API reference, Tag; TooManyTagsException, InvalidTagParameterException):
 * at most 50, keys of 1 to 128 characters, values of at most 256, no key starting with `aws:` (AWS's own). Said before
 * anything is sent, not once per pack.
 */
function refuseBadTags(tags: Record<string, string>): void {
  const entries = Object.entries(tags);
  const bad = entries.find(([k, v]) => k.length === 0 || k.length > 128 || v.length > 256 || /^aws:/i.test(k));
  if (entries.length <= 50 && bad === undefined) return;
  throw new PackpubError('USAGE', bad === undefined ? `--ecr-tag given ${entries.length} tags: ECR takes at most 50 on a repository` : `--ecr-tag ${JSON.stringify(bad[0].slice(0, 140))} is not a tag ECR takes`, {
    hint: 'ECR resource tags: at most 50, keys of 1 to 128 characters not starting with aws:, values of at most 256 (packpub.yaml: ecr.tags)',
  });
}

/**
 * A *_WITH_EXCLUSION tag mutability needs 1 to 5 wildcard filters and the others take none: ECR refuses CreateRepository
 * otherwise (InvalidParameterException "ImageTagMutabilityExclusionFilters can't be null when imageTagMutability is
 * set as ..."), which failed every pack of a new repository after the run had started. Said before anything is sent.
 */
function refuseBadSettings(settings: EcrRepositoryOptions): void {
  refuseBadTags(settings.tags ?? {});
  const mutability = settings.tagMutability;
  const filters = settings.tagMutabilityExclusions ?? [];
  const withExclusion = mutability?.endsWith('_WITH_EXCLUSION') === true;
  if (withExclusion && filters.length === 0) {
    throw new PackpubError('USAGE', `--ecr-tag-mutability ${mutability} needs --ecr-tag-mutability-exclusion: ECR creates no repository with it without exclusion filters`, {
      hint: `name the tags that take the other mutability, e.g. --ecr-tag-mutability-exclusion '*.*.*' (repeatable, up to 5; packpub.yaml: ecr.tagMutabilityExclusions)`,
    });
  }
  if (!withExclusion && filters.length > 0) {
    throw new PackpubError('USAGE', '--ecr-tag-mutability-exclusion needs --ecr-tag-mutability MUTABLE_WITH_EXCLUSION or IMMUTABLE_WITH_EXCLUSION', {
      hint: 'ECR takes exclusion filters only with those two',
    });
  }
  const bad = filters.find((f) => !EXCLUSION_FILTER_RE.test(f));
  if (filters.length > 5 || bad !== undefined) {
    throw new PackpubError('USAGE', bad === undefined ? `--ecr-tag-mutability-exclusion given ${filters.length} times: ECR takes at most 5 filters` : `--ecr-tag-mutability-exclusion ${JSON.stringify(bad)} is not an ECR tag filter`, {
      hint: 'a filter is 1 to 128 letters, digits, ".", "_", "-" and "*" (any run of characters), e.g. \'*.*.*\' or \'dev-*\'',
    });
  }
}

/** Open an ECR registry: the generic store plus repository creation and API listing; the registry client is made last, once the settings hold. */
export async function openEcrStore(
  options: RegistryConnectionOptions,
  openClient: () => RegistryClient,
): Promise<ArtifactStore> {
  const host = parseEcrHost(options.host);
  if (host === undefined) {
    // ECR Public is another service (its own API, no repository created on push): recognised by its host name alone.
    const ecrPublic = isEcrPublicHost(options.host) ? ': it is ECR Public, which packpub recognises by its host name' : '';
    // An ECR reached under another name (an interface VPC endpoint's own DNS name, a proxy's): ECR's certificate and the
    // token's endpoint are for the registry's name, so that name goes in --registry and the address in --resolve.
    const otherName = ecrPublic === '' ? '; an ECR reached under another name (a VPC endpoint\'s DNS name, a proxy) is given by its own, <account>.dkr.ecr.<region>.amazonaws.com, with --resolve <that name>:443:<address of the endpoint>' : '';
    throw new PackpubError('USAGE', `${options.host} is not an AWS ECR registry host (<account>.dkr.ecr.<region>.amazonaws.com)${ecrPublic}`, {
      hint: `drop --registry-type ecr for other registries${otherName}`,
    });
  }
  const settings = options.ecrRepositories ?? {};
  if (settings.kmsKey !== undefined && settings.encryption !== 'KMS' && settings.encryption !== 'KMS_DSSE') {
    throw new PackpubError('USAGE', '--ecr-kms-key needs --ecr-encryption KMS (or KMS_DSSE)', {
      hint: 'ECR uses AES256 unless told otherwise; a KMS key only applies to KMS encryption',
    });
  }
  refuseBadSettings(settings);
  const api = new EcrApi(host, options.host, {
    ...(options.ecrEndpoint === undefined ? {} : { endpoint: options.ecrEndpoint }),
    ...(options.awsProfile === undefined ? {} : { awsProfile: options.awsProfile }),
    ...(options.awsRoleArn === undefined ? {} : { awsRoleArn: options.awsRoleArn }),
    ...awsFilesOf(options.env),
  }, options.ecrClients ?? new EcrClients(options.retry?.requestTimeoutMs, awsConnectionOf(options)));
  return new EcrStore(openClient(), api, settings);
}
