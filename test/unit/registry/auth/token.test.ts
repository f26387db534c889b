import { describe, expect, it } from 'vitest';
import { fetchToken, parseTokenResponse, scopesCover, TokenCache, type TokenResponse } from '../../../../src/registry/auth/token.js';
import { scripted } from '../../../support/fake-transport.js';

/** A token service that gives every request the same JSON answer. */
const tokenService = (status: number, body: string) => scripted(() => ({ status, body, headers: { 'content-type': 'application/json' } }));

describe('parseTokenResponse', () => {
  it('uses the non-empty one of token and access_token (Harbor sends "access_token":"")', () => {
    expect(parseTokenResponse({ token: 'jwt-1', access_token: '', expires_in: 1800 }, 'h').token).toBe('jwt-1');
    expect(parseTokenResponse({ token: '', access_token: 'oauth-2', expires_in: 300 }, 'h').token).toBe('oauth-2');
  });

  it('defaults expires_in to 60 seconds and reads issued_at', () => {
    const r = parseTokenResponse({ token: 't', issued_at: '2024-01-01T00:00:00Z' }, 'h');
    expect(r.expiresInS).toBe(60);
    expect(r.issuedAt?.toISOString()).toBe('2024-01-01T00:00:00.000Z');
    expect(parseTokenResponse({ token: 't', expires_in: -5 }, 'h').expiresInS).toBe(60);
  });

  it('fails clearly when there is no token', () => {
    expect(() => parseTokenResponse({ token: '', access_token: '' }, 'auth.example')).toThrow(/token service auth.example answered without a token/);
    expect(() => parseTokenResponse(null, 'auth.example')).toThrow(/without a token/);
  });
});

describe('TokenCache', () => {
  it('serves a token until expires_in minus the margin, then fetches again', async () => {
    let now = 1_000_000;
    const cache = new TokenCache(() => now);
    let fetched = 0;
    const fetch = async (): Promise<TokenResponse> => ({ token: `t${++fetched}`, expiresInS: 100 });
    const key = TokenCache.key('https://r/token', 'svc', ['repository:a:pull']);
    expect(await cache.getOrFetch(key, fetch)).toBe('t1');
    now += 79_000; // margin is a fifth of 100 s: usable until 80 s
    expect(await cache.getOrFetch(key, fetch)).toBe('t1');
    now += 1_000;
    expect(await cache.getOrFetch(key, fetch)).toBe('t2');
  });

  it('caps the margin at 30 s for long-lived tokens (Harbor: 30 min)', async () => {
    let now = 0;
    const cache = new TokenCache(() => now);
    cache.set('k', 'long', 1800);
    now = 1769_000;
    expect(cache.get('k')).toBe('long');
    now = 1770_000;
    expect(cache.get('k')).toBeUndefined();
  });

  it('keys by realm, service and the merged scope set', () => {
    expect(TokenCache.key('r', 's', ['repository:a:push', 'repository:a:pull'])).toBe(TokenCache.key('r', 's', ['repository:a:pull,push']));
    expect(TokenCache.key('r', 's', ['repository:a:pull'])).not.toBe(TokenCache.key('r', 's', ['repository:b:pull']));
  });

  it('shares one pending fetch between concurrent callers', async () => {
    const cache = new TokenCache(() => 0);
    let calls = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const fetch = async (): Promise<TokenResponse> => {
      calls++;
      await gate;
      return { token: 'shared', expiresInS: 60 };
    };
    const all = Promise.all([cache.getOrFetch('k', fetch), cache.getOrFetch('k', fetch), cache.getOrFetch('k', fetch)]);
    release();
    expect(await all).toEqual(['shared', 'shared', 'shared']);
    expect(calls).toBe(1);
  });

  it('deletes a rejected token only if it is still the cached one', () => {
    const cache = new TokenCache(() => 0);
    cache.set('k', 'new', 60);
    cache.delete('k', 'old');
    expect(cache.get('k')).toBe('new');
    cache.delete('k', 'new');
    expect(cache.get('k')).toBeUndefined();
  });

  it('reuses a pull,push token for a pull on the same repository', () => {
    const cache = new TokenCache(() => 0);
    cache.set(TokenCache.key('r', 's', ['repository:a:pull,push']), 'wide', 60);
    expect(cache.getCovering('r', 's', ['repository:a:pull'])?.token).toBe('wide');
    expect(cache.getCovering('r', 's', ['repository:b:pull'])).toBeUndefined();
    expect(cache.getCovering('r', 'other', ['repository:a:pull'])).toBeUndefined();
  });

  it('scopesCover follows actions and *', () => {
    expect(scopesCover(['repository:a:pull,push'], ['repository:a:push'])).toBe(true);
    expect(scopesCover(['repository:a:pull'], ['repository:a:pull,push'])).toBe(false);
    expect(scopesCover(['repository:a:*'], ['repository:a:delete'])).toBe(true);
    expect(scopesCover([], [])).toBe(true);
  });
});

describe('fetchToken', () => {
  it('GETs the realm with service, every scope and Basic credentials', async () => {
    const { transport, sent } = tokenService(200, '{"token":"jwt","access_token":"","expires_in":1800}');
    const scopes = ['repository:p/r:push', 'repository:p/r:pull', 'repository:p/base:pull'];
    const credentials = { username: 'robot$p+ci', password: 'pw' };
    const answer = await fetchToken({ transport, realm: new URL('https://harbor.example.com/service/token'), service: 'harbor-registry', scopes, credentials });
    expect(answer).toEqual({ token: 'jwt', expiresInS: 1800 });
    const req = sent[0]!.req;
    expect(req.method).toBe('GET');
    expect(req.url.searchParams.get('service')).toBe('harbor-registry');
    expect(req.url.searchParams.getAll('scope')).toEqual(['repository:p/base:pull', 'repository:p/r:pull,push']);
    expect(req.headers?.['authorization']).toBe(`Basic ${Buffer.from('robot$p+ci:pw').toString('base64')}`);
  });

  it('sends nothing secret when anonymous', async () => {
    const { transport, sent } = tokenService(200, '{"token":"anon"}');
    await fetchToken({ transport, realm: new URL('https://auth.example/token'), scopes: ['repository:a:pull'] });
    expect(sent[0]!.req.headers?.['authorization']).toBeUndefined();
  });

  it('exchanges an identity token with a POST refresh_token form', async () => {
    const { transport, sent } = tokenService(200, '{"access_token":"oauth","expires_in":300,"refresh_token":"next"}');
    const request = { realm: new URL('https://auth.example/token'), service: 'registry.example', scopes: ['repository:a:pull', 'repository:a:push'] };
    const answer = await fetchToken({ transport, ...request, credentials: { identityToken: 'refresh-me' }, clientId: 'packpub' });
    expect(answer.token).toBe('oauth');
    expect(answer.refreshToken).toBe('next');
    const { req, body } = sent[0]!;
    expect(req.method).toBe('POST');
    expect(req.headers?.['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req.headers?.['authorization']).toBeUndefined();
    const form = new URLSearchParams(body);
    expect(Object.fromEntries(form)).toEqual({
      grant_type: 'refresh_token',
      service: 'registry.example',
      scope: 'repository:a:pull,push',
      refresh_token: 'refresh-me',
      client_id: 'packpub',
    });
  });

  it('reports rejected credentials at the token service as AUTH, and 5xx as retryable', async () => {
    const denied = tokenService(401, '{"details":"incorrect username or password"}');
    await expect(
      fetchToken({ transport: denied.transport, realm: new URL('https://auth.example/token'), scopes: [], credentials: { username: 'u', password: 'p' } }),
    ).rejects.toMatchObject({ code: 'AUTH', message: 'credentials rejected by auth.example' });
    const busy = tokenService(503, '');
    await expect(fetchToken({ transport: busy.transport, realm: new URL('https://auth.example/token'), scopes: [] })).rejects.toMatchObject({
      code: 'REGISTRY',
      retryable: true,
    });
  });
});
