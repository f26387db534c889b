import { readNamedFileSync } from '../util/fs.js';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { PackpubError, errorMessage } from '../errors.js';
import { registerSecret } from '../util/redact.js';

/*
 * What the user gives for the registry host and nothing else: the mTLS client certificate
 * (--cert-file / --key-file) and extra headers (-H/--header). The transport presents both only on
 * connections and requests to the registry's own host:port, never to a token service elsewhere or across
 * a redirect to another host (blob storage), the same origin rule as credentials.
 */

/** A client certificate chain and its key, read and checked. */
export interface ClientIdentity {
  /** PEM certificate (chain) and private key, as given. */
  cert: string;
  key: string;
}

function readPem(flag: string, file: string, what: string): string {
  try {
    return readNamedFileSync(file);
  } catch (err) {
    throw new PackpubError('USAGE', `cannot read ${flag} ${file}: ${errorMessage(err)}`, {
      hint: `give the path of a PEM file (${what})`,
    });
  }
}

/**
 * Read and check `certFile` and `keyFile` before any network work: both or neither, a PEM certificate,
 * an unencrypted PEM private key, and the key belongs to the certificate. Messages name the files, never
 * their contents, and each setting as the user gave it (`names`: a copy side's flag, a packpub.yaml key).
 */
export function loadClientIdentity(certFile: string | undefined, keyFile: string | undefined, names: { certFile?: string; keyFile?: string } = {}): ClientIdentity | undefined {
  const certName = names.certFile ?? '--cert-file';
  const keyName = names.keyFile ?? '--key-file';
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    throw new PackpubError('USAGE', certFile === undefined ? `${keyName} needs ${certName}` : `${certName} needs ${keyName}`, {
      hint: `a client certificate is given as two PEM files: ${certName} CERT ${keyName} KEY`,
    });
  }
  const cert = readPem(certName, certFile, 'the client certificate');
  let x509: X509Certificate;
  try {
    if (!cert.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no PEM certificate');
    x509 = new X509Certificate(cert);
  } catch {
    throw new PackpubError('USAGE', `${certName} ${certFile} holds no PEM certificate`, {
      hint: 'the file must contain a "-----BEGIN CERTIFICATE-----" block (the client certificate first, then any intermediates)',
    });
  }
  const keyText = readPem(keyName, keyFile, `the private key of ${certName}`);
  let key: KeyObject;
  try {
    // Never show the parser's message: it is about the file's contents.
    key = createPrivateKey(keyText);
  } catch {
    throw new PackpubError('USAGE', `${keyName} ${keyFile} holds no unencrypted PEM private key`, {
      hint: /ENCRYPTED/.test(keyText)
        ? 'the key is encrypted; decrypt it first (openssl pkey -in KEY -out KEY.plain) and keep the result private'
        : 'the file must contain a "-----BEGIN PRIVATE KEY-----" (or RSA / EC PRIVATE KEY) block',
    });
  }
  if (!x509.checkPrivateKey(key)) {
    throw new PackpubError('USAGE', `${keyName} ${keyFile} is not the private key of the certificate in ${certName} ${certFile}`, {
      hint: 'give the key the certificate was issued for',
    });
  }
  return { cert, key: keyText };
}

/** RFC 9110 token: the characters a header name may have. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Headers packpub owns, refused in --header: framing and connection headers (the HTTP layer sets them),
 * the ones packpub sets per request (content negotiation, uploads, ranged resumes), and Authorization:
 * credentials go through the credential flags, so that packpub answers the registry's challenge, withholds
 * them over plain HTTP and from other hosts, and keeps them out of every output.
 */
const CONNECTION = { why: 'the HTTP layer manages connections' };
const OWNED: Readonly<Record<string, { why: string; hint?: string }>> = {
  host: { why: 'packpub sets it from the registry address', hint: 'to connect to another address for that name, use --resolve HOST:PORT:ADDRESS' },
  'content-length': { why: 'packpub sets it from the body it sends' },
  'transfer-encoding': { why: 'packpub sets it from the body it sends' },
  connection: CONNECTION,
  'keep-alive': CONNECTION,
  'proxy-connection': CONNECTION,
  upgrade: CONNECTION,
  te: CONNECTION,
  trailer: CONNECTION,
  expect: CONNECTION,
  'content-type': { why: 'packpub sets the media type of what it uploads' },
  accept: { why: 'packpub negotiates manifest media types itself' },
  range: { why: 'packpub sets it to resume downloads' },
  'accept-encoding': { why: 'packpub reads answers as they are sent (identity), to check their digests' },
  authorization: {
    why: 'credentials go through the credential flags',
    hint: 'use --username with --password-stdin, --identity-token-stdin, packpub login or the Docker config: packpub then answers the registry challenge, never sends credentials over plain HTTP or to another host, and keeps them out of every output',
  },
};

/** An extra header as the user gave it: `Name: value`. */
export interface ExtraHeader {
  name: string;
  value: string;
}

/** Parse one `Name: value` (as curl, ORAS and crane take it); `flag` names the option in messages. */
export function parseHeader(text: string, flag = '--header'): ExtraHeader {
  const colon = text.indexOf(':');
  const name = colon < 0 ? '' : text.slice(0, colon);
  // Quote the name only: the value may be a secret.
  if (colon <= 0 || !TOKEN.test(name)) {
    throw new PackpubError('USAGE', `${flag} ${colon <= 0 ? 'is not "Name: value"' : `name "${name.slice(0, 40)}" is not a valid header name`}`, {
      hint: `give it as ${flag} 'X-Name: value' (a name of letters, digits and !#$%&'*+.^_\`|~- then a colon)`,
    });
  }
  const value = text.slice(colon + 1).trim();
  if (value === '') throw new PackpubError('USAGE', `${flag} ${name} has no value`, { hint: `give it as ${flag} '${name}: value'` });
  if (/[\0\r\n]/.test(value)) throw new PackpubError('USAGE', `${flag} ${name}: the value holds a line break or NUL`, { hint: 'a header value is one line' });
  const owned = OWNED[name.toLowerCase()];
  if (owned !== undefined) {
    throw new PackpubError('USAGE', `${flag} ${name} is not accepted: ${owned.why}`, owned.hint === undefined ? {} : { hint: owned.hint });
  }
  return { name, value };
}

/**
 * Header values this long or longer are masked in every output, should a registry echo one back (tokens,
 * API keys). Shorter ones (`1`, `true`, `prod`) are not secrets in practice, and masking them would mask the
 * same word in every message ("*** pack published"). packpub itself never prints a header value.
 */
export const MASKED_HEADER_LENGTH = 8;

/**
 * The extra headers of a run, lowercase name -> value, values of MASKED_HEADER_LENGTH or more registered for
 * redaction. A name given twice is refused (say it once, with the values joined as the registry expects).
 */
export function extraHeaders(texts: readonly string[], flag = '--header'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const text of texts) {
    const { name, value } = parseHeader(text, flag);
    const key = name.toLowerCase();
    if (key in out) throw new PackpubError('USAGE', `${flag} ${name} is given twice`, { hint: 'give each header once' });
    if (value.length >= MASKED_HEADER_LENGTH) registerSecret(value);
    out[key] = value;
  }
  return out;
}

/** Check headers a library caller passes (already split): the same rules as the flag. */
export function checkExtraHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  return extraHeaders(Object.entries(headers).map(([name, value]) => `${name}: ${value}`));
}
