import { createHash } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { staticProvider } from '../../../src/credentials/chain.js';
import { sha256Digest } from '../../../src/oci/digest.js';
import type { FetchedManifest } from '../../../src/oci/manifest.js';
import { RegistryClient } from '../../../src/registry/client.js';
import { hurryRetries } from '../../support/clock.js';
import { stage } from '../../support/stage.js';

/*
 * A push's look-ups (one manifest read per pack) share two connections, several reads in flight on each (HTTP/1.1
 * pipelining), while the registry answers at once (registry/http.ts PIPELINED_CONNECTIONS, issue 16); each read
 * must still get its own answer. A registry that ends its connections, or answers slowly, gets each later read on a
 * connection of its own again, every read answered. The registry here is a small HTTP/1.1 server in this process
 * that answers each connection's requests in order, as distribution's Go server does, and counts per connection
 * the requests it had read before it answered the first.
 */

const env = stage();
hurryRetries();
const READS = 16;

/** A manifest of its own per repository, as a registry holds it. */
function manifestOf(repo: string): Buffer {
  return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: `sha256:${'4'.repeat(64)}`, size: 2 }, layers: [], annotations: { repo } }));
}

interface Behaviour {
  /** Answer with `Connection: close` and end the connection after its first answer. */
  closeAfterFirst?: boolean;
  /** Hold every answer this long (a registry far away). */
  delayMs?: number;
  /** Two requests waiting on one connection get each other's answers (an intermediary mixing pipelined answers up). */
  swapPairs?: boolean;
}

interface PipelineRegistry {
  host: string;
  /** Per connection, in the order they opened: requests read before the first answer was written, and in all. */
  connections: Array<{ beforeFirstAnswer: number; requests: number }>;
}

/** The registry: GET /v2/<repo>/manifests/<tag>, each connection's requests answered in order on a later turn of the event loop. */
async function startPipelineRegistry(behaviour: Behaviour): Promise<PipelineRegistry> {
  const connections: PipelineRegistry['connections'] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const seen = { beforeFirstAnswer: 0, requests: 0 };
    connections.push(seen);
    let answered = 0;
    let buffered = '';
    let ended = false;
    const queue: string[] = [];
    let busy = false;
    const answer = (path: string): string => {
      const match = /^\/v2\/(.+)\/manifests\/[^/]+$/.exec(path);
      const close = behaviour.closeAfterFirst === true ? 'connection: close\r\n' : '';
      if (match === null) return `HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n${close}\r\n`;
      const bytes = manifestOf(match[1] as string);
      const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
      return `HTTP/1.1 200 OK\r\ncontent-type: application/vnd.oci.image.manifest.v1+json\r\ncontent-length: ${bytes.length}\r\ndocker-content-digest: ${digest}\r\n${close}\r\n${bytes.toString()}`;
    };
    const next = () => {
      if (busy || ended || queue.length === 0) return;
      busy = true;
      const write = () => {
        busy = false;
        if (ended || socket.destroyed) return;
        const paths = queue.splice(0, behaviour.swapPairs === true && queue.length >= 2 ? 2 : 1);
        for (const path of paths.reverse()) socket.write(answer(path));
        answered += paths.length;
        if (behaviour.closeAfterFirst === true) {
          ended = true;
          socket.end();
          return;
        }
        next();
      };
      if (behaviour.delayMs === undefined) setImmediate(write);
      else setTimeout(write, behaviour.delayMs);
    };
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      for (let end = buffered.indexOf('\r\n\r\n'); end !== -1; end = buffered.indexOf('\r\n\r\n')) {
        const line = buffered.slice(0, buffered.indexOf('\r\n'));
        buffered = buffered.slice(end + 4);
        seen.requests++;
        if (answered === 0) seen.beforeFirstAnswer++;
        queue.push(line.split(' ')[1] ?? '');
      }
      next();
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  env.defer(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, connections };
}

/** A client of `registry` as push opens one (plain HTTP on loopback, no credentials), closed with the test. */
function clientOf(registry: PipelineRegistry): RegistryClient {
  const client = RegistryClient.create({ host: registry.host, credentials: staticProvider('none', undefined) });
  env.defer(() => client.close());
  return client;
}

/** What a push's cache remembers under a repository's tag: its manifest, offered to the read (getManifest `known`). */
function remembered(repo: string): FetchedManifest {
  const bytes = manifestOf(repo);
  return { descriptor: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256Digest(bytes), size: bytes.length }, bytes };
}

/** Look `repos`' manifests up at once, as push does (each offered what the cache remembers); each must be its own repository's. */
async function readAll(client: RegistryClient, repos: string[]): Promise<void> {
  const read = await Promise.all(repos.map((repo) => client.getManifest(repo, '1.0.0', undefined, remembered(repo))));
  expect(read.map((m) => m.bytes.toString())).toEqual(repos.map((repo) => manifestOf(repo).toString()));
}

const reposNamed = (prefix: string) => Array.from({ length: READS }, (_, i) => `packs/${prefix}-${i}`);

describe('a run reading many manifests at once (a push looking its packs up)', () => {
  it('sends them on two connections, several in flight on each, every read answered with its own manifest', async () => {
    const registry = await startPipelineRegistry({});
    const client = clientOf(registry);
    await readAll(client, reposNamed('near'));
    await readAll(client, reposNamed('again'));
    expect(registry.connections.length).toBeLessThanOrEqual(2);
    expect(Math.max(...registry.connections.map((c) => c.beforeFirstAnswer))).toBeGreaterThan(1);
    expect(registry.connections.reduce((n, c) => n + c.requests, 0)).toBe(2 * READS);
  });

  it('a registry that ends each connection after an answer: every read still answered, later reads one per connection', async () => {
    const registry = await startPipelineRegistry({ closeAfterFirst: true });
    const client = clientOf(registry);
    await readAll(client, reposNamed('closing'));
    const before = registry.connections.length;
    await readAll(client, reposNamed('closing-again'));
    const later = registry.connections.slice(before);
    expect(later).toHaveLength(READS);
    expect(later.every((c) => c.requests === 1)).toBe(true);
  });

  it('answers mixed up on the way (two pipelined reads given each other\'s): each look-up still ends with its own manifest, later ones one per connection', async () => {
    const registry = await startPipelineRegistry({ swapPairs: true });
    const client = clientOf(registry);
    await readAll(client, reposNamed('swapped'));
    expect(Math.max(...registry.connections.map((c) => c.beforeFirstAnswer))).toBeGreaterThan(1);
    const before = registry.connections.length;
    await readAll(client, reposNamed('swapped-again'));
    expect(registry.connections.slice(before).every((c) => c.beforeFirstAnswer === 1)).toBe(true);
  });

  it('a registry that answers slowly (far away): every read answered, later reads one per connection', async () => {
    const registry = await startPipelineRegistry({ delayMs: 150 });
    const client = clientOf(registry);
    await readAll(client, reposNamed('far'));
    const before = registry.connections.length;
    await readAll(client, reposNamed('far-again'));
    const later = registry.connections.slice(before);
    expect(later.every((c) => c.requests === 1)).toBe(true);
    // Each later read on a connection of its own, new ones opened as needed (the earlier ones kept alive are reused).
    expect(registry.connections.filter((c) => c.requests > 0).length).toBeGreaterThanOrEqual(READS);
  });
});
