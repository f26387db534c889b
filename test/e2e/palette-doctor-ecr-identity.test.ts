import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipWaits } from '../support/clock.js';
import { runCli } from '../support/cli.js';
import { startEcrProxy } from '../support/ecr-proxy.js';
import { ecrLabAuthorize, startPaletteStandin } from '../support/palette-standin.js';
import { startEcrStandin, TEST_ECR_HOST, useFakeAwsEnvironment } from '../support/ecr-standin.js';
import { sharedRegistry } from '../support/registry.js';
import { setup } from '../support/stage.js';

/*
 * palette doctor on an ECR target lists the base path as packpub's own AWS identity: Palette reads with the IAM
 * user or role it is given. When packpub's identity may not list, the finding said "the credentials Palette would
 * use cannot list" and told to change "the IAM identity Palette uses", which was never tried.
 */

const KEY = `apikey-${Math.random().toString(36).slice(2)}-doctor-ecr`;
const PALETTE_AWS_SECRET = `palette-aws-${Math.random().toString(36).slice(2)}-secret`;
const clock = skipWaits();

describe('palette doctor, ECR target, packpub\'s AWS identity may not list', () => {
  const w = setup(async (stack) => {
    const restore = useFakeAwsEnvironment('testAKIDPUSHER');
    stack.defer(restore);
    const root = await stack.tempDir('packpub-doctor-ecr-');
    // The ECR front keeps its repositories under a base path of the worker's shared registry.
    const registry = await sharedRegistry({ auth: 'none' });
    const ecr = stack.add(await startEcrStandin());
    const proxy = stack.add(await startEcrProxy({ upstream: registry.url, base: registry.base, standin: ecr }));
    const host = `${TEST_ECR_HOST}:${proxy.port}`;
    const palette = stack.add(
      await startPaletteStandin({ keys: { [KEY]: { role: 'tenant-admin' } }, labs: { [host]: { url: `http://127.0.0.1:${proxy.port}`, authorize: ecrLabAuthorize(ecr.url, ecr.region), repositories: () => ecr.repositories.keys() } }, clock }),
    );
    return { root, ecr, host, palette };
  });

  it('names packpub\'s identity, not Palette\'s, and Palette\'s own check still runs', async () => {
    w.ecr.deny('DescribeRepositories');
    const run = await runCli(['palette', 'doctor', '--registry', `${w.host}/ecr-doc`, '--resolve', `${w.host}:127.0.0.1`, '--plain-http', '--ecr-endpoint', w.ecr.url], {
      env: { HOME: join(w.root, 'home'), DOCKER_CONFIG: join(w.root, 'docker'), SPECTROCLOUD_HOST: w.palette.url, SPECTROCLOUD_APIKEY: KEY, PACKPUB_PALETTE_ECR_ACCESS_KEY_ID: 'testAKIDPALETTE', PACKPUB_PALETTE_ECR_SECRET_ACCESS_KEY: PALETTE_AWS_SECRET },
    });
    w.ecr.allow('DescribeRepositories');
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toContain(`FAIL  credentials: packpub's AWS identity cannot list the packs under ${w.host}/ecr-doc (Palette reads them with its own IAM user or role, which palette-validate checks)`);
    expect(run.stdout).toContain('fix: allow ecr:');
    expect(run.stdout).toContain('for the AWS identity packpub runs as');
    expect(run.stdout).not.toContain('the credentials Palette would use');
    expect(run.stdout).toMatch(/palette-validate: /);
    expect(run.stdout + run.stderr).not.toContain(PALETTE_AWS_SECRET);
  });
});
