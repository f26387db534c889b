import { BlockList, isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { domainToASCII } from 'node:url';
import { PackpubError } from '../errors.js';
import { redactUrl, registerSecret } from '../util/redact.js';
import type { TunnelOptions } from './proxy-tunnel.js';

/*
 * Forward proxies from the environment, read as Go's net/http reads them (ProxyFromEnvironment, i.e.
 * golang.org/x/net/http/httpproxy FromEnvironment + ProxyFunc), so a CI runner that reaches its registries
 * through a proxy for ORAS and the aws CLI reaches them the same way with packpub:
 * - HTTPS_PROXY (else https_proxy) for https:// requests, HTTP_PROXY (else http_proxy) for http:// ones; the
 *   upper-case name wins when both are set and not empty. Under CGI (REQUEST_METHOD set) HTTP_PROXY is refused,
 *   as Go refuses it (a client of the CGI script can set it: golang.org/s/cgihttpproxy).
 * - NO_PROXY (else no_proxy): a comma list of `*` (no proxy at all), IP addresses and CIDR blocks, host names
 *   (`example.com` is that name and every name under it; `.example.com` and `*.example.com` only the names
 *   under it), each optionally with `:port` (then only that port).
 * - localhost and loopback addresses (127.0.0.0/8, ::1) are never sent through a proxy.
 * - A value without a scheme (`proxy.corp:3128`) is read as http://; `https://` proxies are spoken to over TLS.
 *   Where Go would read some other scheme as a host name (`ftp://x` becomes host "ftp"), packpub refuses it, and
 *   refuses socks5:// (which Go supports): packpub speaks HTTP CONNECT only. A refusal comes only when a request
 *   would go through that proxy: a SOCKS proxy set for the runner does not end runs against loopback registries.
 * - User info in the proxy URL (`http://user:pass@proxy:3128`) is sent as `Proxy-Authorization: Basic`; the
 *   password is registered as a secret (redacted in every message) and proxies are named without it.
 * This module only reads settings (it is loaded with every HTTP client); the tunnel itself is proxy-tunnel.ts,
 * loaded when a request goes through a proxy.
 */

/** A proxy a request goes through. */
export interface ProxyRoute {
  /** `http:` or `https:`: how the proxy itself is spoken to. */
  protocol: 'http:' | 'https:';
  /** The proxy's host name (IPv6 without brackets) and port. */
  hostname: string;
  port: number;
  /** `http[s]://host:port` of the proxy, with no user info: an undici origin. */
  origin: string;
  /** The variable it came from (`HTTPS_PROXY`, `http_proxy`...). */
  variable: string;
  /** The proxy as messages name it: `host:port (VARIABLE)`, never with its user info. */
  shown: string;
  /** `Basic ...` for Proxy-Authorization, when the URL has user info. */
  authorization: string | undefined;
}

/** The proxy settings of one environment. */
export interface ProxySettings {
  /** True when HTTPS_PROXY or HTTP_PROXY (either case) is set: without it no request can go through a proxy. */
  readonly any: boolean;
  /**
   * The proxy for a request to `hostname`:`port` over `protocol` (`http:` / `https:`), or undefined to connect
   * directly. Throws (USAGE) when the proxy that applies cannot be used (SOCKS, an unknown scheme, no host).
   */
  routeFor(protocol: string, hostname: string, port: number): ProxyRoute | undefined;
  /**
   * True when `hostname`:`port` is an https:// HTTP_PROXY: a TLS connection there is to the proxy itself (plain-HTTP
   * requests in absolute form), direct, with the proxy's name for SNI and its certificate's check.
   */
  carries(hostname: string, port: number): boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

function firstSet(env: Env, names: readonly string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== '') return { name, value };
  }
  return undefined;
}

/** A host name (or IP) without brackets, lowercase, in ASCII (IDNA). */
function canonicalHost(host: string): string {
  const bare = host.trim().replace(/^\[(.*)\]$/, '$1').toLowerCase();
  // An IPv6 address in its one short form (2001:0db8::0001 is 2001:db8::1), as Go compares IPs by value.
  if (isIP(bare) === 6) return new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  if (isIP(bare) !== 0 || /^[\x00-\x7f]*$/.test(bare)) return bare;
  const ascii = domainToASCII(bare);
  return ascii === '' ? bare : ascii;
}

function isLoopback(hostname: string): boolean {
  if (hostname === 'localhost') return true;
  const family = isIP(hostname);
  if (family === 4) return hostname.startsWith('127.');
  if (family === 6) return loopback6().check(hostname, 'ipv6');
  return false;
}
/**
 * ::1 and the IPv4-mapped loopback block, made on first use: a BlockList loads two of Node's internal modules,
 * which a run without proxy variables (every unchanged re-run) must not compile (test/e2e/rerun-builtins.test.ts).
 */
let loopbackBlocks: BlockList | undefined;
function loopback6(): BlockList {
  if (loopbackBlocks === undefined) {
    loopbackBlocks = new BlockList();
    loopbackBlocks.addAddress('::1', 'ipv6');
    loopbackBlocks.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');
  }
  return loopbackBlocks;
}

interface NoProxy {
  all: boolean;
  /** Addresses and CIDR blocks (with no port). */
  blocks: BlockList;
  /** Addresses with a port: `address|port`. */
  ipPorts: Set<string>;
  /** Domain entries: `.suffix`, whether the bare name matches too, the port ('' for any). */
  domains: Array<{ suffix: string; bare: boolean; port: string }>;
}

/** Splits `host:port` / `[v6]:port` as Go's net.SplitHostPort does; undefined when it is not one. */
function splitHostPort(entry: string): { host: string; port: string } | undefined {
  const v6 = /^\[([^\]]*)\]:([^:]*)$/.exec(entry);
  if (v6 !== null) return { host: v6[1]!, port: v6[2]! };
  const colon = entry.indexOf(':');
  if (colon === -1 || entry.indexOf(':', colon + 1) !== -1) return undefined;
  return { host: entry.slice(0, colon), port: entry.slice(colon + 1) };
}

function parseNoProxy(value: string): NoProxy {
  const rules: NoProxy = { all: false, blocks: new BlockList(), ipPorts: new Set(), domains: [] };
  for (const raw of value.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') {
      rules.all = true;
      break;
    }
    const cidr = /^([^/]+)\/(\d{1,3})$/.exec(entry);
    if (cidr !== null) {
      const family = isIP(cidr[1]!);
      const prefix = Number(cidr[2]);
      if (family !== 0 && prefix <= (family === 4 ? 32 : 128)) {
        rules.blocks.addSubnet(cidr[1]!, prefix, family === 4 ? 'ipv4' : 'ipv6');
        continue;
      }
    }
    const split = splitHostPort(entry);
    let host = entry;
    let port = '';
    if (split !== undefined) {
      if (split.host === '') continue;
      host = split.host.replace(/^\[(.*)\]$/, '$1');
      port = split.port;
    }
    const family = isIP(host);
    if (family !== 0) {
      if (port === '') rules.blocks.addAddress(host, family === 4 ? 'ipv4' : 'ipv6');
      else rules.ipPorts.add(`${canonicalHost(host)}|${port}`);
      continue;
    }
    if (host === '') continue;
    if (host.startsWith('*.')) host = host.slice(1);
    const bare = !host.startsWith('.');
    rules.domains.push({ suffix: canonicalHost(bare ? `.${host}` : host), bare, port });
  }
  return rules;
}

function bypassed(rules: NoProxy, hostname: string, port: string): boolean {
  if (rules.all) return true;
  const family = isIP(hostname);
  if (family !== 0) {
    if (rules.blocks.check(hostname, family === 4 ? 'ipv4' : 'ipv6')) return true;
    if (rules.ipPorts.has(`${hostname}|${port}`)) return true;
  }
  return rules.domains.some((d) => (hostname.endsWith(d.suffix) || (d.bare && hostname === d.suffix.slice(1))) && (d.port === '' || d.port === port));
}

/**
 * User info's percent-escapes decoded to the bytes they stand for, as Go's url.Unescape does (a `%ff` is the byte,
 * not an error); undefined for a `%` not followed by two hex digits, which Go refuses.
 */
function percentDecoded(text: string): Buffer | undefined {
  if (/%(?![\da-f]{2})/i.test(text)) return undefined;
  return Buffer.from(text.replace(/%([\da-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1');
}

/** A proxy variable's value read into a route, or a refusal to throw when it is used. */
function parseProxy(name: string, value: string): ProxyRoute | PackpubError {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1]?.toLowerCase();
  const shownValue = (() => {
    try {
      return redactUrl(new URL(scheme === undefined ? `http://${value}` : value)).replace(/\/$/, '');
    } catch {
      // Not shown: a value that is no URL may still hold the proxy's password (was "((unreadable))" in the message).
      return 'its value not shown: it may hold a password';
    }
  })();
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') {
    const socks = scheme.startsWith('socks');
    return new PackpubError('USAGE', `${name} names a ${socks ? 'SOCKS' : `${scheme}://`} proxy (${shownValue}), which packpub cannot use: it speaks to HTTP and HTTPS proxies only`, {
      hint: `give ${name} an http:// or https:// proxy (HTTP CONNECT), or list the registry's host in NO_PROXY to connect directly`,
    });
  }
  let url: URL;
  try {
    url = new URL(scheme === undefined ? `http://${value}` : value);
  } catch {
    return new PackpubError('USAGE', `${name} is not a proxy URL (${shownValue})`, { hint: `give ${name} as http://HOST:PORT (or https://, with user:password@ for a proxy that asks for credentials)` });
  }
  if (url.hostname === '') {
    return new PackpubError('USAGE', `${name} names no proxy host (${shownValue})`, { hint: `give ${name} as http://HOST:PORT` });
  }
  const protocol = url.protocol as 'http:' | 'https:';
  const port = Number(url.port) || (protocol === 'https:' ? 443 : 80);
  const hostname = canonicalHost(url.hostname);
  let authorization: string | undefined;
  if (url.username !== '' || url.password !== '') {
    const user = percentDecoded(url.username);
    const password = percentDecoded(url.password);
    registerSecret(url.password);
    if (user === undefined || password === undefined) {
      // Go's url.Parse refuses it too ("invalid URL escape"): a lone % is not sent as it stands.
      return new PackpubError('USAGE', `${name} is not a proxy URL (${shownValue}): its user or password has a % not followed by two hex digits`, {
        hint: `percent-encode special characters in ${name}'s USER:PASSWORD@ (% as %25, @ as %40, : as %3A)`,
      });
    }
    registerSecret(password.toString('utf8'));
    authorization = `Basic ${Buffer.concat([user, Buffer.from(':'), password]).toString('base64')}`;
    registerSecret(authorization.slice(6));
  }
  const origin = `${protocol}//${url.host}`;
  // Named by host and port only: a URL in a message would be rewritten by redaction, and its user info is no one's business.
  return { protocol, hostname, port, origin, variable: name, shown: `${url.host} (${name}${protocol === 'https:' ? ', over TLS' : ''})`, authorization };
}

/**
 * The proxy settings of `env` (default the process's), read now. A run reads them once per HTTP client; an
 * environment without HTTPS_PROXY and HTTP_PROXY costs nothing more.
 */
export function proxySettings(env: Env = process.env): ProxySettings {
  const https = firstSet(env, ['HTTPS_PROXY', 'https_proxy']);
  const http = firstSet(env, ['HTTP_PROXY', 'http_proxy']);
  if (https === undefined && http === undefined) return NO_PROXY_SETTINGS;
  const cgi = (env['REQUEST_METHOD'] ?? '') !== '';
  const noProxy = parseNoProxy(firstSet(env, ['NO_PROXY', 'no_proxy'])?.value ?? '');
  const parsed = new Map<string, ProxyRoute | PackpubError>();
  const parse = (set: { name: string; value: string }) => {
    let route = parsed.get(set.name);
    if (route === undefined) parsed.set(set.name, (route = parseProxy(set.name, set.value)));
    return route;
  };
  const carries = (hostname: string, port: number): boolean => {
    if (http === undefined || cgi) return false;
    const carrier = parse(http);
    return !(carrier instanceof PackpubError) && carrier.protocol === 'https:' && carrier.hostname === canonicalHost(hostname) && carrier.port === port;
  };
  return {
    any: true,
    carries,
    routeFor(protocol, hostname, port) {
      const set = protocol === 'https:' ? https : protocol === 'http:' ? http : undefined;
      if (set === undefined) return undefined;
      const host = canonicalHost(hostname);
      if (isLoopback(host) || bypassed(noProxy, host, String(port))) return undefined;
      // The TLS connection to an https:// HTTP_PROXY (carrying a plain-HTTP request) is the proxy's own: never
      // tunnelled through HTTPS_PROXY, which is most often that same proxy (Go dials a proxy directly).
      if (protocol === 'https:' && carries(host, port)) return undefined;
      if (protocol === 'http:' && cgi) {
        throw new PackpubError('USAGE', `refusing to use ${set.name} where REQUEST_METHOD is set (a CGI environment, where a client can set it)`, {
          hint: 'unset REQUEST_METHOD, or list the host in NO_PROXY (Go refuses it the same way: golang.org/s/cgihttpproxy)',
        });
      }
      const route = parse(set);
      if (route instanceof PackpubError) throw route;
      return route;
    },
  };
}

const NO_PROXY_SETTINGS: ProxySettings = { any: false, routeFor: () => undefined, carries: () => false };

/**
 * The request handler options the AWS SDK clients get (NodeHttpHandler's `httpsAgent`) so their HTTPS calls follow
 * HTTPS_PROXY / NO_PROXY as the registry's do (the SDK reads no proxy variable itself), and trust what the
 * registry's connections trust: `ca`, the trust store of the target's --ca-file (Node's roots, NODE_EXTRA_CA_CERTS's
 * certificates and the file's), for the connection to an https:// proxy and for the API's TLS, direct or inside
 * the tunnel (a TLS-intercepting proxy signs it with the CA the file holds). Undefined when no proxy variable is set
 * and no `ca` given (the SDK's own handler, and proxy-tunnel.ts is not loaded). `timeoutMs` bounds the tunnel's setup.
 */
export async function awsRequestHandler(timeoutMs: number, env: Env = process.env, ca?: readonly string[]): Promise<{ httpsAgent: import('node:https').Agent } | undefined> {
  const proxies = proxySettings(env);
  if (!proxies.any && ca === undefined) return undefined;
  const { tunnellingHttpsAgent } = await import('./proxy-tunnel.js');
  return { httpsAgent: tunnellingHttpsAgent(proxies, Math.min(timeoutMs, 30_000), ca === undefined ? {} : { ca: [...ca] }) };
}

/**
 * Where the environment names a proxy for `https://hostname:port`: opens a CONNECT tunnel through it (loading
 * proxy-tunnel.ts then) and hands it to `then` (or the error to `fail`), and answers true; false when the
 * connection goes directly. For undici connectors, which take the tunnel as `httpSocket` for TLS on top.
 */
export function tunnelIfProxied(
  proxies: ProxySettings,
  hostname: string,
  port: number,
  options: TunnelOptions,
  then: (tunnel: Duplex) => void,
  fail: (err: Error) => void,
  /** Told which proxy the tunnel goes through (a --debug line). */
  onRoute?: (route: ProxyRoute) => void,
): boolean {
  if (!proxies.any) return false;
  let route: ProxyRoute | undefined;
  try {
    route = proxies.routeFor('https:', hostname, port);
  } catch (err) {
    fail(err as Error);
    return true;
  }
  if (route === undefined) return false;
  onRoute?.(route);
  const through = route;
  import('./proxy-tunnel.js').then(({ openTunnel }) => openTunnel(through, hostname, port, options)).then(then, fail);
  return true;
}

/** The default port of a URL's scheme when it names none. */
export function urlPort(url: URL): number {
  return Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
}

/**
 * An error about the proxy on the way to a host (NETWORK or TLS), naming the proxy without its password. `retryable`:
 * whether another attempt may go through (a reset, a 502 to CONNECT); the registry transport turns it into its
 * RegistryError, the other clients take it as it is.
 */
export class ProxyError extends PackpubError {
  readonly retryable: boolean;

  constructor(code: 'NETWORK' | 'TLS', message: string, options: { retryable: boolean; hint: string; cause?: unknown }) {
    super(code, message, { hint: options.hint, ...(options.cause === undefined ? {} : { cause: options.cause }) });
    this.name = 'ProxyError';
    this.retryable = options.retryable;
  }
}

/** A ProxyError about `route` on the way to `target` (`host:port`). */
export function proxyError(route: ProxyRoute, target: string, what: string, init: { retryable?: boolean; hint?: string; cause?: unknown; code?: 'NETWORK' | 'TLS' } = {}): ProxyError {
  return new ProxyError(init.code ?? 'NETWORK', `the proxy ${route.shown} ${what} (on the way to ${target})`, {
    retryable: init.retryable ?? false,
    hint: init.hint ?? `check ${route.variable} (is the proxy running, and does it let this machine through?); NO_PROXY lists hosts packpub reaches directly`,
    ...(init.cause === undefined ? {} : { cause: init.cause }),
  });
}

/** The error code of a Node error, or of its cause. */
function codeOf(err: unknown): string | undefined {
  for (let e = err, depth = 0; typeof e === 'object' && e !== null && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** A failed connection to the proxy, in a message's words, and whether trying again may help. */
export function proxyConnectFailure(route: ProxyRoute, target: string, err: unknown): ProxyError {
  const code = codeOf(err);
  if (code !== undefined && /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(code)) {
    return proxyError(route, target, `has a TLS certificate packpub could not verify (${code})`, {
      code: 'TLS',
      hint: `trust the CA that signed the proxy's certificate (NODE_EXTRA_CA_CERTS, or the --ca-file given for the registry), or give ${route.variable} as http:// if the proxy speaks plain HTTP`,
      cause: err,
    });
  }
  if (code === 'ECONNREFUSED') return proxyError(route, target, 'refused the connection', { cause: err });
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') {
    return proxyError(route, target, `cannot be found: its host name ${route.hostname} does not resolve (${code})`, { retryable: code === 'EAI_AGAIN', cause: err });
  }
  if (code === 'ECONNRESET' || code === 'EPIPE') return proxyError(route, target, 'closed the connection before answering', { retryable: true, cause: err });
  if (code === 'EPROTO' || /wrong version number|packet length too long/i.test(String((err as Error | undefined)?.message))) {
    return proxyError(route, target, 'did not answer with TLS', { hint: `give ${route.variable} as http:// (a proxy URL's scheme is how packpub speaks to the proxy itself, not to the registry)`, cause: err });
  }
  return proxyError(route, target, `could not be reached (${code ?? (err instanceof Error ? err.message : String(err))})`, { retryable: true, cause: err });
}


/**
 * A proxy's refusal: a 407 (credentials missing or refused), or another status than 2xx to CONNECT (retried
 * when a 502, 503 or 504: the proxy could not reach the target, or is overloaded). `connect`: the refusal of a
 * tunnel; else the proxy's answer to a request it forwards (a plain-HTTP registry), where only a 407 is its own.
 */
export function proxyRefusal(route: ProxyRoute, target: string, status: number, reasonPhrase: string, connect = true): ProxyError {
  const reason = reasonPhrase.replace(/[^\x20-\x7e]/g, '').slice(0, 80);
  const answered = `${connect ? 'CONNECT ' : ''}${status}${reason === '' ? '' : ` ${reason}`}`;
  if (status === 407) {
    return route.authorization === undefined
      ? proxyError(route, target, `asks for credentials (answered ${answered})`, {
          hint: `put them in ${route.variable} before the proxy's host, as USER:PASSWORD@ (percent-encode special characters)`,
        })
      : proxyError(route, target, `refused the credentials in ${route.variable} (answered ${answered})`, {
          hint: `check the user and password in ${route.variable} (percent-encode special characters); packpub sends them as Basic credentials`,
        });
  }
  return proxyError(route, target, `refused to open a tunnel (answered ${answered})`, {
    retryable: status === 502 || status === 503 || status === 504,
    hint: `the proxy could not reach ${target} or does not let it through: ask its owner to allow CONNECT to that host and port, or list the host in NO_PROXY if this machine reaches it directly`,
  });
}
