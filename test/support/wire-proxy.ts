import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { createServer, type Socket } from 'node:net';

/*
 * A proxy on 127.0.0.1 in front of a real (plain HTTP) registry that can answer a request with bytes of its own
 * on the wire: things node's HTTP server would never send (a Content-Length that lies, a 1xx interim answer
 * before the real one, a 101 nobody asked for), or the registry's own answer after the registry acted, changed
 * (a 500 instead of the 201 of a manifest PUT it stored). Everything else is forwarded as it is. It reads the
 * requests itself (HTTP/1.1, one at a time per connection, bodies by Content-Length as packpub sends them), so a
 * connection stays usable after an answer of its own unless the action ends it. For the higher-level faults
 * (resets, statuses, cut bodies at random) use recording-proxy.ts.
 *
 *   const proxy = stack.add(await startWireProxy(registry.host));
 *   proxy.onRequest = (req) => (req.method === 'GET' && req.path.includes('/manifests/') ? { before: INTERIM_103 } : 'pass');
 */

export interface WireRequest {
  method: string;
  /** Path and query. */
  path: string;
  headers: IncomingHttpHeaders;
  /** 0-based, across the proxy's life. */
  index: number;
}

/** The registry's answer, read whole. */
export interface UpstreamAnswer {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

export type WireAction =
  | 'pass'
  /** Write these bytes before the registry's answer (an interim 1xx, say), then forward the answer. */
  | { before: Buffer | string }
  /**
   * Forward (the registry acts), then write these bytes, then the registry's answer on a later turn of the event loop:
   * a client that cannot read the interim bytes sees them while the registry has already acted.
   */
  | { late: Buffer | string }
  /** Write these bytes as the whole answer (the request is not forwarded); `end`: close the connection after them. */
  | { raw: Buffer | string; end?: boolean }
  /** Forward (the registry acts), then answer with what `change` makes of its answer, written as raw bytes. */
  | { after: (answer: UpstreamAnswer) => { raw: Buffer | string; end?: boolean } }
  /** Write these bytes every `everyMs` until the client closes the connection (the request is not forwarded). */
  | { repeat: Buffer | string; everyMs: number };

export interface WireProxy {
  /** `127.0.0.1:<port>` */
  host: string;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Every request seen, in order. */
  requests: WireRequest[];
  onRequest: ((req: WireRequest) => WireAction) | undefined;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

/** An HTTP/1.1 answer as bytes: status line, headers as given (no Content-Length added), blank line, body. */
export function rawAnswer(status: number, reason: string, headers: Record<string, string | number | readonly string[]>, body: Buffer | string = ''): Buffer {
  const lines = [`HTTP/1.1 ${status} ${reason}`];
  for (const [k, v] of Object.entries(headers)) for (const one of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${String(one)}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), Buffer.isBuffer(body) ? body : Buffer.from(body)]);
}

/**
 * The registry's answer as raw bytes, with `change`d status, headers or body; Content-Length is the body's unless
 * given (a HEAD answer keeps the registry's).
 */
export function answerBytes(answer: UpstreamAnswer, change: Partial<UpstreamAnswer> = {}): Buffer {
  const headers: Record<string, string | string[]> = { ...answer.headers, ...change.headers };
  const body = change.body ?? answer.body;
  if (headers['content-length'] === undefined) headers['content-length'] = String(body.length);
  return rawAnswer(change.status ?? answer.status, 'X', headers, body);
}

interface Parsed {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One whole request off the front of `buf`, or undefined when more bytes are needed. */
function parseRequest(buf: Buffer): { request: Parsed; rest: Buffer } | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [line = '', ...fields] = buf.subarray(0, end).toString('latin1').split('\r\n');
  const [method = '', path = '/'] = line.split(' ');
  const headers: IncomingHttpHeaders = {};
  for (const field of fields) {
    const colon = field.indexOf(':');
    if (colon > 0) headers[field.slice(0, colon).trim().toLowerCase()] = field.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  if (buf.length < end + 4 + length) return undefined;
  return { request: { method, path, headers, body: buf.subarray(end + 4, end + 4 + length) }, rest: buf.subarray(end + 4 + length) };
}

export async function startWireProxy(target: string): Promise<WireProxy> {
  const [targetHost = '127.0.0.1', targetPort = '80'] = target.replace(/^https?:\/\//, '').split(':');
  let index = 0;
  const sockets = new Set<Socket>();

  /** The registry's answer to `req`, read whole. */
  const upstream = (req: Parsed): Promise<UpstreamAnswer> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
      const up = httpRequest({ host: targetHost, port: Number(targetPort), method: req.method, path: req.path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const out: Record<string, string | string[]> = {};
          // The body's length is set again when it is written (answerBytes), but for a HEAD, which has none.
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && !HOP_BY_HOP.has(k) && (k !== 'content-length' || req.method === 'HEAD')) out[k] = v;
          resolve({ status: res.statusCode ?? 502, headers: out, body: Buffer.concat(chunks) });
        });
      });
      up.on('error', reject);
      up.end(req.body);
    });

  /** Answer one request; resolves once the connection may take the next one (false: it was ended). */
  const answer = async (socket: Socket, req: Parsed): Promise<boolean> => {
    const info: WireRequest = { method: req.method, path: req.path, headers: req.headers, index: index++ };
    proxy.requests.push(info);
    let action: WireAction;
    try {
      action = proxy.onRequest?.(info) ?? 'pass';
    } catch {
      action = 'pass';
    }
    if (typeof action === 'object' && 'repeat' in action) {
      const { repeat, everyMs } = action;
      const send = () => {
        if (!socket.destroyed) socket.write(repeat);
      };
      send();
      const timer = setInterval(send, everyMs);
      socket.once('close', () => clearInterval(timer));
      return false;
    }
    if (typeof action === 'object' && 'raw' in action) {
      if (action.end === true) socket.end(action.raw);
      else socket.write(action.raw);
      return action.end !== true;
    }
    if (typeof action === 'object' && 'before' in action) socket.write(action.before);
    let got: UpstreamAnswer;
    try {
      got = await upstream(req);
    } catch {
      socket.destroy();
      return false;
    }
    if (typeof action === 'object' && 'late' in action) {
      socket.write(action.late);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    const out = typeof action === 'object' && 'after' in action ? action.after(got) : { raw: answerBytes(got), end: false };
    if (out.end === true) socket.end(out.raw);
    else socket.write(out.raw);
    return out.end !== true;
  };

  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf: Buffer = Buffer.alloc(0);
    let busy = false;
    /** An answer ended the connection or holds it: nothing more is read from it. */
    let over = false;
    const next = async (): Promise<void> => {
      if (busy || over) return;
      busy = true;
      try {
        for (let parsed = parseRequest(buf); parsed !== undefined && !over; parsed = parseRequest(buf)) {
          buf = parsed.rest;
          over = !(await answer(socket, parsed.request));
        }
      } finally {
        busy = false;
      }
    };
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      void next();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const proxy: WireProxy = {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    requests: [],
    onRequest: undefined,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
