import { createHash, createPrivateKey, createPublicKey, generateKeyPair, randomUUID, sign, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runChild } from './spawner.js';
import { madeForRun } from './tls.js';

/*
 * A Harbor-like token service for distribution's token auth (registries.md, "Harbor" and "A real registry"):
 * GET only (POST -> 405), Basic credentials checked against a users map, answer
 * {"token": jwt, "access_token": "", "expires_in": N, "issued_at": ...}; wrong or missing credentials get a
 * 200 with an empty-permission token, as Harbor does. JWTs are RS256 with header `kid` = the libtrust
 * fingerprint of the signing key; `aud` is a single string (distribution rejects an array).
 */

export interface TokenUser {
  password: string;
  /** Repository actions this user may get (default pull, push, delete). */
  actions?: string[];
  /** May list `/v2/_catalog` (default true). */
  catalog?: boolean;
}

export interface TokenServerOptions {
  /** user -> password (all actions) or a TokenUser. */
  users?: Record<string, string | TokenUser>;
  /** Seconds the registry accepts a token (default 300). */
  expiresIn?: number;
  /** `expires_in` written in the answer (default: expiresIn). Larger than expiresIn makes a client trust a dead token. */
  advertisedExpiresIn?: number;
  /** Repository actions for anonymous requests (default none). */
  anonymousActions?: string[];
  /** Host name put in the realm URL (default 127.0.0.1); use `localhost` to put the realm on "another host". */
  realmHost?: string;
  service?: string;
  issuer?: string;
  /**
   * Identity (OAuth2 refresh) tokens -> user. With it, POST <realm> with grant_type=refresh_token is
   * answered as the distribution token spec's OAuth2 flow (docs: "OAuth2 Token Authentication").
   */
  identityTokens?: Record<string, string>;
  /**
   * Serve HTTPS with this certificate, asking every client for a certificate without requiring one
   * (requestCert, rejectUnauthorized off), so each record says whether one was presented.
   */
  tls?: { certFile: string; keyFile: string };
  /**
   * Answer on the worker's shared realm (plain HTTP, 127.0.0.1) instead of a port of its own, for a registry
   * shared by the worker's test files (support/registry.ts sharedRegistry with auth 'token'): that realm
   * hands every request to the server that asked for it last and is not closed yet (files of a worker run
   * one after another). Not with `tls` or `realmHost`, nor with another service or issuer.
   */
  sharedRealm?: boolean;
}

/** One token request as seen by the server (never the password). */
export interface TokenRequestRecord {
  method: string;
  path: string;
  service: string | undefined;
  scopes: string[];
  /** User name from the Basic header, if any was sent. */
  user: string | undefined;
  /** The credentials matched a user. */
  authenticated: boolean;
  /** Access granted, as `repository:name:actions` strings. */
  granted: string[];
  /** Lowercase names of the request headers (never their values). */
  headerNames: string[];
  /** With `tls`: the client presented a certificate on this connection. */
  clientCertificate: boolean;
}

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  /** PEM certificate of the signing key: distribution's `auth.token.rootcertbundle`. */
  certFile: string;
  requests: TokenRequestRecord[];
  /** Tokens handed out (to check that none appears in output). */
  issuedTokens: string[];
  /** Seconds the registry accepts tokens issued from now on (change it between steps of a test). */
  expiresIn: number;
  /** `expires_in` written in answers from now on; undefined = expiresIn. */
  advertisedExpiresIn: number | undefined;
  /** The answer to an identity (refresh) token it does not know; default 401 `{"error": "invalid_grant"}` (RFC 6749 5.2 says 400). */
  identityRefusal: { status: number; body: unknown } | undefined;
  /** A token with every action on `repository`, for a stand-in's own calls to the registry behind it. */
  adminToken(repository: string): string;
  /** A token with exactly this access (e.g. `{ type: 'registry', name: 'catalog', actions: ['*'] }`), for a test's own reads. */
  tokenFor(access: Array<{ type: string; name: string; actions: string[] }>): string;
  close(): Promise<void>;
}

/** distribution's token verification allows 60 s of clock skew on `exp` (registry/auth/token Leeway). */
const REGISTRY_LEEWAY_S = 60;

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/** libtrust key id: base32(sha256(DER SubjectPublicKeyInfo)[:30]) without padding, 12 groups of 4 joined by ':'. */
export function libtrustKeyId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const sum = createHash('sha256').update(der).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of sum) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return (out.match(/.{1,4}/g) ?? []).join(':');
}

function parseScope(scope: string): { type: string; name: string; actions: string[] } | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first === -1 || last === first) return undefined;
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(',').filter((a) => a !== '') };
}

let signer: Promise<{ privateKey: KeyObject; publicKey: KeyObject; cert: string }> | undefined;

/**
 * The RS256 signing key (Harbor signs with RSA) and its certificate (PEM): made once per test run and
 * shared by every token server of its workers (support/tls.ts madeForRun; issue 11). An RSA key costs a
 * tenth of a CPU-second or more to make, the certificate an openssl run (~0.03 CPU-s); no test needs two
 * servers with different keys, and distribution takes only the public key from the certificate. Each server
 * writes them to a folder of its own.
 */
function signingKeyAndCertificate(): Promise<{ privateKey: KeyObject; publicKey: KeyObject; cert: string }> {
  signer ??= (async () => {
    try {
      const dir = await madeForRun('token-signer', async (made) => {
        const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
        await writeFile(join(made, 'signing.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
        await runChild('openssl', ['req', '-new', '-x509', '-key', 'signing.key', '-out', 'signing.pem', '-days', '2', '-subj', '/CN=packpub test token signer'], { cwd: made });
      });
      const privateKey = createPrivateKey(await readFile(join(dir, 'signing.key'), 'utf8'));
      return { privateKey, publicKey: createPublicKey(privateKey), cert: await readFile(join(dir, 'signing.pem'), 'utf8') };
    } catch (err) {
      signer = undefined;
      throw new Error(`openssl could not make the token signing certificate: ${(err as { stderr?: string }).stderr ?? String(err)}`);
    }
  })();
  return signer;
}

/** The worker's shared realm: its URL and the handlers of the token servers on it, the last one answering. */
let shared: Promise<{ url: string; handlers: RequestListener[] }> | undefined;

function sharedRealm(): Promise<{ url: string; handlers: RequestListener[] }> {
  shared ??= (async () => {
    const handlers: RequestListener[] = [];
    const server = createServer((req, res) => {
      const current = handlers.at(-1);
      if (current === undefined) res.writeHead(503, { 'content-type': 'text/plain' }).end('no token server on the shared realm');
      else void current(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    // It lives as long as the worker and keeps no event loop alive.
    server.unref();
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/service/token`, handlers };
  })();
  return shared;
}

export async function startTokenServer(options: TokenServerOptions = {}): Promise<TokenServer> {
  const service = options.service ?? 'harbor-registry';
  const issuer = options.issuer ?? 'packpub-test-token-issuer';
  const users = new Map<string, TokenUser>(
    Object.entries(options.users ?? {}).map(([u, v]) => [u, typeof v === 'string' ? { password: v } : v]),
  );

  const { privateKey, publicKey, cert } = await signingKeyAndCertificate();
  const kid = libtrustKeyId(publicKey);
  const dir = await mkdtemp(join(tmpdir(), 'packpub-token-'));
  const keyFile = join(dir, 'signing.key');
  const certFile = join(dir, 'signing.pem');
  await writeFile(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  await writeFile(certFile, cert);
  // The cert's key must be the one we sign with; re-read to be sure the PEM round-trips.
  const signingKey = createPrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' }));
  if (libtrustKeyId(createPublicKey(signingKey)) !== kid) throw new Error('token server: key id mismatch');

  const requests: TokenRequestRecord[] = [];
  const issuedTokens: string[] = [];
  const tokenServer: TokenServer = {
    realm: '',
    service,
    issuer,
    certFile,
    requests,
    issuedTokens,
    expiresIn: options.expiresIn ?? 300,
    advertisedExpiresIn: options.advertisedExpiresIn,
    identityRefusal: undefined,
    adminToken: (repository) => makeToken('stand-in', [{ type: 'repository', name: repository, actions: ['*'] }]),
    tokenFor: (access) => makeToken('stand-in', access),
    close: async () => undefined,
  };

  const makeToken = (subject: string, access: Array<{ type: string; name: string; actions: string[] }>): string => {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', kid };
    const claims = {
      iss: issuer,
      sub: subject,
      aud: service,
      // exp in the past by the registry's leeway, so the registry really stops accepting it after expiresIn.
      exp: now + tokenServer.expiresIn - REGISTRY_LEEWAY_S,
      nbf: now - 1,
      iat: now,
      jti: randomUUID(),
      access,
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = sign('RSA-SHA256', Buffer.from(input), signingKey);
    return `${input}.${b64url(signature)}`;
  };

  /** What every record says about the request itself, besides the token logic. */
  const seen = (req: IncomingMessage) => ({
    headerNames: Object.keys(req.headers),
    clientCertificate: options.tls !== undefined && Object.keys((req.socket as TLSSocket).getPeerCertificate?.() ?? {}).length > 0,
  });
  const handler: RequestListener = (req, res) => {
    const url = new URL(req.url ?? '/', 'http://token.invalid');
    if (req.method === 'POST' && options.identityTokens !== undefined) {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        const refresh = form.get('grant_type') === 'refresh_token' ? form.get('refresh_token') : null;
        const user = refresh === null ? undefined : options.identityTokens?.[refresh];
        answer(req.method ?? 'POST', url.pathname, form, user, user !== undefined, res, true);
      });
      return;
    }
    if (req.method !== 'GET') {
      // Harbor's token service only answers GET.
      res.writeHead(405, { 'content-type': 'text/plain' }).end('method not allowed');
      requests.push({ method: req.method ?? '', path: url.pathname, service: undefined, scopes: [], user: undefined, authenticated: false, granted: [], ...seen(req) });
      return;
    }
    let user: string | undefined;
    let authenticated = false;
    const auth = req.headers.authorization;
    if (auth !== undefined && /^basic /i.test(auth)) {
      const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      user = colon === -1 ? decoded : decoded.slice(0, colon);
      const password = colon === -1 ? '' : decoded.slice(colon + 1);
      authenticated = users.get(user)?.password === password;
    }
    answer('GET', url.pathname, url.searchParams, user, authenticated, res, false);
  };
  if (options.sharedRealm === true) {
    if (options.tls !== undefined || options.realmHost !== undefined || options.service !== undefined || options.issuer !== undefined) {
      throw new Error('startTokenServer: sharedRealm takes none of tls, realmHost, service, issuer');
    }
    const realm = await sharedRealm();
    realm.handlers.push(handler);
    Object.assign(tokenServer, {
      realm: realm.url,
      close: async () => {
        const at = realm.handlers.indexOf(handler);
        if (at !== -1) realm.handlers.splice(at, 1);
        await rm(dir, { recursive: true, force: true });
      },
    });
    return tokenServer;
  }
  const server: Server =
    options.tls === undefined
      ? createServer(handler)
      : createHttpsServer({ cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile), requestCert: true, rejectUnauthorized: false }, handler);

  function answer(
    method: string,
    path: string,
    params: URLSearchParams,
    user: string | undefined,
    authenticated: boolean,
    res: import('node:http').ServerResponse,
    oauth: boolean,
  ): void {
    const spec = authenticated && user !== undefined ? (users.get(user) ?? { password: '' }) : undefined;
    if (oauth && !authenticated) {
      requests.push({ method, path, service: params.get('service') ?? undefined, scopes: [], user, authenticated, granted: [], ...seen(res.req) });
      const refusal = tokenServer.identityRefusal ?? { status: 401, body: { error: 'invalid_grant' } };
      res.writeHead(refusal.status, { 'content-type': 'application/json' }).end(JSON.stringify(refusal.body));
      return;
    }
    const scopes = params.getAll('scope').flatMap((s) => s.split(' ')).filter((s) => s !== '');
    const access: Array<{ type: string; name: string; actions: string[] }> = [];
    for (const scope of scopes) {
      const parsed = parseScope(scope);
      if (parsed === undefined) continue;
      let allowed: string[];
      if (parsed.type === 'registry' && parsed.name === 'catalog') allowed = spec !== undefined && spec.catalog !== false ? ['*'] : [];
      else if (parsed.type === 'repository') allowed = spec !== undefined ? (spec.actions ?? ['pull', 'push', 'delete']) : (options.anonymousActions ?? []);
      else allowed = [];
      const granted = parsed.actions.filter((a) => allowed.includes(a) || allowed.includes('*'));
      if (granted.length > 0) access.push({ type: parsed.type, name: parsed.name, actions: granted });
    }
    requests.push({
      method,
      path,
      service: params.get('service') ?? undefined,
      scopes,
      user,
      authenticated,
      granted: access.map((a) => `${a.type}:${a.name}:${a.actions.join(',')}`),
      ...seen(res.req),
    });
    const token = makeToken(authenticated && user !== undefined ? user : '', access);
    issuedTokens.push(token);
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(
        JSON.stringify({
          ...(oauth ? { access_token: token } : { token, access_token: '' }),
          expires_in: tokenServer.advertisedExpiresIn ?? tokenServer.expiresIn,
          issued_at: new Date().toISOString(),
        }),
      );
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  Object.assign(tokenServer, {
    realm: `${options.tls === undefined ? 'http' : 'https'}://${options.realmHost ?? '127.0.0.1'}:${port}/service/token`,
    service,
    issuer,
    certFile,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  });
  return tokenServer;
}
