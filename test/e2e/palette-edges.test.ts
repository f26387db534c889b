import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipWaits } from '../support/clock.js';
import { expectSyncedVisible } from '../support/palette-lab.js';
import { startPaletteStandin } from '../support/palette-standin.js';
import { startRegistry } from '../support/registry.js';
import { runCli } from '../support/cli.js';
import { writePack, writePacks } from '../support/packs.js';
import { listedVersions } from '../support/published.js';
import { startRecordingProxy } from '../support/recording-proxy.js';
import { holdVersions } from '../support/registry-admin.js';
import { setup } from '../support/stage.js';
import { makeTestCertificates } from '../support/tls.js';

/*
 * Two corners of the Palette closed loop, through the CLI: a Pack registry whose sync is off (palette sync: exit 3,
 * and no sync is asked of Palette; push --palette-sync: refused before publishing, exit 2), and a self-hosted Palette served over HTTPS with
 * a private CA (--palette-ca-file). One real registry without auth; one Palette stand-in over HTTP and one
 * over HTTPS, both reading that registry. The client's pacing and polls wait on a skipping clock, which the
 * stand-ins count their rate limit in (support/clock.ts).
 */

const KEY = `apikey-${Math.random().toString(36).slice(2)}-tenant-admin`;
const clock = skipWaits();

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-palette-edges-');
  const registry = stack.add(await startRegistry());
  const certs = stack.add(await makeTestCertificates());
  const labs = { [registry.host]: { url: registry.url } };
  const palette = stack.add(await startPaletteStandin({ keys: { [KEY]: { role: 'tenant-admin' } }, labs, clock }));
  const tlsPalette = stack.add(await startPaletteStandin({ keys: { [KEY]: { role: 'tenant-admin' } }, labs, tls: { certFile: certs.certFile, keyFile: certs.keyFile }, clock }));
  const spec = (base: string, isSyncSupported: boolean) => ({ endpoint: `http://${registry.host}`, baseContentPath: base, providerType: 'pack', isSyncSupported, auth: { type: 'noAuth' } });
  const syncOffUid = palette.addRegistry('basic', 'sync-off', spec('syncoff', false), { isSyncSupported: false });
  const tlsUid = tlsPalette.addRegistry('basic', 'tls-lab', spec('tlsbase', true));
  const dryUid = palette.addRegistry('basic', 'dry-lab', spec('drybase', true));
  // A Palette that pages its registry list one at a time: the target's registry comes last.
  const pagedPalette = stack.add(await startPaletteStandin({ keys: { [KEY]: { role: 'tenant-admin' } }, labs, summaryPageSize: 1, clock }));
  for (const i of [1, 2, 3]) pagedPalette.addRegistry('basic', `filler-${i}`, { ...spec('other', true), endpoint: `https://filler-${i}.example.test` });
  const pagedUid = pagedPalette.addRegistry('basic', 'paged-lab', spec('pagedbase', true));
  // The same Palette behind a proxy that answers each page of the registry list 400 ms late.
  const slowPages = stack.add(await startRecordingProxy(pagedPalette.url, { onRequest: (r) => (r.path.startsWith('/v1/registries/oci/summary') ? { delayMs: 400 } : 'pass') }));
  const packs = await writePacks(root, {
    one: 'edge-one:1.0.0', two: 'edge-two:2.0.0', tls: 'edge-tls:1.0.0', dry: 'edge-dry:1.0.0', retry: 'edge-retry:1.0.0', paged: 'edge-paged:1.0.0',
  });
  return { root, registry, certs, palette, tlsPalette, pagedPalette, slowPages, syncOffUid, tlsUid, dryUid, pagedUid, packs };
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

  it('push --palette-sync refuses it before publishing: exit 2, nothing published (was: published, then exit 3)', async () => {
    const run = await runCli(['push', w.packs.two, ...at('syncoff'), '--palette-sync', '--json', ...fast], { env: env(w.palette.url) });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(
      `error: sync is off for Palette registry sync-off (${w.syncOffUid}), which serves ${w.registry.host}/syncoff: Palette would list none of the packs; nothing was published (push --palette-sync checks Palette first)\n`,
    );
    expect(await listedVersions(at('syncoff'), env(w.palette.url))).toEqual(['edge-one:1.0.0']);
    expect(syncCalls(w.palette)).toEqual([]);
  });

  it('palette doctor fails the palette-sync check and says how to fix it', async () => {
    const run = await runCli(['palette', 'doctor', ...at('syncoff')], { env: env(w.palette.url) });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toContain(`FAIL  palette-sync: Palette registry sync-off (${w.syncOffUid}) has sync off\n        fix: edit sync-off: turn sync on (Pack registries need it)\n`);
    expect(run.stdout).toContain(`ok    palette-registry: Palette registry sync-off (${w.syncOffUid}) serves ${w.registry.host}/syncoff`);
    expect(run.stdout).toContain('1 problem found');
    // In GitHub Actions (here with --json), the failed check is an annotation too (was: none, only the exit code).
    const json = await runCli(['palette', 'doctor', ...at('syncoff'), '--json'], { env: { ...env(w.palette.url), GITHUB_ACTIONS: 'true' } });
    expect(json.code).toBe(1);
    expect(json.stderr).toBe(`::error title=packpub palette doctor::palette-sync: Palette registry sync-off (${w.syncOffUid}) has sync off%0Afix: edit sync-off: turn sync on (Pack registries need it)\n`);
    expect(run.stderr).not.toContain('::');
    const report = JSON.parse(json.stdout) as { problems: number; findings: { check: string; ok: boolean; fix?: string }[] };
    expect(report.problems).toBe(1);
    expect(report.findings.filter((f) => !f.ok)).toEqual([
      { check: 'palette-sync', ok: false, message: `Palette registry sync-off (${w.syncOffUid}) has sync off`, fix: 'edit sync-off: turn sync on (Pack registries need it)' },
    ]);
    expect(syncCalls(w.palette)).toEqual([]);
    expect(w.palette.violations()).toEqual([]);
  });
});

// Palette's client waited a fixed 30 s per answer whatever --request-timeout said: a Palette that accepts
// connections and never answers kept `palette doctor --request-timeout 1` running for ten minutes.
describe('palette doctor --palette-registry naming a registry that does not serve the target', () => {
  it('fails palette-registry naming the one that does (was: "no Pack registry in Palette serves", fix "run packpub palette register")', async () => {
    const run = await runCli(['palette', 'doctor', ...at('drybase'), '--palette-registry', 'sync-off'], { env: env(w.palette.url) });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toContain(
      `FAIL  palette-registry: Palette registry "sync-off" (--palette-registry or palette.registry) does not serve ${w.registry.host}/drybase; dry-lab (${w.dryUid}) does\n        fix: give --palette-registry (or palette.registry) ${w.dryUid}, or leave it out\n`,
    );
    expect(run.stdout).not.toContain('palette register');
    const none = await runCli(['palette', 'doctor', ...at('drybase'), '--palette-registry', 'no-such-registry'], { env: env(w.palette.url) });
    expect(none.code).toBe(1);
    expect(none.stdout).toContain(`FAIL  palette-registry: Palette registry "no-such-registry" (--palette-registry or palette.registry) does not serve ${w.registry.host}/drybase; dry-lab (${w.dryUid}) does\n`);
    expect(syncCalls(w.palette)).toEqual([]);
  });
});

describe('a Palette that never answers', () => {
  it('palette doctor gives up on each call after --request-timeout, on every attempt, and names the timeout', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const host = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const run = await runCli(['palette', 'doctor', ...at('syncoff'), '--request-timeout', '0.1'], { env: env(`http://${host}`) });
      expect(run.code, run.stderr).toBe(1);
      // --retry-attempts' default (6), as for registries: each attempt waits its 100 ms, the backoff between them is skipped.
      expect(run.stdout).toContain(`FAIL  palette-access: Palette at ${host} did not answer list OCI registries within 100 ms (6 attempts)`);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

describe('a self-hosted Palette over HTTPS with a private CA (--palette-ca-file)', () => {
  it('without the CA the run fails once on the certificate; with it the sync succeeds', async () => {
    const push = await runCli(['push', w.packs.tls, ...at('tlsbase')], { env: env(w.palette.url) });
    expect(push.code, push.stderr).toBe(0);
    const host = w.tlsPalette.url.slice('https://'.length);

    const before = w.tlsPalette.connections;
    const refused = await runCli(['palette', 'sync', 'edge-tls:1.0.0', ...at('tlsbase'), ...fast], { env: env(w.tlsPalette.url) });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain(`error: TLS certificate of Palette at ${host} could not be verified (`);
    expect(refused.stderr).toContain('hint: pass --palette-ca-file');
    // One handshake, refused by packpub: not retried, and no request reached the API.
    expect(w.tlsPalette.connections - before).toBe(1);
    expect(w.tlsPalette.requests).toEqual([]);

    const run = await runCli(['palette', 'sync', 'edge-tls:1.0.0', ...at('tlsbase'), '--palette-ca-file', w.certs.caFile, ...fast], { env: env(w.tlsPalette.url) });
    expectSyncedVisible(run, w.tlsPalette, w.tlsUid, 'edge-tls');
  });

  it('an unreadable or non-PEM CA file is refused with exit 2 before anything is published or sent', async () => {
    const notPem = join(w.root, 'not-a-ca.pem');
    await writeFile(notPem, 'this is not a certificate\n');
    const missing = join(w.root, 'missing-ca.pem');
    const cases = [
      { file: missing, message: `error: cannot read --palette-ca-file ${missing}: ` },
      { file: notPem, message: `error: --palette-ca-file ${notPem} holds no PEM certificate` },
    ];
    for (const c of cases) {
      const connections = w.tlsPalette.connections;
      const requests = w.tlsPalette.requests.length;
      const sync = await runCli(['palette', 'sync', 'edge-tls:1.0.0', ...at('tlsbase'), '--palette-ca-file', c.file], { env: env(w.tlsPalette.url) });
      expect(sync.code, sync.stderr).toBe(2);
      expect(sync.stderr).toContain(c.message);
      const push = await runCli(['push', w.packs.two, ...at('tlsbase'), '--palette-sync', '--palette-ca-file', c.file], { env: env(w.tlsPalette.url) });
      expect(push.code, push.stderr).toBe(2);
      expect(push.stderr).toContain(c.message);
      expect(w.tlsPalette.connections).toBe(connections);
      expect(w.tlsPalette.requests.length).toBe(requests);
    }
    // The refused pushes published nothing.
    expect(await listedVersions(at('tlsbase'), env(w.palette.url))).toEqual(['edge-tls:1.0.0']);
  });

  it('a bad palette.caFile in packpub.yaml is named as that setting, not as a flag the user never gave', async () => {
    const dir = join(w.root, 'ca-in-file');
    await mkdir(dir, { recursive: true });
    const yaml = join(dir, 'packpub.yaml');
    await writeFile(yaml, `targets:\n  lab:\n    registry: ${w.registry.host}/tlsbase\n    palette:\n      caFile: missing-ca.pem\n`);
    const requests = w.tlsPalette.requests.length;
    const sync = await runCli(['palette', 'sync', 'edge-tls:1.0.0', '--target', 'lab'], { env: env(w.tlsPalette.url), cwd: dir });
    expect(sync.code, sync.stderr).toBe(2);
    expect(sync.stderr).toContain(`error: cannot read palette.caFile (targets.lab.palette in ${yaml}) ${join(dir, 'missing-ca.pem')}: `);
    expect(sync.stderr).not.toContain('--palette-ca-file');
    expect(w.tlsPalette.requests.length).toBe(requests);
    // The flag beats the file, and is named when it is the one used.
    const flag = await runCli(['palette', 'sync', 'edge-tls:1.0.0', '--target', 'lab', '--palette-ca-file', w.certs.caFile, ...fast], { env: env(w.tlsPalette.url), cwd: dir });
    expect(flag.code, flag.stderr).toBe(0);
  });
});

describe('push --dry-run --palette-sync checks Palette with reads only, and says it did not sync', () => {
  const paletteWrites = (palette: typeof w.palette, since: number) => palette.requests.slice(since).filter((r) => r.method !== 'GET');

  it('a registry with sync on: exit 0, what would be synced, nothing published or synced', async () => {
    const before = w.palette.requests.length;
    const run = await runCli(['push', w.packs.dry, ...at('drybase'), '--dry-run', '--palette-sync', ...fast], { env: env(w.palette.url) });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`palette: ${w.registry.host}/drybase is served by Palette registry dry-lab (${w.dryUid})`);
    expect(run.stderr).toContain('palette: dry run: would sync Palette registry dry-lab and confirm edge-dry:1.0.0; nothing was synced\n');
    expect(w.palette.requests.length).toBeGreaterThan(before);
    expect(paletteWrites(w.palette, before)).toEqual([]);
    expect(w.palette.registries.get(w.dryUid)?.syncRequests).toEqual([]);
    expect(await listedVersions(at('drybase'), env(w.palette.url))).toEqual([]);

    const json = await runCli(['push', w.packs.dry, ...at('drybase'), '--dry-run', '--palette-sync', '--json', ...fast], { env: env(w.palette.url) });
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as { ok: boolean; results: { status: string; plan: string }[]; palette: { status: string; targets: { forced: boolean; sync: { outcome: string }; packs: unknown[] }[] } };
    expect(report.ok).toBe(true);
    expect(report.results.map((r) => `${r.status}/${r.plan}`)).toEqual(['planned/new']);
    expect(report.palette.status).toBe('dry-run');
    expect(report.palette.targets[0]?.sync.outcome).toBe('dry-run');
    expect(report.palette.targets[0]?.forced).toBe(false);
    expect(report.palette.targets[0]?.packs).toEqual([{ name: 'edge-dry', version: '1.0.0', status: 'planned' }]);
    expect(paletteWrites(w.palette, before)).toEqual([]);
    expect(await listedVersions(at('drybase'), env(w.palette.url))).toEqual([]);
  });

  it('no API key, or no registry serving the target, fails the dry run as it would fail the push', async () => {
    const before = w.palette.requests.length;
    const { SPECTROCLOUD_APIKEY: _key, ...noKey } = env(w.palette.url);
    const keyless = await runCli(['push', w.packs.dry, ...at('drybase'), '--dry-run', '--palette-sync'], { env: noKey });
    expect(keyless.code).toBe(2);
    expect(keyless.stderr).toContain('error: no Palette API key');
    const none = await runCli(['push', w.packs.dry, ...at('nobase'), '--dry-run', '--palette-sync', ...fast], { env: env(w.palette.url) });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`error: no Pack registry in Palette serves ${w.registry.host}/nobase`);
    expect(paletteWrites(w.palette, before)).toEqual([]);
    expect(await listedVersions(at('nobase'), env(w.palette.url))).toEqual([]);
  });

  it('a registry with sync off: exit 2, as the real run is refused; nothing synced (was: exit 3, WOULD NOT BE VISIBLE)', async () => {
    const run = await runCli(['push', w.packs.dry, ...at('syncoff'), '--dry-run', '--palette-sync', '--json', ...fast], { env: env(w.palette.url) });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`error: sync is off for Palette registry sync-off (${w.syncOffUid}), which serves ${w.registry.host}/syncoff: Palette would list none of the packs; nothing was published`);
    expect(syncCalls(w.palette)).toEqual([]);
    expect(await listedVersions(at('syncoff'), env(w.palette.url))).not.toContain('edge-dry:1.0.0');
  });
});

describe('Palette flags that would be ignored are refused before anything is published or sent', () => {
  it('push with a Palette flag but no --palette-sync, and palette flags of another action: exit 2', async () => {
    const before = w.palette.requests.length;
    const push = await runCli(['push', w.packs.dry, ...at('ignoredbase'), '--palette-registry', 'dry-lab', '--palette-timeout', '30'], { env: env(w.palette.url) });
    expect(push.code).toBe(2);
    expect(push.stderr).toContain('error: --palette-registry, --palette-timeout apply only with --palette-sync, which is not given: Palette would not be synced');
    expect(push.stderr).toContain('hint: add --palette-sync');
    expect(await listedVersions(at('ignoredbase'), env(w.palette.url))).toEqual([]);
    const cases: [string[], string][] = [
      [['palette', 'doctor', ...at('drybase'), '--force-sync'], '--force-sync applies to palette sync, not palette doctor: it would be ignored'],
      [['palette', 'sync', ...at('drybase'), '--palette-registry-name', 'x'], '--palette-registry-name applies to palette register, not palette sync: it would be ignored'],
      [['palette', 'register', ...at('drybase'), '--palette-registry', 'dry-lab'], '--palette-registry applies to palette sync and doctor, not palette register: it would be ignored'],
      [['palette', 'register', ...at('drybase'), '--palette-project', 'p1'], '--palette-project applies to palette sync and doctor, not palette register: it would be ignored'],
      [['palette', 'register', ...at('drybase'), '--palette-ecr-external-id', 'ext'], '--palette-ecr-external-id needs --palette-ecr-role-arn: without a role it would be ignored'],
      // doctor and register wait for no sync: a --palette-timeout was silently ignored (was: exit 0 or 1, however long Palette took).
      [['palette', 'doctor', ...at('drybase'), '--palette-timeout', '5'], '--palette-timeout applies to palette sync, not palette doctor: it would be ignored'],
      [['palette', 'register', ...at('drybase'), '--palette-poll-interval', '1'], '--palette-poll-interval applies to palette sync, not palette register: it would be ignored'],
    ];
    for (const [argv, message] of cases) {
      const run = await runCli(argv, { env: env(w.palette.url) });
      expect(run.code, argv.join(' ')).toBe(2);
      expect(run.stderr).toContain(`error: ${message}`);
    }
    expect(w.palette.requests.length).toBe(before);
  });

  it('a bad --palette-timeout or --palette-poll-interval is exit 2 before anything is published or listed', async () => {
    const before = w.palette.requests.length;
    const push = await runCli(['push', w.packs.dry, ...at('badseconds'), '--palette-sync', '--palette-timeout', '0'], { env: env(w.palette.url) });
    expect(push.code, push.stderr).toBe(2);
    expect(push.stderr).toContain('error: --palette-timeout must be a number above 0 and at most 86400, got "0"\n');
    expect(push.stdout).toBe('');
    expect(await listedVersions(at('badseconds'), env(w.palette.url))).toEqual([]);
    const sync = await runCli(['palette', 'sync', ...at('badseconds'), '--palette-poll-interval', '-1'], { env: env(w.palette.url) });
    expect(sync.code, sync.stderr).toBe(2);
    expect(sync.stderr).toContain('error: --palette-poll-interval must be a number above 0 and at most 3600, got "-1"\n');
    expect(w.palette.requests.length).toBe(before);
  });

  it('push --palette-sync where every pack fails says Palette was not synced (exit 1)', async () => {
    const broken = join(w.root, 'broken');
    await mkdir(broken, { recursive: true });
    await writeFile(join(broken, 'pack.json'), '{"name": "edge-broken"}\n');
    const before = w.palette.requests.length;
    const run = await runCli(['push', broken, ...at('drybase'), '--palette-sync', ...fast], { env: env(w.palette.url) });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`palette: no version was published to ${w.registry.host}/drybase: Palette was not synced\n`);
    expect(w.palette.requests.slice(before).filter((r) => r.method !== 'GET')).toEqual([]);
    expect(await listedVersions(at('drybase'), env(w.palette.url))).toEqual([]);
  });
});

describe('a Palette that pages its registry list', () => {
  it('push --palette-sync finds the registry on the last page, syncs it and confirms the pack', async () => {
    const run = await runCli(['push', w.packs.paged, ...at('pagedbase'), '--palette-sync', ...fast], { env: env(w.pagedPalette.url) });
    expect(run.code, run.stderr).toBe(0);
    const packUid = w.pagedPalette.registries.get(w.pagedUid)?.index.get('edge-paged')?.get('1.0.0')?.packUid;
    expect(run.stdout).toContain(`visible in Palette edge-paged:1.0.0 (packUid ${packUid})`);
    expect(w.pagedPalette.registries.get(w.pagedUid)?.syncRequests).toHaveLength(1);
    expect(w.pagedPalette.requests.filter((r) => r.path === '/v1/registries/oci/summary' && r.query.startsWith('?continue='))).toHaveLength(4);
    expect(await listedVersions(at('pagedbase'), env(w.palette.url))).toEqual(['edge-paged:1.0.0']);
  });

  it('a list paged slower than --palette-timeout: no page asked for past the deadline, exit 1 saying so (was: every page, each given a second or more, then the sync)', async () => {
    const syncsBefore = w.pagedPalette.registries.get(w.pagedUid)?.syncRequests.length ?? 0;
    const run = await runCli(['palette', 'sync', ...at('pagedbase'), '--palette-timeout', '1', ...fast], { env: env(w.slowPages.url) });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/^error: Palette at 127\.0\.0\.1:\d+ did not finish answering list OCI registries by the deadline \(--palette-timeout\): [123] pages? read, and it asks for more$/m);
    // 4 pages in all, 400 ms each: the deadline (1 s) came before the last was asked for.
    expect(w.slowPages.requests.filter((r) => r.path.startsWith('/v1/registries/oci/summary')).length).toBeLessThan(4);
    expect(w.pagedPalette.registries.get(w.pagedUid)?.syncRequests.length).toBe(syncsBefore);
  });
});

// Palette's calls retried a fixed 7 attempts (2 s doubling to 30 s) whatever --retry-attempts and --retry-deadline said.
describe('a Palette answering 503 or 429: --retry-attempts and --retry-deadline hold as for registries', () => {
  const SUMMARY = '/v1/registries/oci/summary';
  /** What the stand-in saw from `since` on, as "METHOD path status". */
  const seen = (since: number) => w.palette.requests.slice(since).map((r) => `${r.method} ${r.path} ${r.status}`);
  /** Run `argv` against the stand-in during `outage`; the outage ends with the run. */
  async function during(outage: NonNullable<typeof w.palette.outage>, argv: string[]) {
    const since = w.palette.requests.length;
    w.palette.outage = { ...outage };
    try {
      const run = await runCli(argv, { env: env(w.palette.url) });
      return { run, since, saw: seen(since) };
    } finally {
      w.palette.outage = undefined;
    }
  }

  it('--retry-attempts 2: palette sync stops after 2 requests, with exit 1 and the count', async () => {
    const { run, saw } = await during({ status: 503 }, ['palette', 'sync', 'edge-one:1.0.0', ...at('syncoff'), '--retry-attempts', '2', ...fast]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain('error: Palette answered 503 to list OCI registries after 2 attempts: Service is unavailable\nhint: Palette is failing; try again later\n');
    expect(saw).toEqual([`GET ${SUMMARY} 503`, `GET ${SUMMARY} 503`]);
    expect(syncCalls(w.palette)).toEqual([]);
  });

  it('--retry-deadline bounds the backoff, and a Retry-After past it fails at once instead of waiting', async () => {
    // 503s: retried with backoff (250 ms doubling, up to 3 s) until the next wait would end past the 5 s deadline.
    const backoff = await during({ status: 503 }, ['palette', 'sync', 'edge-one:1.0.0', ...at('syncoff'), '--retry-attempts', '100', '--retry-deadline', '5', ...fast]);
    expect(backoff.run.code, backoff.run.stderr).toBe(1);
    expect(backoff.run.stderr).toMatch(/error: Palette answered 503 to list OCI registries after \d attempts, when --retry-deadline \(5 s\) came: Service is unavailable\n/);
    const times = w.palette.requests.slice(backoff.since).map((r) => r.at);
    expect(times.length).toBeGreaterThanOrEqual(4);
    expect(times.length).toBeLessThan(100);
    expect(backoff.saw).toEqual(times.map(() => `GET ${SUMMARY} 503`));
    expect((times.at(-1) as number) - (times[0] as number)).toBeLessThanOrEqual(5_000);

    // A 429 asking for 30 s when the deadline leaves 10: one request, no wait, and the message says why.
    const slept = clock.slept.length;
    const asked = await during({ status: 429, retryAfter: '30' }, ['palette', 'sync', 'edge-one:1.0.0', ...at('syncoff'), '--retry-deadline', '10', ...fast]);
    expect(asked.run.code, asked.run.stderr).toBe(1);
    expect(asked.run.stderr).toContain('error: Palette answered 429 to list OCI registries after 1 attempt (rate limit); it asked to wait 30 s (Retry-After), past --retry-deadline (10 s)\n');
    expect(asked.saw).toEqual([`GET ${SUMMARY} 429`]);
    expect(clock.slept.slice(slept).filter((ms) => ms >= 1_000)).toEqual([]);
  });

  it('by default (6 attempts) a short outage is ridden out: push --palette-sync publishes and Palette lists the pack', async () => {
    const uid = w.palette.addRegistry('basic', 'retry-lab', { endpoint: `http://${w.registry.host}`, baseContentPath: 'retrybase', providerType: 'pack', isSyncSupported: true, auth: { type: 'noAuth' } });
    const { run, saw } = await during({ status: 503, retryAfter: '1', times: 3 }, ['push', w.packs.retry, ...at('retrybase'), '--palette-sync', ...fast]);
    expect(run.code, run.stderr).toBe(0);
    expect(saw.slice(0, 4)).toEqual([`GET ${SUMMARY} 503`, `GET ${SUMMARY} 503`, `GET ${SUMMARY} 503`, `GET ${SUMMARY} 200`]);
    const packUid = w.palette.registries.get(uid)?.index.get('edge-retry')?.get('1.0.0')?.packUid;
    expect(packUid).toMatch(/^[0-9a-f]{24}$/);
    expect(run.stdout).toContain(`visible in Palette edge-retry:1.0.0 (packUid ${packUid})`);
    expect(await listedVersions(at('retrybase'), env(w.palette.url))).toEqual(['edge-retry:1.0.0']);
    // Without the outage ending, the default gives up after 6 requests.
    const { run: down, saw: downSaw } = await during({ status: 503 }, ['palette', 'sync', 'edge-retry:1.0.0', ...at('retrybase'), ...fast]);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('error: Palette answered 503 to list OCI registries after 6 attempts: Service is unavailable\n');
    expect(downSaw).toEqual(Array.from({ length: 6 }, () => `GET ${SUMMARY} 503`));
  });
});

// Palette's 500 was never retried (a registry's is): one 500 on a status poll ended a sync wait. A call that
// creates something must not be sent twice, though: after an answer that may come after Palette acted, the
// create was retried and met its own registry ("already exists", exit 1, though it was created).
describe('a Palette answering 5xx: reads retried, a create not sent twice', () => {
  const CREATE = '/v1/registries/oci/basic';
  const seen = (since: number) => w.palette.requests.slice(since).map((r) => `${r.method} ${r.path} ${r.status}`);
  const withBase = (base: string) => [...w.palette.registries.values()].filter((r) => r.spec['baseContentPath'] === base);

  it('a 500 on reads is retried as a registry\'s is: push --palette-sync rides out two and Palette lists the pack', async () => {
    const uid = w.palette.addRegistry('basic', 'five-hundred-lab', { endpoint: `http://${w.registry.host}`, baseContentPath: 'fivebase', providerType: 'pack', isSyncSupported: true, auth: { type: 'noAuth' } });
    const pack = await writePack(join(w.root, 'five'), { name: 'edge-five', version: '1.0.0' });
    const since = w.palette.requests.length;
    w.palette.fault = { method: 'GET', path: /\/sync\/status$/, status: 500, times: 2 };
    const run = await runCli(['push', pack, ...at('fivebase'), '--palette-sync', ...fast], { env: env(w.palette.url) });
    expect(run.code, run.stderr).toBe(0);
    const status = `/v1/registries/oci/${uid}/basic/sync/status`;
    expect(seen(since).filter((r) => r.includes('/sync/status')).slice(0, 3)).toEqual([`GET ${status} 500`, `GET ${status} 500`, `GET ${status} 200`]);
    const packUid = w.palette.registries.get(uid)?.index.get('edge-five')?.get('1.0.0')?.packUid;
    expect(run.stdout).toContain(`visible in Palette edge-five:1.0.0 (packUid ${packUid})`);
    expect(await listedVersions(at('fivebase'), env(w.palette.url))).toEqual(['edge-five:1.0.0']);
  });

  it.each<{ status: 502 | 500 | 'reset'; says: string }>([
    { status: 502, says: 'Palette answered 502 to create registry 127-0-0-1-{base} after 1 attempt: injected 502 (not sent again)' },
    { status: 500, says: 'Palette answered 500 to create registry 127-0-0-1-{base} after 1 attempt: injected 500 (not sent again)' },
    { status: 'reset', says: 'closed the connection during create registry 127-0-0-1-{base} (1 attempt) (not sent again)' },
  ])('register: a $status after Palette created the registry is not sent again (exit 1, one create); register again finds it', async ({ status, says }) => {
    const base = `once${status}`;
    const since = w.palette.requests.length;
    w.palette.fault = { method: 'POST', path: /^\/v1\/registries\/oci\/basic$/, status, afterActing: true };
    const run = await runCli(['palette', 'register', ...at(base)], { env: env(w.palette.url) });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(says.replace('{base}', base));
    expect(run.stderr).toContain('hint: Palette may have created it before the answer failed: run `packpub palette register` again, which uses a registry that serves the target instead of creating a second one\n');
    expect(seen(since).filter((r) => r.startsWith(`POST ${CREATE} `))).toHaveLength(1);
    expect(withBase(base)).toHaveLength(1);

    const again = await runCli(['palette', 'register', ...at(base)], { env: env(w.palette.url) });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('already serves');
    expect(withBase(base)).toHaveLength(1);
  });

  it('register: a 503 (answered before Palette acts) is retried, and the registry is created once', async () => {
    const since = w.palette.requests.length;
    w.palette.fault = { method: 'POST', path: /^\/v1\/registries\/oci\/basic$/, status: 503 };
    const run = await runCli(['palette', 'register', ...at('retried503')], { env: env(w.palette.url) });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^created Palette registry 127-0-0-1-retried503 /);
    expect(seen(since).filter((r) => r.startsWith(`POST ${CREATE} `))).toEqual([`POST ${CREATE} 503`, `POST ${CREATE} 201`]);
    expect(withBase('retried503')).toHaveLength(1);
  });

  it('register: a name Palette already gives another registry is not asked for (was: exit 1, "409 DuplicateRegistryName ... see Palette\'s message above")', async () => {
    const since = w.palette.requests.length;
    const taken = await runCli(['palette', 'register', ...at('namebase'), '--palette-registry-name', 'dry-lab'], { env: env(w.palette.url) });
    expect(taken.code, taken.stderr).toBe(2);
    expect(taken.stderr).toContain(`error: Palette already has a registry named dry-lab (${w.dryUid}, endpoint http://${w.registry.host}): nothing was created\n`);
    expect(taken.stderr).toContain('hint: give the new registry another name with --palette-registry-name');
    expect(seen(since).filter((r) => r.startsWith('POST '))).toEqual([]);
    expect(withBase('namebase')).toHaveLength(0);
    // The default name (host without port, base path) given already to a registry of another port: the port goes into the name.
    const port = w.registry.host.split(':')[1] ?? '';
    w.palette.addRegistry('basic', '127-0-0-1-namebase', { endpoint: 'http://127.0.0.1:1', baseContentPath: 'namebase', providerType: 'pack', isSyncSupported: true, auth: { type: 'noAuth' } });
    const named = await runCli(['palette', 'register', ...at('namebase')], { env: env(w.palette.url) });
    expect(named.code, named.stderr).toBe(0);
    expect(named.stdout).toMatch(new RegExp(`^created Palette registry 127-0-0-1-${port}-namebase \\([0-9a-f]{24}\\) for `));
    expect(withBase('namebase').map((r) => `${r.name} ${String(r.spec['endpoint'])}`).sort()).toEqual([`127-0-0-1-${port}-namebase http://${w.registry.host}`, '127-0-0-1-namebase http://127.0.0.1:1']);
  });

  it('Palette\'s sync message with control characters is shown as U+XXXX, never sent to the terminal', async () => {
    // The version exists (palette sync refuses one that does not); the tests above found drybase empty.
    await holdVersions(w.registry, [{ repository: 'drybase/spectro-packs/archive/edge-dry', tag: '1.0.0' }]);
    w.palette.failSyncs = 'broken\u001b[2J\u001b]0;owned\u0007';
    try {
      const run = await runCli(['palette', 'sync', 'edge-dry:1.0.0', ...at('drybase'), ...fast], { env: env(w.palette.url) });
      expect(run.code, run.stderr).toBe(3);
      expect(run.stdout).toContain("NOT VISIBLE in Palette edge-dry:1.0.0: Palette's sync of dry-lab failed: brokenU+001B[2JU+001B]0;ownedU+0007");
      expect(run.stderr).toContain('palette: sync status Failed: brokenU+001B[2JU+001B]0;ownedU+0007');
      expect(run.stdout + run.stderr).not.toContain('\u001b');
    } finally {
      w.palette.failSyncs = undefined;
    }
  });
});

describe('what Palette answers is shown, never obeyed', () => {
  it('a registry name and a packUid with control characters: doctor, the dry run and the sync show them as U+XXXX; a packUid that is no string is left out', async () => {
    const uid = w.palette.addRegistry('basic', 'evil\u001b]0;owned\u0007-lab', { endpoint: `http://${w.registry.host}`, baseContentPath: 'evilbase', providerType: 'pack', isSyncSupported: true, auth: { type: 'noAuth' } });
    const shown = 'evilU+001B]0;ownedU+0007-lab';
    const runs = [];
    const dry = await runCli(['push', w.packs.dry, ...at('evilbase'), '--dry-run', '--palette-sync', ...fast], { env: env(w.palette.url) });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toContain(`palette: dry run: would sync Palette registry ${shown} and confirm edge-dry:1.0.0; nothing was synced`);
    // The registry serves another base path on the target's host: a doctor finding names it.
    const doctor = await runCli(['palette', 'doctor', ...at('drybase')], { env: env(w.palette.url) });
    expect(doctor.stdout).toContain(`palette-base-path: Palette registry ${shown} (${uid}) serves another base path on this host (evilbase)`);
    try {
      w.palette.packUidAnswer = () => 'uid\u001b[2J';
      const sync = await runCli(['push', w.packs.dry, ...at('evilbase'), '--palette-sync', ...fast], { env: env(w.palette.url) });
      expect(sync.code, sync.stderr).toBe(0);
      expect(sync.stdout).toContain('visible in Palette edge-dry:1.0.0 (packUid uidU+001B[2J)');
      w.palette.packUidAnswer = () => ({ nested: [1] });
      const json = await runCli(['palette', 'sync', 'edge-dry:1.0.0', ...at('evilbase'), '--json', ...fast], { env: env(w.palette.url) });
      expect(json.code, json.stderr).toBe(0);
      const report = JSON.parse(json.stdout) as { targets: Array<{ registry: { uid: string }; packs: Array<Record<string, unknown>> }> };
      expect(report.targets[0]?.registry.uid).toBe(uid);
      expect(report.targets[0]?.packs).toEqual([{ name: 'edge-dry', version: '1.0.0', status: 'visible' }]);
      runs.push(sync, json);
    } finally {
      w.palette.packUidAnswer = undefined;
    }
    for (const run of [dry, doctor, ...runs]) expect(run.stdout + run.stderr).not.toContain('\u001b');
  });
});

describe('palette sync of several targets', () => {
  it('a target no Palette registry serves ends the run before any sync: exit 1, nothing synced (was: the first target synced, then the refusal)', async () => {
    const uid = w.palette.addRegistry('basic', 'multi-lab', { endpoint: `http://${w.registry.host}`, baseContentPath: 'multibase', providerType: 'pack', isSyncSupported: true, auth: { type: 'noAuth' } });
    const push = await runCli(['push', w.packs.one, ...at('multibase')], { env: env(w.palette.url) });
    expect(push.code, push.stderr).toBe(0);
    const config = join(w.root, 'multi.yaml');
    await writeFile(config, `targets:\n  served:\n    registry: ${w.registry.host}/multibase\n  unserved:\n    registry: ${w.registry.host}/multimissing\n`);
    const run = await runCli(['palette', 'sync', '--config', config, '--target', 'served,unserved', '--json', ...fast], { env: env(w.palette.url) });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`error: no Pack registry in Palette serves ${w.registry.host}/multimissing; nothing was synced (palette sync finds the Palette registry of every target first)\n`);
    expect(run.stderr).toContain('hint: run packpub palette doctor to see the settings Palette needs, or packpub palette register to add it\n');
    expect(w.palette.registries.get(uid)?.syncRequests).toEqual([]);
    // Both served: each target's registry synced once, its pack confirmed.
    const other = w.palette.addRegistry('basic', 'multi-lab-2', { endpoint: `http://${w.registry.host}`, baseContentPath: 'multimissing', providerType: 'pack', isSyncSupported: true, auth: { type: 'noAuth' } });
    const both = await runCli(['palette', 'sync', '--config', config, '--target', 'served,unserved', ...fast], { env: env(w.palette.url) });
    expect(both.code, both.stderr).toBe(0);
    expect(both.stdout).toMatch(/^visible in Palette edge-one:1\.0\.0 \(packUid [0-9a-f]{24}\)\n$/);
    expect(w.palette.registries.get(uid)?.syncRequests).toHaveLength(1);
    expect(w.palette.registries.get(other)?.syncRequests).toHaveLength(1);
  });
});
