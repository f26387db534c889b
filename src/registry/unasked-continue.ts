import type { Socket } from 'node:net';

/*
 * An interim `100 Continue` packpub did not ask for (it never sends `Expect: 100-continue`), before a registry's
 * answer: a client must read 1xx answers it did not expect and wait for the final one (RFC 9110 15.2), and proxies in
 * front of registries send it (one that forwards a client's Expect, one that always does). undici 7 drops the
 * connection on any 100 (client-h1.js onHeadersComplete: "bad response"), so every request so answered failed, on
 * every attempt, and a push through such a proxy could not be made at all.
 *
 * undici's HTTP/1.1 client reads a connection with `socket.read()` and writes each request head with one
 * `socket.write(<string>, 'latin1')` that starts with the method (its bodies are Buffers, its chunk frames start
 * with CRLF), and sends a request on a connection only once the answer before it is complete (pipelining 1, which
 * packpub's Agent keeps). So an answer starts at the connection's first byte, and at the first byte after each
 * request head: there, and only there, whole `HTTP/1.x 100` heads are taken out of what undici reads. Any other byte
 * there passes, and the rest of the answer passes untouched (a body that holds "HTTP/1.1 100" is a body).
 */

/** The start of an interim answer's status line (1xx). */
const INTERIM = /^HTTP\/1\.[01] 1\d\d[ \r]/;
/** The longest start that may still turn out to be one ("HTTP/1.1 1xx " is 13 bytes). */
const PREFIX_BYTES = 13;
/** An interim head longer than this is not read past: undici gets it as it is (and drops the connection on a 100, as before). */
const MAX_INTERIM_BYTES = 16 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
/** A request head as undici writes it: a method token, a space. */
const REQUEST_HEAD = /^[A-Z]+ /;

/** Whether `bytes` (shorter than PREFIX_BYTES) could still be the start of an interim head. */
function mayBecomeInterim(bytes: Buffer): boolean {
  return /^(H(T(T(P(\/(1(\.([01]( (1(\d(\d\r?)?)?)?)?)?)?)?)?)?)?)?)?$/.test(bytes.toString('latin1'));
}

/** What to do with the bytes at the start of an answer. */
type Step = { hold: true } | { pass: Buffer; rest: Buffer; more: boolean } | { drop: Buffer; rest: Buffer };

/**
 * One step at the start of an answer: hold a start that may still be an interim head; drop a whole 100; pass a whole
 * other 1xx head (undici reads 102 and 103 itself; 101 ends HTTP on the connection) and stay at the start; pass
 * anything else, which ends the start.
 */
function step(bytes: Buffer): Step {
  if (bytes.length < PREFIX_BYTES && mayBecomeInterim(bytes)) return { hold: true };
  const line = bytes.subarray(0, PREFIX_BYTES).toString('latin1');
  if (!INTERIM.test(line) || / 101[ \r]/.test(line)) return { pass: bytes, rest: Buffer.alloc(0), more: false };
  const end = bytes.indexOf(HEAD_END);
  if (end < 0) return bytes.length > MAX_INTERIM_BYTES ? { pass: bytes, rest: Buffer.alloc(0), more: false } : { hold: true };
  const head = bytes.subarray(0, end + HEAD_END.length);
  const rest = bytes.subarray(head.length);
  return / 100[ \r]/.test(line) ? { drop: head, rest } : { pass: head, rest, more: true };
}

/**
 * Call on a connection before undici gets it (the connector's callback): unasked `100 Continue` answers before an
 * answer (also after another 1xx) are read past. Debug gets a line for each.
 */
export function readPastUnaskedContinue(socket: Socket, debug?: (line: string) => void): void {
  let atAnswerStart = true;
  let held: Buffer | null = null;
  const read = socket.read;
  const write = socket.write;
  socket.write = function (this: Socket, chunk: unknown, ...rest: unknown[]): boolean {
    if (typeof chunk === 'string' && rest[0] === 'latin1' && REQUEST_HEAD.test(chunk)) {
      atAnswerStart = true;
      held = null;
    }
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as Socket['write'];
  socket.read = function (this: Socket, size?: number): unknown {
    const chunk = read.call(this, size) as Buffer | string | null;
    if (!atAnswerStart) return chunk;
    const out: Buffer[] = [];
    for (let next = chunk; next !== null && atAnswerStart; ) {
      let bytes = typeof next === 'string' ? Buffer.from(next, 'latin1') : next;
      if (held !== null) {
        bytes = Buffer.concat([held, bytes]);
        held = null;
      }
      for (;;) {
        if (bytes.length === 0) break;
        const s = step(bytes);
        if ('hold' in s) {
          held = bytes;
          break;
        }
        if ('drop' in s) debug?.(`read past an interim ${s.drop.toString('latin1').split('\r\n')[0]?.slice(0, 40) ?? ''} packpub did not ask for`);
        else {
          out.push(s.pass);
          if (!s.more) {
            atAnswerStart = false;
            break;
          }
        }
        bytes = s.rest;
      }
      if (atAnswerStart) next = read.call(this) as Buffer | string | null;
    }
    return out.length === 0 ? null : out.length === 1 ? out[0] : Buffer.concat(out);
  } as Socket['read'];
}
