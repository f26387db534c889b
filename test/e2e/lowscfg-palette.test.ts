import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipWaits } from '../support/clock.js';
import { runCli } from '../support/cli.js';
import { startPaletteLab } from '../support/palette-lab.js';
import { setup } from '../support/stage.js';

/*
 * Session 22, review2's low notes on the Palette side: what a user saw exit 0 (or a late, unclear error) for, and
 * what each run now says and leaves in Palette.
 */

const KEY = `apikey-${Math.random().toString(36).slice(2)}-tenant-admin`;
const ECR_HOST = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const clock = skipWaits();
const w = setup(async (stack) => {
  const lab = await startPaletteLab(stack, { prefix: 'packpub-lowscfg-palette-', key: KEY, name: 'lab', base: 'packs', clock });
  const env = { HOME: join(lab.root, 'home'), DOCKER_CONFIG: join(lab.root, 'docker'), SPECTROCLOUD_HOST: lab.palette.url, SPECTROCLOUD_APIKEY: KEY };
  return { ...lab, env };
});

/** The registries Palette holds, as uid -> name and endpoint (to see that a run created or changed none). */
function held(): string[] {
  return [...w.palette.registries.values()].map((r) => `${r.uid} ${r.name} ${String(r.spec['endpoint'])} ${String(r.spec['baseContentPath'])}`).sort();
}

describe('L7: register and doctor flags given as "" (an unset CI variable)', () => {
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
