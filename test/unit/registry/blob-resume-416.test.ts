import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { staticProvider } from '../../../src/credentials/chain.js';
import type { Digest } from '../../../src/oci/digest.js';
import { RegistryClient } from '../../../src/registry/client.js';
import type { HttpRequest, HttpResponse, HttpTransport } from '../../../src/registry/http.js';
import { fakeTransport } from '../../support/fake-transport.js';

/*
 * A blob download cut mid-body is resumed with `Range: bytes=<n>-`. A server (or the storage or CDN a registry
 * redirects to) that answers such a request 416 Range Not Satisfiable (it does not serve ranges of this object)
 * still serves the whole blob: it is asked once more without Range, and the bytes already delivered are skipped, as
 * for a server that ignores Range. Before, the pull failed: "answered 416 ...", exit 1.
 */

const BLOB = Buffer.from('0123456789'.repeat(100));
const DIGEST = `sha256:${createHash('sha256').update(BLOB).digest('hex')}` as Digest;

function transportCutThen416(): { transport: HttpTransport; seen: Array<string | undefined> } {
  const seen: Array<string | undefined> = [];
  const transport = fakeTransport(
    async (req: HttpRequest): Promise<HttpResponse> => {
      const range = req.headers?.['range'];
      seen.push(range);
      const answer = (status: number, headers: Record<string, string>, body: Readable): HttpResponse => ({ status, headers, url: req.url, body });
      if (seen.length === 1) {
        // the first half, then the connection drops
        const body = new Readable({ read() {} });
        body.push(BLOB.subarray(0, 400));
        setImmediate(() => body.destroy(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })));
        return answer(200, { 'content-length': String(BLOB.length) }, body);
      }
      if (range !== undefined) return answer(416, { 'content-range': `bytes */${BLOB.length}` }, Readable.from([]));
      return answer(200, { 'content-length': String(BLOB.length) }, Readable.from([BLOB]));
    },
    { requestTimeoutMs: 10_000 },
  );
  return { transport, seen };
}

describe('a resumed blob download answered 416', () => {
  it('is asked again without Range, and the stream delivers the blob whole and verified (was: exit 1, "answered 416")', async () => {
    const { transport, seen } = transportCutThen416();
    const client = RegistryClient.create({ host: 'r.example', credentials: staticProvider('none', undefined), retry: { initialDelayMs: 0 } }, { transport });
    const chunks: Buffer[] = [];
    for await (const chunk of await client.fetchBlob('a/b', { digest: DIGEST, size: BLOB.length })) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(BLOB)).toBe(true);
    expect(seen).toEqual([undefined, 'bytes=400-', undefined]);
  });
});
