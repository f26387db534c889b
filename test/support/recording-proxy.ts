import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/*
 * An HTTP proxy on 127.0.0.1 in front of a (plain HTTP) registry. It records method, path+query and status
 * of every request, and asks an optional hook what to do with each one, so tests can count uploads and
 * inject faults:
 *
 *   const proxy = await startRecordingProxy(registry.host);
 *   proxy.onRequest = (req) => (req.method === 'PUT' && req.index < 2 ? { status: 503 } : 'pass');
 *   ... use proxy.host as the registry ...
 *   expect(proxy.count((r) => r.method === 'PUT' && r.path.includes('/blobs/uploads/'))).toBe(0);
 *
 * The Host header is passed through unchanged, so registry-made URLs (upload Location) point at the proxy.
 */

export interface ProxyRequestInfo {
  method: string;
  /** Path and query as sent. */
  path: string;
  headers: IncomingHttpHeaders;
  /** 0-based position of this request among all the proxy has seen. */
  index: number;
}

/**
 * What to do with a request: forward it; answer it without forwarding; drop the connection; or wait and then
 * forward. A hook may also return a Promise of any of these.
 */
export type ProxyAction =
  | 'pass'
  | 'reset'
  | { status: number; headers?: Record<string, string>; body?: string | Buffer }
  | { delayMs: number };

export type ProxyHook = (req: ProxyRequestInfo) => ProxyAction | Promise<ProxyAction>;

export interface RecordedRequest {
  method: string;
  path: string;
  /** Status sent to the client; undefined when the connection was reset or the upstream failed. */
  status: number | undefined;
  /** How it was handled. */
  outcome: 'forwarded' | 'injected' | 'reset' | 'upstream-error';
  /** The request carried an Authorization header (its value is never kept). */
  hadAuthorization: boolean;
}

export interface RecordingProxy {
  /** `127.0.0.1:<port>`: use as the registry host. */
  host: string;
  url: string;
  requests: RecordedRequest[];
  /** Replace at any time; undefined = forward everything. */
  onRequest: ProxyHook | undefined;
  count(filter?: (r: RecordedRequest) => boolean): number;
  /** Forget recorded requests (the index keeps counting). */
  clear(): void;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

export async function startRecordingProxy(target: string, options: { onRequest?: ProxyHook } = {}): Promise<RecordingProxy> {
  const [targetHost = '127.0.0.1', targetPortText = '80'] = target.replace(/^https?:\/\//, '').split(':');
  const targetPort = Number(targetPortText);
  const sockets = new Set<Socket>();
  let index = 0;

  const proxy: RecordingProxy = {
    host: '',
    url: '',
    requests: [],
    onRequest: options.onRequest,
    count: (filter) => (filter === undefined ? proxy.requests.length : proxy.requests.filter(filter).length),
    clear: () => {
      proxy.requests.length = 0;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const forward = (req: IncomingMessage, res: ServerResponse, record: RecordedRequest) => {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    const upstream = httpRequest(
      { host: targetHost, port: targetPort, method: req.method, path: req.url, headers },
      (up) => {
        record.status = up.statusCode;
        const outHeaders: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) outHeaders[k] = v;
        res.writeHead(up.statusCode ?? 502, outHeaders);
        up.pipe(res);
      },
    );
    upstream.on('error', () => {
      record.outcome = 'upstream-error';
      record.status = undefined;
      res.destroy();
    });
    req.pipe(upstream);
  };

  const server: Server = createServer((req, res) => {
    const info: ProxyRequestInfo = { method: req.method ?? '', path: req.url ?? '/', headers: req.headers, index: index++ };
    const record: RecordedRequest = {
      method: info.method,
      path: info.path,
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
      if (typeof action === 'object' && 'delayMs' in action) await new Promise((r) => setTimeout(r, action.delayMs));
      forward(req, res, record);
    })();
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  proxy.host = `127.0.0.1:${port}`;
  proxy.url = `http://127.0.0.1:${port}`;
  return proxy;
}
