import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { staticProvider } from '../../../src/credentials/chain.js';
import { RegistryClient } from '../../../src/registry/client.js';
import type { HttpResponse, HttpTransport } from '../../../src/registry/http.js';
import { fakeTransport } from '../../support/fake-transport.js';

/*
 * README: --retry-deadline "also bounds each manifest read ... whole". A manifest whose bytes do not match
 * their digest is read a second time (a proxy or cache may have served other content once); that second read
 * must fit in what is left of the same deadline, not start a deadline of its own.
 */

const OTHER = Buffer.from('{"schemaVersion":2,"layers":[]}');

/** Every manifest GET answers at once, then sends a body that is not the announced digest's after `delayMs`. */
function slowOtherContent(delayMs: number): { transport: HttpTransport; reads: () => number } {
  let reads = 0;
  const transport = fakeTransport(
    async (req): Promise<HttpResponse> => {
      reads++;
      const body = new Readable({ read() {} });
      const timer = setTimeout(() => {
        body.push(OTHER);
        body.push(null);
      }, delayMs);
      body.on('close', () => clearTimeout(timer));
      return {
        status: 200,
        headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': `sha256:${'a'.repeat(64)}`, 'content-length': String(OTHER.length) },
        url: req.url,
        body,
      };
    },
    { requestTimeoutMs: 10_000 },
  );
  return { transport, reads: () => reads };
}

describe('a manifest read again after other content', () => {
  it('shares the first read\'s --retry-deadline: the second read is cut off when it runs out', async () => {
    // Each read takes 60 % of the deadline: the first ends in a digest mismatch, the second cannot finish in time.
    const { transport, reads } = slowOtherContent(600);
    const client = RegistryClient.create({ host: 'r.example', credentials: staticProvider('none', undefined), retry: { deadlineMs: 1_000 } }, { transport });
    const err = await client.getManifest('a/b', '1.0.0').then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/did not arrive within the retry deadline of 1 s/);
    expect(err?.message).not.toContain('twice in a row');
    expect(reads()).toBeLessThanOrEqual(2);
  });

  it('still reads twice when the deadline leaves room, and names a mismatch seen twice', async () => {
    const { transport, reads } = slowOtherContent(0);
    const client = RegistryClient.create({ host: 'r.example', credentials: staticProvider('none', undefined), retry: { deadlineMs: 60_000 } }, { transport });
    await expect(client.getManifest('a/b', '1.0.0')).rejects.toThrow(/the bytes hash to sha256:[0-9a-f]{64} \(twice in a row\)/);
    expect(reads()).toBe(2);
  });
});
