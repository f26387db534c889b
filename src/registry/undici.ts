import { createRequire } from 'node:module';
import type { Agent as UndiciAgent, Dispatcher, Pool as UndiciPool, buildConnector as undiciBuildConnector } from 'undici';
import { PackpubError } from '../errors.js';

/*
 * The four parts of undici the registry transport uses, loaded without undici's index. The index loads
 * all of undici (fetch, WebSocket, mocks, caches, interceptors: about 110 modules, a fifth of the CPU
 * of a re-run that finds every pack unchanged); these files load 25.
 *
 * The index also copies the request API (request, stream, pipeline...) onto Dispatcher.prototype, so an
 * Agent loaded on its own has no `agent.request`: `request` below calls undici's request function with
 * the agent as `this`, as the copied method does. Whether undici's index is loaded elsewhere in the same
 * process (tests, a library user) makes no difference to it. test/e2e/rerun-bin.test.ts runs the built
 * CLI against a real registry, which is the only place a missing file or method here would show.
 *
 * The CLI's bundle (scripts/build-cli.mjs) turns the load() calls below into bundled require()s,
 * leaving out undici's HTTP/2 client: the connector (http.ts) offers only http/1.1, so it is never used.
 */

const load = createRequire(import.meta.url);

export const Agent = load('undici/lib/dispatcher/agent.js') as typeof UndiciAgent;
/** Loaded by agent.js already (its default factory): no module more. */
export const Pool = load('undici/lib/dispatcher/pool.js') as typeof UndiciPool;
export const buildConnector = load('undici/lib/core/connect.js') as typeof undiciBuildConnector;
const apiRequest = load('undici/lib/api/api-request.js') as (this: Dispatcher, options: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;

/*
 * undici compiles llhttp (its HTTP parser, WebAssembly) when the first connection opens, synchronously:
 * the run waits while V8 compiles it on its background threads. The same bytes are compiled here ahead,
 * asynchronously, as soon as the transport is loaded; V8 keeps a compiled module for the bytes it was
 * compiled from, so the first connection then finds it compiled (or waits only for what is left).
 * Held for the process's lifetime, as undici holds its own. A failure here changes nothing: undici
 * compiles (or falls back) itself.
 */
const { WebAssembly: wasm } = globalThis as unknown as { WebAssembly?: { compile(bytes: Uint8Array): Promise<unknown> } };
export const parserCompiledAhead: Promise<unknown> =
  wasm === undefined ? Promise.resolve(undefined) : wasm.compile(load('undici/lib/llhttp/llhttp_simd-wasm.js') as Uint8Array).catch(() => undefined);

/**
 * A Node without WebAssembly (run with --jitless, in NODE_OPTIONS or on node's line, as where the system forbids
 * memory that is both written and run) can make no request: undici's HTTP parser is WebAssembly. Said as such
 * (CONFIG, exit 2) before any is tried; the line above read `WebAssembly.compile` of undefined, and every command
 * that reaches a registry ended with "Cannot read properties of undefined (reading 'compile')" and "this is a
 * bug in packpub". What needs no network (validate, build, a push into an OCI layout) still runs.
 */
export function refuseWithoutWebAssembly(): void {
  if (wasm !== undefined) return;
  throw new PackpubError('CONFIG', "this Node.js runs without WebAssembly (--jitless), which packpub's HTTP client needs: its HTTP parser (llhttp, in undici) is WebAssembly", {
    hint: 'run packpub without --jitless (check NODE_OPTIONS); validate, build and push --oci-layout need no network and run with it',
  });
}

/** `dispatcher.request(options)` of undici's full API. */
export function request(dispatcher: Dispatcher, options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData> {
  return apiRequest.call(dispatcher, options);
}
