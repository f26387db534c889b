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

/** What a cache remembered under a tag that now holds MANIFEST: another manifest, whose bytes hash to its digest. */
const OTHER = Buffer.from(`{"schemaVersion":2,"mediaType":"${MEDIA_TYPE}","layers":[],"annotations":{"other":"1"}}`);
const REMEMBERED_OTHER = { descriptor: { mediaType: MEDIA_TYPE, digest: `sha256:${createHash('sha256').update(OTHER).digest('hex')}` as const, size: OTHER.length }, bytes: OTHER };

/** Manifest reads one after the other against a loopback server answering 304 to If-None-Match, else the manifest; the headers it got. */
async function readInTurn(...known: Array<FetchedManifest | undefined>): Promise<{ read: FetchedManifest[]; seen: IncomingHttpHeaders[] }> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    if (req.headers['if-none-match'] === `"${DIGEST}"`) res.writeHead(304, { etag: `"${DIGEST}"` }).end();
    else res.writeHead(200, { 'content-type': MEDIA_TYPE, 'docker-content-digest': DIGEST }).end(MANIFEST);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const client = RegistryClient.create({ host: `127.0.0.1:${(server.address() as AddressInfo).port}`, credentials: staticProvider('none', undefined) });
  try {
    const read: FetchedManifest[] = [];
    for (const k of known) read.push(await client.getManifest('a/b', '1.0.0', undefined, k));
    return { read, seen };
  } finally {
    await client.close();
    await new Promise((done) => server.close(done));
  }
}

describe('the conditional manifest read', () => {
  it('a look-up offered the remembered manifest asks for the manifest itself (pipelined, its answer must be that manifest), with Cache-Control: no-cache', async () => {
    const { read, seen } = await readInTurn(KNOWN);
    expect(read).toEqual([KNOWN]);
    expect(seen).toHaveLength(1);
    expect(Object.keys(seen[0] ?? {})).not.toContain('if-none-match');
    expect(seen[0]?.['cache-control']).toBe('no-cache');
  });

  it('once an answer was not the manifest remembered, reads again and later sends If-None-Match with Cache-Control: no-cache on the wire, and takes the 304 as the known manifest', async () => {
    const { read, seen } = await readInTurn(REMEMBERED_OTHER, KNOWN);
    // The tag holds MANIFEST, not what was remembered: read again on a connection of its own, and the registry's answer taken.
    expect(read[0]?.descriptor.digest).toBe(DIGEST);
    expect(read[1]).toBe(KNOWN);
    expect(seen).toHaveLength(3);
    expect(Object.keys(seen[0] ?? {})).not.toContain('if-none-match');
    expect(Object.keys(seen[1] ?? {})).not.toContain('if-none-match');
    expect(seen[2]).toMatchObject({ 'if-none-match': `"${DIGEST}"`, 'cache-control': 'no-cache' });
  });

  it('an unconditional read offers no digest (no If-None-Match), and also asks for the registry\'s own answer (Cache-Control: no-cache)', async () => {
    const { read, seen } = await readInTurn(undefined);
    expect(read[0]?.descriptor.digest).toBe(DIGEST);
    expect(seen).toHaveLength(1);
    expect(Object.keys(seen[0] ?? {})).not.toContain('if-none-match');
    expect(seen[0]?.['cache-control']).toBe('no-cache');
  });
});
