import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { runCli } from './cli.js';
import { listenOnLoopback, readBody, type ListeningServer } from './loopback.js';
import { writePack } from './packs.js';
import type { Stage } from './stage.js';

/*
 * A registry an attacker controls, on 127.0.0.1: an in-memory distribution-API server (the ORAS 1.0 push
 * flow of oras-1.0-push.md, manifest and blob reads, tag listing) that answers honestly until a test asks
 * it to lie. packpub pushes a real pack to it first, then the test flips a behaviour and watches what
 * packpub does with the lie:
 *
 *   const hostile = await startHostileRegistry();
 *   await runCli(['push', dir, '--registry', `${hostile.host}/evil`]);
 *   hostile.behaviour = { blobSizeDelta: 7 };            // Content-Length differs from the descriptor
 *   hostile.behaviour = { stallBlobAfter: 100 };         // a body that stops and never ends
 *   hostile.behaviour = { stallUploadAfter: 1 << 20 };   // an upload body that stops being read
 *   hostile.behaviour = { tagCount: 1_000_000 };         // one enormous tag page
 *   hostile.behaviour = { linkLoop: 'repeat' };          // a `Link` back to a page already served
 *   hostile.behaviour = { linkLoop: 'endless' };         // a `Link` to a new page, forever
 *   hostile.behaviour = { linkTo: 'http://elsewhere/' }; // a `Link` to another host
 *   hostile.behaviour = { tagsBody: 'null' };            // a tag page that is not an object
 *   hostile.behaviour = { closeAfterBlob: true };        // blob answers with `Connection: close`
 *   hostile.behaviour = { users: { u: 'pw' }, echoCredentials: true };  // a 401 body that echoes the password
 *
 * Everything it sends is counted in `requests`.
 */

export interface HostileBehaviour {
  /** Blob GETs announce (Content-Length) and send this many bytes more than the blob (negative: fewer). */
  blobSizeDelta?: number;
  /** Blob GETs announce the true size, send this many bytes, then hold the connection open without ending. */
  stallBlobAfter?: number;
  /** Upload PUTs whose body is longer stop being read after this many bytes, and are never answered. */
  stallUploadAfter?: number;
  /** Blob GETs answer `Connection: close`: the whole body, then the connection closed (nginx with keepalive off, an HTTP/1.0 proxy). */
  closeAfterBlob?: boolean;
  /** Every tag listing is one page of this many generated tags (`0.0.<n>`), streamed. */
  tagCount?: number;
  /** Tag listings carry a `Link: rel="next"`: back to the first page (`repeat`) or to a new page forever (`endless`). */
  linkLoop?: 'repeat' | 'endless';
  /** Tag listings carry `Link: <this URL>; rel="next"` (another host, say). */
  linkTo?: string;
  /** Manifest GETs, tag listings and Harbor's systeminfo send their body one byte every this many ms (never idle long enough for a chunk timeout). */
  dripMs?: number;
  /** Manifest GETs and HEADs send this body instead (with a matching Docker-Content-Digest unless `manifestDigest` is set). */
  manifestBody?: string;
  /** Manifest GETs and HEADs send this Docker-Content-Digest. */
  manifestDigest?: string;
  /** Every answer carries a header this many bytes long. */
  hugeHeaderBytes?: number;
  /** Upload (POST, PUT) and manifest PUT answers carry a 100-byte body sent one byte every this many ms. */
  dripAnswersMs?: number;
  /** With dripAnswersMs: drip only the next answer of each of these kinds (each kind is removed once dripped); default every answer. */
  dripAnswerKinds?: Set<'upload-start' | 'upload' | 'manifest'>;
  /** 404 answers send their error body one byte every this many ms. */
  dripErrorsMs?: number;
  /** Tag listings answer 200 with exactly this body (`null`, `{"tags":null}`, ...). */
  tagsBody?: string;
  /** Require Basic credentials (user -> password) for every request; a wrong one gets 401. */
  users?: Record<string, string>;
  /** 401 and 403 bodies quote the credentials the request carried (decoded), as a careless registry might. */
  echoCredentials?: boolean;
  /**
   * Token auth: every /v2/ request without `Authorization: Bearer <the token>` gets a Bearer challenge naming
   * `realm` (default: this server's /token); /token answers `tokenBody` (default `{"token":"<the token>"}`).
   */
  /** dripTokenTimes: drip only the first N token answers (default every one). */
  bearer?: { realm?: string; tokenBody?: string; dripTokenMs?: number; dripTokenTimes?: number };
  /** Status for a request whose credentials are wrong (one without any still gets the 401 challenge): 403 DENIED, as some registries answer. */
  wrongCredentialsStatus?: 401 | 403;
  /**
   * An answer of the test's own, asked first for every request that passed authentication; undefined lets the
   * stand-in answer. A `body` that is a function writes the answer itself (to stream or never end it).
   */
  answer?: (req: { method: string; path: string; query: URLSearchParams; authorization: string | undefined }) => HostileAnswer | undefined;
}

export interface HostileAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: Buffer | string | ((res: ServerResponse) => void);
}

export interface HostileRequest {
  method: string;
  path: string;
  status: number;
  /** The Authorization header it carried. */
  authorization?: string | undefined;
}

export interface HostileRegistry {
  /** `127.0.0.1:<port>` */
  host: string;
  url: string;
  behaviour: HostileBehaviour;
  requests: HostileRequest[];
  /** Connections currently open (a stalled body holds one). */
  openConnections(): number;
  /** Store a blob in repository `name` as a push would; its digest. */
  putBlob(name: string, bytes: Buffer): string;
  /** Store a manifest under `ref` (and its digest) in repository `name`, as a push would; its digest. */
  putManifest(name: string, ref: string, bytes: Buffer, mediaType: string): string;
  close(): Promise<void>;
}

interface Repo {
  manifests: Map<string, { bytes: Buffer; mediaType: string }>;
  blobs: Map<string, Buffer>;
}

/** The repository of the pack hostileWithPack pushes (hello:1.0.0 under the base path `evil`). */
export const HOSTILE_PACK_REPO = 'evil/spectro-packs/archive/hello';

/**
 * A hostile registry (answering honestly until told otherwise) that packpub has published pack hello:1.0.0 to
 * under the base path `evil`; `registry` is the --registry value, `root` a temp folder of the stage's.
 */
export async function hostileWithPack(stack: Stage, prefix: string): Promise<{ hostile: HostileRegistry; registry: string; root: string }> {
  const root = await stack.tempDir(prefix);
  const hostile = stack.add(await startHostileRegistry({}));
  const registry = `${hostile.host}/evil`;
  const push = await runCli(['push', await writePack(join(root, 'p'), { name: 'hello', version: '1.0.0' }), '--registry', registry]);
  if (push.code !== 0) throw new Error(push.stderr);
  return { hostile, registry, root };
}

/** The one token the stand-in accepts in `bearer` mode. */
export const HOSTILE_TOKEN = 'hostile-token-0123456789';

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function ociError(res: ServerResponse, status: number, code: string, message: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...extra });
  res.end(JSON.stringify({ errors: [{ code, message }] }));
}

/** A tag page of `count` generated tags, written in pieces so the stand-in's own memory stays small. */
function streamTags(res: ServerResponse, name: string, count: number, headers: Record<string, string>): void {
  res.writeHead(200, { 'content-type': 'application/json', ...headers });
  let i = 0;
  res.write(`{"name":${JSON.stringify(name)},"tags":[`);
  const more = (): void => {
    while (i < count) {
      const end = Math.min(count, i + 10_000);
      const parts: string[] = [];
      for (; i < end; i++) parts.push(`${i === 0 ? '' : ','}"0.0.${i}"`);
      if (!res.write(parts.join(''))) {
        res.once('drain', more);
        return;
      }
    }
    res.end(']}');
  };
  more();
}

/** Send `body` one byte every `ms` (until the client goes away). */
export function drip(res: ServerResponse, body: Buffer, ms: number, headers: Record<string, string>, status = 200): void {
  res.writeHead(status, { ...headers, 'content-length': String(body.length) });
  let i = 0;
  const timer = setInterval(() => {
    if (res.destroyed || i >= body.length) {
      clearInterval(timer);
      if (!res.destroyed) res.end();
      return;
    }
    res.write(body.subarray(i, ++i));
  }, ms);
  res.on('close', () => clearInterval(timer));
}

export async function startHostileRegistry(behaviour: HostileBehaviour = {}): Promise<HostileRegistry> {
  const repos = new Map<string, Repo>();
  const uploads = new Map<string, string>();
  const repo = (name: string): Repo => {
    let r = repos.get(name);
    if (r === undefined) repos.set(name, (r = { manifests: new Map(), blobs: new Map() }));
    return r;
  };

  /** Whether an answer of this kind drips (dripAnswersMs, dripAnswerKinds). */
  const dripsAnswer = (b: HostileBehaviour, kind: 'upload-start' | 'upload' | 'manifest'): b is HostileBehaviour & { dripAnswersMs: number } =>
    b.dripAnswersMs !== undefined && (b.dripAnswerKinds === undefined || b.dripAnswerKinds.delete(kind));

  const handle = async (req: IncomingMessage, res: ServerResponse, b: HostileBehaviour): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const path = url.pathname;
    if (b.hugeHeaderBytes !== undefined) res.setHeader('x-hostile', 'a'.repeat(b.hugeHeaderBytes));
    if (b.bearer !== undefined) {
      if (path === '/token') {
        req.resume();
        const answer = b.bearer.tokenBody ?? JSON.stringify({ token: HOSTILE_TOKEN });
        const dripThis = b.bearer.dripTokenTimes === undefined || b.bearer.dripTokenTimes-- > 0;
        if (b.bearer.dripTokenMs !== undefined && dripThis) return drip(res, Buffer.from(answer), b.bearer.dripTokenMs, { 'content-type': 'application/json' });
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(answer);
      }
      if (req.headers.authorization !== `Bearer ${HOSTILE_TOKEN}`) {
        req.resume();
        const realm = b.bearer.realm ?? `${registry.url}/token`;
        return ociError(res, 401, 'UNAUTHORIZED', 'authentication required', { 'www-authenticate': `Bearer realm="${realm}",service="hostile"` });
      }
    }
    if (b.users !== undefined) {
      const header = req.headers.authorization ?? '';
      const decoded = header.startsWith('Basic ') ? Buffer.from(header.slice(6), 'base64').toString('utf8') : '';
      const [user = '', ...rest] = decoded.split(':');
      if (b.users[user] === undefined || b.users[user] !== rest.join(':')) {
        req.resume();
        const echo = b.echoCredentials === true && decoded !== '' ? ` for ${user} with password ${rest.join(':')}` : '';
        if (decoded !== '' && b.wrongCredentialsStatus === 403) return ociError(res, 403, 'DENIED', `access denied${echo}`);
        return ociError(res, 401, 'UNAUTHORIZED', `authentication required${echo}`, { 'www-authenticate': 'Basic realm="hostile"' });
      }
    }
    const own = b.answer?.({ method: req.method ?? '', path, query: url.searchParams, authorization: req.headers.authorization });
    if (own !== undefined) {
      req.resume();
      if (typeof own.body === 'function') {
        res.writeHead(own.status, own.headers ?? {});
        return own.body(res);
      }
      const body = own.body === undefined ? Buffer.alloc(0) : Buffer.from(own.body);
      res.writeHead(own.status, { 'content-length': String(body.length), ...own.headers });
      return void res.end(req.method === 'HEAD' ? undefined : body);
    }
    if (path === '/v2/' || path === '/v2') {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end('{}');
    }
    let m: RegExpExecArray | null;
    if (path === '/api/v2.0/systeminfo' && b.dripMs !== undefined) {
      req.resume();
      return drip(res, Buffer.from(JSON.stringify({ harbor_version: 'v2.10.0', padding: 'x'.repeat(1000) })), b.dripMs, { 'content-type': 'application/json' });
    }
    if ((m = /^\/v2\/(.+)\/tags\/list$/.exec(path)) !== null) {
      req.resume();
      const name = m[1] as string;
      const headers: Record<string, string> = {};
      if (b.linkLoop === 'repeat') headers['link'] = `</v2/${name}/tags/list?n=1000>; rel="next"`;
      if (b.linkLoop === 'endless') headers['link'] = `</v2/${name}/tags/list?n=1000&last=${randomUUID()}>; rel="next"`;
      if (b.linkTo !== undefined) headers['link'] = `<${b.linkTo}>; rel="next"`;
      if (b.tagCount !== undefined) return streamTags(res, name, b.tagCount, headers);
      if (b.dripMs !== undefined) return drip(res, Buffer.from(JSON.stringify({ name, tags: ['1.0.0'] })), b.dripMs, { 'content-type': 'application/json', ...headers });
      if (b.tagsBody !== undefined) {
        res.writeHead(200, { 'content-type': 'application/json', ...headers });
        return void res.end(b.tagsBody);
      }
      const r = repos.get(name);
      if (r === undefined) return ociError(res, 404, 'NAME_UNKNOWN', 'repository name not known to registry');
      const tags = [...r.manifests.keys()].filter((t) => !t.startsWith('sha256:'));
      res.writeHead(200, { 'content-type': 'application/json', ...headers });
      return void res.end(JSON.stringify({ name, tags }));
    }
    if ((m = /^\/v2\/(.+)\/blobs\/uploads\/?$/.exec(path)) !== null && req.method === 'POST') {
      req.resume();
      const id = randomUUID();
      uploads.set(id, m[1] as string);
      if (dripsAnswer(b, 'upload-start')) return drip(res, Buffer.alloc(100, 0x20), b.dripAnswersMs, { location: `/v2/${m[1]}/blobs/uploads/${id}` }, 202);
      res.writeHead(202, { location: `/v2/${m[1]}/blobs/uploads/${id}`, 'content-length': '0' });
      return void res.end();
    }
    if ((m = /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/.exec(path)) !== null && req.method === 'PUT') {
      const stallAfter = b.stallUploadAfter;
      if (stallAfter !== undefined && Number(req.headers['content-length'] ?? 0) > stallAfter) {
        let read = 0;
        req.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read >= stallAfter) req.pause(); // the client's writes then fill the socket buffers and stop
        });
        return;
      }
      const body = await readBody(req);
      const name = uploads.get(m[2] as string);
      const digest = url.searchParams.get('digest');
      if (name === undefined || digest === null) return ociError(res, 404, 'BLOB_UPLOAD_UNKNOWN', 'upload unknown');
      if (sha256(body) !== digest) return ociError(res, 400, 'DIGEST_INVALID', 'digest does not match');
      uploads.delete(m[2] as string);
      repo(name).blobs.set(digest, body);
      if (dripsAnswer(b, 'upload')) return drip(res, Buffer.alloc(100, 0x20), b.dripAnswersMs, { location: `/v2/${name}/blobs/${digest}`, 'docker-content-digest': digest }, 201);
      res.writeHead(201, { location: `/v2/${name}/blobs/${digest}`, 'docker-content-digest': digest, 'content-length': '0' });
      return void res.end();
    }
    if ((m = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})$/.exec(path)) !== null) {
      req.resume();
      const blob = repos.get(m[1] as string)?.blobs.get(m[2] as string);
      if (blob === undefined) return ociError(res, 404, 'BLOB_UNKNOWN', 'blob unknown to registry');
      const body = b.blobSizeDelta === undefined ? blob : b.blobSizeDelta >= 0 ? Buffer.concat([blob, Buffer.alloc(b.blobSizeDelta, 0x41)]) : blob.subarray(0, blob.length + b.blobSizeDelta);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length), 'docker-content-digest': m[2] as string, ...(b.closeAfterBlob === true ? { connection: 'close' } : {}) });
      if (req.method === 'HEAD') return void res.end();
      if (b.stallBlobAfter !== undefined) return void res.write(body.subarray(0, b.stallBlobAfter)); // and never end
      return void res.end(body);
    }
    if ((m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(path)) !== null) {
      const [, name = '', ref = ''] = m;
      if (req.method === 'PUT') {
        const bytes = await readBody(req);
        const digest = sha256(bytes);
        const entry = { bytes, mediaType: String(req.headers['content-type'] ?? '') };
        repo(name).manifests.set(ref, entry);
        repo(name).manifests.set(digest, entry);
        if (dripsAnswer(b, 'manifest')) return drip(res, Buffer.alloc(100, 0x20), b.dripAnswersMs, { 'docker-content-digest': digest, location: `/v2/${name}/manifests/${digest}` }, 201);
        res.writeHead(201, { 'docker-content-digest': digest, location: `/v2/${name}/manifests/${digest}`, 'content-length': '0' });
        return void res.end();
      }
      req.resume();
      const found = repos.get(name)?.manifests.get(ref);
      if (found === undefined && b.dripErrorsMs !== undefined) {
        return drip(res, Buffer.from(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] })), b.dripErrorsMs, { 'content-type': 'application/json' }, 404);
      }
      if (found === undefined) return ociError(res, 404, 'MANIFEST_UNKNOWN', 'manifest unknown');
      const bytes = b.manifestBody === undefined ? found.bytes : Buffer.from(b.manifestBody);
      const headers = { 'content-type': found.mediaType, 'content-length': String(bytes.length), 'docker-content-digest': b.manifestDigest ?? sha256(bytes) };
      if (b.dripMs !== undefined && req.method === 'GET') return drip(res, bytes, b.dripMs, headers);
      res.writeHead(200, headers);
      return void res.end(req.method === 'HEAD' ? undefined : bytes);
    }
    req.resume();
    ociError(res, 404, 'UNSUPPORTED', `the stand-in does not serve ${req.method} ${path}`);
  };

  let listening: ListeningServer | undefined;
  const registry: HostileRegistry = {
    host: '',
    url: '',
    behaviour,
    requests: [],
    openConnections: () => listening?.sockets.size ?? 0,
    putBlob: (name, bytes) => {
      const digest = sha256(bytes);
      repo(name).blobs.set(digest, bytes);
      return digest;
    },
    putManifest: (name, ref, bytes, mediaType) => {
      const digest = sha256(bytes);
      repo(name).manifests.set(ref, { bytes, mediaType });
      repo(name).manifests.set(digest, { bytes, mediaType });
      return digest;
    },
    close: async () => listening?.close(),
  };
  const server: Server = createServer((req, res) => {
    res.on('finish', () => registry.requests.push({ method: req.method ?? '', path: req.url ?? '', status: res.statusCode, authorization: req.headers.authorization }));
    handle(req, res, registry.behaviour).catch((err: unknown) => {
      if (!res.headersSent) ociError(res, 500, 'UNKNOWN', String(err));
      else res.destroy();
    });
  });
  listening = await listenOnLoopback(server);
  registry.host = listening.host;
  registry.url = listening.url;
  return registry;
}
