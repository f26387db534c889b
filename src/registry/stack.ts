import type { CredentialProvider } from '../credentials/types.js';
import { validateHost } from '../oci/reference.js';
import { redactText } from '../util/redact.js';
import { AuthSession } from './auth/session.js';
import { errorFromResponse, isRetryableStatus, readErrorBody } from './errors.js';
import { createHttpTransport, getHeader, TransportLayer, type HttpRequest, type HttpResponse, type HttpTransport } from './http.js';
import { parseRetryAfter, RetryPolicy, type RetryClock, type RetryOptions } from './retry.js';

/*
 * The HTTP stack of one registry host, built once per target: the pooled transport at the bottom, the
 * challenge-driven auth session over it, and one retry policy for every call. Each layer is an
 * HttpTransport, so they stack; the registry client, Harbor's REST calls and the Harbor probe all use
 * this one stack (same connections, same credentials, same retry rules).
 */

/** What the distribution client needs to talk to one registry host. */
export interface RegistryClientOptions {
  /** `host[:port]` */
  host: string;
  /** Talk HTTP instead of HTTPS (automatic for localhost, 127.0.0.0/8 and [::1]). */
  plainHttp?: boolean;
  /** PEM file with extra CA certificates to trust. */
  caFile?: string;
  /** Skip TLS verification (the CLI warns every run). */
  insecure?: boolean;
  /** mTLS: PEM client certificate (chain) and its unencrypted key, presented only to `host` (never a token service or redirect elsewhere). */
  certFile?: string;
  keyFile?: string;
  /** Extra headers (`name -> value`) sent only to `host`; names packpub sets itself and Authorization are refused. */
  headers?: Readonly<Record<string, string>>;
  /**
   * Where caFile / certFile / keyFile were given, for messages (default the flags `--ca-file`, `--cert-file`,
   * `--key-file`): `--to-ca-file`, or `targets.prod.tls.caFile in packpub.yaml`; and the flag that switches plain
   * HTTP for this host, for hints (default `--plain-http`; a copy side's `--from-plain-http`).
   */
  settingNames?: TlsSettingNames;
  /** curl-style `HOST:PORT:ADDRESS` overrides of DNS resolution. */
  resolve?: string[];
  /** Where credentials come from (required: the caller decides; `staticProvider('none', undefined)` is anonymous). */
  credentials: CredentialProvider;
  /** Allow sending credentials to a token realm on another host than the registry. */
  allowCrossHostAuth?: boolean;
  retry?: RetryOptions;
  /** Debug trace sink: redacted request lines. */
  debug?: (line: string) => void;
  userAgent?: string;
  /** Where HTTPS_PROXY / HTTP_PROXY / NO_PROXY are read from (net/proxy.ts); default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** Names of the TLS settings as the user gave them (see RegistryClientOptions.settingNames). */
export interface TlsSettingNames {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** The plain-HTTP flag of this host (`--plain-http`, `--to-plain-http`); hints name it and its `--no-` form. */
  plainHttp?: string;
}

/** Injection points for tests and embedders: a transport (fault injection, recording) and a clock (no real backoff). */
export interface ClientDeps {
  transport?: HttpTransport;
  clock?: RetryClock;
}

export interface RegistryStack {
  host: string;
  /** The pooled HTTP transport (no auth, no retry): for other origins (redirects, upload locations). */
  transport: HttpTransport;
  /** Auth over the transport: requests to the registry's own origin. */
  auth: AuthSession;
  /** The retry policy every call of this host runs under. */
  retry: RetryPolicy;
  /** Retry over the transport, for REST calls that carry their own Authorization header (Harbor API). */
  rest: HttpTransport;
  debug: ((line: string) => void) | undefined;
  /** The plain-HTTP flag of this host, for hints (settingNames.plainHttp; default `--plain-http`). */
  plainHttpFlag?: string | undefined;
}

/**
 * An HttpTransport that retries another one: network errors and retryable statuses (408, 429, 5xx) are
 * tried again under the policy; any other response is returned as is. A retryable status that persists
 * becomes the typed registry error.
 */
export class RetryTransport extends TransportLayer {
  constructor(
    inner: HttpTransport,
    private readonly policy: RetryPolicy,
    /** Registry `host[:port]`, for messages. */
    private readonly host: string,
  ) {
    super(inner);
  }

  request(req: HttpRequest): Promise<HttpResponse> {
    return this.policy.run(async (attempt, earlierMayHaveActed) => {
      const res = await this.inner.request({ ...req, attempt });
      if (!isRetryableStatus(res.status)) return earlierMayHaveActed ? { ...res, earlierMayHaveActed } : res;
      const body = await readErrorBody(res.body);
      throw errorFromResponse({
        method: req.method,
        url: res.url,
        status: res.status,
        host: this.host,
        body,
        subject: req.url.pathname,
        retryAfterMs: res.status === 429 || res.status === 503 ? parseRetryAfter(getHeader(res, 'retry-after'), this.policy.clock.now(), Infinity) : undefined,
        attempts: attempt,
      });
    }, req.signal);
  }
}

/** The stack for `options.host`: one transport (pooled connections), the caller's credentials, one retry policy. */
export function createRegistryStack(options: RegistryClientOptions, deps: ClientDeps = {}): RegistryStack {
  validateHost(options.host);
  const transport = deps.transport ?? createHttpTransport(options);
  const debug = options.debug;
  const auth = new AuthSession({
    host: options.host,
    transport,
    credentials: options.credentials,
    allowCrossHostAuth: options.allowCrossHostAuth,
    ...(deps.clock === undefined ? {} : { now: () => deps.clock!.now() }),
    debug,
  });
  const retry = new RetryPolicy({
    attempts: options.retry?.attempts,
    deadlineMs: options.retry?.deadlineMs,
    initialDelayMs: options.retry?.initialDelayMs,
    clock: deps.clock,
    sayRetryAfter: true,
    ...(debug === undefined
      ? {}
      : {
          onRetry: (info) =>
            debug(`retry ${info.attempt + 1}/${info.attempts} in ${info.delayMs}ms after: ${redactText(info.error instanceof Error ? info.error.message : String(info.error))}`),
        }),
  });
  return { host: options.host, transport, auth, retry, rest: new RetryTransport(transport, retry, options.host), debug, plainHttpFlag: options.settingNames?.plainHttp };
}
