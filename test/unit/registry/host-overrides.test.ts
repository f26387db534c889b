import { describe, expect, it } from 'vitest';
import { parseResolveEntry, ResolveMap } from '../../../src/registry/host-overrides.js';

describe('--resolve HOST:PORT:ADDRESS', () => {
  it.each([
    ['123456789012.dkr.ecr.us-east-1.amazonaws.com:443:127.0.0.1', { host: '123456789012.dkr.ecr.us-east-1.amazonaws.com', port: 443, address: '127.0.0.1' }],
    ['Harbor.Example.com:8443:10.0.0.5', { host: 'harbor.example.com', port: 8443, address: '10.0.0.5' }],
    ['registry.test:5000:[::1]', { host: 'registry.test', port: 5000, address: '::1' }],
    ['registry.test:5000:::1', { host: 'registry.test', port: 5000, address: '::1' }],
    ['[::1]:5000:127.0.0.1', { host: '::1', port: 5000, address: '127.0.0.1' }],
  ])('%s', (spec, expected) => {
    expect(parseResolveEntry(spec)).toEqual(expected);
  });

  it.each(['registry.test:5000', 'registry.test:port:127.0.0.1', 'registry.test:70000:127.0.0.1', 'registry.test:443:', ':443:127.0.0.1'])(
    'rejects %j with a usage error',
    (spec) => {
      expect(() => parseResolveEntry(spec)).toThrow(/--resolve .* is not HOST:PORT:ADDRESS/);
    },
  );

  it('looks up by host and port, case-insensitively', () => {
    const map = new ResolveMap(['a.example:443:127.0.0.1', 'a.example:5000:127.0.0.2']);
    expect(map.lookup('A.example', 443)).toBe('127.0.0.1');
    expect(map.lookup('a.example', 5000)).toBe('127.0.0.2');
    expect(map.lookup('a.example', 80)).toBeUndefined();
    expect(map.lookup('b.example', 443)).toBeUndefined();
  });
});

describe('--resolve given twice for one HOST:PORT', () => {
  it('refuses two addresses (was: the last one used without a word); the same one twice is one entry', () => {
    expect(() => new ResolveMap(['r.example:443:10.0.0.1', 'R.example:443:10.0.0.2'])).toThrow(expect.objectContaining({ code: 'USAGE', message: '--resolve gives r.example:443 two addresses, 10.0.0.1 and 10.0.0.2' }));
    const same = new ResolveMap(['r.example:443:10.0.0.1', 'r.example:443:10.0.0.1', 'r.example:5000:10.0.0.2']);
    expect([same.size, same.lookup('r.example', 443), same.lookup('r.example', 5000)]).toEqual([2, '10.0.0.1', '10.0.0.2']);
  });
});

describe('--resolve addresses', () => {
  it('must be IP addresses', () => {
    expect(() => parseResolveEntry('a.example:443:other.example')).toThrow(/is not an IP address/);
  });
});
