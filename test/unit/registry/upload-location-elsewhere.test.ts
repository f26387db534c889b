import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { staticProvider } from '../../../src/credentials/chain.js';
import { isPackpubError } from '../../../src/errors.js';
import type { Digest } from '../../../src/oci/digest.js';
import { RegistryClient } from '../../../src/registry/client.js';
import { scripted, type Answer } from '../../support/fake-transport.js';

/*
 * An upload Location on another origin than the registry's gets the bytes without the registry's credentials. The
 * commonest cause is a registry behind a TLS proxy that does not tell it the scheme: distribution then writes
 * `http://<host>/v2/...` into Location, and that address either redirects to https (301) or asks for credentials
 * (401). Before, packpub said "answered 301 to PUT http://..., a status a registry does not give to this request",
 * or "authentication required by <host>; pass --username" with --username given. Now it names the upload address
 * that answered, says credentials go to the registry's own address only, and points at the proxy's
 * X-Forwarded-Proto (or distribution's http.host).
 */

const DIGEST = `sha256:${'c'.repeat(64)}` as Digest;

async function uploadWith(location: string, put: Answer): Promise<{ error: unknown; sent: ReturnType<typeof scripted>['sent'] }> {
  const { transport, sent } = scripted((req) => {
    if (req.method === 'POST') return { status: 202, headers: { location } };
    if (req.method === 'PUT') return put;
    return { status: 404 };
  });
  const client = RegistryClient.create({ host: 'r.example', credentials: staticProvider('basic', { username: 'u', password: 'pw-elsewhere-1' }), retry: { attempts: 1 } }, { transport });
  const error = await client.uploadBlob('a/b', { digest: DIGEST, size: 2 }, () => Readable.from([Buffer.from('{}')])).then(
    () => undefined,
    (err: unknown) => err,
  );
  return { error, sent };
}

describe('an upload Location on another origin that refuses the PUT', () => {
  it('http:// on the registry\'s own host name, redirecting to https: named, with the X-Forwarded-Proto hint (was: "answered 301 ..., a status a registry does not give")', async () => {
    const { error, sent } = await uploadWith('http://r.example/v2/a/b/blobs/uploads/s1?_state=x', { status: 301, headers: { location: 'https://r.example/v2/a/b/blobs/uploads/s1' } });
    expect(isPackpubError(error, 'REGISTRY'), String(error)).toBe(true);
    const err = error as Error & { hint?: string };
    expect(err.message).toBe(
      'r.example started an upload at another address (http://r.example/), which answered 301 to the PUT: packpub sends r.example\'s credentials to https://r.example/ only',
    );
    expect(err.hint).toContain('X-Forwarded-Proto');
    expect(sent.filter((s) => s.url.startsWith('http://')).map((s) => s.authorization)).toEqual([undefined]);
  });

  it('another host asking for credentials: named, not "authentication required ... pass --username" (was: so, with credentials given)', async () => {
    const { error } = await uploadWith('https://internal.r.example:5000/v2/a/b/blobs/uploads/s1', { status: 401, headers: { 'www-authenticate': 'Basic realm="x"' } });
    const err = error as Error & { hint?: string };
    expect(err.message).toBe(
      'r.example started an upload at another address (https://internal.r.example:5000/), which answered 401 to the PUT: packpub sends r.example\'s credentials to https://r.example/ only',
    );
    expect(err.hint).toContain('http.host');
    expect(err.hint).not.toContain('X-Forwarded-Proto');
  });

  it('a 400 or 500 there keeps the registry\'s own words, with the address named (held: other failures are not hidden)', async () => {
    const { error } = await uploadWith('https://internal.r.example:5000/v2/a/b/blobs/uploads/s1', { status: 400, headers: { 'content-type': 'application/json' }, body: '{"errors":[{"code":"DIGEST_INVALID","message":"digest did not match"}]}' });
    expect(String((error as Error).message)).toMatch(/^r\.example says the content of blob sha256:c{64}/);
  });
});
