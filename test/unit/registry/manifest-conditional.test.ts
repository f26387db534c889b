import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { staticProvider } from '../../../src/credentials/chain.js';
import { RegistryClient } from '../../../src/registry/client.js';
import type { HttpRequest, HttpResponse, HttpTransport } from '../../../src/registry/http.js';

/*
 * The conditional manifest read (If-None-Match with the digest a re-run remembers) must reach the registry:
 * an HTTP cache between packpub and the registry holding the manifest the tag pointed at before could
 * otherwise answer 304 itself, and push would take a moved tag for unchanged. `Cache-Control: no-cache`
 * makes a cache ask the origin (RFC 9111 5.2.1.4).
 */

const MANIFEST = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}');
const DIGEST: `sha256:${string}` = `sha256:${createHash('sha256').update(MANIFEST).digest('hex')}`;

function recording(status: 200 | 304): { transport: HttpTransport; seen: HttpRequest[] } {
  const seen: HttpRequest[] = [];
  const transport: HttpTransport = {
    scheme: 'https',
    plainHttpExplicit: false,
    requestTimeoutMs: 10_000,
    origin: (host) => `https://${host}`,
    close: async () => undefined,
    async request(req): Promise<HttpResponse> {
      seen.push(req);
      const body = status === 304 ? Buffer.alloc(0) : MANIFEST;
      return {
        status,
        headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': DIGEST, 'content-length': String(body.length) },
        url: req.url,
        body: Readable.from([body]),
      };
    },
  };
  return { transport, seen };
}

describe('the conditional manifest read', () => {
  it('sends If-None-Match with Cache-Control: no-cache on the wire, and takes the 304 as the known manifest', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(304, { etag: `"${DIGEST}"` }).end();
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = RegistryClient.create({ host, credentials: staticProvider('none', undefined) });
    try {
      const known = { descriptor: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: DIGEST, size: MANIFEST.length }, bytes: MANIFEST };
      expect(await client.getManifest('a/b', '1.0.0', undefined, known)).toBe(known);
    } finally {
      await client.close();
      await new Promise((done) => server.close(done));
    }
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ 'if-none-match': `"${DIGEST}"`, 'cache-control': 'no-cache' });
  });

  it('an unconditional read is left as it was (no If-None-Match, no Cache-Control)', async () => {
    const { transport, seen } = recording(200);
    const client = RegistryClient.create({ host: 'r.example', credentials: staticProvider('none', undefined) }, { transport });
    expect((await client.getManifest('a/b', '1.0.0')).descriptor.digest).toBe(DIGEST);
    expect(Object.keys(seen[0]?.headers ?? {})).not.toContain('if-none-match');
    expect(Object.keys(seen[0]?.headers ?? {})).not.toContain('cache-control');
  });
});
