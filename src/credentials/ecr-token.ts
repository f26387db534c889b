import { EcrClients, mapAwsError, type EcrAwsOptions } from '../aws/ecr-sdk.js';
import { PackpubError } from '../errors.js';
import { parseEcrHost, type EcrHost } from '../aws/ecr-host.js';
import type { Credential, CredentialProvider } from './types.js';

/*
 * AWS ECR private registries authenticate with `Basic base64("AWS:<password>")`, where the password comes
 * from the ECR API `GetAuthorizationToken` (registries.md). The SDK is imported only when an ECR host is
 * used, so CLI start-up does not pay for it.
 */

export interface EcrTokenProviderOptions extends EcrAwsOptions {
  /** Milliseconds since the epoch; injectable so tests can move time. */
  now?: () => number;
  /** The run's ECR API clients (shared with the store); without it each token fetch opens and closes one. */
  clients?: EcrClients;
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

/** One GetAuthorizationToken call through the SDK, on the run's client for this host when `clients` is given. */
export async function fetchEcrToken(host: EcrHost, hostName: string, aws: EcrAwsOptions, clients?: EcrClients): Promise<EcrToken> {
  const context = { host: hostName, ...(aws.endpoint === undefined ? {} : { endpoint: aws.endpoint }), ...(aws.awsRoleArn === undefined ? {} : { roleArn: aws.awsRoleArn }) };
  const own = clients === undefined ? new EcrClients() : undefined;
  const { sdk, client } = await (clients ?? own!).get(host, aws);
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
    own?.destroy();
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
  const fetchToken = options.fetchToken ?? ((host: EcrHost, hostName: string) => fetchEcrToken(host, hostName, options, options.clients));
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
