import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { SecureContext } from 'node:tls';

/*
 * TLS secure contexts made once per process for the same material: the registry transport's and the Palette
 * client's (registry/http.ts, palette/client.ts), and the AWS SDK's agent given a CA file (net/proxy-tunnel.ts).
 * node:tls is loaded when the first context is made: a run that makes none (plain HTTP, no CA file) never loads it.
 */

const load = createRequire(import.meta.url);

/** What a TLS secure context is made of: the trust store of a CA file, and a client certificate. */
export interface SecureContextParts {
  ca?: string[] | undefined;
  cert?: string | undefined;
  key?: string | undefined;
}

/** How many secure contexts a process keeps (makeSecureContext): a run needs one or two per target. */
const SECURE_CONTEXTS_KEPT = 8;
/** The secure contexts made in this process, by the digest of what they were made of; the least recently used first. */
const secureContexts = new Map<string, SecureContext>();

/** A digest of exactly what Node is given: each option's name, then each of its strings as UTF-8 bytes, length first. */
function materialKey(options: Readonly<Record<string, string | readonly string[]>>): string {
  const hash = createHash('sha256');
  for (const [name, value] of Object.entries(options)) {
    const strings = typeof value === 'string' ? [value] : value;
    hash.update(`${name}:${strings.length}\n`);
    for (const s of strings) hash.update(`${Buffer.byteLength(s)}\n`).update(s);
  }
  return hash.digest('hex');
}

/**
 * The TLS secure context of `parts`, to hand to every connection (`secureContext`). Given only `ca` / `cert` /
 * `key`, Node makes a context per connection and parses every certificate again: with a CA file that is the
 * ~145 public roots (and NODE_EXTRA_CA_CERTS's, often a whole system bundle), 45-80 ms of CPU per context here,
 * against ~2 ms per connection with one made once (issue 16). The same trust either way; the host name check and
 * SNI are per connection, not in it.
 *
 * Made once per process for the same material, not once per transport: a library user (or a test) running
 * operations one after another in one process paid the trust store again for every run (issue 11). The key is a
 * digest of the very strings Node is given (the trust store with the CA file's text as read for this run, the
 * client certificate and key), so a CA file or key changed on disk between two runs gives another context, and
 * two runs with the same files share one (the digest costs ~0.5 ms). At most SECURE_CONTEXTS_KEPT are kept
 * (least recently used dropped; a dropped one lives on as long as a connection of a live transport holds it), so
 * a kept context holds its client key in the process after the run closed, as Node's own context did until
 * collected.
 *
 * What sharing a context shares, and why that weakens nothing:
 * - What it holds on a client: the trust store, the client certificate and key, protocol defaults. Not a
 *   verdict: the server's certificate is checked per connection (rejectUnauthorized and the host name check
 *   are connection options), and whether a server accepts the client certificate is the server's decision in
 *   each handshake; a context never records that.
 * - Sessions: Node's client resumes a TLS session only when one is passed to tls.connect as `session` (Node's
 *   tls docs, "Session resumption"); the OpenSSL context Node makes keeps no session cache of its own
 *   (SSL_SESS_CACHE_NO_INTERNAL in Node's crypto_context.cc), and `sessionTimeout` / ticket keys are the
 *   server's side. The sessions a client does resume are undici's: each connector (buildConnector) keeps its
 *   own, by server name, and every transport (and Palette client) builds its own connectors, one with and
 *   one without the client certificate. So a run never resumes another run's session, whatever context the
 *   two share: a handshake refused (a client certificate the registry rejects) yields no session at all, and
 *   the next run, with the same certificate or another, makes a full handshake that the server decides anew.
 *   test/integration/registry-tls.test.ts pins both (the shared context, no session carried over).
 */
export function makeSecureContext(parts: SecureContextParts): SecureContext {
  const options = {
    ...(parts.ca === undefined ? {} : { ca: parts.ca }),
    ...(parts.cert === undefined ? {} : { cert: parts.cert }),
    ...(parts.key === undefined ? {} : { key: parts.key }),
  };
  const key = materialKey(options);
  let context = secureContexts.get(key);
  if (context !== undefined) secureContexts.delete(key);
  else {
    context = (load('node:tls') as typeof import('node:tls')).createSecureContext(options);
    if (secureContexts.size >= SECURE_CONTEXTS_KEPT) secureContexts.delete(secureContexts.keys().next().value!);
  }
  secureContexts.set(key, context);
  return context;
}
