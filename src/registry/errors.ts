import type { Readable } from 'node:stream';
import { isEcrPublicHost, parseEcrHost } from '../aws/ecr-host.js';
import { PackpubError, type ErrorCode } from '../errors.js';
import { hostName, isLoopbackHost, shown } from '../oci/reference.js';
import { redactText, redactUrl } from '../util/redact.js';
import { isCertificateVerifyError, systemErrorCode } from '../net/error-codes.js';

export { isCertificateVerifyError, systemErrorCode };

/** One entry of an OCI error body: `{"errors":[{"code","message","detail"}]}` (distribution-spec "Error Codes"). */
export interface OciError {
  code: string;
  message: string;
  detail?: unknown;
}

/** Error codes that cannot succeed on a retry (registries.md, "Failure handling"). */
export const NON_RETRYABLE_CODES: ReadonlySet<string> = new Set([
  'NAME_UNKNOWN',
  'NAME_INVALID',
  'TAG_INVALID',
  'DENIED',
  'UNAUTHORIZED',
  'PRECONDITION',
  'PROJECTPOLICYVIOLATION',
  'UNSUPPORTED',
  'MANIFEST_INVALID',
  'MANIFEST_UNKNOWN',
  'MANIFEST_BLOB_UNKNOWN',
  'BLOB_UNKNOWN',
  'DIGEST_INVALID',
  'SIZE_INVALID',
]);

/** Statuses worth another attempt (oras-go retry policy plus 408). */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUSES.has(status);
}

export interface RegistryErrorInit {
  method?: string | undefined;
  /** Redacted before it is stored. */
  url?: string | URL | undefined;
  status?: number | undefined;
  ociCode?: string | undefined;
  ociMessage?: string | undefined;
  hint?: string | undefined;
  cause?: unknown;
  /** Another attempt may succeed (5xx, 429, reset, timeout). */
  retryable?: boolean | undefined;
  /** Registry asked us to wait this long (Retry-After, as asked: the retry policy waits at most 60 s of it). */
  retryAfterMs?: number | undefined;
}

/** A failed registry call: what we asked (method, redacted URL) and what came back (status, OCI code). */
export class RegistryError extends PackpubError {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly status: number | undefined;
  readonly ociCode: string | undefined;
  readonly ociMessage: string | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, init: RegistryErrorInit = {}) {
    super(code, redactText(message), {
      ...(init.hint === undefined ? {} : { hint: redactText(init.hint) }),
      ...(init.cause === undefined ? {} : { cause: init.cause }),
    });
    this.name = 'RegistryError';
    this.method = init.method;
    this.url = init.url === undefined ? undefined : redactUrl(init.url);
    this.status = init.status;
    this.ociCode = init.ociCode;
    this.ociMessage = init.ociMessage === undefined ? undefined : redactText(init.ociMessage);
    this.retryable = init.retryable ?? false;
    this.retryAfterMs = init.retryAfterMs;
  }
}

export function isRegistryError(err: unknown): err is RegistryError {
  return err instanceof RegistryError;
}

/**
 * No answer (NETWORK or TLS, no status) from an address the registry handed out (an upload Location, a redirect, the
 * token service its challenge names): said as `said` (where the address came from) with `hint`, same code and
 * retry; any other error as it came. Without it the message named a host the user never gave, as a registry down.
 */
export function unreachableHandedOut(err: unknown, said: string, hint: string): unknown {
  if (!isRegistryError(err) || err.status !== undefined || (err.code !== 'NETWORK' && err.code !== 'TLS')) return err;
  return new RegistryError(err.code, `${said}: ${err.message}`, { method: err.method, url: err.url, retryable: err.retryable, cause: err, hint });
}

/** Error bodies are small; never read more than this of one. */
export const ERROR_BODY_LIMIT = 64 * 1024;

export interface ReadBoundedOptions {
  /** Stop reading after this long (a body dripping in a byte at a time never trips the per-chunk timeout). */
  timeoutMs?: number;
  /** Return what arrived when the body fails or is cut off at the time limit, instead of throwing. */
  partial?: boolean;
}

const ignore = (): void => undefined;

/**
 * Read at most `limit` bytes of a body, then drop the rest (manifests, error bodies, token answers). With
 * stream events rather than `for await`: a re-run reads a manifest per pack, and the stream's async
 * iterator costs more CPU than the rest of the read (issue 16). The outcome is the iterator's: the bytes at
 * the end, the stream's error, or Node's ERR_STREAM_PREMATURE_CLOSE when it closes (is destroyed) first.
 */
export function readBounded(body: Readable, limit = ERROR_BODY_LIMIT, options: ReadBoundedOptions = {}): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => body.destroy(), options.timeoutMs);
    const finish = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.off('close', onClose);
      if (!body.readableEnded) {
        // undici's body emits an AbortError when destroyed before its end: with no listener left, that
        // would be an uncaught exception that ends the process (a body over the limit, a time limit).
        body.on('error', ignore);
        body.destroy();
      }
      // partial: cut off (or destroyed at the time limit): the caller explains with what arrived
      if (err !== undefined && options.partial !== true) reject(err);
      else resolve(Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer | Uint8Array | string): void => {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      if (size + buf.length > limit) {
        chunks.push(buf.subarray(0, limit - size));
        size = limit;
        finish();
        return;
      }
      chunks.push(buf);
      size += buf.length;
    };
    const onEnd = (): void => finish();
    const onError = (err: unknown): void => finish(err);
    const onClose = (): void => finish(body.readableEnded ? undefined : prematureClose());
    if (body.readableEnded) return finish();
    if (body.destroyed) return finish(body.errored ?? prematureClose());
    body.on('data', onData);
    body.on('end', onEnd);
    body.on('error', onError);
    body.on('close', onClose);
  });
}

/** What a stream's async iterator throws when the stream closes before its end. */
function prematureClose(): Error {
  return Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

/** How long an error body may take to arrive; after that the error is explained with what came. */
const ERROR_BODY_TIMEOUT_MS = 1_000;

/** An error answer's body, bounded in size and time: what arrived so far, or nothing. It only explains an error. */
export function readErrorBody(body: Readable): Promise<Buffer> {
  return readBounded(body, ERROR_BODY_LIMIT, { timeoutMs: ERROR_BODY_TIMEOUT_MS, partial: true });
}

/** Parse `{"errors":[...]}`; anything else yields no entries. */
export function parseOciErrors(body: Buffer | string): OciError[] {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (text.trim() === '') return [];
  try {
    const doc = JSON.parse(text) as { errors?: unknown };
    if (!Array.isArray(doc.errors)) return [];
    return doc.errors.flatMap((e: unknown) => {
      if (typeof e !== 'object' || e === null) return [];
      const entry = e as Record<string, unknown>;
      const code = typeof entry['code'] === 'string' ? entry['code'].toUpperCase() : 'UNKNOWN';
      const message = typeof entry['message'] === 'string' ? entry['message'] : '';
      return [{ code, message, ...(entry['detail'] === undefined ? {} : { detail: entry['detail'] }) }];
    });
  } catch {
    return [];
  }
}

/**
 * The OCI errors a success answer carries instead of its document (`{"errors":[...]}` and no
 * `schemaVersion`), as `CODE: message`; undefined for anything else. Some proxies answer errors with 200.
 */
export function errorBodyOf(body: Buffer): string | undefined {
  if (body.length > ERROR_BODY_LIMIT || !body.subarray(0, 64).toString('utf8').trimStart().startsWith('{')) return undefined;
  const errors = parseOciErrors(body);
  if (errors.length === 0 || body.includes('"schemaVersion"')) return undefined;
  return errors.map((e) => `${e.code}${e.message === '' ? '' : `: ${e.message}`}`).join('; ');
}

/** What to do about credentials a token service's redirect to another origin (host, port or scheme) left behind. */
export function tokenRedirectHint(realmHost: string): string {
  return `credentials go only to the address the registry's challenge names, not where ${realmHost} redirects (another host, port or scheme): make the registry name the token service's final address (Harbor: its external_url), or report it to the registry owner`;
}

/** What the auth layer did for a request; lets error mapping tell "wrong password" from "no permission". */
export interface AuthOutcome {
  scheme: 'none' | 'basic' | 'bearer';
  /** Credentials (Basic header, or a token obtained with credentials) went with the final attempt. */
  credentialSent: boolean;
  /** Where the credentials came from ("environment", "flags", ...), never the secret. */
  source?: string | undefined;
  /** The user name sent (never the secret): hints read a Harbor robot name a shell cut short (mangledRobotHint). */
  username?: string | undefined;
  /** Credentials existed but were deliberately not sent, and why (`token-only`: an identity token, and a Basic challenge). */
  withheld?: 'plain-http' | 'cross-host' | 'token-only' | 'redirect' | undefined;
  /** Host name of the token realm, when a token service was involved. */
  realmHost?: string | undefined;
  /** `redirect`: the origin (`https://host[:port]`) the token service's redirect took the token request to, without them. */
  redirectedTo?: string | undefined;
  /** A 401 asked for authentication packpub cannot give: the challenge, in words (`Negotiate`, `no WWW-Authenticate`). */
  unanswerable?: string | undefined;
  /** The refused token was one the token service answered the credentials with for no one (an empty `sub`): not taken. */
  tokenForNoOne?: true | undefined;
  /** The refused token, just issued, had expired (`exp`) or was not valid yet (`nbf`) by this machine's clock (`now`), in seconds. */
  tokenTimeOff?: { exp?: number; nbf?: number; now: number } | undefined;
}

export type Intent = 'push' | 'pull' | 'delete' | 'list';

export interface ResponseErrorContext {
  method: string;
  url: URL;
  status: number;
  /** Registry host as given by the user (`host[:port]`). */
  host: string;
  body: Buffer;
  repository?: string | undefined;
  /** What the request was for, in words: `manifest 1.0.0`, `blob sha256:...`. */
  subject?: string | undefined;
  intent?: Intent | undefined;
  auth?: AuthOutcome | undefined;
  retryAfterMs?: number | undefined;
  attempts?: number | undefined;
  /** The flag that switches plain HTTP for this host, for hints (default `--plain-http`; copy's `--from-plain-http`). */
  plainHttpFlag?: string | undefined;
  /** The answer's `Allow` header (a 405 names the methods it takes there). */
  allow?: string | undefined;
}

/** The plain-HTTP flag of a host, its `--no-` form and the CA and insecure flags of the same side, as hints name them. */
export function plainHttpFlags(flag: string | undefined): { on: string; off: string; caFile: string; insecure: string } {
  const on = flag ?? '--plain-http';
  return { on, off: `--no-${on.replace(/^--/, '')}`, caFile: on.replace(/plain-http$/, 'ca-file'), insecure: on.replace(/plain-http$/, 'insecure') };
}

/** Where credentials go, named as the command has them: copy's sides (--to-plain-http) have --to-username and PACKPUB_TO_*. */
function loginHint(plainHttpFlag: string | undefined): string {
  const side = /^--(from|to)-plain-http$/.exec(plainHttpFlag ?? '')?.[1];
  const flag = side === undefined ? '--' : `--${side}-`;
  const env = side === undefined ? 'PACKPUB_' : `PACKPUB_${side.toUpperCase()}_`;
  return `pass ${flag}username with ${flag}password-stdin, set ${env}USERNAME and ${env}PASSWORD, or run packpub login`;
}

/** ", or run packpub login", unless the credentials being checked are packpub login's own. */
function loginAdvice(auth: AuthOutcome): string {
  return auth.source === 'login' ? '' : ', or run packpub login';
}

/**
 * Credentials withheld from a token service the registry's Bearer challenge names on plain HTTP while the registry itself
 * serves HTTPS (Harbor behind a TLS-terminating proxy with an http:// external_url): it read "not sent to <registry>
 * over plain HTTP ... pass --plain-http", which turns the registry itself to HTTP and fails there. What is said, and how
 * the registry is put right; packpub still sends no password unencrypted off this machine.
 */
export function plainHttpRealm(host: string, realmHost: string): { message: string; hint: string } {
  return {
    message: `credentials were not sent to the token service ${realmHost}: ${host} serves HTTPS but its Bearer challenge names that token service with a plain-HTTP (http://) address`,
    hint: "the registry announces an http:// token service (Harbor: external_url in harbor.yml; distribution: auth.token.realm): make it announce https://, or report it to the registry owner; packpub sends no credentials over plain HTTP off this machine",
  };
}

function passwordHint(auth: AuthOutcome): string {
  const mangled = mangledRobotHint(auth.username, auth.source);
  if (mangled !== undefined) return mangled;
  const from = auth.source === undefined || auth.source === 'login' ? '' : ` (they came from ${auth.source})`;
  return `check the user name and password${from}${loginAdvice(auth)}`;
}

/**
 * A Harbor robot account name whose `$<project>` part a shell or CI variable expansion removed (`robot$packs+ci`
 * unquoted in a shell, a GitLab CI variable or a compose file reads `robot+ci`): the hint for its refusal, else undefined.
 */
export function mangledRobotHint(username: string | undefined, source: string | undefined): string | undefined {
  if (username !== 'robot' && username?.startsWith('robot+') !== true) return undefined;
  return `the user name "${username}" looks like a Harbor robot account name whose "$<project>" part a shell or CI variable expanded to nothing${source === undefined ? '' : ` (it came from ${source})`}: quote it ('robot$<project>+<name>'), or write $$ where variables are expanded (GitLab CI, compose files)`;
}

/**
 * An ECR token a `docker login` stored (in the file or a credential helper) wins over the one packpub would mint (the
 * chain's order), and `packpub login` has nothing to do for ECR hosts: its advice led nowhere. Such a token can only
 * be removed (packpub logout) or replaced.
 */
function expiredHint(host: string, auth: AuthOutcome | undefined): string {
  const source = auth?.source;
  if (source === 'credential helper docker-credential-ecr-login' && parseEcrHost(host) !== undefined) {
    // amazon-ecr-credential-helper: no stored token to remove (its erase is not implemented), it mints one per run.
    return `the ECR token from ${source} (amazon-ecr-credential-helper) has expired, though that helper mints its tokens itself from your AWS credentials (packpub logout cannot remove one): this machine's clock is off, or its cache ~/.ecr/cache.json (AWS_ECR_CACHE_DIR) is stale; set the clock right or delete the cache, and run again`;
  }
  if (source !== undefined && /^(docker config|credential helper) /.test(source) && parseEcrHost(host) !== undefined) {
    return `the ECR token ${source.startsWith('docker') ? 'in' : 'from'} ${source} has expired: packpub logout ${host} removes it (packpub then mints one with your AWS credentials), or docker login again with a new one (aws ecr get-login-password)`;
  }
  if (source !== undefined && /^(docker config|credential helper) /.test(source) && isEcrPublicHost(host)) {
    // AWS's own way in (aws ecr-public get-login-password | docker login) leaves a token that lasts 12 hours, after which
    // every read failed, public repositories' too, as docker pull does until docker logout.
    return `the ECR Public token ${source.startsWith('docker') ? 'in' : 'from'} ${source} has expired (they last 12 hours): packpub logout ${host} removes it (public repositories are then read without one, and with an AWS identity packpub gets its own), or log in again: aws ecr-public get-login-password --region us-east-1 | packpub login ${host} --username AWS --password-stdin`;
  }
  return 'log in again (packpub login), or refresh the token your CI hands to packpub';
}

function permissionWord(intent: Intent | undefined): string {
  return intent === 'push' || intent === 'delete' ? intent : 'pull';
}

/**
 * What to do about a repository the registry does not know (NAME_UNKNOWN), where registries create none on push:
 * ECR (packpub creates them), Google Artifact Registry (`<location>-docker.pkg.dev/<project>/<repository>/...`: the
 * repository must be made first, gcloud artifacts repositories create; its answer "Repository \"<r>\" not found").
 * It said "on ECR ..." on every registry, Artifact Registry included.
 */
function nameUnknownHint(host: string, repo: string | undefined): string {
  if (parseEcrHost(host) !== undefined) return 'on ECR the repository must exist: packpub creates it unless --no-create-repositories';
  const location = /^([a-z0-9-]+)-docker\.pkg\.dev$/.exec(hostName(host))?.[1];
  const [project, repository] = (repo ?? '').split('/');
  if (location === undefined || project === undefined || repository === undefined || repository === '') return 'check the registry base path';
  return `Artifact Registry creates no repository on push: create ${repository} in project ${project} (gcloud artifacts repositories create ${repository} --repository-format=docker --location=${location} --project=${project}), or check the base path (<project>/<repository>/...)`;
}

/**
 * What a body that is no OCI error says, for a message: the title of a web page, else its first words; undefined for
 * an empty body or one that is JSON (a registry's own shape it does not use for errors).
 */
function pageWords(body: Buffer): string | undefined {
  // A page compressed on the way (a proxy sending gzip whatever packpub asked) or other bytes: said by length, not
  // quoted (it was quoted as "\u001f\ufffd\b..." of the compressed bytes).
  if (body[0] === 0x1f && body[1] === 0x8b) return `${body.length} bytes of gzip-compressed data`;
  // The first 4 KiB: a multi-byte character the cut splits ends them as one U+FFFD, no sign of bytes that are not text.
  const read = body.subarray(0, 4096).toString('utf8');
  const text = (body.length > 4096 ? read.replace(/\ufffd$/, '') : read).trim();
  if (text === '' || text.startsWith('{') || text.startsWith('[')) return undefined;
  if (/[\u0000-\u0008\u000e-\u001f\ufffd]/.test(text)) return `${body.length} bytes that are not text`;
  const title = /<title[^>]*>([^<]{1,200})<\/title>/i.exec(text)?.[1]?.trim();
  const words = (title !== undefined && title !== '' ? title : text.replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ').trim();
  return JSON.stringify(redactText(words.slice(0, 100)));
}

/** Map a non-success registry response to one clear, typed, secret-free error. */
export function errorFromResponse(ctx: ResponseErrorContext): RegistryError {
  const errors = parseOciErrors(ctx.body);
  const first = errors[0];
  const ociCode = first?.code;
  const ociText = first === undefined ? '' : `${first.code}${first.message === '' ? '' : `: ${first.message}`}`;
  const base: RegistryErrorInit = {
    method: ctx.method,
    url: ctx.url,
    status: ctx.status,
    ociCode,
    ociMessage: first?.message,
  };
  const codes = new Set(errors.map((e) => e.code));
  const repo = ctx.repository;
  const auth = ctx.auth;

  if (ctx.status === 401 || ctx.status === 403 || codes.has('DENIED') || codes.has('UNAUTHORIZED')) {
    const page = ctx.status === 403 && first === undefined ? pageWords(ctx.body) : undefined;
    if (page !== undefined) {
      // A registry refuses with an OCI error body (DENIED ...); a 403 with a web page or other text is a proxy's or a
      // firewall's in front of it (a corporate proxy blocking the host, nginx's deny). Was "authentication required
      // by <host> ... pass --username", with --username given: no registry asked for credentials.
      return new RegistryError('REGISTRY', `${ctx.host} refused ${ctx.method} ${redactUrl(ctx.url)} with 403 and a page that is no registry's answer (${page})`, {
        ...base,
        hint: 'a proxy or firewall between packpub and the registry blocks the request (a registry refuses with an OCI error): check its policy for this host, or bypass it',
      });
    }
    if (first !== undefined && /expired/i.test(first.message)) {
      return new RegistryError('AUTH', `credentials for ${ctx.host} have expired`, {
        ...base,
        hint: expiredHint(ctx.host, auth),
      });
    }
    if (auth?.withheld === 'plain-http' && auth.realmHost !== undefined && ctx.url.protocol === 'https:') {
      const { message, hint } = plainHttpRealm(ctx.host, auth.realmHost);
      return new RegistryError('AUTH', message, { ...base, hint });
    }
    if (auth?.withheld === 'plain-http') {
      return new RegistryError('AUTH', `credentials were not sent to ${ctx.host} over plain HTTP`, {
        ...base,
        hint: `use HTTPS, or pass ${plainHttpFlags(ctx.plainHttpFlag).on} explicitly to allow sending credentials unencrypted`,
      });
    }
    if (auth?.withheld === 'token-only') {
      return new RegistryError('AUTH', `${ctx.host} asks for a user name and password (Basic): the identity token${auth.source === undefined ? '' : ` from ${auth.source}`} is exchanged at a token service only`, {
        ...base,
        hint: loginHint(ctx.plainHttpFlag),
      });
    }
    if (auth?.unanswerable !== undefined && ctx.status === 401) {
      return new RegistryError('AUTH', `${ctx.host} asks for authentication packpub cannot give (${auth.unanswerable})${repo === undefined ? '' : ` for ${repo}`}`, {
        ...base,
        hint: 'packpub answers Basic and Bearer (token service) challenges; check that the address is the registry and not a proxy or sign-in page in front of it',
      });
    }
    if (auth?.tokenTimeOff !== undefined) {
      // A token just issued that the registry refuses, expired or not valid yet by this machine's clock: clocks disagree.
      const { exp, nbf, now } = auth.tokenTimeOff;
      const iso = (s: number) => new Date(s * 1000).toISOString();
      const when = exp !== undefined ? `had expired at ${iso(exp)}` : `is valid only from ${iso(nbf ?? now)}`;
      return new RegistryError('AUTH', `${ctx.host} refuses the token its token service ${auth.realmHost ?? ''} just issued${repo === undefined ? '' : ` for ${repo}`}, which ${when} by this machine's clock (${iso(now)})`, {
        ...base,
        hint: "the clocks of the token service, the registry and this machine disagree (a token service's clock behind issues tokens already expired, one ahead tokens not valid yet): set them right (NTP), or report it to the registry owner",
      });
    }
    if (auth === undefined || (!auth.credentialSent && auth.withheld === undefined)) {
      return new RegistryError('AUTH', `authentication required by ${ctx.host}${repo === undefined ? '' : ` for ${repo}`}`, {
        ...base,
        hint: loginHint(ctx.plainHttpFlag),
      });
    }
    if (auth.tokenForNoOne === true) {
      // Harbor's token service answers credentials it does not take with a token for no one (200), where others answer 401.
      return new RegistryError('AUTH', `credentials rejected by ${ctx.host}: its token service answered them with a token for no one (an empty subject)${repo === undefined ? '' : `, which it refuses for ${repo}`}`, {
        ...base,
        hint: mangledRobotHint(auth.username, auth.source) ?? `${passwordHint(auth)}; Harbor answers so a wrong user name or secret, and a robot account that has expired or is disabled (see the project's Robot Accounts)`,
      });
    }
    if (auth.withheld === 'redirect') {
      // The token request went to another origin by the token service's redirect, without the credentials; the token given
      // there was refused: it read "credentials rejected or no push permission", for credentials that never arrived.
      return new RegistryError('AUTH', `credentials were not sent to ${auth.redirectedTo ?? ''}, where the token service ${auth.realmHost ?? ''} redirected the token request, and ${ctx.host} refuses the token given there without them${repo === undefined ? '' : ` for ${repo}`}`, {
        ...base,
        hint: tokenRedirectHint(auth.realmHost ?? ''),
      });
    }
    if (auth.withheld === 'cross-host') {
      // The token service on another host gave a token to the request sent without credentials (Harbor does, for one naming
      // a scope), which the registry refused: it read "credentials rejected or no push permission", for credentials never sent.
      return new RegistryError('AUTH', `credentials were not sent to the token service ${auth.realmHost ?? ''}, which is on another host than ${ctx.host}, and ${ctx.host} refuses the token it gave without them${repo === undefined ? '' : ` for ${repo}`}`, {
        ...base,
        hint: `the token service ${auth.realmHost ?? ''} is on another host than the registry, so no credentials were sent to it; pass --allow-cross-host-auth if you trust it, or use the registry under the name its token service is at (Harbor's external_url)`,
      });
    }
    if (auth.scheme === 'basic' && ctx.status === 401) {
      return new RegistryError('AUTH', `credentials rejected by ${ctx.host}`, {
        ...base,
        hint: passwordHint(auth),
      });
    }
    if (repo !== undefined) {
      const detail = ctx.status === 403 && first !== undefined && first.message !== '' ? `: ${first.message}` : '';
      return new RegistryError('AUTH', `credentials rejected or no ${permissionWord(ctx.intent)} permission on ${repo}${detail}`, {
        ...base,
        hint:
          mangledRobotHint(auth.username, auth.source) ??
          `check that the user or robot account may ${permissionWord(ctx.intent)} ${repo}${auth.source === undefined ? '' : ` (credentials from ${auth.source})`}${loginAdvice(auth)}`,
      });
    }
    return new RegistryError('AUTH', `credentials rejected by ${ctx.host}`, {
      ...base,
      hint: passwordHint(auth),
    });
  }

  if (ctx.status === 404 || codes.has('NAME_UNKNOWN') || codes.has('MANIFEST_UNKNOWN') || codes.has('BLOB_UNKNOWN')) {
    if (codes.has('NAME_UNKNOWN')) {
      return new RegistryError('NOT_FOUND', `repository ${repo ?? '(unknown)'} not found on ${ctx.host}`, {
        ...base,
        hint: nameUnknownHint(ctx.host, repo),
      });
    }
    if (codes.has('MANIFEST_UNKNOWN')) {
      return new RegistryError('NOT_FOUND', `${ctx.subject ?? 'manifest'} not found in ${repo ?? ctx.host}`, {
        ...base,
        hint: 'check the name and version (packpub list shows what is published)',
      });
    }
    if (codes.has('BLOB_UNKNOWN')) {
      return new RegistryError('NOT_FOUND', `${ctx.subject ?? 'blob'} not found in ${repo ?? ctx.host}`, {
        ...base,
        hint: 'the registry lost or never received this content (a blob a manifest names is read again after pauses, in case a replica lags): push it again with --force, which sends the blobs the registry lacks (the version keeps its digest; a push without --force finds it unchanged); report it to the registry owner',
      });
    }
    return new RegistryError('NOT_FOUND', `${ctx.subject ?? redactUrl(ctx.url)} not found${repo === undefined ? ` on ${ctx.host}` : ` in ${repo}`}`, {
      ...base,
      hint: `check the host and base path (is ${ctx.host} an OCI registry?)`,
    });
  }

  if (codes.has('DIGEST_INVALID')) {
    return new RegistryError('DIGEST_MISMATCH', `${ctx.host} says the content of ${ctx.subject ?? 'the upload'} does not match its digest`, {
      ...base,
      hint: 'the file changed while it was uploaded, or something on the path altered it; build and push again',
    });
  }

  // An HTTPS server answers a plain-HTTP request with 400 and a body saying so (Go: "Client sent an HTTP
  // request to an HTTPS server", nginx: "The plain HTTP request was sent to HTTPS port"); loopback hosts
  // get plain HTTP automatically, as ORAS does.
  if (ctx.status === 400 && ctx.url.protocol === 'http:' && /https/i.test(ctx.body.subarray(0, 4096).toString('utf8'))) {
    return new RegistryError('REGISTRY', `${ctx.host} serves HTTPS, but packpub spoke plain HTTP to it (${ctx.method} ${redactUrl(ctx.url)} answered 400)`, {
      ...base,
      hint: isLoopbackHost(ctx.host)
        ? `plain HTTP is automatic for localhost, 127.0.0.0/8 and [::1]: pass ${plainHttpFlags(ctx.plainHttpFlag).off} to use HTTPS (with ${plainHttpFlags(ctx.plainHttpFlag).caFile} for a private CA)`
        : `drop ${plainHttpFlags(ctx.plainHttpFlag).on} (and plainHttp in packpub.yaml) to use HTTPS`,
    });
  }

  // nginx in front of a registry (Harbor's usual setup) with ssl_verify_client on completes the handshake
  // and answers 400 instead of sending a TLS alert.
  if (ctx.status === 400 && ctx.url.protocol === 'https:') {
    const text = ctx.body.subarray(0, 4096).toString('utf8');
    if (/No required SSL certificate was sent/i.test(text)) {
      return new RegistryError('TLS', `${ctx.host} requires a client certificate (answered 400: No required SSL certificate was sent)`, { ...base, hint: CLIENT_CERT_NEEDED_HINT });
    }
    if (/The SSL certificate error/i.test(text)) {
      return new RegistryError('TLS', `${ctx.host} rejected the client certificate (answered 400: The SSL certificate error)`, { ...base, hint: CLIENT_CERT_REJECTED_HINT });
    }
  }

  const retryable = isRetryableStatus(ctx.status) && !errors.some((e) => NON_RETRYABLE_CODES.has(e.code));
  const where = `${ctx.method} ${redactUrl(ctx.url)}`;
  const attempts = ctx.attempts !== undefined && ctx.attempts > 1 ? ` after ${ctx.attempts} attempts` : '';
  const status = `${ctx.status}${ociText === '' ? '' : ` ${ociText}`}`;
  let hint: string | undefined;
  if (ctx.status === 429) hint = 'the registry is rate limiting; wait and run again, or push fewer packs at once';
  else if (ctx.status >= 500) hint = `${ctx.host} is failing; try again later or check the registry's health`;
  else if (codes.has('TAG_INVALID') && /immutable|overwritten/i.test(first?.message ?? '')) {
    hint = 'the tag is immutable on this registry; publish a new version instead';
  } else if (ctx.method === 'PUT' && /\/manifests\/[^/]+$/.test(ctx.url.pathname) && (codes.has('MANIFEST_INVALID') || codes.has('UNSUPPORTED'))) {
    // A registry that takes container images only refuses a pack's manifest (it had no hint): say what a pack is.
    hint = `a pack is an OCI artifact as ORAS 1.0 writes it (an OCI image manifest whose config is application/vnd.unknown.config.v1+json, one layer application/vnd.oci.image.layer.v1.tar): a registry that takes container images only refuses it (Quay without FEATURE_GENERAL_OCI_SUPPORT and that config type in ALLOWED_OCI_ARTIFACT_TYPES); let ${ctx.host} take OCI artifacts, or publish to a registry that does`;
  } else if (codes.has('MANIFEST_BLOB_UNKNOWN')) {
    hint = 'the registry says it does not hold a blob the manifest names (push and copy send every blob it does not say it holds, and read a blob it says it holds: it lost it, or a replica or cache in front of it answers for it): run again; if it persists, check the cache or proxy in front of the registry and report it to the registry owner';
  } else if (ctx.status === 412) hint = 'a registry policy (immutable tag rule, signature or vulnerability policy) refused it';
  else if (ctx.status === 405 && (ctx.method === 'POST' || ctx.method === 'PUT' || ctx.method === 'PATCH') && /^\/v2\/.+\/(blobs\/uploads|manifests)\//.test(ctx.url.pathname)) {
    // distribution in read-only mode answers every write 405 "Method not allowed" with `Allow: GET, HEAD` (no OCI error):
    // it read "does not allow this operation", which named neither the mode nor what to do.
    const allowed = ctx.allow === undefined || ctx.allow.trim() === '' ? 'no writes' : `only ${shown(ctx.allow.trim().slice(0, 60))}`;
    hint = `${ctx.host} takes ${allowed} there: a registry in read-only mode (distribution: storage.maintenance.readonly), or a mirror (pull-through cache) or proxy that takes no pushes; push to a registry that takes writes, or ask its owner to end the read-only mode`;
  } else if (ctx.status === 405) hint = `${ctx.host} does not allow this operation`;
  else if (ctx.status === 413) {
    // nginx's default client_max_body_size is 1 MiB: a registry behind an nginx left at it refuses every larger layer.
    hint = `the registry or a proxy in front of it refuses request bodies this large (nginx's client_max_body_size, a load balancer's limit): raise it for ${ctx.host}'s /v2/ paths; packpub sends each blob in one PUT, as ORAS does`;
  }
  else if (ctx.status === 431 || (ctx.status === 400 && /Request Header Or Cookie Too Large/i.test(ctx.body.subarray(0, 4096).toString('utf8')))) {
    // 431 (RFC 6585), or nginx's 400 past large_client_header_buffers (8 KiB a line): a token service's long Bearer token.
    hint = `the registry or a proxy in front of it refuses request headers this large (431; nginx: large_client_header_buffers): the token its token service issued is the longest header packpub sends; raise the limit for ${ctx.host}, or ask for a shorter token`;
  }
  else if (ctx.status === 400 && ctx.method === 'HEAD' && ctx.url.protocol === 'http:' && ociText === '') {
    // An HTTPS server answers plain HTTP with 400 and says so in the body; a HEAD answer has none to read.
    const flags = plainHttpFlags(ctx.plainHttpFlag);
    hint = isLoopbackHost(ctx.host)
      ? `if ${ctx.host} serves HTTPS: plain HTTP is automatic for localhost, 127.0.0.0/8 and [::1]; pass ${flags.off} (with ${flags.caFile} for a private CA)`
      : `if ${ctx.host} serves HTTPS, drop ${flags.on} (and plainHttp in packpub.yaml)`;
  }
  else if (ctx.status >= 200 && ctx.status < 400) {
    // A success or redirect status the distribution API (or Harbor's) does not give to this request (a 206 to a whole
    // manifest GET, a 302 without a Location, a 200 to an upload's PUT): not an error, not the answer either.
    return new RegistryError('REGISTRY', `${ctx.host} answered ${status}${attempts} to ${where}, a status a registry does not give to this request`, {
      ...base,
      hint: `the registry or a proxy in front of it answers in a way packpub cannot trust; run again, and if it persists check the proxy (or bypass it) and report it to the registry's owner`,
    });
  }
  return new RegistryError('REGISTRY', `${ctx.host} answered ${status}${attempts} (${where})`, {
    ...base,
    retryable,
    retryAfterMs: ctx.retryAfterMs,
    ...(hint === undefined ? {} : { hint }),
  });
}

const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ERR_STREAM_PREMATURE_CLOSE']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ESOCKETTIMEDOUT']);

export interface NetworkErrorContext {
  method: string;
  url: URL;
  /** A client certificate was presented to this host (mTLS). */
  clientCertificate?: boolean;
  /** As ResponseErrorContext.plainHttpFlag. */
  plainHttpFlag?: string | undefined;
  /** This host answered a request earlier in this run: a refused connection is a restart, retried (chaos s22 F6). */
  answeredBefore?: boolean;
  /** The CA file the transport trusts besides the public roots, as the user named it (`--ca-file`, a packpub.yaml key) and the file. */
  caFile?: { setting: string; file: string } | undefined;
  /** The proxy an HTTPS connection went through (a CONNECT tunnel), as messages name it: a proxy may inspect TLS. */
  tunnelledThrough?: string | undefined;
}

const CLIENT_CERT_NEEDED_HINT = 'pass --cert-file CERT --key-file KEY with a client certificate the registry trusts (mTLS)';
const CLIENT_CERT_REJECTED_HINT = 'check that --cert-file is signed by a CA the registry trusts, is valid now and allows client authentication (extendedKeyUsage clientAuth)';

/**
 * TLS alerts a server sends about the client's certificate (RFC 8446 6.2): bad_certificate (42),
 * certificate_revoked/expired/unknown (44-46), unknown_ca (48), access_denied (49), certificate_required
 * (116). OpenSSL reports them as ERR_SSL_<version>_ALERT_<name>; the OpenSSL of Node 22 and later names the
 * version `SSL/TLS` (ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE, what a Go registry's TLS 1.3 refusal gives there), which
 * read as "connection closed unexpectedly", retried, with no word of the certificate.
 */
const CLIENT_CERT_ALERT = /^ERR_SSL_(?:SSLV3|TLSV1|TLSV13|SSL\/TLS)_ALERT_(BAD_CERTIFICATE|CERTIFICATE_(?:REVOKED|EXPIRED|UNKNOWN|REQUIRED)|UNKNOWN_CA|ACCESS_DENIED)$/;

/** True for the TLS alert a server sends when it wants (another) client certificate. */
export function isClientCertificateAlert(code: string | undefined): boolean {
  return code !== undefined && CLIENT_CERT_ALERT.test(code);
}

/** The names a certificate Node refused for another host name holds (`DNS:a, IP Address:b`), cut for messages; undefined when not said. */
function certificateNames(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    const names = (e as { cert?: { subjectaltname?: unknown } }).cert?.subjectaltname;
    if (typeof names === 'string' && names !== '') return redactText(names.length > 200 ? `${names.slice(0, 200)}...` : names);
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * A server certificate that did not pass verification, said by why. Each read "could not be verified", hint "pass
 * --ca-file <pem> for a private CA": also to a user who had passed --ca-file (a file without the CA that signed it),
 * and for a certificate of other names or out of its dates, which no CA file makes good.
 */
function certificateRefused(err: unknown, code: string | undefined, ctx: NetworkErrorContext, base: RegistryErrorInit): RegistryError {
  const host = ctx.url.host;
  // copy names the side's flags (--to-ca-file, --from-insecure)
  const flags = plainHttpFlags(ctx.plainHttpFlag);
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH') {
    const names = certificateNames(err);
    const port = ctx.url.port === '' ? (ctx.url.protocol === 'https:' ? '443' : '80') : ctx.url.port;
    return new RegistryError('TLS', `TLS certificate of ${host} is not for the name ${ctx.url.hostname}${names === undefined ? '' : ` (it names ${names})`} (${code})`, {
      ...base,
      hint: `reach the registry by a name its certificate holds (when that name does not resolve here: --resolve NAME:${port}:ADDRESS), or have its owner add ${ctx.url.hostname} to the certificate (${flags.insecure} skips verification)`,
    });
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return new RegistryError('TLS', `TLS certificate of ${host} (or of a CA that signed it) ${code === 'CERT_HAS_EXPIRED' ? 'has expired' : 'is not valid yet'} (${code})`, {
      ...base,
      hint: `its owner must ${code === 'CERT_HAS_EXPIRED' ? 'renew' : 'replace'} it; if it should be valid now, check this machine's clock (it reads ${new Date().toISOString().slice(0, 19)}Z) (${flags.insecure} skips verification)`,
    });
  }
  // Through a CONNECT tunnel the certificate may be the proxy's own (a corporate proxy inspecting TLS), not the registry's.
  const proxied = ctx.tunnelledThrough === undefined ? '' : `; HTTPS to ${host} goes through the proxy ${ctx.tunnelledThrough}: one that inspects TLS shows certificates its own CA signed, and that CA is the one to give`;
  if (ctx.caFile !== undefined) {
    return new RegistryError('TLS', `TLS certificate of ${host} could not be verified, also with the CA file given (${ctx.caFile.setting} ${ctx.caFile.file}) (${code})`, {
      ...base,
      hint: `${ctx.caFile.setting} holds no CA that signed it: give the CA certificate that did (a self-signed certificate: the certificate itself; signed by an intermediate CA the registry does not send: that one too), or ${flags.insecure} to skip verification${proxied}`,
    });
  }
  return new RegistryError('TLS', `TLS certificate of ${host} could not be verified (${code})`, {
    ...base,
    hint: `pass ${flags.caFile} <pem> for a private CA (or ${flags.insecure} to skip verification)${proxied}`,
  });
}

/** Map a failure below HTTP (DNS, TCP, TLS, timeouts) to NETWORK or TLS, with what to check. */
export function errorFromNetwork(err: unknown, ctx: NetworkErrorContext): PackpubError {
  if (err instanceof PackpubError) return err;
  const code = systemErrorCode(err);
  const host = ctx.url.host;
  const base: RegistryErrorInit = { method: ctx.method, url: ctx.url, cause: err };
  const message = err instanceof Error ? err.message : String(err);
  if (isCertificateVerifyError(code)) return certificateRefused(err, code, ctx, base);
  if (isClientCertificateAlert(code)) {
    const alert = (CLIENT_CERT_ALERT.exec(code ?? '')?.[1] ?? '').toLowerCase().replace(/_/g, ' ');
    return ctx.clientCertificate === true
      ? new RegistryError('TLS', `${host} rejected the client certificate (TLS alert: ${alert})`, { ...base, hint: CLIENT_CERT_REJECTED_HINT })
      : new RegistryError('TLS', `${host} requires a client certificate (TLS alert: ${alert})`, { ...base, hint: CLIENT_CERT_NEEDED_HINT });
  }
  if (code === 'EPROTO' || /wrong version number|packet length too long|SSL routines/i.test(message)) {
    return new RegistryError('NETWORK', `${host} did not answer with TLS`, {
      ...base,
      hint: `is it a plain HTTP registry? pass ${plainHttpFlags(ctx.plainHttpFlag).on}`,
    });
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') {
    return new RegistryError('NETWORK', `cannot resolve host ${ctx.url.hostname}`, {
      ...base,
      retryable: code === 'EAI_AGAIN',
      hint: 'check the registry host name and your DNS (or map it with --resolve HOST:PORT:ADDRESS)',
    });
  }
  if (code === 'ECONNREFUSED') {
    // Refused before anything was sent: safe to repeat. A host that answered earlier in this run is restarting (a
    // rolling update, a crash and restart): retried within --retry-attempts and --retry-deadline, not the end of
    // every pack left. One that never answered stays a fast failure (a wrong host or port).
    if (ctx.answeredBefore === true) {
      return new RegistryError('NETWORK', `connection refused by ${host}, which answered earlier in this run`, {
        ...base,
        retryable: true,
        hint: 'the registry went away (restarting?) and did not come back within the retries: run again once it is up (unchanged packs are not sent again); more time: --retry-attempts, --retry-deadline',
      });
    }
    return new RegistryError('NETWORK', `connection refused by ${host}`, {
      ...base,
      hint: `check the host and port and that the registry is running${ctx.url.protocol === 'https:' ? ` (an HTTP-only registry needs ${plainHttpFlags(ctx.plainHttpFlag).on})` : ''}`,
    });
  }
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return new RegistryError('NETWORK', `${host} is unreachable`, { ...base, hint: 'check the network route, VPN or proxy to the registry' });
  }
  if (code !== undefined && TIMEOUT_CODES.has(code)) {
    return new RegistryError('NETWORK', `timed out waiting for ${host}`, {
      ...base,
      retryable: true,
      hint: 'check connectivity to the registry; raise --request-timeout for a slow registry',
    });
  }
  if (code === 'UND_ERR_SOCKET' && (message === 'bad response' || message === 'bad upgrade')) {
    // undici drops the connection on bytes that answer no request (a 100 Continue after the answer, say: one before it
    // is read past, unasked-continue.ts, unless its head is over 16 KiB) and on an answer that switches protocols
    // unasked: not a connection the registry dropped, as the reset below would say.
    const what = message === 'bad upgrade' ? 'a switch to another protocol (101)' : 'an answer to no request (or a 100 Continue whose head is over 16 KiB)';
    return new RegistryError('NETWORK', `${host} answered ${ctx.method} ${redactUrl(ctx.url)} with ${what}, which packpub did not ask for and cannot read`, {
      ...base,
      retryable: true,
      hint: 'the registry or a proxy in front of it does not answer as plain HTTP/1.1 (the request may have been carried out all the same): bypass the proxy, or report it to the registry owner',
    });
  }
  if (code !== undefined && RESET_CODES.has(code)) {
    return new RegistryError('NETWORK', `connection to ${host} was closed unexpectedly`, {
      ...base,
      retryable: true,
      hint: 'the registry or a proxy dropped the connection; run again, and check proxies or firewalls if it persists',
    });
  }
  if (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
    // The body ended before (or ran past) its Content-Length: cut short on the way, like a reset mid-body.
    return new RegistryError('NETWORK', `an answer from ${host} did not have the length it announced (cut off on the way)`, {
      ...base,
      retryable: true,
      hint: 'the registry or a proxy cut the answer short; run again, and check proxies or firewalls if it persists',
    });
  }
  if (err instanceof Error && err.name === 'HTTPParserError' && !/Expected HTTP\//.test(message)) {
    // An HTTP answer HTTP/1.1 does not allow (Content-Length beside Transfer-Encoding, a bare LF ending a line): was
    // "request to <host> failed: ...", hinted "check the registry address and your network". Not HTTP at all (a TLS
    // port asked in plain HTTP) keeps that below.
    const why = /\((.*)\)\s*$/.exec(message)?.[1] ?? message;
    return new RegistryError('NETWORK', `${host} answered ${ctx.method} ${redactUrl(ctx.url)} in a way HTTP/1.1 does not allow (${redactText(why).slice(0, 200)})`, {
      ...base,
      retryable: true,
      hint: 'the registry or a proxy in front of it does not answer as plain HTTP/1.1 (the request may have been carried out all the same): bypass the proxy, or report it to the registry owner',
    });
  }
  if (code === 'UND_ERR_HEADERS_OVERFLOW') {
    return new RegistryError('REGISTRY', `${host} answered with headers larger than ${Math.round(process.getBuiltinModule('node:http').maxHeaderSize / 1024)} KiB`, {
      ...base,
      hint: 'the registry or a proxy in front of it sends oversized headers; report it to its owner',
    });
  }
  if (code === 'UND_ERR_ABORTED' || code === 'ABORT_ERR' || (err instanceof Error && err.name === 'AbortError')) {
    return new PackpubError('ABORTED', `request to ${host} was cancelled`, { cause: err });
  }
  return new RegistryError('NETWORK', `request to ${host} failed: ${redactText(message)}${code === undefined ? '' : ` (${code})`}`, {
    ...base,
    hint: 'check the registry address and your network',
  });
}

/**
 * The errors of a manifest answer over the 4 MiB limit (oci/manifest.ts MAX_MANIFEST_BYTES): what the tag holds is no pack
 * (list says so and lists on). Here, not in client.ts: list of an OCI layout asks isOversizedManifest without loading
 * the registry client and its HTTP stack.
 */
const oversized = new WeakSet<object>();

/** Whether `err` (or its cause) refused a manifest answer over the 4 MiB limit. */
export function isOversizedManifest(err: unknown): boolean {
  const cause = (err as { cause?: unknown } | undefined)?.cause;
  return (typeof err === 'object' && err !== null && oversized.has(err)) || (typeof cause === 'object' && cause !== null && oversized.has(cause));
}

/** The error for a manifest answer over the 4 MiB limit (isOversizedManifest says it is one). */
export function oversizedManifest(message: string): PackpubError {
  const err = new PackpubError('REGISTRY', message, { hint: 'a pack manifest is under 1 KiB: check the name and version, or whether something between rewrote the answer' });
  oversized.add(err);
  return err;
}
