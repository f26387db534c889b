import { describe, expect, it } from 'vitest';
import { skipWaits } from '../support/clock.js';
import { runCli } from '../support/cli.js';
import { paletteKeyId } from '../support/palette-standin.js';
import { paletteLabWithHello } from '../support/published.js';
import { setup } from '../support/stage.js';

/*
 * Which credential goes to Palette. `palette --help` and `push --help` named the API key's sources, but not that
 * it is the only credential push --palette-sync and palette sync send Palette, nor which registry credential
 * register and doctor hand Palette (one given for Palette only, never packpub's own logins): a platform engineer
 * wiring CI secrets could not tell from --help whether the registry password would reach Palette.
 */

const KEY = `apikey-${Math.random().toString(36).slice(2)}-tenant-admin`;
const PASSWORD = `registry-password-${Math.random().toString(36).slice(2)}`;
const clock = skipWaits();
const w = setup((stack) => paletteLabWithHello(stack, 'packpub-palette-help-', KEY, clock, { shared: true }));
const flat = (text: string) => text.replace(/\s+/g, ' ');

describe('which credential goes to Palette', () => {
  it('palette --help says the API key goes to Palette, and which registry credential register and doctor send it', async () => {
    const run = await runCli(['palette', '--help']);
    expect(run.code, run.stderr).toBe(0);
    const text = flat(run.stdout);
    expect(text).toContain('Every action sends Palette the API key. register (which Palette stores) and doctor (which Palette validates) also send the credential Palette is to read the registry with, and only one given for Palette: -u with --password-stdin, PACKPUB_USERNAME / PACKPUB_PASSWORD or the target\'s auth in packpub.yaml; for ECR PACKPUB_PALETTE_ECR_ACCESS_KEY_ID / PACKPUB_PALETTE_ECR_SECRET_ACCESS_KEY or --palette-ecr-role-arn.');
    expect(text).toContain("packpub's own logins (packpub login, the Docker config, credential helpers, its AWS identity) never go to Palette");
    expect(text).toContain('sync sends no registry credential');
  });

  it('push --help says the API key is all push --palette-sync sends Palette', async () => {
    const run = await runCli(['push', '--help']);
    expect(run.code, run.stderr).toBe(0);
    expect(flat(run.stdout)).toContain('The key goes to the Palette endpoint only, and is all that push --palette-sync and palette sync send Palette: the registry\'s credentials (-u, --password-stdin, packpub login, the Docker config, AWS) are never sent to Palette');
  });

  it('as it says: push -u --palette-sync sends Palette reads and the sync trigger only, each with the API key alone', async () => {
    const run = await runCli(['push', w.pack, '--registry', `${w.registry.host}/${w.under('packs')}`, '-u', 'ci', '--palette-sync', '--palette-poll-interval', '0.02'], { env: { ...w.env, PACKPUB_PASSWORD: PASSWORD } });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('visible in Palette hello:1.0.0');
    const requests = w.palette.requests;
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.every((r) => r.apiKeyId === paletteKeyId(KEY) && !r.authorization)).toBe(true);
    expect(requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`)).toEqual([`POST /v1/registries/oci/${w.uid}/basic/sync`]);
    // No registry was added or changed: Palette stores no credential of this run.
    expect([...w.palette.registries.values()].map((r) => r.spec['auth'])).toEqual([{ type: 'noAuth' }, { type: 'noAuth' }]);
    expect(JSON.stringify(requests)).not.toContain(PASSWORD);
  });
});
