import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipWaits } from '../support/clock.js';
import { runCli } from '../support/cli.js';
import { startPaletteLab } from '../support/palette-lab.js';
import { startPaletteStandin } from '../support/palette-standin.js';
import { setup } from '../support/stage.js';

/*
 * docs/configuration.md promises that a key named by a target's `palette.apiKeyEnv` only ever goes to
 * that target's `palette.endpoint`. Without an endpoint in the section it went to SPECTROCLOUD_HOST's Palette (or
 * the SaaS API), and --palette-endpoint (one flag for every target of the run) sent it to whatever that names.
 * Now both are refused before anything is sent; the section's own endpoint gets it, as before.
 */

const KEY = `apikey-${Math.random().toString(36).slice(2)}-tenant-admin`;
const OTHER_KEY = `apikey-${Math.random().toString(36).slice(2)}-other`;
const clock = skipWaits();
const w = setup(async (stack) => {
  const lab = await startPaletteLab(stack, { prefix: 'packpub-palette-key-', key: KEY, name: 'lab', base: 'packs', clock, shared: true });
  // Another Palette, which SPECTROCLOUD_HOST names: it must never see KEY.
  const other = stack.add(await startPaletteStandin({ keys: { [OTHER_KEY]: { role: 'tenant-admin' } }, clock }));
  const write = (name: string, palette: string[]) =>
    writeFile(join(lab.root, name), ['targets:', '  prod:', `    registry: ${lab.registry.host}/${lab.under('packs')}`, '    palette:', ...palette.map((l) => `      ${l}`), ''].join('\n'));
  await write('no-endpoint.yaml', ['apiKeyEnv: PROD_PALETTE_KEY']);
  await write('with-endpoint.yaml', [`endpoint: ${lab.palette.url}`, 'apiKeyEnv: PROD_PALETTE_KEY']);
  const env = { HOME: join(lab.root, 'home'), DOCKER_CONFIG: join(lab.root, 'docker'), SPECTROCLOUD_HOST: other.url, SPECTROCLOUD_APIKEY: OTHER_KEY, PROD_PALETTE_KEY: KEY };
  return { ...lab, other, env };
});
const fast = ['--palette-poll-interval', '0.02', '--palette-timeout', '30'];
const sync = (config: string, extra: string[] = []) => runCli(['palette', 'sync', '--target', 'prod', '--config', join(w.root, config), ...fast, ...extra], { env: w.env });

describe("a key named by palette.apiKeyEnv goes only to its section's palette.endpoint", () => {
  it('without palette.endpoint: exit 2, the other Palette never asked (was: sent the key to SPECTROCLOUD_HOST)', async () => {
    const run = await sync('no-endpoint.yaml');
    expect(run.code, run.stdout + run.stderr).toBe(2);
    expect(run.stderr).toContain(`error: palette.apiKeyEnv (targets.prod.palette in ${join(w.root, 'no-endpoint.yaml')}) names PROD_PALETTE_KEY, but the section has no palette.endpoint: the key would go to ${new URL(w.other.url).host}`);
    expect(w.other.requests).toEqual([]);
    expect(w.palette.registries.get(w.uid)?.syncRequests).toEqual([]);
  });

  it('--palette-endpoint naming another Palette: exit 2, that Palette never asked (was: sent it the key)', async () => {
    const run = await sync('with-endpoint.yaml', ['--palette-endpoint', w.other.url]);
    expect(run.code, run.stdout + run.stderr).toBe(2);
    expect(run.stderr).toContain(`error: --palette-endpoint ${new URL(w.other.url).host} would get the key of PROD_PALETTE_KEY`);
    expect(w.other.requests).toEqual([]);
    expect(w.palette.registries.get(w.uid)?.syncRequests).toEqual([]);
  });

  it("the section's own endpoint (also named again by the flag): synced there, exit 0", async () => {
    for (const extra of [[], ['--palette-endpoint', `${w.palette.url}/`]]) {
      const run = await sync('with-endpoint.yaml', extra);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stderr).toContain('is served by Palette registry lab');
    }
    expect(w.palette.registries.get(w.uid)?.syncRequests.length).toBe(2);
    expect(w.other.requests).toEqual([]);
  });
});

describe('palette sync of two targets, the second refused', () => {
  it('refuses before any sync: the first target is not synced either (was: synced, then exit 2)', async () => {
    const config = join(w.root, 'two.yaml');
    await writeFile(
      config,
      [
        'targets:',
        '  prod:',
        `    registry: ${w.registry.host}/${w.under('packs')}`,
        '    palette:',
        `      endpoint: ${w.palette.url}`,
        '      apiKeyEnv: PROD_PALETTE_KEY',
        '  stage:',
        `    registry: ${w.registry.host}/${w.under('stage')}`,
        '    palette:',
        '      apiKeyEnv: PROD_PALETTE_KEY',
        '',
      ].join('\n'),
    );
    const before = w.palette.registries.get(w.uid)?.syncRequests.length ?? 0;
    const run = await runCli(['palette', 'sync', '--target', 'prod,stage', '--config', config, ...fast], { env: w.env });
    expect(run.code, run.stdout + run.stderr).toBe(2);
    expect(run.stderr).toContain('names PROD_PALETTE_KEY, but the section has no palette.endpoint');
    expect(w.palette.registries.get(w.uid)?.syncRequests.length).toBe(before);
    expect(w.other.requests).toEqual([]);
  });
});
