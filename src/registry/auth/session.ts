import { hostName, isDockerHubHost, isLoopbackHost } from '../../oci/reference.js';
import { parseOciErrors, plainHttpRealm, readErrorBody, RegistryError, type AuthOutcome } from '../errors.js';
import { discardBody, TransportLayer, withBufferedBody, type HttpRequest, type HttpResponse, type HttpTransport } from '../http.js';
import { redactUrl, registerSecret } from '../../util/redact.js';
import { findBearer, hasBasic, mergeScopes, parseWwwAuthenticate } from './challenge.js';
import { basicAuthorization, fetchToken, TokenCache, tokenClaims, type TokenCredentials } from './token.js';
import { ANONYMOUS, isUnanswered, type Credential, type CredentialProvider } from '../../credentials/types.js';

/*
 * Challenge-driven auth for one registry host, as oras-go's auth.Client: send anonymously first; on 401
 * read WWW-Authenticate and answer it (Basic, or a Bearer token from the realm); remember the scheme so
 * later requests authenticate up front; on a 401 with a cached token, drop it and fetch a new one once.
 * It is an HttpTransport over another one; retries wrap it (../retry.ts), so a retried request re-authenticates.
 */

export interface AuthSessionOptions {
  /** Registry `host[:port]` the credentials belong to. */
  host: string;
  transport: HttpTransport;
  credentials: CredentialProvider;
  /** Send credentials to a token realm on another host name (default false). */
  allowCrossHostAuth?: boolean | undefined;
  now?: (() => number) | undefined;
  /** OAuth2 client_id for identity-token exchanges (default "packpub"). */
  clientId?: string | undefined;
  debug?: ((line: string) => void) | undefined;
}

export interface AuthedRequest extends HttpRequest {
  /** Token scopes the request needs, e.g. `repository:p/r:pull,push` (merged with the challenge's). */
  scopes?: readonly string[] | undefined;
}

export interface AuthedResponse extends HttpResponse {
  auth: AuthOutcome;
}

interface Prepared {
  header?: string | undefined;
  outcome: AuthOutcome;
  tokenKey?: string | undefined;
  token?: string | undefined;
}

const NO_AUTH: AuthOutcome = { scheme: 'none', credentialSent: false };
/** Renew a credential that says it expires (ECR tokens) this long before it does. */
const CREDENTIAL_RENEW_MARGIN_MS = 5 * 60_000;

/**
 * A token service on another host name that is the registry's own, where its credentials go as to the registry:
 * - Docker Hub's (registry-1.docker.io names auth.docker.io, Docker's own, where `docker login` sends the password);
 * - one on a domain above the registry's host name: gitlab.com for registry.gitlab.com (GitLab.com's registry names
 *   https://gitlab.com/jwt/auth), gitlab.example.com for registry.gitlab.example.com (GitLab's documented layout of a
 *   registry on a domain of its own). Whoever runs that domain runs the registry's name (its DNS, its certificates),
 *   so it is trusted with nothing it could not take. A sibling (registry.example.com naming gitlab.example.com), a
 *   look-alike (gitlab.com.evil.example) or a one-label name (com) is another host: --allow-cross-host-auth. (An IPv4
 *   address has four labels as its realm's has: never a suffix of another.)
 * Withheld, `packpub login registry.gitlab.com` failed unless --allow-cross-host-auth, and a push with a docker login's
 * credentials read "credentials were not sent to the token service gitlab.com".
 */
function ownTokenService(registry: string, realm: URL): boolean {
  const at = hostName(realm.host).replace(/\.$/, '');
  if (isDockerHubHost(registry)) return at === 'auth.docker.io';
  const name = hostName(registry).replace(/\.$/, '');
  return at.includes('.') && name.endsWith(`.${at}`);
}

/**
 * What went with a request the registry refused (401, 403), from the claims of the token sent when it is a JWT (decoded
 * on that path only: no cost on the common one):
 * - a token already expired, or not valid yet, by this machine's clock, though just issued (the token sent last is a
 *   fresh one: a refused cached token is renewed first): the clocks of the token service, the registry and this machine
 *   disagree. It read "credentials rejected or no push permission", sending the user after a password that was good;
 * - a token the token service answered the credentials with for no one (an empty `sub`), Harbor's answer to a wrong user
 *   name or secret and to a robot account that has expired or is disabled. It read "credentials rejected or no push
 *   permission", sending the user after permissions.
 */
function refusedOutcome(status: number, prepared: Prepared, now: number): AuthOutcome {
  if ((status !== 401 && status !== 403) || prepared.token === undefined) return prepared.outcome;
  const claims = tokenClaims(prepared.token);
  if (claims === undefined) return prepared.outcome;
  const at = now / 1000;
  const exp = typeof claims['exp'] === 'number' && Number.isFinite(claims['exp']) ? claims['exp'] : undefined;
  const nbf = typeof claims['nbf'] === 'number' && Number.isFinite(claims['nbf']) ? claims['nbf'] : undefined;
  if (exp !== undefined && exp <= at) return { ...prepared.outcome, tokenTimeOff: { exp, now: at } };
  if (nbf !== undefined && nbf > at + TOKEN_CLOCK_SLACK_S) return { ...prepared.outcome, tokenTimeOff: { nbf, now: at } };
  if (prepared.outcome.credentialSent && claims['sub'] === '') return { ...prepared.outcome, tokenForNoOne: true };
  return prepared.outcome;
}

/** A token's `nbf` this far ahead of this machine's clock is said (distribution's registry allows 60 s of leeway). */
const TOKEN_CLOCK_SLACK_S = 60;

function hasSecret(c: Credential): boolean {
  return c.username !== undefined || c.identityToken !== undefined || c.registryToken !== undefined;
}

/** A token service's refusal (401, 403) of a request sent without credentials: it asks for them. */
function asksCredentials(err: unknown): err is RegistryError {
  return err instanceof RegistryError && err.code === 'AUTH' && (err.status === 401 || err.status === 403);
}

export class AuthSession extends TransportLayer {
  readonly host: string;
  readonly tokens: TokenCache;
  private readonly provider: CredentialProvider;
  private readonly allowCrossHostAuth: boolean;
  private readonly now: () => number;
  private readonly clientId: string;
  private readonly debug: ((line: string) => void) | undefined;
  private authScheme: 'unknown' | 'basic' | 'bearer' = 'unknown';
  private bearer: { realm: URL; service?: string | undefined } | undefined;
  private credential: Promise<Credential> | undefined;
  /** `credential` once resolved, when it never expires: send() takes it without an await (issue 16). */
  private settled: Credential | undefined;
  /** Bumped each time the credential is invalidated, so concurrent requests refresh it once. */
  private generation = 0;
  /** The credential resolved by the last early renewal (not renewed early again). */
  private renewedCredential: Credential | undefined;
  /** Why the credential source gave none (a credential helper that could not answer): the answer to a 401 or 403. */
  private unanswered: unknown;
  /** Tokens a token service gave where its redirect took the request without the credentials: token -> that origin. */
  private readonly leftBehind = new Map<string, string>();

  constructor(options: AuthSessionOptions) {
    super(options.transport);
    this.host = options.host;
    this.provider = options.credentials;
    this.allowCrossHostAuth = options.allowCrossHostAuth === true;
    this.now = options.now ?? Date.now;
    this.clientId = options.clientId ?? 'packpub';
    this.debug = options.debug;
    this.tokens = new TokenCache(this.now);
  }

  /** The HttpTransport face of send(): auth stacks over any transport. */
  request(req: AuthedRequest): Promise<AuthedResponse> {
    return this.send(req);
  }

  /** The credential for this host, resolved once per run (and again after invalidate). */
  async getCredential(renewed = false): Promise<Credential> {
    const gen = this.generation;
    let current = this.credential;
    if (current === undefined) {
      current = this.provider.resolve(this.host).then((c) => {
        this.unanswered = undefined;
        const cred = c ?? ANONYMOUS;
        registerSecret(cred.password);
        registerSecret(cred.identityToken);
        registerSecret(cred.registryToken);
        if (this.credential === current && cred.expiresAt === undefined) this.settled = cred;
        return cred;
      }, (err: unknown) => {
        // A credential helper that cannot answer (not installed: a Docker Desktop config on a CI runner; failing,
        // hung): anonymous until the registry asks for credentials, which then gets this error (it stopped every
        // command, also against a registry that asks none).
        if (!isUnanswered(err)) throw err;
        this.debug?.(`auth: no credentials for ${this.host} (${err instanceof Error ? err.message : String(err)}): anonymous unless the registry asks`);
        this.unanswered = err;
        if (this.credential === current) this.settled = ANONYMOUS;
        return ANONYMOUS;
      });
      this.credential = current;
      current.catch(() => {
        if (this.credential === current) this.credential = undefined;
      });
    }
    const cred = await current;
    if (renewed) this.renewedCredential = cred;
    const expiring = cred.expiresAt !== undefined && cred.expiresAt.getTime() - this.now() < CREDENTIAL_RENEW_MARGIN_MS;
    // Renew once per credential: one the provider just minted is used even when it is short-lived
    // (otherwise every request would mint another), until a registry rejects it as expired.
    if (expiring && !renewed && gen === this.generation && cred !== this.renewedCredential) {
      this.invalidateCredential(gen);
      return this.getCredential(true);
    }
    return cred;
  }

  /** Ask the provider for a new credential (it was rejected as expired); concurrent callers do it once. */
  private invalidateCredential(seenGeneration: number): void {
    if (seenGeneration !== this.generation) return;
    this.generation++;
    this.provider.invalidate?.(this.host);
    this.credential = undefined;
    this.settled = undefined;
    this.tokens.clear();
    this.debug?.(`auth: credentials for ${this.host} invalidated, resolving again`);
  }

  /** Why credentials must not go to `url`, or undefined when they may. */
  private withheldFor(url: URL): AuthOutcome['withheld'] {
    if (hostName(url.host) !== hostName(this.host) && !this.allowCrossHostAuth && !ownTokenService(this.host, url)) return 'cross-host';
    // Never Basic over plain HTTP to a non-loopback host unless --plain-http was explicit.
    if (url.protocol === 'http:' && !isLoopbackHost(url.host) && !this.inner.plainHttpExplicit) return 'plain-http';
    return undefined;
  }

  private basicFor(cred: Credential, url: URL): Prepared {
    if (cred.username === undefined) return { outcome: NO_AUTH };
    const withheld = this.withheldFor(url);
    if (withheld !== undefined) return { outcome: { scheme: 'basic', credentialSent: false, source: cred.source, withheld } };
    return {
      header: basicAuthorization(cred.username, cred.password ?? '', cred.source),
      outcome: { scheme: 'basic', credentialSent: true, source: cred.source, username: cred.username },
    };
  }

  private async bearerFor(cred: Credential, scopes: readonly string[], reject?: Prepared, signal?: AbortSignal, attempt?: number): Promise<Prepared> {
    if (cred.registryToken !== undefined) {
      // A ready registry token is sent as is; if it was just rejected there is nothing else to try.
      return { header: `Bearer ${cred.registryToken}`, outcome: { scheme: 'bearer', credentialSent: true, source: cred.source } };
    }
    const bearer = this.bearer;
    if (bearer === undefined) return { outcome: NO_AUTH };
    const merged = mergeScopes(scopes);
    const key = TokenCache.key(bearer.realm.href, bearer.service, merged);
    if (reject?.tokenKey !== undefined) {
      this.tokens.delete(reject.tokenKey, reject.token);
      // Another cached token covering these scopes (a mount's, asked with the source's pull too) came from the same
      // service around the same time: sent next, it was refused too, and the request failed with a fresh token to be had.
      this.tokens.forgetCovering(bearer.realm.href, bearer.service, merged);
    }
    const withheld = hasSecret(cred) ? this.withheldFor(bearer.realm) : undefined;
    const tokenCreds: TokenCredentials | undefined =
      withheld !== undefined || !hasSecret(cred)
        ? undefined
        : cred.identityToken !== undefined
          ? { identityToken: cred.identityToken, source: cred.source }
          : { username: cred.username, password: cred.password ?? '', source: cred.source };
    const covering = this.tokens.getCovering(bearer.realm.href, bearer.service, merged);
    const tokenKey = covering?.key ?? key;
    const token =
      covering?.token ??
      (await this.tokens.getOrFetch(key, () => {
        this.debug?.(`auth: token for [${merged.join(' ')}] from ${redactUrl(bearer.realm)}${tokenCreds === undefined ? ' (anonymous)' : ''}`);
        const fetched = fetchToken({
          transport: this.inner,
          realm: bearer.realm,
          service: bearer.service,
          scopes: merged,
          credentials: tokenCreds,
          clientId: this.clientId,
          signal,
          attempt,
        });
        const noted = fetched.then((answer) => {
          if (answer.credentialsLeftBehind !== undefined) this.leftBehind.set(answer.token, answer.credentialsLeftBehind);
          return answer;
        });
        if (withheld !== undefined) return noted.catch((err: unknown) => Promise.reject(this.refusedWithout(err, withheld, bearer.realm)));
        // A credential source that could not answer (a helper not installed): a token service refusing the anonymous
        // request asks for credentials as a 401 would, and the helper's error is the answer (askedWithoutAnswer).
        return this.unanswered === undefined ? noted : noted.catch((err: unknown) => Promise.reject(asksCredentials(err) && this.unanswered !== undefined ? this.unanswered : err));
      }));
    const redirectedTo = this.leftBehind.get(token);
    return {
      header: `Bearer ${token}`,
      outcome: {
        scheme: 'bearer',
        credentialSent: tokenCreds !== undefined && redirectedTo === undefined,
        source: cred.source,
        username: tokenCreds?.username,
        withheld: withheld ?? (redirectedTo === undefined ? undefined : 'redirect'),
        realmHost: bearer.realm.host,
        ...(redirectedTo === undefined ? {} : { redirectedTo }),
      },
      tokenKey,
      token,
    };
  }

  /**
   * A token service refusing (401, 403) the request sent without the credentials withheld from it: it said "token
   * service <realm> requires credentials; pass --username ...", to a user who had given them. Why they were not sent.
   */
  private refusedWithout(err: unknown, withheld: NonNullable<AuthOutcome['withheld']>, realm: URL): unknown {
    if (!asksCredentials(err)) return err;
    const at = { method: err.method ?? 'GET', ...(err.url === undefined ? {} : { url: err.url }), status: err.status };
    if (withheld === 'cross-host') {
      return new RegistryError('AUTH', `credentials were not sent to the token service ${realm.host}, which is on another host than ${this.host}, and it refuses requests without them`, {
        ...at,
        hint: `the registry's challenge names a token service on another host (Harbor's external_url, a self-managed GitLab's on a sibling name); pass --allow-cross-host-auth if you trust ${realm.host}`,
      });
    }
    if (this.inner.origin(this.host).startsWith('https:')) return new RegistryError('AUTH', plainHttpRealm(this.host, realm.host).message, { ...at, hint: plainHttpRealm(this.host, realm.host).hint });
    return new RegistryError('AUTH', `credentials were not sent to the token service ${realm.host} over plain HTTP, and it refuses requests without them`, {
      ...at,
      hint: 'use HTTPS, or pass --plain-http explicitly to allow sending credentials unencrypted',
    });
  }

  /** What to send up front: a promise only when a token may have to be fetched. */
  private prepare(req: AuthedRequest, cred: Credential): Prepared | Promise<Prepared> {
    if (this.authScheme === 'basic') return this.basicFor(cred, req.url);
    if (this.authScheme === 'bearer') return this.bearerFor(cred, req.scopes ?? [], undefined, req.signal, req.attempt);
    return { outcome: NO_AUTH };
  }

  private send1(req: AuthedRequest, prepared: Prepared): Promise<HttpResponse> {
    // The request is passed on as is when nothing is added (the transport copies the headers it sends).
    if (prepared.header === undefined) return this.inner.request(req);
    return this.inner.request({ ...req, headers: { ...req.headers, authorization: prepared.header } });
  }

  /** One request with at most one re-authentication after a 401. */
  private async exchange(req: AuthedRequest, cred: Credential): Promise<AuthedResponse> {
    const ready = this.prepare(req, cred);
    const prepared = ready instanceof Promise ? await ready : ready;
    const res = await this.send1(req, prepared);
    if (res.status !== 401) {
      if (prepared.outcome.scheme === 'basic' && prepared.outcome.credentialSent) this.authScheme = 'basic';
      return { ...res, auth: res.status === 403 ? refusedOutcome(res.status, prepared, this.now()) : prepared.outcome };
    }
    // A 401 from where a redirect led (a blob's storage, ECR -> S3) is that server's, not the registry's: answering
    // its challenge sent the registry's credentials to the token service it named (client.ts refuse names it).
    if (res.url.origin !== req.url.origin) return { ...res, auth: prepared.outcome };
    const challenges = parseWwwAuthenticate(res.headers['www-authenticate']);
    const bearer = findBearer(challenges);
    // A first 401 naming nothing packpub answers: said so (it read "authentication required, pass --username" even with credentials).
    const unanswerable = (what: string): AuthedResponse => ({ ...res, auth: prepared.outcome.scheme === 'none' ? { ...prepared.outcome, unanswerable: what } : prepared.outcome });
    let next: Prepared | undefined;
    if (bearer !== undefined) {
      let realm: URL;
      try {
        realm = new URL(bearer.realm);
      } catch {
        this.debug?.(`auth: ignoring a Bearer challenge with an invalid realm from ${this.host}`);
        return unanswerable('a Bearer challenge whose realm is not a URL');
      }
      if (realm.protocol !== 'https:' && realm.protocol !== 'http:') return unanswerable(`a Bearer challenge whose realm is a ${realm.protocol} URL`);
      if (prepared.outcome.scheme === 'bearer' && cred.registryToken !== undefined) return { ...res, auth: prepared.outcome };
      this.authScheme = 'bearer';
      this.bearer = { realm, service: bearer.service };
      const rejected = prepared.outcome.scheme === 'bearer' ? prepared : undefined;
      next = await this.bearerFor(cred, [...(req.scopes ?? []), ...bearer.scopes], rejected, req.signal, req.attempt);
    } else if (hasBasic(challenges)) {
      if (prepared.outcome.scheme === 'bearer' && this.bearer !== undefined) {
        // Harbor may answer an expired Bearer token with a Basic challenge: renew the token once.
        next = await this.bearerFor(cred, req.scopes ?? [], prepared, req.signal, req.attempt);
      } else if (prepared.outcome.scheme !== 'basic') {
        next = this.basicFor(cred, req.url);
        // An identity token answers a token service only: "authentication required" read as if none was given.
        if (next.header === undefined && cred.identityToken !== undefined && cred.username === undefined) next.outcome = { scheme: 'basic', credentialSent: false, source: cred.source, withheld: 'token-only' };
        if (next.header === undefined) return { ...res, auth: next.outcome.withheld === undefined ? NO_AUTH : next.outcome };
      }
    } else {
      const schemes = [...new Set(challenges.map((c) => c.scheme))];
      if (schemes.length > 0) return unanswerable(`it challenges ${schemes.map((s) => s.slice(0, 40)).join(', ')}`);
      // Without a challenge, credentials had nothing to answer; without credentials, asking for them is the advice.
      if (hasSecret(cred)) return unanswerable('its 401 names no WWW-Authenticate challenge');
    }
    if (next === undefined || next.header === undefined) return { ...res, auth: prepared.outcome };
    await discardBody(res);
    const retried = await this.send1(req, next);
    if (retried.status !== 401 && next.outcome.scheme === 'basic') this.authScheme = 'basic';
    return { ...retried, auth: refusedOutcome(retried.status, next, this.now()) };
  }

  /**
   * Send a request with whatever authentication the host asks for. The response is returned as is (any
   * status); `auth` says what was sent, so a 401/403 can be explained precisely.
   */
  send(req: AuthedRequest): Promise<AuthedResponse> {
    const cred = this.settled;
    // A settled credential the provider cannot renew, or none at all, is never found expired: the exchange's answer
    // as it is, without the async frame of the renewal below (one per request: issue 16).
    if (cred !== undefined && (!hasSecret(cred) || this.provider.invalidate === undefined)) {
      return this.unanswered === undefined ? this.exchange(req, cred) : this.exchange(req, cred).then((res) => this.askedWithoutAnswer(res));
    }
    return this.sendRenewing(req);
  }

  /** A 401 or 403 where the credential source could not answer: its error is the cause (the body is dropped). */
  private async askedWithoutAnswer(res: AuthedResponse): Promise<AuthedResponse> {
    const err = this.unanswered;
    if (err === undefined || (res.status !== 401 && res.status !== 403)) return res;
    await discardBody(res);
    throw err;
  }

  private async sendRenewing(req: AuthedRequest): Promise<AuthedResponse> {
    const gen = this.generation;
    const cred = this.settled ?? (await this.getCredential());
    if (this.unanswered !== undefined) return this.askedWithoutAnswer(await this.exchange(req, cred));
    let res: AuthedResponse;
    try {
      res = await this.exchange(req, cred);
      if (res.status !== 401 && res.status !== 403) this.worked.add(cred);
    } catch (err) {
      // The token service refused a credential helper's secret (401): a fresh one is asked for once (askAgain).
      const fresh = err instanceof RegistryError && err.code === 'AUTH' && err.status === 401 ? await this.askAgain(gen, cred) : undefined;
      if (fresh === undefined) throw err;
      return this.exchange(req, fresh);
    }
    if (!hasSecret(cred) || this.provider.invalidate === undefined || (res.status !== 400 && res.status !== 401 && res.status !== 403)) return res;
    // ECR: an expired token is `DENIED ... Your authorization token has expired` (400 on ECR Public).
    // A body cut short cannot say "expired"; the status still reaches the caller.
    const body = await readErrorBody(res.body);
    const expired = parseOciErrors(body).some((e) => e.code === 'DENIED' && /expired/i.test(e.message));
    if (!expired) {
      const fresh = res.status === 401 && res.auth.credentialSent ? await this.askAgain(gen, cred) : undefined;
      return fresh === undefined ? withBufferedBody(res, body) : this.exchange(req, fresh);
    }
    this.invalidateCredential(gen); // no-op when a concurrent request already did it
    return this.exchange(req, await this.getCredential());
  }

  /** Credentials a credential helper gave that were refused (401) and re-asked for once (askAgain). */
  private readonly askedAgain = new WeakSet<Credential>();
  /** Credentials a request went through with (askAgain: one that never did is asked again once per run only). */
  private readonly worked = new WeakSet<Credential>();
  private askedAgainUnproven = false;

  /**
   * A credential helper's secret refused (401) by the registry or its token service: the helper is asked once more,
   * and its answer is used when it differs. Helpers that mint short-lived secrets (gcloud's, ACR's, an identity
   * provider's) give a fresh one where the first expired during a long run; ORAS asks the helper for every token,
   * packpub asked once per run and failed every request after that. Undefined when the source is no helper, or the
   * helper answers the same, or (a secret that never worked) the helper was asked again already in this run.
   */
  private async askAgain(gen: number, cred: Credential): Promise<Credential | undefined> {
    if (cred.source?.startsWith('credential helper ') !== true) return undefined;
    if (!this.askedAgain.has(cred)) {
      // A secret that never got a request through (a wrong one, or one without the rights asked) is asked again once
      // per run: a helper minting a new secret per call (gcloud's) would otherwise be run again for every request refused.
      if (!this.worked.has(cred)) {
        if (this.askedAgainUnproven) return undefined;
        this.askedAgainUnproven = true;
      }
      this.askedAgain.add(cred);
      this.debug?.(`auth: ${this.host} refused the credentials from ${cred.source}; asking it again`);
      this.invalidateCredential(gen);
    }
    const fresh = await this.getCredential();
    const same = fresh.username === cred.username && fresh.password === cred.password && fresh.identityToken === cred.identityToken && fresh.registryToken === cred.registryToken;
    return same ? undefined : fresh;
  }

  /**
   * Why the credential source gave none (a credential helper not installed, failing): the error a REST API's 401 or 403
   * to a request sent without credentials answers with (Harbor's API, which takes Basic up front), as askedWithoutAnswer
   * gives it for the registry's. Undefined when credentials came, or none are configured.
   */
  get unansweredError(): unknown {
    return this.unanswered;
  }

  /** The Authorization header value to send to this host up front, for REST APIs without challenges (Harbor API). */
  async basicHeader(url: URL): Promise<string | undefined> {
    return this.basicFor(await this.getCredential(), url).header;
  }
}
