import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { staticProvider } from '../../../src/credentials/chain.js';
import { RegistryClient } from '../../../src/registry/client.js';

/*
 * A conditional manifest read (If-None-Match with the digest a re-run remembers) answered 304 by something that
 * names another manifest in the same answer (its ETag, or Docker-Content-Digest): a 304 validates the
 * representation it names (RFC 9110 15.4.5), so this one contradicts itself (a cache or proxy answering 304 for
 * whatever it holds). It was taken as "the tag still holds the remembered manifest" (push: unchanged, exit 0,
 * over a moved version); now the manifest is read again without the condition.
 */

const MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
const manifest = (n: number) => Buffer.from(`{"schemaVersion":2,"mediaType":"${MEDIA_TYPE}","layers":[],"annotations":{"n":"${n}"}}`);
const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}` as const;
const OLD = manifest(1);
const NEW = manifest(2);
const KNOWN = { descriptor: { mediaType: MEDIA_TYPE, digest: digestOf(OLD), size: OLD.length }, bytes: OLD };

/** A registry whose tag holds NEW, behind something answering every conditional read 304 with `headers`. */
async function read(headers: Record<string, string>): Promise<{ digest: string; asked: number }> {
  let asked = 0;
  const server = createServer((req, res) => {
    asked++;
    if (req.headers['if-none-match'] !== undefined) res.writeHead(304, headers).end();
    else res.writeHead(200, { 'content-type': MEDIA_TYPE, 'docker-content-digest': digestOf(NEW) }).end(NEW);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const client = RegistryClient.create({ host: `127.0.0.1:${(server.address() as AddressInfo).port}`, credentials: staticProvider('none', undefined) });
  try {
    return { digest: (await client.getManifest('a/b', '1.0.0', undefined, KNOWN)).descriptor.digest, asked };
  } finally {
    await client.close();
    await new Promise((done) => server.close(done));
  }
}

describe('a 304 to a conditional manifest read', () => {
  it.each([
    ['its ETag names another digest', { etag: `"${digestOf(NEW)}"` }],
    ['its weak ETag names another digest', { etag: `W/"${digestOf(NEW)}"` }],
    ['its Docker-Content-Digest names another digest', { 'docker-content-digest': digestOf(NEW) }],
  ])('%s: the manifest is read again without the condition, and the tag found to hold the other one', async (_what, headers) => {
    expect(await read(headers)).toEqual({ digest: digestOf(NEW), asked: 2 });
  });

  it.each([
    ['names the offered digest', { etag: `"${digestOf(OLD)}"`, 'docker-content-digest': digestOf(OLD) }],
    ['names nothing', {}],
    ['has an ETag that is no digest (a registry of its own ETags)', { etag: '"abc123"' }],
  ])('that %s is the offered manifest, one request', async (_what, headers) => {
    expect(await read(headers)).toEqual({ digest: digestOf(OLD), asked: 1 });
  });
});
