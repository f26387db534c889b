import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticProvider } from '../../src/credentials/chain.js';
import type { Digest } from '../../src/oci/digest.js';
import { openGenericRegistryStore } from '../../src/targets/registry-store.js';
import { freePort } from '../support/registry.js';
import { failure } from '../support/errors.js';
import { readAll } from '../support/artifacts.js';
import { hurryRetries } from '../support/clock.js';

const USER = 'ci-bot';
const PASSWORD = 'redirect-test-Pa55word';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
const SIGNATURE = 'e3b0c44298fc1c149afbf4c8996fb924SIGNED';
const BLOB = Buffer.from('blob bytes served from the storage host');
const DIGEST = `sha256:${createHash('sha256').update(BLOB).digest('hex')}` as Digest;

interface Seen {
  path: string;
  headers: IncomingHttpHeaders;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return (server.address() as AddressInfo).port;
}

async function close(server: Server | undefined): Promise<void> {
  if (server === undefined) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}



hurryRetries();

describe('blob redirects (ECR -> S3 style)', () => {
  let registry: Server;
  let storage: Server;
  let registryPort = 0;
  let storagePort = 0;
  const registrySeen: Seen[] = [];
  const storageSeen: Seen[] = [];

  beforeAll(async () => {
    // The "storage" host: anything it receives is recorded.
    storage = createServer((req, res) => {
      storageSeen.push({ path: req.url ?? '', headers: req.headers });
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(BLOB.length) }).end(BLOB);
    });
    storagePort = await listen(storage);
    // The "registry": Basic auth, blob GETs redirect to localhost (another host name and port).
    registry = createServer((req, res) => {
      registrySeen.push({ path: req.url ?? '', headers: req.headers });
      if (req.headers.authorization !== BASIC) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="test"', 'content-type': 'application/json' });
        res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
        return;
      }
      if (req.url === `/v2/r/blobs/${DIGEST}`) {
        const target = `http://localhost:${storagePort}/bucket/blob?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE&X-Amz-Signature=${SIGNATURE}`;
        res.writeHead(307, { location: target }).end();
        return;
      }
      if (req.url === `/v2/same/blobs/${DIGEST}`) {
        res.writeHead(307, { location: '/internal/blob-store' }).end();
        return;
      }
      if (req.url === '/internal/blob-store') {
        res.writeHead(200, { 'content-length': String(BLOB.length) }).end(BLOB);
        return;
      }
      res.writeHead(404).end();
    });
    registryPort = await listen(registry);
  });

  afterAll(async () => {
    await close(registry);
    await close(storage);
  });

  it('follows a redirect to another host without sending credentials there, and never prints the signed URL', async () => {
    const debug: string[] = [];
    const store = await openGenericRegistryStore({
      host: `127.0.0.1:${registryPort}`,
      credentials: staticProvider('test', { username: USER, password: PASSWORD }),
      debug: (line) => debug.push(line),
    });
    try {
      const body = await readAll(await store.client.fetchBlob('r', { digest: DIGEST, size: BLOB.length }));
      expect(body.equals(BLOB)).toBe(true);
    } finally {
      await store.close();
    }
    expect(registrySeen.some((r) => r.headers.authorization === BASIC)).toBe(true);
    expect(storageSeen).toHaveLength(1);
    expect(storageSeen[0]?.path).toContain(SIGNATURE); // the redirect was followed as given
    expect(storageSeen[0]?.headers.authorization).toBeUndefined();
    expect(storageSeen[0]?.headers.cookie).toBeUndefined();
    const trace = debug.join('\n');
    expect(trace).toContain(`localhost:${storagePort}/bucket/blob`);
    expect(trace).toContain('X-Amz-Signature=***');
    expect(trace).not.toContain(SIGNATURE);
    expect(trace).not.toContain('AKIAEXAMPLE');
    expect(trace).not.toContain(PASSWORD);
    expect(trace).not.toContain(BASIC.slice(6));
  });

  it('keeps credentials on a redirect within the same origin', async () => {
    registrySeen.length = 0;
    const store = await openGenericRegistryStore({
      host: `127.0.0.1:${registryPort}`,
      credentials: staticProvider('test', { username: USER, password: PASSWORD }),
    });
    try {
      const body = await readAll(await store.client.fetchBlob('same', { digest: DIGEST, size: BLOB.length }));
      expect(body.equals(BLOB)).toBe(true);
    } finally {
      await store.close();
    }
    const internal = registrySeen.find((r) => r.path === '/internal/blob-store');
    expect(internal?.headers.authorization).toBe(BASIC);
  });
});

describe('network failures', () => {
  it('reports a refused connection as NETWORK in one line', async () => {
    const port = await freePort();
    const store = await openGenericRegistryStore({ host: `127.0.0.1:${port}`, credentials: staticProvider('none', undefined) });
    try {
      const err = await failure(store.hasBlob('a/b', DIGEST));
      expect(err.code).toBe('NETWORK');
      expect(err.message).toBe(`connection refused by 127.0.0.1:${port}`);
      expect(err.hint).toMatch(/host and port/);
    } finally {
      await store.close();
    }
  });

  it('reports an unknown host as NETWORK naming the host', async () => {
    const store = await openGenericRegistryStore({
      host: 'registry.packpub-test.invalid',
      credentials: staticProvider('none', undefined),
      retry: { attempts: 1 },
    });
    try {
      const err = await failure(store.client.ping());
      expect(err.code).toBe('NETWORK');
      expect(err.message).toMatch(/registry\.packpub-test\.invalid/);
      expect(err.message).not.toContain('\n');
    } finally {
      await store.close();
    }
  });

  it('gives up on a registry that never answers with a NETWORK timeout', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer(() => {
      // accept and never answer
    });
    silent.on('connection', (s) => sockets.add(s));
    const port = await listen(silent);
    const store = await openGenericRegistryStore({
      host: `127.0.0.1:${port}`,
      credentials: staticProvider('none', undefined),
      retry: { attempts: 2, requestTimeoutMs: 300 },
    });
    try {
      const err = await failure(store.client.ping());
      expect(err.code).toBe('NETWORK');
      expect(err.message).toBe(`timed out waiting for 127.0.0.1:${port}`);
      expect(err.hint).toContain('--request-timeout');
    } finally {
      await store.close();
      for (const s of sockets) s.destroy();
      await close(silent);
    }
  });
});
