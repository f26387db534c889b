import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipWaits } from '../support/clock.js';
import { startPaletteStandin } from '../support/palette-standin.js';
import { startRegistry } from '../support/registry.js';
import { type CliRun, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { expectReportValid } from '../support/report-schema.js';
import { setup } from '../support/stage.js';

/*
 * The Palette closed loop through the CLI against a real registry (htpasswd) and the Palette stand-in:
 * register (twice), push --palette-sync, a replaced version, a failing sync, a timeout, wrong and
 * project-scoped keys, doctor on a wrong base path and a Helm-provider registry. Every run stays under
 * Palette's rate limit, and no secret is ever printed. The client's pacing and polls wait on a skipping
 * clock, which the stand-in counts its rate limit in (support/clock.ts): the limit is checked on the time
 * the client waited for.
 */

const USER = 'palette-e2e';
const PASSWORD = `pw-${Math.random().toString(36).slice(2)}-e2e-registry`;
const KEY = `apikey-${Math.random().toString(36).slice(2)}-tenant-admin`;
const PROJECT_KEY = `apikey-${Math.random().toString(36).slice(2)}-project`;

const clock = skipWaits();
const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-palette-e2e-');
  const alpha = await writePack(join(root, 'alpha'), { name: 'e2e-alpha', version: '1.0.0' });
  const beta = await writePack(join(root, 'beta'), { name: 'e2e-beta', version: '0.3.1' });
  const registry = stack.add(await startRegistry({ auth: 'htpasswd', users: { [USER]: PASSWORD } }));
  const palette = stack.add(await startPaletteStandin({
    keys: { [KEY]: { role: 'tenant-admin' }, [PROJECT_KEY]: { role: 'project', projects: ['p-1'] } },
    labs: { [registry.host]: { url: registry.url } },
    startDelayPolls: 1,
    clock,
  }));
  return { registry, palette, root, alpha, beta };
});
const env = (extra: Record<string, string> = {}) => ({
  HOME: join(w.root, 'home'),
  DOCKER_CONFIG: join(w.root, 'docker'),
  SOURCE_DATE_EPOCH: '1700000000',
  SPECTROCLOUD_HOST: w.palette.url,
  SPECTROCLOUD_APIKEY: KEY,
  PACKPUB_USERNAME: USER,
  PACKPUB_PASSWORD: PASSWORD,
  ...extra,
});
const at = (base: string) => ['--registry', `${w.registry.host}/${base}`];
const fast = ['--palette-poll-interval', '0.02'];

function expectNoSecrets(run: CliRun): void {
  for (const s of [KEY, PROJECT_KEY, PASSWORD]) {
    expect(run.stdout).not.toContain(s);
    expect(run.stderr).not.toContain(s);
  }
}
const registriesWithBase = (base: string) => [...w.palette.registries.values()].filter((r) => r.spec['baseContentPath'] === base);

describe('Palette closed loop through the CLI', () => {
  it('register twice creates one Pack registry; push --palette-sync ends with every pack visible', async () => {
    const first = await runCli(['palette', 'register', ...at('journey')], { env: env() });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^created Palette registry 127-0-0-1-journey \([0-9a-f]{24}\) for 127\.0\.0\.1:\d+\/journey; Palette validated the settings\n$/);
    const again = await runCli(['palette', 'register', ...at('journey')], { env: env() });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already serves');
    expect(registriesWithBase('journey')).toHaveLength(1);
    const stored = registriesWithBase('journey')[0];
    expect(stored?.spec).toMatchObject({ providerType: 'pack', isSyncSupported: true, endpoint: `http://${w.registry.host}`, auth: { type: 'basic', username: USER } });

    const push = await runCli(['push', w.alpha, w.beta, ...at('journey'), '--palette-sync', ...fast], { env: env() });
    expect(push.code).toBe(0);
    const uid = stored?.uid ?? '';
    const packUid = (name: string, version: string) => w.palette.registries.get(uid)?.index.get(name)?.get(version)?.packUid;
    expect(push.stdout).toContain(`visible in Palette e2e-alpha:1.0.0 (packUid ${packUid('e2e-alpha', '1.0.0')})`);
    expect(push.stdout).toContain(`visible in Palette e2e-beta:0.3.1 (packUid ${packUid('e2e-beta', '0.3.1')})`);
    expect(push.stderr).toContain(`is served by Palette registry 127-0-0-1-journey (${uid})`);
    expect(push.stderr).toContain('palette: sync status InProgress');
    // The status before the first sync has no words: no dangling colon.
    expect(push.stderr).toContain('palette: sync status (none)\n');
    // The sync was a plain one (nothing replaced), at tenant scope.
    expect(w.palette.registries.get(uid)?.syncRequests.at(-1)?.force).toBe(false);
    expectNoSecrets(first);
    expectNoSecrets(push);
  });

  it('a replaced version forces the sync, and Palette then holds the new digest', async () => {
    const uid = registriesWithBase('journey')[0]?.uid ?? '';
    await writeFile(join(w.alpha, 'README.md'), '# e2e-alpha\n\nChanged after publishing.\n');
    const push = await runCli(['push', w.alpha, ...at('journey'), '--force', '--palette-sync', '--json', ...fast], { env: env() });
    expect(push.code).toBe(0);
    const report = JSON.parse(push.stdout) as { results: { status: string; digest: string }[]; palette: { status: string; targets: { forced: boolean; packs: { status: string }[] }[] } };
    // The report, palette included, is what docs/report.schema.json documents.
    expectReportValid(report);
    expect(report.results[0]?.status).toBe('overwritten');
    expect(report.palette.status).toBe('visible');
    expect(report.palette.targets[0]?.forced).toBe(true);
    expect(w.palette.registries.get(uid)?.syncRequests.at(-1)?.force).toBe(true);
    expect(w.palette.registries.get(uid)?.index.get('e2e-alpha')?.get('1.0.0')?.digest).toBe(report.results[0]?.digest);
  });

  it('--json-lines puts the palette line just before the summary, and every line is documented', async () => {
    const run = await runCli(['push', w.beta, ...at('journey'), '--palette-sync', '--json-lines', ...fast], { env: env() });
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; status?: string });
    expect(lines.map((l) => l.type)).toEqual(['result', 'palette', 'summary']);
    expect(lines[1]?.status).toBe('visible');
    for (const line of lines) expectReportValid(line, '#/$defs/jsonLine');
  });

  it('a target in packpub.yaml names its Palette: endpoint, registry and the variable holding the key', async () => {
    const dir = join(w.root, 'with-config');
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'packpub.yaml'),
      [
        'targets:',
        '  journey:',
        `    registry: ${w.registry.host}/journey`,
        '    auth:',
        `      username: ${USER}`,
        '      passwordEnv: JOURNEY_PASSWORD',
        '    palette:',
        `      endpoint: ${w.palette.url}`,
        '      registry: 127-0-0-1-journey',
        '      apiKeyEnv: JOURNEY_PALETTE_KEY',
        '',
      ].join('\n'),
    );
    // Spectro's variables name another Palette: the target's own section wins, so its key goes nowhere else.
    const bare = {
      HOME: join(w.root, 'home'),
      DOCKER_CONFIG: join(w.root, 'docker'),
      JOURNEY_PASSWORD: PASSWORD,
      JOURNEY_PALETTE_KEY: KEY,
      SPECTROCLOUD_HOST: 'http://127.0.0.1:9',
      SPECTROCLOUD_APIKEY: 'another-palettes-key',
    };
    const run = await runCli(['palette', 'sync', 'e2e-beta:0.3.1', '--target', 'journey', ...fast], { env: bare, cwd: dir });
    expect(run.stderr).toContain('is served by Palette registry 127-0-0-1-journey');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('visible in Palette e2e-beta:0.3.1');
    const unset = await runCli(['palette', 'sync', '--target', 'journey'], { env: { ...bare, JOURNEY_PALETTE_KEY: '' }, cwd: dir });
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain('palette.apiKeyEnv names JOURNEY_PALETTE_KEY, which is empty');
  });

  it('palette sync of a version the registry does not hold: exit 1 naming it, and Palette is asked for nothing', async () => {
    const asked = w.palette.requests.length;
    const base = `${w.registry.host}/journey/spectro-packs/archive`;
    // A typo in the name: the pack does not exist at all.
    const typo = await runCli(['palette', 'sync', 'e2e-betta:0.3.1', ...at('journey'), ...fast], { env: env() });
    expect(typo.code).toBe(1);
    expect(typo.stdout).toBe('');
    expect(typo.stderr).toBe(
      `error: ${base}/e2e-betta:0.3.1 does not exist: nothing was synced\n` +
        'hint: palette sync confirms versions already published: push it first, or see what is published with packpub list\n',
    );
    // One published version beside two missing ones: refused whole, so nothing is half synced.
    const mixed = await runCli(['palette', 'sync', 'e2e-beta:9.9.9', 'e2e-beta:0.3.1', 'e2e-betta:0.3.1', ...at('journey'), ...fast], { env: env() });
    expect(mixed.code).toBe(1);
    expect(mixed.stdout).toBe('');
    expect(mixed.stderr).toBe(
      `error: ${base}/e2e-beta:9.9.9, ${base}/e2e-betta:0.3.1 do not exist: nothing was synced\n` +
        'hint: palette sync confirms versions already published: push them first, or see what is published with packpub list\n',
    );
    expect(w.palette.requests.slice(asked)).toEqual([]);
  });

  it('a failing sync shows Palette\'s message and exits 3 (published, not visible)', async () => {
    w.palette.failSyncs = 'failed to pull e2e-beta:0.3.1: manifest unknown';
    const run = await runCli(['palette', 'sync', ...at('journey'), ...fast], { env: env() });
    expect(run.code).toBe(3);
    expect(run.stdout).toContain("NOT VISIBLE in Palette e2e-beta:0.3.1: Palette's sync of 127-0-0-1-journey failed: failed to pull e2e-beta:0.3.1: manifest unknown");
    expect(run.stderr).toContain('error: published, but not visible in Palette (exit 3)');
  });

  it('a sync that does not finish in --palette-timeout exits 3 with status published-not-visible', async () => {
    w.palette.hangSyncs = true;
    try {
      // Waits are skipped (the skipping clock), so a timeout of 30 s costs six polls; 0.4 s was shorter than one request
      // under a loaded machine (each request gets at least 1 s), which ended the run on that request's error (exit 1).
      const run = await runCli(['palette', 'sync', 'e2e-beta:0.3.1', ...at('journey'), '--palette-timeout', '30', '--palette-poll-interval', '5', '--json'], { env: env() });
      expect(run.code, run.stderr).toBe(3);
      const out = JSON.parse(run.stdout) as { status: string; targets: { sync: { outcome: string }; packs: { status: string; reason: string }[] }[] };
      expectReportValid(out, '#/$defs/paletteRun');
      expect(out.status).toBe('published-not-visible');
      expect(out.targets[0]?.sync.outcome).toBe('timeout');
      expect(out.targets[0]?.packs[0]).toMatchObject({ status: 'not-visible' });
      expect(out.targets[0]?.packs[0]?.reason).toContain('timed out after');
    } finally {
      w.palette.hangSyncs = false;
    }
  });

  it('a wrong key and a project-scoped key give clear errors; the key never shows, not even with --debug', async () => {
    const wrong = await runCli(['palette', 'sync', ...at('journey'), '--debug'], { env: env({ SPECTROCLOUD_APIKEY: 'wrong-key-0123456789' }) });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`error: Palette at ${w.palette.url.slice('http://'.length)} rejected the API key (401)`);
    expect(wrong.stderr).toContain('hint: check SPECTROCLOUD_APIKEY');
    expect(wrong.stderr).not.toContain('wrong-key-0123456789');
    // doctor: the rejected key is one problem, not a second one from Palette's own check it could not make.
    const doctor = await runCli(['palette', 'doctor', ...at('journey')], { env: env({ SPECTROCLOUD_APIKEY: 'wrong-key-0123456789' }) });
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toContain(`FAIL  palette-access: Palette at ${w.palette.url.slice('http://'.length)} rejected the API key (401)`);
    expect(doctor.stdout).not.toContain('palette-validate');
    expect(doctor.stdout).toContain('\n1 problem found\n');
    const project = await runCli(['palette', 'sync', ...at('journey'), '--palette-project', 'p-1', '--debug'], { env: env({ SPECTROCLOUD_APIKEY: PROJECT_KEY }) });
    expect(project.code).toBe(1);
    expect(project.stderr).toContain('error: the Palette API key may not list OCI registries (403)');
    expect(project.stderr).toContain('tenant admin');
    expectNoSecrets(project);
    // The key from stdin works as well as the environment.
    const stdin = await runCli(['palette', 'register', ...at('journey'), '--palette-api-key-stdin'], { env: env({ SPECTROCLOUD_APIKEY: '' }), stdin: `${KEY}\n` });
    expect(stdin.code).toBe(0);
    expect(stdin.stdout).toContain('already serves');
  });

  it('no Palette registry for the target: push --palette-sync publishes nothing, and points to doctor, register, or publishing without it', async () => {
    const run = await runCli(['push', w.beta, ...at('unregistered'), '--palette-sync', ...fast], { env: env() });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`error: no Pack registry in Palette serves ${w.registry.host}/unregistered; nothing was published (push --palette-sync checks Palette first)`);
    expect(run.stderr).toContain('hint: run packpub palette doctor to see the settings Palette needs, or packpub palette register to add it; or drop --palette-sync to publish without confirming the packs in Palette');
    const list = await runCli(['list', ...at('unregistered'), '--json'], { env: env() });
    expect(JSON.parse(list.stdout).packs).toHaveLength(0);
    // As the hint says: without --palette-sync the pack is published (doctor, next, needs a base repository).
    const without = await runCli(['push', w.beta, ...at('unregistered')], { env: env() });
    expect(without.code).toBe(0);
    const after = await runCli(['list', ...at('unregistered'), '--json'], { env: env() });
    expect(JSON.parse(after.stdout).packs).toHaveLength(1);
  });

  it('doctor names a base path that includes spectro-packs/archive and a Helm-provider registry, with fixes', async () => {
    w.palette.addRegistry('basic', 'wrong-base', { endpoint: `https://${w.registry.host}`, baseContentPath: 'docbase/spectro-packs/archive', providerType: 'pack', isSyncSupported: true, auth: { type: 'basic', username: USER, password: PASSWORD } });
    w.palette.addRegistry('basic', 'helm-one', { endpoint: `http://${w.registry.host}/`, baseContentPath: 'docbase', providerType: 'helm', isSyncSupported: true, auth: { type: 'basic', username: USER, password: PASSWORD } });
    const push = await runCli(['push', w.beta, ...at('docbase')], { env: env() });
    expect(push.code).toBe(0);
    const run = await runCli(['palette', 'doctor', ...at('docbase')], { env: env() });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('  Provider                 Pack');
    expect(run.stdout).toContain(`  Endpoint                 http://${w.registry.host}`);
    expect(run.stdout).toContain('  Base Content Path        docbase');
    expect(run.stdout).toMatch(/FAIL {2}palette-base-path: Palette registry wrong-base \([0-9a-f]+\) has Base Content Path docbase\/spectro-packs\/archive, which includes spectro-packs\/archive/);
    expect(run.stdout).toContain('fix: edit wrong-base: Base Content Path docbase');
    expect(run.stdout).toMatch(/FAIL {2}palette-provider: Palette registry helm-one \([0-9a-f]+\) on this host has provider Helm/);
    expect(run.stdout).toContain(`FAIL  palette-registry: no Pack registry in Palette serves ${w.registry.host}/docbase`);
    expect(run.stdout).toContain('ok    palette-validate: Palette reached the registry');
    expect(run.stdout).toContain('ok    base-repository:');
    expect(run.stdout).toContain('3 problems found');
    const json = await runCli(['palette', 'doctor', ...at('docbase'), '--json'], { env: env() });
    const report = JSON.parse(json.stdout) as { problems: number; findings: { check: string; ok: boolean }[] };
    expect(report.problems).toBe(3);
    expect(report.findings.filter((f) => !f.ok).map((f) => f.check).sort()).toEqual(['palette-base-path', 'palette-provider', 'palette-registry']);
    expectNoSecrets(run);
    expectNoSecrets(json);
  });

  it('doctor on a host whose other registries serve other base paths (Helm charts, Zarf, packs with ECR auth): named, not failed; exit 0 (was: 3 problems, "change the provider" of the Helm registry)', async () => {
    const auth = { type: 'basic', username: USER, password: PASSWORD };
    const served = w.palette.addRegistry('basic', 'mix-packs', { endpoint: `http://${w.registry.host}`, baseContentPath: 'mixbase', providerType: 'pack', isSyncSupported: true, auth });
    const charts = w.palette.addRegistry('basic', 'mix-charts', { endpoint: `https://${w.registry.host}`, baseContentPath: 'helm-charts', providerType: 'helm', isSyncSupported: true, auth });
    const zarf = w.palette.addRegistry('basic', 'mix-zarf', { endpoint: `https://${w.registry.host}`, baseContentPath: 'zarf', providerType: 'zarf', isSyncSupported: false, auth });
    const ecr = w.palette.addRegistry('ecr', 'mix-ecr', { endpoint: w.registry.host, baseContentPath: 'elsewhere', providerType: 'pack', isSyncSupported: true, isPrivate: true });
    // Helm charts under the target's base path, beside the Pack registry serving it.
    const beside = w.palette.addRegistry('basic', 'mix-charts-here', { endpoint: `http://${w.registry.host}`, baseContentPath: 'mixbase', providerType: 'helm', isSyncSupported: true, auth });
    const push = await runCli(['push', w.beta, ...at('mixbase')], { env: env() });
    expect(push.code, push.stderr).toBe(0);
    const run = await runCli(['palette', 'doctor', ...at('mixbase')], { env: env() });
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toContain(`ok    palette-registry: Palette registry mix-packs (${served}) serves ${w.registry.host}/mixbase\n`);
    expect(run.stdout).toContain(`ok    palette-provider: Palette registry mix-charts (${charts}) on this host has provider Helm and serves another base path (helm-charts)\n`);
    expect(run.stdout).toContain(`ok    palette-provider: Palette registry mix-zarf (${zarf}) on this host has provider Zarf and serves another base path (zarf)\n`);
    expect(run.stdout).toContain(`ok    palette-base-path: Palette registry mix-ecr (${ecr}) serves another base path on this host (elsewhere)\n`);
    expect(run.stdout).toContain(`ok    palette-provider: Palette registry mix-charts-here (${beside}) on this host has provider Helm; the packs come through mix-packs (${served}), a Pack registry\n`);
    expect(run.stdout).not.toContain('FAIL');
    expect(run.stdout).toContain('no problems found');
    expectNoSecrets(run);
  });

  it('no run went over Palette\'s rate limit, and every body passed the schema', () => {
    expect(w.palette.violations()).toEqual([]);
    expect(w.palette.requests.length).toBeGreaterThan(20);
  });
});
