import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { staticProvider } from '../../src/credentials/chain.js';
import { ImageChecker } from '../../src/operations/check-images.js';
import { openGenericRegistryStore } from '../../src/targets/registry-store.js';
import { pushTestPack } from '../support/artifacts.js';
import { runBin } from '../support/cli.js';
import { startForwardProxy } from '../support/forward-proxy.js';
import { writePack } from '../support/packs.js';
import { startRegistry } from '../support/registry.js';
import { setup } from '../support/stage.js';
import { makeTestCertificates } from '../support/tls.js';

/*
 * --check-images through a forward proxy (src/operations/check-images.ts). The images live on a real TLS registry
 * named `images.test`, a name only the proxy stand-in resolves (to 127.0.0.1): an image looked up without the proxy
 * cannot be reached, and is only noted "cannot check" (info), so a missing image would pass unnoticed. The CLI, a
 * process here (NODE_EXTRA_CA_CERTS trusts the registry), finds the present image and refuses the missing one through
 * HTTPS_PROXY. The library's ImageChecker took the proxy variables from the process, not from the `env` it was
 * given: a program passing its own environment (a proxy the process does not have) had its images unreachable.
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-proxy-images-');
  const certs = stack.add(await makeTestCertificates({ hosts: ['images.test', '127.0.0.1'] }));
  const registry = stack.add(await startRegistry({ tls: certs }));
  const seed = await openGenericRegistryStore({ host: registry.host, plainHttp: false, caFile: certs.caFile, credentials: staticProvider('none', undefined) });
  try {
    await pushTestPack(seed, 'team/app', '1.0.0', Buffer.from('tiny image layer'));
  } finally {
    await seed.close();
  }
  const proxy = stack.add(await startForwardProxy({ hosts: { 'images.test': '127.0.0.1' } }));
  const guarded = stack.add(await startForwardProxy({ hosts: { 'images.test': '127.0.0.1' }, credentials: { user: 'ci', password: 'pr0xy-secret' } }));
  const host = `images.test:${registry.port}`;
  const values = (tag: string) => ['pack:', '  namespace: app', '  content:', '    images:', `      - image: ${host}/team/app:${tag}`, ''].join('\n');
  const present = await writePack(join(root, 'present'), { name: 'present', version: '1.0.0', files: { 'values.yaml': values('1.0.0') } });
  const missing = await writePack(join(root, 'missing'), { name: 'missing', version: '1.0.0', files: { 'values.yaml': values('9.9.9') } });
  return { root, certs, proxy, guarded, host, present, missing };
});

describe('--check-images through a forward proxy', () => {
  it('CLI: validate and push look the images up through HTTPS_PROXY: the present one passes, the missing one fails the run (exit 1), nothing published', async () => {
    const env = { HTTPS_PROXY: w.proxy.url, NODE_EXTRA_CA_CERTS: w.certs.caFile };
    const before = w.proxy.requests.length;
    const valid = await runBin(['validate', '--check-images', w.present, w.missing], { env });
    expect(valid.code, valid.stderr).toBe(1);
    expect(valid.stdout).toContain(`error   values.yaml pack.content.images[0]: image ${w.host}/team/app:9.9.9 does not exist`);
    expect(valid.stdout).not.toContain(`${w.host}/team/app:1.0.0`);
    expect(valid.stdout).not.toContain('cannot check');

    const refused = join(w.root, 'refused-layout');
    const push = await runBin(['push', '--check-images', w.present, w.missing, '--oci-layout', refused, '--json'], { env });
    expect(push.code, push.stderr).toBe(1);
    const results = (JSON.parse(push.stdout) as { results: Array<{ name: string; status: string; error?: { code: string } }> }).results;
    expect(results.map((r) => [r.name, r.status, r.error?.code]).sort()).toEqual([
      ['missing', 'failed', 'IMAGE_NOT_FOUND'],
      ['present', 'failed', 'IMAGE_NOT_FOUND'],
    ]);
    expect(existsSync(join(refused, 'spectro-packs'))).toBe(false);

    const layout = join(w.root, 'layout');
    const ok = await runBin(['push', '--check-images', w.present, '--oci-layout', layout], { env });
    expect(ok.code, ok.stderr).toBe(0);
    expect(existsSync(join(layout, 'spectro-packs/archive/present/index.json'))).toBe(true);
    const tunnels = w.proxy.requests.slice(before);
    expect(tunnels.length).toBeGreaterThan(0);
    expect(tunnels.every((r) => r.kind === 'connect' && r.target === w.host && r.status === 200)).toBe(true);
  });

  it("library: ImageChecker reads the proxy from the env it is given, not the process's: found and missing through the proxy", async () => {
    expect(process.env['HTTPS_PROXY'] ?? process.env['https_proxy']).toBeUndefined();
    const before = w.proxy.requests.length;
    const anonymous = staticProvider('none', undefined);
    const checker = new ImageChecker({ env: { HTTPS_PROXY: w.proxy.url }, registries: new Map([[w.host, { credentials: anonymous, caFile: w.certs.caFile }]]) });
    try {
      // Was: "unreachable" for both (images.test looked up directly), so the missing image passed as "cannot check".
      expect(await checker.check(`${w.host}/team/app:1.0.0`)).toEqual({ status: 'found' });
      expect(await checker.check(`${w.host}/team/app:9.9.9`)).toEqual({ status: 'missing' });
    } finally {
      await checker.close();
    }
    expect(w.proxy.requests.slice(before).map((r) => [r.kind, r.target, r.status])).toContainEqual(['connect', w.host, 200]);
  });

  it('a proxy that refuses the check (407: it wants credentials) is named in the note, not "<host> unreachable"; the note never fails the run', async () => {
    const checker = new ImageChecker({ env: { HTTPS_PROXY: w.guarded.url } });
    try {
      const status = await checker.check(`${w.host}/team/app:9.9.9`);
      expect(status).toEqual({ status: 'unchecked', reason: expect.stringContaining(`the proxy ${w.guarded.host} (HTTPS_PROXY) asks for credentials (answered CONNECT 407`) });
      const findings = await checker.findings(w.missing);
      expect(findings.map((f) => [f.severity, f.rule])).toEqual([['info', 'image-unchecked']]);
      expect(findings[0]?.message).toContain(`image ${w.host}/team/app:9.9.9: cannot check: the proxy ${w.guarded.host} (HTTPS_PROXY) asks for credentials`);
    } finally {
      await checker.close();
    }
  });
});
