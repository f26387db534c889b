import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { startForwardProxy } from '../support/forward-proxy.js';
import { writePack } from '../support/packs.js';
import { expectSyncedVisible } from '../support/palette-lab.js';
import { startPaletteStandin } from '../support/palette-standin.js';
import { freePort, startRegistry } from '../support/registry.js';
import { setup } from '../support/stage.js';
import { makeTestCertificates } from '../support/tls.js';

/*
 * The Palette API client through HTTPS_PROXY (src/net/proxy.ts): a self-hosted Palette named `palette.test`,
 * which only the proxy stand-in resolves (to the loopback stand-in), so a call that does not go through the
 * proxy cannot reach it. Before, the client ignored the variable and failed "cannot reach Palette". The
 * registry of packs is on loopback: never proxied, while Palette is.
 */

const KEY = `apikey-${Math.random().toString(36).slice(2)}-tenant-admin`;

describe('Palette through a forward proxy', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-proxy-palette-');
    const certs = stack.add(await makeTestCertificates({ hosts: ['palette.test', '127.0.0.1'] }));
    const lab = stack.add(await startRegistry());
    const palette = stack.add(await startPaletteStandin({ keys: { [KEY]: { role: 'tenant-admin' } }, labs: { [lab.host]: { url: lab.url } }, tls: certs }));
    const uid = palette.addRegistry('basic', 'proxied-lab', { endpoint: `http://${lab.host}`, baseContentPath: 'corp', providerType: 'pack', isSyncSupported: true, auth: { type: 'noAuth' } });
    const proxy = stack.add(await startForwardProxy({ hosts: { 'palette.test': '127.0.0.1' } }));
    const pack = await writePack(join(root, 'p'), { name: 'viaproxy', version: '1.0.0' });
    const pushed = await runCli(['push', pack, '--registry', `${lab.host}/corp`]);
    if (pushed.code !== 0) throw new Error(pushed.stderr);
    const endpoint = `https://palette.test:${new URL(palette.url).port}`;
    return { root, certs, lab, palette, uid, proxy, endpoint };
  });

  const sync = (env: NodeJS.ProcessEnv) =>
    runCli(['palette', 'sync', 'viaproxy:1.0.0', '--registry', `${w.lab.host}/corp`, '--palette-ca-file', w.certs.caFile, '--palette-poll-interval', '0.02'], {
      env: { HOME: join(w.root, 'home'), DOCKER_CONFIG: join(w.root, 'docker'), SPECTROCLOUD_HOST: w.endpoint, SPECTROCLOUD_APIKEY: KEY, ...env },
    });

  it('a proxy that is down: exit 1 naming it, Palette never asked to sync', async () => {
    const down = `127.0.0.1:${await freePort()}`;
    const run = await sync({ HTTPS_PROXY: down });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`the proxy ${down} (HTTPS_PROXY) refused the connection (on the way to palette.test:${new URL(w.endpoint).port})`);
    expect(w.palette.registries.get(w.uid)?.syncRequests).toHaveLength(0);
  });

  it('HTTPS_PROXY: every Palette call tunnels through CONNECT; exit 0 and the pack is visible in Palette', async () => {
    const run = await sync({ HTTPS_PROXY: w.proxy.url });
    expectSyncedVisible(run, w.palette, w.uid, 'viaproxy');
    const tunnels = w.proxy.requests.filter((r) => r.kind === 'connect');
    expect(tunnels.length).toBeGreaterThan(0);
    expect(tunnels.every((r) => r.target === `palette.test:${new URL(w.endpoint).port}` && r.status === 200)).toBe(true);
    // The loopback registry was read directly: only Palette went through the proxy.
    expect(w.proxy.requests.length).toBe(tunnels.length);
    expect(w.palette.violations()).toEqual([]);
  });
});
