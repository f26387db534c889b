import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createHttpTransport } from '../../../src/registry/http.js';
import { waitFor } from '../../support/cli.js';
import { stage } from '../../support/stage.js';

/*
 * A registry (or a proxy in front of it: nginx with keepalive off, an HTTP/1.0 proxy) that answers a blob with
 * `Connection: close`, sends the whole body and closes its side, while packpub has not read the body yet (pull and
 * inspect inflating and writing what came before): undici's parser was paused by the body's backpressure when the
 * connection's end came, and its end handler asserted it was not (undici 7, nodejs/undici#5360; fixed in undici 8,
 * which needs Node 22): an uncaught AssertionError, `packpub inspect` killed with Node's trace (2 runs in 10 against
 * the hostile stand-in answering so). Now the parser is resumed first, as undici 8 does, and the body arrives whole.
 * A raw server, so that the bytes and their order are exact: headers and the body's first 32 KiB; then, once the
 * client holds the answer, the last 40 KiB and the end, which cross the body's 64 KiB high-water mark in the read
 * the end follows.
 */

const env = stage();

interface Held {
  port: number;
  /** Sends the rest of the body and closes the server's side. */
  finish: () => void;
  /** The server's socket closed (the client closed its side too). */
  closed: () => boolean;
}

async function closingServer(body: Buffer, first: number, length: boolean): Promise<Held> {
  let socket: Socket | undefined;
  let closed = false;
  const server = createServer((s) => {
    socket = s;
    s.once('data', () => {
      s.write(`HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n${length ? `Content-Length: ${body.length}\r\n` : ''}Connection: close\r\n\r\n`);
      s.write(body.subarray(0, first));
    });
    s.on('close', () => (closed = true));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  env.add({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    finish: () => socket?.end(body.subarray(first)),
    closed: () => closed,
  };
}

describe('a body not read yet when a Connection: close answer ends', () => {
  it.each([
    ['with a Content-Length', true],
    ['without a length (read to the end of the connection)', false],
  ] as const)('%s: arrives whole, no uncaught AssertionError', async (_what, length) => {
    const body = Buffer.alloc(72 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 0xff;
    const server = await closingServer(body, 32 * 1024, length);
    const host = `127.0.0.1:${server.port}`;
    const transport = createHttpTransport({ host, plainHttp: true, requestTimeoutMs: 10_000 });
    env.add({ close: () => transport.close() });
    const res = await transport.request({ method: 'GET', url: new URL(`http://${host}/v2/a/blobs/x`) });
    expect(res.status).toBe(200);
    server.finish();
    // The client's end of the connection handled (it closes its side then), the body still unread.
    await waitFor(server.closed, 'the client to close its side', 10_000);
    const chunks: Buffer[] = [];
    for await (const chunk of res.body) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(body)).toBe(true);
  });
});
