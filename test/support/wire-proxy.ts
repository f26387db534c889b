import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { listenOnLoopback } from './loopback.js';

/*
 * A proxy on 127.0.0.1 in front of a real (plain HTTP) registry that can answer a request with bytes of its own
 * on the wire: things node's HTTP server would never send (a Content-Length that lies, a 1xx interim answer
 * before the real one, a 101 nobody asked for), or the registry's own answer after the registry acted, changed
 * (a 500 instead of the 201 of a manifest PUT it stored). Everything else is forwarded as it is. For the
 * higher-level faults (resets, statuses, cut bodies at random) use recording-proxy.ts.
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
  /** Write these bytes as the whole answer (the request is not forwarded); `end`: close the connection after them. */
  | { raw: Buffer | string; end?: boolean }
  /** Forward (the registry acts), then answer with what `change` makes of its answer, written as raw bytes. */
  | { after: (answer: UpstreamAnswer) => { raw: Buffer | string; end?: boolean } }
  /** Write these bytes every `everyMs` until the client closes the connection (the request is not forwarded). */
  | { repeat: Buffer | string; everyMs: number };

export interface WireProxy {
  host: string;
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
  for (const [k, v] of Object.entries(headers)) for (const one of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${one}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), Buffer.isBuffer(body) ? body : Buffer.from(body)]);
}

/** The registry's answer as raw bytes, with `change`d status/headers/body; Content-Length is the body's unless given. */
export function answerBytes(answer: UpstreamAnswer, change: Partial<UpstreamAnswer> & { reason?: string } = {}): Buffer {
  const status = change.status ?? answer.status;
  const headers: Record<string, string | string[]> = { ...answer.headers, ...change.headers };
  const body = change.body ?? answer.body;
  if (change.headers?.['content-length'] === undefined) headers['content-length'] = String(body.length);
  return rawAnswer(status, change.reason ?? 'X', headers, body);
}

function write(socket: Socket, bytes: Buffer | string, end: boolean | undefined): void {
  if (end === true) socket.end(bytes);
  else socket.write(bytes);
}

export async function startWireProxy(target: string): Promise<WireProxy> {
  const [targetHost = '127.0.0.1', targetPort = '80'] = target.replace(/^https?:\/\//, '').split(':');
  let index = 0;
  const forward = (req: IncomingMessage, onAnswer: (up: IncomingMessage) => void, onError: () => void) => {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    const upstream = httpRequest({ host: targetHost, port: Number(targetPort), method: req.method, path: req.url, headers }, onAnswer);
    upstream.on('error', onError);
    req.pipe(upstream);
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const info: WireRequest = { method: req.method ?? '', path: req.url ?? '/', headers: req.headers, index: index++ };
    proxy.requests.push(info);
    let action: WireAction;
    try {
      action = proxy.onRequest?.(info) ?? 'pass';
    } catch {
      action = 'pass';
    }
    const socket = req.socket;
    if (typeof action === 'object' && 'raw' in action) {
      const { raw, end } = action;
      req.resume();
      req.once('end', () => write(socket, raw, end ?? true));
      return;
    }
    if (typeof action === 'object' && 'repeat' in action) {
      const { repeat, everyMs } = action;
      req.resume();
      const send = () => {
        if (!socket.destroyed) socket.write(repeat);
      };
      send();
      const timer = setInterval(send, everyMs);
      socket.once('close', () => clearInterval(timer));
      return;
    }
    if (typeof action === 'object' && 'after' in action) {
      const change = action.after;
      forward(
        req,
        (up) => {
          const chunks: Buffer[] = [];
          up.on('data', (c: Buffer) => chunks.push(c));
          up.on('end', () => {
            const headers: Record<string, string | string[]> = {};
            for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !HOP_BY_HOP.has(k) && k !== 'content-length') headers[k] = v;
            const out = change({ status: up.statusCode ?? 502, headers, body: Buffer.concat(chunks) });
            write(socket, out.raw, out.end ?? true);
          });
        },
        () => socket.destroy(),
      );
      return;
    }
    if (typeof action === 'object' && 'before' in action) socket.write(action.before);
    forward(
      req,
      (up) => {
        const headers: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
        res.writeHead(up.statusCode ?? 502, headers);
        up.pipe(res);
      },
      () => res.destroy(),
    );
  });
  const listening = await listenOnLoopback(server);
  const proxy: WireProxy = { host: listening.host, url: listening.url, requests: [], onRequest: undefined, close: listening.close };
  return proxy;
}
