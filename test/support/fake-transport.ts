import { Readable } from 'node:stream';
import type { HttpRequest, HttpResponse, HttpTransport } from '../../src/registry/http.js';

/* A scripted HttpTransport for unit tests of the layers above the network (auth, retry, stores). */

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** An HttpTransport over `request` (tests that stream a body, cut it, or hold it): the shell every fake here shares. */
export function fakeTransport(
  request: (req: HttpRequest) => Promise<HttpResponse>,
  opts: { scheme?: 'http' | 'https'; plainHttpExplicit?: boolean; requestTimeoutMs?: number } = {},
): HttpTransport {
  const scheme = opts.scheme ?? 'https';
  return {
    scheme,
    plainHttpExplicit: opts.plainHttpExplicit ?? false,
    requestTimeoutMs: opts.requestTimeoutMs ?? 1000,
    origin: (host) => `${scheme}://${host}`,
    close: async () => undefined,
    request,
  };
}

/** A transport that answers from a script and records what was sent (the request, its Authorization and its body, to assert on). */
export function scripted(handler: (req: HttpRequest) => Answer, opts: { scheme?: 'http' | 'https'; plainHttpExplicit?: boolean } = {}) {
  const sent: Array<{ method: string; url: string; authorization: string | undefined; req: HttpRequest; body: string }> = [];
  const transport = fakeTransport(async (req) => {
    const body = Buffer.isBuffer(req.body) ? req.body.toString() : '';
    sent.push({ method: req.method, url: req.url.href, authorization: req.headers?.['authorization'], req, body });
    const a = handler(req);
    return { status: a.status, headers: a.headers ?? {}, url: req.url, body: Readable.from(a.body === undefined ? [] : [Buffer.from(a.body)]) };
  }, opts);
  return { transport, sent };
}
