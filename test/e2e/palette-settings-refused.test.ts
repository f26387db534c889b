import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipWaits } from '../support/clock.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { startPaletteStandin } from '../support/palette-standin.js';
import { registryAdmin } from '../support/registry-admin.js';
import { setup } from '../support/stage.js';
import { paletteLabWithHello } from '../support/published.js';

/*
 * Palette settings refused or matched as a user means them: what a user saw exit 0 (or a late, unclear error) for, and
 * what each run now says and leaves in Palette.
 */

const KEY = `apikey-${Math.random().toString(36).slice(2)}-tenant-admin`;
const ECR_HOST = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const clock = skipWaits();
const w = setup((stack) => paletteLabWithHello(stack, 'packpub-palette-', KEY, clock));

/** The registries Palette holds, as uid -> name and endpoint (to see that a run created or changed none). */
function held(): string[] {
  return [...w.palette.registries.values()].map((r) => `${r.uid} ${r.name} ${String(r.spec['endpoint'])} ${String(r.spec['baseContentPath'])}`).sort();
}

describe('register and doctor flags given as "" (an unset CI variable)', () => {
  it('--palette-registry-name "", --palette-ecr-role-arn "", --palette-ecr-external-id "": exit 2 naming the flag, nothing sent to Palette', async () => {
    const before = held();
    const asked = w.palette.requests.length;
    const cases: [string[], string][] = [
      [['palette', 'register', '--registry', `${w.registry.host}/other`, '--palette-registry-name', ''], '--palette-registry-name is empty: Palette would be asked to create a registry with no name'],
      [['palette', 'register', '--registry', `${ECR_HOST}/packs`, '--palette-ecr-role-arn', ''], '--palette-ecr-role-arn is empty: Palette would be sent an empty role ARN to assume'],
      [['palette', 'doctor', '--registry', `${ECR_HOST}/packs`, '--palette-ecr-role-arn', ' '], '--palette-ecr-role-arn is empty'],
      [['palette', 'register', '--registry', `${ECR_HOST}/packs`, '--palette-ecr-role-arn', 'arn:aws:iam::123456789012:role/palette', '--palette-ecr-external-id', ''], "--palette-ecr-external-id is empty: Palette would be sent an empty external id for the role's trust"],
    ];
    for (const [argv, message] of cases) {
      const run = await runCli(argv, { env: w.env });
      expect(run.code, run.stdout + run.stderr).toBe(2);
      expect(run.stderr).toContain(`error: ${message}`);
      expect(run.stderr).toContain('an unset CI variable often leaves it empty');
      expect(run.stdout).toBe('');
    }
    expect(w.palette.requests.length).toBe(asked);
    expect(held()).toEqual(before);
  });
});

describe('a Palette endpoint with a path after the host', () => {
  it('ending with /v1 (the API base copied): exit 2 before anything is published or sent (was: exit 1 "could not list OCI registries (404 ResourceNotFound): Resource not found", hint "see Palette\'s message above")', async () => {
    const asked = w.palette.requests.length;
    const push = await runCli(['push', w.pack, '--registry', `${w.registry.host}/packs`, '--palette-sync'], { env: { ...w.env, SPECTROCLOUD_HOST: `${w.palette.url}/v1` } });
    expect(push.code, push.stdout + push.stderr).toBe(2);
    expect(push.stderr).toContain(`error: Palette endpoint "${w.palette.url}/v1" ends with /v1, which packpub puts before every call itself (it would ask for /v1/v1/...)\n`);
    expect(push.stderr).toContain(`hint: give the API host alone: ${w.palette.url}\n`);
    expect(await registryAdmin(w.registry).digestOf('packs/spectro-packs/archive/hello', '1.0.0')).toBeUndefined();
    const doctor = await runCli(['palette', 'doctor', '--registry', `${w.registry.host}/packs`, '--palette-endpoint', `${w.palette.url}/V1/`], { env: w.env });
    expect(doctor.code, doctor.stdout + doctor.stderr).toBe(2);
    expect(doctor.stderr).toContain('ends with /v1, which packpub puts before every call itself');
    expect(w.palette.requests.length).toBe(asked);
  });

  it('another path Palette answers 404 for: the hint names the endpoint (was: "see Palette\'s message above")', async () => {
    const run = await runCli(['palette', 'sync', '--registry', `${w.registry.host}/packs`], { env: { ...w.env, SPECTROCLOUD_HOST: `${w.palette.url}/api` } });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stderr).toContain('error: Palette could not list OCI registries (404 ResourceNotFound): Resource not found\n');
    expect(run.stderr).toContain(`hint: Palette at ${new URL(w.palette.url).host} has no /api/v1/registries/oci/summary: check --palette-endpoint (or SPECTROCLOUD_HOST): the API host itself, without a path unless your Palette is served under one`);
    expect(run.stderr).not.toContain("see Palette's message above");
  });
});

describe('SPECTROCLOUD_DEFAULT_PROJECT_ID set but empty (an unset CI secret)', () => {
  it('push --palette-sync and palette sync: exit 2 naming the variable, nothing published, Palette not asked (was: confirmed at tenant scope, exit 0)', async () => {
    const env = { ...w.env, SPECTROCLOUD_DEFAULT_PROJECT_ID: '' };
    const asked = w.palette.requests.length;
    const message = 'error: SPECTROCLOUD_DEFAULT_PROJECT_ID is set but empty: the packs would be confirmed at tenant scope instead of in your project';
    const push = await runCli(['push', w.pack, '--registry', `${w.registry.host}/packs`, '--palette-sync', '--palette-poll-interval', '0.02'], { env });
    expect(push.code, push.stdout + push.stderr).toBe(2);
    expect(push.stderr).toContain(message);
    expect(push.stderr).toContain('unset it to confirm the packs at tenant scope');
    expect(await registryAdmin(w.registry).digestOf('packs/spectro-packs/archive/hello', '1.0.0')).toBeUndefined();
    const sync = await runCli(['palette', 'sync', '--registry', `${w.registry.host}/packs`], { env: { ...env, SPECTROCLOUD_DEFAULT_PROJECT_ID: ' ' } });
    expect(sync.code, sync.stdout + sync.stderr).toBe(2);
    expect(sync.stderr).toContain(message);
    expect(w.palette.requests.length).toBe(asked);
    // A flag beats the variable: given, the run goes on with that project.
    const run = await runCli(['push', w.pack, '--registry', `${w.registry.host}/packs`, '--palette-sync', '--palette-poll-interval', '0.02', '--palette-project', 'proj-1'], { env });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('visible in Palette hello:1.0.0');
    expect(w.palette.requests.slice(asked).some((r) => r.prefix === '/v1/packs' && r.projectUid === 'proj-1')).toBe(true);
  });
});

describe('a Palette registry whose endpoint names the default port, another case or a trailing slash', () => {
  // Palette reaches `harbor.example.com` (the lab) at a loopback registry; packpub never connects to it here.
  const h = setup(async (stack) => {
    const root = await stack.tempDir('packpub-palette-host-');
    // The lab's registry of the file's world stands for it (a Palette stand-in of its own).
    const palette = stack.add(await startPaletteStandin({ keys: { [KEY]: { role: 'tenant-admin' } }, labs: { 'harbor.example.com': { url: w.registry.url } }, clock }));
    const env = { HOME: join(root, 'home'), DOCKER_CONFIG: join(root, 'docker'), SPECTROCLOUD_HOST: palette.url, SPECTROCLOUD_APIKEY: KEY };
    return { palette, env };
  });
  const pack = (endpoint: string, base: string) => h.palette.addRegistry('basic', `harbor-${base}`, { endpoint, baseContentPath: base, providerType: 'pack', isSyncSupported: true, auth: { type: 'noAuth' } });

  it('serves the target: register finds it and creates none beside it (was: a second registry, exit 0)', async () => {
    const cases: [string, string, string][] = [
      ['https://Harbor.Example.com:443/', 'harbor.example.com/one', 'one'],
      ['https://harbor.example.com', 'harbor.example.com:443/two', 'two'],
      ['harbor.example.com:443', 'HARBOR.example.com/three', 'three'],
    ];
    for (const [endpoint, target, base] of cases) {
      const uid = pack(endpoint, base);
      const before = h.palette.registries.size;
      const run = await runCli(['palette', 'register', '--registry', target], { env: h.env });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toContain(`Palette registry harbor-${base} (${uid}) already serves`);
      expect(run.stdout).toContain('nothing created');
      expect(h.palette.registries.size).toBe(before);
    }
    // Another port is another registry.
    pack('https://harbor.example.com:8443', 'four');
    const before = h.palette.registries.size;
    const run = await runCli(['palette', 'register', '--registry', 'harbor.example.com/four'], { env: h.env });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('created Palette registry harbor-example-com-four');
    expect(h.palette.registries.size).toBe(before + 1);
  });
});

describe('palette register finds a registry serving the target with the other authentication type', () => {
  it('says so on stderr and in --json, creates nothing, exit 1 (was: "already serves", no word of it; then a warning, exit 0)', async () => {
    const ecrEnv = { ...w.env, PACKPUB_PALETTE_ECR_ACCESS_KEY_ID: 'AKIAEXAMPLEPALETTE01', PACKPUB_PALETTE_ECR_SECRET_ACCESS_KEY: `secret-${Math.random().toString(36).slice(2)}` };
    const basicOnEcr = w.palette.addRegistry('basic', 'ecr-as-basic', { endpoint: `https://${ECR_HOST}`, baseContentPath: 'l2', providerType: 'pack', isSyncSupported: true, auth: { type: 'basic', username: 'AWS', password: 'expired-token' } });
    const before = held();
    const run = await runCli(['palette', 'register', '--registry', `${ECR_HOST}/l2`], { env: ecrEnv });
    // Palette's sync of it stops once the token expires: a registry Palette keeps syncing, what was asked, is not there.
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toContain(`Palette registry ecr-as-basic (${basicOnEcr}) is registered for ${ECR_HOST}/l2 but cannot sync it as it is: nothing created`);
    expect(run.stderr).toBe(
      `error: Palette registry ecr-as-basic has authentication type Basic, but ${ECR_HOST} is an ECR registry, whose passwords expire after 12 hours: Palette needs type ECR to keep syncing it; remove it in Palette and run packpub palette register again\n`,
    );
    expect(run.stderr).not.toContain(ecrEnv.PACKPUB_PALETTE_ECR_SECRET_ACCESS_KEY);
    // The other way round, in --json: an ECR registry in Palette for a registry that is not ECR.
    w.palette.addRegistry('ecr', 'basic-as-ecr', { endpoint: w.registry.host, baseContentPath: 'l2', providerType: 'pack', isSyncSupported: true, isPrivate: false });
    const json = await runCli(['palette', 'register', '--registry', `${w.registry.host}/l2`, '--json'], { env: w.env });
    expect(json.code, json.stdout + json.stderr).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      status: 'exists',
      registry: { name: 'basic-as-ecr', flavour: 'ecr' },
      problems: [`Palette registry basic-as-ecr has authentication type ECR, but ${w.registry.host} is not an ECR registry: Palette needs type Basic to keep syncing it; remove it in Palette and run packpub palette register again`],
    });
    expect(held().length).toBe(before.length + 1);
  });
});

describe('a Palette that tells sync times to the second', () => {
  // Palette's clock stands still on a whole second: every sync it runs starts in the second the previous one did.
  // The first poll after the trigger still shows the previous run's Success (startDelayPolls), which must not count.
  const second = Math.floor(Date.now() / 1000) * 1000;
  const s = setup(async (stack) => {
    const root = await stack.tempDir('packpub-palette-second-');
    // The registry of the file's world, under a base path of this block's own (`second`), with a Palette of its own.
    const registry = w.registry;
    const palette = stack.add(
      await startPaletteStandin({ keys: { [KEY]: { role: 'tenant-admin' } }, labs: { [registry.host]: { url: registry.url } }, clock: { now: () => second }, rate: { perSecond: 1000, burst: 1000 }, startDelayPolls: 1 }),
    );
    const pack = await writePack(join(root, 'hello'), { name: 'hello', version: '1.0.0' });
    const env = { HOME: join(root, 'home'), DOCKER_CONFIG: join(root, 'docker'), SPECTROCLOUD_HOST: palette.url, SPECTROCLOUD_APIKEY: KEY };
    return { registry, palette, pack, env };
  });

  it('a sync seen running after the trigger, done with the same time as the one before, is this run\'s (was: never fresh, exit 3 at --palette-timeout)', async () => {
    const uid = s.palette.addRegistry('basic', 'second', { endpoint: `http://${s.registry.host}`, baseContentPath: 'second', providerType: 'pack', isSyncSupported: true, auth: { type: 'noAuth' } }, { status: 'Success', message: 'Synced 0 pack versions', lastRunTime: new Date(second).toISOString() });
    const push = await runCli(['push', s.pack, '--registry', `${s.registry.host}/second`], { env: s.env });
    expect(push.code, push.stdout + push.stderr).toBe(0);
    const run = await runCli(['palette', 'sync', '--registry', `${s.registry.host}/second`, '--palette-poll-interval', '1', '--palette-timeout', '60'], { env: s.env });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('visible in Palette hello:1.0.0');
    const stored = s.palette.registries.get(uid);
    expect(stored?.syncRequests).toHaveLength(1);
    expect(stored?.sync.lastRunTime).toBe(new Date(second).toISOString());
    expect(stored?.index.get('hello')?.has('1.0.0')).toBe(true);
  });
});

describe('one Palette API key goes to one Palette', () => {
  // Another Palette, which must never see the key of the lab's.
  const o = setup(async (stack) => {
    const other = stack.add(await startPaletteStandin({ keys: { 'key-of-the-other-palette': { role: 'tenant-admin' } }, clock }));
    const root = await stack.tempDir('packpub-palette-keys-');
    return { other, root };
  });

  it('SPECTROCLOUD_APIKEY beside SPECTROCLOUD_HOST is not sent to --palette-endpoint or palette.endpoint naming another Palette (was: sent there, 401, exit 1)', async () => {
    const other = new URL(o.other.url).host;
    const lab = new URL(w.palette.url).host;
    const asked = w.palette.requests.length;
    const flag = await runCli(['palette', 'sync', '--registry', `${w.registry.host}/packs`, '--palette-endpoint', o.other.url], { env: w.env });
    expect(flag.code, flag.stdout + flag.stderr).toBe(2);
    expect(flag.stderr).toContain(`error: SPECTROCLOUD_APIKEY is the key of SPECTROCLOUD_HOST's Palette (${lab}), but --palette-endpoint names ${other}: the key would go to another Palette`);
    await writeFile(join(o.root, 'packpub.yaml'), `targets:\n  a:\n    registry: ${w.registry.host}/packs\n    palette:\n      endpoint: ${o.other.url}\n`);
    const file = await runCli(['palette', 'register', '--target', 'a'], { env: w.env, cwd: o.root });
    expect(file.code, file.stdout + file.stderr).toBe(2);
    expect(file.stderr).toContain(`error: SPECTROCLOUD_APIKEY is the key of SPECTROCLOUD_HOST's Palette (${lab}), but palette.endpoint (targets.a.palette in `);
    expect(o.other.requests).toEqual([]);
    expect(w.palette.requests.length).toBe(asked);
  });

  it('one key for two targets whose palette.endpoint names two Palettes: refused before the first sync (was: sent to both)', async () => {
    await writeFile(
      join(o.root, 'packpub.yaml'),
      `targets:\n  a:\n    registry: ${w.registry.host}/packs\n    palette:\n      endpoint: ${w.palette.url}\n  b:\n    registry: ${w.registry.host}/other\n    palette:\n      endpoint: ${o.other.url}\n`,
    );
    const asked = w.palette.requests.length;
    const { SPECTROCLOUD_HOST: _host, ...env } = w.env;
    for (const [extra, from, stdin] of [[[], 'SPECTROCLOUD_APIKEY', undefined], [['--palette-api-key-stdin'], '--palette-api-key-stdin', `${KEY}\n`]] as const) {
      const run = await runCli(['palette', 'sync', '--target', 'a,b', ...extra], { env, cwd: o.root, ...(stdin === undefined ? {} : { stdin }) });
      expect(run.code, run.stdout + run.stderr).toBe(2);
      expect(run.stderr).toContain(`error: the Palette API key of ${from} would go to two Palettes in one run: ${new URL(w.palette.url).host} (palette.endpoint (targets.a.palette in `);
      expect(run.stderr).toContain(`and ${new URL(o.other.url).host} (palette.endpoint (targets.b.palette in `);
      expect(run.stdout).toBe('');
    }
    expect(o.other.requests).toEqual([]);
    expect(w.palette.requests.length).toBe(asked);
    // Each target with the key of its own Palette (palette.apiKeyEnv): both Palettes asked, each with its own key.
    await writeFile(
      join(o.root, 'packpub.yaml'),
      `targets:\n  a:\n    registry: ${w.registry.host}/packs\n    palette:\n      endpoint: ${w.palette.url}\n  b:\n    registry: ${w.registry.host}/other\n    palette:\n      endpoint: ${o.other.url}\n      apiKeyEnv: OTHER_PALETTE_KEY\n`,
    );
    const run = await runCli(['palette', 'sync', '--target', 'a,b', '--palette-poll-interval', '0.02'], { env: { ...env, OTHER_PALETTE_KEY: 'key-of-the-other-palette' }, cwd: o.root });
    expect(run.stderr).not.toContain('would go to');
    expect(w.palette.requests.length).toBeGreaterThan(asked);
    expect(o.other.requests.length).toBeGreaterThan(0);
    expect(o.other.requests.every((r) => r.status !== 401)).toBe(true);
  });
});

describe('--palette-registry with several targets', () => {
  it('is refused before anything is published or synced (was: published to both, the first synced, then exit 2 "serves <a>, not <b>")', async () => {
    const admin = registryAdmin(w.registry);
    const asked = w.palette.requests.length;
    const run = await runCli(['push', w.pack, '--registry', `${w.registry.host}/two-a,${w.registry.host}/two-b`, '--palette-sync', '--palette-registry', 'lab', '--palette-poll-interval', '0.02'], { env: w.env });
    expect(run.code, run.stdout + run.stderr).toBe(2);
    expect(run.stderr).toContain(`error: --palette-registry lab names one Palette registry, which serves one host and base path, but the run has 2 targets: ${w.registry.host}/two-a, ${w.registry.host}/two-b`);
    expect(await admin.digestOf('two-a/spectro-packs/archive/hello', '1.0.0')).toBeUndefined();
    expect(await admin.digestOf('two-b/spectro-packs/archive/hello', '1.0.0')).toBeUndefined();
    const sync = await runCli(['palette', 'sync', '--registry', `${w.registry.host}/packs,${w.registry.host}/two-b`, '--palette-registry', 'lab'], { env: w.env });
    expect(sync.code, sync.stdout + sync.stderr).toBe(2);
    expect(sync.stderr).toContain('error: --palette-registry lab names one Palette registry');
    expect(w.palette.requests.length).toBe(asked);
  });
});

describe('palette.apiKeyEnv naming a variable holding only blanks', () => {
  it('is named in the error (was: "no Palette API key", hinting SPECTROCLOUD_APIKEY), and in doctor\'s note', async () => {
    const root = join(w.root, 'apikeyenv');
    await mkdir(root, { recursive: true });
    await writeFile(join(root, 'packpub.yaml'), `targets:\n  a:\n    registry: ${w.registry.host}/packs\n    palette:\n      endpoint: ${w.palette.url}\n      apiKeyEnv: LAB_PALETTE_KEY\n`);
    const asked = w.palette.requests.length;
    const sync = await runCli(['palette', 'sync', '--target', 'a'], { env: { ...w.env, LAB_PALETTE_KEY: '  ' }, cwd: root });
    expect(sync.code, sync.stdout + sync.stderr).toBe(2);
    expect(sync.stderr).toContain('error: palette.apiKeyEnv names LAB_PALETTE_KEY, which is empty');
    const doctor = await runCli(['palette', 'doctor', '--target', 'a'], { env: { ...w.env, LAB_PALETTE_KEY: '' }, cwd: root });
    expect(doctor.stdout).toContain('(set LAB_PALETTE_KEY or --palette-api-key-stdin to compare');
    expect(w.palette.requests.length).toBe(asked);
  });
});

describe('palette register when two Palette registries serve the target', () => {
  it('names the other one on stderr and in --json, creates nothing, exit 0 (was: "already serves", no word of the second)', async () => {
    const spec = { endpoint: `http://${w.registry.host}`, baseContentPath: 'dup', providerType: 'pack', isSyncSupported: true, auth: { type: 'noAuth' } };
    const first = w.palette.addRegistry('basic', 'dup-one', spec);
    const second = w.palette.addRegistry('basic', 'dup-two', spec);
    const before = held();
    const run = await runCli(['palette', 'register', '--registry', `${w.registry.host}/dup`], { env: w.env });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain(`Palette registry dup-one (${first}) already serves ${w.registry.host}/dup: nothing created`);
    expect(run.stderr).toBe(
      `warning: Palette registry dup-one is not the only one serving ${w.registry.host}/dup: so does dup-two (${second}), and palette sync asks which one (--palette-registry) until all but one are removed (packpub palette doctor lists them)\n`,
    );
    const json = await runCli(['palette', 'register', '--registry', `${w.registry.host}/dup`, '--json'], { env: w.env });
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'exists', warnings: [expect.stringContaining(`so does dup-two (${second})`)] });
    expect(held()).toEqual(before);
  });
});
