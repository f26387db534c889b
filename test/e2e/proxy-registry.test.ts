import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { treeOf } from '../support/files.js';
import { startForwardProxy } from '../support/forward-proxy.js';
import { writePack } from '../support/packs.js';
import { freePort, sharedRegistry, skopeoInspectRaw, startRegistry } from '../support/registry.js';
import { setup } from '../support/stage.js';
import { makeTestCertificates } from '../support/tls.js';

/*
 * HTTPS_PROXY / HTTP_PROXY / NO_PROXY (src/net/proxy.ts), read as Go's net/http reads them: a runner that reaches
 * its registry only through a forward proxy. The registry is a real docker-registry on loopback, named
 * `registry.test` (a name only the proxy stand-in resolves, to 127.0.0.1), so a request that does not go
 * through the proxy cannot reach it at all. Before, packpub ignored the variables: every request went to
 * registry.test directly and failed ("cannot resolve host registry.test").
 */

const PROXY_USER = 'ci-runner';
const PROXY_PASSWORD = 'pr0xy-s3cret:with@signs';
const encodedPassword = encodeURIComponent(PROXY_PASSWORD);

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-proxy-registry-');
  const certs = stack.add(await makeTestCertificates({ hosts: ['registry.test', '127.0.0.1'] }));
  const tlsRegistry = stack.add(await startRegistry({ tls: certs }));
  const plain = await sharedRegistry();
  const proxy = stack.add(await startForwardProxy({ hosts: { 'registry.test': '127.0.0.1' } }));
  const guarded = stack.add(await startForwardProxy({ hosts: { 'registry.test': '127.0.0.1' }, credentials: { user: PROXY_USER, password: PROXY_PASSWORD } }));
  const proxyCerts = stack.add(await makeTestCertificates({ hosts: ['127.0.0.1'] }));
  const tlsProxy = stack.add(await startForwardProxy({ hosts: { 'registry.test': '127.0.0.1' }, tls: proxyCerts }));
  const pack = await writePack(join(root, 'proxied-1.0.0'), { name: 'proxied', version: '1.0.0' });
  // A proxy inspecting TLS: it answers the CONNECT to registry.test itself, with a certificate its own CA signed.
  const inspectorCerts = stack.add(await makeTestCertificates({ hosts: ['registry.test'] }));
  const inspecting = stack.add(await startForwardProxy({ terminate: { [`registry.test:${plain.port}`]: { to: plain.host, certs: inspectorCerts } } }));
  return { root, certs, tlsRegistry, plain, proxy, guarded, tlsProxy, proxyCerts, pack, inspectorCerts, inspecting };
});

const tlsHost = () => `registry.test:${w.tlsRegistry.port}`;
const plainHost = () => `registry.test:${w.plain.port}`;
const digestOf = (raw: Buffer) => `sha256:${createHash('sha256').update(raw).digest('hex')}`;
const results = (stdout: string) => (JSON.parse(stdout) as { results: Array<{ status: string; digest: string }> }).results;

describe('registries through a forward proxy', () => {
  it('HTTPS_PROXY: push, list, pull and copy tunnel through CONNECT; exit 0 and the registry holds the pack', async () => {
    const env = { HTTPS_PROXY: w.proxy.url };
    const tls = ['--ca-file', w.certs.caFile];
    const push = await runCli(['push', w.pack, '--registry', `${tlsHost()}/viaconnect`, ...tls, '--json'], { env });
    expect(push.code, push.stderr).toBe(0);
    const [published] = results(push.stdout);
    expect(published?.status).toBe('published');
    // What the registry holds, read directly (not through packpub, not through the proxy).
    const raw = await skopeoInspectRaw(`${w.tlsRegistry.host}/viaconnect/spectro-packs/archive/proxied:1.0.0`, { tls: true });
    expect(digestOf(raw)).toBe(published?.digest);
    const tunnels = w.proxy.requests.filter((r) => r.kind === 'connect');
    expect(tunnels.length).toBeGreaterThan(0);
    expect(tunnels.every((r) => r.target === tlsHost() && r.status === 200 && r.authorization === undefined)).toBe(true);

    const list = await runCli(['list', '--registry', `${tlsHost()}/viaconnect`, ...tls, '--json', '--debug'], { env });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stderr).toContain(`debug: CONNECT ${tlsHost()} through the proxy ${w.proxy.host} (HTTPS_PROXY)`);
    expect((JSON.parse(list.stdout) as { packs: Array<{ name: string }> }).packs.map((p) => p.name)).toEqual(['proxied']);

    const out = join(w.root, 'pulled');
    const pull = await runCli(['pull', 'proxied:1.0.0', '--registry', `${tlsHost()}/viaconnect`, ...tls, '-o', out], { env });
    expect(pull.code, pull.stderr).toBe(0);
    expect(await treeOf(out)).toEqual(await treeOf(w.pack));

    const copy = await runCli(['copy', 'proxied:1.0.0', '--from', `${tlsHost()}/viaconnect`, '--to', `${tlsHost()}/copied`, '--from-ca-file', w.certs.caFile, '--to-ca-file', w.certs.caFile, '--json'], { env });
    expect(copy.code, copy.stderr).toBe(0);
    expect(digestOf(await skopeoInspectRaw(`${w.tlsRegistry.host}/copied/spectro-packs/archive/proxied:1.0.0`, { tls: true }))).toBe(published?.digest);
    expect(w.proxy.count('registry.test')).toBe(w.proxy.requests.length);
  });

  it('HTTP_PROXY with credentials: plain-HTTP requests go to the proxy in absolute form with Proxy-Authorization; the password is in no output', async () => {
    const proxyUrl = w.guarded.url.replace('http://', `http://${PROXY_USER}:${encodedPassword}@`);
    const push = await runCli(['push', w.pack, '--registry', `${plainHost()}/${w.plain.base}/absolute`, '--plain-http', '--json', '--debug'], { env: { http_proxy: proxyUrl } });
    expect(push.code, push.stderr).toBe(0);
    expect(push.stderr).toMatch(new RegExp(`debug: HEAD http://${plainHost()}/v2/\\S+ -> \\d+ \\d+ms via the proxy ${w.guarded.host.replace(/\./g, '\\.')} \\(http_proxy\\)`));
    const [published] = results(push.stdout);
    expect(published?.status).toBe('published');
    expect(digestOf(await skopeoInspectRaw(`${w.plain.host}/${w.plain.base}/absolute/spectro-packs/archive/proxied:1.0.0`))).toBe(published?.digest);
    const forwarded = w.guarded.requests.filter((r) => r.target.startsWith(`http://${plainHost()}/`));
    expect(forwarded.length).toBeGreaterThan(0);
    const basic = `Basic ${Buffer.from(`${PROXY_USER}:${PROXY_PASSWORD}`).toString('base64')}`;
    expect(forwarded.every((r) => r.kind === 'forward' && r.authorization === basic && r.status !== 407 && r.status !== 502)).toBe(true);
    for (const secret of [PROXY_PASSWORD, encodedPassword, basic.slice(6)]) expect(`${push.stdout}${push.stderr}`).not.toContain(secret);
  });

  it('HTTP_PROXY without the credentials it asks for (407), and one that is down: exit 1 naming the proxy, not the registry; nothing published', async () => {
    const args = (base: string) => ['push', w.pack, '--registry', `${plainHost()}/${w.plain.base}/${base}`, '--plain-http'];
    const asked = await runCli(args('absolute407'), { env: { HTTP_PROXY: w.guarded.url } });
    expect(asked.code).toBe(1);
    expect(asked.stderr).toContain(`the proxy ${w.guarded.host} (HTTP_PROXY) asks for credentials (answered 407 Proxy Authentication Required) (on the way to ${plainHost()})`);
    const down = `127.0.0.1:${await freePort()}`;
    const refused = await runCli(args('absolutedown'), { env: { HTTP_PROXY: `http://${down}` } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`the proxy ${down} (HTTP_PROXY) refused the connection (on the way to ${plainHost()})`);
    for (const base of ['absolute407', 'absolutedown']) {
      await expect(skopeoInspectRaw(`${w.plain.host}/${w.plain.base}/${base}/spectro-packs/archive/proxied:1.0.0`)).rejects.toThrow(/manifest unknown|not found|name unknown/i);
    }
  });

  it('an https:// proxy is spoken to over TLS, trusted through the registry CA file given', async () => {
    // One CA file holding both CAs: the registry's and the proxy's.
    const { readFile, writeFile } = await import('node:fs/promises');
    const both = join(w.root, 'both-ca.pem');
    await writeFile(both, `${await readFile(w.certs.caFile, 'utf8')}${await readFile(w.proxyCerts.caFile, 'utf8')}`);
    const push = await runCli(['push', w.pack, '--registry', `${tlsHost()}/viatlsproxy`, '--ca-file', both, '--json'], { env: { HTTPS_PROXY: w.tlsProxy.url } });
    expect(push.code, push.stderr).toBe(0);
    expect(results(push.stdout)[0]?.status).toBe('published');
    expect(w.tlsProxy.requests.filter((r) => r.kind === 'connect' && r.status === 200).length).toBeGreaterThan(0);
    await skopeoInspectRaw(`${w.tlsRegistry.host}/viatlsproxy/spectro-packs/archive/proxied:1.0.0`, { tls: true });
  });

  it("a proxy inspecting TLS: the certificate refused names the proxy and its CA (was only 'pass --ca-file for a private CA'), nothing pushed; with its CA given the registry answers through it", async () => {
    const env = { HTTPS_PROXY: w.inspecting.url };
    const registry = `${plainHost()}/${w.plain.base}/inspected`;
    const refused = await runCli(['push', w.pack, '--registry', registry, '--no-cache'], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `FAILED proxied:1.0.0: TLS certificate of ${plainHost()} could not be verified (UNABLE_TO_VERIFY_LEAF_SIGNATURE)\n  hint: pass --ca-file <pem> for a private CA (or --insecure to skip verification); HTTPS to ${plainHost()} goes through the proxy ${w.inspecting.host} (HTTPS_PROXY): one that inspects TLS shows certificates its own CA signed, and that CA is the one to give\n`,
    );
    await expect(skopeoInspectRaw(`${w.plain.host}/${w.plain.base}/inspected/spectro-packs/archive/proxied:1.0.0`)).rejects.toThrow(/manifest unknown|not found|name unknown/i);
    // Pushed directly, then read through the inspecting proxy with its CA: the digest the registry holds.
    const direct = await runCli(['push', w.pack, '--registry', `${w.plain.host}/${w.plain.base}/inspected`, '--no-cache', '--json']);
    expect(direct.code, direct.stderr).toBe(0);
    const list = await runCli(['list', 'proxied', '--registry', registry, '--ca-file', w.inspectorCerts.caFile, '--json'], { env });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(results(direct.stdout)[0]?.digest ?? 'no digest');
  });

  it('NO_PROXY and loopback hosts bypass the proxy: a proxy that is down changes nothing for them', async () => {
    const down = `http://127.0.0.1:${await freePort()}`;
    // A loopback registry: never proxied, whatever HTTPS_PROXY / HTTP_PROXY say.
    const loopback = await runCli(['push', w.pack, '--registry', `${w.plain.host}/${w.plain.base}/loopback`, '--json'], { env: { HTTPS_PROXY: down, HTTP_PROXY: down } });
    expect(loopback.code, loopback.stderr).toBe(0);
    await skopeoInspectRaw(`${w.plain.host}/${w.plain.base}/loopback/spectro-packs/archive/proxied:1.0.0`);
    // registry.test listed in NO_PROXY (a leading dot and a port too): reached directly (--resolve maps the name).
    for (const noProxy of ['registry.test', `other.example, .test`, `registry.test:${w.tlsRegistry.port}`]) {
      const before = w.proxy.requests.length;
      const run = await runCli(['push', w.pack, '--registry', `${tlsHost()}/bypass`, '--ca-file', w.certs.caFile, '--resolve', `${tlsHost()}:127.0.0.1`, '--json'], {
        env: { HTTPS_PROXY: w.proxy.url, NO_PROXY: noProxy },
      });
      expect(run.code, `${noProxy}: ${run.stderr}`).toBe(0);
      expect(w.proxy.requests.length, noProxy).toBe(before);
    }
    // A NO_PROXY entry for another port does not bypass it: the proxy carries it.
    const before = w.proxy.requests.length;
    const other = await runCli(['push', w.pack, '--registry', `${tlsHost()}/bypass`, '--ca-file', w.certs.caFile, '--json'], { env: { HTTPS_PROXY: w.proxy.url, no_proxy: 'registry.test:1' } });
    expect(other.code, other.stderr).toBe(0);
    expect(w.proxy.requests.length).toBeGreaterThan(before);
  });

  it('a proxy asking for credentials (407): exit 1 naming the proxy, never its password; nothing published', async () => {
    const args = ['push', w.pack, '--registry', `${tlsHost()}/refused407`, '--ca-file', w.certs.caFile];
    const none = await runCli(args, { env: { HTTPS_PROXY: w.guarded.url } });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`the proxy ${w.guarded.host} (HTTPS_PROXY) asks for credentials (answered CONNECT 407 Proxy Authentication Required) (on the way to ${tlsHost()})`);
    expect(none.stderr).toContain("hint: put them in HTTPS_PROXY before the proxy's host, as USER:PASSWORD@");

    const wrong = await runCli([...args, '--json'], { env: { HTTPS_PROXY: w.guarded.url.replace('http://', `http://${PROXY_USER}:not-${encodedPassword}@`) } });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`the proxy ${w.guarded.host} (HTTPS_PROXY) refused the credentials in HTTPS_PROXY`);
    expect(`${wrong.stdout}${wrong.stderr}`).not.toContain(`not-${encodedPassword}`);
    expect(`${wrong.stdout}${wrong.stderr}`).not.toContain(`not-${PROXY_PASSWORD}`);
    await expect(skopeoInspectRaw(`${w.tlsRegistry.host}/refused407/spectro-packs/archive/proxied:1.0.0`, { tls: true })).rejects.toThrow(/manifest unknown|not found/i);
  });

  it('a proxy that is down, one that cannot reach the registry (502), and a SOCKS proxy: clear errors, nothing published', async () => {
    const down = `http://127.0.0.1:${await freePort()}`;
    const args = (base: string) => ['push', w.pack, '--registry', `${tlsHost()}/${base}`, '--ca-file', w.certs.caFile];
    const refused = await runCli(args('down'), { env: { HTTPS_PROXY: down.replace('http://', '') } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`the proxy ${down.replace('http://', '')} (HTTPS_PROXY) refused the connection (on the way to ${tlsHost()})`);

    const unknown = await runCli(['push', w.pack, '--registry', `elsewhere.test:${w.tlsRegistry.port}/x`, '--ca-file', w.certs.caFile, '--retry-attempts', '1'], { env: { HTTPS_PROXY: w.proxy.url } });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(`the proxy ${w.proxy.host} (HTTPS_PROXY) refused to open a tunnel (answered CONNECT 502 Bad Gateway) (on the way to elsewhere.test:${w.tlsRegistry.port})`);

    const socks = await runCli(args('socks'), { env: { HTTPS_PROXY: 'socks5://user:hidden-socks-pw@127.0.0.1:1080' } });
    expect(socks.code).toBe(2);
    expect(socks.stderr).toContain('HTTPS_PROXY names a SOCKS proxy (socks5://***@127.0.0.1:1080), which packpub cannot use: it speaks to HTTP and HTTPS proxies only');
    expect(socks.stderr).not.toContain('hidden-socks-pw');
    for (const base of ['down', 'socks']) {
      await expect(skopeoInspectRaw(`${w.tlsRegistry.host}/${base}/spectro-packs/archive/proxied:1.0.0`, { tls: true })).rejects.toThrow(/manifest unknown|not found/i);
    }
  });
});
