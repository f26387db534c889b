import { Agent as HttpsAgent, type AgentOptions } from 'node:https';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type SecureContext } from 'node:tls';
import type { Duplex } from 'node:stream';
import { makeSecureContext } from './secure-context.js';
import { proxyConnectFailure, proxyError, proxyRefusal, tunnelIfProxied, type ProxyError, type ProxyRoute, type ProxySettings } from './proxy.js';

/*
 * A tunnel through a forward proxy (HTTP CONNECT, RFC 9110 9.3.6): a connection to the proxy (over TLS for an
 * https:// proxy), `CONNECT host:port`, and on a 2xx the connection is the target's, for TLS to the target on top.
 * Loaded only when a request goes through a proxy (net/proxy.ts decides): a run without one loads neither this
 * module nor Node's TLS for it.
 */

/** The most a proxy's answer to CONNECT may hold before its blank line (as Node's header limit). */
const MAX_ANSWER_HEAD = 16 * 1024;

export interface TunnelOptions {
  /** How long connecting to the proxy and its answer to CONNECT may take. */
  timeoutMs: number;
  /** For an https:// proxy: the trust store (a CA file's context) and whether its certificate is checked. */
  secureContext?: SecureContext | undefined;
  rejectUnauthorized?: boolean | undefined;
}

/** `host:port` as CONNECT and Host take it (an IPv6 address in brackets). */
function authority(hostname: string, port: number): string {
  return `${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`;
}

/** Opens a tunnel to `hostname`:`port` through `route`: the socket, connected to the target once it resolves. */
export function openTunnel(route: ProxyRoute, hostname: string, port: number, options: TunnelOptions): Promise<Duplex> {
  const target = authority(hostname, port);
  return new Promise<Duplex>((resolve, reject) => {
    let socket: Socket;
    if (route.protocol === 'https:') {
      const tlsOptions: ConnectionOptions = {
        host: route.hostname,
        port: route.port,
        ALPNProtocols: ['http/1.1'],
        rejectUnauthorized: options.rejectUnauthorized !== false,
        ...(options.secureContext === undefined ? {} : { secureContext: options.secureContext }),
      };
      // SNI is for names only (RFC 6066 3).
      if (!/^[\d.]+$/.test(route.hostname) && !route.hostname.includes(':')) tlsOptions.servername = route.hostname;
      socket = tlsConnect(tlsOptions);
    } else {
      socket = netConnect({ host: route.hostname, port: route.port });
    }
    let settled = false;
    /**
     * The answer to CONNECT, once it is sent, must be whole within the timeout: the socket's idle timeout alone was put
     * off by every byte, so a proxy sending interim answers without end, or its head a byte at a time, held the tunnel,
     * and the run, for ever (no retry deadline reaches a connection being made).
     */
    let answerTimer: NodeJS.Timeout | undefined;
    let interims = 0;
    const fail = (err: ProxyError) => {
      clearTimeout(answerTimer);
      if (settled) return;
      settled = true;
      socket.destroy();
      reject(err);
    };
    const seconds = Math.round(options.timeoutMs / 100) / 10;
    const late = () =>
      fail(
        interims > 0
          ? proxyError(route, target, `sent only interim answers (HTTP 1xx) to CONNECT for ${seconds} s, never its answer`, { retryable: true })
          : proxyError(route, target, `did not answer CONNECT within ${seconds} s`, { retryable: true }),
      );
    socket.setTimeout(options.timeoutMs, late);
    socket.once('error', (err) => fail(proxyConnectFailure(route, target, err)));
    socket.once('close', () => fail(proxyError(route, target, 'closed the connection before answering CONNECT', { retryable: true })));
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      let head = Buffer.concat(chunks, size);
      let blank: RegExpExecArray | null;
      let status: RegExpExecArray | null;
      for (;;) {
        // The blank line ends the answer; a bare LF ends a line too, as Go's and curl's readers take it.
        blank = /\r?\n\r?\n/.exec(head.toString('latin1'));
        if (blank === null) {
          if (head.length > MAX_ANSWER_HEAD) fail(proxyError(route, target, `answered CONNECT with more than ${MAX_ANSWER_HEAD >> 10} KiB of headers`));
          // What is left of the answer after the interim ones read past, kept for the next piece.
          chunks.length = 0;
          chunks.push(head);
          size = head.length;
          return;
        }
        const statusLine = head.subarray(0, head.indexOf('\n')).toString('latin1').replace(/\r$/, '');
        status = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine);
        if (status === null) {
          socket.off('data', onData);
          fail(proxyError(route, target, `answered CONNECT with something that is not HTTP (${JSON.stringify(statusLine.slice(0, 60))})`, { hint: `check ${route.variable} names an HTTP proxy` }));
          return;
        }
        // An interim answer (100 Continue, 103 ...) before the answer: read past, as a client must (RFC 9110 15.2).
        // It was taken for a refusal ("answered CONNECT 100 Continue").
        const interim = Number(status[1]);
        if (interim < 100 || interim > 199 || interim === 101) break;
        interims++;
        head = head.subarray(blank.index + blank[0].length);
      }
      socket.off('data', onData);
      const code = Number(status[1]);
      if (code < 200 || code > 299) {
        fail(proxyRefusal(route, target, code, status[2] ?? ''));
        return;
      }
      settled = true;
      clearTimeout(answerTimer);
      socket.setTimeout(0);
      socket.removeAllListeners('timeout');
      socket.removeAllListeners('error');
      socket.removeAllListeners('close');
      const rest = head.subarray(blank.index + blank[0].length);
      if (rest.length > 0) socket.unshift(rest);
      resolve(socket);
    };
    const ready = () => {
      answerTimer = setTimeout(late, options.timeoutMs);
      socket.on('data', onData);
      const lines = [`CONNECT ${target} HTTP/1.1`, `Host: ${target}`];
      if (route.authorization !== undefined) lines.push(`Proxy-Authorization: ${route.authorization}`);
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    };
    socket.once(route.protocol === 'https:' ? 'secureConnect' : 'connect', ready);
  });
}

/**
 * An https.Agent for the AWS SDK's NodeHttpHandler whose connections go through the proxy the environment
 * names for their host (and directly where NO_PROXY or loopback says so). The SDK reads no proxy variable
 * itself; its handler takes any https.Agent. Node's Agent waits for the callback when createConnection
 * returns nothing (http's Agent.createSocket), so the tunnel is opened asynchronously. A `ca` among `options`
 * is the trust store of every TLS connection the agent makes: to the API (direct, or inside the tunnel) and to
 * an https:// proxy itself.
 */
export function tunnellingHttpsAgent(settings: ProxySettings, timeoutMs: number, options: Omit<AgentOptions, 'ca'> & { ca?: string[] } = {}): HttpsAgent {
  // A trust store is made into one secure context, handed to every connection (the API's, direct or tunnelled, and
  // an https:// proxy's): given as `ca`, Node would parse the whole store again for each connection (~50 ms). The
  // process's context for that trust store (net/secure-context.ts), as the registry transport's: each run's agent
  // made its own again (~50 ms for the public roots a CA file's store holds), for a library user each operation's.
  const { ca, ...rest } = options;
  const secureContext: SecureContext | undefined = ca === undefined ? undefined : makeSecureContext({ ca });
  // As the SDK's own agent (NodeHttpHandler: keep-alive, at most 50 sockets per host), so a proxy changes no limit.
  const agent = new HttpsAgent({ keepAlive: true, maxSockets: 50, ...rest, ...(secureContext === undefined ? {} : { secureContext }) });
  const direct = agent.createConnection.bind(agent);
  const tunnelOptions = (): TunnelOptions => ({ timeoutMs, ...(secureContext === undefined ? {} : { secureContext }) });
  agent.createConnection = (connectOptions, callback) => {
    const host = connectOptions.host ?? connectOptions.hostname ?? 'localhost';
    const port = Number(connectOptions.port) || 443;
    const done = (err: Error | null, socket?: Duplex) => callback?.(err, socket as Duplex);
    const tunnelled = tunnelIfProxied(
      settings,
      host,
      port,
      tunnelOptions(),
      (socket) => done(null, tlsConnect({ ...(connectOptions as ConnectionOptions), socket, ...(connectOptions.servername == null && isIP(host) === 0 ? { servername: host } : {}) })),
      done,
    );
    return tunnelled ? undefined : direct(connectOptions, callback);
  };
  return agent;
}
