import { PackpubError } from '../../errors.js';
import { errorFromNetwork, errorFromResponse, mangledRobotHint, parseOciErrors, readBounded, RegistryError, tokenRedirectHint, unreachableHandedOut } from '../errors.js';
import type { HttpResponse, HttpTransport } from '../http.js';
import { redactText, redactUrl, registerSecret } from '../../util/redact.js';
import { parseRetryAfter } from '../retry.js';
import { mergeScopes } from './challenge.js';

/*
 * The distribution token flow (distribution "Token Authentication Specification" and its OAuth2 variant):
 * GET <realm>?service=..&scope=.. with Basic credentials, or POST <realm> grant_type=refresh_token for an
 * identity token. Harbor answers {"token": jwt, "access_token": "", "expires_in": 1800}: use the non-empty one.
 */

/** distribution token spec: "If expires_in is not given, a default of 60 seconds should be assumed." */
export const DEFAULT_TOKEN_LIFETIME_S = 60;
/** Token answers are small JSON documents. */
const TOKEN_BODY_LIMIT = 1024 * 1024;

export interface TokenResponse {
  token: string;
  expiresInS: number;
  issuedAt?: Date;
  /** A new refresh token, when the OAuth2 endpoint rotates it. */
  refreshToken?: string;
  /** The origin a redirect of the token service took a request with credentials to, which they did not follow. */
  credentialsLeftBehind?: string;
}

/** Read a token service's JSON answer. */
export function parseTokenResponse(doc: unknown, realmHost: string): TokenResponse {
  const rec = (typeof doc === 'object' && doc !== null ? doc : {}) as Record<string, unknown>;
  const pick = (k: string) => (typeof rec[k] === 'string' ? (rec[k] as string) : '');
  const token = pick('token') !== '' ? pick('token') : pick('access_token');
  if (token === '') {
    throw new PackpubError('REGISTRY', `token service ${realmHost} answered without a token`, {
      hint: 'check that the registry’s token service works (its answer had neither "token" nor "access_token")',
    });
  }
  // RFC 6750 b64token is visible ASCII; anything else cannot go into an Authorization header.
  if (!/^[\x21-\x7e]+$/.test(token)) {
    registerSecret(token);
    throw new PackpubError('REGISTRY', `token service ${realmHost} answered a token that cannot be sent in a header (it holds a space, a control or a non-ASCII character)`, {
      hint: 'report it to the registry owner: a token is visible ASCII only',
    });
  }
  const raw = rec['expires_in'];
  const expiresInS = typeof raw === 'number' && Number.isFinite(raw) && raw > 0 ? raw : DEFAULT_TOKEN_LIFETIME_S;
  const issued = typeof rec['issued_at'] === 'string' ? new Date(rec['issued_at']) : undefined;
  const refresh = pick('refresh_token');
  return {
    token,
    expiresInS,
    ...(issued !== undefined && !Number.isNaN(issued.getTime()) ? { issuedAt: issued } : {}),
    ...(refresh === '' ? {} : { refreshToken: refresh }),
  };
}

/** What to present to the token service; undefined fields mean anonymous. */
export interface TokenCredentials {
  username?: string | undefined;
  password?: string | undefined;
  /** OAuth2 refresh token (docker config `identitytoken`): exchanged with POST. */
  identityToken?: string | undefined;
  /** Where the credentials came from (`flags`, `docker config <path>`), said when the token service refuses them. */
  source?: string | undefined;
}

export interface FetchTokenOptions {
  transport: HttpTransport;
  realm: URL;
  service?: string | undefined;
  scopes: readonly string[];
  credentials?: TokenCredentials | undefined;
  /** OAuth2 client_id for the refresh-token grant. */
  clientId?: string | undefined;
  signal?: AbortSignal | undefined;
  attempt?: number | undefined;
}

/**
 * Refuse a user name holding a colon. RFC 7617: a user-id holding a colon is invalid; the server splits at the first
 * one and takes the rest, with the password, for the password: it read "credentials rejected". Not shown:
 * "user:password" pasted as the user name. Also used by login, which would otherwise save such an entry for a registry
 * that asks for no credentials (Docker and ORAS read it back split at the colon).
 */
export function refuseColonUserName(username: string, source?: string): void {
  if (!username.includes(':')) return;
  registerSecret(username);
  throw new PackpubError('CREDENTIALS', `the user name${source === undefined ? '' : ` from ${source}`} holds a colon, which Basic authentication cannot carry (the server would take what follows it as part of the password)`, {
    hint: 'give the user name alone (a colon often means "user:password" went into the user name) and the password apart: --password-stdin, PACKPUB_PASSWORD, or packpub login',
  });
}

export function basicAuthorization(username: string, password: string, source?: string): string {
  refuseColonUserName(username, source);
  const value = Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
  registerSecret(value);
  return `Basic ${value}`;
}

/** A token service the registry's challenge names that this machine cannot reach (an internal address). */
function unreachableTokenService(realm: URL, err: unknown): unknown {
  return unreachableHandedOut(
    err,
    `token service ${realm.host}, which the registry's challenge names`,
    "the registry's Bearer challenge names a token service (realm) at an address this machine cannot reach, often an internal one (Harbor's external_url, distribution's auth.token.realm): make the registry announce an address clients can use, or report it to the registry owner",
  );
}

/** Ask the token service for a token covering `scopes`. */
export async function fetchToken(options: FetchTokenOptions): Promise<TokenResponse> {
  const { transport, realm, credentials } = options;
  const scopes = mergeScopes(options.scopes);
  const url = new URL(realm);
  let res: HttpResponse;
  if (credentials?.identityToken !== undefined) {
    // OAuth2 refresh-token grant (distribution "oauth.md"); scopes space-separated in one field.
    const form = new URLSearchParams();
    form.set('grant_type', 'refresh_token');
    if (options.service !== undefined) form.set('service', options.service);
    if (scopes.length > 0) form.set('scope', scopes.join(' '));
    form.set('refresh_token', credentials.identityToken);
    form.set('client_id', options.clientId ?? 'packpub');
    res = await transport
      .request({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: Buffer.from(form.toString()),
        signal: options.signal,
        attempt: options.attempt,
      })
      .catch((err: unknown) => {
        throw unreachableTokenService(url, err);
      });
  } else {
    if (options.service !== undefined) url.searchParams.set('service', options.service);
    for (const scope of scopes) url.searchParams.append('scope', scope);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (credentials?.username !== undefined && credentials.password !== undefined) {
      headers['authorization'] = basicAuthorization(credentials.username, credentials.password, credentials.source);
    }
    res = await transport.request({ method: 'GET', url, headers, signal: options.signal, attempt: options.attempt }).catch((err: unknown) => {
      throw unreachableTokenService(url, err);
    });
  }
  const method = credentials?.identityToken !== undefined ? 'POST' : 'GET';
  let body: Buffer;
  // One --request-timeout for the whole answer: a token dripping in a byte at a time never trips the chunk timeout.
  const limitS = transport.requestTimeoutMs / 1000;
  // Retried like any timeout (the caller's policy): one stalled answer does not fail the run.
  const stalled = () =>
    new RegistryError('NETWORK', `token service ${realm.host} did not finish its answer within the request timeout of ${limitS} s`, {
      method,
      url: res.url,
      retryable: true,
      hint: 'the token service is too slow or stalls; try again, or raise --request-timeout',
    });
  const timer = setTimeout(() => res.body.destroy(stalled()), transport.requestTimeoutMs);
  try {
    body = await readBounded(res.body, TOKEN_BODY_LIMIT + 1);
  } catch (err) {
    // A connection lost mid-answer is a network error like any other (retried by the caller's policy).
    throw errorFromNetwork(err, { method, url: res.url });
  } finally {
    clearTimeout(timer);
  }
  const givenCredentials = credentials !== undefined && (credentials.identityToken !== undefined || credentials.username !== undefined);
  // A redirect to another origin (host, port or scheme) drops the credentials (http.ts): what answered never had them.
  const leftBehind = givenCredentials && res.url.origin !== url.origin ? `${res.url.origin}/` : undefined;
  if (leftBehind !== undefined && (res.status === 401 || res.status === 403)) {
    throw new RegistryError('AUTH', `credentials were not sent to ${leftBehind}, where the token service ${realm.host} redirected the token request, and it refuses requests without them`, {
      method,
      url: res.url,
      status: res.status,
      hint: tokenRedirectHint(realm.host),
    });
  }
  if (res.status !== 200) {
    const sentCredentials = givenCredentials;
    if (res.status === 403 && sentCredentials) throw tokenRefused(realm, scopes, body, method, res.url);
    if (credentials?.identityToken !== undefined) {
      const refused = identityTokenRefused(realm, res.status, body, credentials.source, res.url);
      if (refused !== undefined) throw refused;
      // No OAuth2 endpoint there: Harbor's token service answers POST 405 (it takes GET with a user name and password),
      // GCR answered 404 (containerd's notes). It read "<realm> answered 405 (POST ...)", no word of the identity token.
      if (res.status === 404 || res.status === 405) {
        const from = credentials.source === undefined || credentials.source === 'flags' ? '' : ` from ${credentials.source}`;
        throw new RegistryError('AUTH', `token service ${realm.host} takes no identity token: it answered ${res.status} to the OAuth2 exchange (POST ${redactUrl(res.url)})`, {
          method,
          url: res.url,
          status: res.status,
          hint: `it issues tokens for a user name and password only (GET, as Harbor's does): give those (--username with --password-stdin, or packpub login) instead of the identity token${from}`,
        });
      }
    }
    if (res.status === 401 || res.status === 403) {
      throw new RegistryError('AUTH', sentCredentials ? `credentials rejected by ${realm.host}` : `token service ${realm.host} requires credentials`, {
        method,
        url: res.url,
        status: res.status,
        hint: sentCredentials
          ? (mangledRobotHint(credentials?.username, credentials?.source) ?? 'check the user name and password (or token), or run packpub login')
          : 'pass --username with --password-stdin, set PACKPUB_USERNAME and PACKPUB_PASSWORD, or run packpub login',
      });
    }
    // A token service rate limiting (GHCR, Docker Hub) says when to come back: waited as a registry's Retry-After is (retry.ts).
    const retryAfter = res.status === 429 || res.status === 503 ? res.headers['retry-after'] : undefined;
    throw errorFromResponse({
      method,
      url: res.url,
      status: res.status,
      host: realm.host,
      body,
      subject: 'token service',
      retryAfterMs: retryAfter === undefined ? undefined : parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, Date.now(), Infinity),
    });
  }
  if (body.length > TOKEN_BODY_LIMIT) {
    // Cut at the limit it read as "something that is not JSON (1048576 bytes, application/json)".
    throw new PackpubError('REGISTRY', `token service ${realm.host} answered more than ${TOKEN_BODY_LIMIT / (1024 * 1024)} MiB, where a token answer is a small JSON document`, {
      hint: `check that ${redactUrl(realm)} (the realm the registry named) is its token service, and report it to the registry owner`,
    });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    // No cause: V8's SyntaxError quotes the start of the body, which may be a bare token.
    const type = res.headers['content-type'];
    throw new PackpubError('REGISTRY', `token service ${realm.host} answered with something that is not JSON (${body.length} bytes${type === undefined ? '' : `, ${String(type)}`})`, {
      hint: `check that ${redactUrl(realm)} (the realm the registry named) is its token service`,
    });
  }
  const parsed = parseTokenResponse(doc, realm.host);
  registerSecret(parsed.token);
  registerSecret(parsed.refreshToken);
  return leftBehind === undefined ? parsed : { ...parsed, credentialsLeftBehind: leftBehind };
}

/**
 * A token service's 403 to credentials it was given: it took them (a wrong password is its 401) and refuses the access
 * asked, as GHCR answers a token without the packages write right, GitLab a user without registry access and
 * DigitalOcean a token without write scope (GHCR also answers a wrong or expired token so). It read "credentials
 * rejected by <realm>: check the user name and password", sending the user after a password that was good. Its OCI
 * error, if any, is said.
 */
function tokenRefused(realm: URL, scopes: readonly string[], body: Buffer, method: string, url: URL): RegistryError {
  const said = parseOciErrors(body)[0];
  const detail = said === undefined ? '' : `: ${said.code}${said.message === '' ? '' : ` ${redactText(said.message.slice(0, 200))}`}`;
  const asked = scopes.length === 0 ? 'the registry' : scopes.join(' ');
  const push = scopes.some((s) => /:[^:]*\bpush\b[^:]*$/.test(s));
  return new RegistryError('AUTH', `token service ${realm.host} refused these credentials a token for ${asked} (403${detail})`, {
    method,
    url,
    status: 403,
    hint: `the account lacks the access asked${push ? ' (publishing needs push rights on the repository; an access token, its write scope)' : ''}, or its token is wrong or expired (GHCR answers 403 to both): check its rights there, then the user name and password (or token)`,
  });
}

/**
 * The OAuth2 token endpoint's refusal of an identity (refresh) token: RFC 6749 5.2 answers 400 `{"error":
 * "invalid_grant"}` to one expired or revoked (as `az acr login`'s are after 3 hours), some services 401. The 400 read
 * "<realm> answered 400 (POST <realm>)", with neither the token nor what to do named. Undefined for other answers.
 */
function identityTokenRefused(realm: URL, status: number, body: Buffer, source: string | undefined, url: URL): RegistryError | undefined {
  let said: { error?: unknown; error_description?: unknown } = {};
  try {
    const doc: unknown = JSON.parse(body.toString('utf8'));
    if (typeof doc === 'object' && doc !== null) said = doc as typeof said;
  } catch {
    // not an OAuth2 error body
  }
  const error = typeof said.error === 'string' && said.error !== '' ? said.error : undefined;
  if (status !== 401 && !(status === 400 && error !== undefined)) return undefined;
  const description = typeof said.error_description === 'string' && said.error_description !== '' ? `: ${redactText(said.error_description.slice(0, 200))}` : '';
  const from = source === undefined || source === 'flags' ? '' : ` from ${source}`;
  return new RegistryError('AUTH', `credentials rejected by ${realm.host}: its token service refused the identity token${from} (${status}${error === undefined ? '' : ` ${redactText(error.slice(0, 60))}`}${description})`, {
    method: 'POST',
    url,
    status,
    hint: 'an identity token is an OAuth2 refresh token, which expires or is revoked (those of az acr login last 3 hours): log in again with the tool that stored it (docker login, az acr login), pass a fresh one with --identity-token-stdin, or give a user name and password instead (--username with --password-stdin, or packpub login)',
  });
}

/** A token service's refusal of the access asked to credentials it was given (tokenRefused). */
export function isTokenRefusal(err: unknown): boolean {
  return err instanceof RegistryError && err.code === 'AUTH' && err.status === 403 && err.message.startsWith('token service ');
}

function splitScope(scope: string): { resource: string; actions: string[] } {
  const last = scope.lastIndexOf(':');
  if (last <= scope.indexOf(':')) return { resource: scope, actions: [] };
  return { resource: scope.slice(0, last), actions: scope.slice(last + 1).split(',') };
}

/** True when the scopes in `have` grant everything in `want` (`*` grants every action). */
export function scopesCover(have: readonly string[], want: readonly string[]): boolean {
  return want.every((w) => {
    const need = splitScope(w);
    return have.some((h) => {
      const got = splitScope(h);
      if (got.resource !== need.resource) return false;
      if (need.actions.length === 0) return h === w;
      return got.actions.includes('*') || need.actions.every((a) => got.actions.includes(a));
    });
  });
}

interface CacheEntry {
  token: string;
  /** ms since epoch after which the token is not used any more. */
  staleAt: number;
}

/**
 * Tokens per realm + scope set, used until `expires_in` minus a margin (a fifth of the lifetime, at most
 * 30 s) so a token does not expire between being read from the cache and reaching the registry.
 * Concurrent callers asking for the same key share one pending fetch (aws-sdk memoize habit).
 */
export class TokenCache {
  private readonly entries = new Map<string, CacheEntry>();
  private readonly pending = new Map<string, Promise<string>>();

  constructor(private readonly now: () => number = Date.now) {}

  static key(realm: string, service: string | undefined, scopes: readonly string[]): string {
    return `${realm}|${service ?? ''}|${mergeScopes(scopes).join(' ')}`;
  }

  get(key: string): string | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (this.now() >= e.staleAt) {
      this.entries.delete(key);
      return undefined;
    }
    return e.token;
  }

  set(key: string, token: string, expiresInS: number): void {
    const lifetimeMs = Math.max(0, expiresInS * 1000);
    const margin = Math.min(30_000, lifetimeMs / 5);
    this.entries.set(key, { token, staleAt: this.now() + lifetimeMs - margin });
  }

  /**
   * A fresh cached token whose scopes include every requested one (a `pull,push` token serves a pull), so
   * a push asks the token service once per repository.
   */
  getCovering(realm: string, service: string | undefined, scopes: readonly string[]): { key: string; token: string } | undefined {
    const prefix = `${realm}|${service ?? ''}|`;
    const wanted = mergeScopes(scopes);
    for (const key of this.entries.keys()) {
      if (!key.startsWith(prefix)) continue;
      const have = key.slice(prefix.length).split(' ').filter((s) => s !== '');
      if (!scopesCover(have, wanted)) continue;
      const token = this.get(key);
      if (token !== undefined) return { key, token };
    }
    return undefined;
  }

  /**
   * Forget every cached token covering `scopes` (getCovering's candidates): after the registry refused one, the others,
   * fetched from the same service around the same time, are no better; a fresh one is asked instead.
   */
  forgetCovering(realm: string, service: string | undefined, scopes: readonly string[]): void {
    const prefix = `${realm}|${service ?? ''}|`;
    const wanted = mergeScopes(scopes);
    for (const key of [...this.entries.keys()]) {
      if (key.startsWith(prefix) && scopesCover(key.slice(prefix.length).split(' ').filter((s) => s !== ''), wanted)) this.entries.delete(key);
    }
  }

  /** Every fresh token cached (login looks at what the token service answered its credentials with). */
  fresh(): string[] {
    return [...this.entries.keys()].flatMap((key) => this.get(key) ?? []);
  }

  /** Forget a token the registry rejected; only if it is still the one cached. */
  delete(key: string, token?: string): void {
    const e = this.entries.get(key);
    if (e !== undefined && (token === undefined || e.token === token)) this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  /** The cached token, or the result of `fetch` (shared by concurrent callers) stored for next time. */
  async getOrFetch(key: string, fetch: () => Promise<TokenResponse>): Promise<string> {
    const cached = this.get(key);
    if (cached !== undefined) return cached;
    const inFlight = this.pending.get(key);
    if (inFlight !== undefined) return inFlight;
    const p = (async () => {
      const answer = await fetch();
      this.set(key, answer.token, answer.expiresInS);
      return answer.token;
    })();
    this.pending.set(key, p);
    try {
      return await p;
    } finally {
      this.pending.delete(key);
    }
  }
}

/** The claims of a token that is a JWT (distribution's token spec), or undefined when it is not one: an opaque token says nothing. */
export function tokenClaims(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] === undefined) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return typeof claims === 'object' && claims !== null && !Array.isArray(claims) ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The `sub` claim of a token that is a JWT (distribution's token spec: the user it was issued to), or undefined
 * when it is not one or has none: an opaque token says nothing, and nothing is concluded from it.
 */
export function tokenSubject(token: string): string | undefined {
  const sub = tokenClaims(token)?.['sub'];
  return typeof sub === 'string' ? sub : undefined;
}
