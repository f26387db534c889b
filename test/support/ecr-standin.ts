import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import type { PackpubError } from '../../src/errors.js';
import { failure } from './errors.js';
import { drip } from './hostile-registry.js';
import { readBody } from './loopback.js';
import { registryAdmin } from './registry-admin.js';
import type { RegistryOnDisk } from './registry.js';

/*
 * A loopback stand-in for the AWS ECR API as the real @aws-sdk/client-ecr talks to it (registries.md):
 * AWS JSON 1.1 protocol, `POST /`, `X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<Op>`,
 * `Content-Type: application/x-amz-json-1.1`, SigV4 headers (presence and access key checked, not the
 * signature), errors as `{"__type": "<Exception>", "message": "..."}` with status 400.
 * Timestamps are epoch seconds, as the protocol sends them.
 * ListTagsForResource answers a repository's resource tags by its ARN.
 * BatchDeleteImage changes the registry behind the ECR proxy (`images`): by tag it removes the tag, and
 * the image with its last tag; by digest the image and its tags; problems come back in `failures` with a
 * 200 (ImageNotFound, ImageTagDoesNotMatchDigest, MissingDigestAndTag), as ECR answers.
 * It also answers STS AssumeRole (AWS Query protocol: form body in, XML out) so `--aws-role-arn` can be
 * followed end to end: point AWS_ENDPOINT_URL_STS at it. Faults: an AWS error per operation (`fail`:
 * ThrottlingException, KmsException...), a replaced answer (`answerOverride`: odd authorizationData), and
 * an operation that never answers or drips (`stall`).
 */

export interface EcrStandinRepository {
  name: string;
  registryId: string;
  createdAt: Date;
  imageTagMutability: string;
  /** Wildcard filters of a *_WITH_EXCLUSION mutability: tags matching one take the other mutability. */
  imageTagMutabilityExclusionFilters?: string[];
  encryptionType: string;
  kmsKey?: string;
  tags: Record<string, string>;
}

export interface EcrStandinCall {
  op: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
  accessKeyId: string | undefined;
}

export interface EcrStandinOptions {
  /** Account of the registry (and of every known access key). */
  accountId?: string;
  region?: string;
  /** Access key ids the stand-in accepts (default: any id starting with "test"). */
  accessKeys?: string[];
  /** Lifetime of minted registry passwords in ms (default 12 h, as ECR). */
  tokenTtlMs?: number;
  /** DescribeRepositories page size when the caller gives no maxResults (real ECR: 100). */
  defaultPageSize?: number;
  /** Cap on any page, below what the caller asks, so tests see several pages without 1000 repositories. */
  maxPageSize?: number;
  /** Clock in ms; tests move it to expire tokens. */
  now?: () => number;
  /** Host name put into proxyEndpoint / repositoryUri (default the real ECR host name). */
  registryHost?: string;
  /** The registry (auth none) behind the ECR proxy, which BatchDeleteImage changes (on disk: removing one tag changes its storage). */
  images?: RegistryOnDisk;
}

export interface EcrStandin {
  /** `http://127.0.0.1:<port>`: give it to the SDK as the endpoint. */
  url: string;
  accountId: string;
  region: string;
  /** The real ECR host name for this account and region. */
  registryHost: string;
  repositories: Map<string, EcrStandinRepository>;
  calls: EcrStandinCall[];
  /**
   * Make an operation answer AccessDeniedException (IAM tests); `allow` undoes it. `why` ends AWS's message (IAM User
   * Guide, access denied error messages): default `because no identity-based policy allows the ecr:<op> action`; e.g.
   * `with an explicit deny in a resource-based policy` (a repository policy's Deny), `because no resource-based policy
   * allows the ecr:<op> action` (a repository of another account).
   */
  deny(op: string, why?: string): void;
  allow(op: string): void;
  /** Whether `deny(op)` is in force (the ECR proxy refuses registry calls by the IAM action they need: InitiateLayerUpload, PutImage). */
  denies(op: string): boolean;
  /** AWS's message for a denied `op` on `resource` (an ARN, or `*`), as `deny` set it. */
  denialMessage(op: string, resource: string): string;
  /**
   * Make an operation answer this AWS error until `allow(op)`: ThrottlingException ('Rate exceeded'),
   * KmsException, LimitExceededException... (status 400, as the JSON 1.1 protocol sends them).
   */
  fail(op: string, type: string, message: string): void;
  /**
   * Replace an operation's answer body (`normal` is what the stand-in would send): odd authorizationData,
   * a proxy's page. A string is sent as it is; anything else as JSON.
   */
  answerOverride: ((op: string, normal: unknown) => unknown) | undefined;
  /** An operation (`sts:AssumeRole` for STS) that never answers (`hang`) or answers one byte every `dripMs` (`drip`). */
  stall: { op: string; mode: 'hang' | 'drip'; dripMs?: number } | undefined;
  /**
   * ECR's "Images per repository" quota as the registry behind the ECR proxy enforces it (undefined: none): a manifest
   * PUT of a new reference into a repository already holding this many tagged images is answered 403 DENIED "The
   * repository with name '<r>' in registry with id '<id>' already has the maximum allowed number of images which is
   * '<n>'" (aws/containers-roadmap#2159, kubernetes-sigs/aws-ebs-csi-driver#1998; ECR Public alike, vllm-project/vllm#48065).
   */
  maxImagesPerRepository: number | undefined;
  /** Make BatchDeleteImage answer this failure for `repository:tag` (a fault ECR reports in `failures`, e.g. KmsError). */
  failImage(repository: string, tag: string, failureCode: string, failureReason: string): void;
  /** 'valid' | 'expired' | 'unknown' for a registry password. */
  checkPassword(password: string): 'valid' | 'expired' | 'unknown';
  /** Every registry password minted so far, and its `AWS:<password>` base64 form (secrets no output may hold). */
  mintedSecrets(): string[];
  /** Expire every password minted so far. */
  expireAllTokens(): void;
  close(): Promise<void>;
}

const TARGET_PREFIX = 'AmazonEC2ContainerRegistry_V20150921.';

/** Whether a tag of this repository is immutable: its mutability, turned over for tags an exclusion filter matches (`*`: any run of characters). */
export function tagIsImmutable(repo: Pick<EcrStandinRepository, 'imageTagMutability' | 'imageTagMutabilityExclusionFilters'>, tag: string): boolean {
  const excluded = (repo.imageTagMutabilityExclusionFilters ?? []).some((f) => new RegExp(`^${f.replace(/[.+?^${}()|[\]\\-]/g, '\\$&').replace(/\*/g, '.*')}$`).test(tag));
  return repo.imageTagMutability.startsWith('IMMUTABLE') !== excluded;
}

// ECR's repository name pattern (API reference, CreateRepository.repositoryName).
const REPO_NAME_RE = /^(?=.{2,256}$)((?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*)$/;

/** An AWS API error answer: its `__type`, message and HTTP status (400 unless said). */
export class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export async function startEcrStandin(options: EcrStandinOptions = {}): Promise<EcrStandin> {
  const accountId = options.accountId ?? '123456789012';
  const region = options.region ?? 'us-east-1';
  const registryHost = options.registryHost ?? `${accountId}.dkr.ecr.${region}.amazonaws.com`;
  const now = options.now ?? Date.now;
  const ttl = options.tokenTtlMs ?? 12 * 3600_000;
  const pageSize = options.defaultPageSize ?? 100;
  const knownKey = (id: string) => (options.accessKeys === undefined ? id.startsWith('test') : options.accessKeys.includes(id));
  const repositories = new Map<string, EcrStandinRepository>();
  const passwords = new Map<string, number>();
  const denied = new Map<string, string | undefined>();
  const failures = new Map<string, { type: string; message: string }>();
  const calls: EcrStandinCall[] = [];

  const describe = (r: EcrStandinRepository) => ({
    repositoryArn: `arn:aws:ecr:${region}:${r.registryId}:repository/${r.name}`,
    registryId: r.registryId,
    repositoryName: r.name,
    repositoryUri: `${registryHost}/${r.name}`,
    createdAt: r.createdAt.getTime() / 1000,
    imageTagMutability: r.imageTagMutability,
    ...(r.imageTagMutabilityExclusionFilters === undefined ? {} : { imageTagMutabilityExclusionFilters: r.imageTagMutabilityExclusionFilters.map((filter) => ({ filterType: 'WILDCARD', filter })) }),
    imageScanningConfiguration: { scanOnPush: false },
    encryptionConfiguration: { encryptionType: r.encryptionType, ...(r.kmsKey === undefined ? {} : { kmsKey: r.kmsKey }) },
  });
  const notFound = (name: string, registryId: string) =>
    new AwsError('RepositoryNotFoundException', `The repository with name '${name}' does not exist in the registry with id '${registryId}'`);

  const admin = options.images === undefined ? undefined : registryAdmin(options.images);
  const imageFailures = new Map<string, { failureCode: string; failureReason: string }>();

  type ImageId = { imageTag?: string; imageDigest?: string };
  /** One entry of BatchDeleteImage: the deleted image id, or a failure. */
  const deleteImage = async (repository: string, id: ImageId): Promise<{ deleted: ImageId } | { failure: { failureCode: string; failureReason: string } }> => {
    if (admin === undefined) throw new AwsError('UnknownOperationException', 'BatchDeleteImage needs the stand-in started with `images`');
    const injected = imageFailures.get(`${repository}:${id.imageTag ?? id.imageDigest ?? ''}`);
    if (injected !== undefined) return { failure: injected };
    const ref = id.imageTag ?? id.imageDigest;
    if (ref === undefined) return { failure: { failureCode: 'MissingDigestAndTag', failureReason: 'Invalid request parameters: both tag and digest cannot be null' } };
    const digest = await admin.digestOf(repository, ref);
    if (digest === undefined) return { failure: { failureCode: 'ImageNotFound', failureReason: 'Requested image not found' } };
    if (id.imageDigest !== undefined && id.imageDigest !== digest) {
      return { failure: { failureCode: 'ImageTagDoesNotMatchDigest', failureReason: 'Invalid parameter: image tag does not match the image digest' } };
    }
    const others = (await admin.tagsOf(repository, digest)).filter((t) => t !== id.imageTag);
    if (id.imageTag !== undefined && others.length > 0) await admin.untag(repository, id.imageTag);
    else await admin.deleteManifest(repository, digest);
    return { deleted: { imageDigest: digest, ...(id.imageTag === undefined ? {} : { imageTag: id.imageTag }) } };
  };

  const ops: Record<string, (body: Record<string, unknown>) => unknown> = {
    BatchDeleteImage: async (body) => {
      const name = String(body['repositoryName'] ?? '');
      const registryId = typeof body['registryId'] === 'string' ? body['registryId'] : accountId;
      if (!repositories.has(name)) throw notFound(name, registryId);
      const imageIds: ImageId[] = [];
      const failures: Array<{ imageId: ImageId; failureCode: string; failureReason: string }> = [];
      for (const id of (body['imageIds'] ?? []) as ImageId[]) {
        const outcome = await deleteImage(name, id);
        if ('deleted' in outcome) imageIds.push(outcome.deleted);
        else failures.push({ imageId: id, ...outcome.failure });
      }
      return { imageIds, failures };
    },
    GetAuthorizationToken: () => {
      const password = `eyJ${randomBytes(24).toString('base64url')}`;
      const expiresAt = now() + ttl;
      passwords.set(password, expiresAt);
      return {
        authorizationData: [
          {
            authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'),
            expiresAt: expiresAt / 1000,
            proxyEndpoint: `https://${registryHost}`,
          },
        ],
      };
    },
    CreateRepository: (body) => {
      const name = String(body['repositoryName'] ?? '');
      const registryId = typeof body['registryId'] === 'string' ? body['registryId'] : accountId;
      if (!REPO_NAME_RE.test(name)) {
        throw new AwsError('InvalidParameterException', `Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression pattern'`);
      }
      if (repositories.has(name)) {
        throw new AwsError('RepositoryAlreadyExistsException', `The repository with name '${name}' already exists in the registry with id '${registryId}'`);
      }
      // ECR's answers (API reference, ImageTagMutabilityExclusionFilter; the CDK's and moto's notes on them): a
      // *_WITH_EXCLUSION mutability needs 1 to 5 WILDCARD filters matching ^[0-9a-zA-Z._*-]{1,128}$; the others take none.
      const mutability = typeof body['imageTagMutability'] === 'string' ? body['imageTagMutability'] : 'MUTABLE';
      const filters = body['imageTagMutabilityExclusionFilters'] as { filterType?: string; filter?: string }[] | undefined;
      if (mutability.endsWith('_WITH_EXCLUSION') && (filters === undefined || filters.length === 0)) {
        throw new AwsError('InvalidParameterException', `Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: 'ImageTagMutabilityExclusionFilters can't be null when imageTagMutability is set as ${mutability}'`);
      }
      if (!mutability.endsWith('_WITH_EXCLUSION') && filters !== undefined) {
        throw new AwsError('InvalidParameterException', `Invalid parameter: imageTagMutabilityExclusionFilters can only be used with MUTABLE_WITH_EXCLUSION or IMMUTABLE_WITH_EXCLUSION`);
      }
      if (filters !== undefined && (filters.length > 5 || filters.some((f) => f.filterType !== 'WILDCARD' || !/^[0-9a-zA-Z._*-]{1,128}$/.test(f.filter ?? '')))) {
        throw new AwsError('InvalidParameterException', `Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: 'Member must have length less than or equal to 5, filterType WILDCARD and filter matching ^[0-9a-zA-Z._*-]{1,128}$'`);
      }
      const enc = (body['encryptionConfiguration'] ?? {}) as { encryptionType?: string; kmsKey?: string };
      if (enc.encryptionType === 'AES256' && enc.kmsKey !== undefined) {
        throw new AwsError('InvalidParameterException', 'Invalid parameter: kmsKey cannot be specified with AES256 encryption');
      }
      const tags: Record<string, string> = {};
      const given = (body['tags'] ?? []) as { Key: string; Value: string }[];
      // ECR's tag rules (API reference, Tag, TooManyTagsException, InvalidTagParameterException).
      if (given.length > 50) throw new AwsError('TooManyTagsException', 'The list of tags on the repository is over the limit. The maximum number of tags that can be applied to a repository is 50.');
      if (given.some((t) => t.Key.length === 0 || t.Key.length > 128 || t.Value.length > 256 || /^aws:/i.test(t.Key))) {
        throw new AwsError('InvalidTagParameterException', 'An invalid parameter has been specified. Tag keys can have a maximum character length of 128 characters, and tag values can have a maximum length of 256 characters.');
      }
      for (const t of given) tags[t.Key] = t.Value;
      const repo: EcrStandinRepository = {
        name,
        registryId,
        createdAt: new Date(now()),
        imageTagMutability: mutability,
        ...(filters === undefined ? {} : { imageTagMutabilityExclusionFilters: filters.map((f) => f.filter ?? '') }),
        encryptionType: enc.encryptionType ?? 'AES256',
        ...(enc.kmsKey === undefined ? {} : { kmsKey: enc.kmsKey }),
        tags,
      };
      repositories.set(name, repo);
      return { repository: describe(repo) };
    },
    ListTagsForResource: (body) => {
      const arn = String(body['resourceArn'] ?? '');
      const repo = [...repositories.values()].find((r) => describe(r).repositoryArn === arn);
      if (repo === undefined) throw new AwsError('InvalidParameterException', `Invalid parameter at 'resourceArn': ${arn} is not a repository of this registry`);
      return { tags: Object.entries(repo.tags).map(([Key, Value]) => ({ Key, Value })) };
    },
    DescribeRepositories: (body) => {
      const registryId = typeof body['registryId'] === 'string' ? body['registryId'] : accountId;
      const names = body['repositoryNames'] as string[] | undefined;
      if (names !== undefined) {
        if (body['nextToken'] !== undefined || body['maxResults'] !== undefined) {
          throw new AwsError('InvalidParameterException', 'nextToken and maxResults cannot be used with repositoryNames');
        }
        return {
          repositories: names.map((n) => {
            const r = repositories.get(n);
            if (r === undefined) throw notFound(n, registryId);
            return describe(r);
          }),
        };
      }
      const asked = typeof body['maxResults'] === 'number' ? body['maxResults'] : pageSize;
      if (asked < 1 || asked > 1000) throw new AwsError('InvalidParameterException', 'maxResults must be between 1 and 1000');
      const max = Math.min(asked, options.maxPageSize ?? asked);
      const all = [...repositories.values()].sort((a, b) => a.name.localeCompare(b.name));
      const start = typeof body['nextToken'] === 'string' ? Number(Buffer.from(body['nextToken'], 'base64').toString()) : 0;
      const page = all.slice(start, start + max);
      const next = start + max < all.length ? Buffer.from(String(start + max)).toString('base64') : undefined;
      return { repositories: page.map(describe), ...(next === undefined ? {} : { nextToken: next }) };
    },
  };

  /** STS AssumeRole (awsQuery): temporary credentials whose key id names the role session. */
  const assumeRole = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    const form = new URLSearchParams(raw);
    const auth = String(req.headers['authorization'] ?? '');
    const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/[^/]+\/sts\/aws4_request/.exec(auth);
    calls.push({ op: `sts:${form.get('Action') ?? ''}`, headers: req.headers, body: Object.fromEntries(form), accessKeyId: m?.[1] });
    const xml = (status: number, text: string) => {
      if (standin.stall?.op === 'sts:AssumeRole' && standin.stall.mode === 'hang') return;
      if (standin.stall?.op === 'sts:AssumeRole') return drip(res, Buffer.from(text), standin.stall.dripMs ?? 100, { 'content-type': 'text/xml' }, status);
      res.writeHead(status, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (m === null || !knownKey(m[1] ?? '')) {
      return xml(403, '<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error></ErrorResponse>');
    }
    const session = form.get('RoleSessionName') ?? 'session';
    const roleArn = form.get('RoleArn') ?? '';
    const expiration = new Date(now() + 3600_000).toISOString();
    return xml(
      200,
      `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>` +
        `<AccessKeyId>testASIAASSUMED</AccessKeyId><SecretAccessKey>assumed-secret</SecretAccessKey><SessionToken>assumed-session-token</SessionToken>` +
        `<Expiration>${expiration}</Expiration></Credentials><AssumedRoleUser><Arn>${roleArn.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/')}/${session}</Arn>` +
        `<AssumedRoleId>AROATEST:${session}</AssumedRoleId></AssumedRoleUser></AssumeRoleResult>` +
        `<ResponseMetadata><RequestId>${randomBytes(16).toString('hex')}</RequestId></ResponseMetadata></AssumeRoleResponse>`,
    );
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, payload: unknown, type?: string) => sendAwsJson(res, status, payload, type);
    try {
      const raw = (await readBody(req)).toString('utf8');
      if (String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return assumeRole(req, res, raw);
      const target = String(req.headers['x-amz-target'] ?? '');
      if (req.method !== 'POST' || !target.startsWith(TARGET_PREFIX)) {
        throw new AwsError('UnknownOperationException', `unknown operation ${target || req.method}`);
      }
      if (!String(req.headers['content-type'] ?? '').startsWith('application/x-amz-json-1.1')) {
        throw new AwsError('SerializationException', 'expected Content-Type application/x-amz-json-1.1');
      }
      const op = target.slice(TARGET_PREFIX.length);
      const auth = String(req.headers['authorization'] ?? '');
      const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/([^/]+)\/ecr\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/.exec(auth);
      const body = raw === '' ? {} : (JSON.parse(raw) as Record<string, unknown>);
      calls.push({ op, headers: req.headers, body, accessKeyId: m?.[1] });
      if (m === null || req.headers['x-amz-date'] === undefined) {
        throw new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token', 403);
      }
      if (!knownKey(m[1] ?? '')) {
        throw new AwsError('UnrecognizedClientException', 'The security token included in the request is invalid.');
      }
      if (m[2] !== region) {
        throw new AwsError('InvalidSignatureException', `Credential should be scoped to a valid region, not '${m[2]}'.`);
      }
      const impl = ops[op];
      if (impl === undefined) throw new AwsError('UnknownOperationException', `operation ${op} is not implemented by the stand-in`);
      const injected = failures.get(op);
      if (injected !== undefined) throw new AwsError(injected.type, injected.message);
      if (standin.stall?.op === op && standin.stall.mode === 'hang') return;
      if (denied.has(op)) {
        const resource =
          typeof body['repositoryName'] === 'string' ? `arn:aws:ecr:${region}:${accountId}:repository/${body['repositoryName']}` : '*';
        throw new AwsError('AccessDeniedException', standin.denialMessage(op, resource));
      }
      const normal = await impl(body);
      const answer = standin.answerOverride === undefined ? normal : standin.answerOverride(op, normal);
      if (standin.stall?.op === op && standin.stall.mode === 'drip') {
        const text = Buffer.from(typeof answer === 'string' ? answer : JSON.stringify(answer));
        return drip(res, text, standin.stall.dripMs ?? 100, { 'content-type': 'application/x-amz-json-1.1' });
      }
      if (typeof answer === 'string') {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(answer) });
        return void res.end(answer);
      }
      send(200, answer);
    } catch (err) {
      if (err instanceof AwsError) send(err.status, { __type: err.type, message: err.message }, err.type);
      else send(500, { __type: 'ServerException', message: (err as Error).message }, 'ServerException');
    }
  };

  const server: Server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const standin: EcrStandin = {
    url: `http://127.0.0.1:${port}`,
    accountId,
    region,
    registryHost,
    repositories,
    calls,
    failImage: (repository, tag, failureCode, failureReason) => void imageFailures.set(`${repository}:${tag}`, { failureCode, failureReason }),
    deny: (op, why) => void denied.set(op, why),
    denies: (op) => denied.has(op),
    denialMessage: (op, resource) =>
      `User: arn:aws:iam::${accountId}:user/packpub-test is not authorized to perform: ecr:${op} on resource: ${resource} ${denied.get(op) ?? `because no identity-based policy allows the ecr:${op} action`}`,
    allow: (op) => {
      denied.delete(op);
      failures.delete(op);
    },
    fail: (op, type, message) => void failures.set(op, { type, message }),
    answerOverride: undefined,
    stall: undefined,
    maxImagesPerRepository: undefined,
    checkPassword(password) {
      const expiresAt = passwords.get(password);
      if (expiresAt === undefined) return 'unknown';
      return now() < expiresAt ? 'valid' : 'expired';
    },
    mintedSecrets: () => [...passwords.keys()].flatMap((p) => [p, Buffer.from(`AWS:${p}`).toString('base64')]),
    expireAllTokens() {
      for (const key of passwords.keys()) passwords.set(key, 0);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return standin;
}

/** An AWS JSON 1.1 answer (an error's `type` also in `x-amzn-ErrorType`), as the AWS APIs send it (this stand-in, ECR Public's). */
export function sendAwsJson(res: ServerResponse, status: number, payload: unknown, type?: string): void {
  const text = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'x-amzn-requestid': randomBytes(16).toString('hex'),
    ...(type === undefined ? {} : { 'x-amzn-errortype': type }),
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** The ECR host name the tests use (reached through --resolve or the ECR-like proxy, never the network). */
export const TEST_ECR_HOST = '123456789012.dkr.ecr.us-east-1.amazonaws.com';

/** Every AWS_* variable the SDK reads that could reach this machine's credentials or another endpoint. */
const AWS_VARIABLES = [
  'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_REGION', 'AWS_ENDPOINT_URL_ECR',
  'AWS_ENDPOINT_URL', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_EC2_METADATA_DISABLED',
  'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_ROLE_ARN', 'AWS_ENDPOINT_URL_STS', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI',
];

/**
 * Give the real AWS SDK fake static credentials through the process environment, as CI would, and keep it
 * away from this machine's AWS files and instance metadata. Returns a function that restores the environment.
 */
export function useFakeAwsEnvironment(accessKeyId: string): () => void {
  const values: Record<string, string> = {
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: `${accessKeyId}-secret-not-real`,
    AWS_CONFIG_FILE: '/nonexistent/packpub-test/config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/packpub-test/credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  const saved: Record<string, string | undefined> = {};
  for (const k of AWS_VARIABLES) {
    saved[k] = process.env[k];
    delete process.env[k];
  }
  Object.assign(process.env, values);
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/**
 * `run` (an in-process runCli) with the AWS credentials the SDK finds in the process environment being `aws` alone
 * (e.g. web identity: AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN), as a child given only `aws` would see them: the
 * SDK reads process.env, not the run's env. The other AWS variables are removed meanwhile (the machine's files
 * and instance metadata stay out of reach), and everything is put back after.
 */
export async function withAwsEnvironment<T>(aws: Record<string, string>, run: () => Promise<T>): Promise<T> {
  const restore = useFakeAwsEnvironment('unused');
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) delete process.env[k];
  Object.assign(process.env, aws);
  try {
    return await run();
  } finally {
    for (const k of AWS_VARIABLES) delete process.env[k];
    restore();
  }
}

/**
 * `attempt` run while IAM denies `ecr:<op>`: its failure, checked to be an AUTH error that names the action
 * and how to grant it (what a user needs to fix the policy).
 */
export async function iamDenial(standin: EcrStandin, op: string, attempt: () => Promise<unknown>): Promise<PackpubError> {
  standin.deny(op);
  try {
    const err = await failure(attempt());
    expect(err.code).toBe('AUTH');
    expect(err.message).toContain(`ecr:${op}`);
    expect(err.hint).toContain(`grant ecr:${op}`);
    return err;
  } finally {
    standin.allow(op);
  }
}
