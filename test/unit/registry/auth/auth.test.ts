import { describe, expect, it } from 'vitest';
import { findBearer, hasBasic, mergeScopes, parseWwwAuthenticate, repositoryScope } from '../../../../src/registry/auth/challenge.js';
import { fetchToken, parseTokenResponse, scopesCover, TokenCache, type TokenResponse } from '../../../../src/registry/auth/token.js';
import { scripted, type Answer } from '../../../support/fake-transport.js';
import { staticProvider } from '../../../../src/credentials/chain.js';
import { AuthSession } from '../../../../src/registry/auth/session.js';
import type { Credential, CredentialProvider } from '../../../../src/credentials/types.js';
import { errorFromResponse } from '../../../../src/registry/errors.js';
import type { HttpRequest, HttpTransport } from '../../../../src/registry/http.js';

/*
 * The tests of src/registry/auth/'s smaller modules, a describe per module (each was a test file of its own): each
 * test file costs vitest ~15-30 ms of CPU whatever its size (requests between worker and main process, test/per-
 * file-setup.ts).
 */

describe('challenge', () => {
  describe('parseWwwAuthenticate', () => {
    it.each([
      [
        'Harbor Bearer challenge',
        'Bearer realm="https://harbor.example.com/service/token",service="harbor-registry",scope="repository:p/r:pull,push"',
        [{ scheme: 'bearer', params: { realm: 'https://harbor.example.com/service/token', service: 'harbor-registry', scope: 'repository:p/r:pull,push' } }],
      ],
      [
        'ECR Basic challenge',
        'Basic realm="https://123456789012.dkr.ecr.us-east-1.amazonaws.com/",service="ecr.amazonaws.com"',
        [{ scheme: 'basic', params: { realm: 'https://123456789012.dkr.ecr.us-east-1.amazonaws.com/', service: 'ecr.amazonaws.com' } }],
      ],
      [
        'unquoted values, odd spacing and case',
        'BASIC   Realm = registry ,  Charset="UTF-8"',
        [{ scheme: 'basic', params: { realm: 'registry', charset: 'UTF-8' } }],
      ],
      [
        'quoted-pair escapes and commas inside quotes',
        'Bearer realm="https://a.example/t?x=\\"y\\"",scope="repository:a:pull,push repository:b:pull",error="insufficient_scope"',
        [{ scheme: 'bearer', params: { realm: 'https://a.example/t?x="y"', scope: 'repository:a:pull,push repository:b:pull', error: 'insufficient_scope' } }],
      ],
      [
        'several challenges in one header',
        'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"',
        [
          { scheme: 'newauth', params: { realm: 'apps', type: '1', title: 'Login to "apps"' } },
          { scheme: 'basic', params: { realm: 'simple' } },
        ],
      ],
      ['a scheme with no parameters, then another', 'Negotiate, Basic realm="x"', [{ scheme: 'negotiate', params: {} }, { scheme: 'basic', params: { realm: 'x' } }]],
      ['token68', 'Negotiate YII=, Basic realm="x"', [{ scheme: 'negotiate', params: {}, token68: 'YII=' }, { scheme: 'basic', params: { realm: 'x' } }]],
      ['empty header', '', []],
      ['garbage does not throw', '===,,, "', []],
    ])('%s', (_name, header, expected) => {
      expect(parseWwwAuthenticate(header)).toEqual(expected);
    });

    it('joins several header lines', () => {
      const challenges = parseWwwAuthenticate(['Basic realm="harbor"', 'Bearer realm="https://h/service/token",service="harbor-registry"']);
      expect(challenges.map((c) => c.scheme)).toEqual(['basic', 'bearer']);
      expect(hasBasic(challenges)).toBe(true);
      expect(findBearer(challenges)).toEqual({ realm: 'https://h/service/token', service: 'harbor-registry', scopes: [] });
    });

    it('splits a Bearer scope list and keeps the error', () => {
      const bearer = findBearer(parseWwwAuthenticate('Bearer realm="r",scope="repository:a:pull repository:b:push",error="insufficient_scope"'));
      expect(bearer).toEqual({ realm: 'r', scopes: ['repository:a:pull', 'repository:b:push'], error: 'insufficient_scope' });
    });

    it('ignores a Bearer challenge without realm', () => {
      expect(findBearer(parseWwwAuthenticate('Bearer service="x"'))).toBeUndefined();
      expect(findBearer(parseWwwAuthenticate(undefined))).toBeUndefined();
    });
  });

  describe('mergeScopes', () => {
    it('merges actions per resource, sorted, and lets * win', () => {
      expect(mergeScopes(['repository:a:push', 'repository:a:pull', 'repository:b:pull', 'repository:a:pull'])).toEqual([
        'repository:a:pull,push',
        'repository:b:pull',
      ]);
      expect(mergeScopes(['repository:a:pull', 'repository:a:*'])).toEqual(['repository:a:*']);
      expect(mergeScopes(['registry:catalog:*', 'aws', ''])).toEqual(['aws', 'registry:catalog:*']);
    });

    it('keeps a host:port inside the resource name', () => {
      expect(mergeScopes(['repository:localhost:5000/a:pull', 'repository:localhost:5000/a:push'])).toEqual(['repository:localhost:5000/a:pull,push']);
    });

    it('builds repository scopes', () => {
      expect(repositoryScope('p/spectro-packs/archive/x', ['pull', 'push'])).toBe('repository:p/spectro-packs/archive/x:pull,push');
    });
  });
});

describe('token', () => {
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
});

describe('session', () => {
  const USER = 'alice';
  const PASSWORD = 'session-test-password';
  const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
  const creds = (c: Credential = { username: USER, password: PASSWORD, source: 'test' }) => staticProvider('test', c);

  function basicRegistry(req: HttpRequest): Answer {
    if (req.url.pathname.startsWith('/v2') && req.headers?.['authorization'] !== BASIC) {
      return { status: 401, headers: { 'www-authenticate': 'Basic realm="r"' }, body: '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}' };
    }
    return { status: 200 };
  }

  /** A token-auth registry whose realm is `realm`; tokens are "tok-N"; `valid` decides which tokens the registry accepts. */
  function bearerRegistry(realm: string, valid: (token: string) => boolean = () => true) {
    let issued = 0;
    const tokenRequests: Array<{ url: URL; authorization: string | undefined }> = [];
    const handler = (req: HttpRequest): Answer => {
      if (req.url.href.startsWith(realm)) {
        tokenRequests.push({ url: req.url, authorization: req.headers?.['authorization'] });
        return { status: 200, body: JSON.stringify({ token: `tok-${++issued}`, access_token: '', expires_in: 300 }) };
      }
      const auth = req.headers?.['authorization'];
      if (auth === undefined || !auth.startsWith('Bearer ') || !valid(auth.slice(7))) {
        return { status: 401, headers: { 'www-authenticate': `Bearer realm="${realm}",service="harbor-registry"` } };
      }
      return { status: 200 };
    };
    return { handler, tokenRequests };
  }

  const get = (url: string, scopes: string[] = []) => ({ method: 'GET' as const, url: new URL(url), scopes });

  describe('AuthSession with Basic', () => {
    it('answers the challenge once, then sends Basic up front', async () => {
      const { transport, sent } = scripted(basicRegistry);
      const session = new AuthSession({ host: 'registry.example.com', transport, credentials: creds() });
      expect((await session.send(get('https://registry.example.com/v2/'))).status).toBe(200);
      expect((await session.send(get('https://registry.example.com/v2/a/tags/list'))).status).toBe(200);
      expect(sent.map((s) => s.authorization)).toEqual([undefined, BASIC, BASIC]);
    });

    it('does not loop on a rejected password and says so', async () => {
      const { transport, sent } = scripted(basicRegistry);
      const session = new AuthSession({ host: 'registry.example.com', transport, credentials: creds({ username: USER, password: 'nope-nope', source: 'environment' }) });
      const res = await session.send(get('https://registry.example.com/v2/'));
      expect(res.status).toBe(401);
      expect(sent).toHaveLength(2);
      const err = errorFromResponse({ method: 'GET', url: res.url, status: res.status, host: 'registry.example.com', body: Buffer.alloc(0), auth: res.auth });
      expect(err.message).toBe('credentials rejected by registry.example.com');
      expect(err.hint).toContain('environment');
    });

    it('never sends Basic over plain HTTP to a non-loopback host unless plain HTTP was explicit', async () => {
      const implicit = scripted(basicRegistry, { scheme: 'http' });
      const s1 = new AuthSession({ host: 'registry.example.com', transport: implicit.transport, credentials: creds() });
      const res = await s1.send(get('http://registry.example.com/v2/'));
      expect(res.status).toBe(401);
      expect(res.auth.withheld).toBe('plain-http');
      expect(implicit.sent.every((s) => s.authorization === undefined)).toBe(true);
      const err = errorFromResponse({ method: 'GET', url: res.url, status: 401, host: 'registry.example.com', body: Buffer.alloc(0), auth: res.auth });
      expect(err.message).toBe('credentials were not sent to registry.example.com over plain HTTP');
      expect(err.hint).toContain('--plain-http');

      const explicit = scripted(basicRegistry, { scheme: 'http', plainHttpExplicit: true });
      const s2 = new AuthSession({ host: 'registry.example.com', transport: explicit.transport, credentials: creds() });
      expect((await s2.send(get('http://registry.example.com/v2/'))).status).toBe(200);

      const loopback = scripted(basicRegistry, { scheme: 'http' });
      const s3 = new AuthSession({ host: '127.0.0.1:5000', transport: loopback.transport, credentials: creds() });
      expect((await s3.send(get('http://127.0.0.1:5000/v2/'))).status).toBe(200);
    });

    it('says authentication is required when there are no credentials', async () => {
      const { transport } = scripted(basicRegistry);
      const session = new AuthSession({ host: 'registry.example.com', transport, credentials: staticProvider('none', undefined) });
      const res = await session.send(get('https://registry.example.com/v2/'));
      const err = errorFromResponse({ method: 'GET', url: res.url, status: 401, host: 'registry.example.com', body: Buffer.alloc(0), auth: res.auth, repository: 'a/b' });
      expect(err.message).toBe('authentication required by registry.example.com for a/b');
    });

    it('resolves credentials once per host, even for concurrent requests', async () => {
      let resolved = 0;
      const provider: CredentialProvider = {
        name: 'counting',
        resolve: async () => {
          resolved++;
          await new Promise((r) => setTimeout(r, 5));
          return { username: USER, password: PASSWORD };
        },
      };
      const { transport } = scripted(basicRegistry);
      const session = new AuthSession({ host: 'registry.example.com', transport, credentials: provider });
      await Promise.all([1, 2, 3, 4].map(() => session.send(get('https://registry.example.com/v2/'))));
      expect(resolved).toBe(1);
    });
  });

  describe('AuthSession with Bearer tokens', () => {
    it('fetches a token for the requested scopes with Basic credentials at a same-host realm, and reuses it', async () => {
      const reg = bearerRegistry('https://registry.example.com:8443/service/token');
      const { transport, sent } = scripted(reg.handler);
      const session = new AuthSession({ host: 'registry.example.com', transport, credentials: creds() });
      const scopes = ['repository:p/r:pull,push'];
      expect((await session.send(get('https://registry.example.com/v2/p/r/blobs/uploads/', scopes))).status).toBe(200);
      expect((await session.send(get('https://registry.example.com/v2/p/r/manifests/1', scopes))).status).toBe(200);
      // a pull on the same repository is served by the pull,push token
      expect((await session.send(get('https://registry.example.com/v2/p/r/manifests/2', ['repository:p/r:pull']))).status).toBe(200);
      expect(reg.tokenRequests).toHaveLength(1);
      expect(reg.tokenRequests[0]!.url.searchParams.getAll('scope')).toEqual(['repository:p/r:pull,push']);
      expect(reg.tokenRequests[0]!.url.searchParams.get('service')).toBe('harbor-registry');
      expect(reg.tokenRequests[0]!.authorization).toBe(BASIC);
      expect(sent.filter((s) => s.url.includes('/v2/')).map((s) => s.authorization)).toEqual([undefined, 'Bearer tok-1', 'Bearer tok-1', 'Bearer tok-1']);
    });

    it('sends no credentials to a realm on another host name unless allowed', async () => {
      const reg = bearerRegistry('https://auth.elsewhere.example/token');
      const { transport } = scripted(reg.handler);
      const session = new AuthSession({ host: 'registry.example.com', transport, credentials: creds() });
      const res = await session.send(get('https://registry.example.com/v2/', []));
      expect(res.status).toBe(200);
      expect(res.auth).toMatchObject({ scheme: 'bearer', credentialSent: false, withheld: 'cross-host', realmHost: 'auth.elsewhere.example' });
      expect(reg.tokenRequests[0]!.authorization).toBeUndefined();

      const reg2 = bearerRegistry('https://auth.elsewhere.example/token');
      const allowed = new AuthSession({ host: 'registry.example.com', transport: scripted(reg2.handler).transport, credentials: creds(), allowCrossHostAuth: true });
      await allowed.send(get('https://registry.example.com/v2/', []));
      expect(reg2.tokenRequests[0]!.authorization).toBe(BASIC);
    });

    it("sends credentials to a realm on a domain above the registry's name (GitLab's), not to a sibling or look-alike", async () => {
      const sentTo = async (registry: string, realm: string): Promise<string | undefined> => {
        const reg = bearerRegistry(realm);
        const session = new AuthSession({ host: registry, transport: scripted(reg.handler).transport, credentials: creds() });
        await session.send(get(`https://${registry}/v2/`, []));
        return reg.tokenRequests[0]!.authorization;
      };
      expect(await sentTo('registry.gitlab.com', 'https://gitlab.com/jwt/auth')).toBe(BASIC);
      expect(await sentTo('registry.gitlab.example.com:5050', 'https://gitlab.example.com/jwt/auth')).toBe(BASIC);
      expect(await sentTo('registry.example.com', 'https://gitlab.example.com/jwt/auth')).toBeUndefined();
      expect(await sentTo('registry.gitlab.com', 'https://gitlab.com.evil.example/jwt/auth')).toBeUndefined();
      expect(await sentTo('registry.evilgitlab.com', 'https://gitlab.com/jwt/auth')).toBeUndefined();
      expect(await sentTo('registry.example.com', 'https://com/token')).toBeUndefined();
    });

    it('a refused token just issued that is not valid yet by this clock (nbf ahead): the clocks are said to disagree', async () => {
      const jwt = (claims: object) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;
      const now = Date.UTC(2026, 11, 8);
      const token = jwt({ sub: USER, nbf: now / 1000 + 3600, exp: now / 1000 + 7200 });
      const handler = (req: HttpRequest): Answer =>
        req.url.pathname === '/token'
          ? { status: 200, body: JSON.stringify({ token }) }
          : { status: 401, headers: { 'www-authenticate': 'Bearer realm="https://registry.example.com/token",service="s",error="invalid_token"' } };
      const session = new AuthSession({ host: 'registry.example.com', transport: scripted(handler).transport, credentials: creds(), now: () => now });
      const res = await session.send(get('https://registry.example.com/v2/p/r/manifests/1', ['repository:p/r:pull']));
      expect(res.status).toBe(401);
      const err = errorFromResponse({ method: 'GET', url: res.url, status: 401, host: 'registry.example.com', body: Buffer.alloc(0), auth: res.auth, repository: 'p/r' });
      expect(err.message).toBe("registry.example.com refuses the token its token service registry.example.com just issued for p/r, which is valid only from 2026-12-08T01:00:00.000Z by this machine's clock (2026-12-08T00:00:00.000Z)");
      expect(err.hint).toContain('set them right (NTP)');
    });

    it('sends no credentials to a plain-HTTP realm on a non-loopback host', async () => {
      const reg = bearerRegistry('http://registry.example.com:8080/token');
      const { transport } = scripted(reg.handler);
      const session = new AuthSession({ host: 'registry.example.com', transport, credentials: creds() });
      const res = await session.send(get('https://registry.example.com/v2/', []));
      expect(res.auth.withheld).toBe('plain-http');
      expect(reg.tokenRequests[0]!.authorization).toBeUndefined();
    });

    it('on a 401 with a cached token, fetches a new token once and retries once', async () => {
      let accepted = new Set(['tok-1']);
      const reg = bearerRegistry('https://registry.example.com/token', (t) => accepted.has(t));
      const { transport, sent } = scripted(reg.handler);
      const session = new AuthSession({ host: 'registry.example.com', transport, credentials: creds() });
      const scopes = ['repository:a:pull'];
      await session.send(get('https://registry.example.com/v2/a/manifests/1', scopes));
      accepted = new Set(['tok-2']); // tok-1 expired at the registry
      sent.length = 0;
      const res = await session.send(get('https://registry.example.com/v2/a/manifests/1', scopes));
      expect(res.status).toBe(200);
      expect(sent.filter((s) => s.url.includes('/v2/')).map((s) => s.authorization)).toEqual(['Bearer tok-1', 'Bearer tok-2']);

      accepted = new Set(); // nothing works: one renewal, then the 401 is returned
      sent.length = 0;
      const denied = await session.send(get('https://registry.example.com/v2/a/manifests/1', scopes));
      expect(denied.status).toBe(401);
      expect(sent.filter((s) => s.url.includes('/v2/'))).toHaveLength(2);
      expect(reg.tokenRequests).toHaveLength(3);
    });

    it('renews the token when Harbor answers an expired Bearer with a Basic challenge', async () => {
      let phase = 0;
      const reg = bearerRegistry('https://registry.example.com/token');
      const { transport } = scripted((req) => {
        const auth = req.headers?.['authorization'];
        if (phase === 1 && auth === 'Bearer tok-1' && req.url.pathname.startsWith('/v2')) {
          return { status: 401, headers: { 'www-authenticate': 'Basic realm="harbor"' } };
        }
        return reg.handler(req);
      });
      const session = new AuthSession({ host: 'registry.example.com', transport, credentials: creds() });
      await session.send(get('https://registry.example.com/v2/x', ['repository:x:pull']));
      phase = 1;
      const res = await session.send(get('https://registry.example.com/v2/x', ['repository:x:pull']));
      expect(res.status).toBe(200);
      expect(res.auth.scheme).toBe('bearer');
      expect(reg.tokenRequests).toHaveLength(2);
    });

    it('uses a ready registry token as is, without a token request', async () => {
      const reg = bearerRegistry('https://registry.example.com/token', (t) => t === 'ready-made');
      const { transport } = scripted(reg.handler);
      const session = new AuthSession({ host: 'registry.example.com', transport, credentials: creds({ registryToken: 'ready-made' }) });
      expect((await session.send(get('https://registry.example.com/v2/', []))).status).toBe(200);
      expect(reg.tokenRequests).toHaveLength(0);
    });

    it('never writes a token or password into debug lines', async () => {
      const lines: string[] = [];
      const reg = bearerRegistry('https://registry.example.com/token');
      const session = new AuthSession({ host: 'registry.example.com', transport: scripted(reg.handler).transport, credentials: creds(), debug: (l) => lines.push(l) });
      await session.send(get('https://registry.example.com/v2/', ['repository:a:pull']));
      expect(lines.join('\n')).toContain('auth: token for [repository:a:pull]');
      expect(lines.join('\n')).not.toMatch(/tok-1|session-test-password/);
    });
  });

  describe('AuthSession with expiring credentials', () => {
    it('renews a credential that is about to expire before using it', async () => {
      let now = Date.parse('2024-01-01T00:00:00Z');
      let generation = 0;
      const provider: CredentialProvider = {
        name: 'ecr-like',
        resolve: async () => ({ username: 'AWS', password: `pw-${generation}`, expiresAt: new Date(now + 60 * 60_000) }),
        invalidate: () => {
          generation++;
        },
      };
      const { transport, sent } = scripted(() => ({ status: 200 }));
      const session = new AuthSession({ host: 'r.example', transport, credentials: provider, now: () => now });
      expect((await session.getCredential()).password).toBe('pw-0');
      now += 56 * 60_000; // within five minutes of expiry
      expect((await session.getCredential()).password).toBe('pw-1');
      expect(sent).toHaveLength(0);
    });
  });

  describe('AuthSession with a provider that cannot renew', () => {
    it('uses a nearly expired credential after one renewal attempt instead of looping', async () => {
      let invalidations = 0;
      const provider: CredentialProvider = {
        name: 'stale',
        resolve: async () => ({ username: 'AWS', password: 'same-old-token', expiresAt: new Date(Date.now() + 1000) }),
        invalidate: () => {
          invalidations++;
        },
      };
      const session = new AuthSession({ host: 'r.example', transport: scripted(() => ({ status: 200 })).transport, credentials: provider });
      expect((await session.getCredential()).password).toBe('same-old-token');
      expect(invalidations).toBe(1);
    });
  });

  describe('short-lived credentials', () => {
    it('renews a credential close to expiry once, not on every request', async () => {
      let resolved = 0;
      const now = Date.parse('2026-01-01T00:00:00Z');
      const provider: CredentialProvider = {
        name: 'short-lived',
        resolve: async () => {
          resolved++;
          return { username: 'AWS', password: `token-${resolved}`, expiresAt: new Date(now + 60_000) };
        },
        invalidate: () => undefined,
      };
      const transport = { request: async () => { throw new Error('not used'); }, close: async () => undefined } as unknown as HttpTransport;
      const session = new AuthSession({ host: 'registry.example.com', transport, credentials: provider, now: () => now });
      const seen = new Set<string>();
      for (let i = 0; i < 5; i++) seen.add((await session.getCredential()).password ?? '');
      expect(resolved).toBe(2);
      expect([...seen]).toEqual(['token-2']);
    });
  });
});
