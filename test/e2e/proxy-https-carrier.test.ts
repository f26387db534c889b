import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { startForwardProxy } from '../support/forward-proxy.js';
import { writePack } from '../support/packs.js';
import { sharedRegistry, skopeoInspectRaw } from '../support/registry.js';
import { setup } from '../support/stage.js';
import { makeTestCertificates } from '../support/tls.js';

/*
 * HTTP_PROXY and HTTPS_PROXY both naming one https:// proxy (a corporate runner's usual pair) and a plain-HTTP
 * registry (--plain-http): each request goes to the proxy in absolute form, over TLS to the proxy itself. That
 * TLS connection is the proxy's own, dialled directly as Go dials it. Before, packpub sent it through HTTPS_PROXY
 * as any https:// connection: `CONNECT proxy.test:PORT` to the proxy itself, which a real proxy refuses (squid
 * allows CONNECT to SSL ports only), so the push failed ("refused to open a tunnel") where ORAS succeeds.
 * The proxy is named proxy.test (mapped to loopback with --resolve: a loopback proxy is never tunnelled anyway).
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-proxy-carrier-');
  const plain = await sharedRegistry();
  const certs = stack.add(await makeTestCertificates({ hosts: ['proxy.test', '127.0.0.1'] }));
  const proxy = stack.add(await startForwardProxy({ hosts: { 'registry.test': '127.0.0.1' }, tls: certs }));
  const pack = await writePack(join(root, 'carried-1.0.0'), { name: 'carried', version: '1.0.0' });
  return { plain, certs, proxy, pack };
});

describe('an https:// proxy carrying a plain-HTTP registry', () => {
  const port = () => Number(w.proxy.host.split(':')[1]);
  const push = async (base: string, env: Record<string, string>) => {
    const before = w.proxy.requests.length;
    const run = await runCli(
      ['push', w.pack, '--registry', `registry.test:${w.plain.port}/${w.plain.base}/${base}`, '--plain-http', '--ca-file', w.certs.caFile, '--resolve', `proxy.test:${port()}:127.0.0.1`, '--json'],
      { env },
    );
    expect(run.code, run.stderr).toBe(0);
    const [published] = (JSON.parse(run.stdout) as { results: Array<{ status: string; digest: string }> }).results;
    expect(published?.status).toBe('published');
    const raw = await skopeoInspectRaw(`${w.plain.host}/${w.plain.base}/${base}/spectro-packs/archive/carried:1.0.0`);
    expect(`sha256:${createHash('sha256').update(raw).digest('hex')}`).toBe(published?.digest);
    // Every request went to the proxy as a forwarded one; none asked it for a tunnel to itself.
    const seen = w.proxy.requests.slice(before);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter((r) => r.kind === 'connect')).toEqual([]);
    expect(seen.every((r) => r.target.startsWith(`http://registry.test:${w.plain.port}/`))).toBe(true);
  };

  it('HTTP_PROXY = https://proxy alone: TLS to the proxy checks the proxy\'s name, not the registry\'s; exit 0 and the registry holds the pack', async () => {
    // Before: undici took the server name from the Host header (registry.test): ERR_TLS_CERT_ALTNAME_INVALID, exit 1.
    await push('carrier-alone', { HTTP_PROXY: `https://proxy.test:${port()}` });
    // A proxy named by its IP address: no SNI, the certificate checked against the address.
    await push('carrier-ip', { HTTP_PROXY: `https://127.0.0.1:${port()}` });
  });

  it('HTTP_PROXY = HTTPS_PROXY = https://proxy: the proxy is dialled directly, the push forwarded through it; exit 0 and the registry holds the pack', async () => {
    const proxyUrl = `https://proxy.test:${port()}`;
    await push('carrier-pair', { HTTP_PROXY: proxyUrl, HTTPS_PROXY: proxyUrl });
  });
});
