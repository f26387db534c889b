import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { AwsError, sendAwsJson } from './ecr-standin.js';
import { startHostileRegistry, type HostileRegistry } from './hostile-registry.js';
import { listenOnLoopback, readBody } from './loopback.js';
import type { Stage } from './stage.js';

/*
 * A loopback stand-in for the Amazon ECR Public API as the real @aws-sdk/client-ecr-public talks to it (ECR Public API
 * reference): AWS JSON 1.1, `POST /`, `X-Amz-Target: SpencerFrontendService.<Op>`, SigV4 scoped to us-east-1 and the
 * signing name `ecr-public` (the API answers in us-east-1 only: a request signed for another region is refused as AWS
 * refuses it), errors as `{"__type": "<Exception>", "message": "..."}` with the `x-amzn-ErrorType` header.
 * GetAuthorizationToken mints the registry password (`password`); DescribeRegistries answers the caller's one registry with its aliases; DescribeRepositories pages its repositories; CreateRepository creates in it (names checked
 * against the API's pattern), RepositoryAlreadyExistsException when there. Faults: an AWS error per operation (`fail`:
 * LimitExceededException...), an IAM denial (`deny`).
 */

/** ECR Public's repositoryName pattern and length (API reference, CreateRepository). */
const REPOSITORY_NAME = /^(?=.{2,205}$)(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

export interface EcrPublicStandin {
  /** `http://127.0.0.1:<port>`: AWS_ENDPOINT_URL_ECR_PUBLIC for the run. */
  url: string;
  accountId: string;
  /** The aliases of the caller's registry, as DescribeRegistries answers them. */
  aliases: string[];
  /** Repositories of the caller's registry, by name (without the alias); shared with the registry stand-in. */
  repositories: Set<string>;
  /** Each call: operation, its JSON body, and the SigV4 scope's region. */
  calls: Array<{ op: string; body: Record<string, unknown>; region: string | undefined }>;
  /** Largest DescribeRepositories page, below what the caller asks, so tests see several pages. */
  pageSize: number;
  /** What GetAuthorizationToken answers as authorizationToken instead of a minted one (an endpoint that is no ECR Public API). */
  tokenOverride: string | undefined;
  fail(op: string, type: string, message: string): void;
  deny(op: string): void;
  /** Undo fail / deny. */
  allow(op: string): void;
  close(): Promise<void>;
}

/**
 * `password`: what GetAuthorizationToken mints (base64 `AWS:<password>`, 12 hours), the registry stand-in's password
 * for user AWS.
 */
export async function startEcrPublicStandin(options: { accountId?: string; aliases?: string[]; repositories?: Set<string>; password?: string } = {}): Promise<EcrPublicStandin> {
  const accountId = options.accountId ?? '123456789012';
  const failures = new Map<string, { type: string; message: string }>();
  const denied = new Set<string>();
  // Read by the operations when called: the aliases may be changed by a test.
  let standin: EcrPublicStandin;

  const ops: Record<string, (body: Record<string, unknown>) => unknown> = {
    DescribeRegistries: () => ({
      registries: [
        {
          registryId: accountId,
          registryArn: `arn:aws:ecr-public::${accountId}:registry/${accountId}`,
          registryUri: `public.ecr.aws/${standin.aliases[0] ?? accountId}`,
          verified: false,
          aliases: standin.aliases.map((name, i) => ({ name, status: 'ACTIVE', primaryRegistryAlias: i === 0, defaultRegistryAlias: i === 0 })),
        },
      ],
    }),
    GetAuthorizationToken: () => ({
      authorizationData: { authorizationToken: standin.tokenOverride ?? Buffer.from(`AWS:${options.password ?? 'ecr-public-password'}`).toString('base64'), expiresAt: Date.now() / 1000 + 12 * 3600 },
    }),
    // One page per call of at most maxResults (real: up to 1000), nextToken the index of the next one.
    DescribeRepositories: (body) => {
      const all = [...standin.repositories].sort();
      const from = Number(body['nextToken'] ?? 0);
      const size = Math.min(Number(body['maxResults'] ?? 100), standin.pageSize);
      const page = all.slice(from, from + size);
      return {
        repositories: page.map((name) => ({ repositoryArn: `arn:aws:ecr-public::${accountId}:repository/${name}`, registryId: accountId, repositoryName: name, repositoryUri: `public.ecr.aws/${standin.aliases[0] ?? ''}/${name}` })),
        ...(from + size < all.length ? { nextToken: String(from + size) } : {}),
      };
    },
    CreateRepository: (body) => {
      const name = String(body['repositoryName'] ?? '');
      if (!REPOSITORY_NAME.test(name)) throw new AwsError('InvalidParameterException', `Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression pattern'`);
      if (standin.repositories.has(name)) throw new AwsError('RepositoryAlreadyExistsException', `The repository with name '${name}' already exists in the registry with id '${accountId}'`);
      standin.repositories.add(name);
      return {
        repository: { repositoryArn: `arn:aws:ecr-public::${accountId}:repository/${name}`, registryId: accountId, repositoryName: name, repositoryUri: `public.ecr.aws/${standin.aliases[0] ?? ''}/${name}`, createdAt: Date.now() / 1000 },
        catalogData: {},
      };
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      const raw = (await readBody(req)).toString('utf8');
      const target = String(req.headers['x-amz-target'] ?? '');
      if (req.method !== 'POST' || !target.startsWith('SpencerFrontendService.')) throw new AwsError('UnknownOperationException', `unknown operation ${target || req.method}`);
      const op = target.slice('SpencerFrontendService.'.length);
      const auth = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/.exec(String(req.headers['authorization'] ?? ''));
      const body = raw === '' ? {} : (JSON.parse(raw) as Record<string, unknown>);
      standin.calls.push({ op, body, region: auth?.[2] });
      if (auth === null) throw new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token', 403);
      if (auth[3] !== 'ecr-public') throw new AwsError('InvalidSignatureException', `Credential should be scoped to correct service: 'ecr-public'.`);
      if (auth[2] !== 'us-east-1') throw new AwsError('InvalidSignatureException', `Credential should be scoped to a valid region, not '${auth[2] ?? ''}'.`);
      const impl = ops[op];
      if (impl === undefined) throw new AwsError('UnknownOperationException', `operation ${op} is not implemented by the stand-in`);
      if (denied.has(op)) {
        throw new AwsError('AccessDeniedException', `User: arn:aws:iam::${accountId}:user/packpub-test is not authorized to perform: ecr-public:${op} on resource: * because no identity-based policy allows the ecr-public:${op} action`);
      }
      const injected = failures.get(op);
      if (injected !== undefined) throw new AwsError(injected.type, injected.message);
      sendAwsJson(res, 200, impl(body));
    } catch (err) {
      if (err instanceof AwsError) sendAwsJson(res, err.status, { __type: err.type, message: err.message }, err.type);
      else sendAwsJson(res, 500, { __type: 'ServerException', message: (err as Error).message }, 'ServerException');
    }
  };

  const listening = await listenOnLoopback(createServer((req, res) => void handle(req, res)));
  standin = {
    accountId,
    aliases: options.aliases ?? ['myalias'],
    repositories: options.repositories ?? new Set<string>(),
    calls: [],
    tokenOverride: undefined,
    pageSize: 1000,
    url: listening.url,
    fail: (op, type, message) => void failures.set(op, { type, message }),
    deny: (op) => void denied.add(op),
    allow: (op) => {
      denied.delete(op);
      failures.delete(op);
    },
    close: () => listening.close(),
  };
  return standin;
}

/**
 * ECR Public as a user reaches it: a registry stand-in (`registry`: user AWS, password `token`) under the host name
 * public.ecr.aws (`host`, reached through `--resolve <resolve>`) that answers as ECR Public does (404 NAME_UNKNOWN)
 * for a repository of the registry alias `myalias` not created yet, and the ECR Public API (`api`, minting `token`)
 * whose CreateRepository creates it (`created`, names without the alias). Torn down with the stage.
 */
export async function startEcrPublicWorld(
  stack: Stage,
  token: string,
): Promise<{ registry: HostileRegistry; created: Set<string>; api: EcrPublicStandin; host: string; resolve: string }> {
  const registry = stack.add(await startHostileRegistry({ users: { AWS: token } }));
  const created = new Set<string>();
  registry.behaviour.answer = (req) => {
    const m = /^\/v2\/myalias\/(.+?)\/(?:manifests|blobs|tags)\//.exec(req.path);
    if (m === null || created.has(m[1] ?? '')) return undefined;
    const body = JSON.stringify({ errors: [{ code: 'NAME_UNKNOWN', message: `The repository with name '${m[1] ?? ''}' does not exist in the registry with id 'myalias'` }] });
    return { status: 404, headers: { 'content-type': 'application/json' }, body };
  };
  const api = stack.add(await startEcrPublicStandin({ repositories: created, password: token }));
  const port = registry.host.split(':')[1] ?? '';
  return { registry, created, api, host: `public.ecr.aws:${port}`, resolve: `public.ecr.aws:${port}:127.0.0.1` };
}
