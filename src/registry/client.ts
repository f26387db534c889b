import { Readable } from 'node:stream';
import { CATALOG_SCOPE, repositoryScope } from './auth/challenge.js';
import type { AuthSession, AuthedResponse } from './auth/session.js';
import { PackpubError, errorMessage, isPackpubError } from '../errors.js';
import { redactText, redactUrl } from '../util/redact.js';
import { isDigest, parseDigest, sha256Digest, verified, type Digest } from '../oci/digest.js';
import type { Descriptor } from '../oci/manifest.js';
import { MANIFEST_ACCEPT, MEDIA_TYPE_OCTET_STREAM } from '../oci/media-types.js';
import { isValidRepositoryPath, isValidTag, shown, validateHost, validateRepositoryPath, validateTag } from '../oci/reference.js';
import { manifestMediaType, MAX_MANIFEST_BYTES, type FetchedManifest } from '../oci/manifest.js';
import { RegistryError, errorBodyOf, errorFromNetwork, errorFromResponse, isRegistryError, oversizedManifest, plainHttpFlags, readBounded, readErrorBody, unreachableHandedOut, type Intent } from './errors.js';
import { contentCoding, digestHeader, discardBody, encodedAnswerError, getHeader, type HttpMethod, type HttpResponse, type HttpTransport, type RequestBody } from './http.js';
import { DeadlineControllers, backoffDelayMs, deletedByEarlierAttempt, isRetryableError, mayHaveActed, parseRetryAfter, type RetryBudget, type RetryPolicy } from './retry.js';
import { createRegistryStack, type ClientDeps, type RegistryClientOptions, type RegistryStack } from './stack.js';
import { parseNextLink, resolveLocation, withDigestParam } from './urls.js';

/** How many times a blob a manifest names that the registry answers 404 for is asked for again, after pauses (fetchBlob). */
const BLOB_LAG_REREADS = 3;
/** A conditional manifest read: 304 (still the digest offered) or the manifest. */
const NOT_MODIFIED_OR_OK: readonly number[] = [200, 304];
const OK: readonly number[] = [200];
/** A blob read resumed with Range: the part (206), the whole blob (200, Range ignored), or 416 (no ranges served: asked again whole). */
const RESUME_STATUSES: readonly number[] = [200, 206, 416];
/** The Accept header of every manifest read, joined once (issue 16: one string per read before). */
const MANIFEST_ACCEPT_HEADER = MANIFEST_ACCEPT.join(', ');
/**
 * Every manifest read and tag or catalog page asks for the registry's own answer: an HTTP cache on the way (a caching
 * proxy kept for pulls) must ask the registry (RFC 9111 5.2.1.4), not answer from a copy of what a tag held before it
 * moved. Before, only the conditional read said so: push found a version "unchanged" from a kept manifest though the
 * registry held other content (exit 0), and list showed the tags the cache had seen.
 */
const FRESH = 'no-cache';
const MANIFEST_READ_HEADERS: Readonly<Record<string, string>> = Object.freeze({ accept: MANIFEST_ACCEPT_HEADER, 'cache-control': FRESH });
const LIST_READ_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'cache-control': FRESH });
/** Page size asked for tags and catalog; ECR refuses n above 1000. */
export const DEFAULT_PAGE_SIZE = 1000;
const LIST_BODY_LIMIT = 16 * 1024 * 1024;
/** 1000 pages of the 1000 names a page holds: far beyond any pack repository or registry catalog. */
const MAX_PAGES = 1_000;
/** Empty pages in a row that still link to a next one, before the listing is refused as a loop. */
const MAX_EMPTY_PAGES = 3;
/** Names kept from all pages together, so memory stays bounded whatever the registry sends. */
const MAX_LISTED = 100_000;
const LIST_HOSTILE_HINT = 'the registry (or something in front of it) answers the listing without end; report it to the registry owner';
const LIST_ELSEWHERE_HINT = 'the registry (or a proxy in front of it) leads this listing to another repository\'s list, which packpub does not take for this one; report it to the registry owner';
const LIST_MALFORMED_HINT = 'the registry (or something in front of it) did not answer with a distribution-spec listing; report it to the registry owner';
const STALL_HINT = 'the registry or the network is too slow or stalls; try again, or raise --retry-deadline';
const OTHER_CONTENT_HINT = 'the registry or something between served other content; try again, and report it to the registry owner if it persists';
/**
 * The PUT that ends an upload answered 404: the session the POST started is not where its Location leads (a
 * proxy rewrote the header, or the registry lost the session). A new upload (the retry, from the POST) may work.
 */
function uploadLocationUnknown(host: string, location: string, err: RegistryError): RegistryError {
  return new RegistryError('REGISTRY', `${host} started an upload, then answered 404 at the upload Location it gave ("${redactUrl(location).slice(0, 200)}", ${err.method ?? 'PUT'} ${err.url ?? ''})`, {
    method: err.method,
    url: err.url,
    status: err.status,
    ociCode: err.ociCode,
    ociMessage: err.ociMessage,
    retryable: true,
    cause: err,
    hint: 'the registry or a proxy in front of it sent an upload Location that leads nowhere: check the proxy (it must pass Location headers through, or rewrite them to its own address), or report it to the registry owner',
  });
}

/** The PUT that ends an upload could not reach the other address the registry's Location named. */
const UPLOAD_UNREACHABLE_HINT =
  "the registry (or a proxy in front of it) hands out upload Locations on an address this machine cannot reach, often its own internal one behind a reverse proxy: make it name the address clients use (distribution's http.host), or have the proxy rewrite Location; report it to the registry owner";

/** An upload Location on another origin refused the PUT (asked for credentials, or sent it on). */
const UPLOAD_ELSEWHERE_HINT =
  "the registry (or a proxy in front of it) hands out upload Locations on another address than the one packpub was given, where the registry's credentials do not go: make it name the address clients use (distribution's http.host, or the proxy's X-Forwarded-Host), or have the proxy rewrite Location; report it to the registry owner";

/**
 * The hint for an upload Location on another origin that failed: `otherwise`, unless it is the registry's own host
 * name over http while the registry is reached over https, the mark of a proxy that terminates TLS without telling
 * the registry (distribution then writes the scheme it sees into Location).
 */
function uploadElsewhereHint(registry: URL, location: URL, otherwise: string): string {
  if (location.protocol !== 'http:' || registry.protocol !== 'https:' || location.hostname !== registry.hostname) return otherwise;
  return `the registry sits behind a proxy that terminates TLS without telling it so, and names http:// in its upload Locations: have the proxy send X-Forwarded-Proto: https (nginx: proxy_set_header X-Forwarded-Proto $scheme), or set distribution's http.host to ${registry.origin}; report it to the registry owner`;
}

const OTHER_CONTENT_HINT_AFTER_RETRY = 'the registry or something between it and packpub (a proxy, a cache) served other content on two attempts: bypass the proxy or cache, and report it to the registry owner';
const ERROR_AS_SUCCESS_HINT = 'the registry or a proxy in front of it answers errors with a success status, so packpub cannot tell what is published: bypass the proxy, or report it to the registry owner';

/**
 * What a conditional manifest read returns for a 304 that names another manifest than the one offered (its ETag or
 * Docker-Content-Digest another digest): the answer contradicts itself (a 304 validates the representation it
 * names, RFC 9110 15.4.5), so the manifest is read again without the condition. Taken as "unchanged" before, a
 * cache or proxy answering so made push call a moved version unchanged, exit 0.
 */
const CONTRADICTED_304: FetchedManifest = Object.freeze({ descriptor: Object.freeze({ mediaType: '', digest: 'sha256:' as Digest, size: 0 }), bytes: Buffer.alloc(0) });

/** Whether a 304 answer's ETag or Docker-Content-Digest names a digest other than `offered`. */
function namesAnotherManifest(res: HttpResponse, offered: Digest): boolean {
  const etag = getHeader(res, 'etag')?.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
  const header = digestHeader(res);
  return [etag, header].some((named) => named !== undefined && isDigest(named) && named !== offered);
}

/**
 * A registry's answer to a mount request that means "not this way" rather than "failed": a 4xx other than
 * 408 and 429 (no pull on the source, no mount support, a source it does not know). The upload is then
 * made as usual; credentials that are simply wrong fail there with their own message.
 */
function isMountRefusal(err: unknown): boolean {
  if (!isRegistryError(err) || err.status === undefined) return false;
  return err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 429;
}

/** Stop reading a body we no longer want, without an unhandled 'error' event from the destroyed stream. */
function abandon(body: Readable): void {
  if (body.destroyed) return;
  body.on('error', () => undefined);
  body.destroy();
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Where a redirect sent a request to the registry's API when it went to the same path on another origin: the registry
 * answers there (it moved, or it sends plain HTTP to HTTPS, as Harbor's nginx does), not blob storage (a signed URL of
 * a path of its own). The redirect was followed (`res.url`), or it was a write's, which is not (its Location).
 */
function registryMovedTo(asked: URL, res: HttpResponse): URL | undefined {
  let to = res.url;
  if (to.origin === asked.origin) {
    const location = REDIRECTS.has(res.status) ? getHeader(res, 'location') : undefined;
    if (location === undefined) return undefined;
    try {
      to = new URL(location, asked);
    } catch {
      return undefined;
    }
  }
  if (to.protocol !== 'http:' && to.protocol !== 'https:') return undefined;
  // A blob's download sent elsewhere is storage's or a CDN's, whatever its path (the moved registry's first answer is another call's).
  const blob = /\/blobs\/[^/]+$/.test(asked.pathname);
  return !blob && to.origin !== asked.origin && to.pathname === asked.pathname && asked.pathname.startsWith('/v2/') ? to : undefined;
}

/** What a storage service's error body says: an OCI error, or S3's XML `<Code>` and `<Message>`; undefined when neither. */
function storageWords(body: Buffer): string | undefined {
  const oci = errorBodyOf(body);
  if (oci !== undefined) return oci;
  const text = body.toString('utf8');
  const code = /<Code>([^<]{1,100})<\/Code>/.exec(text)?.[1];
  const message = /<Message>([^<]{1,200})<\/Message>/.exec(text)?.[1];
  if (code === undefined) return undefined;
  return shown(message === undefined ? code : `${code}: ${message}`);
}

function formatSeconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/** One registry call: what to send, which statuses are success, and context for error messages. */
export interface CallSpec {
  method: HttpMethod;
  url: URL;
  headers?: Record<string, string>;
  body?: RequestBody;
  /** Statuses returned to the caller; anything else becomes a typed error. */
  expect: readonly number[];
  scopes?: readonly string[];
  repository?: string;
  intent?: Intent;
  /** For messages: `manifest 1.0.0`, `blob sha256:...`. */
  subject?: string;
  followRedirects?: boolean;
  signal?: AbortSignal;
}

export type { ClientDeps, RegistryClientOptions } from './stack.js';

export interface ListOptions {
  /** `n` per page, 1..1000 (default 1000). */
  pageSize?: number;
  signal?: AbortSignal;
}

function validateReference(reference: string): string {
  if (reference.startsWith('sha256:')) return parseDigest(reference);
  return validateTag(reference, 'reference');
}

function mediaTypeOf(contentType: string | undefined): string | undefined {
  const t = contentType?.split(';')[0]?.trim();
  return t === undefined || t === '' ? undefined : t;
}

/**
 * The list again in pages the registry takes, where it refused the page size asked: Quay (quay/quay#2884) answers
 * `n` above its maximum 413 TOO_MANY_TAGS_REQUESTED "Too many tags requested; requested limit 1000 is too high, max
 * is 100" rather than a shorter page with a Link (the OCI spec asks registries to take at least n=100). Every tag list
 * of `list`, `copy --all` and `palette sync` failed there, hinted as a request body too large. Undefined: not that.
 */
function smallerPages(err: unknown, first: URL): URL | undefined {
  if (!isRegistryError(err) || (err.status !== 413 && err.ociCode !== 'TOO_MANY_TAGS_REQUESTED')) return undefined;
  const asked = Number(first.searchParams.get('n') ?? '');
  const max = Number(/\bmax(?:imum)? is (\d+)/i.exec(err.ociMessage ?? '')?.[1] ?? 100);
  if (!(asked > max) || !(max >= 1)) return undefined;
  const url = new URL(first.href);
  url.searchParams.set('n', String(max));
  return url;
}

function checkPageSize(n: number | undefined): number {
  const size = n ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(size) || size < 1 || size > 1000) {
    throw new PackpubError('USAGE', `page size must be a whole number from 1 to 1000, got ${size}`);
  }
  return size;
}

/**
 * A typed client for the OCI distribution API (distribution-spec v1.0) on one registry host. Layers, outside
 * in: retry (./retry.ts) -> auth (./auth/session.ts) -> transport (./http.ts). Each call is retried as a
 * whole, so a retried upload re-opens its body and re-authenticates when needed.
 */
export class RegistryClient {
  readonly host: string;
  readonly transport: HttpTransport;
  readonly session: AuthSession;
  readonly retry: RetryPolicy;
  private readonly origin: URL;
  /** `origin.origin`, read once: every attempt compares a URL's origin with it. */
  private readonly originText: string;
  private readonly debug: ((line: string) => void) | undefined;
  /** Repositories this run pushes to: their token scope is `pull,push` from the first request on. */
  private readonly pushRepositories = new Set<string>();
  /** The repository this run's uploads may mount blobs from (declareMountSource). */
  private mountSource: string | undefined;
  /** The registry refused a mount once (or the credentials do not reach the source): upload as usual from then on. */
  private mountRefused = false;
  /** requestWithinDeadline's controllers, reused (retry.ts). */
  private readonly deadlines = new DeadlineControllers();
  /** notFoundOnRegistry's one look at `GET /v2/`: the 404 it answered, or undefined when it is a registry API. */
  private apiChecked: Promise<RegistryError | undefined> | undefined;

  constructor(readonly stack: RegistryStack) {
    this.host = stack.host;
    this.transport = stack.transport;
    this.session = stack.auth;
    this.retry = stack.retry;
    this.debug = stack.debug;
    this.origin = new URL(stack.transport.origin(stack.host));
    this.originText = this.origin.origin;
  }

  /** The client for `options.host`, on a stack of its own (createRegistryStack). */
  static create(options: RegistryClientOptions, deps: ClientDeps = {}): RegistryClient {
    return new RegistryClient(createRegistryStack(options, deps));
  }

  /** An absolute URL on the registry for a path like `/v2/`. */
  url(path: string): URL {
    return new URL(path, this.origin);
  }

  /** Ask for `pull,push` on this repository from the first request on (Helm #31117: asking pull first breaks pushes). */
  declarePush(repository: string): void {
    this.pushRepositories.add(repository);
  }

  /**
   * Blobs pushed in this run may be mounted from `repository` (uploadBlob `mountFrom`): every push token asks
   * for `pull` on it too from the first request on, so a mount needs no token of its own.
   */
  declareMountSource(repository: string): void {
    validateRepositoryPath(repository);
    this.mountSource = repository;
  }

  scopesFor(repository: string, intent: Intent): string[] {
    if (intent === 'delete') return [repositoryScope(repository, ['delete'])];
    if (intent === 'push' || this.pushRepositories.has(repository)) {
      const own = repositoryScope(repository, ['pull', 'push']);
      const source = this.mountSource;
      return source === undefined || source === repository ? [own] : [own, repositoryScope(source, ['pull'])];
    }
    return [repositoryScope(repository, ['pull'])];
  }

  /** One attempt (under `signal`), auth and transport, then status check. Throws the mapped error for unexpected statuses. */
  private async attempt(spec: CallSpec, attempt: number, signal = spec.signal): Promise<AuthedResponse> {
    const res = await this.send(spec, attempt, signal);
    return spec.expect.includes(res.status) ? res : this.refuse(spec, res, attempt);
  }

  /** attempt()'s exchange, without its status check. */
  private send(spec: CallSpec, attempt: number, signal: AbortSignal | undefined): Promise<AuthedResponse> {
    // Credentials and tokens only go to the registry's own origin (an upload Location could point elsewhere).
    if (spec.url.origin === this.originText) return this.session.send({ ...spec, signal, attempt });
    return this.transport.request({ ...spec, signal, attempt }).then((res) => ({ ...res, auth: { scheme: 'none' as const, credentialSent: false } }));
  }

  /** The mapped error for an answer whose status `spec` does not expect (thrown, after its body is read or dropped). */
  private async refuse(spec: CallSpec, res: AuthedResponse, attempt: number): Promise<never> {
    const body = spec.method === 'HEAD' ? Buffer.alloc(0) : await readErrorBody(res.body);
    if (spec.method === 'HEAD') await discardBody(res);
    // An answer from where a redirect led (a blob's storage, ECR -> S3) is that server's, not the registry's.
    const elsewhere = res.url.origin !== spec.url.origin;
    const moved = res.status === 401 || REDIRECTS.has(res.status) ? registryMovedTo(spec.url, res) : undefined;
    if (moved !== undefined) throw this.movedAway(spec, res.status, moved);
    if (elsewhere && (res.status === 401 || res.status === 403)) {
      const where = `${res.url.host}, where ${this.host} redirected ${spec.subject ?? redactUrl(spec.url)},`;
      if (res.status === 401) {
        throw new RegistryError('AUTH', `${where} asks for authentication; ${this.host}'s credentials go to ${this.host} only`, {
          method: spec.method,
          url: res.url,
          status: 401,
          hint: 'a registry sends downloads to storage that needs no credentials of its own (a signed URL); report it to the registry owner',
        });
      }
      // Was "credentials rejected or no pull permission": an S3 signed URL refused (expired, a clock off) is no credential of the user's.
      const said = storageWords(body);
      throw new RegistryError('REGISTRY', `${where} refused it (403${said === undefined ? '' : ` ${said}`})`, {
        method: spec.method,
        url: res.url,
        status: 403,
        hint: "the registry sent the download there with a signed URL, which was refused: check this machine's clock (a signed URL expires), try again, and report it to the registry owner if it persists",
      });
    }
    throw errorFromResponse({
      method: spec.method,
      url: res.url,
      status: res.status,
      host: elsewhere ? res.url.host : this.host,
      body,
      repository: spec.repository,
      subject: spec.subject,
      intent: spec.intent,
      auth: res.auth,
      retryAfterMs: res.status === 429 || res.status === 503 ? parseRetryAfter(getHeader(res, 'retry-after'), this.retry.clock.now(), Infinity) : undefined,
      attempts: attempt,
      plainHttpFlag: this.stack.plainHttpFlag,
      allow: res.status === 405 ? getHeader(res, 'allow') : undefined,
    });
  }

  /**
   * The registry's API redirected to the same path on another origin (movedTo), where it asks for credentials, or a
   * write's redirect that is not followed. It read "<there>, where <host> redirected manifest 1.0.0, asks for
   * authentication; ..." with a hint about blob storage (or "answered 301 ..., a status a registry does not give"):
   * said as the registry answering at that address, which is the one to give (credentials go to the address given only).
   */
  private movedAway(spec: CallSpec, status: number, to: URL): RegistryError {
    const upgrade = spec.url.protocol === 'http:' && to.protocol === 'https:' && to.hostname === spec.url.hostname;
    const there = `${to.origin}${upgrade ? ' (plain HTTP to HTTPS)' : ''}`;
    const flags = plainHttpFlags(this.stack.plainHttpFlag);
    const at = to.host === spec.url.host ? '' : ` at ${to.host}`;
    const message =
      status === 401
        ? `${this.host} redirects its registry API to ${there}, which asks for authentication: packpub sends ${this.host}'s credentials to ${this.originText} only`
        : `${this.host} answered ${status} to ${spec.method} of ${spec.subject ?? redactUrl(spec.url)}, redirecting its registry API to ${there}: a write does not follow a ${status} (it would be sent on as a GET)`;
    return new RegistryError('REGISTRY', message, {
      method: spec.method,
      url: spec.url,
      status,
      hint: upgrade
        ? `reach the registry over HTTPS${at}: ${this.transport.plainHttpExplicit ? `drop ${flags.on}` : `pass ${flags.off}`} (its credentials then go there)`
        : `the registry answers at ${to.host}: give that address instead of ${this.host} (its credentials then go there)`,
    });
  }

  /**
   * Send a call with retries, auth and error mapping; `consume` reads the response inside the retried unit
   * (a reset while reading a manifest body retries the GET). Exposed for the Harbor REST client and tests.
   * With `goneOnRetry` (a delete), a "not found" after an earlier attempt that may have acted answers that value.
   */
  request<T>(spec: CallSpec, consume: (res: AuthedResponse) => Promise<T>, gone?: { goneOnRetry: T }): Promise<T> {
    return this.requestWith(spec, spec.signal, consume, gone);
  }

  /** `request` under `signal` instead of `spec.signal`. */
  private requestWith<T>(spec: CallSpec, signal: AbortSignal | undefined, consume: (res: AuthedResponse) => Promise<T>, gone?: { goneOnRetry: T }): Promise<T> {
    return this.retry.run(async (n, earlierMayHaveActed) => {
      let res: AuthedResponse;
      try {
        // attempt() inlined: one async frame less per request (issue 16)
        res = await this.send(spec, n, signal);
        if (!spec.expect.includes(res.status)) await this.refuse(spec, res, n);
      } catch (err) {
        if (gone !== undefined && deletedByEarlierAttempt(isRegistryError(err) && err.code === 'NOT_FOUND', earlierMayHaveActed)) return gone.goneOnRetry;
        throw err;
      }
      try {
        return await consume(res);
      } catch (err) {
        if (!res.body.destroyed) res.body.destroy();
        throw errorFromNetwork(err, { method: spec.method, url: res.url });
      }
    }, signal);
  }

  /**
   * `request` for a small document (manifest, tag page) that must arrive whole within the retry deadline: a
   * body dripping in a byte at a time never trips the per-chunk timeout, so one timer bounds the attempts,
   * their backoff and the body read together (as fetchBlob does for a blob).
   */
  private async requestWithinDeadline<T>(spec: CallSpec, consume: (res: AuthedResponse) => Promise<T>, leftMs = this.retry.deadlineMs): Promise<T> {
    const deadline = this.deadlines.take();
    const timer = setTimeout(
      () => deadline.abort(new PackpubError('NETWORK', `${spec.subject ?? spec.url.pathname} from ${this.host} did not arrive within the retry deadline of ${formatSeconds(this.retry.deadlineMs)}`, { hint: STALL_HINT })),
      leftMs,
    );
    timer.unref();
    // The caller's signal aborts the deadline's too: the call runs under that one signal.
    const unfollow = this.deadlines.follow(deadline, spec.signal);
    try {
      return await this.requestWith(spec, deadline.signal, consume);
    } catch (err) {
      throw deadline.signal.aborted && spec.signal?.aborted !== true ? deadline.signal.reason : err;
    } finally {
      clearTimeout(timer);
      unfollow();
      this.deadlines.release(deadline);
    }
  }

  /** `GET /v2/`: the registry answers and accepts our credentials. */
  async ping(signal?: AbortSignal): Promise<void> {
    await this.request({ method: 'GET', url: this.url('/v2/'), expect: [200], ...(signal ? { signal } : {}) }, discardBody);
  }

  private repoUrl(repository: string, rest: string): URL {
    validateRepositoryPath(repository);
    // One parse of the whole URL (no base URL to serialize and resolve against): the path is absolute and valid.
    return new URL(`${this.originText}/v2/${repository}/${rest}`);
  }

  /** What every call on one thing of `repository` carries: its URL (`/v2/<repo>/<rest>`), the token scopes of `intent`, and the subject messages name. */
  private repoCall(repository: string, rest: string, subject: string, intent: Intent, signal: AbortSignal | undefined): Omit<CallSpec, 'method' | 'expect'> {
    return { url: this.repoUrl(repository, rest), scopes: this.scopesFor(repository, intent), repository, intent, subject, ...(signal ? { signal } : {}) };
  }

  /** A request about one blob of `repository` (`/v2/<repo>/blobs/<digest>`), with the scope a push or a pull of it has. */
  private blobCall(repository: string, digest: Digest, signal: AbortSignal | undefined, call: Pick<CallSpec, 'method' | 'expect'> & Partial<CallSpec>): CallSpec {
    parseDigest(digest);
    const intent: Intent = this.pushRepositories.has(repository) ? 'push' : 'pull';
    return { ...this.repoCall(repository, `blobs/${digest}`, `blob ${digest}`, intent, signal), ...call };
  }

  /** `HEAD /v2/<repo>/blobs/<digest>`. */
  async blobExists(repository: string, digest: Digest, signal?: AbortSignal): Promise<boolean> {
    const spec = this.blobCall(repository, digest, signal, { method: 'HEAD', expect: [200, 404] });
    return this.request(spec, async (res) => {
      await discardBody(res);
      return res.status === 200;
    });
  }

  /**
   * Whether the repository serves the blob: a GET of its first byte (`Range: bytes=0-0`), for a blob a HEAD said it
   * holds (a cache or proxy in front of a registry can say so of a blob the registry lost or never had, and a
   * registry may take a manifest naming blobs it lacks). False for a 404 only; any other answer, or a failure (a 403
   * to an identity that may push but not pull), leaves it to the HEAD's word. A server ignoring Range sends the whole
   * blob, of which a bounded part is read before the connection is dropped (discardBody).
   */
  async blobServed(repository: string, digest: Digest, signal?: AbortSignal): Promise<boolean> {
    const spec = this.blobCall(repository, digest, signal, { method: 'GET', headers: { range: 'bytes=0-0' }, expect: [200, 206, 404], followRedirects: true });
    return this.request(spec, async (res) => {
      await discardBody(res);
      return res.status !== 404;
    }).catch((err: unknown) => {
      this.debug?.(`could not read the first byte of blob ${digest} in ${repository} (${errorMessage(err)}); taking the registry's word that it holds it`);
      return true;
    });
  }

  /**
   * Upload a blob as ORAS 1.0 does: `POST /v2/<repo>/blobs/uploads/`, then one monolithic `PUT <Location>`
   * with `digest=` added (oras-1.0-push.md; never PATCH). A failed attempt starts over with a new upload
   * session and a fresh stream from `open`, after checking that the blob did not arrive after all.
   *
   * With `mountFrom`, the POST first asks the registry to mount the blob from that repository of the same
   * registry (`?mount=<digest>&from=<repo>`, distribution-spec "Mounting a blob from another repository"):
   * `201 Created` means the repository now holds it, nothing is sent. A registry that does not mount
   * answers `202` and an upload session, which takes the bytes as usual. One that refuses the mount (a
   * 4xx: no pull on the source, no mount support), or answers its 202 without a Location to upload to, is
   * asked again without it, and not asked to mount again in this run.
   */
  async uploadBlob(
    repository: string,
    descriptor: Pick<Descriptor, 'digest' | 'size'>,
    open: () => Readable,
    given?: AbortSignal,
    mountFrom?: string,
  ): Promise<void> {
    const digest = parseDigest(descriptor.digest);
    if (!Number.isSafeInteger(descriptor.size) || descriptor.size < 0) {
      throw new PackpubError('INTERNAL', `blob ${digest} has an invalid size ${descriptor.size}`);
    }
    this.declarePush(repository);
    // --retry-deadline bounds the upload whole, every attempt included, as it bounds a download: a registry that reads
    // the body at a trickle (each piece within --request-timeout) held the push for as long as it kept reading.
    const deadline = this.deadlines.take();
    const timer = setTimeout(
      () => deadline.abort(new PackpubError('NETWORK', `the upload of blob ${digest} to ${this.host} did not end within the retry deadline of ${formatSeconds(this.retry.deadlineMs)}`, { hint: STALL_HINT })),
      this.retry.deadlineMs,
    );
    timer.unref();
    // The caller's signal aborts the deadline's too: the upload runs under that one signal.
    const unfollow = this.deadlines.follow(deadline, given);
    try {
      await this.uploadWithin(repository, digest, descriptor.size, open, deadline.signal, mountFrom);
    } catch (err) {
      throw deadline.signal.aborted && given?.aborted !== true ? deadline.signal.reason : err;
    } finally {
      clearTimeout(timer);
      unfollow();
      this.deadlines.release(deadline);
    }
  }

  /** uploadBlob's attempts, under `signal` (the caller's and the deadline's). */
  private async uploadWithin(repository: string, digest: Digest, size: number, open: () => Readable, signal: AbortSignal, mountFrom: string | undefined): Promise<void> {
    const common = {
      scopes: this.scopesFor(repository, 'push'),
      repository,
      intent: 'push' as const,
      subject: `blob ${digest}`,
      // A 307 or 308 to the POST or the PUT is followed with the same request (distribution-spec 1.1 lets a registry
      // redirect any request: GHCR redirects upload starts, registries on object storage the PUT); credentials only
      // to the registry's own origin (http.ts). Before, "answered 307 ..., a status a registry does not give".
      followRedirects: true,
      signal,
    };
    const uploadsUrl = this.repoUrl(repository, 'blobs/uploads/');
    const mountUrl = (from: string): URL => {
      const url = new URL(uploadsUrl);
      url.searchParams.set('mount', digest);
      url.searchParams.set('from', validateRepositoryPath(from, 'mount source'));
      return url;
    };
    await this.retry.run(async (n) => {
      if (n > 1 && (await this.existsOnce(repository, digest, signal))) return;
      const start = { ...common, method: 'POST' as const, expect: [202, 201] };
      let post: AuthedResponse | undefined;
      if (mountFrom !== undefined && mountFrom !== repository && !this.mountRefused) {
        const sourceScope = repositoryScope(mountFrom, ['pull']);
        const scopes = common.scopes.includes(sourceScope) ? common.scopes : [...common.scopes, sourceScope];
        post = await this.attempt({ ...start, url: mountUrl(mountFrom), scopes }, n).catch((err: unknown) => {
          if (!isMountRefusal(err)) throw err;
          this.mountRefused = true;
          this.debug?.(`mounting ${digest} from ${mountFrom} refused (${errorMessage(err)}); uploading instead`);
          return undefined;
        });
        // A 202 to a mount means "not mounted, upload here" (distribution-spec): without a Location there is
        // no "here", so start an upload of its own, as after a refused mount.
        if (post?.status === 202 && (getHeader(post, 'location') ?? '').trim() === '') {
          await discardBody(post);
          this.mountRefused = true;
          this.debug?.(`mounting ${digest} from ${mountFrom} answered 202 without a Location; uploading instead`);
          post = undefined;
        }
        if (post?.status === 201) {
          if (await this.startAnsweredHeld(post, digest, repository, signal)) return; // mounted
          // A 201 naming no blob, for a blob the repository does not hold: the mount did not take. Uploaded instead
          // (before, nothing was sent, and a registry that took the manifest was left without the blob: exit 0).
          this.mountRefused = true;
          this.debug?.(`mounting ${digest} from ${mountFrom} answered 201, but ${repository} does not hold it; uploading instead`);
          post = undefined;
        }
      }
      post ??= await this.attempt({ ...start, url: uploadsUrl }, n);
      await discardBody(post);
      if (post.status === 201) {
        // The distribution-spec gives a POST without `digest=` a 202 only: a 201 says the registry has the blob already.
        if (await this.startAnsweredHeld(post, digest, repository, signal, true)) return;
        throw new PackpubError('REGISTRY', `${this.host} answered 201 to the start of an upload of blob ${digest} to ${repository}, but does not hold that blob`, {
          hint: 'the registry or a proxy in front of it says it took the blob without being sent it, and did not; report it to the registry owner',
        });
      }
      const given = getHeader(post, 'location');
      const location = withDigestParam(resolveLocation(given, post.url), digest);
      const put = await this.attempt(
        {
          ...common,
          method: 'PUT',
          url: location,
          headers: { 'content-type': MEDIA_TYPE_OCTET_STREAM },
          body: { open, length: size },
          expect: [201],
        },
        n,
      ).catch((err: unknown) => {
        if (isRegistryError(err) && err.status === 404) throw uploadLocationUnknown(this.host, given ?? '', err);
        if (location.origin === this.originText) throw err;
        const status = isRegistryError(err) ? err.status : undefined;
        // Refused there for want of credentials (which go to the registry's own origin only) or sent on (a redirect
        // that is no 307/308): was "authentication required ...; pass --username" with credentials given, or "answered
        // 301 to PUT ..., a status a registry does not give".
        if (status === 401 || status === 403 || (status !== undefined && status >= 300 && status < 400)) {
          throw new RegistryError('REGISTRY', `${this.host} started an upload at another address (${location.origin}), which answered ${status} to the PUT: packpub sends ${this.host}'s credentials to ${this.originText} only`, {
            method: 'PUT',
            url: location,
            status,
            cause: err,
            hint: uploadElsewhereHint(this.origin, location, UPLOAD_ELSEWHERE_HINT),
          });
        }
        throw unreachableHandedOut(err, `${this.host} started an upload at another address (${location.host}), which packpub could not reach`, uploadElsewhereHint(this.origin, location, UPLOAD_UNREACHABLE_HINT));
      });
      await discardBody(put);
      this.storedAs(put, digest, repository);
      // A 201 that names neither where the blob now is (Location: the distribution-spec's MUST) nor what was stored
      // says nothing about the blob (a proxy answering for the registry): asked, as an upload sent elsewhere is below.
      // Before, a registry taking manifests naming blobs it lacks was left with a tag over missing blobs, exit 0.
      if (put.url.origin === this.originText && (getHeader(put, 'location') ?? '').trim() === '' && digestHeader(put) !== digest && !(await this.existsOnce(repository, digest, signal))) {
        throw new PackpubError('REGISTRY', `${this.host} answered 201 to the upload of blob ${digest} to ${repository} without a Location or a digest, and does not hold that blob`, {
          hint: 'the registry or a proxy in front of it says it stored the blob, and did not; push again, and report it to the registry owner if it persists',
        });
      }
      // An upload sent to another origin (without credentials; by its Location, or by a redirect of the PUT) landed
      // there: the registry must now hold it, or the manifest would be tagged over a blob it does not have (a
      // registry that checks says MANIFEST_BLOB_UNKNOWN; one that does not would have been left broken, exit 0).
      if (put.url.origin !== this.originText && !(await this.existsOnce(repository, digest, signal))) {
        throw new PackpubError('REGISTRY', `${this.host} sent the upload of blob ${digest} to another server (${put.url.origin}), which accepted it, but ${this.host} does not hold it`, {
          hint: 'the registry or a proxy in front of it hands out upload Locations on another server; check the proxy, or report it to the registry owner',
        });
      }
    }, signal);
  }

  /**
   * An upload's 201 names the blob stored in its `Docker-Content-Digest` (distribution-spec "Pushing blobs"):
   * one naming another digest stored other bytes than were sent, or mounted another blob. Before, the push
   * went on and tagged a manifest whose layer the registry says it does not hold as sent (exit 0).
   */
  private storedAs(res: AuthedResponse, digest: Digest, repository: string): void {
    const said = digestHeader(res);
    if (said === undefined || said === '' || said === digest) return;
    throw new PackpubError('DIGEST_MISMATCH', `${this.host} answered the upload of blob ${digest} to ${repository} naming another digest (${said.slice(0, 100)})`, {
      hint: 'the registry or a proxy in front of it stored other content than packpub sent; push again, and report it to the registry owner if it persists',
    });
  }

  /**
   * Whether the repository holds the blob after a 201 to the POST that starts its upload: a 201 naming another blob is
   * DIGEST_MISMATCH (storedAs); one naming this blob is taken at its word (distribution and Harbor name it when they
   * mount); otherwise (`always`: in any case) the registry is asked (HEAD).
   */
  private async startAnsweredHeld(post: AuthedResponse, digest: Digest, repository: string, signal: AbortSignal | undefined, always = false): Promise<boolean> {
    await discardBody(post);
    this.storedAs(post, digest, repository);
    if (!always && digestHeader(post) === digest) return true;
    return this.existsOnce(repository, digest, signal);
  }

  private async existsOnce(repository: string, digest: Digest, signal?: AbortSignal): Promise<boolean> {
    const res = await this.attempt(
      {
        method: 'HEAD',
        url: this.repoUrl(repository, `blobs/${digest}`),
        expect: [200, 404],
        scopes: this.scopesFor(repository, 'push'),
        repository,
        intent: 'push',
        ...(signal ? { signal } : {}),
      },
      1,
    );
    await discardBody(res);
    return res.status === 200;
  }

  /** One blob GET from byte `offset` on (`Range`, RFC 9110 14.2), retried as a whole until the headers arrive. */
  private async openBlob(
    repository: string,
    digest: Digest,
    size: number,
    offset: number,
    signal: AbortSignal | undefined,
    budget: RetryBudget,
  ): Promise<{ body: Readable; skip: number; url: URL; coding: string | undefined }> {
    const res = await this.retry.run(
      (n) =>
        this.attempt(
          {
            method: 'GET',
            url: this.repoUrl(repository, `blobs/${digest}`),
            ...(offset > 0 ? { headers: { range: `bytes=${offset}-` } } : {}),
            expect: offset > 0 ? RESUME_STATUSES : OK,
            scopes: this.scopesFor(repository, 'pull'),
            repository,
            intent: 'pull',
            subject: `blob ${digest}`,
            followRedirects: true,
            ...(signal ? { signal } : {}),
          },
          n,
        ),
      signal,
      budget,
    );
    if (res.status === 416) {
      // Range Not Satisfiable for a range inside the blob: the server (or the storage a registry redirects to) does not
      // serve ranges of it. The whole blob again, the bytes delivered skipped, as from a server that ignores Range.
      await discardBody(res);
      this.debug?.(`blob ${digest}: resuming at byte ${offset} answered 416; asking for the whole blob`);
      return { ...(await this.openBlob(repository, digest, size, 0, signal, budget)), skip: offset };
    }
    const announced = getHeader(res, 'content-length');
    const range = res.status === 206 ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(getHeader(res, 'content-range')?.trim() ?? '') : undefined;
    // Taken as sent: a gzip layer labelled `Content-Encoding: x-gzip` (Apache httpd) is the blob itself; its digest judges.
    const coding = contentCoding(res);
    const mismatch = (why: string) => {
      abandon(res.body);
      return new PackpubError('DIGEST_MISMATCH', `blob ${digest} ${why}${codingSaid(coding)}`, { hint: OTHER_CONTENT_HINT });
    };
    if (range === null || (range !== undefined && (Number(range[1]) !== offset || Number(range[2]) !== size - 1))) {
      throw mismatch(`was resumed from ${offset} with a wrong range ${getHeader(res, 'content-range') ?? '(none)'}`);
    }
    const expected = res.status === 206 ? size - offset : size;
    if (announced !== undefined && Number(announced) !== expected) {
      throw mismatch(`is ${announced} bytes on ${this.host}, its descriptor says ${expected}`);
    }
    // A registry that ignores Range answers 200 with the whole blob: skip what was already delivered.
    return { body: res.body, skip: res.status === 206 ? 0 : offset, url: res.url, coding };
  }

  /**
   * `GET /v2/<repo>/blobs/<digest>`: the body as a stream. Redirects (ECR -> S3) are followed without
   * credentials. A connection lost mid-body is resumed where it stopped (a `Range` request, or the whole
   * blob again with the delivered bytes skipped), so a consumer sees one unbroken stream, verified against
   * the descriptor (oci/digest.ts `verifying`): reading it to the end proves the content; otherwise it
   * errors with DIGEST_MISMATCH. The request and its resumes share one retry budget (RetryBudget): failed
   * requests and cut-off bodies count together against the attempts while no byte arrives (a stream that
   * keeps delivering is not failing), and the retry deadline bounds the whole download, every retry,
   * resume and stalled body included. More bytes than the descriptor says stop the stream at once.
   */
  async fetchBlob(repository: string, descriptor: Pick<Descriptor, 'digest' | 'size'>, signal?: AbortSignal): Promise<Readable> {
    const digest = parseDigest(descriptor.digest);
    const size = descriptor.size;
    const retry = this.retry;
    const host = this.host;
    const budget = retry.budget();
    const deadlineAt = budget.deadlineAt;
    let delivered = 0;
    const overdue = () =>
      new PackpubError('NETWORK', `blob ${digest} from ${host} did not arrive within the retry deadline of ${formatSeconds(retry.deadlineMs)} (${delivered} of ${size} bytes received)`, {
        hint: STALL_HINT,
      });
    // One timer for the whole download: it aborts a request waiting for headers, a backoff sleep, or a body that stalls.
    const deadline = this.deadlines.take();
    const timer = setTimeout(() => deadline.abort(overdue()), Math.max(0, deadlineAt - retry.clock.now()));
    timer.unref();
    const both = signal === undefined ? deadline.signal : AbortSignal.any([signal, deadline.signal]);
    const failed = (err: unknown): unknown => (deadline.signal.aborted && signal?.aborted !== true ? deadline.signal.reason : err);
    let first: { body: Readable; skip: number; url: URL; coding: string | undefined };
    try {
      first = await this.openBlob(repository, digest, size, 0, both, budget).catch(async (err: unknown) => {
        if (deadline.signal.aborted) throw err;
        // An answer of another length than the descriptor's is not this blob (a cache or a proxy on the way answered):
        // a GET is safe to repeat, so once more before failing, as a manifest read is.
        if (isPackpubError(err, 'DIGEST_MISMATCH')) {
          this.debug?.(`${errorMessage(err)}; asking for the blob once more`);
          return this.openBlob(repository, digest, size, 0, both, budget);
        }
        // A blob a manifest names, not there: a replica that has not caught up with a push yet (registry nodes behind a
        // load balancer, storage replicated after the manifest) serves it a moment later. Read again after the
        // backoff's pauses (about 0.25, 0.5 and 1 s), as the read-back waits for a lagging tag; before, a pull right
        // after a push failed there ("not found ... push the pack again") where one a second later passed.
        if (!isPackpubError(err, 'NOT_FOUND')) throw err;
        for (let again = 0; ; again++) {
          await retry.clock.sleep(backoffDelayMs(again, () => retry.clock.random(), retry.initialDelayMs), both);
          this.debug?.(`${errorMessage(err)}; asking for the blob again (${again + 1} of ${BLOB_LAG_REREADS})`);
          try {
            return await this.openBlob(repository, digest, size, 0, both, budget);
          } catch (again404) {
            if (!isPackpubError(again404, 'NOT_FOUND') || again + 1 >= BLOB_LAG_REREADS) throw again404;
          }
        }
      });
    } catch (err) {
      clearTimeout(timer);
      throw failed(err);
    }
    const resume = (offset: number) => this.openBlob(repository, digest, size, offset, both, budget);
    const debug = this.debug;
    async function* bytes(): AsyncGenerator<Buffer> {
      let current = first;
      const onDeadline = () => current.body.destroy(deadline.signal.reason as Error);
      deadline.signal.addEventListener('abort', onDeadline);
      try {
        for (;;) {
          const before = delivered;
          try {
            let skip = current.skip;
            for await (const chunk of current.body) {
              let buf = chunk as Buffer;
              if (skip > 0) {
                const dropped = Math.min(skip, buf.length);
                skip -= dropped;
                buf = buf.subarray(dropped);
                if (buf.length === 0) continue;
              }
              delivered += buf.length;
              if (delivered > size) {
                throw new PackpubError('DIGEST_MISMATCH', `blob ${digest} from ${host} is longer than the ${size} bytes its descriptor says${codingSaid(current.coding)}`, { hint: OTHER_CONTENT_HINT });
              }
              yield buf;
            }
            if (skip > 0) throw new PackpubError('DIGEST_MISMATCH', `blob ${digest} ended before the ${current.skip} bytes already received`, { hint: OTHER_CONTENT_HINT });
            return;
          } catch (err) {
            abandon(current.body);
            if (deadline.signal.aborted || isPackpubError(err, 'DIGEST_MISMATCH')) throw failed(err);
            // current.url: after redirects, so the message names the host that dropped the connection
            const mapped = errorFromNetwork(err, { method: 'GET', url: current.url });
            if (delivered > before) budget.progressed();
            if (delivered >= size) throw mapped;
            const delayMs = retry.nextDelay(budget, mapped);
            if (delayMs === undefined) throw isRetryableError(mapped) && budget.failures < retry.attempts ? overdue() : mapped;
            debug?.(`resuming blob ${digest} at byte ${delivered} of ${size} in ${delayMs}ms after: ${mapped.message}`);
            try {
              await retry.clock.sleep(delayMs, both);
              current = await resume(delivered);
            } catch (e) {
              throw failed(e);
            }
          }
        }
      } finally {
        clearTimeout(timer);
        deadline.signal.removeEventListener('abort', onDeadline);
      }
    }
    return verified(Readable.from(bytes(), { objectMode: false }), { digest, size }, { note: () => codingSaid(first.coding) });
  }

  /** What every call on one manifest carries: its URL, the token scopes of `intent`, and the subject messages name. */
  private manifestCall(repository: string, reference: string, intent: Intent, signal: AbortSignal | undefined): Omit<CallSpec, 'method' | 'expect'> {
    validateReference(reference);
    return this.repoCall(repository, `manifests/${reference}`, `manifest ${reference}`, intent, signal);
  }

  /** A manifest read (GET or HEAD), accepting every manifest type. */
  private manifestSpec(method: HttpMethod, repository: string, reference: string, signal?: AbortSignal): CallSpec {
    const intent: Intent = this.pushRepositories.has(repository) ? 'push' : 'pull';
    return { method, ...this.manifestCall(repository, reference, intent, signal), headers: MANIFEST_READ_HEADERS, expect: OK };
  }

  /** `HEAD /v2/<repo>/manifests/<ref>`: the descriptor; throws NOT_FOUND when absent. */
  async headManifest(repository: string, reference: string, signal?: AbortSignal): Promise<Descriptor> {
    const found = await this.request(this.manifestSpec('HEAD', repository, reference, signal), async (res) => {
      await discardBody(res);
      const header = digestHeader(res);
      const digest = header !== undefined && isDigest(header) ? header : isDigest(reference) ? reference : undefined;
      const size = Number(getHeader(res, 'content-length'));
      const mediaType = mediaTypeOf(getHeader(res, 'content-type'));
      if (digest === undefined || mediaType === undefined || !Number.isSafeInteger(size)) return undefined;
      return { mediaType, digest, size };
    });
    // Some registries leave Docker-Content-Digest off HEAD answers: read the manifest instead.
    return found ?? (await this.getManifest(repository, reference, signal)).descriptor;
  }

  /**
   * `GET /v2/<repo>/manifests/<ref>`: bytes and descriptor; throws NOT_FOUND when absent and DIGEST_MISMATCH
   * when the bytes do not match the digest asked for or the `Docker-Content-Digest` sent.
   *
   * `known`: a manifest the caller holds whose bytes hash to its digest. The read is then conditional
   * (`If-None-Match: "<digest>"`, RFC 9110 13.1.2): a registry whose manifest ETag is the digest
   * (distribution, Harbor) answers 304 without a body when `reference` still resolves to that digest,
   * and `known` is the answer; any other answer is read as usual. Bytes that do not hash to the digest
   * are not offered.
   */
  async getManifest(repository: string, reference: string, signal?: AbortSignal, known?: FetchedManifest): Promise<FetchedManifest> {
    const offered = known !== undefined && isDigest(known.descriptor.digest) && sha256Digest(known.bytes) === known.descriptor.digest ? known : undefined;
    // --retry-deadline bounds the manifest read whole, the second read below included.
    const until = Date.now() + this.retry.deadlineMs;
    try {
      const read = await this.getManifestOnce(repository, reference, signal, undefined, offered);
      // A 304 naming another manifest than the one offered: read again, without the condition.
      return read === CONTRADICTED_304 ? await this.getManifestOnce(repository, reference, signal, until - Date.now()) : read;
    } catch (err) {
      if (isPackpubError(err, 'NOT_FOUND')) return this.notFoundOnRegistry(err, signal);
      // Bytes that do not hash to the digest asked for or announced were changed on the way (a proxy or cache
      // serving other content) or raced a tag move: a GET is safe to repeat, so once more before failing.
      if (!(isPackpubError(err, 'DIGEST_MISMATCH') || garbled.has(err as PackpubError)) || Date.now() >= until) throw err;
      this.debug?.(`${errorMessage(err)}; reading the manifest once more`);
    }
    try {
      return await this.getManifestOnce(repository, reference, signal, until - Date.now());
    } catch (err) {
      if (garbled.has(err as PackpubError)) throw new PackpubError('REGISTRY', `${(err as PackpubError).message} (twice in a row)`, { hint: OTHER_CONTENT_HINT_AFTER_RETRY, cause: err });
      if (!isPackpubError(err, 'DIGEST_MISMATCH')) throw err;
      throw new PackpubError('DIGEST_MISMATCH', `${err.message} (twice in a row)`, { hint: OTHER_CONTENT_HINT_AFTER_RETRY, cause: err });
    }
  }

  private async getManifestOnce(repository: string, reference: string, signal?: AbortSignal, leftMs?: number, known?: FetchedManifest): Promise<FetchedManifest> {
    const intent: Intent = this.pushRepositories.has(repository) ? 'push' : 'pull';
    // The ETag distribution sends for a manifest is its digest in quotes. no-cache: an HTTP cache on the way must
    // ask the registry (RFC 9111 5.2.1.4), not answer 304 from a copy of what the tag held before it moved.
    const call: CallSpec = {
      method: 'GET',
      ...this.manifestCall(repository, reference, intent, signal),
      headers: known === undefined ? MANIFEST_READ_HEADERS : { ...MANIFEST_READ_HEADERS, 'if-none-match': `"${known.descriptor.digest}"` },
      expect: known === undefined ? OK : NOT_MODIFIED_OR_OK,
    };
    return this.requestWithinDeadline(call, async (res) => {
      if (res.status === 304 && known !== undefined) {
        await discardBody(res);
        return namesAnotherManifest(res, known.descriptor.digest) ? CONTRADICTED_304 : known;
      }
      const announced = Number(getHeader(res, 'content-length') ?? '0');
      // Read up to the limit whatever the length announced: a Content-Length past 4 MiB on a body cut short on the way (a
      // proxy's lie) ends as a cut-off answer, read again, not as "no pack" (list and copy --all went on without the version, exit 0).
      const bytes = await readBounded(res.body, MAX_MANIFEST_BYTES + 1);
      if (bytes.length > MAX_MANIFEST_BYTES) {
        throw oversizedManifest(`manifest ${reference} in ${repository} is ${announced > MAX_MANIFEST_BYTES ? `${announced} bytes, more` : 'larger'} than the 4 MiB limit`);
      }
      // Taken as sent (a label on unchanged bytes is harmless): by digest the digest judges; by tag, bytes that
      // are no JSON under a named coding were compressed on the way, and their digest is no version's (list).
      const coding = contentCoding(res);
      const said = codingSaid(coding);
      if (coding !== undefined && !isDigest(reference) && !isJson(bytes)) throw encodedAnswerError(res, coding);
      if (bytes.length === 0) {
        // Not a manifest at all: read as one, it was "different content" (push: a conflict; --force replaced it).
        throw new PackpubError('REGISTRY', `${this.host} answered ${res.status} with an empty body instead of manifest ${reference} of ${repository}`, {
          hint: 'the registry or a proxy in front of it answers success without the manifest, so packpub cannot tell what is published: bypass the proxy, or report it to the registry owner',
        });
      }
      const refused = errorBodyOf(bytes);
      if (refused !== undefined) {
        throw new PackpubError('REGISTRY', `${this.host} answered ${res.status} with an error body instead of manifest ${reference} of ${repository}: ${refused}`, {
          hint: ERROR_AS_SUCCESS_HINT,
        });
      }
      // Every manifest is JSON (OCI, Docker, both kinds of index): other bytes are no registry's answer (a
      // proxy's login or error page served with 200), as for a tag list or the catalog, not "a tag holding
      // something other than a pack". Checked by digest too: "another digest" would send the user hunting a race.
      if (!isJson(bytes)) {
        const type = getHeader(res, 'content-type');
        const said = `${this.host} answered ${res.status} with something that is not JSON instead of manifest ${reference} of ${repository} (${bytes.length} bytes${type === undefined ? '' : `, Content-Type: ${redactText(type).slice(0, 100)}`})`;
        // An answer whose Content-Type names a manifest type is the registry's: bytes that are no JSON under it were
        // cut short or changed on the way (a Content-Length that lies), not a web page. Read once more (getManifest).
        if ((MANIFEST_ACCEPT as readonly string[]).includes(mediaTypeOf(type) ?? '')) {
          const err = new PackpubError('REGISTRY', `${said}: cut short or changed on the way`, { hint: OTHER_CONTENT_HINT });
          garbled.add(err);
          throw err;
        }
        throw new PackpubError('REGISTRY', said, {
          hint: `check the host and base path (is ${this.host} an OCI registry, and not a web page, login page or proxy in front of it?)`,
        });
      }
      const digest = sha256Digest(bytes);
      const header = digestHeader(res);
      if (isDigest(reference) && digest !== reference) {
        throw new PackpubError('DIGEST_MISMATCH', `manifest ${reference} from ${this.host} has digest ${digest}${said}`, { hint: OTHER_CONTENT_HINT });
      }
      if (header !== undefined && isDigest(header) && header !== digest) {
        throw new PackpubError('DIGEST_MISMATCH', `manifest ${reference} in ${repository}: ${this.host} says ${header}, the bytes hash to ${digest}${said}`, { hint: OTHER_CONTENT_HINT });
      }
      // The bytes' own type, not the Content-Type alone: copy and tag write them again under it.
      return { descriptor: { mediaType: manifestMediaType(bytes, mediaTypeOf(getHeader(res, 'content-type'))), digest, size: bytes.length }, bytes };
    }, leftMs);
  }

  /**
   * `PUT /v2/<repo>/manifests/<ref>` with `Content-Type: <mediaType>`; returns the local digest after checking
   * the registry's `Docker-Content-Digest` (trust the PUT's answer: Harbor policies may block a read-back).
   */
  async putManifest(repository: string, reference: string, bytes: Buffer, mediaType: string, signal?: AbortSignal): Promise<Digest> {
    validateReference(reference);
    if (bytes.length > MAX_MANIFEST_BYTES) {
      throw new PackpubError('REGISTRY', `manifest for ${repository}:${reference} is ${bytes.length} bytes, more than the 4 MiB registries accept`);
    }
    const digest = sha256Digest(bytes);
    if (isDigest(reference) && reference !== digest) {
      throw new PackpubError('DIGEST_MISMATCH', `manifest bytes hash to ${digest}, not to the reference ${reference}`);
    }
    this.declarePush(repository);
    const stored = await this.request(
      { method: 'PUT', ...this.manifestCall(repository, reference, 'push', signal), headers: { 'content-type': mediaType }, body: bytes, expect: [200, 201, 204], followRedirects: true },
      async (res) => {
        await discardBody(res);
        return digestHeader(res);
      },
    ).catch(async (err: unknown) => {
      // Every attempt failed in a way that may have reached the registry (a gateway's 5xx or a lost answer each time,
      // after the registry stored it): a reference that now serves these very bytes says the write was carried out.
      // Before, push, tag and copy ended exit 1 with the registry holding exactly what they were asked to write.
      if (!isRetryableError(err) || !mayHaveActed(err)) throw err;
      const now = await this.getManifest(repository, reference, signal).catch(() => undefined);
      if (now?.descriptor.digest !== digest) throw err;
      this.debug?.(`${errorMessage(err)}; ${repository}:${reference} serves ${digest}: the write was carried out`);
      return digest;
    });
    if (stored !== undefined && stored !== '' && stored !== digest) {
      // A reference serving these very bytes says the header was changed on the way (a proxy), not the manifest: the
      // write was carried out as asked. Before, push, tag and copy ended exit 1 with the version published.
      const now = await this.getManifest(repository, reference, signal).catch(() => undefined);
      if (now?.descriptor.digest === digest) {
        this.debug?.(`${this.host} answered the manifest PUT of ${repository}:${reference} naming ${stored.slice(0, 100)}; it serves ${digest}: the write was carried out`);
        return digest;
      }
      throw new PackpubError('DIGEST_MISMATCH', `${this.host} stored the manifest for ${repository}:${reference} as ${stored}, expected ${digest}`, {
        hint: 'the registry rewrote the manifest; it may not support OCI manifests of this shape',
      });
    }
    return digest;
  }

  /**
   * `DELETE /v2/<repo>/manifests/<ref>` (a digest; tag deletion is a distribution-spec 1.1 feature). A success
   * status whose body is an OCI error document (distribution answers 202 with none) is thrown as a
   * RegistryError carrying that status: the answer says both, and only a read-back can tell which is true.
   */
  async deleteManifest(repository: string, reference: string, signal?: AbortSignal): Promise<void> {
    // A delete whose answer was lost finds the manifest gone on its retry: done (retry.ts deletedByEarlierAttempt).
    const spec = { method: 'DELETE' as const, ...this.manifestCall(repository, reference, 'delete', signal), expect: [200, 202, 204], followRedirects: true };
    await this.deleteAnswered(spec, repository, reference, signal);
  }

  /**
   * deleteManifest's request. When every attempt failed in a way that leaves open whether the registry carried the
   * delete out (a gateway's 5xx or a lost answer each time, after the registry acted), the manifest being gone
   * says it did: done. Before, such a run said "nothing was deleted", exit 1, with the version gone.
   */
  private async deleteAnswered(spec: CallSpec, repository: string, reference: string, signal: AbortSignal | undefined): Promise<void> {
    try {
      await this.request(
        spec,
        async (res) => {
          const refused = res.status === 204 ? undefined : errorBodyOf(await readErrorBody(res.body));
          if (refused === undefined) return discardBody(res);
          throw new RegistryError('REGISTRY', `${this.host} answered ${res.status} to DELETE of ${reference} in ${repository} with an error body: ${refused}`, {
            status: res.status,
            method: 'DELETE',
            url: res.url,
            hint: ERROR_AS_SUCCESS_HINT,
          });
        },
        { goneOnRetry: undefined },
      );
    } catch (err) {
      if (!isRetryableError(err) || !mayHaveActed(err)) throw err;
      const held = await this.request({ ...this.manifestSpec('HEAD', repository, reference, signal), expect: [200, 404] }, async (res) => {
        await discardBody(res);
        return res.status === 200;
      }).catch(() => true);
      if (held) throw err;
      this.debug?.(`${errorMessage(err)}; ${reference} is gone from ${repository}: the delete was carried out`);
    }
  }

  /**
   * Follow `Link: <...>; rel="next"` pages, collecting `field` from each JSON page. A hostile or broken
   * registry cannot make this run forever or grow without bound: a `Link` back to a page already read, more
   * than MAX_PAGES pages or MAX_LISTED names are clear errors, each page body is bounded (LIST_BODY_LIMIT),
   * and only one page is held at a time besides the names kept.
   */
  private async paged(first: URL, field: 'tags' | 'repositories', spec: Omit<CallSpec, 'method' | 'url' | 'expect'>): Promise<string[]> {
    try {
      return await this.pagedFrom(first, field, spec);
    } catch (err) {
      const smaller = smallerPages(err, first);
      if (smaller === undefined) throw err;
      return this.pagedFrom(smaller, field, spec);
    }
  }

  private async pagedFrom(first: URL, field: 'tags' | 'repositories', spec: Omit<CallSpec, 'method' | 'url' | 'expect'>): Promise<string[]> {
    const out: string[] = [];
    /** Names read so far (valid or not). */
    const listed = new Set<string>();
    const seen = new Set<string>();
    const what = spec.subject ?? field;
    const skipped: string[] = [];
    let emptyInRow = 0;
    const anotherList = (how: string, to: URL) =>
      new PackpubError('REGISTRY', `${this.host} ${how} ${what} to another list (${shown(to.pathname.replace(/^\/v2\//, '').slice(0, 200))})`, { hint: LIST_ELSEWHERE_HINT });
    for (let url: URL | undefined = first, page = 1; url !== undefined; page++) {
      if (page > MAX_PAGES) {
        throw new PackpubError('REGISTRY', `${this.host} keeps paging ${what}: more than ${MAX_PAGES} pages`, { hint: LIST_HOSTILE_HINT });
      }
      seen.add(url.href);
      const current: URL = url;
      const { count, next } = await this.requestWithinDeadline({ ...spec, method: 'GET', url: current, headers: LIST_READ_HEADERS, expect: [200] }, async (res) => {
        if (res.url.origin !== this.originText) {
          // A redirect to another server: its list is not this registry's (the same rule as a Link to another origin, below).
          abandon(res.body);
          throw new PackpubError('REGISTRY', `${this.host} redirected ${what} to another origin (${res.url.origin})`, {
            hint: 'packpub reads lists only from the registry’s own scheme, host and port; behind a proxy, check the URL the registry believes it has (X-Forwarded-Proto / Host)',
          });
        }
        if (res.url.pathname !== first.pathname) {
          abandon(res.body);
          throw anotherList('redirected', res.url);
        }
        const body = await readBounded(res.body, LIST_BODY_LIMIT + 1);
        if (body.length > LIST_BODY_LIMIT) {
          // Cut at the limit, it would read as "not JSON": say what it is.
          throw new PackpubError('REGISTRY', `${this.host} answered ${current.pathname} with a page larger than ${LIST_BODY_LIMIT / (1024 * 1024)} MiB`, { hint: LIST_HOSTILE_HINT });
        }
        let doc: unknown;
        try {
          doc = JSON.parse(body.toString('utf8'));
        } catch (err) {
          const coding = contentCoding(res);
          if (coding !== undefined) throw encodedAnswerError(res, coding);
          throw new PackpubError('REGISTRY', `${this.host} answered ${current.pathname} with something that is not JSON`, {
            cause: err,
            hint: `check the host and base path (is ${this.host} an OCI registry, and not a web page or proxy in front of it?)`,
          });
        }
        const malformed = (what: string) =>
          new PackpubError('REGISTRY', `${this.host} answered the ${spec.subject ?? field} with ${what}`, { hint: LIST_MALFORMED_HINT });
        if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw malformed(`a JSON ${doc === null ? 'null' : Array.isArray(doc) ? 'array' : typeof doc}`);
        // `"tags": null` is distribution's answer for a repository without tags: an empty page. A page without
        // the field at all is not a list (an empty one would make `list` exit 0 showing nothing).
        if (!(field in doc)) throw malformed(`an object without a "${field}" field`);
        const list = (doc as Record<string, unknown>)[field] ?? [];
        if (!Array.isArray(list)) throw malformed(`a "${field}" field that is ${list === null ? 'null' : `a ${typeof list}`}`);
        let count = 0;
        // one by one: spreading a page of a million names into push() overflows the stack
        for (const t of list as unknown[]) {
          if (listed.size > MAX_LISTED) break; // refused below: no need to read (and keep) the rest
          if (typeof t !== 'string') throw malformed(`a${field === 'tags' ? ' tag' : 'n entry'} that is ${t === null ? 'null' : `a ${typeof t}`}`);
          // A name that pages overlapping bring again is listed once, and is no news (count: the new names).
          if (listed.has(t)) continue;
          listed.add(t);
          count++;
          // A name no registry may hold (outside the tag grammar, a repository path with "..", capitals or control
          // characters) names nothing packpub can read: left out, never taken for a name the user typed wrong.
          if (!(field === 'tags' ? isValidTag(t) : isValidRepositoryPath(t))) {
            if (skipped.length < 5) skipped.push(t);
            continue;
          }
          out.push(t);
        }
        const next = parseNextLink(getHeader(res, 'link'), res.url, spec.subject ?? field);
        if (next !== undefined && next.origin !== this.originText) {
          // Following it would read another server's list (without credentials); stopping would print part of the list.
          throw new PackpubError('REGISTRY', `${this.host} links the next page of ${spec.subject ?? field} to another origin (${next.origin})`, {
            hint: 'packpub reads pages only from the registry’s own scheme, host and port; behind a proxy, check the URL the registry believes it has (X-Forwarded-Proto / Host)',
          });
        }
        // Another repository's tags (or not the catalog) would be listed as these: every page is the same list.
        if (next !== undefined && next.pathname !== first.pathname) throw anotherList('links the next page of', next);
        return { count, next };
      });
      if (listed.size > MAX_LISTED) {
        throw new PackpubError('REGISTRY', `${this.host} lists more than ${MAX_LISTED} ${field} for ${what}`, { hint: LIST_HOSTILE_HINT });
      }
      if (next !== undefined && seen.has(next.href)) {
        throw new PackpubError('REGISTRY', `${this.host} pages ${what} in a loop: page ${page} links back to ${redactText(next.pathname + next.search)}, already read`, {
          hint: LIST_HOSTILE_HINT,
        });
      }
      // A Link means more results follow (distribution-spec), even after an empty page: taking that page for the
      // end listed nothing, exit 0. A run of pages that bring nothing new (empty, or names already read) and still
      // link on is a loop in disguise: refused after a few, not read a thousand times.
      emptyInRow = count === 0 ? emptyInRow + 1 : 0;
      if (next !== undefined && emptyInRow > MAX_EMPTY_PAGES) {
        throw new PackpubError('REGISTRY', `${this.host} pages ${what} with ${emptyInRow} pages in a row that bring nothing new and still link to more`, { hint: LIST_HOSTILE_HINT });
      }
      url = next;
    }
    if (skipped.length > 0) this.debug?.(`${this.host} listed ${field === 'tags' ? 'tags' : 'repository names'} that are not valid, left out: ${skipped.map((t) => JSON.stringify(shown(t))).join(', ')}`);
    return out;
  }

  /** All tags of a repository (`GET /v2/<repo>/tags/list`, paged); throws NOT_FOUND for an unknown repository. */
  async listTags(repository: string, options: ListOptions = {}): Promise<string[]> {
    const n = checkPageSize(options.pageSize);
    const first = this.repoUrl(repository, 'tags/list');
    first.searchParams.set('n', String(n));
    return this.paged(first, 'tags', {
      scopes: this.scopesFor(repository, 'pull'),
      repository,
      intent: 'list',
      subject: `tags of ${repository}`,
      ...(options.signal ? { signal: options.signal } : {}),
    }).catch((err: unknown) => this.notFoundOnRegistry(err, options.signal));
  }

  /**
   * Throws `err`, unless it is a 404 that names no OCI error (a web server's or a proxy's page, or a registry's bare
   * 404) from a host that is no registry API at all: then that. A 404 from a web server in front of nothing read
   * as "no such repository" (`list NAME`: "no pack NAME", exit 0; pull: "does not exist"). A registry answers
   * `GET /v2/` (200, or 401 asking for credentials); asked once per run, and only after such a 404.
   */
  private async notFoundOnRegistry(err: unknown, signal?: AbortSignal): Promise<never> {
    if (!isRegistryError(err) || err.code !== 'NOT_FOUND' || err.ociCode !== undefined) throw err;
    this.apiChecked ??= this.request({ method: 'GET', url: this.url('/v2/'), expect: [200, 401], ...(signal ? { signal } : {}) }, discardBody).then(
      () => undefined,
      (ping: unknown) => (isRegistryError(ping) && ping.status === 404 ? ping : undefined),
    );
    const ping = await this.apiChecked;
    if (ping === undefined) throw err;
    throw new RegistryError('REGISTRY', `${this.host} is not an OCI registry: it answered 404 to GET /v2/, as to ${err.method ?? 'GET'} ${err.url ?? ''}`, {
      method: 'GET',
      url: this.url('/v2/'),
      status: 404,
      cause: err,
      hint: `check the host (a registry answers GET /v2/ with 200 or 401: is ${this.host} a web server, or a proxy that does not pass /v2/ on?)`,
    });
  }

  /** Every repository (`GET /v2/_catalog`, paged). Needs catalog access; ECR answers 405 and Harbor is admin-only. */
  async catalog(options: ListOptions = {}): Promise<string[]> {
    const n = checkPageSize(options.pageSize);
    const first = this.url('/v2/_catalog');
    first.searchParams.set('n', String(n));
    return this.paged(first, 'repositories', {
      scopes: [CATALOG_SCOPE],
      intent: 'list',
      subject: 'repository catalog',
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  async close(): Promise<void> {
    await this.transport.close();
  }
}

/** Manifest answers under a manifest Content-Type whose bytes were no JSON (getManifestOnce): read once more. */
const garbled = new WeakSet<PackpubError>();

/** For a digest mismatch: the coding the answer named, the likely cause. */
function codingSaid(coding: string | undefined): string {
  return coding === undefined ? '' : ` (the answer said Content-Encoding: ${coding})`;
}

/** Bytes that parse as JSON (a manifest, a list page): what a coding label on unchanged bytes leaves readable. */
function isJson(bytes: Buffer): boolean {
  try {
    JSON.parse(bytes.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}
