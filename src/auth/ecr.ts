import type { ECRClient } from '@aws-sdk/client-ecr';
import { PackpubError } from '../errors.js';
import { parseEcrHost, type EcrHost } from './ecr-host.js';
import type { Credential, CredentialProvider } from './types.js';

/*
 * AWS ECR private registries authenticate with `Basic base64("AWS:<password>")`, where the password comes
 * from the ECR API `GetAuthorizationToken` (registries.md). The SDK is imported only when an ECR host is
 * used, so CLI start-up does not pay for it.
 */

export interface EcrAwsOptions {
  /** ECR API endpoint URL (else the SDK reads AWS_ENDPOINT_URL_ECR, else the regional endpoint). */
  endpoint?: string;
  /** Shared-config profile (else the SDK chain: AWS_PROFILE, env keys, SSO, web identity, container, IMDS). */
  awsProfile?: string;
  /** Assume this role through STS before calling ECR (Palette's "STS" mode). */
  awsRoleArn?: string;
}

export type EcrSdk = typeof import('@aws-sdk/client-ecr');

export async function loadEcrSdk(): Promise<EcrSdk> {
  // The SDK warns on every run under Node 20 about its releases after January 2027; packpub pins its SDK
  // version and supports Node 20, so that warning would only be noise on stderr. Set it to "false" to see it.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  return import('@aws-sdk/client-ecr');
}

/** An ECR API client for the host's region (and FIPS / dual-stack endpoint flavour), with the SDK loaded. */
export async function openEcrClient(host: EcrHost, aws: EcrAwsOptions = {}): Promise<{ sdk: EcrSdk; client: ECRClient }> {
  const [sdk, providers] = await Promise.all([loadEcrSdk(), import('@aws-sdk/credential-providers')]);
  const region = host.region;
  const base = providers.fromNodeProviderChain({
    ...(aws.awsProfile === undefined ? {} : { profile: aws.awsProfile }),
    clientConfig: { region },
  });
  const credentials =
    aws.awsRoleArn === undefined
      ? base
      : providers.fromTemporaryCredentials({
          masterCredentials: base,
          params: { RoleArn: aws.awsRoleArn, RoleSessionName: `packpub-${Date.now()}` },
          clientConfig: { region },
        });
  const client = new sdk.ECRClient({
    region,
    credentials,
    ...(aws.endpoint === undefined || aws.endpoint === '' ? {} : { endpoint: aws.endpoint }),
    ...(host.fips ? { useFipsEndpoint: true } : {}),
    ...(host.dualStack ? { useDualstackEndpoint: true } : {}),
  });
  return { sdk, client };
}

const NO_CREDENTIALS_HINT =
  'give packpub AWS credentials: set AWS_PROFILE (or --aws-profile), run "aws sso login", set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or configure OIDC (web identity) in CI';

/**
 * Turn an SDK error into a PackpubError that says what to do. `action` is the IAM action the call needs
 * (e.g. `ecr:CreateRepository`): a missing permission often surfaces vaguely, so name it.
 */
export function mapAwsError(err: unknown, action: string, context: { host: string; endpoint?: string; roleArn?: string }): PackpubError {
  if (err instanceof PackpubError) return err;
  const e = err as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.name ?? '';
  const message = (e.message ?? String(err)).split('\n')[0] ?? '';
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    return new PackpubError('CREDENTIALS', `ECR provider: no AWS credentials found to call ${action} for ${context.host}`, {
      hint: NO_CREDENTIALS_HINT,
      cause: err,
    });
  }
  if (context.roleArn !== undefined && /AssumeRole|sts:/i.test(`${name} ${message}`)) {
    return new PackpubError('AUTH', `ECR provider: cannot assume role ${context.roleArn}: ${message}`, {
      hint: "allow sts:AssumeRole for your identity and check the role's trust policy",
      cause: err,
    });
  }
  if (name === 'AccessDeniedException' || name === 'AccessDenied' || e.$metadata?.httpStatusCode === 403) {
    return new PackpubError('AUTH', `AWS denied ${action} for ${context.host}: ${message}`, {
      hint: `grant ${action} to the IAM identity packpub runs as (and check the repository policy)`,
      cause: err,
    });
  }
  if (['UnrecognizedClientException', 'InvalidSignatureException', 'ExpiredTokenException', 'InvalidClientTokenId', 'ExpiredToken'].includes(name)) {
    return new PackpubError('CREDENTIALS', `ECR provider: AWS rejected the credentials (${name}): ${message}`, {
      hint: 'refresh them ("aws sso login", new keys, or re-run the OIDC step), or pick another profile with --aws-profile',
      cause: err,
    });
  }
  const netCode = e.code ?? (err as { cause?: { code?: string } }).cause?.code;
  if (name === 'TimeoutError' || (netCode !== undefined && /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|ETIMEDOUT|EHOSTUNREACH)$/.test(netCode))) {
    const where = context.endpoint ?? 'the regional ECR endpoint';
    return new PackpubError('NETWORK', `cannot reach the ECR API at ${where} (${netCode ?? name})`, {
      hint: 'check the network, proxy settings, --ecr-endpoint / AWS_ENDPOINT_URL_ECR and the VPC endpoint for ECR',
      cause: err,
    });
  }
  return new PackpubError('REGISTRY', `ECR API call for ${action} failed (${name || 'error'}): ${message}`, {
    hint: 'run again with --debug for the cause',
    cause: err,
  });
}

export interface EcrTokenProviderOptions extends EcrAwsOptions {
  /** Milliseconds since the epoch; injectable so tests can move time. */
  now?: () => number;
  /** Replaces the SDK call (tests, or callers with their own token source). */
  fetchToken?: (host: EcrHost, hostName: string) => Promise<EcrToken>;
}

export interface EcrToken {
  /** The registry password (the part after `AWS:`). */
  password: string;
  username: string;
  expiresAt: Date;
}

/** `authorizationToken` is base64 of `AWS:<password>` (registries.md). */
export function decodeEcrToken(authorizationToken: string): { username: string; password: string } | undefined {
  const text = Buffer.from(authorizationToken, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0) return undefined;
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** One GetAuthorizationToken call through the SDK. */
export async function fetchEcrToken(host: EcrHost, hostName: string, aws: EcrAwsOptions): Promise<EcrToken> {
  const context = { host: hostName, ...(aws.endpoint === undefined ? {} : { endpoint: aws.endpoint }), ...(aws.awsRoleArn === undefined ? {} : { roleArn: aws.awsRoleArn }) };
  const { sdk, client } = await openEcrClient(host, aws);
  try {
    const out = await client.send(new sdk.GetAuthorizationTokenCommand({}));
    const data = out.authorizationData?.[0];
    const decoded = data?.authorizationToken === undefined ? undefined : decodeEcrToken(data.authorizationToken);
    if (decoded === undefined) {
      throw new PackpubError('REGISTRY', `ECR GetAuthorizationToken for ${hostName} returned no usable token`, {
        hint: 'check --ecr-endpoint / AWS_ENDPOINT_URL_ECR points at the ECR API',
      });
    }
    // ECR tokens last 12 h; without an expiry, assume that.
    const expiresAt = data?.expiresAt instanceof Date ? data.expiresAt : new Date(Date.now() + 12 * 3600_000);
    return { ...decoded, expiresAt };
  } catch (err) {
    throw mapAwsError(err, 'ecr:GetAuthorizationToken', context);
  } finally {
    client.destroy();
  }
}

interface CacheEntry {
  credential: Credential;
  renewAt: number;
}

/**
 * Registry credentials for ECR hosts, minted on demand. Does not apply to other hosts. Tokens are cached
 * for the run per region and endpoint flavour, renewed at half their life (as amazon-ecr-credential-helper
 * does) or after `invalidate` (the registry said the token expired); concurrent callers share one fetch.
 */
export function ecrCredentialProvider(options: EcrTokenProviderOptions = {}): CredentialProvider {
  const now = options.now ?? Date.now;
  const fetchToken = options.fetchToken ?? ((host: EcrHost, hostName: string) => fetchEcrToken(host, hostName, options));
  const cache = new Map<string, CacheEntry>();
  const pending = new Map<string, Promise<Credential>>();
  const keyOf = (h: EcrHost) => `${h.region}|${h.fips}|${h.dualStack}|${h.dnsSuffix}`;
  return {
    name: 'ECR',
    async resolve(hostName: string): Promise<Credential | undefined> {
      const host = parseEcrHost(hostName);
      if (host === undefined) return undefined;
      const key = keyOf(host);
      const cached = cache.get(key);
      if (cached !== undefined && now() < cached.renewAt) return cached.credential;
      let inflight = pending.get(key);
      if (inflight === undefined) {
        const started = now();
        inflight = fetchToken(host, hostName)
          .then((token) => {
            const credential: Credential = { username: token.username, password: token.password, expiresAt: token.expiresAt, source: 'ECR' };
            cache.set(key, { credential, renewAt: started + (token.expiresAt.getTime() - started) / 2 });
            return credential;
          })
          .finally(() => pending.delete(key));
        pending.set(key, inflight);
      }
      return inflight;
    },
    invalidate(hostName: string): void {
      const host = parseEcrHost(hostName);
      if (host !== undefined) cache.delete(keyOf(host));
    },
  };
}
