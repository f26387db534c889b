import type { BatchDeleteImageCommandOutput, DescribeRepositoriesCommandOutput, ListTagsForResourceCommandOutput, Repository } from '@aws-sdk/client-ecr';
import type { EcrHost } from '../aws/ecr-host.js';
import { EcrClients, mapAwsError, type EcrApiClient, type EcrAwsOptions } from '../aws/ecr-sdk.js';
import { PackpubError } from '../errors.js';
import type { EcrRepositoryOptions } from './options.js';
import { deletedByEarlierAttempt } from '../registry/retry.js';
import { DELETE_RACE_HINT } from './artifact-store.js';

/*
 * The ECR API calls a pack publisher needs besides the registry protocol (registries.md): ECR does not
 * create repositories on push, and answers 405 to `/v2/_catalog`, so repositories are created with
 * CreateRepository and listed with DescribeRepositories; versions are deleted with BatchDeleteImage. The SDK is loaded on first use.
 */

/** DescribeRepositories pages of 1000: 10 000 000 repositories, far above ECR's quotas. */
const MAX_PAGES = 10_000;

export interface EcrRepositorySummary {
  name: string;
  createdAt?: Date;
  imageTagMutability?: string;
}

/** One repository as DescribeRepositories gives it, with the settings CreateRepository fixes. */
export interface EcrRepositoryDetails extends EcrRepositorySummary {
  arn?: string;
  /** AES256, KMS or KMS_DSSE. */
  encryptionType?: string;
  /** The KMS key's ARN, as ECR reports it. */
  kmsKey?: string;
  /** The wildcard filters of a *_WITH_EXCLUSION tag mutability. */
  tagMutabilityExclusions?: string[];
}

function summaryOf(name: string, repo: Repository): EcrRepositorySummary {
  return {
    name,
    ...(repo.createdAt === undefined ? {} : { createdAt: repo.createdAt }),
    ...(repo.imageTagMutability === undefined ? {} : { imageTagMutability: repo.imageTagMutability }),
  };
}

export class EcrApi {

  constructor(
    readonly host: EcrHost,
    /** Registry host as the user gave it, for messages. */
    readonly hostName: string,
    private readonly aws: EcrAwsOptions = {},
    /** The run's ECR API clients, shared with the ECR token provider; destroyed by close(). */
    private readonly clients: EcrClients = new EcrClients(),
  ) {}

  private open(): Promise<EcrApiClient> {
    return this.clients.get(this.host, this.aws);
  }

  private fail(err: unknown, action: string, repository?: string): PackpubError {
    return mapAwsError(err, action, {
      host: this.hostName,
      ...(repository === undefined ? {} : { repository }),
      ...(this.aws.endpoint === undefined ? {} : { endpoint: this.aws.endpoint }),
      ...(this.aws.awsRoleArn === undefined ? {} : { roleArn: this.aws.awsRoleArn }),
      ...(this.aws.awsProfile === undefined ? {} : { profile: this.aws.awsProfile }),
    });
  }

  /** Create a repository; 'exists' when ECR already has it (RepositoryAlreadyExistsException is fine). */
  async createRepository(name: string, settings: EcrRepositoryOptions = {}): Promise<'created' | 'exists'> {
    const { sdk, send } = await this.open();
    const tags = Object.entries(settings.tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
    try {
      await send(
        new sdk.CreateRepositoryCommand({
          registryId: this.host.accountId,
          repositoryName: name,
          ...(settings.tagMutability === undefined ? {} : { imageTagMutability: settings.tagMutability }),
          ...(settings.tagMutabilityExclusions === undefined
            ? {}
            : { imageTagMutabilityExclusionFilters: settings.tagMutabilityExclusions.map((filter) => ({ filterType: 'WILDCARD' as const, filter })) }),
          ...(settings.encryption === undefined
            ? {}
            : { encryptionConfiguration: { encryptionType: settings.encryption, ...(settings.kmsKey === undefined ? {} : { kmsKey: settings.kmsKey }) } }),
          ...(tags.length === 0 ? {} : { tags }),
        }),
      );
      return 'created';
    } catch (err) {
      if ((err as { name?: string }).name === 'RepositoryAlreadyExistsException') return 'exists';
      throw this.fail(err, 'ecr:CreateRepository', name);
    }
  }

  /** Every repository of the registry whose name starts with `prefix/` (DescribeRepositories has no filter). */
  async listRepositories(prefix: string): Promise<EcrRepositorySummary[]> {
    const { sdk, send } = await this.open();
    const wanted = prefix === '' ? '' : `${prefix.replace(/\/+$/, '')}/`;
    const found: EcrRepositorySummary[] = [];
    const tokens = new Set<string>();
    let nextToken: string | undefined;
    do {
      // An answer that repeats a nextToken would page forever: one clear error instead.
      if (nextToken !== undefined) {
        if (tokens.has(nextToken) || tokens.size >= MAX_PAGES) {
          throw new PackpubError('REGISTRY', `ECR answered DescribeRepositories for ${this.hostName} with ${tokens.has(nextToken) ? 'a nextToken it had already given' : `more than ${MAX_PAGES} pages`}: the list would never end`, {
            hint: 'check --ecr-endpoint / AWS_ENDPOINT_URL_ECR points at the ECR API (a proxy or another service may answer instead)',
          });
        }
        tokens.add(nextToken);
      }
      let page;
      try {
        page = await send<DescribeRepositoriesCommandOutput>(
          new sdk.DescribeRepositoriesCommand({
            registryId: this.host.accountId,
            maxResults: 1000,
            ...(nextToken === undefined ? {} : { nextToken }),
          }),
        );
      } catch (err) {
        const failed = this.fail(err, 'ecr:DescribeRepositories');
        // Only listing every pack needs it: a pack named is read through its tag list (ecr:ListImages, the registry API),
        // which least-privilege pipeline roles hold. The denial said only "grant ecr:DescribeRepositories".
        if (failed.code !== 'AUTH') throw failed;
        throw new PackpubError('AUTH', failed.message, { hint: `${failed.hint ?? ''}; or name the pack: packpub list <name> (copy: <name> --all) reads its tag list without it`, cause: err });
      }
      for (const repo of page.repositories ?? []) {
        const name = repo.repositoryName;
        if (name === undefined || !name.startsWith(wanted)) continue;
        found.push(summaryOf(name, repo));
      }
      nextToken = page.nextToken;
    } while (nextToken !== undefined && nextToken !== '');
    return found;
  }

  /** Describe one repository; undefined when it does not exist. */
  async describeRepository(name: string): Promise<EcrRepositoryDetails | undefined> {
    const { sdk, send } = await this.open();
    try {
      const out = await send<DescribeRepositoriesCommandOutput>(new sdk.DescribeRepositoriesCommand({ registryId: this.host.accountId, repositoryNames: [name] }));
      const repo = out.repositories?.[0];
      if (repo === undefined) return undefined;
      const encryption = repo.encryptionConfiguration;
      return {
        ...summaryOf(name, repo),
        ...(repo.repositoryArn === undefined ? {} : { arn: repo.repositoryArn }),
        ...(encryption?.encryptionType === undefined ? {} : { encryptionType: encryption.encryptionType }),
        ...(encryption?.kmsKey === undefined ? {} : { kmsKey: encryption.kmsKey }),
        ...(repo.imageTagMutabilityExclusionFilters === undefined ? {} : { tagMutabilityExclusions: repo.imageTagMutabilityExclusionFilters.map((f) => f.filter ?? '') }),
      };
    } catch (err) {
      if ((err as { name?: string }).name === 'RepositoryNotFoundException') return undefined;
      throw this.fail(err, 'ecr:DescribeRepositories', name);
    }
  }

  /** The resource tags of a repository (ListTagsForResource by its ARN). */
  async repositoryTags(arn: string): Promise<Record<string, string>> {
    const { sdk, send } = await this.open();
    try {
      const out = await send<ListTagsForResourceCommandOutput>(new sdk.ListTagsForResourceCommand({ resourceArn: arn }));
      const tags: Record<string, string> = {};
      for (const t of out.tags ?? []) if (t.Key !== undefined) tags[t.Key] = t.Value ?? '';
      return tags;
    } catch (err) {
      throw this.fail(err, 'ecr:ListTagsForResource');
    }
  }

  /**
   * BatchDeleteImage by tag: ECR removes the tag, and the image with it when that was its last tag. The
   * digest the caller saw goes along, so a tag moved meanwhile fails (ImageTagDoesNotMatchDigest). The
   * call answers 200 with a `failures` list (ImageNotFound, ImageTagDoesNotMatchDigest, KmsError...): any
   * failure is an error here, never a silent success, except ImageNotFound on a retry (an earlier attempt did it).
   */
  async deleteTag(repository: string, tag: string, digest: string, what: string): Promise<void> {
    const { sdk, send } = await this.open();
    let out;
    try {
      out = await send<BatchDeleteImageCommandOutput>(new sdk.BatchDeleteImageCommand({ registryId: this.host.accountId, repositoryName: repository, imageIds: [{ imageTag: tag, imageDigest: digest }] }));
    } catch (err) {
      if ((err as { name?: string }).name === 'RepositoryNotFoundException') {
        throw new PackpubError('NOT_FOUND', `${what} is no longer there: ECR repository ${repository} does not exist`, { cause: err });
      }
      throw this.fail(err, 'ecr:BatchDeleteImage', repository);
    }
    const failure = out.failures?.[0];
    if (failure !== undefined) {
      const detail = `${failure.failureCode ?? 'failure'}${failure.failureReason === undefined ? '' : `: ${failure.failureReason}`}`;
      // The SDK retried (it retries lost answers, throttling and 5xx, and does not say which): an earlier
      // attempt may have deleted it (registry/retry.ts deletedByEarlierAttempt; the caller reads the tag back).
      if (deletedByEarlierAttempt(failure.failureCode === 'ImageNotFound', (out.$metadata.attempts ?? 1) > 1)) return;
      if (failure.failureCode === 'ImageNotFound') throw new PackpubError('NOT_FOUND', `${what} is no longer there: ECR answered ${detail}`);
      if (failure.failureCode === 'ImageTagDoesNotMatchDigest') {
        throw new PackpubError('CONFLICT', `${what} was moved to other content by another publisher during this run (${detail})`, { hint: DELETE_RACE_HINT });
      }
      throw new PackpubError('REGISTRY', `ECR did not delete ${what} (${detail})`, {
        hint: failure.failureCode === 'KmsError' ? 'the repository is KMS-encrypted: allow the key for this identity' : 'nothing was deleted for this version; run again with --debug for the cause',
      });
    }
    if (!(out.imageIds ?? []).some((id) => id.imageTag === tag)) {
      throw new PackpubError('REGISTRY', `ECR answered BatchDeleteImage for ${what} without listing it as deleted or failed`);
    }
  }

  close(): void {
    this.clients.destroy();
  }
}
