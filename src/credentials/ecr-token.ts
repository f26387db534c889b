import type { GetAuthorizationTokenCommandOutput } from '@aws-sdk/client-ecr';
import { EcrClients, mapAwsError, refusePlainHttpEcrEndpoint, type AwsConnection, type EcrAwsOptions } from '../aws/ecr-sdk.js';
import { registerSecret } from '../util/redact.js';
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
  /**
   * Refuse, before any call, an ECR API endpoint of plain HTTP off this machine that `env` names (refusePlainHttpEcrEndpoint),
   * for a caller that opens no target, whose opening refuses it: push --check-images's look-ups of images on ECR hosts.
   */
  refusePlainHttpIn?: NodeJS.ProcessEnv;
  /** Without `clients`: how the client opened for each token connects (its proxy variables' environment). */
  connection?: AwsConnection;
}

export interface EcrToken {
  /** The registry password (the part after `AWS:`). */
  password: string;
  username: string;
  expiresAt: Date;
}

/**
 * `authorizationToken` is base64 of `AWS:<password>` (registries.md). Anything else (not base64, no colon,
 * not UTF-8, a control character that would break or smuggle into the Authorization header) is refused,
 * with the reason (never the token).
 */
export function decodeEcrToken(authorizationToken: string): { username: string; password: string } | { problem: string } {
  const token = authorizationToken.trim();
  if (token === '' || token.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(token)) return { problem: 'is not base64' };
  const bytes = Buffer.from(token, 'base64');
  const text = bytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(bytes)) return { problem: 'is not UTF-8 text once decoded' };
  const colon = text.indexOf(':');
  if (colon <= 0) return { problem: 'has no user name and colon (AWS:<password>) once decoded' };
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(text)) return { problem: 'holds a control character once decoded' };
  const password = text.slice(colon + 1);
  if (password === '') return { problem: 'has an empty password once decoded' };
  return { username: text.slice(0, colon), password };
}

/** `host` of an authorizationData entry's proxyEndpoint (`https://<host>`), lowercased; undefined when unreadable. */
function proxyHost(endpoint: string | undefined): string | undefined {
  if (endpoint === undefined || endpoint === '') return undefined;
  try {
    return new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `https://${endpoint}`).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

/** One GetAuthorizationToken call through the SDK, on the run's client for this host when `clients` is given. */
export async function fetchEcrToken(host: EcrHost, hostName: string, aws: EcrAwsOptions & { connection?: AwsConnection }, clients?: EcrClients, now: () => number = Date.now): Promise<EcrToken> {
  const context = { host: hostName, ...(aws.endpoint === undefined ? {} : { endpoint: aws.endpoint }), ...(aws.awsRoleArn === undefined ? {} : { roleArn: aws.awsRoleArn }), ...(aws.awsProfile === undefined ? {} : { profile: aws.awsProfile }) };
  const own = clients === undefined ? new EcrClients(undefined, aws.connection) : undefined;
  // The run's one token (asked once, see ecrCredentialProvider): a cause of the whole target, told once for the
  // packs it stopped, not once per pack.
  const unusable = (why: string) =>
    new PackpubError('CREDENTIALS', `ECR GetAuthorizationToken for ${hostName} returned ${why}`, {
      hint: 'check --ecr-endpoint / AWS_ENDPOINT_URL_ECR points at the ECR API of the registry\'s region (a proxy or another service may answer instead)',
    });
  try {
    const { sdk, send } = await (clients ?? own!).get(host, aws);
    const out = await send<GetAuthorizationTokenCommandOutput>(new sdk.GetAuthorizationTokenCommand({}));
    const entries = out.authorizationData ?? [];
    // Several entries (one per registry asked for): the one for this host, else the first; a token is valid
    // for every registry of the caller's partition and region that IAM allows, whatever its proxyEndpoint's account.
    const target = hostName.replace(/:\d+$/, '').toLowerCase();
    const data = entries.find((d) => proxyHost(d.proxyEndpoint) === target) ?? entries[0];
    if (data?.authorizationToken === undefined) throw unusable('no token');
    const decoded = decodeEcrToken(data.authorizationToken);
    if ('problem' in decoded) throw unusable(`a token that ${decoded.problem}`);
    registerSecret(decoded.password);
    const other = proxyHost(data.proxyEndpoint);
    const otherEcr = other === undefined ? undefined : parseEcrHost(other);
    // Region names are unique across partitions; the endpoint's form is not compared: ECR names its registry in the IPv4
    // form (<account>.dkr.ecr.<region>.amazonaws.com) also for a dual-stack host (<account>.dkr-ecr.<region>.on.aws).
    if (otherEcr !== undefined && otherEcr.region !== host.region) {
      // A token of another region (or partition) is refused by this registry with a bare 401.
      throw unusable(`a token for ${other} (region ${otherEcr.region}), not for region ${host.region}`);
    }
    // ECR tokens last 12 h; without an expiry, assume that.
    const expiresAt = data.expiresAt instanceof Date && !Number.isNaN(data.expiresAt.getTime()) ? data.expiresAt : new Date(now() + 12 * 3600_000);
    if (expiresAt.getTime() <= now()) {
      // Either this machine's clock is far off, or the endpoint is not ECR; every request would fetch it again.
      throw new PackpubError('CREDENTIALS', `ECR GetAuthorizationToken for ${hostName} returned a token that expired at ${expiresAt.toISOString()} (this machine's clock says ${new Date(now()).toISOString()})`, {
        hint: "check this machine's clock (ECR tokens last 12 hours), and that --ecr-endpoint / AWS_ENDPOINT_URL_ECR points at the ECR API",
      });
    }
    return { ...decoded, expiresAt };
  } catch (err) {
    throw mapAwsError(err, 'ecr:GetAuthorizationToken', context);
  } finally {
    own?.destroy();
  }
}

/** How long a failed token call stays the answer (not asked again), from when it failed. */
export const FAILED_FOR_MS = 60_000;

interface CacheEntry {
  credential: Credential;
  renewAt: number;
}

/**
 * Registry credentials for ECR hosts, minted on demand. Does not apply to other hosts. Tokens are cached
 * for the run per region and endpoint flavour, renewed at half their life (as amazon-ecr-credential-helper
 * does) or after `invalidate` (the registry said the token expired); concurrent callers share one fetch, and a
 * fetch that failed is not made again for FAILED_FOR_MS (its error is the answer meanwhile).
 */
export function ecrCredentialProvider(options: EcrTokenProviderOptions = {}): CredentialProvider {
  const now = options.now ?? Date.now;
  const fetchToken = options.fetchToken ?? ((host: EcrHost, hostName: string) => fetchEcrToken(host, hostName, options, options.clients, now));
  return mintingProvider<EcrHost>({
    name: 'ECR',
    now,
    hostOf: parseEcrHost,
    keyOf: (h) => `${h.region}|${h.fips}|${h.dualStack}|${h.dnsSuffix}`,
    fetch: fetchToken,
    ...(options.refusePlainHttpIn === undefined ? {} : { before: () => refusePlainHttpEcrEndpoint(options.endpoint, options.refusePlainHttpIn as NodeJS.ProcessEnv, false, options.awsRoleArn) }),
  });
}

/**
 * A provider of tokens an AWS API mints for registry hosts `hostOf` recognises (ECR's, ECR Public's): cached per `keyOf`
 * key, renewed at half their life or after `invalidate`; concurrent callers share one fetch; a fetch that failed is not
 * made again for FAILED_FOR_MS (its error is the answer meanwhile); one that answers undefined (no credential to mint
 * with) stays the answer for the run. Every pack would otherwise ask in turn, each wave waiting as long, and spend the
 * rate a throttled account has left; not for the rest of the run: a long run asks again once a blip is likely over.
 */
export function mintingProvider<H>(options: {
  name: string;
  now: () => number;
  hostOf: (hostName: string) => H | undefined;
  keyOf: (host: H) => string;
  fetch: (host: H, hostName: string) => Promise<EcrToken | undefined>;
  /** Checked before each answer (a refusal of the endpoint). */
  before?: () => void;
}): CredentialProvider {
  const { now } = options;
  const cache = new Map<string, CacheEntry | 'none'>();
  const pending = new Map<string, Promise<Credential | undefined>>();
  const failed = new Map<string, { error: unknown; at: number }>();
  return {
    name: options.name,
    async resolve(hostName: string): Promise<Credential | undefined> {
      const host = options.hostOf(hostName);
      if (host === undefined) return undefined;
      options.before?.();
      const key = options.keyOf(host);
      const cached = cache.get(key);
      if (cached === 'none') return undefined;
      if (cached !== undefined && now() < cached.renewAt) return cached.credential;
      const failure = failed.get(key);
      if (failure !== undefined && now() - failure.at < FAILED_FOR_MS) throw failure.error;
      let inflight = pending.get(key);
      if (inflight === undefined) {
        const started = now();
        inflight = options
          .fetch(host, hostName)
          .then((token) => {
            failed.delete(key);
            if (token === undefined) {
              cache.set(key, 'none');
              return undefined;
            }
            const credential: Credential = { username: token.username, password: token.password, expiresAt: token.expiresAt, source: options.name };
            cache.set(key, { credential, renewAt: started + (token.expiresAt.getTime() - started) / 2 });
            return credential;
          })
          .catch((err: unknown) => {
            failed.set(key, { error: err, at: now() });
            throw err;
          })
          .finally(() => pending.delete(key));
        pending.set(key, inflight);
      }
      return inflight;
    },
    invalidate(hostName: string): void {
      const host = options.hostOf(hostName);
      if (host !== undefined) cache.delete(options.keyOf(host));
    },
  };
}
