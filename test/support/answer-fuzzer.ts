import { createHash } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { drip } from './hostile-registry.js';
import { listenOnLoopback } from './loopback.js';
import { Prng } from './prng.js';
import { FaultPlan, requestKind, type RequestKind } from './recording-proxy.js';

/*
 * A proxy on 127.0.0.1 in front of a real (plain HTTP) registry that lets the registry act on every request,
 * then, per a seeded plan, hands the client a mutated answer instead of the true one: another status, a
 * Docker-Content-Digest or Location that lies, a Content-Length that lies, a body cut short, replaced by
 * garbage or by JSON of the wrong shape, an enormous body, a connection reset half way. The fuzz test
 * (test/e2e/fuzz-registry.test.ts) drives packpub through it and checks the real registry directly.
 *
 *   const fuzz = await startAnswerFuzzer(registry.host);
 *   fuzz.plan = new MutationPlan(seed, 0.2);   // about one answer in five mutated
 *   ... run packpub against fuzz.host ...
 *   fuzz.applied   // what was mutated: ['PUT /v2/x/manifests/1.0.0 -> status 202', ...]
 *
 * Mutated answers are written on the socket by hand (so lengths can lie) and the connection is closed after
 * each; true answers pass through untouched.
 */

export type Mutation =
  | { kind: 'status'; status: number }
  | { kind: 'digest'; value: string | undefined }
  | { kind: 'location'; value: string | undefined; status?: number }
  | { kind: 'content-length'; delta: number }
  | { kind: 'content-type'; value: string }
  | { kind: 'range' }
  | { kind: 'truncate' }
  | { kind: 'body'; body: Buffer; label: string }
  | { kind: 'other-manifest' }
  | { kind: 'huge' }
  | { kind: 'empty' }
  | { kind: 'reset-mid-body' }
  | { kind: 'challenge'; value: string }
  /** The registry acted; the connection is closed without a byte of answer. */
  | { kind: 'hang-up' }
  /** The registry acted; its answer never comes (the connection stays open, silent). */
  | { kind: 'stall-head' }
  /** The headers and half the body, then silence. */
  | { kind: 'stall-body' }
  /** The body a byte at a time, each byte within the request timeout (AnswerFuzzer.dripMs apart). */
  | { kind: 'drip' }
  /** A token answer with one field set to `value` (JSON text) in the true answer. */
  | { kind: 'token-field'; field: string; value: string };

const STATUSES = [200, 201, 202, 204, 206, 301, 302, 307, 308, 400, 401, 403, 404, 405, 409, 416, 429, 500, 502, 503];

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Valid JSON of shapes a distribution-API client may not expect. */
const WRONG_SHAPES = [
  'null',
  '[]',
  '"text"',
  '42',
  '{}',
  '{"tags":"latest"}',
  '{"tags":[1,2,null]}',
  '{"name":7,"tags":[]}',
  '{"repositories":{"a":1}}',
  '{"schemaVersion":2}',
  '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":null,"layers":[]}',
  '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"sha256:00","size":-1},"layers":{}}',
  '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"digest":"nope"}]}',
  '{"errors":"none"}',
  '{"errors":[{"code":7,"message":null}]}',
  '{"errors":[]}',
];

const GARBAGE = ['{', '<html>oops</html>', '\u0000\u0001\u0002', '{"schemaVersion":2,', 'not json at all', '\uFEFF{}'];

const absent = (v: string): string | undefined => (v === '(absent)' ? undefined : v);

/** Valid JSON a token service may answer that a client may not expect (distribution token spec: token, access_token, expires_in, issued_at). */
const TOKEN_SHAPES = [
  '{"token":42}',
  '{"token":""}',
  '{"access_token":"","token":null}',
  '{"token":"two words"}',
  '{"token":"caf\u00e9"}',
  '{"token":"not-a-jwt","expires_in":300}',
  '{"token":{"jwt":"x"}}',
  '{"tokens":["a"]}',
  '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
];

/** Stalls and drips cost real time (a request timeout each), so they are drawn only when asked for. */
export interface DrawOptions {
  stalls?: boolean;
}

/** Draw one mutation for an answer to a request of `kind`. */
export function drawMutation(prng: Prng, kind: RequestKind, options: DrawOptions = {}): Mutation {
  if (options.stalls === true && prng.float() < 0.25) return { kind: prng.pick(['stall-head', 'stall-body', 'drip'] as const) };
  const pick = prng.int(0, 13);
  if (pick === 13) return { kind: 'hang-up' };
  switch (pick) {
    case 0:
      return { kind: 'status', status: prng.pick(STATUSES) };
    case 1:
      return { kind: 'digest', value: absent(prng.pick(['(absent)', sha(prng.hex(8)), 'sha256:xyz', 'md5:abc', '', `sha256:${'A'.repeat(64)}`])) };
    case 2:
      return {
        kind: 'location',
        value: absent(prng.pick(['(absent)', '', 'uploads/relative', '::garbage::', 'http://127.0.0.1:9/v2/x/blobs/uploads/y', 'http://[bad', '/v2/elsewhere/blobs/uploads/zz?_state=1'])),
      };
    case 3:
      return { kind: 'content-length', delta: prng.pick([-1, 1, -100, 1000, 1 << 30]) };
    case 4:
      return { kind: 'content-type', value: prng.pick(['text/html', 'application/octet-stream', '', 'application/vnd.oci.image.index.v1+json', 'application/json; charset=utf-16']) };
    case 5:
      return kind === 'blob-get' ? { kind: 'range' } : { kind: 'truncate' };
    case 6:
      return { kind: 'truncate' };
    case 7: {
      const garbage = prng.float() < 0.5;
      const text = garbage ? prng.pick(GARBAGE) : prng.pick(WRONG_SHAPES);
      return { kind: 'body', body: Buffer.from(text), label: `${garbage ? 'garbage' : 'shape'} ${JSON.stringify(text)}` };
    }
    case 8:
      return kind === 'manifest-get' || kind === 'manifest-head' ? { kind: 'other-manifest' } : { kind: 'empty' };
    case 9:
      return { kind: 'huge' };
    case 10:
      return { kind: 'empty' };
    case 11:
      return { kind: 'reset-mid-body' };
    default:
      return {
        kind: 'challenge',
        value: prng.pick(['Basic', 'Bearer', 'Bearer realm="::bad"', 'Bearer realm="http://127.0.0.1:9/token",service="x"', 'Basic realm=""', 'Negotiate', 'Bearer realm="/relative"']),
      };
  }
}

/**
 * Which answers get which mutation: a decision depends only on the seed and the request's identity and how
 * often it was seen (see FaultPlan.identity), so the same seed mutates the same answers however concurrent
 * requests interleave. At most `max` mutations per plan (then everything passes).
 */
export class MutationPlan {
  private readonly root: Prng;
  private readonly seen = new Map<string, number>();
  private used = 0;

  constructor(
    readonly seed: number,
    readonly rate: number,
    readonly max = 3,
    readonly options: DrawOptions & { token?: boolean } = {},
  ) {
    this.root = new Prng(seed);
  }

  decide(method: string, path: string): Mutation | undefined {
    if (this.used >= this.max) return undefined;
    const id = FaultPlan.identity(method, path);
    const n = this.seen.get(id) ?? 0;
    this.seen.set(id, n + 1);
    const draw = this.root.fork(`${id}#${n}`);
    if (draw.float() >= this.rate) return undefined;
    this.used++;
    return this.options.token === true ? drawTokenMutation(draw, this.options) : drawMutation(draw, requestKind(method, path), this.options);
  }
}

/**
 * Draw one mutation for a token service's answer: half the time a token answer of an odd shape or lifetime
 * (`expires_in` absent, zero, negative, a string, enormous; `issued_at` garbage; a token the registry will
 * not take), else any answer mutation.
 */
export function drawTokenMutation(prng: Prng, options: DrawOptions = {}): Mutation {
  if (prng.float() < 0.5) return drawMutation(prng, 'other', options);
  if (prng.float() < 0.4) {
    const text = prng.pick(TOKEN_SHAPES);
    return { kind: 'body', body: Buffer.from(text), label: `token ${text}` };
  }
  const field = prng.pick(['expires_in', 'issued_at', 'refresh_token'] as const);
  const value =
    field === 'expires_in'
      ? prng.pick([0, -1, 1e308, 0.001, '"300"', 'null', '1.5'])
      : field === 'issued_at'
        ? prng.pick(['"yesterday"', '"2999-01-01T00:00:00Z"', '12', 'null'])
        : prng.pick(['""', '7', '"r-e-f"']);
  return { kind: 'token-field', field, value: String(value) };
}

/** Anything that decides the mutation of an answer (a MutationPlan, or a test's own rule). */
export interface MutationSource {
  /** `headers`: the request's (lowercase names), e.g. to pick one AWS JSON operation by its X-Amz-Target. */
  decide(method: string, path: string, headers?: Readonly<Record<string, string | string[] | undefined>>): Mutation | undefined;
}

export interface AnswerFuzzer {
  host: string;
  url: string;
  plan: MutationSource | undefined;
  /** ms between the bytes of a dripped body (keep it under the client's request timeout). */
  dripMs: number;
  /** The mutations applied since the last clear, as `METHOD path -> what`. */
  applied: string[];
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);
const STATUS_TEXT: Record<number, string> = { 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 404: 'Not Found' };

function describe(m: Mutation): string {
  switch (m.kind) {
    case 'status':
      return `status ${m.status}`;
    case 'digest':
      return `digest ${JSON.stringify(m.value)}`;
    case 'location':
      return `location ${JSON.stringify(m.value)}`;
    case 'content-length':
      return `content-length ${m.delta > 0 ? '+' : ''}${m.delta}`;
    case 'content-type':
      return `content-type ${JSON.stringify(m.value)}`;
    case 'body':
      return `body ${m.label}`;
    case 'challenge':
      return `www-authenticate ${JSON.stringify(m.value)}`;
    case 'token-field':
      return `token ${m.field}: ${m.value}`;
    default:
      return m.kind;
  }
}

/** The status line and headers of an answer written by hand (the connection closes after it). */
function head(status: number, headers: Record<string, string>): Buffer {
  let text = `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Status'}\r\n`;
  for (const [k, v] of Object.entries(headers)) text += `${k}: ${v}\r\n`;
  return Buffer.from(`${text}connection: close\r\n\r\n`, 'latin1');
}

/** Write a whole answer by hand on the socket (lengths may lie), then close the connection. */
function writeRaw(socket: Socket, status: number, headers: Record<string, string>, body: Buffer, options: { sendBytes?: number; reset?: boolean } = {}): void {
  const sent = body.subarray(0, options.sendBytes ?? body.length);
  socket.write(Buffer.concat([head(status, headers), sent]), () => {
    if (options.reset === true) socket.resetAndDestroy();
    else socket.end();
  });
}

let hugeBody: Buffer | undefined;
/** 5 MiB of JSON-looking bytes: more than any manifest or error body packpub accepts. */
function huge(): Buffer {
  hugeBody ??= Buffer.from(`{"tags":[${'"x",'.repeat((5 * 1024 * 1024) / 4)}"y"]}`);
  return hugeBody;
}

export async function startAnswerFuzzer(target: string): Promise<AnswerFuzzer> {
  const [targetHost = '127.0.0.1', targetPortText = '80'] = target.split(':');
  const targetPort = Number(targetPortText);
  /** A manifest of another pack seen earlier, for `other-manifest`. */
  let lastManifest: { bytes: Buffer; type: string } | undefined;

  const fuzzer: AnswerFuzzer = { host: '', url: '', plan: undefined, dripMs: 100, applied: [], close: async () => undefined };

  const server: Server = createServer((req: IncomingMessage, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const kind = requestKind(method, path);
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    const upstream = httpRequest({ host: targetHost, port: targetPort, method, path, headers }, (up) => {
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('error', () => res.destroy());
      up.on('end', () => {
        const body = Buffer.concat(chunks);
        const status = up.statusCode ?? 502;
        const out: Record<string, string> = {};
        for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = Array.isArray(v) ? v.join(', ') : v;
        if (kind === 'manifest-get' && status === 200) {
          const previous = lastManifest;
          if (previous === undefined || !previous.bytes.equals(body)) lastManifest = { bytes: body, type: out['content-type'] ?? '' };
        }
        const mutation = fuzzer.plan?.decide(method, path, req.headers);
        if (mutation === undefined) {
          res.writeHead(status, out);
          res.end(body);
          return;
        }
        fuzzer.applied.push(`${method} ${path.split('?')[0]} (${status}) -> ${describe(mutation)}`);
        const socket = req.socket;
        req.resume();
        const withLength = (b: Buffer, h: Record<string, string> = out) => ({ ...h, 'content-length': String(b.length) });
        switch (mutation.kind) {
          case 'status':
            return writeRaw(socket, mutation.status, withLength(body), body);
          case 'digest': {
            const h = { ...out };
            if (mutation.value === undefined) delete h['docker-content-digest'];
            else h['docker-content-digest'] = mutation.value;
            return writeRaw(socket, status, withLength(body, h), body);
          }
          case 'location': {
            const h = { ...out };
            if (mutation.value === undefined) delete h['location'];
            else h['location'] = mutation.value;
            return writeRaw(socket, mutation.status ?? status, withLength(body, h), body);
          }
          case 'content-length': {
            // Announce a length the body does not have: shorter (the rest is sent and ignored) or longer (the
            // connection closes early).
            const announced = Math.max(0, body.length + mutation.delta);
            return writeRaw(socket, status, { ...out, 'content-length': String(announced) }, body, { sendBytes: Math.min(body.length, announced) });
          }
          case 'challenge':
            return writeRaw(socket, status, withLength(body, { ...out, 'www-authenticate': mutation.value }), body);
          case 'content-type':
            return writeRaw(socket, status, withLength(body, { ...out, 'content-type': mutation.value }), body);
          case 'range': {
            const half = Math.floor(body.length / 2);
            const part = body.subarray(0, half);
            return writeRaw(socket, 206, { ...withLength(part), 'content-range': `bytes 0-${Math.max(0, half - 1)}/${body.length}` }, part);
          }
          case 'truncate':
            return writeRaw(socket, status, withLength(body), body, { sendBytes: Math.floor(body.length / 2) });
          case 'reset-mid-body':
            return writeRaw(socket, status, withLength(body), body, { sendBytes: Math.floor(body.length / 2), reset: true });
          case 'body':
            return writeRaw(socket, status, withLength(mutation.body), mutation.body);
          case 'other-manifest': {
            const other = lastManifest !== undefined && !lastManifest.bytes.equals(body) ? lastManifest.bytes : Buffer.from('{"schemaVersion":2,"layers":[]}');
            return writeRaw(socket, status, withLength(other), other);
          }
          case 'huge':
            return writeRaw(socket, status, withLength(huge()), huge());
          case 'empty':
            return writeRaw(socket, status, withLength(Buffer.alloc(0)), Buffer.alloc(0));
          case 'hang-up':
            socket.destroy();
            return;
          case 'stall-head':
            // Nothing is ever written; the client gives up (its request timeout) or the fuzzer closes.
            return;
          case 'stall-body':
            socket.write(Buffer.concat([head(status, withLength(body)), body.subarray(0, Math.floor(body.length / 2))]));
            return;
          case 'drip':
            return drip(res, body, fuzzer.dripMs, out, status);
          case 'token-field': {
            let doc: unknown;
            try {
              doc = JSON.parse(body.toString('utf8'));
            } catch {
              doc = undefined;
            }
            if (typeof doc !== 'object' || doc === null) return writeRaw(socket, status, withLength(body), body);
            const changed = Buffer.from(JSON.stringify({ ...(doc as object), [mutation.field]: JSON.parse(mutation.value) as unknown }));
            return writeRaw(socket, status, withLength(changed), changed);
          }
        }
      });
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  const listening = await listenOnLoopback(server);
  fuzzer.host = listening.host;
  fuzzer.url = listening.url;
  fuzzer.close = listening.close;
  return fuzzer;
}

/** `plan`'s mutations for the requests `match` accepts; every other answer passes (an API behind the same host as its registry). */
export function onlyWhere(plan: MutationSource, match: (method: string, path: string) => boolean): MutationSource {
  return { decide: (method, path) => (match(method, path) ? plan.decide(method, path) : undefined) };
}

/** What one fuzzed run printed and how it ended. */
export interface FuzzedRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The invariants every fuzzed run keeps whatever was answered, in words (empty when kept): no crash (the
 * "bug in packpub" hint, INTERNAL), none of `secrets` in any output, exit 0 or 1 (or `exits`), and a failure that names
 * itself with an `error:` line or a per-pack `FAILED name: ...` line.
 */
export function brokenRun(run: FuzzedRun, secrets: readonly string[], exits: readonly number[] = [0, 1]): string[] {
  const broken: string[] = [];
  if (run.stderr.includes('bug in packpub') || run.stderr.includes('INTERNAL')) broken.push('crashed');
  if (secrets.some((s) => `${run.stdout}${run.stderr}`.includes(s))) broken.push('printed a secret');
  if (!exits.includes(run.code)) broken.push(`exit code other than ${exits.join(' or ')}`);
  if (run.code !== 0 && !/^(error: |[A-Z]+ .+?: )\S/m.test(run.stderr)) broken.push('failed without an error line');
  return broken;
}
