import { Agent, buildConnector, request, type Dispatcher } from 'undici';
import { PackpubError, errorMessage } from '../errors.js';
import { checkOptions, type OptionShape } from '../util/options.js';
import { redactText, registerSecret } from '../util/redact.js';
import { isCertificateVerifyError, RegistryError, systemErrorCode } from '../registry/errors.js';
import { loadCaFile, makeSecureContext } from '../registry/http.js';
import { currentRetryClock, MAX_RETRY_AFTER_MS, parseRetryAfter, RETRY_DEFAULTS, RetryBudget, RetryPolicy, type RetryClock, type RetryOptions } from '../registry/retry.js';
import { paletteBaseUrl } from './endpoint.js';
import { ProxyError, proxySettings, tunnelIfProxied, urlPort } from '../net/proxy.js';
import { PaletteUnavailable } from './errors.js';
import { PALETTE_CLIENT_RATE, sharedBucket, type RateLimit, type TokenBucket } from './rate-limit.js';
import type {
  PaletteBasicSpec,
  PaletteEcrSpec,
  PaletteErrorBody,
  PalettePackTags,
  PaletteRegistry,
  PaletteRegistryFlavour,
  PaletteRegistrySummary,
  PaletteSyncStatus,
} from './types.js';

/*
 * A small client for Palette's REST API (palette-api.md). Its own undici Agent, so the API key is only
 * ever sent to the Palette endpoint: `ApiKey` header on every request, no redirects followed. Registry
 * calls go at tenant scope (no ProjectUid: registries are tenant-level); pack calls carry `ProjectUid`
 * when a project is given. Requests are paced per path prefix under Palette's rate limit; 429, 5xx, and
 * dropped or stalled answers are retried by the registries' RetryPolicy, with the same RetryOptions
 * (--retry-attempts, --retry-deadline, --retry-delay, --request-timeout) and defaults. A call that must not
 * be sent twice (creating a registry) is repeated only after 429 and 503, which Palette answers before it acts.
 */

export interface PaletteClientOptions {
  /** Host or URL of the Palette API; default the SaaS API. */
  endpoint?: string;
  apiKey: string;
  /** Project uid for pack calls (header ProjectUid); registry calls are always tenant-scoped. */
  projectUid?: string;
  /** PEM file with a CA for a self-hosted Palette. */
  caFile?: string;
  /** Where `caFile` was given, for messages (default `--palette-ca-file`). */
  caFileSource?: string;
  insecure?: boolean;
  clock?: RetryClock;
  rate?: RateLimit;
  /**
   * Retries of 429 / 5xx / resets / timeouts, as for registries (defaults RETRY_DEFAULTS; the
   * CLI passes --retry-attempts, --retry-deadline, --retry-delay, --request-timeout). `requestTimeoutMs`: the
   * whole answer, body included, must arrive within it, and within what is left of the retry deadline and of
   * the call's own deadline (at least 1 s). A Retry-After is honoured (at most 60 s), never past a deadline.
   */
  retry?: RetryOptions;
  debug?: (line: string) => void;
  userAgent?: string;
  /**
   * Palette accepted this key earlier in the run, through another client (push --palette-sync's pre-flight): a 401
   * then says the key expired or was revoked, as after a call of this client.
   */
  keyAccepted?: boolean;
  /** Where HTTPS_PROXY / NO_PROXY are read from (net/proxy.ts); default process.env. */
  env?: NodeJS.ProcessEnv;
}

const CLIENT_OPTIONS: OptionShape<PaletteClientOptions> = {
  ...{ endpoint: 'string', apiKey: 'string', projectUid: 'string', caFile: 'string', caFileSource: 'string', insecure: 'boolean', clock: 'object' },
  ...{ rate: 'object', retry: 'object', debug: 'function', userAgent: 'string', keyAccepted: 'boolean', env: 'object' },
};

interface CallOptions {
  query?: Record<string, string | boolean>;
  body?: unknown;
  /** Statuses answered with undefined instead of an error. */
  allow?: number[];
  /** What the call does, for messages ("list registries"). */
  what: string;
  /** Clock time after which no retry starts and no request waits (the sync's deadline). */
  deadline?: number | undefined;
  /**
   * A call that must not be sent twice (creating a registry): after an answer that may come after Palette acted
   * (500, 502, 504, a dropped, stalled or cut answer) it is not repeated, and the error gets this hint; only 429
   * and 503, answered before Palette acts, are retried.
   */
  once?: { hint: string };
  /** A pack call sent at tenant scope even when the client has a project (the project check compares both). */
  tenant?: boolean;
}

interface CallResult<T> {
  status: number;
  body: T | undefined;
  /** The answer's Date header (Palette's clock), when given. */
  date?: string;
  /** An allowed error status's body as sent, for a message when it is not JSON. */
  text?: string;
}

/**
 * A failed attempt worth another (429, 5xx, a dropped or stalled answer), as RetryPolicy
 * reads one; `final` is the error shown once no other attempt comes.
 */
class PaletteRetryable extends RegistryError {
  constructor(
    /** What went wrong, for --debug ("503", "ECONNRESET"). */
    what: string,
    readonly final: (attempts: number, stopped: string) => PackpubError,
    init: { status?: number; retryAfterMs?: number | undefined; cause?: unknown } = {},
    /** What Palette asked to wait (Retry-After) before clamping, for the message. */
    readonly askedMs?: number,
  ) {
    super('PALETTE', what, { retryable: true, status: init.status, retryAfterMs: init.retryAfterMs, cause: init.cause });
  }
}
/** What a sync request may be refused with while a sync runs (undocumented): told from another refusal by the sync status. */
const SYNC_REFUSALS = [400, 409, 412, 422, 423];
/** Items a page of the pack search holds at most (the spec's default and maximum `limit`). */
const SEARCH_PAGE = 50;
/** Pages of one list call at most (50 items each: 50 000 registries). */
const MAX_LIST_PAGES = 1_000;
/**
 * The most of one answer that is read: Palette's are a page of registries or one pack's tags (kilobytes). A server
 * answering more (a proxy's download, a loop) would otherwise be held in memory whole, and JSON whitespace read as `{}`.
 */
const MAX_ANSWER_BYTES = 16 << 20;

/** The body of an answer as text, or undefined once it passes `limit` bytes (the rest is not read). */
async function boundedText(body: AsyncIterable<Buffer> & { destroy(): unknown }, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks, size).toString('utf8');
  // As fetch's text() reads it: a UTF-8 byte order mark is not part of the text.
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

export class PaletteClient {
  readonly baseUrl: URL;
  readonly projectUid: string | undefined;
  private readonly apiKey: string;
  private readonly agent: Agent;
  private readonly clock: RetryClock;
  private readonly rate: RateLimit;
  private readonly retry: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly debug: ((line: string) => void) | undefined;
  private readonly userAgent: string;
  /** Palette answered a call of this client with success: a 401 after it means the key stopped being accepted. */
  private accepted = false;
  /** While set (whileNotAborted), every call is given up when it aborts: the request in flight and any retry. */
  private signal: AbortSignal | undefined;

  constructor(options: PaletteClientOptions) {
    // A JavaScript caller's mistake (no apiKey, a misspelt projectUID read as tenant scope) refused before any call.
    checkOptions('new PaletteClient', options, CLIENT_OPTIONS, ['apiKey']);
    if (options.apiKey.trim() === '') {
      throw new PackpubError('USAGE', 'the Palette API key is empty', {
        hint: 'set SPECTROCLOUD_APIKEY or pipe the key to --palette-api-key-stdin',
      });
    }
    this.baseUrl = paletteBaseUrl(options.endpoint);
    this.apiKey = options.apiKey.trim();
    registerSecret(this.apiKey);
    // An HTTP header value holds no line break, no other control character than a tab, and nothing past U+00FF: such a
    // key failed every request as "cannot reach Palette ... invalid apikey header", pointing to the endpoint and network.
    if (/[\0-\x08\x0a-\x1f\x7f]|[^\0-\xff]/.test(this.apiKey)) {
      throw new PackpubError('USAGE', `the Palette API key holds ${/[\r\n]/.test(this.apiKey) ? 'a line break' : 'a character that cannot be sent in an HTTP header'}: it is not an API key`, {
        hint: 'check SPECTROCLOUD_APIKEY (or the variable palette.apiKeyEnv names, or what was piped to --palette-api-key-stdin): an API key is one line of letters and digits; a secret saved with two lines or with quotes often does this',
      });
    }
    this.projectUid = options.projectUid === undefined || options.projectUid === '' ? undefined : options.projectUid;
    this.accepted = options.keyAccepted === true;
    this.clock = options.clock ?? currentRetryClock();
    this.rate = options.rate ?? PALETTE_CLIENT_RATE;
    this.debug = options.debug;
    this.retry = new RetryPolicy({
      ...options.retry,
      clock: this.clock,
      onRetry: ({ attempt, attempts, delayMs, error }) => this.debug?.(`palette: attempt ${attempt} of ${attempts} failed (${errorMessage(error)}); next in ${delayMs} ms`),
    });
    this.timeoutMs = options.retry?.requestTimeoutMs ?? RETRY_DEFAULTS.requestTimeoutMs;
    this.userAgent = options.userAgent ?? 'packpub';
    const ca = options.caFile === undefined ? undefined : loadCaFile(options.caFile, options.caFileSource ?? '--palette-ca-file', "Palette's certificate");
    const rejectUnauthorized = options.insecure !== true;
    // With a CA file: its trust store made into a context on the first connection, not parsed again for each
    // (issue 16), and shared with later clients of this process given the same file (makeSecureContext); the
    // connector, and so its TLS sessions, is this client's own. A client made only to check the settings
    // (push --palette-sync) never makes it.
    // Through the proxy HTTPS_PROXY names (unless NO_PROXY, or a loopback Palette): a CONNECT tunnel with TLS to
    // Palette on top (net/proxy.ts). A proxy that cannot be used (SOCKS) is refused now, before any call.
    const proxies = proxySettings(options.env);
    proxies.routeFor(this.baseUrl.protocol, this.baseUrl.hostname, urlPort(this.baseUrl));
    let connector: buildConnector.connector | undefined;
    const direct: buildConnector.connector = (opts, callback) =>
      (connector ??= buildConnector(ca === undefined ? { rejectUnauthorized } : { rejectUnauthorized, secureContext: makeSecureContext({ ca }) }))(opts, callback);
    const timeoutMs = Math.min(this.timeoutMs, 30_000);
    this.agent = new Agent({
      connect:
        ca === undefined && !proxies.any
          ? { rejectUnauthorized }
          : (opts, callback) => {
              const https = opts.protocol === 'https:';
              const port = Number(opts.port) || (https ? 443 : 80);
              const tunnel = () => ({ timeoutMs, secureContext: ca === undefined ? undefined : makeSecureContext({ ca }) });
              const through = (httpSocket: unknown) => direct({ ...opts, httpSocket } as buildConnector.Options, callback);
              if (https && proxies.any && tunnelIfProxied(proxies, opts.hostname, port, tunnel(), through, (err) => callback(err, null))) return;
              direct(opts, callback);
            },
      connections: 4,
    });
  }

  /** `host[:port]` of the API, for messages. */
  get host(): string {
    return this.baseUrl.host;
  }

  /**
   * Run `fn` with every call of this client given up when `signal` aborts: the request in flight is cancelled and no
   * retry starts (PackpubError ABORTED). A sync's interrupt, or a library caller's; before, a call went on to its
   * answer and its retries (a Palette answering 503 kept an aborted sync retrying for seconds). One at a time per client.
   */
  async whileNotAborted<T>(signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    const outer = this.signal;
    this.signal = signal;
    try {
      return await fn();
    } finally {
      this.signal = outer;
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  // (a) GET /v1/registries/oci/summary, following `listmeta.continue` (v1ListMetaData) when Palette pages it
  async listOciRegistries(deadline?: number): Promise<PaletteRegistrySummary[]> {
    const what = 'list OCI registries';
    const out: PaletteRegistrySummary[] = [];
    const uids = new Set<string>();
    const tokens = new Set<string>();
    let query: Record<string, string> | undefined;
    for (let page = 1; ; page++) {
      // A next page past the deadline: each request would still get a second or more (call), up to MAX_LIST_PAGES of them.
      if (page > 1 && deadline !== undefined && this.clock.now() >= deadline) {
        throw new PackpubError('PALETTE', `Palette at ${this.host} did not finish answering ${what} by the deadline (--palette-timeout): ${page - 1} page${page === 2 ? '' : 's'} read, and it asks for more`, {
          hint: 'Palette (or a proxy in front of it) pages the list slowly: raise --palette-timeout, or check --palette-endpoint; run with --debug to see each page',
        });
      }
      const res = await this.call<{ items?: PaletteRegistrySummary[] }>('GET', '/v1/registries/oci/summary', { what, deadline, ...(query === undefined ? {} : { query }) });
      // Only a first answer may be empty (no registries); a page asked for with a continue token must be a list.
      const body = this.expectObject(res.body, what, page === 1);
      const items = (body['items'] ?? []) as unknown;
      if (!Array.isArray(items)) throw this.unexpected(what, 'items is not a list');
      const known = uids.size;
      for (const item of items as unknown[]) {
        const uid = isObject(item) && isObject(item['metadata']) ? item['metadata']['uid'] : undefined;
        if (typeof uid !== 'string' || uid === '') throw this.unexpected(what, 'a registry has no metadata.uid');
        const spec = (item as Record<string, unknown>)['spec'];
        if (spec !== undefined && spec !== null && !isObject(spec)) throw this.unexpected(what, `registry ${uid}: spec is not an object`);
        this.expectStrings((item as { metadata: Record<string, unknown> }).metadata, ['name'], what, `registry ${uid}: metadata.`);
        if (isObject(spec)) this.expectStrings(spec, ['endpoint', 'registryType', 'providerType'], what, `registry ${uid}: spec.`);
        // A registry shifted across a page boundary meanwhile comes twice: it is still one registry.
        if (uids.has(uid)) continue;
        uids.add(uid);
        // One with no name (left out, null, empty) is named by its uid in every message: its name printed crashed the run.
        const meta = (item as { metadata: Record<string, unknown> }).metadata;
        const named = typeof meta['name'] === 'string' && meta['name'] !== '' ? item : { ...(item as Record<string, unknown>), metadata: { ...meta, name: uid } };
        out.push(withoutUserinfo(named) as unknown as PaletteRegistrySummary);
      }
      const next = this.nextPage(body, what);
      if (next === undefined) return out;
      // A server (or proxy) that hands out the same token again, or pages that bring nothing new, would page forever.
      if (tokens.has(next.token) || (page > 1 && uids.size === known)) {
        const why = tokens.has(next.token) ? 'a continue token it had already given' : 'a page of no new registry that still asks to continue';
        throw new PackpubError('PALETTE', `Palette at ${this.host} answered ${what} with ${why} (page ${page}): the list would never end`, {
          hint: 'a proxy or cache in front of the API may replay pages: check --palette-endpoint; run with --debug and report it',
        });
      }
      if (page >= MAX_LIST_PAGES) {
        throw new PackpubError('PALETTE', `Palette at ${this.host} answered ${what} with more than ${MAX_LIST_PAGES} pages`, {
          hint: 'check --palette-endpoint; run with --debug and report it',
        });
      }
      tokens.add(next.token);
      query = { continue: next.token, ...(next.offset === undefined ? {} : { offset: String(next.offset) }) };
    }
  }

  /**
   * The next page of a list answer (palette-api-subset.yaml, v1ListMetaData): `listmeta.continue` is the
   * token to re-send as `?continue=`, empty at the end; `listmeta.offset` the next index, sent along.
   */
  private nextPage(body: Record<string, unknown>, what: string): { token: string; offset?: number } | undefined {
    const meta = body['listmeta'];
    if (meta === undefined || meta === null) return undefined;
    if (!isObject(meta)) throw this.unexpected(what, 'listmeta is not an object');
    const token = meta['continue'];
    if (token === undefined || token === null || token === '') return undefined;
    if (typeof token !== 'string') throw this.unexpected(what, 'listmeta.continue is not a string');
    const offset = meta['offset'];
    if (offset === undefined || offset === null) return { token };
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) throw this.unexpected(what, 'listmeta.offset is not a non-negative integer');
    return { token, offset };
  }

  // (b) GET /v1/registries/oci/{uid}/basic|ecr; undefined on 404 (wrong flavour or gone)
  async getRegistry(uid: string, flavour: PaletteRegistryFlavour, deadline?: number): Promise<PaletteRegistry | undefined> {
    const res = await this.call<PaletteRegistry>('GET', `/v1/registries/oci/${encodeURIComponent(uid)}/${flavour}`, {
      what: `read registry ${uid}`,
      allow: [404],
      deadline,
    });
    if (res.status === 404) return undefined;
    // Read fields (spec.providerType, endpoint, baseContentPath) must be what they say, never a crash or "gone".
    const what = `read registry ${uid}`;
    const body = this.expectObject(res.body, what, false);
    const spec = body['spec'];
    if (!isObject(spec)) throw this.unexpected(what, 'spec is not an object');
    this.expectStrings(spec, ['endpoint', 'baseContentPath', 'providerType'], what, 'spec.');
    return withoutUserinfo(body) as unknown as PaletteRegistry;
  }

  /** Each of `fields` of `o` is a string, or absent (undefined or null). */
  private expectStrings(o: Record<string, unknown>, fields: readonly string[], what: string, prefix = ''): void {
    for (const field of fields) {
      if (o[field] !== undefined && o[field] !== null && typeof o[field] !== 'string') throw this.unexpected(what, `${prefix}${field} is not a string`);
    }
  }

  // (c) POST /v1/registries/oci/basic|ecr -> 201 {uid}
  async createRegistry(flavour: PaletteRegistryFlavour, name: string, spec: PaletteBasicSpec | PaletteEcrSpec): Promise<string> {
    const res = await this.call<{ uid?: string }>('POST', `/v1/registries/oci/${flavour}`, {
      what: `create registry ${name}`,
      body: { metadata: { name }, spec },
      once: { hint: 'Palette may have created it before the answer failed: run `packpub palette register` again, which uses a registry that serves the target instead of creating a second one' },
    });
    const uid = res.body?.uid;
    if (typeof uid !== 'string' || uid === '') {
      throw new PackpubError('PALETTE', `Palette created registry ${name} but returned no uid`, {
        hint: 'run packpub palette register again: it uses the registry if Palette created it, and creates one only if not; packpub palette doctor shows whether it exists',
      });
    }
    return uid;
  }

  // (d) POST /v1/registries/oci/basic|ecr/validate -> 204, or Palette's error
  async validateRegistry(flavour: PaletteRegistryFlavour, spec: PaletteBasicSpec | PaletteEcrSpec): Promise<void> {
    await this.call('POST', `/v1/registries/oci/${flavour}/validate`, { what: 'validate the registry settings', body: spec });
  }

  /**
   * (e) POST /v1/registries/oci/{uid}/basic|ecr/sync?forceSync= -> 202: undefined. What Palette answers while a sync
   * runs is undocumented (palette-api.md 5; neither its Go SDK nor its Terraform provider asks for a sync then): a
   * refusal that may say so (400, 409, 412, 422, 423) is returned with Palette's words (`conflict`, "409: <message>")
   * and the error it is otherwise (`error`), for the caller to tell by the sync status whether a sync runs.
   */
  async triggerSync(uid: string, flavour: PaletteRegistryFlavour, force: boolean, deadline?: number): Promise<{ status: number; conflict: string; error: PackpubError } | undefined> {
    const what = `sync registry ${uid}`;
    const path = `/v1/registries/oci/${encodeURIComponent(uid)}/${flavour}/sync`;
    const res = await this.call<PaletteErrorBody>('POST', path, { what, query: { forceSync: force }, deadline, allow: SYNC_REFUSALS });
    if (!SYNC_REFUSALS.includes(res.status)) return undefined;
    const body = errorBody(res.body);
    const said = body?.message === undefined ? '' : redactText(body.message).slice(0, 300);
    return { status: res.status, conflict: `${res.status}: ${said === '' ? 'no message' : said}`, error: this.errorFor(res.status, body, res.text ?? '', path, what) };
  }

  /**
   * (f) GET /v1/registries/oci/{uid}/basic|ecr/sync/status. `answeredAt`: Palette's own clock when it answered (the
   * answer's Date header, in ms, floored to the second as HTTP dates are), when given: the clock its run times are
   * told in, so a run time can be compared with a moment of this run whatever this machine's clock says.
   */
  async syncStatus(uid: string, flavour: PaletteRegistryFlavour, deadline?: number): Promise<PaletteSyncStatus & { answeredAt?: number }> {
    const what = `read the sync status of registry ${uid}`;
    const res = await this.call<PaletteSyncStatus>('GET', `/v1/registries/oci/${encodeURIComponent(uid)}/${flavour}/sync/status`, { what, deadline });
    // An empty or odd answer must not read as "pending" and keep the run waiting until its deadline.
    const body = this.expectObject(res.body, what, false);
    this.expectStrings(body, ['status', 'message', 'lastRunTime', 'lastSyncedTime'], what);
    if (body['isSyncSupported'] !== undefined && body['isSyncSupported'] !== null && typeof body['isSyncSupported'] !== 'boolean') {
      throw this.unexpected(what, 'isSyncSupported is not true or false');
    }
    const status = withoutNulls(body) as PaletteSyncStatus;
    const answeredAt = res.date === undefined ? Number.NaN : Date.parse(res.date);
    const at = Number.isNaN(answeredAt) ? {} : { answeredAt };
    // Palette's message is shown and put in reports: an echoed key or a URL with credentials must not pass through.
    return status.message === undefined ? { ...status, ...at } : { ...status, message: redactText(status.message), ...at };
  }

  // (g) GET /v1/packs/{name}/registries/{uid}; undefined on 404 or an empty answer (not indexed yet)
  async packTags(name: string, registryUid: string, deadline?: number): Promise<PalettePackTags | undefined> {
    const answer = await this.packTagsIn('project', name, registryUid, deadline);
    if (answer.refused !== undefined) throw answer.refused;
    return answer.entity;
  }

  /**
   * (g) at the client's scope (`project`: with its ProjectUid, if any) or at tenant scope: the pack's entity,
   * none for a 404, or for a 403 the error packTags throws (`refused`), so the project check can say what to fix.
   * `states` (`disabled`): the versions in those states, which a read without it leaves out when disabled.
   */
  async packTagsIn(scope: 'project' | 'tenant', name: string, registryUid: string, deadline?: number, states?: string): Promise<{ entity?: PalettePackTags; refused?: PackpubError }> {
    const what = `read pack ${name}${states === undefined ? '' : ` (states ${states})`}`;
    const path = `/v1/packs/${encodeURIComponent(name)}/registries/${encodeURIComponent(registryUid)}`;
    // `states` (comma-separated): the versions in those states, which a read without it leaves out when disabled (the spec).
    // A Palette refusing the parameter (400: one older than it) tells nothing: no entity, never an error ending the run.
    const res = await this.call<PalettePackTags>('GET', path, { what, allow: states === undefined ? [403, 404] : [400, 403, 404], deadline, tenant: scope === 'tenant', ...(states === undefined ? {} : { query: { states } }) });
    if (res.status === 404 || res.status === 400) return {};
    if (res.status === 403) {
      const body: unknown = res.body;
      const said = isObject(body) && typeof body['message'] === 'string' ? { message: body['message'] } : undefined;
      return { refused: this.errorFor(403, said, '', path, what, scope === 'project' ? this.projectUid : undefined) };
    }
    // As Palette's Go SDK reads (g): a 200 with no body, or `null`, is an entity with no tags (its readResponse lets
    // io.EOF pass), which Terraform's provider reads as "no pack found": not listed yet. It ended the run, exit 1.
    if (res.body === undefined || res.body === null) return {};
    const body = this.expectObject(res.body, what, false);
    const tags = body['tags'] ?? [];
    if (!Array.isArray(tags) || !(tags as unknown[]).every(isObject)) throw this.unexpected(what, 'tags is not a list of tags');
    // The versions' values are how a listed version is told read (operations/palette.ts): odd ones are no answer to judge by.
    const values = body['packValues'];
    if (values !== undefined && values !== null && !(Array.isArray(values) && (values as unknown[]).every(isObject))) throw this.unexpected(what, 'packValues is not a list of values');
    return { entity: body as PalettePackTags };
  }

  /**
   * (h) POST /v1/packs/search filtered to one registry, at the client's scope: the names of the packs Palette lists
   * through it (an item whose `spec.registries[]` holds the registry's uid), paging by `listmeta.continue`. A 404 is no
   * pack (as Palette's Go SDK reads it). Undefined, for the caller to read each pack instead, when the list would take
   * more than `maxPages` pages (`listmeta.count`, 50 a page), or is refused (400, 403) or not as documented: this
   * only saves reads, so an odd answer never stands for "not listed". Asked twice, the second time for the packs in
   * state `deprecated` alone, the names of both taken: a pack read (g) lists every pack but disabled ones, while the
   * search's default filter is not documented, and one that left deprecated packs out would let such a pack's version,
   * deleted and published again, go without the forced sync it needs. The second search's first page comes on top of
   * `maxPages`.
   */
  async packNamesIn(registryUid: string, maxPages: number, deadline?: number): Promise<Set<string> | undefined> {
    const names = new Set<string>();
    const budget = maxPages + 1;
    let pages = 0;
    for (const state of [undefined, ['deprecated']]) {
      const before = pages;
      const limit = state === undefined ? maxPages : budget;
      const what = `search the ${state === undefined ? '' : 'deprecated '}packs of registry ${registryUid}`;
      const body = { filter: { registryUid: [registryUid], ...(state === undefined ? {} : { state }) }, sort: [{ field: 'name', order: 'asc' }] };
      const tokens = new Set<string>();
      let query: Record<string, string> = { limit: String(SEARCH_PAGE) };
      for (;;) {
        if (++pages > limit) return undefined;
        const res = await this.call<unknown>('POST', '/v1/packs/search', { what, body, query, deadline, allow: [400, 403, 404] });
        if (res.status === 404) break;
        if (res.status !== 200 || !isObject(res.body) || !Array.isArray(res.body['items'])) return undefined;
        for (const item of res.body['items'] as unknown[]) {
          if (!isObject(item)) return undefined;
          const spec = item['spec'];
          const meta = item['metadata'];
          const name = isObject(spec) && typeof spec['name'] === 'string' && spec['name'] !== '' ? spec['name'] : isObject(meta) ? meta['name'] : undefined;
          const registries = isObject(spec) ? spec['registries'] : undefined;
          // Every registry entry must name its uid: one without would hide that the pack is listed through this registry.
          if (typeof name !== 'string' || name === '' || !Array.isArray(registries) || !(registries as unknown[]).every((r) => isObject(r) && typeof r['uid'] === 'string' && r['uid'] !== '')) return undefined;
          if ((registries as Record<string, unknown>[]).some((r) => r['uid'] === registryUid)) names.add(name);
        }
        let next: { token: string; offset?: number } | undefined;
        try {
          next = this.nextPage(res.body, what);
        } catch {
          return undefined;
        }
        if (next === undefined) break;
        const count = (res.body['listmeta'] as Record<string, unknown>)['count'];
        if (typeof count === 'number' && before + Math.ceil(count / SEARCH_PAGE) > limit) return undefined;
        // A replayed token would page forever: the pack reads are the way then.
        if (tokens.has(next.token)) return undefined;
        tokens.add(next.token);
        query = { limit: String(SEARCH_PAGE), continue: next.token, ...(next.offset === undefined ? {} : { offset: String(next.offset) }) };
      }
    }
    return names;
  }

  /**
   * (h) at the client's scope (`project`) or at tenant scope, one item asked for: the name of a pack Palette lists
   * through the registry there; false for none (no item, or a 404 as Palette's Go SDK reads it); `refused` for a 403
   * (the search refused there); undefined for an answer that tells nothing (400, or not as documented).
   */
  async packThrough(scope: 'project' | 'tenant', registryUid: string, deadline?: number): Promise<{ name: string } | false | 'refused' | undefined> {
    const what = `search the packs of registry ${registryUid}`;
    const body = { filter: { registryUid: [registryUid] }, sort: [{ field: 'name', order: 'asc' }] };
    const res = await this.call<unknown>('POST', '/v1/packs/search', { what, body, query: { limit: '1' }, deadline, allow: [400, 403, 404], tenant: scope === 'tenant' });
    if (res.status === 403) return 'refused';
    if (res.status === 404) return false;
    if (res.status !== 200 || !isObject(res.body) || !Array.isArray(res.body['items'])) return undefined;
    for (const item of res.body['items'] as unknown[]) {
      const spec = isObject(item) ? item['spec'] : undefined;
      if (!isObject(spec) || typeof spec['name'] !== 'string' || spec['name'] === '' || !Array.isArray(spec['registries'])) continue;
      if ((spec['registries'] as unknown[]).some((r) => isObject(r) && r['uid'] === registryUid)) return { name: spec['name'] };
    }
    return false;
  }

  /**
   * (h) at tenant scope, one item asked for, no filter: a pack Palette lists through any registry, as its name and the
   * uid of a registry listing it; undefined when there is none or the answer tells nothing (as packThrough's).
   */
  async anyPack(deadline?: number): Promise<{ name: string; registryUid: string } | undefined> {
    const what = 'search the packs of every registry';
    const res = await this.call<unknown>('POST', '/v1/packs/search', { what, body: { filter: {}, sort: [{ field: 'name', order: 'asc' }] }, query: { limit: '1' }, deadline, allow: [400, 403, 404], tenant: true });
    if (res.status !== 200 || !isObject(res.body) || !Array.isArray(res.body['items'])) return undefined;
    for (const item of res.body['items'] as unknown[]) {
      const spec = isObject(item) ? item['spec'] : undefined;
      if (!isObject(spec) || typeof spec['name'] !== 'string' || spec['name'] === '' || !Array.isArray(spec['registries'])) continue;
      const through = (spec['registries'] as unknown[]).find((r): r is Record<string, unknown> => isObject(r) && typeof r['uid'] === 'string' && r['uid'] !== '');
      if (through !== undefined) return { name: spec['name'], registryUid: through['uid'] as string };
    }
    return undefined;
  }

  /**
   * GET /v1/projects/{uid} at tenant scope (Palette's user service, as its Go SDK's GetProject; not in the subset
   * packpub's pack and registry calls use): whether Palette knows the project: `known: true` for an answer naming it;
   * undefined when it tells nothing (a 403: the key may not read projects; or an answer not as expected), for the
   * caller to judge by the pack reads instead. A 404 alone is not enough: a key may use a project it may not read (a role with
   * packRegistry but not project permissions, as Palette's Cluster Profile roles are), and what Palette answers such a
   * key is not documented. So a 404 is `known: false` only when Palette's list of the key's projects (GET
   * /v1/dashboard/projects/metadata, what Palette's Terraform provider finds its project in) answers without it; a
   * list naming it is `known: true`, and a list refused or not as expected tells nothing.
   */
  async projectKnown(uid: string, deadline?: number): Promise<{ known: true } | { known: false; uidsOfName: string[] } | undefined> {
    const res = await this.call<unknown>('GET', `/v1/projects/${encodeURIComponent(uid)}`, { what: `read project ${uid}`, allow: [400, 403, 404], deadline });
    if (res.status === 404) return this.projectListed(uid, deadline);
    if (res.status !== 200 || !isObject(res.body) || !isObject(res.body['metadata'])) return undefined;
    return res.body['metadata']['uid'] === uid ? { known: true } : undefined;
  }

  /**
   * Whether Palette's list of projects (GET /v1/dashboard/projects/metadata, tenant scope) names `uid`; undefined when
   * it tells nothing. Not named: `uidsOfName`, the uids of the projects named `uid` (ignoring case), if any: a
   * project given by its name ("Default", as Terraform's provider takes it), told its uid.
   */
  private async projectListed(uid: string, deadline?: number): Promise<{ known: true } | { known: false; uidsOfName: string[] } | undefined> {
    const res = await this.call<unknown>('GET', '/v1/dashboard/projects/metadata', { what: 'list projects', allow: [400, 403, 404], deadline });
    if (res.status !== 200 || !isObject(res.body) || !Array.isArray(res.body['items'])) return undefined;
    const listed: { uid: string; name: unknown }[] = [];
    for (const item of res.body['items'] as unknown[]) {
      if (!isObject(item) || !isObject(item['metadata']) || typeof item['metadata']['uid'] !== 'string') return undefined;
      listed.push({ uid: item['metadata']['uid'], name: item['metadata']['name'] });
    }
    if (listed.some((p) => p.uid === uid)) return { known: true };
    const named = listed.filter((p) => typeof p.name === 'string' && p.name.toLowerCase() === uid.toLowerCase());
    return { known: false, uidsOfName: named.map((p) => redactText(p.uid).slice(0, 100)) };
  }

  private bucket(path: string): TokenBucket {
    return sharedBucket(this.baseUrl.origin, path, this.rate, this.clock);
  }

  private async call<T = unknown>(method: 'GET' | 'POST', path: string, options: CallOptions): Promise<CallResult<T>> {
    const url = new URL(this.baseUrl.toString());
    url.pathname = `${this.baseUrl.pathname.replace(/\/+$/, "")}${path}`;
    for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { apikey: this.apiKey, accept: 'application/json', 'user-agent': this.userAgent };
    // Registries are tenant-level: only pack calls take the project scope (palette-api.md 1, "Scope").
    if (this.projectUid !== undefined && path.startsWith('/v1/packs') && options.tenant !== true) headers['projectuid'] = this.projectUid;
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] = 'application/json';
    // One budget: --retry-attempts, and the sooner of --retry-deadline and the call's own (the sync's) deadline.
    const retryEnd = this.clock.now() + this.retry.deadlineMs;
    const waitEnds = options.deadline !== undefined && options.deadline <= retryEnd;
    const budget = new RetryBudget(waitEnds ? (options.deadline as number) : retryEnd);
    try {
      return await this.retry.run((attempt) => this.attempt<T>(method, url, headers, body, path, options, budget, attempt), this.signal, budget);
    } catch (err) {
      if (this.aborted()) throw this.cancelled(options.what, err);
      if (!(err instanceof PaletteRetryable)) throw err;
      // Out of attempts, or the next wait (backoff or Retry-After) would end past a deadline: say which.
      let stopped = '';
      if (budget.failures < this.retry.attempts) {
        const which = waitEnds ? "the wait's deadline (--palette-timeout)" : `--retry-deadline (${seconds(this.retry.deadlineMs)})`;
        stopped = err.askedMs === undefined ? `, when ${which} came` : `; it asked to wait ${seconds(err.askedMs)} (Retry-After), past ${which}`;
      }
      throw new PaletteUnavailable(err.final(budget.failures, stopped), waitEnds && budget.failures < this.retry.attempts);
    }
  }

  /** One attempt of a call: its answer, or a PaletteRetryable for RetryPolicy, or the error that ends the call. */
  private async attempt<T>(method: 'GET' | 'POST', url: URL, headers: Record<string, string>, body: string | undefined, path: string, options: CallOptions, budget: RetryBudget, attempt: number): Promise<CallResult<T>> {
    await this.bucket(path).take();
    if (this.aborted()) throw this.cancelled(options.what);
    const started = this.clock.now();
    // A request waits at most what is left of the deadline (at least 1 s).
    const timeout = Math.min(this.timeoutMs, Math.max(1_000, budget.deadlineAt - started));
    let status: number;
    let text: string;
    let retryAfter: string | undefined;
    let serverDate: string | undefined;
    let contentType = '';
    let location: string | undefined;
    // The whole answer, body included, within the timeout: a body dripping in never trips bodyTimeout.
    const whole = AbortSignal.timeout(timeout);
    try {
      const res = await request(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        dispatcher: this.agent as Dispatcher,
        headersTimeout: timeout,
        bodyTimeout: timeout,
        signal: this.signal === undefined ? whole : AbortSignal.any([whole, this.signal]),
      });
      status = res.statusCode;
      const read = await boundedText(res.body, MAX_ANSWER_BYTES);
      if (read === undefined) {
        throw new PackpubError('PALETTE', `Palette at ${this.host} answered ${options.what} with more than ${MAX_ANSWER_BYTES >> 20} MiB: not an answer of the Palette API`, {
          hint: 'check --palette-endpoint (the Palette API, not a proxy or another service); run with --debug and report it',
        });
      }
      text = read;
      const ra = res.headers['retry-after'];
      retryAfter = Array.isArray(ra) ? ra[0] : ra;
      const date = res.headers['date'];
      serverDate = Array.isArray(date) ? date[0] : date;
      const ct = res.headers['content-type'];
      contentType = (Array.isArray(ct) ? ct[0] : ct) ?? '';
      const loc = res.headers['location'];
      location = Array.isArray(loc) ? loc[0] : loc;
    } catch (err) {
      // A proxy that may let the next attempt through (a reset, a 502 to CONNECT) is asked again; its other failures end the call.
      if (err instanceof ProxyError && err.retryable && !this.aborted()) throw this.unlessOnce(new PaletteRetryable('proxy', () => err, { cause: err }), attempt, options);
      if (err instanceof PackpubError) throw err;
      if (this.aborted()) throw this.cancelled(options.what, err);
      // Past the whole-answer timeout: as an answer that did not come in time (retried, then named so).
      const code = whole.aborted ? 'UND_ERR_HEADERS_TIMEOUT' : systemErrorCode(err);
      this.debug?.(`palette: ${method} ${redactText(url.toString())} -> ${code ?? errorMessage(err)}`);
      const timedOut = (n: number) =>
        new PackpubError('NETWORK', `Palette at ${this.host} did not answer ${options.what} within ${timeout < 1_000 ? `${timeout} ms` : `${Math.round(timeout / 1000)} s`} (${attempts(n)})`, {
          hint: 'Palette or a proxy in front of it hangs; check --palette-endpoint and try again later',
          cause: err,
        });
      // A dropped connection, an answer not in time, or a body cut before its Content-Length: asked again.
      if (code === 'UND_ERR_HEADERS_TIMEOUT') throw this.unlessOnce(new PaletteRetryable(code, timedOut, { cause: err }), attempt, options);
      if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') {
        // Reached (a refused or unresolvable host is "cannot reach"): the connection broke during the answer.
        throw this.unlessOnce(new PaletteRetryable(code, (n) =>
          new PackpubError('NETWORK', `Palette at ${this.host} closed the connection during ${options.what} (${attempts(n)})`, {
            hint: 'Palette or a proxy in front of it drops connections; try again, and check proxies or firewalls if it persists',
            cause: err,
          }), { cause: err }), attempt, options);
      }
      if (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
        throw this.unlessOnce(new PaletteRetryable(code, (n) =>
          new PackpubError('NETWORK', `Palette at ${this.host} cut its answer to ${options.what} short: it did not have the length it announced (${attempts(n)})`, {
            hint: 'Palette or a proxy in front of it drops answers half way; try again, and check proxies or firewalls if it persists',
            cause: err,
          }), { cause: err }), attempt, options);
      }
      if (code === 'UND_ERR_BODY_TIMEOUT') throw timedOut(attempt);
      if (isCertificateVerifyError(code)) {
        throw new PackpubError('TLS', `TLS certificate of Palette at ${this.host} could not be verified (${code})`, {
          hint: 'pass --palette-ca-file <pem> with the CA of a self-hosted Palette (palette.caFile in packpub.yaml)',
          cause: err,
        });
      }
      throw new PackpubError('NETWORK', `cannot reach Palette at ${this.host}: ${redactText(errorMessage(err))}`, {
        hint: 'check --palette-endpoint (or SPECTROCLOUD_HOST) and the network path to Palette',
        cause: err,
      });
    }
    this.debug?.(`palette: ${method} ${redactText(url.toString())} -> ${status} ${this.clock.now() - started}ms`);
    // A redirect (never followed: the key goes to the endpoint only), or an error answered with an HTML page: not
    // Palette's API, whose errors are v1Error JSON, but a proxy, gateway or sign-in page in front of it. A 401 page
    // read as "rejected the API key" had users replace a good key; a 404 page on a pack read as "not listed yet" was
    // waited on until --palette-timeout, then exit 3 as a pack Palette may have refused.
    if ((status >= 300 && status < 400) || (status >= 400 && status < 500 && status !== 429 && isHtmlPage(text, contentType))) {
      throw this.notTheApi(status, options.what, text, contentType, location === undefined ? undefined : redirectTarget(location, url));
    }
    if (status === 429 || status >= 500) {
      // Retry-After is honoured up to 60 s (MAX_RETRY_AFTER_MS); what was asked goes into the message if it ends the call.
      // A Retry-After date is read against the answer's own Date (RFC 9110 10.2.3), not this machine's clock: with the
      // two apart (a CI runner's clock off by an hour), "retry in 1 s" read as an hour ended the call at once.
      const serverNow = serverDate === undefined ? Number.NaN : Date.parse(serverDate);
      const askedMs = parseRetryAfter(retryAfter, Number.isNaN(serverNow) ? this.clock.now() : serverNow, Infinity);
      // Palette's own words, when it gave any (a 500 says what failed); a gateway's HTML page is left out.
      const said = status === 429 ? '' : redactText(errorBody(parseJson(text))?.message ?? '').slice(0, 300);
      // An HTML page is a proxy's or gateway's (Palette answers JSON): "Palette is failing" sent users to wait for Palette.
      const title = isHtmlPage(text, contentType) ? pageTitle(text) : undefined;
      const page = title === undefined ? '' : ` with an HTML page${title === '' ? '' : ` ("${redactText(title)}")`}, a proxy's or gateway's in front of Palette`;
      const failed = new PaletteRetryable(
        String(status),
        (n, stopped) =>
          new PackpubError('PALETTE', `Palette answered ${status} to ${options.what} after ${attempts(n)}${status === 429 ? ' (rate limit)' : ''}${page}${stopped}${said === '' ? '' : `: ${said}`}`, {
            hint:
              status === 429
                ? 'another client shares this address and Palette\'s rate limit (10 requests/s); try again later'
                : title !== undefined
                  ? 'a proxy or gateway between this machine and Palette is failing or cannot reach Palette: check it (HTTPS_PROXY, NO_PROXY) and --palette-endpoint; try again later'
                  : 'Palette is failing; try again later',
          }),
        { status, retryAfterMs: askedMs === undefined ? undefined : Math.min(askedMs, MAX_RETRY_AFTER_MS) },
        askedMs,
      );
      throw status === 429 || status === 503 ? failed : this.unlessOnce(failed, attempt, options);
    }
    if (status >= 200 && status < 300) {
      this.accepted = true;
      const parsed = parseJson<T>(text);
      // A proxy or login page in front of the API answers 200 with HTML: never read that as "no registries".
      if (parsed === undefined && text.trim() !== '') {
        throw new PackpubError('PALETTE', `Palette at ${this.host} answered ${status} to ${options.what} with a body that is not JSON (${contentType === '' ? 'no content type' : redactText(contentType.slice(0, 80))})`, {
          hint: 'a proxy or login page may stand in front of the API: check --palette-endpoint (the API host, not the console\'s)',
        });
      }
      return { status, body: parsed, ...(serverDate === undefined ? {} : { date: serverDate }) };
    }
    // An allowed error status: Palette's error body (v1Error), when it is JSON, for the caller's message.
    if (options.allow?.includes(status)) return { status, body: parseJson<T>(text), text };
    throw this.errorFor(status, errorBody(parseJson(text)), text, path, options.what);
  }

  /**
   * A failed attempt of a call sent once (CallOptions.once) after which Palette may have acted: the call's error
   * now, with the call's hint, instead of another attempt.
   */
  private unlessOnce(failed: PaletteRetryable, attempt: number, options: CallOptions): Error {
    if (options.once === undefined) return failed;
    const err = failed.final(attempt, '');
    return new PackpubError(err.code, `${err.message} (not sent again)`, { hint: options.once.hint, cause: err });
  }

  /** A redirect or an HTML error page: something in front of the API answered (attempt). */
  private notTheApi(status: number, what: string, text: string, contentType: string, redirect: string | undefined): PackpubError {
    const title = pageTitle(text);
    const page = isHtmlPage(text, contentType) ? ` and an HTML page${title === '' ? '' : ` ("${redactText(title)}")`}` : '';
    const moved = status < 400 ? ` (a redirect${redirect === undefined ? '' : ` to ${redirect}`}, which packpub does not follow: the API key goes to the Palette endpoint only)` : '';
    return new PackpubError('PALETTE', `Palette at ${this.host} answered ${what} with ${status}${moved}${page}: not an answer of the Palette API, but of a proxy, gateway or sign-in page in front of it`, {
      hint: "check --palette-endpoint (or SPECTROCLOUD_HOST): the API host itself (the SaaS API is https://api.spectrocloud.com), not the console's or a sign-in page's, and that a proxy between this machine and Palette lets the API through",
    });
  }

  /** A JSON object answer; `emptyOk`: no body reads as `{}`. */
  private expectObject(body: unknown, what: string, emptyOk: boolean): Record<string, unknown> {
    if (body === undefined && emptyOk) return {};
    if (!isObject(body)) throw this.unexpected(what, body === undefined ? 'the body is empty' : 'the body is not a JSON object');
    return body;
  }

  /** The signal of whileNotAborted has aborted (a method: TypeScript would keep the narrowing of a field across awaits). */
  private aborted(): boolean {
    return this.signal?.aborted === true;
  }

  /** A call given up by the signal of whileNotAborted. */
  private cancelled(what: string, cause?: unknown): PackpubError {
    return new PackpubError('ABORTED', `cancelled: Palette was not asked to ${what}, or its answer was not waited for`, cause === undefined ? {} : { cause });
  }

  private unexpected(what: string, detail: string): PackpubError {
    return new PackpubError('PALETTE', `Palette at ${this.host} answered ${what} with an unexpected shape: ${detail}`, {
      hint: 'check --palette-endpoint (the Palette API, not a proxy or another service); run with --debug and report it',
    });
  }

  private errorFor(status: number, body: PaletteErrorBody | undefined, text: string, path: string, what: string, projectUid = this.projectUid): PackpubError {
    const said = redactText(body?.message ?? (text.trim() === '' ? '' : text.trim().slice(0, 300)));
    const detail = said === '' ? '' : `: ${said}`;
    if (status === 401 && this.accepted) {
      // Accepted by an earlier call of this run: the key expired or was revoked during it, and is not mistyped.
      return new PackpubError('AUTH', `Palette at ${this.host} rejected the API key (401) when asked to ${what}, having accepted it earlier in this run${detail}`, {
        hint: 'the key expired or was revoked while packpub waited (a Palette API key has an expiry date): create a new one under Profile > My API Keys; what was published stays published, and packpub palette sync confirms it',
      });
    }
    if (status === 401) {
      // A secret saved with the header's scheme or name before the key ("ApiKey <key>", "Bearer <token>", copied from a
      // curl line): sent whole, rejected, and "check SPECTROCLOUD_APIKEY" did not say what was wrong with it.
      const prefixed = /^(apikey|api-key|bearer|basic|token)\s*[:\s]\s*(\S+)$/i.exec(this.apiKey);
      const key = prefixed?.[2] ?? this.apiKey;
      const before = prefixed === null ? '' : `the key given starts with "${prefixed[1] ?? ''}", a header's name or scheme, not part of a key: `;
      // Palette also takes a session token (a JWT, 15 minutes) in an Authorization header; packpub sends API keys only.
      const jwt = /^eyJ[\w-]*\.[\w-]+\.[\w-]*$/.test(key);
      return new PackpubError('AUTH', `Palette at ${this.host} rejected the API key (401)${detail}`, {
        hint: jwt
          ? `${before}the key given looks like a Palette session token (a JWT, which Palette takes in an Authorization header and expires after 15 minutes), not an API key: packpub sends an API key (ApiKey header); create one in Palette under Profile > My API Keys and set SPECTROCLOUD_APIKEY to it`
          : before !== ''
            ? `${before}set SPECTROCLOUD_APIKEY (or what --palette-api-key-stdin reads) to the key alone; packpub sends it in the ApiKey header itself`
            : 'check SPECTROCLOUD_APIKEY (or --palette-api-key-stdin): create a key in Palette under Profile > My API Keys; for a self-hosted Palette set --palette-endpoint',
      });
    }
    if (status === 403 && path.startsWith('/v1/registries') && this.accepted) {
      // The key read registries earlier in the run (the look-up before publishing): not a project-scoped key, but a role
      // that lacks this one action (syncing, adding), which "use a tenant admin's key" left the user to guess.
      return new PackpubError('AUTH', `the Palette API key may not ${what} (403), though Palette let it read registries earlier in this run${detail}`, {
        hint: "the key's user has a role that reads registries but may not do this: use an API key of a tenant admin (Tenant Admin role), or ask for that permission; what was published stays published, and packpub palette sync confirms it",
      });
    }
    if (status === 403 && path.startsWith('/v1/registries')) {
      return new PackpubError('AUTH', `the Palette API key may not ${what} (403)${detail}`, {
        hint: 'registries are tenant-level in Palette: use an API key of a tenant admin (a key of a project-scoped user cannot read, add or sync registries)',
      });
    }
    if (status === 403) {
      return new PackpubError('AUTH', `the Palette API key may not ${what}${projectUid === undefined ? ' at tenant scope' : ` in project ${projectUid}`} (403)${detail}`, {
        hint: projectUid === undefined ? 'a project-scoped key reads packs only in its project: pass --palette-project UID (or SPECTROCLOUD_DEFAULT_PROJECT_ID)' : 'use a key whose user may read packs in that project',
      });
    }
    // A 404 to a call whose path always exists (the registry list) or to one of a thing found earlier in the run: an
    // endpoint with a path the API is not under, or a thing removed meanwhile. "See Palette's message above" named neither.
    const missing = `Palette at ${this.host} has no ${this.baseUrl.pathname.replace(/\/+$/, '')}${path}: check --palette-endpoint (or SPECTROCLOUD_HOST): the API host itself, without a path unless your Palette is served under one; or what was asked for was removed from Palette meanwhile (packpub palette doctor lists the registries)`;
    return new PackpubError('PALETTE', `Palette could not ${what} (${status}${body?.code === undefined ? '' : ` ${body.code}`})${detail}`, {
      hint: status === 400 ? 'Palette refused the request as malformed; run with --debug and report it' : status === 404 ? redactText(missing) : "Palette's words above say why; run with --debug to see the request",
    });
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * An error answer's v1Error fields that are text (`code`, `message`), else undefined: a gateway's or proxy's JSON may
 * give them other types (a number, an object), whose printing crashed the run ("text.replace is not a function").
 * Without a text message, the messages show the body as sent.
 */
function errorBody(body: unknown): PaletteErrorBody | undefined {
  if (!isObject(body)) return undefined;
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const code = text(body['code']);
  const message = text(body['message']);
  return { ...(code === undefined ? {} : { code }), ...(message === undefined ? {} : { message }) };
}

/**
 * A registry (summary or record) whose `spec.endpoint` is stored with a user name and password (`https://user:pw@host`):
 * the same without them, the userinfo registered as a secret. Its host did not match the target's (push: "no Pack
 * registry serves", register: a second registry beside it), and doctor printed the endpoint, password included.
 */
function withoutUserinfo<T>(registry: T): T {
  const spec = isObject(registry) ? registry['spec'] : undefined;
  const endpoint = isObject(spec) ? spec['endpoint'] : undefined;
  if (typeof endpoint !== 'string') return registry;
  const m = /^(\s*(?:[a-z][a-z0-9+.-]*:\/\/)?)([^/?#]*)@/i.exec(endpoint);
  if (m === null) return registry;
  const userinfo = m[2] ?? '';
  registerSecret(userinfo);
  if (userinfo.includes(':')) registerSecret(userinfo.slice(userinfo.indexOf(':') + 1));
  return { ...(registry as Record<string, unknown>), spec: { ...(spec as Record<string, unknown>), endpoint: `${m[1] ?? ''}${endpoint.slice(m[0].length)}` } } as T;
}

function withoutNulls(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null));
}

/** An HTML page (by its content type, or a body starting with a tag), not JSON: Palette's API answers JSON. */
function isHtmlPage(text: string, contentType: string): boolean {
  if (parseJson(text) !== undefined) return false;
  return /html/i.test(contentType) || /^\s*</.test(text);
}

/** An HTML page's title, one line of at most 80 characters ('' for none). */
function pageTitle(text: string): string {
  return /<title[^>]*>([^<]*)</i.exec(text)?.[1]?.replace(/\s+/g, ' ').trim().slice(0, 80) ?? '';
}

/** Where a redirect points, without its query or fragment (a sign-in page's may carry a token): origin and path. */
function redirectTarget(location: string, from: URL): string | undefined {
  try {
    const to = new URL(location, from);
    return redactText(`${to.origin}${to.pathname}`).slice(0, 200);
  } catch {
    return undefined;
  }
}

function parseJson<T>(text: string): T | undefined {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/** "1 attempt", "3 attempts". */
function attempts(n: number): string {
  return `${n} attempt${n === 1 ? '' : 's'}`;
}

/** A duration for messages: "500 ms", "5 s", "2.5 s". */
function seconds(ms: number): string {
  return ms < 1_000 ? `${Math.round(ms)} ms` : `${Math.round(ms / 100) / 10} s`;
}
