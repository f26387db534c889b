import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWaits } from '../support/clock.js';
import { startEcrProxy, type EcrProxy } from '../support/ecr-proxy.js';
import { startEcrStandin, TEST_ECR_HOST, useFakeAwsEnvironment, type EcrStandin } from '../support/ecr-standin.js';
import { startHarborStandin, type HarborStandin } from '../support/harbor-standin.js';
import { ecrLabAuthorize, startPaletteStandin, type PaletteStandin } from '../support/palette-standin.js';
import { sharedRegistry } from '../support/registry.js';
import { type CliRun, runCli } from '../support/cli.js';
import { tempDir } from '../support/files.js';
import { writePack } from '../support/packs.js';

/*
 * The closed loop against the Harbor-like lab (token auth, robot accounts, REST listing) and the ECR-like lab
 * (ECR API stand-in, ECR-style registry front): Palette reads each with the credentials registered in it,
 * as the real one does. push --palette-sync ends with every pack visible; doctor names a robot without
 * rights and an ECR endpoint written with https://. The client's pacing and polls wait on a skipping clock,
 * which the stand-in counts its rate limit in (support/clock.ts).
 */

const KEY = `apikey-${Math.random().toString(36).slice(2)}-labs`;
const ADMIN = 'admin';
const ADMIN_PASSWORD = `Harbor-${Math.random().toString(36).slice(2)}`;
const ROBOT = 'robot$spectro-oci-registry+palette';
const ROBOT_PASSWORD = `robot-${Math.random().toString(36).slice(2)}-secret`;
const NORIGHTS = 'robot$spectro-oci-registry+norights';
const NORIGHTS_PASSWORD = `norights-${Math.random().toString(36).slice(2)}-secret`;
const PALETTE_AWS_SECRET = `palette-aws-${Math.random().toString(36).slice(2)}-secret`;
const SECRETS = [KEY, ADMIN_PASSWORD, ROBOT_PASSWORD, NORIGHTS_PASSWORD, PALETTE_AWS_SECRET];

const clock = skipWaits();
let harbor: HarborStandin;
let ecr: EcrStandin;
let proxy: EcrProxy;
let palette: PaletteStandin;
let root: string;
let cleanup: () => Promise<void>;
let restoreEnv: (() => void) | undefined;
let packA: string;
let packB: string;
let ecrHost: string;

beforeAll(async () => {
  restoreEnv = useFakeAwsEnvironment('testAKIDPUSHER');
  ({ dir: root, cleanup } = await tempDir('packpub-palette-labs-'));
  packA = await writePack(join(root, 'a'), { name: 'lab-alpha', version: '1.2.0' });
  packB = await writePack(join(root, 'b'), { name: 'lab-beta', version: '0.9.0' });
  harbor = await startHarborStandin({
    users: { [ADMIN]: ADMIN_PASSWORD, [ROBOT]: ROBOT_PASSWORD, [NORIGHTS]: { password: NORIGHTS_PASSWORD, actions: [], catalog: false } },
    projects: ['spectro-oci-registry'],
  });
  // The ECR front keeps its repositories under a base path of the worker's shared registry.
  const registry = await sharedRegistry({ auth: 'none' });
  ecr = await startEcrStandin();
  proxy = await startEcrProxy({ upstream: registry.url, base: registry.base, standin: ecr });
  ecrHost = `${TEST_ECR_HOST}:${proxy.port}`;
  palette = await startPaletteStandin({
    keys: { [KEY]: { role: 'tenant-admin' } },
    labs: {
      [harbor.host]: { url: `http://${harbor.host}`, repositories: () => harbor.repositories },
      [ecrHost]: { url: `http://127.0.0.1:${proxy.port}`, authorize: ecrLabAuthorize(ecr.url, ecr.region), repositories: () => ecr.repositories.keys() },
    },
    startDelayPolls: 1,
    clock,
  });
});
afterAll(async () => {
  await palette?.close();
  await proxy?.close();
  await ecr?.close();
  await harbor?.close();
  await cleanup?.();
  restoreEnv?.();
});

const env = (extra: Record<string, string> = {}) => ({
  HOME: join(root, 'home'),
  DOCKER_CONFIG: join(root, 'docker'),
  SOURCE_DATE_EPOCH: '1700000000',
  SPECTROCLOUD_HOST: palette.url,
  SPECTROCLOUD_APIKEY: KEY,
  ...extra,
});
const fast = ['--palette-poll-interval', '0.02'];
const harborAt = (base: string) => ['--registry', `${harbor.host}/${base}`, '--registry-type', 'harbor'];
const ecrAt = (base: string) => ['--registry', `${ecrHost}/${base}`, '--resolve', `${ecrHost}:127.0.0.1`, '--plain-http', '--ecr-endpoint', ecr.url];
const paletteEcrEnv = { PACKPUB_PALETTE_ECR_ACCESS_KEY_ID: 'testAKIDPALETTE', PACKPUB_PALETTE_ECR_SECRET_ACCESS_KEY: PALETTE_AWS_SECRET };

function expectNoSecrets(run: CliRun): void {
  for (const s of SECRETS) {
    expect(run.stdout).not.toContain(s);
    expect(run.stderr).not.toContain(s);
  }
}

describe('Palette closed loop on the Harbor-like lab', () => {
  it('register with the robot Palette will use, then push --palette-sync: every pack visible', async () => {
    const reg = await runCli(['palette', 'register', ...harborAt('spectro-oci-registry'), '-u', ROBOT, '--password-stdin'], { env: env(), stdin: ROBOT_PASSWORD });
    expect(reg.stderr).toBe('');
    expect(reg.code).toBe(0);
    const stored = [...palette.registries.values()].find((r) => r.spec['endpoint'] === `http://${harbor.host}`);
    expect(stored?.spec).toMatchObject({ baseContentPath: 'spectro-oci-registry', providerType: 'pack', auth: { type: 'basic', username: ROBOT } });

    const push = await runCli(['push', packA, packB, ...harborAt('spectro-oci-registry'), '-u', ADMIN, '--password-stdin', '--palette-sync', ...fast], {
      env: env(),
      stdin: ADMIN_PASSWORD,
    });
    expect(push.code).toBe(0);
    expect(push.stdout).toMatch(/visible in Palette lab-alpha:1\.2\.0 \(packUid [0-9a-f]{24}\)/);
    expect(push.stdout).toMatch(/visible in Palette lab-beta:0\.9\.0 \(packUid [0-9a-f]{24}\)/);
    expect([...(stored?.index.keys() ?? [])].sort()).toEqual(['lab-alpha', 'lab-beta']);
    expectNoSecrets(reg);
    expectNoSecrets(push);
  });

  it('doctor with a robot that has no rights names the problem from packpub\'s side and Palette\'s', async () => {
    const run = await runCli(['palette', 'doctor', ...harborAt('spectro-oci-registry'), '-u', NORIGHTS, '--password-stdin'], { env: env(), stdin: NORIGHTS_PASSWORD });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('FAIL  credentials: the credentials Palette would use cannot list the packs under');
    expect(run.stdout).toContain('fix: give the robot account (or user) pull and list-repository permissions on Harbor project spectro-oci-registry');
    expect(run.stdout).toMatch(/FAIL {2}palette-validate: Palette's own check of the settings failed: .*access denied/);
    // The registry registered above still serves the target.
    expect(run.stdout).toContain('ok    palette-registry: Palette registry');
    expectNoSecrets(run);
  });
});

describe('Palette closed loop on the ECR-like lab', () => {
  it('register gives Palette its own IAM user; push --palette-sync: every pack visible', async () => {
    const reg = await runCli(['palette', 'register', ...ecrAt('ecr-base')], { env: env(paletteEcrEnv) });
    expect(reg.stderr).toBe('');
    expect(reg.code).toBe(0);
    const stored = [...palette.registries.values()].find((r) => r.flavour === 'ecr' && r.spec['baseContentPath'] === 'ecr-base');
    // ECR endpoints without a scheme; Palette's credentials, not the pusher's.
    expect(stored?.spec).toMatchObject({ endpoint: ecrHost, isPrivate: true, defaultRegion: 'us-east-1', credentials: { credentialType: 'secret', accessKey: 'testAKIDPALETTE' } });

    const push = await runCli(['push', packA, packB, ...ecrAt('ecr-base'), '--palette-sync', ...fast], { env: env() });
    expect(push.code).toBe(0);
    expect(push.stdout).toContain('visible in Palette lab-alpha:1.2.0');
    expect(push.stdout).toContain('visible in Palette lab-beta:0.9.0');
    // Palette's sync minted its registry password with its own key.
    expect(ecr.calls.some((c) => c.op === 'GetAuthorizationToken' && c.accessKeyId === 'testAKIDPALETTE')).toBe(true);
    expect(palette.registries.get(stored?.uid ?? '')?.syncRequests.length).toBeGreaterThan(0);
    expectNoSecrets(reg);
    expectNoSecrets(push);
  });

  it('register with an IAM key Palette cannot use shows Palette\'s message and creates nothing', async () => {
    const before = palette.registries.size;
    const run = await runCli(['palette', 'register', ...ecrAt('ecr-other')], { env: env({ ...paletteEcrEnv, PACKPUB_PALETTE_ECR_ACCESS_KEY_ID: 'AKIDUNKNOWN' }) });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('error: Palette could not validate the registry settings');
    expect(run.stderr).toContain('The security token included in the request is invalid.');
    expect(palette.registries.size).toBe(before);
  });

  it('register with half of the Palette IAM key pair is refused naming the missing variable, and creates nothing', async () => {
    const before = palette.registries.size;
    for (const [extra, message] of [
      [{ PACKPUB_PALETTE_ECR_ACCESS_KEY_ID: 'testAKIDPALETTE' }, 'PACKPUB_PALETTE_ECR_ACCESS_KEY_ID is set but PACKPUB_PALETTE_ECR_SECRET_ACCESS_KEY is not set'],
      [{ PACKPUB_PALETTE_ECR_SECRET_ACCESS_KEY: PALETTE_AWS_SECRET }, 'PACKPUB_PALETTE_ECR_SECRET_ACCESS_KEY is set but PACKPUB_PALETTE_ECR_ACCESS_KEY_ID is not set'],
      [{ ...paletteEcrEnv, PACKPUB_PALETTE_ECR_SECRET_ACCESS_KEY: '' }, 'PACKPUB_PALETTE_ECR_ACCESS_KEY_ID is set but PACKPUB_PALETTE_ECR_SECRET_ACCESS_KEY is empty'],
    ] as const) {
      const run = await runCli(['palette', 'register', ...ecrAt('ecr-half')], { env: env(extra) });
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain(`error: ${message}\n`);
      expectNoSecrets(run);
    }
    expect(palette.registries.size).toBe(before);
  });

  it('doctor names an ECR endpoint written with https:// and prints the ECR settings', async () => {
    const push = await runCli(['push', packA, ...ecrAt('ecr-doc')], { env: env() });
    expect(push.code).toBe(0);
    palette.addRegistry('ecr', 'ecr-https', {
      endpoint: `https://${ecrHost}`,
      isPrivate: true,
      baseContentPath: 'ecr-doc',
      providerType: 'pack',
      isSyncSupported: true,
      credentials: { credentialType: 'secret', accessKey: 'testAKIDPALETTE', secretKey: PALETTE_AWS_SECRET },
    });
    const run = await runCli(['palette', 'doctor', ...ecrAt('ecr-doc')], { env: env(paletteEcrEnv) });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('  OCI Authentication Type  ECR');
    expect(run.stdout).toContain(`  Endpoint                 ${ecrHost}\n`);
    expect(run.stdout).toContain('ecr:BatchGetImage');
    expect(run.stdout).toContain('prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com');
    expect(run.stdout).toMatch(new RegExp(`FAIL {2}palette-endpoint: Palette registry ecr-https \\([0-9a-f]+\\) has endpoint https://${ecrHost.replace(/\./g, '\\.')}; Palette wants an ECR endpoint without https://`));
    expect(run.stdout).toContain(`fix: edit ecr-https: Endpoint ${ecrHost}`);
    expect(run.stdout).toContain('ok    palette-validate');
    expect(run.stdout).toContain('1 problem found');
    expectNoSecrets(run);
  });

  it('no run went over Palette\'s rate limit, and every body passed the schema', () => {
    expect(palette.violations()).toEqual([]);
    expect(palette.requests.length).toBeGreaterThan(20);
  });
});
