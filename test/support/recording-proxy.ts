import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './loopback.js';
import { Prng } from './prng.js';

/*
 * An HTTP proxy on 127.0.0.1 in front of a (plain HTTP) registry. It records method, path+query and status
 * of every request, and asks an optional hook what to do with each one, so tests can count uploads and
 * inject faults by hand:
 *
 *   const proxy = await startRecordingProxy(registry.host);
 *   proxy.onRequest = (req) => (req.method === 'PUT' && req.index < 2 ? { status: 503 } : 'pass');
 *   ... use proxy.host as the registry ...
 *   expect(proxy.count((r) => r.method === 'PUT' && r.path.includes('/blobs/uploads/'))).toBe(0);
 *
 * or inject random faults at a rate, reproducibly (a seeded plan, see FaultPlan):
 *
 *   proxy.faults = new FaultPlan({ rate: 0.1, seed: 7 });           // every kind of fault on every request
 *   proxy.faults = new FaultPlan({ rate: 1, kinds: ['reset'], only: ['upload-put'] });
 *
 * The hook decides first; faults apply to requests it lets pass. The Host header is passed through
 * unchanged, so registry-made URLs (upload Location) point at the proxy.
 */

/** What a request is, in distribution-API terms (distribution-spec "Endpoints"). */
export type RequestKind =
  | 'ping'
  | 'catalog'
  | 'tags'
  | 'manifest-head'
  | 'manifest-get'
  | 'manifest-put'
  | 'manifest-delete'
  | 'blob-head'
  | 'blob-get'
  | 'upload-start'
  | 'upload-put'
  | 'upload-patch'
  | 'other';

/** Classify a request by method and path (query ignored). */
export function requestKind(method: string, pathAndQuery: string): RequestKind {
  const path = pathAndQuery.split('?')[0] ?? '';
  if (path === '/v2/' || path === '/v2') return 'ping';
  if (path === '/v2/_catalog') return 'catalog';
  if (/^\/v2\/.+\/tags\/list$/.test(path)) return 'tags';
  if (/^\/v2\/.+\/manifests\/[^/]+$/.test(path)) {
    if (method === 'HEAD') return 'manifest-head';
    if (method === 'GET') return 'manifest-get';
    if (method === 'PUT') return 'manifest-put';
    if (method === 'DELETE') return 'manifest-delete';
    return 'other';
  }
  if (/^\/v2\/.+\/blobs\/uploads\/?$/.test(path)) return method === 'POST' ? 'upload-start' : 'other';
  if (/^\/v2\/.+\/blobs\/uploads\/[^/]+$/.test(path)) {
    if (method === 'PUT') return 'upload-put';
    if (method === 'PATCH') return 'upload-patch';
    return 'other';
  }
  if (/^\/v2\/.+\/blobs\/[^/]+$/.test(path)) {
    if (method === 'HEAD') return 'blob-head';
    if (method === 'GET') return 'blob-get';
  }
  return 'other';
}

/**
 * Faults a proxy can cause:
 * - `reset`: drop the connection before the registry sees the request;
 * - `reset-after`: forward, let the registry act, then drop the connection instead of answering (the
 *   client cannot know the upload or manifest write happened);
 * - `status-429` (with Retry-After), `status-500`, `status-502`, `status-503`: answer without forwarding;
 * - `slow`: wait, then forward;
 * - `truncate`: forward, send the answer's headers and half its body, then drop the connection (for an
 *   answer without a body this is `reset-after`).
 */
export type FaultKind = 'reset' | 'reset-after' | 'status-429' | 'status-500' | 'status-502' | 'status-503' | 'slow' | 'truncate';

export const ALL_FAULTS: readonly FaultKind[] = ['reset', 'reset-after', 'status-429', 'status-500', 'status-502', 'status-503', 'slow', 'truncate'];
/** The kinds that make a request fail (everything but `slow`). */
export const FAILING_FAULTS: readonly FaultKind[] = ALL_FAULTS.filter((k) => k !== 'slow');

export interface FaultPlanOptions {
  /** Share of eligible requests that get a fault, 0..1. */
  rate: number;
  /** Seed of the plan (default 1). */
  seed?: number;
  /** Faults to draw from, uniformly (default ALL_FAULTS). */
  kinds?: readonly FaultKind[];
  /** Only these request kinds are eligible (default all). */
  only?: readonly RequestKind[];
  /** Delay of a `slow` fault (default 300 ms). */
  slowMs?: number;
  /** Retry-After values a 429 carries, drawn uniformly (default "0" and "1"). */
  retryAfter?: readonly string[];
}

export interface FaultDecision {
  kind: FaultKind;
  /** For `status-429`. */
  retryAfter?: string;
  /** For `slow`. */
  delayMs?: number;
}

/**
 * Decides which requests get which fault. A decision depends only on the seed, the request's identity
 * (method, path without the upload session id and query, the `digest=` parameter) and how many times that
 * identity was seen before; so the same run makes the same decisions however concurrent requests
 * interleave, and a retry of a faulted request gets a fresh, independent draw.
 */
export class FaultPlan {
  readonly rate: number;
  private readonly root: Prng;
  private readonly kinds: readonly FaultKind[];
  private readonly only: ReadonlySet<RequestKind> | undefined;
  private readonly slowMs: number;
  private readonly retryAfter: readonly string[];
  private readonly seen = new Map<string, number>();

  constructor(options: FaultPlanOptions) {
    if (!(options.rate >= 0 && options.rate <= 1)) throw new RangeError(`fault rate ${options.rate} is not within 0..1`);
    this.rate = options.rate;
    this.root = new Prng(options.seed ?? 1);
    this.kinds = options.kinds ?? ALL_FAULTS;
    if (this.kinds.length === 0) throw new RangeError('a fault plan needs at least one fault kind');
    this.only = options.only === undefined ? undefined : new Set(options.only);
    this.slowMs = options.slowMs ?? 300;
    this.retryAfter = options.retryAfter ?? ['0', '1'];
  }

  /** The request's identity: stable across runs, free of per-session ids. */
  static identity(method: string, pathAndQuery: string): string {
    const [path = '', query = ''] = pathAndQuery.split('?');
    const digest = new URLSearchParams(query).get('digest');
    return `${method} ${path.replace(/\/blobs\/uploads\/[^/]+$/, '/blobs/uploads/*')}${digest === null ? '' : `?digest=${digest}`}`;
  }

  decide(method: string, pathAndQuery: string): FaultDecision | undefined {
    if (this.only !== undefined && !this.only.has(requestKind(method, pathAndQuery))) return undefined;
    const id = FaultPlan.identity(method, pathAndQuery);
    const n = this.seen.get(id) ?? 0;
    this.seen.set(id, n + 1);
    const draw = this.root.fork(`${id}#${n}`);
    if (draw.float() >= this.rate) return undefined;
    const kind = draw.pick(this.kinds);
    if (kind === 'status-429') return { kind, retryAfter: draw.pick(this.retryAfter) };
    if (kind === 'slow') return { kind, delayMs: this.slowMs };
    return { kind };
  }
}

export interface ProxyRequestInfo {
  method: string;
  /** Path and query as sent. */
  path: string;
  headers: IncomingHttpHeaders;
  /** 0-based position of this request among all the proxy has seen. */
  index: number;
  kind: RequestKind;
}

/**
 * What to do with a request: forward it; answer it without forwarding; drop the connection (before
 * forwarding, or after the registry acted); forward and cut the answer short; wait and then forward; or
 * forward and hold the registry's answer back until `holdAnswer` settles (the registry has acted, the client
 * does not know yet). A hook may also return a Promise of any of these.
 */
export type ProxyAction =
  | 'pass'
  | 'reset'
  | 'reset-after'
  | 'truncate'
  | { status: number; headers?: Record<string, string>; body?: string | Buffer }
  | { delayMs: number }
  | { holdAnswer: Promise<unknown> };

export type ProxyHook = (req: ProxyRequestInfo) => ProxyAction | Promise<ProxyAction>;

export interface RecordedRequest {
  method: string;
  path: string;
  kind: RequestKind;
  /** Status sent to the client; undefined when the connection was reset or the upstream failed. */
  status: number | undefined;
  /** How it was handled. */
  outcome: 'forwarded' | 'injected' | 'reset' | 'truncated' | 'upstream-error';
  /** The fault the plan chose for it, if any. */
  fault?: FaultKind;
  /** The request carried an Authorization header (its value is never kept). */
  hadAuthorization: boolean;
  /** A `slow` fault or `{ delayMs }` held it and the client closed the connection during the wait (it gave up). */
  abandoned?: boolean;
}

export interface RecordingProxy {
  /** `127.0.0.1:<port>`: use as the registry host. */
  host: string;
  url: string;
  requests: RecordedRequest[];
  /** Replace at any time; undefined = forward everything. */
  onRequest: ProxyHook | undefined;
  /** Random faults for the requests the hook lets pass; replace at any time, undefined = none. */
  faults: FaultPlan | undefined;
  count(filter?: (r: RecordedRequest) => boolean): number;
  /** How many requests got each fault (since the last clear). */
  faultCounts(): Partial<Record<FaultKind, number>>;
  /** Forget recorded requests (the index keeps counting). */
  clear(): void;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

function faultAction(decision: FaultDecision): ProxyAction {
  switch (decision.kind) {
    case 'reset':
    case 'reset-after':
    case 'truncate':
      return decision.kind;
    case 'slow':
      return { delayMs: decision.delayMs ?? 300 };
    case 'status-429':
      return {
        status: 429,
        headers: { 'content-type': 'application/json', 'retry-after': decision.retryAfter ?? '0' },
        // ECR's throttling answer (registries.md)
        body: '{"errors":[{"code":"TOOMANYREQUESTS","message":"Rate exceeded"}]}',
      };
    case 'status-500':
      return { status: 500, headers: { 'content-type': 'application/json' }, body: '{"errors":[{"code":"UNKNOWN","message":"unknown error"}]}' };
    case 'status-502':
      return { status: 502, headers: { 'content-type': 'text/html' }, body: '<html><body>502 Bad Gateway</body></html>' };
    case 'status-503':
      return { status: 503, headers: { 'content-type': 'application/json' }, body: '{"errors":[{"code":"UNAVAILABLE","message":"service unavailable"}]}' };
  }
}

export async function startRecordingProxy(target: string, options: { onRequest?: ProxyHook; faults?: FaultPlan } = {}): Promise<RecordingProxy> {
  const [targetHost = '127.0.0.1', targetPortText = '80'] = target.replace(/^https?:\/\//, '').split(':');
  const targetPort = Number(targetPortText);
  let index = 0;

  const proxy: RecordingProxy = {
    host: '',
    url: '',
    requests: [],
    onRequest: options.onRequest,
    faults: options.faults,
    count: (filter) => (filter === undefined ? proxy.requests.length : proxy.requests.filter(filter).length),
    faultCounts: () => {
      const counts: Partial<Record<FaultKind, number>> = {};
      for (const r of proxy.requests) if (r.fault !== undefined) counts[r.fault] = (counts[r.fault] ?? 0) + 1;
      return counts;
    },
    clear: () => {
      proxy.requests.length = 0;
    },
    close: async () => undefined, // replaced once listening
  };

  /** Forward to the registry; `mode` says whether the answer reaches the client whole, cut short, or not at all. */
  const forward = (req: IncomingMessage, res: ServerResponse, record: RecordedRequest, mode: 'pass' | 'reset-after' | 'truncate', hold?: Promise<unknown>) => {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    const upstream = httpRequest({ host: targetHost, port: targetPort, method: req.method, path: req.url, headers }, async (up) => {
      const outHeaders: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) outHeaders[k] = v;
      if (hold !== undefined) {
        up.pause();
        await hold.catch(() => undefined);
        if (res.destroyed || res.socket?.destroyed === true) {
          record.status = up.statusCode;
          up.resume();
          return;
        }
      }
      if (mode === 'pass') {
        record.status = up.statusCode;
        res.writeHead(up.statusCode ?? 502, outHeaders);
        up.pipe(res);
        return;
      }
      // The registry has acted on the request by now; read its whole answer, then cut it off.
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('error', () => res.destroy());
      up.on('end', () => {
        const body = Buffer.concat(chunks);
        if (mode === 'reset-after' || body.length < 2 || req.method === 'HEAD') {
          record.outcome = 'reset';
          res.destroy();
          return;
        }
        record.outcome = 'truncated';
        record.status = up.statusCode;
        res.writeHead(up.statusCode ?? 502, { ...outHeaders, 'content-length': String(body.length) });
        // End the connection cleanly after the first half (FIN, not RST): the client reads every byte sent,
        // however loaded the machine, and then meets a body shorter than its Content-Length.
        res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.socket?.end());
      });
    });
    upstream.on('error', () => {
      record.outcome = 'upstream-error';
      record.status = undefined;
      res.destroy();
    });
    req.pipe(upstream);
  };

  const server: Server = createServer((req, res) => {
    const info: ProxyRequestInfo = {
      method: req.method ?? '',
      path: req.url ?? '/',
      headers: req.headers,
      index: index++,
      kind: requestKind(req.method ?? '', req.url ?? '/'),
    };
    const record: RecordedRequest = {
      method: info.method,
      path: info.path,
      kind: info.kind,
      status: undefined,
      outcome: 'forwarded',
      hadAuthorization: req.headers.authorization !== undefined,
    };
    proxy.requests.push(record);
    void (async () => {
      let action: ProxyAction = 'pass';
      try {
        action = proxy.onRequest === undefined ? 'pass' : await proxy.onRequest(info);
      } catch {
        action = { status: 500, body: 'proxy hook failed' };
      }
      if (action === 'pass' && proxy.faults !== undefined) {
        const decision = proxy.faults.decide(info.method, info.path);
        if (decision !== undefined) {
          record.fault = decision.kind;
          action = faultAction(decision);
        }
      }
      if (action === 'reset') {
        record.outcome = 'reset';
        req.socket.destroy();
        return;
      }
      if (typeof action === 'object' && 'status' in action) {
        record.outcome = 'injected';
        record.status = action.status;
        req.resume();
        res.writeHead(action.status, action.headers ?? {});
        res.end(action.body ?? '');
        return;
      }
      if (typeof action === 'object' && 'delayMs' in action) {
        const gaveUp = () => (record.abandoned = true);
        req.socket.once('close', gaveUp);
        await new Promise((r) => setTimeout(r, action.delayMs));
        req.socket.off('close', gaveUp);
      }
      const hold = typeof action === 'object' && 'holdAnswer' in action ? action.holdAnswer : undefined;
      forward(req, res, record, action === 'reset-after' || action === 'truncate' ? action : 'pass', hold);
    })();
  });
  const listening = await listenOnLoopback(server);
  proxy.host = listening.host;
  proxy.url = listening.url;
  proxy.close = listening.close;
  return proxy;
}
