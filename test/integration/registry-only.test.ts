import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { createHttpTransport } from '../../src/registry/http.js';
import { listenOnLoopback } from '../support/loopback.js';
import { setup } from '../support/stage.js';
import { makeClientCertificate, makeTestCertificates, type TestCertificates } from '../support/tls.js';

/*
 * issue 14: the client certificate and the extra headers go to the registry's host:port only. A registry
 * stand-in redirects a blob GET to a "bucket" on another host name (as ECR and S3-backed registries do);
 * both ask for a client certificate without requiring one and record what they got.
 */

interface Seen {
  path: string;
  clientCertificate: boolean;
  headers: Record<string, string | string[] | undefined>;
}

async function recordingTlsServer(certs: TestCertificates, answer: (path: string) => { status: number; headers?: Record<string, string>; body?: string }) {
  const seen: Seen[] = [];
  const server: Server = createServer({ cert: await readFile(certs.certFile), key: await readFile(certs.keyFile), requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    seen.push({ path: req.url ?? '', clientCertificate: Object.keys(peer).length > 0, headers: req.headers });
    const a = answer(req.url ?? '');
    res.writeHead(a.status, a.headers).end(a.body ?? '');
  });
  const listening = await listenOnLoopback(server as unknown as import('node:http').Server);
  return { port: Number(listening.host.split(':')[1]), seen, close: listening.close };
}

const w = setup(async (stack) => {
  const certs = stack.add(await makeTestCertificates());
  const client = await makeClientCertificate(certs, 'client');
  const bucket = stack.add(await recordingTlsServer(certs, () => ({ status: 200, body: 'blob bytes' })));
  // The bucket is "another host": localhost, while the registry is 127.0.0.1 (both in the certificate).
  const registry = stack.add(
    await recordingTlsServer(certs, (path) => (path.includes('/blobs/') ? { status: 307, headers: { location: `https://localhost:${bucket.port}/bucket/blob?X-Amz-Signature=abc` } } : { status: 200, body: '{}' })),
  );
  return { certs, client, bucket, registry };
});

describe('registry-only client certificate and headers', () => {
  it('presents both to the registry, and neither across a redirect to another host', async () => {
    const transport = createHttpTransport({
      host: `127.0.0.1:${w.registry.port}`,
      plainHttp: false,
      caFile: w.certs.caFile,
      certFile: w.client.certFile,
      keyFile: w.client.keyFile,
      headers: { 'X-Tenant': 'tenant-7c1e' },
    });
    try {
      const res = await transport.request({ method: 'GET', url: new URL(`https://127.0.0.1:${w.registry.port}/v2/r/blobs/sha256:00`) });
      expect(res.status).toBe(200);
      expect(Buffer.concat(await res.body.toArray()).toString()).toBe('blob bytes');
    } finally {
      await transport.close();
    }
    expect(w.registry.seen.map((s) => [s.path, s.clientCertificate, s.headers['x-tenant']])).toEqual([['/v2/r/blobs/sha256:00', true, 'tenant-7c1e']]);
    expect(w.bucket.seen.map((s) => [s.path, s.clientCertificate, s.headers['x-tenant']])).toEqual([['/bucket/blob?X-Amz-Signature=abc', false, undefined]]);
  });
});
