import { readNamedFileSync } from '../util/fs.js';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { createRequire } from 'node:module';
import { isIP, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { SecureContext } from 'node:tls';
import type { Agent as UndiciAgent, Dispatcher, Pool as UndiciPool, buildConnector as Connector } from 'undici';
import { PackpubError, errorMessage } from '../errors.js';
import { isLoopbackHost, shown } from '../oci/reference.js';
import { RegistryError, errorFromNetwork, isClientCertificateAlert, plainHttpFlags, systemErrorCode, unreachableHandedOut } from './errors.js';
import { redactUrl } from '../util/redact.js';
import { ResolveMap } from './host-overrides.js';
import { makeSecureContext } from '../net/secure-context.js';
import { ProxyError, proxyConnectFailure, proxyRefusal, proxySettings, tunnelIfProxied, urlPort, type ProxySettings } from '../net/proxy.js';
import { Agent, Pool, buildConnector, refuseWithoutWebAssembly, request } from './undici.js';
import { checkExtraHeaders, loadClientIdentity } from './registry-only.js';
import { RETRY_DEFAULTS } from './retry.js';
import type { RegistryClientOptions, TlsSettingNames } from './stack.js';
import { resumeParserAtEnd } from './paused-parser.js';
import { readPastUnaskedContinue } from './unasked-continue.js';

/*
 * The HTTP layer every registry call goes through: one pooled keep-alive undici Agent per run, TLS
 * verification on by default, redirects followed by hand so credentials never cross to another origin
 * (ECR blob GETs redirect to presigned S3 URLs, where an Authorization header makes S3 answer 400).
 * Bodies stream both ways. Auth and retries are layers above (./auth/session.ts, ./retry.ts).
 */

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A request body: bytes in memory, or a factory of fresh streams so retries can replay it. */
export type RequestBody = Buffer | { open: () => Readable; length: number };

export interface HttpRequest {
  method: HttpMethod;
  url: URL;
  /** Header names in any case; `authorization` is dropped on a redirect to another origin. */
  headers?: Record<string, string>;
  body?: RequestBody;
  /**
   * Follow redirects (default: for GET and HEAD only). A write (PUT, POST, PATCH, DELETE) follows only 307 and 308,
   * which keep the method and the body (RFC 9110 15.4.8, 15.4.9); a 301, 302 or 303 would make it a GET, whose
   * answer says nothing about the write: such an answer is returned as it is.
   */
  followRedirects?: boolean;
  signal?: AbortSignal;
  /** Attempt number for the debug trace (1 = first). */
  attempt?: number;
}

export interface HttpResponse {
  status: number;
  /** Lowercase header names, as undici gives them. */
  headers: Record<string, string | string[] | undefined>;
  /** Final URL, after redirects. */
  url: URL;
  /** The body as a stream; consume or destroy it. */
  body: Readable;
  /** Set by a retrying transport: an earlier attempt of this request may have been acted on (retry.ts mayHaveActed). */
  earlierMayHaveActed?: boolean;
}

export interface HttpTransport {
  /** `http` or `https` for the registry host, decided once from the options. */
  readonly scheme: 'http' | 'https';
  /** True when the user asked for plain HTTP (not the loopback default): credentials may then travel unencrypted. */
  readonly plainHttpExplicit: boolean;
  readonly requestTimeoutMs: number;
  /** `scheme://host` for a registry host. */
  origin(host: string): string;
  request(req: HttpRequest): Promise<HttpResponse>;
  /** Close pooled connections (waits briefly for in-flight requests, then destroys). */
  close(): Promise<void>;
}

/**
 * A layer over another transport (auth, retry): same scheme, origin and timeouts, closed with it. Layers
 * implement `request` and stack in any order.
 */
export abstract class TransportLayer implements HttpTransport {
  constructor(protected readonly inner: HttpTransport) {}

  get scheme(): 'http' | 'https' {
    return this.inner.scheme;
  }
  get plainHttpExplicit(): boolean {
    return this.inner.plainHttpExplicit;
  }
  get requestTimeoutMs(): number {
    return this.inner.requestTimeoutMs;
  }
  origin(host: string): string {
    return this.inner.origin(host);
  }
  abstract request(req: HttpRequest): Promise<HttpResponse>;
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** One header value; repeated headers are joined with ", " (RFC 9110 5.3). */
export function getHeader(res: Pick<HttpResponse, 'headers'>, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(', ') : v;
}

/**
 * The digest an answer names in `Docker-Content-Digest`, or undefined when it names none. A proxy that adds the
 * header the registry already sent (or folds two copies into one line) repeats one value: that value. Differing
 * values come back joined, which no digest check accepts.
 */
export function digestHeader(res: Pick<HttpResponse, 'headers'>): string | undefined {
  const v = res.headers['docker-content-digest'];
  if (v === undefined) return undefined;
  const values = new Set((Array.isArray(v) ? v : [v]).flatMap((one) => one.split(',')).map((one) => one.trim()));
  values.delete('');
  return values.size === 1 ? [...values][0] : [...values].join(', ');
}

/** How long a body nobody reads may take to arrive before its connection is dropped instead. */
const DISCARD_TIMEOUT_MS = 1_000;

/** Read and drop a body we do not need, so the connection goes back to the pool. */
export async function discardBody(res: HttpResponse): Promise<void> {
  const body = res.body as Readable & { dump?: (opts?: { limit?: number; signal?: AbortSignal }) => Promise<void> };
  try {
    // Bounded in time too: an answer dripping in a byte at a time never trips the per-chunk timeout. An answer
    // that has no body (204, 304: RFC 9112 6.3) cannot drip, and needs no timer (one per unchanged pack's look-up).
    if (typeof body.dump !== 'function') body.destroy();
    else if (res.status === 204 || res.status === 304) await body.dump({ limit: 0 });
    else {
      // A plain timer that drops the connection, as the AbortSignal.timeout it replaces did on expiry: that signal
      // cost an AbortSignal, a listener and a weak registration per discarded body (every HEAD: issue 16).
      const timer = setTimeout(() => body.destroy(), DISCARD_TIMEOUT_MS);
      timer.unref();
      try {
        await body.dump({ limit: 256 * 1024 });
      } finally {
        clearTimeout(timer);
      }
    }
  } catch {
    // a broken body of a response we discard does not matter
  }
}

/** A copy of a response whose body is the given bytes (for bodies already read to decide something). */
export function withBufferedBody<T extends HttpResponse>(res: T, bytes: Buffer): T {
  return { ...res, body: Readable.from(bytes.length === 0 ? [] : [bytes]) };
}

/** Errors of the connection to an HTTP_PROXY itself (a plain-HTTP request sent to it): about the proxy, not the registry. */
const PROXY_CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EHOSTUNREACH', 'ENETUNREACH', 'EPROTO', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID']);

/** A proxy's failure as the registry stack's error (RegistryError: its retry layer reads `retryable`). */
function fromProxy(err: ProxyError, method: HttpMethod, url: URL): RegistryError {
  return new RegistryError(err.code as 'NETWORK' | 'TLS', err.message, { method, url, retryable: err.retryable, ...(err.hint === undefined ? {} : { hint: err.hint }), cause: err });
}

/** How long close() waits for requests still in flight before it gives them up. */
const CLOSE_GRACE_MS = 2_000;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;
/** Headers that carry credentials; never forwarded to another origin. */
const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'cookie'];

export interface TransportOptions {
  host: string;
  plainHttp?: boolean | undefined;
  caFile?: string | undefined;
  insecure?: boolean | undefined;
  resolve?: readonly string[] | undefined;
  /** mTLS: PEM client certificate and key, presented only to `host`. */
  certFile?: string | undefined;
  keyFile?: string | undefined;
  /** Extra headers sent only to `host` (checked: no names packpub owns). */
  headers?: Readonly<Record<string, string>> | undefined;
  /** Where the TLS files were given, for messages (default the flags). */
  settingNames?: TlsSettingNames | undefined;
  requestTimeoutMs?: number | undefined;
  userAgent?: string | undefined;
  debug?: ((line: string) => void) | undefined;
  /** Where HTTPS_PROXY / HTTP_PROXY / NO_PROXY are read from (net/proxy.ts); default process.env. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
}

/**
 * Node's TLS modules, loaded only when a CA file is read here (undici loads them itself for its first HTTPS
 * connection): a run against a plain-HTTP registry never compiles them. Loaded after the CLI set its V8
 * flags, they compiled without Node's code cache, about 1 % of an unchanged re-run's instructions (issue 16).
 */
const load = createRequire(import.meta.url);

/** Node's limit on an answer's headers, http.maxHeaderSize, when no --max-http-header-size sets another (Node's docs: 16 KiB). */
export const NODE_DEFAULT_MAX_HEADER_SIZE = 16 * 1024;

/**
 * The header limit the transport gives undici: Node's (http.maxHeaderSize), when it is certainly the default:
 * neither the command line nor NODE_OPTIONS names --max-http-header-size (Node takes `_` for `-` in option
 * names). Otherwise undefined: undici reads http.maxHeaderSize itself. Given, undici need not load Node's HTTP
 * module for it (the CLI bundle's undici reads it only then: scripts/build-cli.mjs; issue 16).
 */
export function defaultHeaderLimit(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env['NODE_OPTIONS'] ?? ''): number | undefined {
  return [...execArgv, nodeOptions].some((arg) => /max[-_]http[-_]header[-_]size/.test(arg)) ? undefined : NODE_DEFAULT_MAX_HEADER_SIZE;
}

/** The certificates of NODE_EXTRA_CA_CERTS (undefined: none), read once per process (nodeExtraCaCerts). */
let extraCaCerts: { pem: string | undefined } | undefined;

/**
 * The certificates the user added to Node's trust store with NODE_EXTRA_CA_CERTS, read as Node reads them:
 * the PEM file the variable names, read once per process. A file that cannot be read is left out with one
 * warning and the run goes on, as Node does with it (Node leaves out what in it is not a certificate, and so
 * does `ca`).
 */
function nodeExtraCaCerts(): string | undefined {
  if (extraCaCerts === undefined) {
    const file = process.env['NODE_EXTRA_CA_CERTS'];
    let pem: string | undefined;
    if (file !== undefined && file !== '') {
      try {
        pem = readNamedFileSync(file);
      } catch (err) {
        process.emitWarning(`cannot read NODE_EXTRA_CA_CERTS ${file}: ${errorMessage(err)}; a CA file given to packpub is trusted besides Node's bundled roots only`, { code: 'PACKPUB_EXTRA_CA_CERTS' });
      }
    }
    extraCaCerts = { pem };
  }
  return extraCaCerts.pem;
}

/**
 * The trust store for a CA file given with `flag`: Node's bundled roots, the certificates of
 * NODE_EXTRA_CA_CERTS and the file's certificates. Refused (USAGE) when the file cannot be read or holds no
 * PEM certificate, before any connection: Node would silently ignore a file that is not PEM.
 */
export function loadCaFile(caFile: string, flag = '--ca-file', signed = 'the registry certificate'): string[] {
  let pem: string;
  try {
    pem = readNamedFileSync(caFile);
  } catch (err) {
    throw new PackpubError('USAGE', `cannot read ${flag} ${caFile}: ${errorMessage(err)}`, {
      hint: `give the path of a PEM file holding the CA certificate(s) that signed ${signed}`,
    });
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new PackpubError('USAGE', `${flag} ${caFile} holds no PEM certificate`, {
      hint: 'the file must contain "-----BEGIN CERTIFICATE-----" blocks',
    });
  }
  // Node's `ca` replaces its whole default trust store, NODE_EXTRA_CA_CERTS's certificates too (rootCertificates
  // holds only the bundled roots): keep both and add the private CA.
  const extra = nodeExtraCaCerts();
  return [...(load('node:tls') as typeof import('node:tls')).rootCertificates, ...(extra === undefined ? [] : [extra]), pem];
}

export { makeSecureContext, type SecureContextParts } from '../net/secure-context.js';

/** A host name without IPv6 brackets, lowercase. */
function bare(hostname: string): string {
  return hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

/** A `lookup` that answers one fixed address, in both shapes net.connect may ask for. */
function fixedLookup(address: string) {
  const family = isIP(address) === 6 ? 6 : 4;
  return (
    _hostname: string,
    options: LookupOptions,
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    if (options.all === true) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

/** A redirect to another address that could not be reached (blob storage, a CDN, an internal host behind a firewall). */
function redirectUnreachable(from: URL, to: URL, err: unknown): unknown {
  if (to.origin === from.origin) return err;
  return unreachableHandedOut(
    err,
    `${from.host} redirected to ${to.host}, which packpub could not reach`,
    'the registry (or a proxy in front of it) redirects to an address this machine cannot reach (blob storage, a CDN, an internal host): let this machine reach it (firewall, proxy, DNS), or report it to the registry owner',
  );
}

class UndiciTransport implements HttpTransport {
  readonly scheme: 'http' | 'https';
  readonly plainHttpExplicit: boolean;
  readonly requestTimeoutMs: number;
  private readonly agent: UndiciAgent;
  /**
   * The connection pools the agent made (one per origin), kept to destroy them in close(): undici's Agent forgets
   * its pools as soon as a graceful close begins, so its own destroy after that reaches none.
   */
  private readonly pools = new Set<UndiciPool>();
  private readonly userAgent: string;
  private readonly debug: ((line: string) => void) | undefined;
  /** `scheme://host[:port]` of the registry: the only origin that gets the extra headers. */
  private readonly registryOrigin: string;
  private readonly extraHeaders: Record<string, string>;
  /** Whether `extraHeaders` names any header (-H/--header): most runs give none. */
  private readonly hasExtraHeaders: boolean;
  private readonly clientCertificate: boolean;
  /** The plain-HTTP flag of this host, for hints (settingNames.plainHttp). */
  private readonly plainHttpFlag: string | undefined;
  /** Origins that answered a request in this run: a refused connection there later is a restart, retried (errorFromNetwork). */
  private readonly answered = new Set<string>();
  /**
   * The last TLS alert about the client certificate, by `host:port`. With TLS 1.3 the server checks the
   * client certificate after the client's handshake is done, so undici reports only "other side closed";
   * the alert itself is an 'error' on the socket, seen here.
   */
  private readonly certificateAlerts = new Map<string, Error>();
  /** HTTPS_PROXY / HTTP_PROXY / NO_PROXY as read when the transport was made (net/proxy.ts). */
  private readonly proxies: ProxySettings;
  /** The CA file given, as the user named it, for a certificate it did not verify (errorFromNetwork). */
  private readonly caFileGiven: { setting: string; file: string } | undefined;

  constructor(options: TransportOptions) {
    refuseWithoutWebAssembly();
    this.scheme = (options.plainHttp ?? isLoopbackHost(options.host)) ? 'http' : 'https';
    this.plainHttpExplicit = options.plainHttp === true;
    this.requestTimeoutMs = options.requestTimeoutMs ?? RETRY_DEFAULTS.requestTimeoutMs;
    if (!(this.requestTimeoutMs > 0)) {
      throw new PackpubError('USAGE', `request timeout must be positive, got ${this.requestTimeoutMs} ms`);
    }
    this.userAgent = options.userAgent ?? 'packpub';
    this.debug = options.debug;
    const registry = new URL(this.origin(options.host));
    this.registryOrigin = registry.origin;
    this.extraHeaders = options.headers === undefined ? {} : checkExtraHeaders(options.headers);
    this.hasExtraHeaders = Object.keys(this.extraHeaders).length > 0;
    const names = options.settingNames ?? {};
    this.plainHttpFlag = names.plainHttp;
    const identity = loadClientIdentity(options.certFile, options.keyFile, names);
    if (identity !== undefined && this.scheme === 'http') {
      throw new PackpubError('USAGE', `${names.certFile ?? '--cert-file'} needs HTTPS, and ${options.host} is reached over plain HTTP`, {
        hint: isLoopbackHost(options.host) ? `pass ${plainHttpFlags(names.plainHttp).off} (loopback hosts default to plain HTTP)` : `drop ${plainHttpFlags(names.plainHttp).on}`,
      });
    }
    this.clientCertificate = identity !== undefined;
    const registryHost = bare(registry.hostname);
    const registryPort = Number(registry.port) || 443;
    // A proxy that cannot be used for the registry (SOCKS, no host) is refused now, before any request.
    const proxies = (this.proxies = proxySettings(options.env));
    proxies.routeFor(registry.protocol, registryHost, urlPort(registry));

    // Read and checked now (a bad file is refused before any request); made into a context on the first HTTPS connection.
    const ca = options.caFile === undefined ? undefined : loadCaFile(options.caFile, names.caFile);
    this.caFileGiven = options.caFile === undefined ? undefined : { setting: names.caFile ?? plainHttpFlags(names.plainHttp).caFile, file: options.caFile };
    const tlsOptions = {
      rejectUnauthorized: options.insecure !== true,
      timeout: Math.min(this.requestTimeoutMs, 30_000),
    };
    // The secure contexts of this transport, with and without the client certificate, each looked up once (the
    // process shares one among transports given the same files: see makeSecureContext). Its connectors, and so its
    // TLS sessions, are its own.
    const contexts = new Map<boolean, SecureContext>();
    const contextFor = (clientCert: boolean): SecureContext | undefined => {
      if (ca === undefined && !clientCert) return undefined;
      let context = contexts.get(clientCert);
      if (context === undefined) {
        context = makeSecureContext({ ca, ...(clientCert && identity !== undefined ? identity : {}) });
        contexts.set(clientCert, context);
      }
      return context;
    };
    const resolveMap = new ResolveMap(options.resolve ?? []);
    // One connector per (mapped address, client certificate or not, HTTPS or not), made on first use.
    const connectors = new Map<string, Connector.connector>();
    const connectorFor = (address: string | undefined, clientCert: boolean, https: boolean): Connector.connector => {
      const key = `${address ?? ''}|${clientCert}|${https}`;
      let connector = connectors.get(key);
      if (connector === undefined) {
        const secureContext = https ? contextFor(clientCert) : undefined;
        connector = buildConnector({
          ...tlsOptions,
          ...(address === undefined ? {} : { lookup: fixedLookup(address) }),
          ...(secureContext === undefined ? {} : { secureContext }),
        });
        connectors.set(key, connector);
      }
      return connector;
    };
    const connect: Connector.connector = (opts, done) => {
      const https = opts.protocol === 'https:';
      const port = Number(opts.port) || (https ? 443 : 80);
      const hostname = bare(opts.hostname);
      const callback: Connector.Callback = (...args) => {
        const [err, socket] = args;
        if (err === null && socket !== null) {
          socket.on('error', (e: Error) => {
            if (isClientCertificateAlert(systemErrorCode(e))) this.certificateAlerts.set(`${hostname}:${port}`, e);
          });
          // Before undici's own listener: an end while the body's backpressure paused the parser crashed undici 7.
          resumeParserAtEnd(socket);
          // An unasked 100 Continue before an answer (a proxy's): undici 7 drops the connection on it.
          readPastUnaskedContinue(socket, this.debug);
        }
        done(...args);
      };
      // The client certificate goes to the registry's host:port only (not a token service, not a redirect target).
      const clientCert = identity !== undefined && hostname === registryHost && port === registryPort;
      // curl-style --resolve: same host name (so SNI, certificate check and Host header stay), other address.
      const address = resolveMap.size === 0 ? undefined : resolveMap.lookup(opts.hostname, port);
      if (address !== undefined && isIP(hostname) !== 0) {
        // an IP literal is never looked up: connect to the mapped address directly
        connectorFor(undefined, clientCert, https)({ ...opts, hostname: address }, callback);
        return;
      }
      // Through the proxy the environment names (HTTPS_PROXY), unless NO_PROXY or a loopback host says otherwise: a
      // CONNECT tunnel, and TLS with the registry on top of it (undici's connector takes the tunnel as `httpSocket`).
      // --resolve does not apply there: the proxy resolves the name. Plain-HTTP requests go to an HTTP_PROXY as
      // requests of their own (once()), so a connection over plain HTTP is never tunnelled here.
      // (An https:// proxy is trusted as the registry is, without the client certificate.)
      const tunnel = () => ({ timeoutMs: tlsOptions.timeout, secureContext: contextFor(false) });
      if (https && proxies.any && tunnelIfProxied(proxies, hostname, port, tunnel(), (httpSocket) => connectorFor(undefined, clientCert, true)({ ...opts, httpSocket: httpSocket as Socket }, callback), (err) => callback(err, null), (route) => this.debug?.(`CONNECT ${hostname}:${port} through the proxy ${route.shown}`))) return;
      // To an https:// HTTP_PROXY: undici names the server by the request's Host (the registry); the proxy's own name
      // is the one its certificate holds ('' lets undici take it from the proxy's host, none for an IP).
      connectorFor(address, clientCert, https)(https && proxies.any && proxies.carries(hostname, port) ? { ...opts, servername: '' } : opts, callback);
    };
    const pools = this.pools;
    const headerLimit = defaultHeaderLimit();
    this.agent = new Agent({
      // The Agent's default factory for more than one connection per origin, keeping each pool (close()).
      factory: (origin, opts) => {
        for (const pool of pools) if (pool.destroyed) pools.delete(pool);
        const pool = new Pool(origin, opts);
        pools.add(pool);
        return pool;
      },
      connect,
      ...(headerLimit === undefined ? {} : { maxHeaderSize: headerLimit }),
      keepAliveTimeout: 10_000,
      keepAliveMaxTimeout: 60_000,
      headersTimeout: this.requestTimeoutMs,
      bodyTimeout: this.requestTimeoutMs,
      connections: 32,
    });
  }

  origin(host: string): string {
    return `${this.scheme}://${host}`;
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    // Bodies are read as sent: a digest is of the bytes themselves, and without this header any coding is acceptable (RFC 9110 12.5.3).
    const headers: Record<string, string> = { 'user-agent': this.userAgent, 'accept-encoding': 'identity' };
    const given = req.headers;
    if (given !== undefined) for (const k in given) headers[k.toLowerCase()] = given[k]!;
    const method = req.method;
    let url = req.url;
    const body = req.body;
    const read = method === 'GET' || method === 'HEAD';
    const follow = req.followRedirects ?? read;
    for (let hop = 0; ; hop++) {
      const res =
        hop === 0 ? await this.once(method, url, headers, body, req.signal, req.attempt) : await this.once(method, url, headers, body, req.signal, req.attempt).catch((err: unknown) => {
          throw redirectUnreachable(req.url, url, err);
        });
      const location = getHeader(res, 'location');
      if (!follow || !REDIRECT_STATUSES.has(res.status) || location === undefined) return res;
      if (!read && res.status !== 307 && res.status !== 308) return res;
      await discardBody(res);
      if (hop >= MAX_REDIRECTS) {
        throw new PackpubError('REGISTRY', `too many redirects (more than ${MAX_REDIRECTS}) from ${redactUrl(req.url)}`);
      }
      let next: URL;
      try {
        next = new URL(location, url);
      } catch (err) {
        throw new PackpubError('REGISTRY', `${url.host} redirected to an invalid URL`, { cause: err });
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        throw new PackpubError('REGISTRY', `${url.host} redirected to an unsupported URL scheme ${next.protocol}`);
      }
      // Credentials belong to the origin they were issued for (sigstore-js habit; ECR -> S3).
      if (next.origin !== url.origin) for (const h of CREDENTIAL_HEADERS) delete headers[h];
      // The same method and body on every hop: a read stays a read (a 303 to a GET or HEAD changes nothing), and a
      // write follows only 307 and 308 (above). A body from `open` is opened afresh for each hop (once()).
      url = next;
    }
  }

  private async once(
    method: HttpMethod,
    url: URL,
    headers: Record<string, string>,
    body: RequestBody | undefined,
    signal: AbortSignal | undefined,
    attempt: number | undefined,
  ): Promise<HttpResponse> {
    const started = this.debug === undefined ? 0 : Date.now();
    const origin = url.origin;
    const sized = body !== undefined || method === 'POST' || method === 'PUT' || method === 'PATCH';
    // Extra headers go to the registry's origin only; the names packpub sets are refused in them. `headers` is
    // request()'s own copy, changed only between hops (undici reads it when the request is made): sent as it is
    // when nothing is added to it (a manifest read or HEAD without -H: issue 16).
    let sendHeaders = this.hasExtraHeaders && origin === this.registryOrigin ? { ...headers, ...this.extraHeaders } : sized ? { ...headers } : headers;
    // A plain-HTTP request through HTTP_PROXY goes to the proxy, in absolute form (RFC 9112 3.2.2), as Go sends it.
    const via = this.proxies.any && url.protocol === 'http:' ? this.proxies.routeFor('http:', url.hostname, urlPort(url)) : undefined;
    if (via !== undefined) sendHeaders = { ...sendHeaders, host: url.host, ...(via.authorization === undefined ? {} : { 'proxy-authorization': via.authorization }) };
    let payload: Buffer | Readable | undefined;
    if (body === undefined) {
      if (sized) sendHeaders['content-length'] = '0';
    } else if (Buffer.isBuffer(body)) {
      payload = body;
      sendHeaders['content-length'] = String(body.length);
    } else {
      payload = body.open();
      sendHeaders['content-length'] = String(body.length);
    }
    const trace = (outcome: string) => {
      if (this.debug === undefined) return;
      const retry = attempt !== undefined && attempt > 1 ? ` (attempt ${attempt})` : '';
      this.debug(`${method} ${redactUrl(url)} -> ${outcome} ${Date.now() - started}ms${retry}${via === undefined ? '' : ` via the proxy ${via.shown}`}`);
    };
    const path = url.search === '' ? url.pathname : url.pathname + url.search;
    const options: Dispatcher.RequestOptions = {
      origin: via === undefined ? origin : via.origin,
      path: via === undefined ? path : `${url.protocol}//${url.host}${path}`,
      method,
      headers: sendHeaders,
      body: payload ?? null,
      signal: signal ?? null,
    };
    // undici closes the connection after every HEAD unless told otherwise (in case a server sends a
    // body anyway); registries answer HEAD without one, and a new connection per existence check
    // cost more than the check (one TCP connect per HEAD: 1,100 per 220-pack publish).
    if (method === 'HEAD') options.reset = false;
    // undici starts its headers timeout again at each interim answer (1xx): a server (or proxy) sending a `103 Early
    // Hints` now and then, never the answer, held the request for ever, whatever the timeouts. Interim answers get
    // the request timeout from the request on, no more: an error thrown from onInfo aborts the request (undici's
    // Request.onHeaders), and so does the handler's abort when no further 1xx comes to throw it.
    const timeoutMs = this.requestTimeoutMs;
    const sentAt = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const overdue = () =>
      new RegistryError('NETWORK', `timed out waiting for ${url.host}: it sent only interim answers (HTTP 1xx) to ${method} ${redactUrl(url)} for ${timeoutMs / 1000} s, never the answer`, {
        method,
        url,
        retryable: true,
        hint: 'the registry or a proxy in front of it holds the answer back; try again, and report it to the registry owner if it persists',
      });
    options.onInfo = function (this: { abort?: ((err: Error) => void) | null } | undefined) {
      const left = timeoutMs - (Date.now() - sentAt);
      if (left <= 0) throw overdue();
      const abort = this?.abort;
      if (timer === undefined && typeof abort === 'function') {
        timer = setTimeout(() => abort(overdue()), left);
        timer.unref();
      }
    };
    let res: Dispatcher.ResponseData;
    try {
      res = await request(this.agent, options);
    } catch (err) {
      clearTimeout(timer);
      if (payload instanceof Readable) payload.destroy();
      const code = (err as { code?: string }).code;
      if (code === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH') {
        trace('error body length mismatch');
        throw new PackpubError('DIGEST_MISMATCH', `the ${method} body to ${url.host} was not the ${sendHeaders['content-length']} bytes announced`, {
          hint: 'the file changed while it was being uploaded; build and push again',
          cause: err,
        });
      }
      // The proxy's own failures (a tunnel refused, a proxy that is down): named as such, retried when they may pass.
      const proxyFailure = err instanceof ProxyError ? err : via !== undefined && PROXY_CONNECT_CODES.has(systemErrorCode(err) ?? '') ? proxyConnectFailure(via, url.host, err) : undefined;
      if (proxyFailure !== undefined) {
        trace(`error proxy ${code ?? proxyFailure.code}`);
        throw fromProxy(proxyFailure, method, url);
      }
      const alertKey = `${bare(url.hostname)}:${Number(url.port) || 443}`;
      const alert = this.certificateAlerts.get(alertKey);
      this.certificateAlerts.delete(alertKey);
      const own = url.origin === this.registryOrigin && this.clientCertificate;
      const mapped = errorFromNetwork(alert ?? err, { method, url, clientCertificate: own, plainHttpFlag: this.plainHttpFlag, answeredBefore: this.answered.has(origin), caFile: this.caFileGiven, tunnelledThrough: this.tunnelFor(url) });
      trace(`error ${code ?? mapped.code}`);
      throw mapped;
    }
    clearTimeout(timer);
    if (this.debug !== undefined) trace(String(res.statusCode));
    if (via !== undefined && res.statusCode === 407) {
      await discardBody({ status: 407, headers: res.headers, url, body: res.body });
      throw fromProxy(proxyRefusal(via, url.host, 407, 'Proxy Authentication Required', false), method, url);
    }
    this.answered.add(origin);
    return { status: res.statusCode, headers: res.headers, url, body: res.body };
  }

  /** The proxy an HTTPS request to `url` is tunnelled through (net/proxy.ts), as messages name it; undefined when direct. */
  private tunnelFor(url: URL): string | undefined {
    if (!this.proxies.any || url.protocol !== 'https:') return undefined;
    try {
      return this.proxies.routeFor('https:', bare(url.hostname), urlPort(url))?.shown;
    } catch {
      return undefined;
    }
  }

  /**
   * Close the pooled connections: requests still in flight get a short grace, then are given up (they fail with
   * undici's "client is destroyed", which is not retried). Before, the destroy after the grace reached no pool
   * (undici's Agent drops them when its close begins) and such a request went on until --request-timeout: a run
   * that gave up (a signal, --palette-timeout) still waited for it.
   */
  async close(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const graceful = this.agent.close().then(() => true);
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), CLOSE_GRACE_MS);
      timer.unref();
    });
    const closed = await Promise.race([graceful, timeout]).catch(() => false);
    clearTimeout(timer);
    if (closed) return;
    await Promise.all([...this.pools].map((pool) => pool.destroy().catch(() => undefined)));
    this.pools.clear();
    await this.agent.destroy().catch(() => undefined);
  }
}

/**
 * The content coding an answer names other than identity (`gzip`, `x-gzip`), cut for messages; undefined when none.
 * packpub asks for every body as it is (Accept-Encoding: identity) and takes it as sent: Apache httpd labels a gzip
 * file it serves unchanged `Content-Encoding: x-gzip` (a pack layer), so the content decides (its digest, or JSON).
 */
export function contentCoding(res: Pick<HttpResponse, 'headers'>): string | undefined {
  const coding = res.headers['content-encoding'];
  if (coding === undefined || /^\s*(identity)?\s*$/i.test(String(coding))) return undefined;
  return shown(String(coding).slice(0, 40));
}

/** A body read as no JSON while the answer named a coding: compressed on the way, whatever packpub asked for. */
export function encodedAnswerError(res: Pick<HttpResponse, 'url'>, coding: string, method = 'GET'): PackpubError {
  return new PackpubError('REGISTRY', `${res.url.host} answered ${method} ${redactUrl(res.url)} encoded (Content-Encoding: ${coding}), though packpub asks for it as it is (Accept-Encoding: identity)`, {
    hint: 'a proxy in front of the registry compresses its answers regardless: turn that off for the registry, or report it to its owner',
  });
}

/** The transport for one run against `options.host` (one pooled Agent; reuse it for every request). */
export function createHttpTransport(options: RegistryClientOptions | TransportOptions): HttpTransport {
  const retry = 'retry' in options ? options.retry : undefined;
  return new UndiciTransport({
    host: options.host,
    plainHttp: options.plainHttp,
    caFile: options.caFile,
    insecure: options.insecure,
    resolve: options.resolve,
    certFile: options.certFile,
    keyFile: options.keyFile,
    headers: options.headers,
    settingNames: options.settingNames,
    requestTimeoutMs: 'requestTimeoutMs' in options ? options.requestTimeoutMs : retry?.requestTimeoutMs,
    userAgent: options.userAgent,
    debug: options.debug,
    env: options.env,
  });
}
