import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startPaletteStandin } from '../support/palette-standin.js';
import { startRegistry } from '../support/registry.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';
import { makeTestCertificates } from '../support/tls.js';

/*
 * Two corners of the Palette closed loop, through the CLI: a Pack registry whose sync is off (published,
 * not visible: exit 3, and no sync is asked of Palette), and a self-hosted Palette served over HTTPS with
 * a private CA (--palette-ca-file). One real registry without auth; one Palette stand-in over HTTP and one
 * over HTTPS, both reading that registry.
 */

const KEY = `apikey-${Math.random().toString(36).slice(2)}-tenant-admin`;

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-palette-edges-');
  const registry = stack.add(await startRegistry());
  const certs = stack.add(await makeTestCertificates());
  const labs = { [registry.host]: { url: registry.url } };
  const palette = stack.add(await startPaletteStandin({ keys: { [KEY]: { role: 'tenant-admin' } }, labs }));
  const tlsPalette = stack.add(await startPaletteStandin({ keys: { [KEY]: { role: 'tenant-admin' } }, labs, tls: { certFile: certs.certFile, keyFile: certs.keyFile } }));
  const spec = (base: string, isSyncSupported: boolean) => ({ endpoint: `http://${registry.host}`, baseContentPath: base, providerType: 'pack', isSyncSupported, auth: { type: 'noAuth' } });
  const syncOffUid = palette.addRegistry('basic', 'sync-off', spec('syncoff', false), { isSyncSupported: false });
  const tlsUid = tlsPalette.addRegistry('basic', 'tls-lab', spec('tlsbase', true));
  const packs = {
    one: await writePack(join(root, 'one'), { name: 'edge-one', version: '1.0.0' }),
    two: await writePack(join(root, 'two'), { name: 'edge-two', version: '2.0.0' }),
    tls: await writePack(join(root, 'tls'), { name: 'edge-tls', version: '1.0.0' }),
  };
  return { root, registry, certs, palette, tlsPalette, syncOffUid, tlsUid, packs };
});

const env = (endpoint: string) => ({
  HOME: join(w.root, 'home'),
  DOCKER_CONFIG: join(w.root, 'docker'),
  SOURCE_DATE_EPOCH: '1700000000',
  SPECTROCLOUD_HOST: endpoint,
  SPECTROCLOUD_APIKEY: KEY,
});
const at = (base: string) => ['--registry', `${w.registry.host}/${base}`];
const fast = ['--palette-poll-interval', '0.02'];
const syncCalls = (palette: typeof w.palette) => palette.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/sync'));
async function versionsAt(base: string): Promise<string[]> {
  const list = await runCli(['list', ...at(base), '--json'], { env: env(w.palette.url) });
  expect(list.code, list.stderr).toBe(0);
  return (JSON.parse(list.stdout) as { packs: { name: string; versions: { version: string }[] }[] }).packs.flatMap((p) => p.versions.map((v) => `${p.name}:${v.version}`));
}

describe('a Palette registry with sync off', () => {
  const reason = 'sync is off for Palette registry sync-off: turn it on (Palette lists packs only from synced registries)';

  it('palette sync exits 3 with the reason per pack, and asks Palette for no sync', async () => {
    const push = await runCli(['push', w.packs.one, ...at('syncoff')], { env: env(w.palette.url) });
    expect(push.code, push.stderr).toBe(0);

    const run = await runCli(['palette', 'sync', ...at('syncoff'), ...fast], { env: env(w.palette.url) });
    expect(run.code, run.stderr).toBe(3);
    expect(run.stdout).toBe(`NOT VISIBLE in Palette edge-one:1.0.0: ${reason}\n`);
    expect(run.stderr).toContain(`is served by Palette registry sync-off (${w.syncOffUid})`);
    expect(run.stderr).toContain('error: published, but not visible in Palette (exit 3)');
    expect(run.stderr).not.toContain('palette: sync started');

    const json = await runCli(['palette', 'sync', 'edge-one:1.0.0', ...at('syncoff'), '--json', ...fast], { env: env(w.palette.url) });
    expect(json.code, json.stderr).toBe(3);
    const report = JSON.parse(json.stdout) as { status: string; targets: { registry: { uid: string }; sync: { outcome: string }; packs: { name: string; version: string; status: string; reason: string }[] }[] };
    expect(report.status).toBe('published-not-visible');
    expect(report.targets[0]?.registry.uid).toBe(w.syncOffUid);
    expect(report.targets[0]?.sync.outcome).toBe('not-supported');
    expect(report.targets[0]?.packs).toEqual([{ name: 'edge-one', version: '1.0.0', status: 'not-visible', reason }]);

    // Palette was never asked to sync, and lists nothing from this registry.
    expect(w.palette.registries.get(w.syncOffUid)?.syncRequests).toEqual([]);
    expect(syncCalls(w.palette)).toEqual([]);
    expect(w.palette.registries.get(w.syncOffUid)?.index.size).toBe(0);
  });

  it('push --palette-sync publishes, then exits 3 with the reason in its --json report', async () => {
    const run = await runCli(['push', w.packs.two, ...at('syncoff'), '--palette-sync', '--json', ...fast], { env: env(w.palette.url) });
    expect(run.code, run.stderr).toBe(3);
    const report = JSON.parse(run.stdout) as { ok: boolean; results: { status: string }[]; palette: { status: string; targets: { sync: { outcome: string }; packs: { status: string; reason: string }[] }[] } };
    expect(report.ok).toBe(false);
    expect(report.results.map((r) => r.status)).toEqual(['published']);
    expect(report.palette.status).toBe('published-not-visible');
    expect(report.palette.targets[0]?.sync.outcome).toBe('not-supported');
    expect(report.palette.targets[0]?.packs).toEqual([{ name: 'edge-two', version: '2.0.0', status: 'not-visible', reason }]);
    expect(await versionsAt('syncoff')).toEqual(['edge-one:1.0.0', 'edge-two:2.0.0']);
    expect(syncCalls(w.palette)).toEqual([]);
  });

  it('palette doctor fails the palette-sync check and says how to fix it', async () => {
    const run = await runCli(['palette', 'doctor', ...at('syncoff')], { env: env(w.palette.url) });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toContain(`FAIL  palette-sync: Palette registry sync-off (${w.syncOffUid}) has sync off\n        fix: edit sync-off: turn sync on (Pack registries need it)\n`);
    expect(run.stdout).toContain(`ok    palette-registry: Palette registry sync-off (${w.syncOffUid}) serves ${w.registry.host}/syncoff`);
    expect(run.stdout).toContain('1 problem found');
    const json = await runCli(['palette', 'doctor', ...at('syncoff'), '--json'], { env: env(w.palette.url) });
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as { problems: number; findings: { check: string; ok: boolean; fix?: string }[] };
    expect(report.problems).toBe(1);
    expect(report.findings.filter((f) => !f.ok)).toEqual([
      { check: 'palette-sync', ok: false, message: `Palette registry sync-off (${w.syncOffUid}) has sync off`, fix: 'edit sync-off: turn sync on (Pack registries need it)' },
    ]);
    expect(syncCalls(w.palette)).toEqual([]);
    expect(w.palette.violations()).toEqual([]);
  });
});
