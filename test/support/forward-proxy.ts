import { readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import { listenOnLoopback } from './loopback.js';
import type { TestCertificates } from './tls.js';

/*
 * A forward proxy on 127.0.0.1, as a corporate CI runner reaches its registries through (squid, a gateway):
 * - CONNECT host:port (RFC 9110 9.3.6) opens a tunnel; an absolute-form request (`GET http://host:port/path`,
 *   RFC 9112 3.2.2) is forwarded, Host header unchanged;
 * - with `credentials`, anything without `Proxy-Authorization: Basic base64(user:password)` gets 407 and
 *   `Proxy-Authenticate: Basic`;
 * - the target's host name is looked up in `hosts` only (`registry.test` -> `127.0.0.1`): a real proxy could
 *   not resolve a test name, and a test must never reach past loopback. A name it does not know gets 502,
 *   as a proxy answers for a host it cannot resolve; so does a CONNECT to a port nothing listens on;
 * - `terminate` (`host:port` -> loopback `host:port` of a plain-HTTP server, plus the certificates to serve):
 *   the proxy answers the CONNECT itself and speaks TLS as that host, forwarding the bytes inside to the plain
 *   server, for stand-ins that speak no TLS (the ECR API stand-in);
 * - with `tls`, the proxy itself is spoken to over TLS (an https:// proxy).
 * Every request is recorded (`requests`), the Proxy-Authorization it carried included.
 */

export interface ProxiedRequest {
  kind: 'connect' | 'forward';
  /** `host:port` asked for (CONNECT), or the absolute URL (forward). */
  target: string;
  method: string;
  /** The Proxy-Authorization header as received. */
  authorization: string | undefined;
  /** What the proxy answered (200 for a tunnel it opened). */
  status: number;
}

export interface ForwardProxyOptions {
  /** Host names the proxy can resolve, to loopback addresses (`registry.test` -> `127.0.0.1`). */
  hosts?: Record<string, string>;
  credentials?: { user: string; password: string };
  terminate?: Record<string, { to: string; certs: TestCertificates }>;
  tls?: TestCertificates;
}

export interface ForwardProxy {
  /** `127.0.0.1:<port>` */
  host: string;
  /** `http://127.0.0.1:<port>` (or https://) */
  url: string;
  requests: ProxiedRequest[];
  /** How many requests (CONNECTs and forwarded ones) went to `host` (a host name, any port). */
  count(host: string): number;
  close(): Promise<void>;
}

function hostOf(authority: string): { hostname: string; port: number } | undefined {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(authority);
  return m === null ? undefined : { hostname: m[1]!.toLowerCase(), port: Number(m[2]) };
}

export async function startForwardProxy(options: ForwardProxyOptions = {}): Promise<ForwardProxy> {
  const requests: ProxiedRequest[] = [];
  const hosts = new Map(Object.entries(options.hosts ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const expected = options.credentials === undefined ? undefined : `Basic ${Buffer.from(`${options.credentials.user}:${options.credentials.password}`).toString('base64')}`;
  const tunnels = new Set<Duplex>();
  const allowed = (req: IncomingMessage) => expected === undefined || req.headers['proxy-authorization'] === expected;
  const record = (req: IncomingMessage, kind: ProxiedRequest['kind'], target: string, status: number) =>
    requests.push({ kind, target, method: req.method ?? '', authorization: req.headers['proxy-authorization'], status });

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const target = req.url ?? '';
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      record(req, 'forward', target, 400);
      res.writeHead(400).end('not a proxy request (origin-form)\n');
      return;
    }
    if (!allowed(req)) {
      record(req, 'forward', target, 407);
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test proxy"', 'content-length': '0' }).end();
      return;
    }
    const address = hosts.get(url.hostname.toLowerCase());
    if (url.protocol !== 'http:' || address === undefined) {
      record(req, 'forward', target, 502);
      res.writeHead(502).end(`cannot resolve ${url.hostname}\n`);
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = httpRequest({ host: address, port: Number(url.port) || 80, method: req.method, path: url.pathname + url.search, headers }, (answer) => {
      record(req, 'forward', target, answer.statusCode ?? 0);
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      record(req, 'forward', target, 502);
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    req.pipe(upstream);
  };

  const onConnect = (req: IncomingMessage, client: Duplex, head: Buffer) => {
    const target = req.url ?? '';
    client.on('error', () => client.destroy());
    const refuse = (status: number, line: string, extra = '') => {
      record(req, 'connect', target, status);
      client.end(`HTTP/1.1 ${status} ${line}\r\n${extra}Content-Length: 0\r\n\r\n`);
    };
    if (!allowed(req)) return refuse(407, 'Proxy Authentication Required', 'Proxy-Authenticate: Basic realm="test proxy"\r\n');
    const where = hostOf(target);
    const terminate = options.terminate?.[target.toLowerCase()];
    const address = where === undefined ? undefined : hosts.get(where.hostname);
    if (where === undefined || (terminate === undefined && address === undefined)) return refuse(502, 'Bad Gateway');
    const upstream = terminate === undefined ? netConnect({ host: address!, port: where.port }) : netConnect({ host: hostOf(terminate.to)!.hostname, port: hostOf(terminate.to)!.port });
    upstream.once('error', () => refuse(502, 'Bad Gateway'));
    upstream.once('connect', () => {
      upstream.removeAllListeners('error');
      record(req, 'connect', target, 200);
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      let inner: Duplex = client;
      if (terminate !== undefined) {
        inner = new TLSSocket(client as Socket, { isServer: true, cert: readFileSync(terminate.certs.certFile), key: readFileSync(terminate.certs.keyFile) });
        inner.on('error', () => inner.destroy());
      }
      if (head.length > 0) upstream.write(head);
      tunnels.add(inner).add(upstream);
      const drop = () => {
        inner.destroy();
        upstream.destroy();
        client.destroy();
        tunnels.delete(inner);
        tunnels.delete(upstream);
      };
      upstream.on('error', drop).on('close', drop);
      inner.on('close', drop);
      inner.pipe(upstream);
      upstream.pipe(inner);
    });
  };

  const server: Server =
    options.tls === undefined
      ? createServer(onRequest)
      : (createHttpsServer({ cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile) }, onRequest) as unknown as Server);
  server.on('connect', onConnect);
  const listening = await listenOnLoopback(server);
  return {
    host: listening.host,
    url: options.tls === undefined ? listening.url : listening.url.replace(/^http:/, 'https:'),
    requests,
    count: (host) => requests.filter((r) => (r.kind === 'connect' ? hostOf(r.target)?.hostname : new URL(r.target).hostname) === host.toLowerCase()).length,
    close: async () => {
      for (const t of tunnels) t.destroy();
      await listening.close();
    },
  };
}
