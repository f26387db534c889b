import { PackpubError, isPackpubError } from '../errors.js';
import { ECR_PUBLIC_HOST, isEcrPublicHost } from '../aws/ecr-host.js';
import { baseRepository } from '../pack/naming.js';
import { isRegistryError } from '../registry/errors.js';
import { onceper } from '../util/concurrency.js';
import type { Digest } from '../oci/digest.js';
import type { Descriptor } from '../oci/manifest.js';
import type { ArtifactStore } from './artifact-store.js';
import type { RegistryClient } from '../registry/client.js';
import { probeRepository } from './ecr.js';
import { GenericRegistryStore } from './registry-store.js';

/*
 * Amazon ECR Public (public.ecr.aws/<registry alias>/<repository>), as its user guide documents it:
 * - a repository must exist before a push: created with the ECR Public API in us-east-1 (aws ecr-public
 *   create-repository), not on push; a push into a missing one answers NAME_UNKNOWN "The repository with name
 *   '<repo>' does not exist in the registry with id '<id>'" (packpub does not create them: the ECR Public API is
 *   another AWS service than ECR's);
 * - credentials: an authorization token of the ECR Public API (`aws ecr-public get-login-password --region
 *   us-east-1`, user AWS, 12 hours), given as to any registry (packpub login, the Docker config);
 * - the first path segment is the registry alias, which names no repository.
 * Treated as a generic registry, a push ended in "repository ... not found ... (packpub creates it unless
 * --no-create-repositories)" and a dry run planned "new", exit 0, for a pack the real run could not publish.
 */

export { ECR_PUBLIC_HOST, isEcrPublicHost };

const LOGIN = `aws ecr-public get-login-password --region us-east-1 | packpub login ${ECR_PUBLIC_HOST} --username AWS --password-stdin`;

export class EcrPublicStore extends GenericRegistryStore {
  /** `basePath`: `<alias>[/<base>]`, as --registry named it. */
  constructor(
    client: RegistryClient,
    private readonly basePath: string,
  ) {
    super(client);
  }

  /** The registry's word that a repository exists, once per repository and run (a missing one: thrown). */
  private readonly exists = onceper(async (repository: string) => {
    const { there, error } = await probeRepository(this.client, repository);
    if (there === false) throw this.missing(repository, error);
    if (there === undefined) throw this.explain(error, repository);
  });

  /**
   * A dry run's check that the repository exists, as the real run finds out at its first write (NAME_UNKNOWN, said
   * by explain): a manifest read of a digest nothing has, which ECR answers NAME_UNKNOWN in a missing repository and
   * MANIFEST_UNKNOWN in an existing one (ecr.ts probeRepository). The real run asks nothing more: the write's answer is
   * ECR Public's own word.
   */
  checkRepository(repository: string): Promise<void> {
    return this.exists(repository);
  }

  override pushBlob(...args: Parameters<ArtifactStore['pushBlob']>): Promise<void> {
    return this.said(args[0], super.pushBlob(...args));
  }

  override pushManifest(repository: string, reference: string, bytes: Buffer, mediaType: string): Promise<Digest> {
    return this.said(repository, super.pushManifest(repository, reference, bytes, mediaType));
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
    if (!isPackpubError(err, 'AUTH')) return err;
    return new PackpubError('AUTH', err.message, {
      hint: `ECR Public takes a token of the ECR Public API as the password: ${LOGIN} (it lasts 12 hours; the identity needs ecr-public:GetAuthorizationToken, sts:GetServiceBearerToken and push rights on the repository)`,
      cause: err,
    });
  }

  private missing(repository: string, cause: unknown): PackpubError {
    const [alias = ''] = this.basePath.split('/');
    const name = repository.slice(alias.length + 1);
    const base = baseRepository(this.basePath).slice(alias.length + 1);
    return new PackpubError('NOT_FOUND', `ECR Public repository ${name} does not exist in registry ${ECR_PUBLIC_HOST}/${alias}: ECR Public creates no repository on push, and packpub does not create them there`, {
      hint: `create it: aws ecr-public create-repository --repository-name ${name} --region us-east-1, then run again (packpub publishes to ${base} and to ${base}/<pack name> for each pack: each must exist)`,
      cause,
    });
  }
}

/**
 * ECR Public's store, over the generic one. The first segment of the base path must be the registry alias:
 * without one, every repository name would be taken for an alias.
 */
export function openEcrPublicStore(basePath: string, generic: GenericRegistryStore): EcrPublicStore {
  if (basePath === '') {
    throw new PackpubError('USAGE', `${ECR_PUBLIC_HOST} needs the registry alias as the first segment of the base path`, {
      hint: `--registry ${ECR_PUBLIC_HOST}/<alias>[/<base path>] (the alias is shown in the ECR Public console, e.g. public.ecr.aws/a1b2c3d4)`,
    });
  }
  return new EcrPublicStore(generic.client, basePath);
}
