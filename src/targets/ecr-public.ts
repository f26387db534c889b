import { PackpubError, isPackpubError } from '../errors.js';
import { ECR_PUBLIC_HOST, isEcrPublicHost } from '../aws/ecr-host.js';
import { baseRepository } from '../pack/naming.js';
import { isRegistryError } from '../registry/errors.js';
import { onceper } from '../util/concurrency.js';
import type { Digest } from '../oci/digest.js';
import type { Descriptor } from '../oci/manifest.js';
import type { ArtifactStore } from './artifact-store.js';
import type { RegistryClient } from '../registry/client.js';
import { awsConnectionOf, type RegistryConnectionOptions } from './options.js';
import { imageLimitReached, probeRepository } from './ecr.js';
import { GenericRegistryStore } from './registry-store.js';
import { awsIdentityConfigured, EcrPublicApi, NO_AWS_IDENTITY } from '../aws/ecr-public-api.js';
import type { EcrClients } from '../aws/ecr-sdk.js';

/*
 * Amazon ECR Public (public.ecr.aws/<registry alias>/<repository>), as its user guide documents it:
 * - a repository must exist before a push: ECR Public creates none on push, and a push into a missing one answers
 *   NAME_UNKNOWN "The repository with name '<repo>' does not exist in the registry with id '<id>'". packpub creates it
 *   then (unless --no-create-repositories) with the ECR Public API (us-east-1; aws/ecr-public-api.ts), in the caller's own
 *   registry only, and sends the refused write again; a run into existing repositories makes no API call and needs no
 *   AWS credentials;
 * - credentials: an authorization token of the ECR Public API (`aws ecr-public get-login-password --region
 *   us-east-1`, user AWS, 12 hours), given as to any registry (packpub login, the Docker config);
 * - the first path segment is the registry alias, which names no repository.
 * Treated as a generic registry, a push ended in "repository ... not found ... (packpub creates it unless
 * --no-create-repositories)" and a dry run planned "new", exit 0, for a pack the real run could not publish.
 */

export { ECR_PUBLIC_HOST, isEcrPublicHost };

const LOGIN = `aws ecr-public get-login-password --region us-east-1 | packpub login ${ECR_PUBLIC_HOST} --username AWS --password-stdin`;

export class EcrPublicStore extends GenericRegistryStore {
  /** `basePath`: `<alias>[/<base>]`, as --registry named it; `creates`: false with --no-create-repositories. */
  constructor(
    client: RegistryClient,
    private readonly basePath: string,
    private readonly api: EcrPublicApi,
    private readonly creates: boolean,
    /** The run's environment and --aws-profile: whether an AWS identity is configured (awsIdentityConfigured). */
    private readonly env: NodeJS.ProcessEnv,
    private readonly awsProfile: string | undefined,
    /** The run's AWS clients, where the credential chain noted why it got no ECR Public token (credentials/ecr-public-token.ts). */
    private readonly notes?: Pick<EcrClients, 'ecrPublicTokenRefusal'>,
  ) {
    super(client);
  }

  private get alias(): string {
    return this.basePath.split('/')[0] ?? '';
  }

  /** The registry's word that a repository exists, once per repository and run (a missing one: thrown). */
  private readonly exists = onceper(async (repository: string) => {
    const { there, error } = await probeRepository(this.client, repository);
    if (there === false) throw this.missing(repository, error);
    if (there === undefined) throw this.explain(error, repository);
  });

  /**
   * A dry run's check that the repository exists, as the real run finds out at its first write (NAME_UNKNOWN, said by
   * explain): a manifest read of a digest nothing has, which ECR answers NAME_UNKNOWN in a missing repository and
   * MANIFEST_UNKNOWN in an existing one (ecr.ts probeRepository). With creation on, a missing one is checked as the real
   * run would before creating it (creatable: the alias is the identity's own, by DescribeRegistries, a read): the plan
   * of a push into another account's alias ended exit 0, and the real run, exit 1.
   */
  async checkRepository(repository: string): Promise<void> {
    if (!this.creates) return this.exists(repository);
    const { there } = await probeRepository(this.client, repository);
    if (there === false) await this.creatable(repository);
  }

  /** Whether the real run may create `repository` (the alias is the AWS identity's own): thrown as missing, with why, if not. */
  private async creatable(repository: string): Promise<void> {
    let aliases: string[];
    try {
      aliases = await this.aliases();
    } catch (err) {
      throw this.missing(repository, err, `packpub could not tell whether ${ECR_PUBLIC_HOST}/${this.alias} is the registry of its AWS identity, so it created nothing: ${(err as Error).message}`);
    }
    if (!aliases.includes(this.alias)) {
      const own = aliases.length === 0 ? 'has no registry alias' : `has the registry alias${aliases.length === 1 ? '' : 'es'} ${aliases.join(', ')}`;
      throw this.missing(repository, undefined, `the ECR Public registry of the AWS identity packpub runs as ${own}, not ${this.alias}, and CreateRepository creates in that registry only, so packpub created nothing`);
    }
  }

  /** The aliases of the caller's own registry (DescribeRegistries), asked once per run. */
  private ownAliases: Promise<string[]> | undefined;

  private aliases(): Promise<string[]> {
    return (this.ownAliases ??= this.api.ownAliases());
  }

  /**
   * The repositories under `prefix`: ECR Public's registry API is not documented to serve a catalog, and its API lists
   * the repositories of the caller's own registry (DescribeRepositories), so that is asked when the alias is the AWS
   * identity's. Otherwise (another account's alias, no AWS identity, no right to list) the registry's catalog, as for any
   * registry, whose refusal then says why the API was not used.
   */
  override async listRepositories(prefix: string): Promise<string[]> {
    let names: string[] | undefined;
    let why: string | undefined;
    if (!awsIdentityConfigured(this.env, this.awsProfile)) why = NO_AWS_IDENTITY;
    else {
      try {
        names = (await this.aliases()).includes(this.alias) ? await this.api.repositoryNames() : undefined;
        if (names === undefined) why = `${ECR_PUBLIC_HOST}/${this.alias} is not the registry of packpub's AWS identity`;
      } catch (err) {
        why = (err as Error).message;
      }
    }
    if (names === undefined) {
      return super.listRepositories(prefix).catch((err: unknown) => {
        if (!isPackpubError(err)) throw err;
        throw new PackpubError(err.code, err.message, { hint: `${err.hint === undefined ? '' : `${err.hint}; `}packpub lists ECR Public repositories with the ECR Public API (DescribeRepositories), which it could not use: ${why ?? ''}`, cause: err });
      });
    }
    const clean = prefix.replace(/\/+$/, '');
    const full = names.map((name) => `${this.alias}/${name}`);
    return [...new Set(clean === '' ? full : full.filter((r) => r.startsWith(`${clean}/`)))].sort();
  }

  /**
   * The missing repository created in the caller's own ECR Public registry (once per repository and run), or thrown as
   * missing with why packpub could not: another account's alias, or the API's refusal (no AWS credentials, a denial).
   */
  private readonly create = onceper(async (repository: string) => {
    await this.creatable(repository);
    try {
      await this.api.createRepository(repository.slice(this.alias.length + 1));
    } catch (err) {
      throw this.missing(repository, err, `packpub could not create it: ${(err as Error).message}`);
    }
  });

  override pushBlob(...args: Parameters<ArtifactStore['pushBlob']>): Promise<void> {
    return this.written(args[0], () => super.pushBlob(...args));
  }

  override pushManifest(repository: string, reference: string, bytes: Buffer, mediaType: string): Promise<Digest> {
    return this.written(repository, () => super.pushManifest(repository, reference, bytes, mediaType));
  }

  /** Reads too: a push's first request is its look-up, where refused credentials show first. */
  override getManifest(...args: Parameters<ArtifactStore['getManifest']>): ReturnType<ArtifactStore['getManifest']> {
    return this.said(args[0], super.getManifest(...args));
  }

  override headManifest(repository: string, reference: string): Promise<Descriptor | undefined> {
    return this.said(repository, super.headManifest(repository, reference));
  }

  override hasBlob(repository: string, digest: Digest): Promise<boolean> {
    return this.said(repository, super.hasBlob(repository, digest));
  }

  /**
   * A write, and where ECR Public answers that the repository does not exist (NAME_UNKNOWN), the repository created
   * (create) and the write sent once more. Still NAME_UNKNOWN then: said with the creation this run made.
   */
  private async written<T>(repository: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      if (!this.creates || !isRegistryError(err) || err.ociCode !== 'NAME_UNKNOWN') throw this.explain(err, repository);
    }
    await this.create(repository);
    try {
      return await write();
    } catch (err) {
      if (!isRegistryError(err) || err.ociCode !== 'NAME_UNKNOWN') throw this.explain(err, repository);
      throw this.missing(repository, err, 'packpub created it in this run (the ECR Public API answered CreateRepository), and the registry does not know it yet; run again in a minute');
    }
  }

  /** `call`'s answer, or its failure said with ECR Public's way out (explain). */
  private async said<T>(repository: string, call: Promise<T>): Promise<T> {
    try {
      return await call;
    } catch (err) {
      throw this.explain(err, repository);
    }
  }

  /** A missing repository or refused credentials, said with ECR Public's way out. */
  private explain(err: unknown, repository: string): unknown {
    if (isRegistryError(err) && err.ociCode === 'NAME_UNKNOWN') return this.missing(repository, err);
    const full = imageLimitReached(err, repository, this.location);
    if (full !== undefined) return full;
    if (!isPackpubError(err, 'AUTH')) return err;
    const refusal = this.notes?.ecrPublicTokenRefusal;
    const own = refusal === undefined ? 'packpub gets one itself with AWS credentials' : `packpub got none with its AWS identity (${refusal.message})`;
    return new PackpubError('AUTH', err.message, {
      hint: `ECR Public takes a token of the ECR Public API as the password, and ${own}: give it AWS credentials allowed ecr-public:GetAuthorizationToken and sts:GetServiceBearerToken, or log in with a token: ${LOGIN} (it lasts 12 hours; the identity also needs push rights on the repository)`,
      cause: err,
    });
  }

  /** A repository that is not there and was not created: `why` packpub did not (creation off: that it does not). */
  private missing(repository: string, cause: unknown, why?: string): PackpubError {
    const name = repository.slice(this.alias.length + 1);
    const base = baseRepository(this.basePath).slice(this.alias.length + 1);
    const reason = why ?? `ECR Public creates no repository on push${this.creates ? '' : ', and --no-create-repositories was given'}`;
    return new PackpubError('NOT_FOUND', `ECR Public repository ${name} does not exist in registry ${ECR_PUBLIC_HOST}/${this.alias}: ${reason}`, {
      hint: `create it: aws ecr-public create-repository --repository-name ${name} --region us-east-1, then run again (packpub publishes to ${base} and to ${base}/<pack name> for each pack: each must exist${this.creates ? '' : '; without --no-create-repositories packpub creates them, given AWS credentials allowed ecr-public:DescribeRegistries and ecr-public:CreateRepository'})`,
      ...(cause === undefined ? {} : { cause }),
    });
  }

  override async close(): Promise<void> {
    this.api.close();
    await super.close();
  }
}

/**
 * ECR Public's store, over the generic one. The first segment of the base path must be the registry alias:
 * without one, every repository name would be taken for an alias.
 */
export function openEcrPublicStore(basePath: string, generic: GenericRegistryStore, options: Pick<RegistryConnectionOptions, 'env' | 'awsProfile' | 'plainHttp' | 'ecrRepositories' | 'retry' | 'ecrClients' | 'caFile' | 'settingNames'> = {}): EcrPublicStore {
  if (basePath === '') {
    throw new PackpubError('USAGE', `${ECR_PUBLIC_HOST} needs the registry alias as the first segment of the base path`, {
      hint: `--registry ${ECR_PUBLIC_HOST}/<alias>[/<base path>] (the alias is shown in the ECR Public console, e.g. public.ecr.aws/a1b2c3d4)`,
    });
  }
  const api = new EcrPublicApi({
    env: options.env ?? process.env,
    ...(options.awsProfile === undefined ? {} : { awsProfile: options.awsProfile }),
    ...(options.plainHttp === undefined ? {} : { plainHttp: options.plainHttp }),
    ...(options.retry?.requestTimeoutMs === undefined ? {} : { timeoutMs: options.retry.requestTimeoutMs }),
    trust: awsConnectionOf(options).trust,
  });
  return new EcrPublicStore(generic.client, basePath, api, options.ecrRepositories?.create !== false, options.env ?? process.env, options.awsProfile, options.ecrClients);
}
