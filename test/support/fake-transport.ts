import { Readable } from 'node:stream';
import type { HttpRequest, HttpResponse, HttpTransport } from '../../src/registry/http.js';

/* A scripted HttpTransport for unit tests of the layers above the network (auth, retry, stores). */

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** A transport that answers from a script and records what was sent (the request, its Authorization and its body, to assert on). */
export function scripted(handler: (req: HttpRequest) => Answer, opts: { scheme?: 'http' | 'https'; plainHttpExplicit?: boolean } = {}) {
  const sent: Array<{ method: string; url: string; authorization: string | undefined; req: HttpRequest; body: string }> = [];
  const transport: HttpTransport = {
    scheme: opts.scheme ?? 'https',
    plainHttpExplicit: opts.plainHttpExplicit ?? false,
    requestTimeoutMs: 1000,
    origin: (host) => `${opts.scheme ?? 'https'}://${host}`,
    close: async () => undefined,
    async request(req): Promise<HttpResponse> {
      const body = Buffer.isBuffer(req.body) ? req.body.toString() : '';
      sent.push({ method: req.method, url: req.url.href, authorization: req.headers?.['authorization'], req, body });
      const a = handler(req);
      return { status: a.status, headers: a.headers ?? {}, url: req.url, body: Readable.from(a.body === undefined ? [] : [Buffer.from(a.body)]) };
    },
  };
  return { transport, sent };
}

