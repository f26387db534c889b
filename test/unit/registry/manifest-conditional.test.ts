import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { staticProvider } from '../../../src/credentials/chain.js';
import type { FetchedManifest } from '../../../src/oci/manifest.js';
import { RegistryClient } from '../../../src/registry/client.js';

/*
 * The conditional manifest read (If-None-Match with the digest a re-run remembers) must reach the registry:
 * an HTTP cache between packpub and the registry holding the manifest the tag pointed at before could
 * otherwise answer 304 itself, and push would take a moved tag for unchanged. `Cache-Control: no-cache`
 * makes a cache ask the origin (RFC 9111 5.2.1.4).
 */

const MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
const MANIFEST = Buffer.from(`{"schemaVersion":2,"mediaType":"${MEDIA_TYPE}","layers":[]}`);
const DIGEST: `sha256:${string}` = `sha256:${createHash('sha256').update(MANIFEST).digest('hex')}`;
const KNOWN = { descriptor: { mediaType: MEDIA_TYPE, digest: DIGEST, size: MANIFEST.length }, bytes: MANIFEST };

/** One manifest read against a loopback server answering 304 to If-None-Match, else the manifest; the headers it got. */
async function readOnce(known?: FetchedManifest): Promise<{ read: FetchedManifest; seen: IncomingHttpHeaders[] }> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    if (req.headers['if-none-match'] === `"${DIGEST}"`) res.writeHead(304, { etag: `"${DIGEST}"` }).end();
    else res.writeHead(200, { 'content-type': MEDIA_TYPE, 'docker-content-digest': DIGEST }).end(MANIFEST);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const client = RegistryClient.create({ host: `127.0.0.1:${(server.address() as AddressInfo).port}`, credentials: staticProvider('none', undefined) });
  try {
    return { read: await client.getManifest('a/b', '1.0.0', undefined, known), seen };
  } finally {
    await client.close();
    await new Promise((done) => server.close(done));
  }
}

describe('the conditional manifest read', () => {
  it('sends If-None-Match with Cache-Control: no-cache on the wire, and takes the 304 as the known manifest', async () => {
    const { read, seen } = await readOnce(KNOWN);
    expect(read).toBe(KNOWN);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ 'if-none-match': `"${DIGEST}"`, 'cache-control': 'no-cache' });
  });

  it('an unconditional read offers no digest (no If-None-Match), and also asks for the registry\'s own answer (Cache-Control: no-cache)', async () => {
    const { read, seen } = await readOnce();
    expect(read.descriptor.digest).toBe(DIGEST);
    expect(seen).toHaveLength(1);
    expect(Object.keys(seen[0] ?? {})).not.toContain('if-none-match');
    expect(seen[0]?.['cache-control']).toBe('no-cache');
  });
});
