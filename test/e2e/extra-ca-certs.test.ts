import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBin, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { expectSyncedVisible } from '../support/palette-lab.js';
import { startPaletteStandin } from '../support/palette-standin.js';
import { skopeoInspectRaw, startRegistry } from '../support/registry.js';
import { setup } from '../support/stage.js';
import { makeTestCertificates } from '../support/tls.js';
import { startTokenServer } from '../support/token-server.js';

/*
 * trust: NODE_EXTRA_CA_CERTS (Node's way to trust a corporate CA) together with --ca-file. Node's `ca` option
 * replaces its whole trust store, the certificates NODE_EXTRA_CA_CERTS added included (tls.rootCertificates holds
 * only the bundled roots), so a transport given a CA file refused a token service, or a redirect target, that
 * only NODE_EXTRA_CA_CERTS made trusted. The built CLI as a child process: Node reads the variable as a process
 * starts. A registry signed by one private CA (given with --ca-file), its token service by another (given only
 * through NODE_EXTRA_CA_CERTS); Palette's client likewise (--palette-ca-file).
 */

const USER = 'ci';
const PASSWORD = 'ci-extra-ca-pw';
const KEY = `apikey-${Math.random().toString(36).slice(2)}-tenant-admin`;

describe('NODE_EXTRA_CA_CERTS and --ca-file together', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-extra-ca-');
    const corporate = stack.add(await makeTestCertificates());
    const registryCa = stack.add(await makeTestCertificates());
    const tokens = stack.add(await startTokenServer({ users: { [USER]: PASSWORD }, tls: corporate }));
    const registry = stack.add(await startRegistry({ tls: registryCa, auth: 'token', token: tokens }));
    const open = stack.add(await startRegistry({ tls: registryCa }));
    const pack = await writePack(join(root, 'p'), { name: 'extraca', version: '1.0.0' });
    // A Palette behind the corporate TLS proxy: its certificate signed by the CA NODE_EXTRA_CA_CERTS names.
    const lab = stack.add(await startRegistry());
    const palette = stack.add(await startPaletteStandin({ keys: { [KEY]: { role: 'tenant-admin' } }, labs: { [lab.host]: { url: lab.url } }, tls: corporate }));
    const paletteUid = palette.addRegistry('basic', 'corp-lab', { endpoint: `http://${lab.host}`, baseContentPath: 'corp', providerType: 'pack', isSyncSupported: true, auth: { type: 'noAuth' } });
    const pushed = await runCli(['push', pack, '--registry', `${lab.host}/corp`]);
    if (pushed.code !== 0) throw new Error(pushed.stderr);
    return { root, corporate, registryCa, tokens, registry, open, pack, lab, palette, paletteUid };
  });

  const digestOf = (raw: Buffer) => `sha256:${createHash('sha256').update(raw).digest('hex')}`;
  const ref = (host: string, base: string) => `${host}/${base}/spectro-packs/archive/extraca:1.0.0`;
  /**
   * A push with the CA file, as a process of the built CLI (Node reads NODE_EXTRA_CA_CERTS as it starts), or
   * in this process for a run without the variable: the CAs made here are in no variable this process read.
   */
  const pushTo = (host: string, base: string, env: NodeJS.ProcessEnv, run = runBin) =>
    run(['push', w.pack, '--registry', `${host}/${base}`, '--no-plain-http', '--ca-file', w.registryCa.caFile, '--json'], {
      env: { PACKPUB_USERNAME: USER, PACKPUB_PASSWORD: PASSWORD, ...env },
    });

  it('a token service trusted through NODE_EXTRA_CA_CERTS stays trusted when --ca-file is given: exit 0, the registry holds the pack', async () => {
    // Without NODE_EXTRA_CA_CERTS the token service's certificate is refused: what the variable must add.
    const refused = await pushTo(w.registry.host, 'without', {}, runCli);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`TLS certificate of ${w.tokens.realm.split('/')[2]} could not be verified`);
    await expect(skopeoInspectRaw(ref(w.registry.host, 'without'), { tls: true, creds: { username: USER, password: PASSWORD } })).rejects.toThrow(/manifest unknown|not found/i);

    const asked = w.tokens.requests.length;
    const run = await pushTo(w.registry.host, 'with', { NODE_EXTRA_CA_CERTS: w.corporate.caFile });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toContain('NODE_EXTRA_CA_CERTS');
    const digest = (JSON.parse(run.stdout) as { results: Array<{ status: string; digest: string }> }).results[0]!;
    expect(digest.status).toBe('published');
    expect(w.tokens.requests.length).toBeGreaterThan(asked);
    const raw = await skopeoInspectRaw(ref(w.registry.host, 'with'), { tls: true, creds: { username: USER, password: PASSWORD } });
    expect(digestOf(raw)).toBe(digest.digest);
  });

  it('a NODE_EXTRA_CA_CERTS file that cannot be read: one warning, the run goes on with --ca-file, exit 0', async () => {
    const missing = join(w.root, 'missing-corporate-ca.pem');
    const run = await pushTo(w.open.host, 'unreadable', { NODE_EXTRA_CA_CERTS: missing });
    expect(run.code, run.stderr).toBe(0);
    const warning = `cannot read NODE_EXTRA_CA_CERTS ${missing}: `;
    expect(run.stderr).toContain(warning);
    expect(run.stderr.split(warning)).toHaveLength(2);
    const result = (JSON.parse(run.stdout) as { results: Array<{ status: string; digest: string }> }).results[0]!;
    expect(result.status).toBe('published');
    expect(digestOf(await skopeoInspectRaw(ref(w.open.host, 'unreadable'), { tls: true }))).toBe(result.digest);
  });

  it('Palette trusted through NODE_EXTRA_CA_CERTS stays trusted when --palette-ca-file is given: exit 0, the pack is visible in Palette', async () => {
    const host = w.palette.url.slice('https://'.length);
    const sync = (env: NodeJS.ProcessEnv, run = runBin) =>
      run(['palette', 'sync', 'extraca:1.0.0', '--registry', `${w.lab.host}/corp`, '--palette-ca-file', w.registryCa.caFile, '--palette-poll-interval', '0.02'], {
        env: { HOME: join(w.root, 'home'), DOCKER_CONFIG: join(w.root, 'docker'), SPECTROCLOUD_HOST: w.palette.url, SPECTROCLOUD_APIKEY: KEY, ...env },
      });
    const refused = await sync({}, runCli);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`error: TLS certificate of Palette at ${host} could not be verified (`);
    expect(w.palette.registries.get(w.paletteUid)?.syncRequests).toHaveLength(0);

    const run = await sync({ NODE_EXTRA_CA_CERTS: w.corporate.caFile });
    expectSyncedVisible(run, w.palette, w.paletteUid, 'extraca');
  });
});
