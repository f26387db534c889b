import { createServer, type Socket } from 'node:net';
import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { openTunnel } from '../../../src/net/proxy-tunnel.js';
import { proxySettings } from '../../../src/net/proxy.js';
import { listenOnLoopback, type ListeningServer } from '../../support/loopback.js';

/*
 * The CONNECT answer as Go's transport reads it (http.ReadResponse: a line ends at LF, its CR optional), so a proxy
 * that ends its lines with a bare LF opens a tunnel as it does for ORAS and curl. Before, packpub looked for CR LF CR LF
 * only and waited for the proxy until its timeout, then failed "did not answer CONNECT".
 */

let proxy: ListeningServer | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

/** A proxy that answers CONNECT with `answer`, then echoes what comes through the tunnel. */
async function proxyAnswering(answer: string): Promise<ListeningServer> {
  const server = createServer((socket: Socket) => {
    socket.once('data', () => {
      socket.write(answer);
      socket.pipe(socket);
    });
  });
  return await listenOnLoopback(server as unknown as Server);
}

async function tunnelThrough(answer: string): Promise<string> {
  proxy = await proxyAnswering(answer);
  // A route to the loopback proxy for a non-loopback target (routeFor leaves loopback targets direct).
  const route = proxySettings({ HTTPS_PROXY: proxy.url }).routeFor('https:', 'registry.corp', 443);
  if (route === undefined) throw new Error('no route');
  const socket = await openTunnel(route, 'registry.corp', 443, { timeoutMs: 5_000 });
  const seen: Buffer[] = [];
  socket.on('data', (c: Buffer) => seen.push(c));
  socket.write('world');
  await expect.poll(() => Buffer.concat(seen).toString()).toBe('world');
  socket.destroy();
  return Buffer.concat(seen).toString();
}

/**
 * openTunnel (timeout 0.5 s) through a proxy that answers CONNECT by writing `piece` every 50 ms, never a whole answer:
 * its error, or a failure naming the hang once 20 s have passed.
 */
async function tunnelRefusedWhileSending(piece: string): Promise<Error & { retryable?: boolean }> {
  const server = createServer((socket: Socket) => {
    socket.on('error', () => undefined);
    socket.once('data', () => {
      const timer = setInterval(() => socket.write(piece), 50);
      socket.once('close', () => clearInterval(timer));
    });
  });
  proxy = await listenOnLoopback(server as unknown as Server);
  const route = proxySettings({ HTTPS_PROXY: proxy.url }).routeFor('https:', 'registry.corp', 443)!;
  let guard: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    guard = setTimeout(() => reject(new Error('still waiting for the tunnel after 20 s')), 20_000);
  });
  try {
    await Promise.race([openTunnel(route, 'registry.corp', 443, { timeoutMs: 500 }), hung]);
  } catch (err) {
    return err as Error & { retryable?: boolean };
  } finally {
    clearTimeout(guard);
  }
  throw new Error('the tunnel opened');
}

describe('openTunnel reads the proxy answer to CONNECT', () => {
  it('CR LF line ends: the tunnel opens', async () => {
    expect(await tunnelThrough('HTTP/1.1 200 Connection established\r\nVia: test\r\n\r\n')).toBe('world');
  });

  it('bare LF line ends (HTTP/1.0 200, a header, LF LF): the tunnel opens', async () => {
    expect(await tunnelThrough('HTTP/1.0 200 Connection established\nProxy-Agent: test\n\n')).toBe('world');
  });

  it('interim answers before the 200 (100 Continue, 103 with a header) are read past: the tunnel opens (was: "refused ... answered CONNECT 100 Continue")', async () => {
    expect(await tunnelThrough('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 200 Connection established\r\n\r\n')).toBe('world');
  });

  it('interim answers without end (a 100 Continue every 50 ms, never the 200): rejected once the timeout has passed, retryable (was: held for ever, the idle timeout put off by each)', async () => {
    const err = await tunnelRefusedWhileSending('HTTP/1.1 100 Continue\r\n\r\n');
    expect(err.message).toBe(`the proxy ${proxy!.host} (HTTPS_PROXY) sent only interim answers (HTTP 1xx) to CONNECT for 0.5 s, never its answer (on the way to registry.corp:443)`);
    expect(err).toMatchObject({ retryable: true });
  });

  it('an answer head sent a byte every 50 ms, never whole: rejected once the timeout has passed since CONNECT (was: held until 16 KiB had come, ~14 minutes, each byte putting off the idle timeout)', async () => {
    const err = await tunnelRefusedWhileSending('H');
    expect(err.message).toBe(`the proxy ${proxy!.host} (HTTPS_PROXY) did not answer CONNECT within 0.5 s (on the way to registry.corp:443)`);
  });

  it('a refusal with bare LF line ends is read as the refusal it is', async () => {
    proxy = await proxyAnswering('HTTP/1.0 403 Forbidden\n\n');
    const route = proxySettings({ HTTPS_PROXY: proxy.url }).routeFor('https:', 'registry.corp', 443)!;
    await expect(openTunnel(route, 'registry.corp', 443, { timeoutMs: 5_000 })).rejects.toThrow(
      `the proxy ${proxy.host} (HTTPS_PROXY) refused to open a tunnel (answered CONNECT 403 Forbidden) (on the way to registry.corp:443)`,
    );
  });
});
