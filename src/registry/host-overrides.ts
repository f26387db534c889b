import { PackpubError } from '../errors.js';

/** One curl-style `--resolve HOST:PORT:ADDRESS` entry. */
export interface ResolveEntry {
  /** Lowercase host name, IPv6 without brackets. */
  host: string;
  port: number;
  /** IP address to connect to instead; IPv6 without brackets. */
  address: string;
}

function bad(spec: string, why: string): never {
  throw new PackpubError('USAGE', `--resolve "${spec}" is not HOST:PORT:ADDRESS: ${why}`, {
    hint: 'e.g. --resolve 123456789012.dkr.ecr.us-east-1.amazonaws.com:443:127.0.0.1',
  });
}

/** Parse `HOST:PORT:ADDRESS` (curl's syntax; IPv6 in brackets: `[::1]:5000:[::1]` or a bare `::1` address). */
export function parseResolveEntry(spec: string): ResolveEntry {
  const m = /^(\[[^\]]+\]|[^:[\]]+):(\d+):(.+)$/.exec(spec.trim());
  if (m === null) bad(spec, 'expected three colon-separated parts');
  const [, rawHost = '', rawPort = '', rawAddress = ''] = m;
  const port = Number(rawPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) bad(spec, `port ${rawPort} is out of range`);
  const address = rawAddress.replace(/^\[(.*)\]$/, '$1');
  // node:net loaded only for a --resolve entry: every command that takes target flags loads this file (issue 16).
  if (process.getBuiltinModule('node:net').isIP(address) === 0) bad(spec, `"${rawAddress}" is not an IP address`);
  return { host: rawHost.replace(/^\[(.*)\]$/, '$1').toLowerCase(), port, address };
}

/** Lookup table `host:port` -> address. Host names are compared without brackets, lowercased. */
export class ResolveMap {
  private readonly entries = new Map<string, string>();

  constructor(specs: readonly string[] = []) {
    for (const spec of specs) {
      const e = parseResolveEntry(spec);
      const key = `${e.host}:${e.port}`;
      const earlier = this.entries.get(key);
      // Two addresses for one HOST:PORT: the last was used without a word (curl takes the first).
      if (earlier !== undefined && earlier !== e.address) {
        throw new PackpubError('USAGE', `--resolve gives ${key} two addresses, ${earlier} and ${e.address}`, { hint: 'give one --resolve per HOST:PORT (packpub does not pick one of several for you)' });
      }
      this.entries.set(key, e.address);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  lookup(hostname: string, port: number): string | undefined {
    return this.entries.get(`${hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase()}:${port}`);
  }
}
