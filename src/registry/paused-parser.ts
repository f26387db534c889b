import type { Socket } from 'node:net';

/*
 * undici 7's HTTP/1.1 parser and a connection the server ends (an answer with `Connection: close`, or HTTP/1.0)
 * while the answer's body was not read yet: the body's backpressure had paused the parser, and undici's handler of
 * the connection's end asserted that it was not paused (client-h1.js Parser.finish, `assert(!this.paused)`: an
 * uncaught AssertionError that ended packpub with Node's trace, nodejs/undici#5360). undici 8 resumes the parser
 * there instead, but needs Node 22. Until packpub can require it, a listener of the connection's own, added before
 * undici's, resumes a paused parser first: undici's Parser.resume() feeds it what the connection still holds (the
 * body's last bytes are then buffered in the body stream beyond its high-water mark, as undici 8 does), so the
 * answer completes, or for a body without a length, undici's end handler finishes it.
 */

/** What this module uses of undici's parser (a field of the socket under its `parser` symbol). */
interface PausedParser {
  paused?: unknown;
  resume?: unknown;
  ptr?: unknown;
  llhttp?: { llhttp_resume?: unknown };
}

/** The parser undici attached to `socket`, if any (found by its symbol's description: undici does not export it). */
function parserOf(socket: Socket): PausedParser | undefined {
  const key = Object.getOwnPropertySymbols(socket).find((symbol) => symbol.description === 'parser');
  const parser: unknown = key === undefined ? undefined : (socket as unknown as Record<symbol, unknown>)[key];
  return typeof parser === 'object' && parser !== null ? (parser as PausedParser) : undefined;
}

/** Call on a connection before undici gets it (the connector's callback): its end then never meets a paused parser. */
export function resumeParserAtEnd(socket: Socket): void {
  socket.on('end', () => {
    const parser = parserOf(socket);
    if (parser?.paused !== true || typeof parser.resume !== 'function') return;
    // Parser.resume() feeds the parser what the connection still holds: a body with a length (or chunked) completes
    // there. Its backpressure may pause it again: a few rounds at most.
    for (let round = 0; round < 4 && parser.paused === true; round++) (parser.resume as () => void).call(parser);
    // A body read to the end of the connection has no length to complete: it stays paused on its last bytes. Resumed
    // without feeding (nothing is left to feed), undici's end handler then finishes it.
    const resume = parser.llhttp?.llhttp_resume;
    if (parser.paused === true && typeof resume === 'function' && typeof parser.ptr === 'number') {
      (resume as (ptr: number) => void)(parser.ptr);
      parser.paused = false;
    }
  });
}
