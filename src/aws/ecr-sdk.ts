import type { ECRClient } from '@aws-sdk/client-ecr';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { EcrHost } from './ecr-host.js';
import { iamDenialHint } from './iam-denial.js';
import { PackpubError } from '../errors.js';
import { isLoopbackHost } from '../oci/reference.js';
import { redactText, registerSecret } from '../util/redact.js';
import { awsRequestHandler } from '../net/proxy.js';
import { isCertificateVerifyError, systemErrorCode } from '../net/error-codes.js';
import { noHomeReason, systemHome } from '../util/home.js';

/*
 * Every AWS SDK touch: loading the SDK (only when an ECR host is used, so CLI start-up does not pay for
 * it), opening an ECR API client for a host, and turning SDK errors into PackpubErrors.
 */

export interface EcrAwsOptions {
  /** ECR API endpoint URL (else the SDK reads AWS_ENDPOINT_URL_ECR, else the regional endpoint). */
  endpoint?: string;
  /** Shared-config profile (else the SDK chain: AWS_PROFILE, env keys, SSO, web identity, container, IMDS). */
  awsProfile?: string;
  /** Assume this role through STS before calling ECR (Palette's "STS" mode). */
  awsRoleArn?: string;
  /** The shared credentials file to read profiles from (else the SDK reads AWS_SHARED_CREDENTIALS_FILE of the process, else ~/.aws/credentials). */
  credentialsFile?: string;
  /** The shared config file (else the SDK reads AWS_CONFIG_FILE of the process, else ~/.aws/config). */
  configFile?: string;
  /** Attempts per ECR API call, the first included (else the SDK reads AWS_MAX_ATTEMPTS of the process, else its default, 3). */
  maxAttempts?: number;
}

/**
 * Refuse an ECR API endpoint of plain HTTP off this machine (`--ecr-endpoint`, packpub.yaml's `ecr.endpoint`, else
 * AWS_ENDPOINT_URL_ECR / AWS_ENDPOINT_URL as the SDK reads them): every call carries the AWS access key id, a request
 * signature and the session token, and GetAuthorizationToken answers with the registry password (12 hours), all in
 * clear text to whatever answers on the way. A stand-in of the ECR API on a loopback address may use http://, and
 * so may one reached with `plainHttp` given for the target (the registry is plain HTTP as well: a stand-in in a CI
 * network). As the Palette endpoint and Basic auth over plain HTTP are refused.
 */
export function refusePlainHttpEcrEndpoint(endpoint: string | undefined, env: NodeJS.ProcessEnv, plainHttp: boolean, roleArn?: string): void {
  registerEndpointSecrets([endpoint, ...AWS_ENDPOINT_VARIABLES.map((name) => env[name])]);
  if (!plainHttp) refusePlainHttpSts(env, roleArn);
  const given = [
    ['--ecr-endpoint / ecr.endpoint / AWS_ENDPOINT_URL_ECR', endpoint],
    ['AWS_ENDPOINT_URL_ECR', env['AWS_ENDPOINT_URL_ECR']],
    ['AWS_ENDPOINT_URL', env['AWS_ENDPOINT_URL']],
  ].find(([, value]) => value !== undefined && value.trim() !== '');
  if (given === undefined || plainHttp) return;
  const [name, value] = given as [string, string];
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return; // the SDK says what is wrong with it
  }
  if (url.protocol !== 'http:' || isLoopbackHost(url.host)) return;
  throw new PackpubError('USAGE', `refusing to call the ECR API at ${url.origin} over plain HTTP (${name}): the AWS request signatures and session token, and the registry password it answers with, would cross the network in clear text`, {
    hint: 'use https:// (the regional endpoint, a VPC endpoint); a stand-in of the ECR API may use http:// on a loopback address, or with --plain-http given for a registry that is plain HTTP as well (copy: --from-plain-http or --to-plain-http for that side)',
  });
}

/** The endpoint variables the SDK reads for the services packpub calls (ECR, ECR Public, STS). */
const AWS_ENDPOINT_VARIABLES = ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_ECR', 'AWS_ENDPOINT_URL_ECR_PUBLIC', 'AWS_ENDPOINT_URL_STS'];

/**
 * The password of an endpoint URL with user:password@ (a gateway in front of the API taking Basic credentials, which the
 * SDK sends), registered as a secret: messages name the endpoint ("cannot reach the ECR API at <endpoint>"), and showed it.
 */
export function registerEndpointSecrets(endpoints: ReadonlyArray<string | undefined>): void {
  for (const endpoint of endpoints) {
    if (endpoint === undefined || !endpoint.includes('@')) continue;
    try {
      const { password } = new URL(endpoint.trim());
      registerSecret(password);
      registerSecret(decodeURIComponent(password));
    } catch {
      // not a URL (the SDK says so) or a bad escape: nothing to register
    }
  }
}

/** An endpoint as messages name it: without the user name and password of a user:password@ in it. */
function shownEndpoint(endpoint: string): string {
  return endpoint.includes('@') ? redactText(endpoint) : endpoint;
}

/**
 * Refuse an STS endpoint of plain HTTP off this machine (AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL) where STS is asked
 * for this run's identity: --aws-role-arn (AssumeRole: the base credentials' signature and session token go, the role's
 * credentials come back) or web identity (AWS_WEB_IDENTITY_TOKEN_FILE: the OIDC token goes, credentials come back). The ECR
 * API endpoint was refused so and STS's was not: the same secrets in clear text to whatever answers on the way.
 */
export function refusePlainHttpSts(env: NodeJS.ProcessEnv, roleArn: string | undefined): void {
  const webIdentity = [env, process.env].some((e) => (e['AWS_WEB_IDENTITY_TOKEN_FILE'] ?? '').trim() !== '');
  if ((roleArn === undefined || roleArn === '') && !webIdentity) return;
  const given = (['AWS_ENDPOINT_URL_STS', 'AWS_ENDPOINT_URL'] as const).map((name) => [name, env[name]?.trim() ?? ''] as const).find(([, value]) => value !== '');
  if (given === undefined) return;
  let url: URL;
  try {
    url = new URL(given[1]);
  } catch {
    return; // the SDK says what is wrong with it
  }
  if (url.protocol !== 'http:' || isLoopbackHost(url.host)) return;
  const why = roleArn === undefined || roleArn === '' ? 'the web identity token' : 'the request signatures and session token';
  throw new PackpubError('USAGE', `refusing to call STS at ${url.origin} over plain HTTP (${given[0]}): ${why}, and the role's credentials it answers with, would cross the network in clear text`, {
    hint: 'use https:// (the regional STS endpoint, a VPC endpoint); a stand-in of STS may use http:// on a loopback address, or with --plain-http given for a registry that is plain HTTP as well',
  });
}

/**
 * The shared credentials and config files `env` names (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE) and its
 * AWS_MAX_ATTEMPTS (the SDK's documented retry setting), to hand to the SDK, which reads the process's environment:
 * an embedded run's own environment is not it. A leading `~/` is `env`'s HOME, as the SDK reads it against the
 * process's. A CLI run's environment is the process's: the same settings as the SDK would read. An AWS_MAX_ATTEMPTS
 * that is no whole number is left to the SDK, which says what is wrong with it.
 */
export function awsFilesOf(env: NodeJS.ProcessEnv | undefined): Pick<EcrAwsOptions, 'credentialsFile' | 'configFile' | 'maxAttempts'> {
  const file = (name: string): string | undefined => {
    const value = env?.[name];
    if (value === undefined || value === '') return undefined;
    const home = env?.['HOME'];
    return value.startsWith('~/') && home !== undefined && home !== '' ? join(home, value.slice(2)) : value;
  };
  const credentialsFile = file('AWS_SHARED_CREDENTIALS_FILE');
  const configFile = file('AWS_CONFIG_FILE');
  const attempts = env?.['AWS_MAX_ATTEMPTS']?.trim() ?? '';
  const maxAttempts = /^[1-9]\d{0,2}$/.test(attempts) ? Number(attempts) : undefined;
  return { ...(credentialsFile === undefined ? {} : { credentialsFile }), ...(configFile === undefined ? {} : { configFile }), ...(maxAttempts === undefined ? {} : { maxAttempts }) };
}

/**
 * How a target's AWS API clients connect (ECR's, ECR Public's): the proxy variables of `env` (default the process's:
 * the SDK reads none itself, net/proxy.ts) and the target's --ca-file. A runner behind a TLS-intercepting proxy
 * gives packpub the proxy's CA as --ca-file: the registry's connections trusted it, the AWS SDK's did not, so every
 * ECR call failed on the proxy's certificate.
 */
export interface AwsConnection {
  env?: NodeJS.ProcessEnv | undefined;
  /** The trust store (Node's roots, NODE_EXTRA_CA_CERTS's and the file's certificates), read when a client is opened. */
  trust?: (() => Promise<readonly string[]>) | undefined;
}

/** The request handler options of `connection` (net/proxy.ts awsRequestHandler). */
export async function awsHandlerOf(connection: AwsConnection, timeoutMs: number): Promise<{ httpsAgent: import('node:https').Agent } | undefined> {
  const ca = await connection.trust?.();
  return awsRequestHandler(timeoutMs, connection.env ?? process.env, ca);
}

export type EcrSdk = typeof import('@aws-sdk/client-ecr');

/**
 * The AWS SDK looks for its shared files under the home folder (HOME, else USERPROFILE, else HOMEPATH, else the
 * system's record) however they are named, and where there is none (a container run as a user its image does not
 * know, HOME unset) it throws, once where packpub catches it and once where no one does: "ECR API call ... failed
 * (SystemError): uv_os_homedir returned ENOENT", then Node's stack trace. Said up front instead (CONFIG, exit 2).
 */
export function refuseAwsWithoutHome(env: NodeJS.ProcessEnv = process.env): void {
  if (env['HOME'] || env['USERPROFILE'] || env['HOMEPATH'] || systemHome() !== undefined) return;
  throw new PackpubError('CONFIG', `the AWS SDK needs a home folder: ${noHomeReason()}`, {
    hint: 'set HOME to a folder (the SDK reads .aws/config and .aws/credentials there, when present)',
  });
}

export async function loadEcrSdk(): Promise<EcrSdk> {
  refuseAwsWithoutHome();
  // The SDK warns on every run under Node 20 about its releases after January 2027; packpub pins its SDK
  // version and supports Node 20, so that warning would only be noise on stderr. Set it to "false" to see it.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  return import('@aws-sdk/client-ecr');
}

/** How long one ECR API call may take, the SDK's own retries included (--request-timeout's default). */
export const DEFAULT_ECR_CALL_TIMEOUT_MS = 60_000;

/** An opened ECR API client; `send` bounds each call in time. */
export interface EcrApiClient {
  sdk: EcrSdk;
  client: ECRClient;
  /**
   * One call that must end within the clients' time limit: the SDK has no timeout of its own, so an API
   * (or proxy) that accepts the connection and never answers, or drips its answer, would hold the run.
   */
  send<Out = unknown>(command: object): Promise<Out>;
}

/**
 * The ECR API clients of one run: one per region, endpoint flavour and AWS settings, shared by the token
 * provider (GetAuthorizationToken) and the store's API calls (CreateRepository, DescribeRepositories).
 * `destroy` releases them when the run's store closes. Each call ends within `timeoutMs` (--request-timeout).
 */
export class EcrClients {
  private readonly opened = new Map<string, Promise<EcrApiClient>>();
  /**
   * Why the credential chain got no ECR Public token with the run's AWS identity (credentials/ecr-public-token.ts), for
   * the ECR Public store to say when the registry then refuses the anonymous requests; undefined when it got one.
   */
  ecrPublicTokenRefusal: PackpubError | undefined;

  constructor(
    readonly timeoutMs: number = DEFAULT_ECR_CALL_TIMEOUT_MS,
    /** How the clients connect: the proxy variables and the trust store of the target they serve (AwsConnection). */
    readonly connection: AwsConnection = {},
  ) {}

  get(host: EcrHost, aws: EcrAwsOptions = {}): Promise<EcrApiClient> {
    const key = JSON.stringify([host.region, host.fips, host.dualStack, host.dnsSuffix, aws.endpoint, aws.awsProfile, aws.awsRoleArn, aws.credentialsFile, aws.configFile, aws.maxAttempts]);
    let pending = this.opened.get(key);
    if (pending === undefined) {
      pending = openEcrClient(host, aws, this.timeoutMs, this.connection).then((opened) => ({
        sdk: opened.sdk,
        client: opened.client,
        send: <Out>(command: object) => sendWithin<Out>(opened, command, this.timeoutMs),
      }));
      this.opened.set(key, pending);
      pending.catch(() => this.opened.delete(key));
    }
    return pending;
  }

  destroy(): void {
    for (const pending of this.opened.values()) void pending.then(({ client }) => client.destroy(), () => undefined);
    this.opened.clear();
  }
}

/** Name of the error a call that ran out of time ends with (mapped to NETWORK by mapAwsError). */
const CALL_TIMEOUT = 'EcrCallTimeout';
/** The same, when the time ran out while STS had not answered AssumeRole (--aws-role-arn). */
const STS_TIMEOUT = 'StsCallTimeout';
/** The same, when the time ran out while the AWS credentials were still being resolved (web identity, SSO: their STS). */
const CREDENTIALS_TIMEOUT = 'AwsCredentialsTimeout';

async function sendWithin<Out>(opened: OpenedEcrClient, command: object, timeoutMs: number): Promise<Out> {
  const signal = AbortSignal.timeout(timeoutMs);
  // The signal bounds the ECR request; the credentials (STS AssumeRole) are resolved before it, where the
  // SDK does not look at the signal: the call as a whole is bounded here, and the STS requests in flight
  // are aborted so no socket outlives it.
  let onAbort: (() => void) | undefined;
  let stsStalled = false;
  let credentialsStalled = false;
  const expired = new Promise<never>((_, reject) => {
    // Registered before the SDK's own listeners: sees the STS request still in flight, then aborts it.
    onAbort = () => {
      credentialsStalled = opened.resolving();
      // STS is what the call waits for while the role is being assumed with the base credentials at hand: its request
      // in flight, or not sent yet (the SDK loads its STS client on the first call: on a loaded machine that alone
      // outlasted --request-timeout 0.5, and the error blamed the ECR API).
      const inFlight = opened.sts.abortInFlight();
      stsStalled = inFlight || (opened.assuming() && !credentialsStalled);
      reject(new Error('aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
  // Every command of this client; send's overloads cannot name "any ECR command" generically.
  const sending = opened.client.send(command as Parameters<ECRClient['send']>[0], { abortSignal: signal });
  sending.catch(() => undefined);
  try {
    return (await Promise.race([sending, expired])) as Out;
  } catch (err) {
    if (!signal.aborted) throw err;
    throw Object.assign(new Error(`no complete answer within ${Math.round(timeoutMs / 100) / 10} s`), { name: stsStalled ? STS_TIMEOUT : credentialsStalled ? CREDENTIALS_TIMEOUT : CALL_TIMEOUT, cause: err });
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
  }
}

/**
 * `call` (given the signal to hand the SDK) bounded as a whole by `timeoutMs`: the SDK looks at its abort signal only
 * once it sends the API request, not while it resolves the credentials (web identity and SSO ask STS, container
 * credentials their endpoint, without a timeout of their own): a stalled STS held the run for ever. `resolving` says
 * whether the credentials were still being resolved when the time ran out (the error then names them, not the API).
 */
export async function withinCallTimeout<T>(call: (signal: AbortSignal) => Promise<T>, timeoutMs: number, resolving: () => boolean): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const name = resolving() ? CREDENTIALS_TIMEOUT : CALL_TIMEOUT;
      controller.abort();
      reject(Object.assign(new Error(`no complete answer within ${Math.round(timeoutMs / 100) / 10} s`), { name }));
    }, timeoutMs);
  });
  const calling = call(controller.signal);
  calling.catch(() => undefined);
  try {
    return await Promise.race([calling, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** The STS requests of one client (--aws-role-arn), each bounded in time and abortable by the ECR call waiting for them. */
interface StsRequests {
  /** Aborts the STS requests in flight; true if there was one (the call was waiting for STS). */
  abortInFlight(): boolean;
}

interface OpenedEcrClient {
  sdk: EcrSdk;
  client: ECRClient;
  sts: StsRequests;
  /** Whether the client's AWS credentials are being resolved now (resolvingCounter). */
  resolving: () => boolean;
  /** Whether the role (--aws-role-arn) is being assumed now: the base credentials, then STS's AssumeRole. */
  assuming: () => boolean;
}

type HttpHandlerLike = { handle(request: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>; metadata?: unknown };

/**
 * The request handler of the STS client fromTemporaryCredentials makes: the ECR client's own handler (its
 * sockets go with the client), with every AssumeRole request aborted after `timeoutMs` or by `abortInFlight`.
 */
function boundedStsHandler(ecrHandler: () => HttpHandlerLike, timeoutMs: number): { handler: object; requests: StsRequests } {
  const inFlight = new Set<AbortController>();
  const handler = {
    metadata: { handlerProtocol: 'http/1.1' },
    async handle(request: unknown, options: { abortSignal?: AbortSignal } = {}): Promise<unknown> {
      // The ECR call waiting for these credentials has ended: no new attempt (the SDK retries an aborted one).
      if (options.abortSignal?.aborted === true) throw Object.assign(new Error('Request aborted'), { name: 'AbortError' });
      const controller = new AbortController();
      inFlight.add(controller);
      // A timer of its own on the controller, not AbortSignal.timeout: inside AbortSignal.any, Node 20 lets a garbage
      // collection take a timeout signal, which then never fires (nodejs/node#57736).
      const timer = setTimeout(() => controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
      timer.unref();
      const settled = () => {
        clearTimeout(timer);
        inFlight.delete(controller);
      };
      const signal = options.abortSignal === undefined ? controller.signal : AbortSignal.any([controller.signal, options.abortSignal]);
      let answered: { response?: { body?: unknown } };
      try {
        answered = (await ecrHandler().handle(request, { ...options, abortSignal: signal })) as { response?: { body?: unknown } };
      } catch (err) {
        settled();
        throw err;
      }
      // The answer's body is read after this returns: it stays in flight, and is cut, until it ends.
      const body = answered.response?.body;
      if (!(body instanceof Readable) || body.destroyed) {
        settled();
        return answered;
      }
      const cut = () => body.destroy(Object.assign(new Error('Request aborted'), { name: 'AbortError' }));
      if (signal.aborted) cut();
      else signal.addEventListener('abort', cut, { once: true });
      body.once('close', () => {
        settled();
        signal.removeEventListener('abort', cut);
      });
      return answered;
    },
    updateHttpClientConfig(): void {},
    httpHandlerConfigs(): Record<string, never> {
      return {};
    },
    destroy(): void {},
  };
  const requests: StsRequests = {
    abortInFlight() {
      const any = inFlight.size > 0;
      for (const controller of inFlight) controller.abort();
      inFlight.clear();
      return any;
    },
  };
  return { handler, requests };
}

/** An ECR API client for the host's region (and FIPS / dual-stack endpoint flavour), with the SDK loaded. */
export async function openEcrClient(host: EcrHost, aws: EcrAwsOptions = {}, timeoutMs = DEFAULT_ECR_CALL_TIMEOUT_MS, connection: AwsConnection = {}): Promise<OpenedEcrClient> {
  // HTTPS_PROXY / NO_PROXY (net/proxy.ts): the ECR calls, STS for --aws-role-arn (through the ECR client's handler)
  // and the credential chain's own clients (web identity, SSO) tunnel through the proxy, and trust the target's CA
  // file; the SDK's own handler when no variable is set and no file given.
  const [sdk, providers, proxied] = await Promise.all([loadEcrSdk(), import('@aws-sdk/credential-providers'), awsHandlerOf(connection, timeoutMs)]);
  const requestHandler = proxied === undefined ? {} : { requestHandler: proxied };
  const region = host.region;
  const base = providers.fromNodeProviderChain({
    ...(aws.awsProfile === undefined ? {} : { profile: aws.awsProfile }),
    ...(aws.credentialsFile === undefined ? {} : { filepath: aws.credentialsFile }),
    ...(aws.configFile === undefined ? {} : { configFilepath: aws.configFile }),
    clientConfig: { region, ...requestHandler },
  });
  let client: ECRClient | undefined;
  const sts = boundedStsHandler(() => client?.config.requestHandler as unknown as HttpHandlerLike, timeoutMs);
  const resolving = resolvingCounter(base);
  const role =
    aws.awsRoleArn === undefined
      ? undefined
      : resolvingCounter(
          assumingRole(
            providers.fromTemporaryCredentials({
              masterCredentials: registered(resolving.provider),
              params: { RoleArn: aws.awsRoleArn, RoleSessionName: `packpub-${Date.now()}` },
              clientConfig: { region, requestHandler: sts.handler as never },
            }),
          ),
        );
  const credentials = role?.provider ?? resolving.provider;
  client = new sdk.ECRClient({
    region,
    credentials: registered(credentials),
    ...requestHandler,
    ...(aws.endpoint === undefined || aws.endpoint === '' ? {} : { endpoint: aws.endpoint }),
    // The endpoint flavour picks the regional endpoint; an endpoint configured (a VPC endpoint, a FIPS one) is used as it
    // is: the SDK refuses the flags beside it ("Invalid Configuration: FIPS and custom endpoint are not supported"), and
    // every FIPS or dual-stack registry host given --ecr-endpoint, AWS_ENDPOINT_URL_ECR or an `endpoint_url` in the
    // shared config file (the profile's, or its `services` section's) failed so. Asked when a call resolves its endpoint.
    ...(host.fips ? { useFipsEndpoint: async () => !(await endpointConfigured(aws.endpoint, client)) } : {}),
    ...(host.dualStack ? { useDualstackEndpoint: async () => !(await endpointConfigured(aws.endpoint, client)) } : {}),
    ...(aws.maxAttempts === undefined ? {} : { maxAttempts: aws.maxAttempts }),
  });
  return { sdk, client, sts: sts.requests, resolving: resolving.active, assuming: role?.active ?? (() => false) };
}

/**
 * Whether the ECR API endpoint is given (`endpoint`, the variables the SDK reads from the process) or set in the shared
 * config file: the SDK's own reading of it (`serviceConfiguredEndpoint`, memoized, which also heeds
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS), so that no parser of packpub's can read the file otherwise than the SDK.
 */
async function endpointConfigured(endpoint: string | undefined, client: ECRClient | undefined): Promise<boolean> {
  if (endpoint !== undefined && endpoint.trim() !== '') return true;
  const env = process.env;
  if (env['AWS_IGNORE_CONFIGURED_ENDPOINT_URLS']?.trim().toLowerCase() === 'true') return false;
  if ([env['AWS_ENDPOINT_URL_ECR'], env['AWS_ENDPOINT_URL']].some((v) => v !== undefined && v.trim() !== '')) return true;
  const config = client?.config as { ignoreConfiguredEndpointUrls?: boolean; serviceConfiguredEndpoint?: () => Promise<string | undefined> } | undefined;
  if (config?.ignoreConfiguredEndpointUrls === true || config?.serviceConfiguredEndpoint === undefined) return false;
  return (await config.serviceConfiguredEndpoint()) !== undefined;
}

/**
 * `provider`, counting the resolutions in progress (`active`): a call that runs out of time while one is says so, not
 * that the ECR API stalled (web identity through an STS that never answers read "the ECR API ... did not answer").
 */
export function resolvingCounter<P extends (...args: never[]) => Promise<unknown>>(provider: P): { provider: P; active: () => boolean } {
  let count = 0;
  const counted = (async (...args: Parameters<P>) => {
    count++;
    try {
      return await provider(...args);
    } finally {
      count--;
    }
  }) as P;
  return { provider: counted, active: () => count > 0 };
}

type AwsIdentity = { secretAccessKey: string; sessionToken?: string };

/**
 * The provider, with each identity's secret key and session token registered as the run's secrets: an AWS error
 * may quote the request it refused (InvalidSignatureException's canonical request lists x-amz-security-token),
 * and --debug prints such an error as the cause.
 */
function registered<P extends (...args: never[]) => Promise<AwsIdentity>>(provider: P): P {
  return (async (...args: Parameters<P>) => {
    const identity = await provider(...args);
    registerSecret(identity.secretAccessKey);
    registerSecret(identity.sessionToken);
    return identity;
  }) as P;
}

/** Errors STS answered to AssumeRole (--aws-role-arn): mapAwsError names the role, not the ECR action that waited. */
const stsErrors = new WeakSet<object>();

function assumingRole<P extends (...args: never[]) => Promise<AwsIdentity>>(provider: P): P {
  return (async (...args: Parameters<P>) => {
    try {
      return await provider(...args);
    } catch (err) {
      // The base credentials' own failure (none found) keeps its words.
      if (typeof err === 'object' && err !== null && (err as Error).name !== 'CredentialsProviderError') stsErrors.add(err);
      throw err;
    }
  }) as P;
}

const NO_CREDENTIALS_HINT =
  'give packpub AWS credentials: set AWS_PROFILE (or --aws-profile), run "aws sso login", set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or configure OIDC (web identity) in CI';

/**
 * Turn an SDK error into a PackpubError that says what to do. `action` is the IAM action the call needs
 * (e.g. `ecr:CreateRepository`): a missing permission often surfaces vaguely, so name it.
 */
export function mapAwsError(err: unknown, action: string, given: { host: string; endpoint?: string; roleArn?: string; profile?: string; repository?: string; api?: { name: string; setting: string } }): PackpubError {
  if (err instanceof PackpubError) return err;
  // An endpoint with user:password@ (a gateway taking Basic credentials) is named without them: messages are printed as made.
  const context = given.endpoint === undefined ? given : { ...given, endpoint: shownEndpoint(given.endpoint) };
  // Which API answered, and the settings that point at it: ECR's, unless the caller names another (ECR Public's).
  const api = context.api?.name ?? 'the ECR API';
  const setting = context.api?.setting ?? '--ecr-endpoint / AWS_ENDPOINT_URL_ECR';
  const notAnswer = context.api === undefined ? 'not an ECR API answer' : `not an answer of ${api}`;
  if (name_(err) === 'ThrottlingException' && action === 'ecr:GetAuthorizationToken') {
    // The run's one token: a cause of the whole target (one line for every pack it stopped), not of a pack.
    return new PackpubError('CREDENTIALS', `ECR provider: AWS throttled ${action} for ${context.host} (ThrottlingException), after the SDK's retries`, {
      hint: 'packpub asks for one token per run (and not again for a minute after this): other jobs or tools of this account and region (docker login, credential helpers, nodes pulling images) use up its GetAuthorizationToken rate; try again later',
      cause: err,
    });
  }
  if (name_(err) === 'ThrottlingException') {
    return new PackpubError('REGISTRY', `AWS throttled ${action} for ${context.host} (ThrottlingException), after the SDK's retries`, {
      hint: 'another job shares this account and region\'s ECR API rate; try again later, or publish with a lower --concurrency',
      cause: err,
    });
  }
  if (name_(err) === 'LimitExceededException') {
    return new PackpubError('REGISTRY', `ECR refused ${action} for ${context.host}: a service quota of this account and region is reached (LimitExceededException): ${firstLine(err)}`, {
      hint: 'ask for a higher Amazon ECR quota in Service Quotas (e.g. repositories per registry), or delete repositories no longer used; a retry does not help',
      cause: err,
    });
  }
  if (name_(err) === 'TooManyTagsException' || name_(err) === 'InvalidTagParameterException') {
    return new PackpubError('USAGE', `ECR refused the resource tags for ${action} (${name_(err)}): ${firstLine(err)}`, {
      hint: 'check --ecr-tag / ecr.tags: at most 50 tags, keys of 1 to 128 characters, values of at most 256, not starting with aws:',
      cause: err,
    });
  }
  if (/^Kms/.test(name_(err))) {
    return new PackpubError('AUTH', `AWS KMS refused ${action} for ${context.host} (${name_(err)}): ${firstLine(err)}`, {
      hint: 'the repository is (or would be) KMS-encrypted: allow this identity kms:Encrypt/kms:Decrypt/kms:GenerateDataKey (and kms:CreateGrant for CreateRepository) on the key, or check --ecr-kms-key',
      cause: err,
    });
  }
  // A certificate the SDK's connection did not verify (a proxy inspecting TLS, an endpoint with a private CA): it read "ECR API
  // call for <action> failed (Error): unable to verify the first certificate", hinted "run again with --debug" (and, with
  // --aws-role-arn, "cannot assume role ...: check the role's trust policy").
  const tlsCode = systemErrorCode(err);
  if (isCertificateVerifyError(tlsCode)) {
    const sts = context.roleArn !== undefined && typeof err === 'object' && err !== null && stsErrors.has(err);
    const where = sts ? 'STS (for --aws-role-arn)' : `${api} at ${context.endpoint ?? 'the regional ECR endpoint'}`;
    return new PackpubError('TLS', `the TLS certificate of ${where} could not be verified (${tlsCode}), calling ${sts ? 'sts:AssumeRole' : action} for ${context.host}`, {
      hint: `the AWS calls trust Node's roots, NODE_EXTRA_CA_CERTS, AWS_CA_BUNDLE and the target's --ca-file: give the CA that signed it in one of them (behind a proxy that inspects TLS, HTTPS_PROXY: the proxy's CA)${sts ? '' : `, or check ${setting}`}`,
      cause: err,
    });
  }
  if (name_(err) === STS_TIMEOUT) {
    const sts = shownEndpoint(process.env['AWS_ENDPOINT_URL_STS'] ?? '');
    return new PackpubError('NETWORK', `STS at ${sts === undefined || sts === '' ? 'the regional STS endpoint' : sts} did not answer sts:AssumeRole for role ${context.roleArn ?? '(none)'}: ${firstLine(err)}`, {
      hint: 'STS (or a proxy or VPC endpoint in front of it) accepts connections but stalls; check AWS_ENDPOINT_URL_STS and the network, or raise --request-timeout',
      cause: err,
    });
  }
  const e = err as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.name ?? '';
  const message = firstLine(err);
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    // An SSO profile not signed in, or whose session ended (hours after `aws sso login`): the SDK says so, and the
    // profile is defined. It read "gives no credentials ... check its name, and that the file defines it".
    if (/\bsso login\b/i.test(message)) {
      const named = context.profile === undefined ? 'the AWS profile' : `AWS profile "${context.profile}"`;
      return new PackpubError('CREDENTIALS', `ECR provider: the SSO session of ${named} is not signed in or has ended, so it gives no credentials to call ${action} for ${context.host}: ${message}`, {
        hint: `sign in again: aws sso login${context.profile === undefined ? '' : ` --profile ${context.profile}`}, then run packpub again`,
        cause: err,
      });
    }
    if (context.profile !== undefined) {
      return new PackpubError('CREDENTIALS', `ECR provider: AWS profile "${context.profile}" gives no credentials to call ${action} for ${context.host}`, {
        hint: 'the profile comes from --aws-profile, else AWS_PROFILE, else the target\'s ecr.awsProfile: check its name, and that the shared credentials or config file (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE, else ~/.aws/) defines it',
        cause: err,
      });
    }
    return new PackpubError('CREDENTIALS', `ECR provider: no AWS credentials found to call ${action} for ${context.host}`, {
      hint: NO_CREDENTIALS_HINT,
      cause: err,
    });
  }
  if (context.roleArn !== undefined && ((typeof err === 'object' && err !== null && stsErrors.has(err)) || /AssumeRole|sts:/i.test(`${name} ${message}`))) {
    return new PackpubError('AUTH', `ECR provider: cannot assume role ${context.roleArn}: ${message}`, {
      hint: "allow sts:AssumeRole for your identity and check the role's trust policy",
      cause: err,
    });
  }
  // An HTTP status without an AWS error type (__type / x-amzn-ErrorType): the SDK calls it "Unknown". Before the 403
  // below: AWS names its denials (AccessDeniedException); a bare 403 is a proxy's or another service's ("AWS denied").
  const status = e.$metadata?.httpStatusCode;
  if ((name === 'Unknown' || name === 'UnknownError') && status !== undefined) {
    return new PackpubError('REGISTRY', `${api} at ${context.endpoint ?? 'the regional ECR endpoint'} answered ${action} with HTTP ${status} and no AWS error type: ${notAnswer}`, {
      hint: `check ${setting} points at ${api} (a proxy or another service may answer instead)`,
      cause: err,
    });
  }
  if (name === 'AccessDeniedException' || name === 'AccessDenied' || e.$metadata?.httpStatusCode === 403) {
    return new PackpubError('AUTH', `AWS denied ${action} for ${context.host}: ${message}`, {
      hint: iamDenialHint(action, message, context.repository) ?? `grant ${action} to the IAM identity packpub runs as (and check the repository policy)`,
      cause: err,
    });
  }
  if (['UnrecognizedClientException', 'InvalidSignatureException', 'ExpiredTokenException', 'InvalidClientTokenId', 'ExpiredToken'].includes(name)) {
    return new PackpubError('CREDENTIALS', `ECR provider: AWS rejected the credentials (${name}): ${message}`, {
      hint: 'refresh them ("aws sso login", new keys, or re-run the OIDC step), or pick another profile with --aws-profile',
      cause: err,
    });
  }
  if (name === CREDENTIALS_TIMEOUT) {
    return new PackpubError('NETWORK', `the AWS credentials for ${action} (${context.host}) were not resolved: ${message} from the SDK's credential chain`, {
      hint: "the SDK's credential chain waits for a service that stalls: STS for web identity (GitHub OIDC, EKS) or SSO (AWS_ENDPOINT_URL_STS, a proxy or VPC endpoint in front of it), or the container credentials endpoint; check the network, or raise --request-timeout",
      cause: err,
    });
  }
  if (name === CALL_TIMEOUT) {
    return new PackpubError('NETWORK', `${api} at ${context.endpoint ?? 'the regional ECR endpoint'} did not answer ${action} for ${context.host}: ${message}`, {
      hint: `${api} (or a proxy or VPC endpoint in front of it) accepts connections but stalls; check ${setting} and the network, or raise --request-timeout`,
      cause: err,
    });
  }
  // The SDK could not read the answer: something other than the ECR API answered (a proxy page, another service).
  if (name === 'SyntaxError' || name === 'TypeError') {
    return new PackpubError('REGISTRY', `${api} at ${context.endpoint ?? 'the regional ECR endpoint'} answered ${action} with something that is ${notAnswer} (${message})`, {
      hint: `check ${setting} points at ${api} (a proxy or another service may answer instead)`,
      cause: err,
    });
  }
  const netCode = e.code ?? (err as { cause?: { code?: string } }).cause?.code;
  // A file the SDK's credential chain reads that cannot be read: a web identity token (an EKS pod without its projected
  // service account token, a CI job whose OIDC step did not run). Was "ECR API call ... failed (Error): ENOENT ...".
  const file = (err as { path?: unknown }).path;
  if (typeof file === 'string' && netCode !== undefined && ['ENOENT', 'EACCES', 'EPERM', 'EISDIR', 'ENOTDIR'].includes(netCode)) {
    const variable = file === process.env['AWS_WEB_IDENTITY_TOKEN_FILE'] ? 'AWS_WEB_IDENTITY_TOKEN_FILE, ' : '';
    return new PackpubError('CREDENTIALS', `the AWS credentials for ${action} (${context.host}) were not resolved: cannot read ${redactText(file)} (${variable}${netCode})`, {
      hint: "the SDK's credential chain reads it for web identity (AWS_WEB_IDENTITY_TOKEN_FILE, a profile's web_identity_token_file): on EKS, check the service account's projected token volume (IRSA); in CI, the step that writes the OIDC token; or unset AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE to use other credentials",
      cause: err,
    });
  }
  if (name === 'TimeoutError' || (netCode !== undefined && /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|ETIMEDOUT|EHOSTUNREACH)$/.test(netCode))) {
    const where = context.endpoint ?? 'the regional ECR endpoint';
    return new PackpubError('NETWORK', `cannot reach ${api} at ${where} (${netCode ?? name})`, {
      hint: `check the network, proxy settings, ${setting} and the VPC endpoint for ${context.api === undefined ? 'ECR' : 'it'}`,
      cause: err,
    });
  }
  return new PackpubError('REGISTRY', `${context.api === undefined ? 'ECR API' : context.api.name.replace(/^the /, '')} call for ${action} failed (${name || 'error'}): ${message}`, {
    hint: 'run again with --debug for the cause',
    cause: err,
  });
}

function name_(err: unknown): string {
  return (err as { name?: string } | null)?.name ?? '';
}

/** The first line of AWS's words, without the run's secrets: an answer may quote the signed request (its session token). */
function firstLine(err: unknown): string {
  return redactText(((err as { message?: string } | null)?.message ?? String(err)).split('\n')[0] ?? '');
}
