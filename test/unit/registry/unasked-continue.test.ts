import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { readPastUnaskedContinue } from '../../../src/registry/unasked-continue.js';

/*
 * What undici reads from a connection with an unasked `100 Continue` before an answer (a proxy's): the interim heads are
 * taken out at the start of an answer only (the connection's first byte, the first byte after a request head), however
 * the bytes are cut into reads; a 1xx undici reads itself (103), a body holding the same bytes, and a status that only
 * starts like 100 pass untouched. A stand-in for the socket: undici reads with read() and writes heads with write().
 */

/** A socket whose read() hands out `queued` one piece at a time (null when empty), with the filter on it. */
function connection(): { arrive: (...pieces: string[]) => void; readAll: () => string; write: (chunk: string | Buffer, encoding?: string) => void } {
  const queued: Buffer[] = [];
  const socket = {
    read: () => queued.shift() ?? null,
    write: () => true,
  };
  readPastUnaskedContinue(socket as unknown as Socket);
  return {
    arrive: (...pieces) => queued.push(...pieces.map((p) => Buffer.from(p, 'latin1'))),
    // as undici's readMore: read until null
    readAll: () => {
      const got: Buffer[] = [];
      for (let chunk = (socket as unknown as Socket).read(); chunk !== null; chunk = (socket as unknown as Socket).read()) got.push(chunk as Buffer);
      return Buffer.concat(got).toString('latin1');
    },
    write: (chunk, encoding) => void (socket as unknown as Socket).write(chunk as string, encoding as BufferEncoding),
  };
}

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
const CREATED = 'HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n';

describe('an unasked 100 Continue before an answer', () => {
  it('is taken out at the connection start, also twice and with headers', () => {
    const c = connection();
    c.arrive(`${CONTINUE}HTTP/1.0 100 Continue\r\nVia: 1.1 proxy\r\n\r\n${CREATED}`);
    expect(c.readAll()).toBe(CREATED);
  });

  it('cut anywhere into reads, some arriving only after a read found nothing', () => {
    const hints = 'HTTP/1.1 103 Early Hints\r\n\r\n';
    const whole = `${CONTINUE}${hints}${CONTINUE}${CREATED}`;
    for (let cut = 1; cut < whole.length; cut++) {
      const c = connection();
      c.arrive(whole.slice(0, cut));
      const first = c.readAll();
      c.arrive(whole.slice(cut));
      expect(first + c.readAll(), `cut at ${cut}`).toBe(`${hints}${CREATED}`);
    }
  });

  it('after each request head and after a 103, not in a body, not for a 101 or a 1000', () => {
    const c = connection();
    c.write('PUT /v2/a/manifests/1 HTTP/1.1\r\nhost: x\r\n', 'latin1');
    c.write(Buffer.from('GET / not a head: a body'));
    const body = `${CONTINUE}padding`;
    const answer = `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    c.arrive(CONTINUE, answer);
    expect(c.readAll()).toBe(answer);
    c.arrive(CONTINUE);
    expect(c.readAll()).toBe(CONTINUE); // no request asked: undici gets it (an answer to no request, as before)
    c.write('GET /v2/ HTTP/1.1\r\nhost: x\r\n\r\n', 'latin1');
    const hints = 'HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n';
    c.arrive(CONTINUE, hints, CONTINUE, CREATED);
    expect(c.readAll()).toBe(`${hints}${CREATED}`); // undici reads the 103 itself
    c.write('HEAD /v2/ HTTP/1.1\r\n\r\n', 'latin1');
    c.arrive('HTTP/1.1 1000 Odd\r\n\r\n');
    expect(c.readAll()).toBe('HTTP/1.1 1000 Odd\r\n\r\n');
    c.write('GET /v2/a/manifests/1 HTTP/1.1\r\n\r\n', 'latin1');
    const upgrade = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n';
    c.arrive(upgrade, CONTINUE);
    expect(c.readAll()).toBe(`${upgrade}${CONTINUE}`); // undici refuses the switch itself
  });
});
