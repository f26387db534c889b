import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buffer } from 'node:stream/consumers';
import { defaultCredentialChain } from '../../src/credentials/default-chain.js';
import type { RegistryConnectionOptions } from '../../src/targets/options.js';
import { startEcrStandin, tagIsImmutable, TEST_ECR_HOST, useFakeAwsEnvironment, type EcrStandin, type EcrStandinOptions } from './ecr-standin.js';
import { sharedRegistry, type RunningRegistry } from './registry.js';
import type { Stage } from './stage.js';
import { sendJson } from './loopback.js';
import { writePack } from './packs.js';
import { join } from 'node:path';

/*
 * An ECR-like front for a real registry running without auth (registries.md, "AWS ECR"):
 * - 401 `Basic realm="https://<host>/",service="ecr.amazonaws.com"` unless `Basic base64(AWS:<password>)`
 *   carries a password the ECR stand-in minted; an expired one gets 403 DENIED "...has expired";
 * - 405 on `/v2/_catalog`;
 * - 404 NAME_UNKNOWN for repositories not created through the stand-in's CreateRepository; in one created but
 *   empty, a manifest read answers 404 MANIFEST_UNKNOWN and the tag list 200 with no tags, as ECR does; tag
 *   lists come unsorted (reversed), as ECR does not sort them;
 * - 403 DENIED naming the IAM action for an upload or manifest PUT the ECR stand-in denies (InitiateLayerUpload, PutImage);
 * - 400 TAG_INVALID when a tag already present is pushed again where it is immutable (an IMMUTABLE repository, or a
 *   *_WITH_EXCLUSION one by its exclusion filters: tagIsImmutable);
 * - blob GETs answered with a 307 to a second loopback server ("S3") that answers 400 to any request
 *   carrying `Authorization` and serves the blob otherwise.
 */

export interface EcrProxyRequest {
  method: string;
  path: string;
  /** What the proxy answered itself (401/403/404/405/400/307) or the upstream's status. */
  status: number;
}

export interface S3Request {
  path: string;
  hadAuthorization: boolean;
  status: number;
}

export interface EcrProxy {
  /** `127.0.0.1:<port>` of the registry front. */
  address: string;
  port: number;
  /** `127.0.0.1:<port>` of the S3 stand-in. */
  s3Address: string;
  requests: EcrProxyRequest[];
  s3Requests: S3Request[];
  close(): Promise<void>;
}

export interface EcrProxyOptions {
  /** Base URL of the registry behind the proxy, e.g. `http://127.0.0.1:5000` (auth: none). */
  upstream: string;
  /**
   * The repository base path (one segment) under which this ECR's repositories live on the upstream (a registry
   * other worlds share): ECR's `a/b` is the upstream's `<base>/a/b`, and nothing of the upstream's answers names
   * the base (upstreamView). Empty: the upstream's repositories are ECR's.
   */
  base?: string;
  standin: EcrStandin;
}

/**
 * The mapping between an ECR world's repository names and the upstream's, when the upstream is shared under a
 * base path: request paths (and a mount's `from`) get the base, answers lose it (Location and Link headers,
 * JSON bodies such as a tag list's `name` or an error naming the repository).
 */
interface BaseMapping {
  /** The upstream path of `/v2/<repo>/<rest>` with its query (`from` of a mount mapped too). */
  up(repo: string, rest: string, search: string): string;
  /** A Location or Link header of the upstream as the world's. */
  header(value: string): string;
  /** A body of the upstream as the world's (JSON: the base removed from names). */
  body(body: Buffer): Buffer;
}

function baseMapping(base: string): BaseMapping {
  if (base === '') return { up: (repo, rest, search) => `/v2/${repo}/${rest}${search}`, header: (v) => v, body: (b) => b };
  const prefix = `${base}/`;
  return {
    up: (repo, rest, search) => {
      const query = new URLSearchParams(search);
      const from = query.get('from');
      if (from !== null) query.set('from', prefix + from);
      const q = query.toString();
      return `/v2/${prefix}${repo}/${rest}${q === '' ? '' : `?${q}`}`;
    },
    header: (value) => value.split(`/v2/${prefix}`).join('/v2/'),
    body: (body) => (body.includes(`"${prefix}`) ? Buffer.from(body.toString('utf8').split(`"${prefix}`).join('"')) : body),
  };
}

/**
 * Answer `res` with the upstream's answer `up`, as the world's (BaseMapping): its Location and Link headers, and
 * its body when `names` says it may name a repository (an error, a tag list; never a manifest or a blob, whose
 * bytes are their digest, nor the answer to a HEAD).
 */
function relay(up: IncomingMessage, res: ServerResponse, map: BaseMapping, names: boolean): void {
  const headers = { ...up.headers };
  for (const name of ['location', 'link'] as const) {
    const value = headers[name];
    if (typeof value === 'string') headers[name] = map.header(value);
  }
  if (!names) {
    res.writeHead(up.statusCode ?? 502, headers);
    up.pipe(res);
    return;
  }
  buffer(up).then(
    (raw) => {
      const body = map.body(raw);
      if (headers['content-length'] !== undefined) headers['content-length'] = String(body.length);
      res.writeHead(up.statusCode ?? 502, headers);
      res.end(body);
    },
    () => res.destroy(),
  );
}

/** Whether the upstream's answer to `method` `rest` may name a repository in its body (relay). */
function namesRepository(method: string, rest: string, status: number): boolean {
  return method !== 'HEAD' && (status >= 400 || rest === 'tags/list');
}

const REPO_PATH_RE = /^\/v2\/(.+)\/(manifests\/[^/]+|blobs\/uploads(?:\/[^/]*)?|blobs\/[a-z0-9]+:[a-f0-9]+|tags\/list)$/;

/** ECR answers JSON with a charset. */
function sendEcrJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendJson(res, status, body, { 'content-type': 'application/json; charset=utf-8', ...headers });
}

function ociError(code: string, message: string): unknown {
  return { errors: [{ code, message }] };
}

function drain(req: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    req.on('end', resolve);
    req.on('error', () => resolve());
    req.resume();
  });
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

export async function startEcrProxy(options: EcrProxyOptions): Promise<EcrProxy> {
  const upstream = new URL(options.upstream);
  const { standin } = options;
  const map = baseMapping(options.base ?? '');
  const requests: EcrProxyRequest[] = [];
  const s3Requests: S3Request[] = [];
  /** Presigned-URL signature -> blob path on the upstream. */
  const presigned = new Map<string, string>();

  /** Forward to the upstream registry, keeping the Host header so its Location URLs point back here. */
  const forward = (req: IncomingMessage, res: ServerResponse, path: string, record: (status: number) => void, rest: string, bodyAlreadyRead = false) => {
    const headers = { ...req.headers };
    delete headers['authorization'];
    const out = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path, headers },
      (up) => {
        record(up.statusCode ?? 502);
        relay(up, res, map, namesRepository(req.method ?? 'GET', rest, up.statusCode ?? 502));
      },
    );
    out.on('error', (err) => {
      record(502);
      if (!res.headersSent) sendEcrJson(res, 502, ociError('UNKNOWN', `upstream failed: ${err.message}`));
      else res.destroy();
    });
    if (bodyAlreadyRead) out.end();
    else req.pipe(out);
  };

  const upstreamHas = (path: string): Promise<boolean> =>
    new Promise((resolve) => {
      // distribution 2.8 hides OCI manifests from a HEAD whose Accept does not name the OCI type.
      const accept = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json';
      const r = httpRequest({ host: upstream.hostname, port: upstream.port, method: 'HEAD', path, headers: { accept } }, (up) => {
        up.resume();
        resolve(up.statusCode === 200);
      });
      r.on('error', () => resolve(false));
      r.end();
    });

  /** How many tags the upstream repository holds (0 when it has none or is missing). */
  const upstreamTags = (path: string): Promise<number> =>
    new Promise((resolve) => {
      const r = httpRequest({ host: upstream.hostname, port: upstream.port, method: 'GET', path }, (up) => {
        const chunks: Buffer[] = [];
        up.on('data', (c: Buffer) => chunks.push(c));
        up.on('end', () => {
          try {
            resolve(up.statusCode === 200 ? ((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { tags?: string[] | null }).tags ?? []).length : 0);
          } catch {
            resolve(0);
          }
        });
      });
      r.on('error', () => resolve(0));
      r.end();
    });

  let s3Port = 0;
  const s3 = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://s3');
    const hadAuthorization = req.headers['authorization'] !== undefined;
    const record = (status: number) => s3Requests.push({ path: url.pathname, hadAuthorization, status });
    if (hadAuthorization) {
      // S3's real answer when a presigned URL also carries an Authorization header.
      record(400);
      const xml =
        '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified</Message></Error>';
      res.writeHead(400, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) });
      res.end(xml);
      return;
    }
    const blobPath = presigned.get(url.searchParams.get('X-Amz-Signature') ?? '');
    if (blobPath === undefined) {
      record(403);
      res.writeHead(403, { 'content-type': 'application/xml' });
      res.end('<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>');
      return;
    }
    const up = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: blobPath }, (u) => {
      record(u.statusCode ?? 502);
      const headers: Record<string, string | string[] | undefined> = {
        'content-type': 'application/octet-stream',
        'content-length': u.headers['content-length'],
      };
      res.writeHead(u.statusCode ?? 502, headers);
      u.pipe(res);
    });
    up.on('error', () => res.destroy());
    up.end();
  });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const rawPath = req.url ?? '/';
    const url = new URL(rawPath, 'http://proxy');
    const method = req.method ?? 'GET';
    const record = (status: number) => requests.push({ method, path: url.pathname, status });
    const hostHeader = String(req.headers['host'] ?? `127.0.0.1:${port}`);

    const auth = String(req.headers['authorization'] ?? '');
    const basic = /^Basic\s+(.+)$/i.exec(auth);
    const decoded = basic === null ? '' : Buffer.from(basic[1] ?? '', 'base64').toString('utf8');
    const password = decoded.startsWith('AWS:') ? decoded.slice(4) : '';
    const state = password === '' ? 'unknown' : standin.checkPassword(password);
    if (state !== 'valid') {
      await drain(req);
      if (state === 'expired') {
        record(403);
        sendEcrJson(res, 403, ociError('DENIED', 'Your authorization token has expired. Reauthenticate and try again.'));
      } else {
        record(401);
        sendEcrJson(res, 401, ociError('UNAUTHORIZED', 'Not Authorized'), {
          'www-authenticate': `Basic realm="https://${hostHeader.replace(/:\d+$/, '')}/",service="ecr.amazonaws.com"`,
        });
      }
      return;
    }
    if (url.pathname === '/v2/_catalog') {
      await drain(req);
      record(405);
      sendEcrJson(res, 405, ociError('UNSUPPORTED', "The operation is unsupported."));
      return;
    }
    const m = REPO_PATH_RE.exec(url.pathname);
    if (m !== null) {
      const repo = m[1] ?? '';
      const rest = m[2] ?? '';
      const known = standin.repositories.get(repo);
      if (known === undefined) {
        await drain(req);
        record(404);
        sendEcrJson(res, 404, ociError('NAME_UNKNOWN', `The repository with name '${repo}' does not exist in the registry with id '${standin.accountId}'`));
        return;
      }
      // IAM on the registry API: each call needs its ECR action (InitiateLayerUpload for an upload, PutImage for a
      // manifest PUT); ECR answers a denied one 403 DENIED naming the action, the identity and the repository.
      // (IAM's actions for the registry API, ECR User Guide "Amazon ECR API actions for the Docker / OCI client": a blob
      // HEAD needs BatchCheckLayerAvailability, a blob GET GetDownloadUrlForLayer, a tag list ListImages, a PATCH UploadLayerPart, the PUT that
      // ends an upload CompleteLayerUpload, and UploadLayerPart too when it carries the bytes, as a monolithic one does.)
      const uploading = rest.startsWith('blobs/uploads/') && rest !== 'blobs/uploads/';
      const blobRead = rest.startsWith('blobs/') && !rest.startsWith('blobs/uploads');
      const action =
        method === 'POST' && rest.startsWith('blobs/uploads')
          ? 'InitiateLayerUpload'
          : method === 'PUT' && rest.startsWith('manifests/')
            ? 'PutImage'
            : (method === 'GET' || method === 'HEAD') && rest.startsWith('manifests/')
              ? 'BatchGetImage'
              : method === 'HEAD' && blobRead
                ? 'BatchCheckLayerAvailability'
                : method === 'GET' && blobRead
                  ? 'GetDownloadUrlForLayer'
                  : method === 'PATCH' && uploading
                    ? 'UploadLayerPart'
                    : method === 'PUT' && uploading
                      ? (['UploadLayerPart', 'CompleteLayerUpload'].find((a) => standin.denies(a)) ?? 'CompleteLayerUpload')
                      : method === 'GET' && rest === 'tags/list'
                        ? 'ListImages'
                        : undefined;
      if (action !== undefined && standin.denies(action)) {
        await drain(req);
        record(403);
        sendEcrJson(res, 403, ociError('DENIED', standin.denialMessage(action, `arn:aws:ecr:${standin.region}:${standin.accountId}:repository/${repo}`)));
        return;
      }
      const limit = standin.maxImagesPerRepository;
      if (method === 'PUT' && rest.startsWith('manifests/') && limit !== undefined && !(await upstreamHas(map.up(repo, rest, ''))) && (await upstreamTags(map.up(repo, 'tags/list', ''))) >= limit) {
        await drain(req);
        record(403);
        sendEcrJson(res, 403, ociError('DENIED', `The repository with name '${repo}' in registry with id '${standin.accountId}' already has the maximum allowed number of images which is '${limit}'`));
        return;
      }
      if (method === 'PUT' && rest.startsWith('manifests/') && !rest.slice('manifests/'.length).includes(':') && tagIsImmutable(known, rest.slice('manifests/'.length))) {
        const tag = rest.slice('manifests/'.length);
        // Buffer the manifest (at most 4 MiB on ECR) so the existence check can run before forwarding.
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        if (await upstreamHas(map.up(repo, `manifests/${tag}`, ''))) {
          record(400);
          sendEcrJson(
            res,
            400,
            ociError('TAG_INVALID', `The image tag '${tag}' already exists in the '${repo}' repository and cannot be overwritten because the repository is immutable.`),
          );
          return;
        }
        const headers = { ...req.headers, 'content-length': String(Buffer.concat(chunks).length) };
        delete headers['authorization'];
        const out = httpRequest({ host: upstream.hostname, port: upstream.port, method, path: map.up(repo, rest, url.search), headers }, (up) => {
          record(up.statusCode ?? 502);
          relay(up, res, map, namesRepository(method, rest, up.statusCode ?? 502));
        });
        out.on('error', () => res.destroy());
        out.end(Buffer.concat(chunks));
        return;
      }
      if (method === 'GET' && rest.startsWith('blobs/') && !rest.startsWith('blobs/uploads')) {
        await drain(req);
        const signature = randomBytes(32).toString('hex');
        presigned.set(signature, map.up(repo, rest, ''));
        record(307);
        const location = `http://127.0.0.1:${s3Port}/prod-us-east-1-starport-layer-bucket/${rest.slice('blobs/'.length).replace(':', '/')}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=3600&X-Amz-Signature=${signature}`;
        res.writeHead(307, { location, 'content-length': 0 });
        res.end();
        return;
      }
      if (method === 'GET' && (rest.startsWith('manifests/') || rest === 'tags/list')) return forwardKnown(req, res, map.up(repo, rest, url.search), record, repo, rest);
      return forward(req, res, map.up(repo, rest, url.search), record, rest);
    }
    forward(req, res, rawPath, record, '');
  };

  /**
   * A read in a repository ECR has (CreateRepository made it) that holds nothing yet: the registry behind, which has
   * never seen the repository, answers 404 NAME_UNKNOWN; ECR answers a manifest 404 MANIFEST_UNKNOWN "Requested image
   * not found" and the tag list 200 with no tags, since the repository exists.
   */
  const forwardKnown = (req: IncomingMessage, res: ServerResponse, path: string, record: (status: number) => void, repo: string, rest: string) => {
    const headers = { ...req.headers };
    delete headers['authorization'];
    const out = httpRequest({ host: upstream.hostname, port: upstream.port, method: 'GET', path, headers }, (up) => {
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => {
        const body = Buffer.concat(chunks);
        if (up.statusCode === 404 && body.includes('NAME_UNKNOWN')) {
          if (rest === 'tags/list') {
            record(200);
            return sendEcrJson(res, 200, { name: repo, tags: [] });
          }
          record(404);
          return sendEcrJson(res, 404, ociError('MANIFEST_UNKNOWN', 'Requested image not found'));
        }
        record(up.statusCode ?? 502);
        if (up.statusCode === 200 && rest === 'tags/list') {
          // ECR does not sort tags (registries.md): the registry behind does; handed back in reverse, so nothing leans on an order.
          // Its name is the repository's as this ECR names it (the upstream's may have the base path before it).
          const doc = JSON.parse(body.toString('utf8')) as { name: string; tags: string[] | null };
          return sendEcrJson(res, 200, { ...doc, name: repo, tags: [...(doc.tags ?? [])].reverse() }, up.headers['link'] === undefined ? {} : { link: map.header(String(up.headers['link'])) });
        }
        const answer = (up.statusCode ?? 502) >= 400 ? map.body(body) : body;
        res.writeHead(up.statusCode ?? 502, up.headers['content-length'] === undefined ? up.headers : { ...up.headers, 'content-length': String(answer.length) });
        res.end(answer);
      });
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  };

  const server = createServer((req, res) => void handle(req, res));
  const port = await listen(server);
  s3Port = await listen(s3);
  const close = (s: Server) =>
    new Promise<void>((resolve) => {
      s.closeAllConnections();
      s.close(() => resolve());
    });
  return {
    address: `127.0.0.1:${port}`,
    port,
    s3Address: `127.0.0.1:${s3Port}`,
    requests,
    s3Requests,
    close: async () => {
      await Promise.all([close(server), close(s3)]);
    },
  };
}

export interface EcrWorld {
  /**
   * The registry behind the proxy as this world's repositories are on it, without ECR's behaviour (for reading
   * back what a test pushed): the worker's shared registry, under a base path of this world's own that its
   * answers do not show (upstreamView).
   */
  registry: RunningRegistry;
  standin: EcrStandin;
  proxy: EcrProxy;
  /** `<TEST_ECR_HOST>:<proxy port>`: the ECR host name as users write it, mapped to loopback by `resolve`. */
  host: string;
  /** The `--resolve` value that sends `host` to the proxy. */
  resolve: string;
  /** Connection options of an ECR target here (plain HTTP, resolved to the proxy, the default chain with `home`). */
  connection(home: string): Omit<RegistryConnectionOptions, 'host'>;
}

/**
 * A plain front of `upstream` showing only the repositories under `base`, named without it (BaseMapping): its
 * catalog lists them, reads and writes go to them. No ECR behaviour: what a test reads back through it is what
 * the registry holds.
 */
async function startUpstreamView(upstream: string, base: string): Promise<{ host: string; port: number; url: string; close(): Promise<void> }> {
  const target = new URL(upstream);
  const map = baseMapping(base);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://view');
    const method = req.method ?? 'GET';
    if (url.pathname === '/v2/_catalog') {
      void drain(req).then(async () => {
        const repositories: string[] = [];
        for (let next: string | undefined = '/v2/_catalog?n=1000'; next !== undefined; ) {
          const page = await fetch(new URL(next, upstream));
          repositories.push(...((await page.json()) as { repositories?: string[] }).repositories ?? []);
          next = /<([^>]+)>;\s*rel="next"/.exec(page.headers.get('link') ?? '')?.[1];
        }
        sendJson(res, 200, { repositories: repositories.filter((r) => r.startsWith(`${base}/`)).map((r) => r.slice(base.length + 1)) });
      }).catch(() => res.destroy());
      return;
    }
    const m = REPO_PATH_RE.exec(url.pathname);
    const rest = m?.[2] ?? '';
    const path = m === null ? `${url.pathname}${url.search}` : map.up(m[1] ?? '', rest, url.search);
    const out = httpRequest({ host: target.hostname, port: target.port, method, path, headers: req.headers }, (up) => relay(up, res, map, namesRepository(method, rest, up.statusCode ?? 502)));
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  const port = await listen(server);
  return {
    host: `127.0.0.1:${port}`,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * An ECR as tests reach it, torn down with `stack`: a real registry behind the ECR-like proxy, the ECR API
 * stand-in, and the real AWS SDK given fake credentials (`accessKeyId`) through the environment. The registry
 * is the worker's shared one (support/registry.ts sharedRegistry), this world's repositories under a base path
 * of its own that neither the proxy's answers nor `registry` (upstreamView) show: a registry start less per world.
 */
export async function startEcrWorld(stack: Stage, accessKeyId: string, standinOptions: EcrStandinOptions = {}): Promise<EcrWorld> {
  stack.defer(useFakeAwsEnvironment(accessKeyId));
  const shared = await sharedRegistry({ auth: 'none' });
  const view = stack.add(await startUpstreamView(shared.url, shared.base));
  const registry: RunningRegistry = { ...shared, host: view.host, port: view.port, url: view.url };
  const standin = stack.add(await startEcrStandin(standinOptions));
  const proxy = stack.add(await startEcrProxy({ upstream: shared.url, base: shared.base, standin }));
  const host = `${TEST_ECR_HOST}:${proxy.port}`;
  const resolve = `${host}:127.0.0.1`;
  const connection = (home: string): Omit<RegistryConnectionOptions, 'host'> => ({
    plainHttp: true,
    resolve: [resolve],
    ecrEndpoint: standin.url,
    credentials: defaultCredentialChain({ env: { HOME: home }, ecrEndpoint: standin.url }),
    env: { HOME: home },
    retry: { attempts: 2 },
  });
  return { registry, standin, proxy, host, resolve, connection };
}

/** An ECR world (startEcrWorld) with a temp folder holding the pack `hello:1.0.0`, a run's env() and the CLI flags of a base path. */
export interface EcrPackWorld extends EcrWorld {
  root: string;
  pack: string;
  /** The environment a run gets: its own HOME and Docker config, a fixed SOURCE_DATE_EPOCH. */
  env(): Record<string, string>;
  /** `--registry <host>/<base>` with the flags that reach this world (resolve, plain HTTP, the ECR API stand-in). */
  args(base: string): string[];
}

export async function startEcrPackWorld(stack: Stage, accessKeyId: string, standinOptions: EcrStandinOptions = {}): Promise<EcrPackWorld> {
  const root = await stack.tempDir('packpub-ecr-');
  const pack = await writePack(join(root, 'hello-1.0.0'), { name: 'hello', version: '1.0.0' });
  const world = await startEcrWorld(stack, accessKeyId, standinOptions);
  return {
    ...world,
    root,
    pack,
    env: () => ({ HOME: join(root, 'home'), DOCKER_CONFIG: join(root, 'docker'), SOURCE_DATE_EPOCH: '1700000000' }),
    args: (base) => ['--registry', `${world.host}/${base}`, '--resolve', world.resolve, '--plain-http', '--ecr-endpoint', world.standin.url],
  };
}
