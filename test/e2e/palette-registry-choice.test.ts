import { describe, expect, it } from 'vitest';
import { skipWaits } from '../support/clock.js';
import { runCli } from '../support/cli.js';
import { writePacks } from '../support/packs.js';
import { startPaletteLab } from '../support/palette-lab.js';
import { setup } from '../support/stage.js';

/*
 * --palette-registry NAME as a user types it: Palette matches names exactly (its Go SDK's GetPackRegistryCommonByName),
 * so "Packs-Lab" for the registry "packs-lab" is no registry. The run said only "Palette has no OCI registry named or with
 * uid", the one meant left to be found in doctor's list; now it names it. Nothing is synced either way.
 */

const KEY = `apikey-${Math.random().toString(36).slice(2)}-tenant-admin`;
const clock = skipWaits();
const w = setup(async (stack) => {
  const lab = await startPaletteLab(stack, { prefix: 'packpub-palette-choice-', key: KEY, name: 'packs-lab', base: 'choice', clock, shared: true });
  const packs = await writePacks(lab.root, { a: 'choice-a:1.0.0' });
  return { ...lab, packs };
});
const syncs = () => w.palette.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/sync')).length;

describe('--palette-registry naming a registry but for case', () => {
  it('palette sync and push --palette-sync: exit 1 naming the registry meant, nothing synced or published', async () => {
    const push = await runCli(['push', w.packs.a, ...w.at], { env: w.env });
    expect(push.code, push.stderr).toBe(0);
    const said = `error: Palette has no OCI registry named or with uid "Packs-Lab"; it has one named "packs-lab" (${w.uid}), and names are matched exactly\n`;

    const sync = await runCli(['palette', 'sync', ...w.at, '--palette-registry', 'Packs-Lab'], { env: w.env });
    expect(sync.code, sync.stderr).toBe(1);
    expect(sync.stdout).toBe('');
    expect(sync.stderr).toContain(said);

    const again = await runCli(['push', w.packs.a, ...w.at, '--palette-sync', '--palette-registry', 'Packs-Lab', '--force'], { env: w.env });
    expect(again.code, again.stderr).toBe(1);
    expect(again.stderr).toContain(`error: Palette has no OCI registry named or with uid "Packs-Lab"; it has one named "packs-lab" (${w.uid}), and names are matched exactly; nothing was published (push --palette-sync checks Palette first)\n`);
    expect(syncs()).toBe(0);
    expect(w.palette.registries.get(w.uid)?.index.size).toBe(0);

    // A name Palette has nothing close to: as before.
    const other = await runCli(['palette', 'sync', ...w.at, '--palette-registry', 'elsewhere'], { env: w.env });
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('error: Palette has no OCI registry named or with uid "elsewhere"\n');
    expect(syncs()).toBe(0);
  });
});
