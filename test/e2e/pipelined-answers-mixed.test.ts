import { writeFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256Digest } from '../../src/oci/digest.js';
import { runCli } from '../support/cli.js';
import { generatePacks, writePack } from '../support/packs.js';
import { settledPastRacyMargin } from '../support/push-setup.js';
import { sharedRegistry } from '../support/registry.js';
import { RegistryReader } from '../support/registry-reader.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';

/*
 * A re-run's look-ups (one manifest read per remembered pack) travel several at once on one connection (HTTP/1.1
 * pipelining, registry/http.ts), and HTTP/1.1 pipelining is where a faulty intermediary (a proxy, a load balancer)
 * hands a request another's answer. Here a proxy in front of the registry does just that to the look-up of one pack
 * whose version meanwhile holds other content: that look-up gets another pack's answer, and the other pack its.
 * Taken as they came, the pack would be "unchanged" (the other pack's answer said its manifest was still there)
 * and the other pack a conflict. Each answer is believed only when it is the manifest the cache remembers for that
 * tag; any other is read again on a connection of its own: the changed pack is a conflict (exit 1), every other
 * pack unchanged, and the registry still holds the other content.
 */

const PACKS = 12;
/**
 * The pack whose version holds other content when the re-run looks it up: one of the look-ups sent together once the
 * first (sent alone) is answered, so it shares a connection with others whatever the machine's load.
 */
const MOVED = 3;

interface MixingProxy {
  host: string;
  /** Times the moved pack's manifest read and another request on its connection got each other's answers. */
  swaps: () => number;
}

/**
 * A proxy on 127.0.0.1 for GET and HEAD requests without a body (a re-run that writes nothing sends no other),
 * reading each connection's requests as they come, pipelined or not, and answering them in order, except that a
 * read of `path`'s manifest and another request on its connection (the one before it, if still unanswered, else the
 * next, waited for up to 1 s) are answered with each other's answers. Any request with a body is answered 502.
 */
async function startMixingProxy(upstream: URL, moved: string): Promise<MixingProxy & { close: () => Promise<void> }> {
  let swaps = 0;
  const sockets = new Set<Socket>();
  const forward = (head: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const [requestLine = '', ...lines] = head.split('\r\n');
      const [method = 'GET', path = '/'] = requestLine.split(' ');
      const headers: IncomingHttpHeaders = {};
      for (const line of lines) {
        const at = line.indexOf(':');
        if (at > 0) headers[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
      }
      if (Number(headers['content-length'] ?? '0') > 0) {
        resolve('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n');
        return;
      }
      const req = httpRequest({ host: upstream.hostname, port: upstream.port, method, path, headers: { ...headers, host: upstream.host } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          let out = `HTTP/1.1 ${res.statusCode ?? 502} ${res.statusMessage ?? ''}\r\n`;
          for (let i = 0; i < res.rawHeaders.length; i += 2) {
            const name = (res.rawHeaders[i] ?? '').toLowerCase();
            if (name !== 'transfer-encoding' && name !== 'connection' && name !== 'content-length') out += `${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}\r\n`;
          }
          const length = method === 'HEAD' ? res.headers['content-length'] ?? '0' : String(body.length);
          resolve(`${out}content-length: ${length}\r\n\r\n${method === 'HEAD' ? '' : body.toString('latin1')}`);
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = '';
    // The connection's requests not yet answered, in order, each with its answer once the registry gave it; a pair
    // to be swapped holds `partner` on its first (written as one, the second's answer first).
    type Entry = { head: string; answer?: string; held?: NodeJS.Timeout; partner?: Entry; paired?: true };
    const pending: Entry[] = [];
    const flush = () => {
      for (let first = pending[0]; first?.answer !== undefined; first = pending[0]) {
        if (first.held !== undefined) return; // the moved pack's read, waiting for a partner
        const partner = first.partner;
        if (partner !== undefined) {
          if (partner.answer === undefined) return;
          pending.splice(0, 2);
          swaps++;
          socket.write(partner.answer, 'latin1');
          socket.write(first.answer, 'latin1');
          continue;
        }
        pending.shift();
        socket.write(first.answer, 'latin1');
      }
    };
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      for (let end = buffered.indexOf('\r\n\r\n'); end !== -1; end = buffered.indexOf('\r\n\r\n')) {
        const entry: Entry = { head: buffered.slice(0, end) };
        buffered = buffered.slice(end + 4);
        const before = pending.at(-1);
        const waiting = pending.find((e) => e.held !== undefined);
        if (entry.head.startsWith(`GET ${moved} `) && before !== undefined && before.partner === undefined && before.paired === undefined) {
          // The request before it is still unanswered: the two swap answers.
          before.partner = entry;
          entry.paired = true;
        } else if (entry.head.startsWith(`GET ${moved} `)) {
          // Answered as it is when no other request comes behind it on this connection (a read on its own).
          entry.held = setTimeout(() => {
            entry.held = undefined;
            flush();
          }, 1_000);
        } else if (waiting !== undefined && waiting === before) {
          clearTimeout(waiting.held);
          waiting.held = undefined;
          waiting.partner = entry;
          entry.paired = true;
        }
        pending.push(entry);
        forward(entry.head).then(
          (answer) => {
            entry.answer = answer;
            flush();
          },
          () => socket.destroy(),
        );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    swaps: () => swaps,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-pipelined-mixed-');
  const registry = await sharedRegistry();
  const packs = await generatePacks(join(root, 'packs'), PACKS, { prefix: 'mixed', payloadBytes: [100, 300] });
  await settledPastRacyMargin(join(root, 'packs'));
  const moved = packs[MOVED] as (typeof packs)[number];
  const repo = `${registry.base}/spectro-packs/archive/${moved.name}`;
  const proxy = await startMixingProxy(new URL(registry.url), `/v2/${repo}/manifests/${moved.version}`);
  stack.defer(() => proxy.close());
  return { root, registry, packs, moved, repo, proxy, reader: new RegistryReader(registry.url), env: { PACKPUB_CACHE_DIR: join(root, 'cache') } };
});

describe('a re-run whose pipelined look-ups get each other\'s answers on the way', () => {
  it('a pack whose version holds other content is a conflict, not "unchanged"; every other pack unchanged; nothing written', async () => {
    const { registry, packs, moved, proxy } = w;
    const direct = `${registry.host}/${registry.base}`;
    const first = await runCli(['push', ...packs.map((p) => p.dir), '--registry', direct], { env: w.env });
    expect(first.code, first.stdout + first.stderr).toBe(0);

    // Someone publishes other content under the moved pack's version.
    const other = await writePack(join(w.root, 'other'), { name: moved.name, version: moved.version });
    await writeFile(join(other, 'README.md'), 'other content\n');
    const replaced = await runCli(['push', other, '--registry', direct, '--no-cache', '--force']);
    expect(replaced.code, replaced.stderr).toBe(0);
    const held = await w.reader.manifest(w.repo, moved.version);
    expect(held).toBeDefined();

    const run = await runCli(['push', ...packs.map((p) => p.dir), '--registry', `${proxy.host}/${registry.base}`, '--json'], { env: w.env });
    expect(proxy.swaps()).toBeGreaterThan(0);
    const report = JSON.parse(run.stdout) as { results: Array<{ name: string; status: string }> };
    const statuses = new Map(report.results.map((r) => [r.name, r.status]));
    expect(statuses.get(moved.name)).toBe('conflict');
    expect(packs.filter((p) => p !== moved).map((p) => statuses.get(p.name))).toEqual(packs.filter((p) => p !== moved).map(() => 'unchanged'));
    expect(run.code).toBe(1);
    expect(stackLines(run.stderr)).toEqual([]);
    const now = await w.reader.manifest(w.repo, moved.version);
    expect(now === undefined ? undefined : sha256Digest(now)).toBe(sha256Digest(held as Buffer));
  });
});
