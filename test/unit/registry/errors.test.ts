import { describe, expect, it } from 'vitest';
import { errorBodyOf, errorFromNetwork, errorFromResponse, parseOciErrors, readBounded, type AuthOutcome, type ResponseErrorContext } from '../../../src/registry/errors.js';
import { Readable } from 'node:stream';

const url = new URL('https://harbor.example.com/v2/proj/spectro-packs/archive/x/blobs/uploads/?_state=SECRETSTATE');
const base: ResponseErrorContext = { method: 'POST', url, status: 500, host: 'harbor.example.com', body: Buffer.alloc(0) };
const body = (code: string, message: string) => Buffer.from(JSON.stringify({ errors: [{ code, message, detail: { secret: 'x' } }] }));
const basicSent: AuthOutcome = { scheme: 'basic', credentialSent: true, source: 'docker config' };
const bearerSent: AuthOutcome = { scheme: 'bearer', credentialSent: true, source: 'flags', realmHost: 'harbor.example.com' };

describe('parseOciErrors', () => {
  it('reads code, message and detail; tolerates other bodies', () => {
    expect(parseOciErrors(body('denied', 'no'))).toEqual([{ code: 'DENIED', message: 'no', detail: { secret: 'x' } }]);
    expect(parseOciErrors('<html>502</html>')).toEqual([]);
    expect(parseOciErrors('{"errors":"nope"}')).toEqual([]);
    expect(parseOciErrors('')).toEqual([]);
  });

  it('reads at most the limit of a body', async () => {
    const big = Readable.from([Buffer.alloc(40_000, 1), Buffer.alloc(40_000, 2)]);
    expect((await readBounded(big, 50_000)).length).toBe(50_000);
    expect(big.destroyed).toBe(true);
  });
});

describe('errorBodyOf', () => {
  it('names the OCI errors a success answer carries instead of its document, and nothing else', () => {
    expect(errorBodyOf(body('MANIFEST_UNKNOWN', 'manifest unknown'))).toBe('MANIFEST_UNKNOWN: manifest unknown');
    expect(errorBodyOf(Buffer.from('{"errors":[{"code":"denied"},{"code":"x","message":"y"}]}'))).toBe('DENIED; X: y');
    expect(errorBodyOf(Buffer.from('{"schemaVersion":2,"errors":[{"code":"X"}],"layers":[]}'))).toBeUndefined();
    expect(errorBodyOf(Buffer.from('{"errors":[]}'))).toBeUndefined();
    expect(errorBodyOf(Buffer.from('not json'))).toBeUndefined();
    expect(errorBodyOf(Buffer.alloc(0))).toBeUndefined();
  });
});

describe('readBounded', () => {
  /** A body that sends `parts`, then ends, fails with `fail`, or stays open. */
  const bodyOf = (parts: string[], then: 'end' | 'open' | Error = 'end') => {
    const stream = new Readable({ read() {} });
    for (const part of parts) stream.push(Buffer.from(part));
    if (then === 'end') stream.push(null);
    else if (then instanceof Error) setImmediate(() => stream.destroy(then));
    return stream;
  };

  it('reads every chunk of a body to its end', async () => {
    expect((await readBounded(bodyOf(['{"a":', '1}']))).toString()).toBe('{"a":1}');
    expect((await readBounded(Readable.from(['text ', 'chunks']))).toString()).toBe('text chunks');
  });

  it("rejects with the body's error, or returns what arrived when partial", async () => {
    const reset = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
    await expect(readBounded(bodyOf(['half'], reset))).rejects.toBe(reset);
    expect((await readBounded(bodyOf(['half'], reset), 100, { partial: true })).toString()).toBe('half');
  });

  it('fails as a premature close when the body is destroyed before its end', async () => {
    const cut = bodyOf(['part'], 'open');
    const read = readBounded(cut);
    setImmediate(() => cut.destroy());
    await expect(read).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE', message: 'Premature close' });
    const destroyed = bodyOf([], 'open');
    destroyed.destroy();
    await expect(readBounded(destroyed)).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
  });

  it('returns what arrived when a body that never ends is cut at the time limit (partial)', async () => {
    const dripping = bodyOf(['so far'], 'open');
    expect((await readBounded(dripping, 100, { timeoutMs: 20, partial: true })).toString()).toBe('so far');
    expect(dripping.destroyed).toBe(true);
  });

  it('reads a body that already ended as empty, and one already failed as its error', async () => {
    const ended = Readable.from([]);
    ended.resume();
    await new Promise((resolve) => ended.once('end', resolve));
    expect((await readBounded(ended)).length).toBe(0);
    const failed = bodyOf([], 'open');
    const boom = new Error('boom');
    failed.on('error', () => undefined);
    failed.destroy(boom);
    await expect(readBounded(failed)).rejects.toBe(boom);
  });
});

describe('errorFromResponse', () => {
  it.each<[string, Partial<ResponseErrorContext>, string, string]>([
    ['wrong Basic password', { status: 401, auth: basicSent }, 'AUTH', 'credentials rejected by harbor.example.com'],
    [
      'token without push permission (insufficient_scope)',
      { status: 401, auth: bearerSent, repository: 'proj/spectro-packs/archive/x', intent: 'push', body: body('UNAUTHORIZED', 'authentication required') },
      'AUTH',
      'credentials rejected or no push permission on proj/spectro-packs/archive/x',
    ],
    [
      '403 DENIED on push shows the registry reason',
      { status: 403, auth: bearerSent, repository: 'p/r', intent: 'push', body: body('DENIED', 'adding 1 GiB of storage would exceed the quota') },
      'AUTH',
      'credentials rejected or no push permission on p/r: adding 1 GiB of storage would exceed the quota',
    ],
    ['no credentials', { status: 401, auth: { scheme: 'none', credentialSent: false }, repository: 'p/r' }, 'AUTH', 'authentication required by harbor.example.com for p/r'],
    [
      'expired ECR token',
      { status: 403, auth: basicSent, body: body('DENIED', 'Your authorization token has expired. Reauthenticate and try again.') },
      'AUTH',
      'credentials for harbor.example.com have expired',
    ],
    [
      'NAME_UNKNOWN',
      { status: 404, repository: 'p/r', body: body('NAME_UNKNOWN', "The repository with name 'p/r' does not exist") },
      'NOT_FOUND',
      'repository p/r not found on harbor.example.com',
    ],
    ['MANIFEST_UNKNOWN', { status: 404, repository: 'p/r', subject: 'manifest 1.0.0', body: body('MANIFEST_UNKNOWN', 'manifest unknown') }, 'NOT_FOUND', 'manifest 1.0.0 not found in p/r'],
    ['plain 404', { status: 404, subject: 'blob sha256:ab' }, 'NOT_FOUND', 'blob sha256:ab not found on harbor.example.com'],
    ['DIGEST_INVALID', { status: 400, subject: 'blob sha256:ab', body: body('DIGEST_INVALID', 'provided digest did not match uploaded content') }, 'DIGEST_MISMATCH', 'harbor.example.com says the content of blob sha256:ab does not match its digest'],
    [
      'immutable tag (ECR)',
      { method: 'PUT', status: 400, body: body('TAG_INVALID', "The image tag '1.0.0' already exists and cannot be overwritten because the repository is immutable.") },
      'REGISTRY',
      "harbor.example.com answered 400 TAG_INVALID: The image tag '1.0.0' already exists and cannot be overwritten because the repository is immutable. (PUT https://harbor.example.com/v2/proj/spectro-packs/archive/x/blobs/uploads/?_state=***)",
    ],
    [
      'nginx asking for a client certificate (ssl_verify_client on)',
      { status: 400, body: Buffer.from('<html><head><title>400 No required SSL certificate was sent</title></head><body><center><h1>400 Bad Request</h1></center></body></html>') },
      'TLS',
      'harbor.example.com requires a client certificate (answered 400: No required SSL certificate was sent)',
    ],
    [
      'nginx refusing the client certificate',
      { status: 400, body: Buffer.from('<html><head><title>400 The SSL certificate error</title></head></html>') },
      'TLS',
      'harbor.example.com rejected the client certificate (answered 400: The SSL certificate error)',
    ],
    ['server error after retries', { status: 503, attempts: 6 }, 'REGISTRY', 'harbor.example.com answered 503 after 6 attempts (POST https://harbor.example.com/v2/proj/spectro-packs/archive/x/blobs/uploads/?_state=***)'],
  ])('%s', (_name, ctx, code, message) => {
    const err = errorFromResponse({ ...base, ...ctx });
    expect(err.code).toBe(code);
    expect(err.message).toBe(message);
    expect(err.message).not.toContain('\n');
    expect(err.message).not.toContain('SECRETSTATE');
    expect(err.url).not.toContain('SECRETSTATE');
    expect(err.hint ?? '').not.toBe('');
  });

  it('names a success or redirect status no registry gives to the request, with a hint, not retried', () => {
    for (const status of [200, 206, 302]) {
      const err = errorFromResponse({ ...base, method: 'GET', status, body: Buffer.from('{}') });
      expect(err.code).toBe('REGISTRY');
      expect(err.message).toBe(`harbor.example.com answered ${status} to GET https://harbor.example.com/v2/proj/spectro-packs/archive/x/blobs/uploads/?_state=***, a status a registry does not give to this request`);
      expect(err.hint).toMatch(/^the registry or a proxy in front of it answers in a way packpub cannot trust/);
      expect(err.retryable).toBe(false);
    }
  });

  it('keeps status, OCI code and method on the error for callers to branch on', () => {
    const err = errorFromResponse({ ...base, status: 412, body: body('PRECONDITION', 'immutable tag rule') });
    expect(err).toMatchObject({ status: 412, ociCode: 'PRECONDITION', ociMessage: 'immutable tag rule', method: 'POST', retryable: false });
  });

  it('points at --allow-cross-host-auth when credentials were held back from the token service', () => {
    const err = errorFromResponse({
      ...base,
      status: 401,
      repository: 'p/r',
      intent: 'push',
      auth: { scheme: 'bearer', credentialSent: false, withheld: 'cross-host', realmHost: 'auth.other.example' },
    });
    expect(err.message).toBe('credentials rejected or no push permission on p/r');
    expect(err.hint).toContain('--allow-cross-host-auth');
  });
});

describe('errorFromNetwork', () => {
  const net = (code: string, message = 'boom') => errorFromNetwork(Object.assign(new Error(message), { code }), { method: 'GET', url: new URL('https://r.example:5000/v2/') });
  it.each([
    ['ENOTFOUND', 'NETWORK', 'cannot resolve host r.example', '--resolve'],
    ['ECONNREFUSED', 'NETWORK', 'connection refused by r.example:5000', 'host and port'],
    ['ECONNRESET', 'NETWORK', 'connection to r.example:5000 was closed unexpectedly', 'proxies'],
    ['UND_ERR_HEADERS_TIMEOUT', 'NETWORK', 'timed out waiting for r.example:5000', '--request-timeout'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'TLS', 'TLS certificate of r.example:5000 could not be verified (SELF_SIGNED_CERT_IN_CHAIN)', '--ca-file <pem>'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'TLS', 'TLS certificate of r.example:5000 is not for the name r.example (ERR_TLS_CERT_ALTNAME_INVALID)', 'a name its certificate holds (when that name does not resolve here: --resolve NAME:5000:ADDRESS)'],
    ['CERT_HAS_EXPIRED', 'TLS', 'TLS certificate of r.example:5000 (or of a CA that signed it) has expired (CERT_HAS_EXPIRED)', "its owner must renew it; if it should be valid now, check this machine's clock"],
    ['CERT_NOT_YET_VALID', 'TLS', 'TLS certificate of r.example:5000 (or of a CA that signed it) is not valid yet (CERT_NOT_YET_VALID)', "check this machine's clock"],
  ])('%s', (code, expectedCode, message, hint) => {
    const err = net(code);
    expect(err.code).toBe(expectedCode);
    expect(err.message).toBe(message);
    expect(err.hint).toContain(hint);
  });

  it.each([
    ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', false, 'r.example:5000 requires a client certificate (TLS alert: certificate required)', '--cert-file CERT --key-file KEY'],
    ['ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', false, 'r.example:5000 requires a client certificate (TLS alert: bad certificate)', '--cert-file CERT --key-file KEY'],
    ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', true, 'r.example:5000 rejected the client certificate (TLS alert: unknown ca)', 'signed by a CA the registry trusts'],
    ['ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED', true, 'r.example:5000 rejected the client certificate (TLS alert: certificate expired)', 'valid now'],
    // The OpenSSL of Node 22 and later (a Go registry's TLS 1.3 refusal; was: "connection ... closed unexpectedly", retried).
    ['ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE', false, 'r.example:5000 requires a client certificate (TLS alert: bad certificate)', '--cert-file CERT --key-file KEY'],
    ['ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE', true, 'r.example:5000 rejected the client certificate (TLS alert: bad certificate)', 'signed by a CA the registry trusts'],
  ])('%s (client certificate given: %s) is a TLS error about the client certificate, not retried', (code, given, message, hint) => {
    const err = errorFromNetwork(Object.assign(new Error('SSL routines:ssl3_read_bytes:alert'), { code }), { method: 'GET', url: new URL('https://r.example:5000/v2/'), clientCertificate: given });
    expect(err.code).toBe('TLS');
    expect(err.message).toBe(message);
    expect(err.hint).toContain(hint);
    expect((err as { retryable?: boolean }).retryable).toBe(false);
  });

  it('looks through AggregateError (happy eyeballs) for the code', () => {
    const agg = Object.assign(new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })], 'failed'), {});
    expect(errorFromNetwork(agg, { method: 'GET', url: new URL('http://localhost:1/') }).message).toBe('connection refused by localhost:1');
  });

  it('scrubs URLs with secrets out of unknown causes', () => {
    const err = net('EWEIRD', 'failed for https://x/y?X-Amz-Signature=abcdef');
    expect(err.message).toBe('request to r.example:5000 failed: failed for https://x/y?X-Amz-Signature=*** (EWEIRD)');
  });
});
