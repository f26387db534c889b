import { describe, expect, it } from 'vitest';
import { PackpubError } from '../../../src/errors.js';
import { proxySettings } from '../../../src/net/proxy.js';
import { forgetSecrets, redactText } from '../../../src/util/redact.js';

/*
 * The proxy variables read as golang.org/x/net/http/httpproxy reads them (FromEnvironment, ProxyFunc): which
 * variable, which hosts NO_PROXY leaves out, what a value without a scheme means.
 */

const via = (env: Record<string, string>, url: string) => {
  const u = new URL(url);
  return proxySettings(env).routeFor(u.protocol, u.hostname, Number(u.port) || (u.protocol === 'https:' ? 443 : 80))?.origin;
};

describe('proxy settings from the environment', () => {
  it('HTTPS_PROXY for https, HTTP_PROXY for http; upper case wins over lower case unless empty', () => {
    const env = { HTTPS_PROXY: 'http://s:1', https_proxy: 'http://lower:1', HTTP_PROXY: '', http_proxy: 'http://h:2' };
    expect(via(env, 'https://registry.corp/v2/')).toBe('http://s:1');
    expect(via(env, 'http://registry.corp/v2/')).toBe('http://h:2');
    expect(via({ https_proxy: 'http://lower:1' }, 'https://registry.corp/')).toBe('http://lower:1');
    expect(via({ HTTP_PROXY: 'http://h:2' }, 'https://registry.corp/')).toBeUndefined();
    expect(proxySettings({}).any).toBe(false);
  });

  it('a value without a scheme is http://; an https:// proxy keeps its scheme; the default ports', () => {
    expect(via({ HTTPS_PROXY: 'proxy.corp:3128' }, 'https://r.corp/')).toBe('http://proxy.corp:3128');
    expect(via({ HTTPS_PROXY: 'proxy.corp' }, 'https://r.corp/')).toBe('http://proxy.corp');
    const route = proxySettings({ HTTPS_PROXY: 'https://proxy.corp' }).routeFor('https:', 'r.corp', 443);
    expect(route).toMatchObject({ protocol: 'https:', hostname: 'proxy.corp', port: 443, shown: 'proxy.corp (HTTPS_PROXY, over TLS)' });
  });

  it('localhost and loopback addresses never go through a proxy', () => {
    const env = { HTTPS_PROXY: 'http://p:1', HTTP_PROXY: 'http://p:1' };
    for (const url of ['http://localhost:5000/', 'http://127.0.0.1:5000/', 'http://127.9.8.7/', 'https://[::1]:5000/']) expect(via(env, url), url).toBeUndefined();
    expect(via(env, 'http://10.0.0.1:5000/')).toBe('http://p:1');
  });

  it('NO_PROXY: names and their subdomains, leading dot and *., IPs, CIDRs, ports, and *', () => {
    const env = (noProxy: string) => ({ HTTPS_PROXY: 'http://p:1', NO_PROXY: noProxy });
    const cases: Array<[string, string, boolean]> = [
      ['corp.example', 'https://corp.example/', false],
      ['corp.example', 'https://harbor.corp.example/', false],
      ['corp.example', 'https://notcorp.example/', true],
      ['.corp.example', 'https://corp.example/', true],
      ['.corp.example', 'https://harbor.corp.example/', false],
      ['*.corp.example', 'https://corp.example/', true],
      ['*.corp.example', 'https://a.b.corp.example/', false],
      [' Harbor.Corp.Example ', 'https://harbor.corp.example/', false],
      ['harbor.corp.example:8443', 'https://harbor.corp.example:8443/', false],
      ['harbor.corp.example:8443', 'https://harbor.corp.example/', true],
      ['10.1.2.3', 'https://10.1.2.3:5000/', false],
      ['10.1.2.3:443', 'https://10.1.2.3/', false],
      ['10.1.2.3:443', 'https://10.1.2.3:5000/', true],
      ['10.0.0.0/8', 'https://10.200.0.1/', false],
      ['10.0.0.0/8', 'https://11.0.0.1/', true],
      ['10.0.0.0/8:443', 'https://10.1.1.1/', true],
      ['fd00::/8', 'https://[fd12::1]/', false],
      ['[fd12::1]:443', 'https://[fd12::1]/', false],
      ['[fd12:0::0001]:443', 'https://[fd12::1]/', false],
      ['fd12:0000::1', 'https://[fd12::1]:5000/', false],
      ['a.example, *, b.example', 'https://anything.else/', false],
      ['', 'https://anything.else/', true],
      [',, ,', 'https://anything.else/', true],
    ];
    for (const [noProxy, url, proxied] of cases) expect(via(env(noProxy), url) !== undefined, `NO_PROXY=${noProxy} ${url}`).toBe(proxied);
    expect(via({ HTTPS_PROXY: 'http://p:1', no_proxy: 'corp.example' }, 'https://corp.example/')).toBeUndefined();
  });

  it('user info becomes Proxy-Authorization Basic; the password is a secret and never in the name shown', () => {
    forgetSecrets();
    const route = proxySettings({ HTTPS_PROXY: 'http://ci%40corp:p%3Ass%40w0rd@proxy.corp:3128' }).routeFor('https:', 'r.corp', 443);
    expect(route?.authorization).toBe(`Basic ${Buffer.from('ci@corp:p:ss@w0rd').toString('base64')}`);
    expect(route?.shown).toBe('proxy.corp:3128 (HTTPS_PROXY)');
    expect(route?.origin).toBe('http://proxy.corp:3128');
    expect(redactText('said p:ss@w0rd and p%3Ass%40w0rd')).not.toMatch(/w0rd/);
    forgetSecrets();
  });

  it('a lone % in the user info is refused (USAGE) as Go refuses it, never a crash; %XX is the byte it stands for', () => {
    forgetSecrets();
    let err: unknown;
    try {
      proxySettings({ HTTPS_PROXY: 'http://ci:50%off@proxy.corp:3128' }).routeFor('https:', 'r.corp', 443);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PackpubError);
    expect((err as PackpubError).code).toBe('USAGE');
    expect((err as Error).message).toBe('HTTPS_PROXY is not a proxy URL (http://***@proxy.corp:3128): its user or password has a % not followed by two hex digits');
    expect((err as PackpubError).hint).toMatch(/% as %25/);
    // A value that is no URL is not echoed (it may hold a password), and said so in plain words.
    expect(() => proxySettings({ HTTPS_PROXY: 'http://u:s3cret@proxy.corp:notaport' }).routeFor('https:', 'r.corp', 443)).toThrow(/^HTTPS_PROXY is not a proxy URL \(its value not shown: it may hold a password\)$/);
    const latin1 = proxySettings({ HTTPS_PROXY: 'http://ci:caf%e9@proxy.corp:3128' }).routeFor('https:', 'r.corp', 443);
    expect(latin1?.authorization).toBe(`Basic ${Buffer.from([...Buffer.from('ci:caf'), 0xe9]).toString('base64')}`);
    forgetSecrets();
  });

  it('SOCKS, other schemes, and HTTP_PROXY under CGI are refused (USAGE) only when a request would use them', () => {
    const socks = proxySettings({ HTTPS_PROXY: 'socks5://u:secret-pw@127.0.0.1:1080', NO_PROXY: 'direct.corp' });
    expect(socks.routeFor('https:', '127.0.0.1', 5000)).toBeUndefined();
    expect(socks.routeFor('https:', 'direct.corp', 443)).toBeUndefined();
    let err: unknown;
    try {
      socks.routeFor('https:', 'r.corp', 443);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PackpubError);
    expect((err as PackpubError).code).toBe('USAGE');
    expect((err as Error).message).toBe('HTTPS_PROXY names a SOCKS proxy (socks5://***@127.0.0.1:1080), which packpub cannot use: it speaks to HTTP and HTTPS proxies only');
    expect(() => proxySettings({ HTTPS_PROXY: 'ftp://p:21' }).routeFor('https:', 'r.corp', 443)).toThrow(/names a ftp:\/\/ proxy/);
    expect(() => proxySettings({ HTTP_PROXY: 'http://p:1', REQUEST_METHOD: 'GET' }).routeFor('http:', 'r.corp', 80)).toThrow(/REQUEST_METHOD is set/);
    expect(proxySettings({ HTTPS_PROXY: 'http://p:1', REQUEST_METHOD: 'GET' }).routeFor('https:', 'r.corp', 443)?.origin).toBe('http://p:1');
  });
});
