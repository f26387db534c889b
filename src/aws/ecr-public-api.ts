import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isLoopbackHost } from '../oci/reference.js';
import { PackpubError } from '../errors.js';
import { awsFilesOf, awsHandlerOf, DEFAULT_ECR_CALL_TIMEOUT_MS, mapAwsError, refuseAwsWithoutHome, refusePlainHttpSts, registerEndpointSecrets, resolvingCounter, withinCallTimeout, type AwsConnection } from './ecr-sdk.js';

/*
 * The two ECR Public API calls packpub makes to create a missing repository (ECR Public API reference): DescribeRegistries,
 * whose registries' aliases tell whether `public.ecr.aws/<alias>` is the caller's own registry (CreateRepository takes no
 * alias: it creates in the caller's registry, so a repository made for another account's alias would be a stray one of
 * the caller's), and CreateRepository (RepositoryAlreadyExistsException: there already). The API answers in us-east-1
 * only, whatever region the environment names. AWS credentials come from the SDK's default chain (or --aws-profile), as
 * for ECR; the endpoint from AWS_ENDPOINT_URL_ECR_PUBLIC (else AWS_ENDPOINT_URL), as the SDK reads them.
 *
 * @aws-sdk/client-ecr-public (one package of ~0.5 MB, whose dependencies the ECR client brings anyway) is loaded here
 * only when a repository is missing: start-up and runs into existing repositories never load it. It is loaded by a name
 * the type checker does not resolve; the few of its shapes used here are declared below.
 */

/** The region of the ECR Public API (its user guide: "the Amazon ECR Public API is only available in us-east-1"). */
export const ECR_PUBLIC_API_REGION = 'us-east-1';

const ECR_PUBLIC_SDK = '@aws-sdk/client-ecr-public';

interface EcrPublicSdk {
  ECRPUBLICClient: new (config: Record<string, unknown>) => { send(command: object, options?: { abortSignal?: AbortSignal }): Promise<unknown>; destroy(): void };
  DescribeRegistriesCommand: new (input: Record<string, unknown>) => object;
  CreateRepositoryCommand: new (input: Record<string, unknown>) => object;
  GetAuthorizationTokenCommand: new (input: Record<string, unknown>) => object;
  DescribeRepositoriesCommand: new (input: Record<string, unknown>) => object;
}

interface DescribeRegistriesAnswer {
  registries?: Array<{ registryId?: string; aliases?: Array<{ name?: string; status?: string }> }>;
  nextToken?: string;
}

/** Where the ECR Public API is called: AWS_ENDPOINT_URL_ECR_PUBLIC, else AWS_ENDPOINT_URL, of the run's environment. */
export function ecrPublicEndpoint(env: NodeJS.ProcessEnv): { name: string; url: string } | undefined {
  for (const name of ['AWS_ENDPOINT_URL_ECR_PUBLIC', 'AWS_ENDPOINT_URL']) {
    const value = env[name]?.trim();
    if (value !== undefined && value !== '') return { name, url: value };
  }
  return undefined;
}

/** What names an AWS identity without asking the network: the SDK chain's sources but the EC2 instance metadata. */
const IDENTITY_VARIABLES = ['AWS_ACCESS_KEY_ID', 'AWS_PROFILE', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI'];

/**
 * Whether an AWS identity is configured where the SDK reads it first: environment variables (keys, a profile, web
 * identity (EKS, GitHub OIDC), container credentials (ECS, EKS Pod Identity, CodeBuild)), a shared credentials or config
 * file, or --aws-profile. Not the EC2 instance metadata: on a machine without AWS credentials the SDK's chain ends
 * probing it (up to its 1 s timeout) on every run that reads public.ecr.aws anonymously, as such runs did not before.
 * Asked before the ECR Public token (credentials/ecr-public-token.ts) and listing; repository creation, on a push that
 * needs it, uses the whole chain.
 */
export function awsIdentityConfigured(env: NodeJS.ProcessEnv, awsProfile: string | undefined): boolean {
  if (awsProfile !== undefined) return true;
  const envs = [env, process.env];
  if (envs.some((env) => IDENTITY_VARIABLES.some((name) => (env[name] ?? '') !== ''))) return true;
  return envs.some((env) => {
    // Where the SDK reads them: the file a variable names, else the one in ~/.aws.
    const home = env['HOME'] ?? '';
    const file = (name: string, base: string) => (env[name] ?? '') !== '' ? env[name] : home === '' ? undefined : join(home, '.aws', base);
    return [file('AWS_SHARED_CREDENTIALS_FILE', 'credentials'), file('AWS_CONFIG_FILE', 'config')].some((f) => f !== undefined && existsSync(f));
  });
}

/** Why no ECR Public API call was made where no identity is configured (awsIdentityConfigured). */
export const NO_AWS_IDENTITY = 'no AWS credentials in the environment, a shared credentials or config file, or --aws-profile';

export interface EcrPublicApiOptions {
  env: NodeJS.ProcessEnv;
  awsProfile?: string;
  /** --plain-http for the registry: an endpoint of plain HTTP off this machine is allowed then, as for ECR's. */
  plainHttp?: boolean;
  timeoutMs?: number;
  /** The target's CA file's trust store, for the API's connections (AwsConnection). */
  trust?: AwsConnection['trust'];
}

export class EcrPublicApi {
  private opened: Promise<{ sdk: EcrPublicSdk; client: InstanceType<EcrPublicSdk['ECRPUBLICClient']> }> | undefined;
  /** Whether credentials are being resolved now (open's `credentials`). */
  private resolving: () => boolean = () => false;
  private readonly endpoint: { name: string; url: string } | undefined;

  /** Refuses (USAGE) an endpoint of plain HTTP off this machine before any request: see refusePlainHttp. */
  constructor(private readonly options: EcrPublicApiOptions) {
    this.endpoint = ecrPublicEndpoint(options.env);
    this.refusePlainHttp();
  }

  /** The registry aliases of the caller's own ECR Public registry (DescribeRegistries, every page). */
  async ownAliases(): Promise<string[]> {
    const pages = await this.pages<DescribeRegistriesAnswer>('DescribeRegistriesCommand', 'ecr-public:DescribeRegistries');
    return pages.flatMap((p) => (p.registries ?? []).flatMap((r) => (r.aliases ?? []).flatMap((a) => (typeof a.name === 'string' ? [a.name] : []))));
  }

  /** The names of every repository of the caller's registry (DescribeRepositories, every page). */
  async repositoryNames(): Promise<string[]> {
    const pages = await this.pages<{ repositories?: Array<{ repositoryName?: string }>; nextToken?: string }>('DescribeRepositoriesCommand', 'ecr-public:DescribeRepositories', { maxResults: 1000 });
    return pages.flatMap((p) => (p.repositories ?? []).flatMap((r) => (typeof r.repositoryName === 'string' ? [r.repositoryName] : [])));
  }

  /** Every page of a paged call, following nextToken; one that repeats a token, or more than 10 000 pages, is an error. */
  private async pages<T extends { nextToken?: string }>(command: 'DescribeRegistriesCommand' | 'DescribeRepositoriesCommand', action: string, input: Record<string, unknown> = {}): Promise<T[]> {
    const pages: T[] = [];
    const seen = new Set<string>();
    let nextToken: string | undefined;
    do {
      if (nextToken !== undefined) {
        if (seen.has(nextToken) || seen.size >= 10_000) {
          throw new PackpubError('REGISTRY', `the ECR Public API answered ${action} with a nextToken it had already given (or more than 10000 pages): the list would never end`, {
            hint: 'check AWS_ENDPOINT_URL_ECR_PUBLIC points at the ECR Public API (a proxy or another service may answer instead)',
          });
        }
        seen.add(nextToken);
      }
      const page = (await this.call(command, { ...input, ...(nextToken === undefined ? {} : { nextToken }) }, action)) as T;
      pages.push(page);
      nextToken = page.nextToken === '' ? undefined : page.nextToken;
    } while (nextToken !== undefined);
    return pages;
  }

  /**
   * GetAuthorizationToken: the registry password (base64 `AWS:<password>`, 12 hours) and when it expires; needs
   * ecr-public:GetAuthorizationToken and sts:GetServiceBearerToken.
   */
  async authorizationToken(): Promise<{ authorizationToken?: string; expiresAt?: Date }> {
    const answer = (await this.call('GetAuthorizationTokenCommand', {}, 'ecr-public:GetAuthorizationToken')) as { authorizationData?: { authorizationToken?: string; expiresAt?: Date } };
    return answer.authorizationData ?? {};
  }

  /** CreateRepository in the caller's registry; 'exists' when it is there already. */
  async createRepository(name: string): Promise<'created' | 'exists'> {
    try {
      await this.call('CreateRepositoryCommand', { repositoryName: name }, 'ecr-public:CreateRepository', name);
      return 'created';
    } catch (err) {
      if ((err as { cause?: { name?: string } }).cause?.name === 'RepositoryAlreadyExistsException') return 'exists';
      throw err;
    }
  }

  close(): void {
    void this.opened?.then(({ client }) => client.destroy(), () => undefined);
  }

  private async call(command: 'DescribeRegistriesCommand' | 'CreateRepositoryCommand' | 'GetAuthorizationTokenCommand' | 'DescribeRepositoriesCommand', input: Record<string, unknown>, action: string, repository?: string): Promise<unknown> {
    try {
      const { sdk, client } = await this.open();
      return await withinCallTimeout((abortSignal) => client.send(new sdk[command](input), { abortSignal }), this.options.timeoutMs ?? DEFAULT_ECR_CALL_TIMEOUT_MS, () => this.resolving());
    } catch (err) {
      throw mapAwsError(err, action, {
        host: 'public.ecr.aws',
        endpoint: this.endpoint?.url ?? `its ${ECR_PUBLIC_API_REGION} endpoint`,
        api: { name: 'the ECR Public API', setting: 'AWS_ENDPOINT_URL_ECR_PUBLIC' },
        ...(this.options.awsProfile === undefined ? {} : { profile: this.options.awsProfile }),
        ...(repository === undefined ? {} : { repository }),
      });
    }
  }

  private open(): Promise<{ sdk: EcrPublicSdk; client: InstanceType<EcrPublicSdk['ECRPUBLICClient']> }> {
    this.opened ??= (async () => {
      refuseAwsWithoutHome();
      process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
      // Through HTTPS_PROXY / NO_PROXY as ECR's calls (ecr-sdk.ts openEcrClient).
      const [sdk, providers, proxied] = await Promise.all([import(ECR_PUBLIC_SDK) as Promise<EcrPublicSdk>, import('@aws-sdk/credential-providers'), awsHandlerOf({ env: this.options.env, trust: this.options.trust }, DEFAULT_ECR_CALL_TIMEOUT_MS)]);
      const requestHandler = proxied === undefined ? {} : { requestHandler: proxied };
      const files = awsFilesOf(this.options.env);
      const chain = providers.fromNodeProviderChain({
        ...(this.options.awsProfile === undefined ? {} : { profile: this.options.awsProfile }),
        ...(files.credentialsFile === undefined ? {} : { filepath: files.credentialsFile }),
        ...(files.configFile === undefined ? {} : { configFilepath: files.configFile }),
        clientConfig: { region: ECR_PUBLIC_API_REGION, ...requestHandler },
      });
      // Counted while the SDK resolves them, so a call that runs out of time says whether it waited for them (call).
      const { provider: credentials, active } = resolvingCounter(chain);
      this.resolving = active;
      const client = new sdk.ECRPUBLICClient({
        region: ECR_PUBLIC_API_REGION,
        credentials,
        ...requestHandler,
        ...(this.endpoint === undefined ? {} : { endpoint: this.endpoint.url }),
        ...(files.maxAttempts === undefined ? {} : { maxAttempts: files.maxAttempts }),
      });
      return { sdk, client };
    })();
    this.opened.catch(() => (this.opened = undefined));
    return this.opened;
  }

  /** As refusePlainHttpEcrEndpoint for ECR's: request signatures, the session token, in clear text to whatever answers. */
  private refusePlainHttp(): void {
    registerEndpointSecrets([this.endpoint?.url, this.options.env['AWS_ENDPOINT_URL_STS']]);
    if (this.options.plainHttp === true) return;
    refusePlainHttpSts(this.options.env, undefined);
    if (this.endpoint === undefined) return;
    let url: URL;
    try {
      url = new URL(this.endpoint.url);
    } catch {
      return; // the SDK says what is wrong with it
    }
    if (url.protocol !== 'http:' || isLoopbackHost(url.host)) return;
    throw new PackpubError('USAGE', `refusing to call the ECR Public API at ${url.origin} over plain HTTP (${this.endpoint.name}): the AWS request signatures and session token would cross the network in clear text`, {
      hint: 'use https://; a stand-in of the ECR Public API may use http:// on a loopback address',
    });
  }
}
