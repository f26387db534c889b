import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipWaits } from '../support/clock.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { startPaletteLab } from '../support/palette-lab.js';
import { paletteKeyId } from '../support/palette-standin.js';
import { setup } from '../support/stage.js';

/*
 * Palette lists a pack version with its values (`packValues[].values` of its packUid, palette-api.md 2(g)); the
 * upload script the reference cites fails a pack listed with empty values: Palette did not read its content. The
 * check looked at the tags alone, so a version Palette listed without having read it ended the run 0, "visible".
 * Now a version whose published values.yaml has entries is visible only once Palette shows values for it; an
 * empty values.yaml (an OS pack's may be) is visible with empty values, as before.
 */

const KEY = `apikey-${Math.random().toString(36).slice(2)}-tenant-admin`;
const clock = skipWaits();
const w = setup(async (stack) => {
  const lab = await startPaletteLab(stack, { prefix: 'packpub-palette-values-', key: KEY, name: 'lab', base: 'packs', clock, shared: true });
  return lab;
});
// Waits are skipped (skipWaits): a long --palette-timeout costs nothing when the run ends early, and keeps a loaded
// machine's slowness from ending a run that should succeed.
const fast = ['--palette-poll-interval', '0.25'];
const indexed = (name: string, version: string) => w.palette.registries.get(w.uid)?.index.get(name)?.get(version);
/** The pack reads Palette got for `name`, and the credentials they carried. */
const packReads = (name: string) => w.palette.requests.filter((r) => r.method === 'GET' && r.path === `/v1/packs/${name}/registries/${w.uid}`);

describe('a version Palette lists with empty values', () => {
  it('push --palette-sync: exit 3 saying Palette did not read its content (was: exit 0, "visible")', async () => {
    const pack = await writePack(join(w.root, 'web'), { name: 'web', version: '1.0.0' });
    w.palette.dropValues = true;
    try {
      const run = await runCli(['push', pack, ...w.at, '--palette-sync', ...fast, '--palette-timeout', '10', '--no-cache'], { env: w.env });
      expect(run.code, run.stdout + run.stderr).toBe(3);
      expect(run.stdout).toMatch(/NOT VISIBLE in Palette web:1\.0\.0: Palette lists web:1\.0\.0 \(packUid [0-9a-f]{24}\) with empty values, but the values\.yaml published has some: Palette's sync of lab did not read the pack's content \(sync message: Synced \d+ pack versions\); a forced sync \(packpub palette sync --force-sync web:1\.0\.0\) asks Palette to read it again/);
      expect(run.stdout).not.toContain('visible in Palette web:1.0.0');
      expect(run.stderr).toContain('error: published, but not visible in Palette (exit 3)');
    } finally {
      w.palette.dropValues = false;
    }
    // Palette holds the version, without values; it was asked for it more than once (waited for), with the API key only.
    expect(indexed('web', '1.0.0')?.values).toBe('');
    const reads = packReads('web');
    expect(reads.length).toBeGreaterThan(1);
    expect(reads.every((r) => r.apiKeyId === paletteKeyId(KEY) && !r.authorization && r.projectUid === undefined)).toBe(true);
  });

  it('palette sync reads the values published from the registry: still unread, exit 3; --force-sync: read again, exit 0', async () => {
    // A plain sync leaves a digest Palette holds as it is (it caches digests): the values stay unread.
    const plain = await runCli(['palette', 'sync', 'web:1.0.0', ...w.at, ...fast, '--palette-timeout', '10'], { env: w.env });
    expect(plain.code, plain.stdout + plain.stderr).toBe(3);
    expect(plain.stdout).toMatch(/NOT VISIBLE in Palette web:1\.0\.0: Palette lists web:1\.0\.0 \(packUid [0-9a-f]{24}\) with empty values, but the values\.yaml published has some/);
    expect(indexed('web', '1.0.0')?.values).toBe('');
    const run = await runCli(['palette', 'sync', 'web:1.0.0', ...w.at, '--force-sync', ...fast, '--palette-timeout', '60'], { env: w.env });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/visible in Palette web:1\.0\.0 \(packUid [0-9a-f]{24}\)/);
    expect(indexed('web', '1.0.0')?.values).toContain('namespace: web');
    expect(w.palette.registries.get(w.uid)?.syncRequests.at(-1)?.force).toBe(true);
  });

  it('an empty values.yaml (an OS pack): listed with empty values is visible, exit 0', async () => {
    const pack = await writePack(join(w.root, 'os'), { name: 'os-base', version: '1.0.0', packJson: { layer: 'os', addonType: undefined, kubeManifests: undefined }, files: { 'values.yaml': '# no values\n', 'manifests/app.yaml': null } });
    const run = await runCli(['push', pack, ...w.at, '--palette-sync', ...fast, '--palette-timeout', '60', '--no-cache'], { env: w.env });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/visible in Palette os-base:1\.0\.0 \(packUid [0-9a-f]{24}\)/);
    expect(indexed('os-base', '1.0.0')?.values).toBe('# no values\n');
  });

  it('with dropValues, the OS pack of empty values is still visible: only values published are waited for', async () => {
    const pack = await writePack(join(w.root, 'os2'), { name: 'os-base', version: '1.0.1', packJson: { layer: 'os', addonType: undefined, kubeManifests: undefined }, files: { 'values.yaml': '', 'manifests/app.yaml': null } });
    w.palette.dropValues = true;
    try {
      const run = await runCli(['push', pack, ...w.at, '--palette-sync', ...fast, '--palette-timeout', '60', '--no-cache'], { env: w.env });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toMatch(/visible in Palette os-base:1\.0\.1 \(packUid [0-9a-f]{24}\)/);
    } finally {
      w.palette.dropValues = false;
    }
    expect(indexed('os-base', '1.0.1')?.values).toBe('');
    // palette sync reads the published values.yaml from the registry: empty, so visible too.
    const sync = await runCli(['palette', 'sync', 'os-base:1.0.1', ...w.at, ...fast, '--palette-timeout', '60'], { env: w.env });
    expect(sync.code, sync.stdout + sync.stderr).toBe(0);
    expect(sync.stdout).toMatch(/visible in Palette os-base:1\.0\.1 \(packUid [0-9a-f]{24}\)/);
  });

  it('an answer that holds no values for the version (no packValues, none of its packUid) is taken as it is: exit 0', async () => {
    const pack = await writePack(join(w.root, 'api'), { name: 'api', version: '1.0.0' });
    w.palette.dropValues = true;
    w.palette.packValuesAnswer = () => undefined;
    try {
      const run = await runCli(['push', pack, ...w.at, '--palette-sync', ...fast, '--palette-timeout', '60', '--no-cache'], { env: w.env });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toMatch(/visible in Palette api:1\.0\.0 \(packUid [0-9a-f]{24}\)/);
      // Whether Palette lists every version's values or the latest's only is not documented: another version's entry only.
      w.palette.packValuesAnswer = (values) => values.map((v) => ({ ...v, packUid: 'another-version' }));
      const sync = await runCli(['palette', 'sync', 'api:1.0.0', ...w.at, ...fast, '--palette-timeout', '60'], { env: w.env });
      expect(sync.code, sync.stdout + sync.stderr).toBe(0);
      // Values of another kind than text: nothing to judge by either (was: read as empty, exit 3 at --palette-timeout).
      w.palette.packValuesAnswer = (values) => values.map((v) => ({ ...v, values: { replicas: 1 } }));
      const odd = await runCli(['palette', 'sync', 'api:1.0.0', ...w.at, ...fast, '--palette-timeout', '60'], { env: w.env });
      expect(odd.code, odd.stdout + odd.stderr).toBe(0);
      // An entry without values (Go leaves an empty string out): empty, so waited for, exit 3.
      w.palette.packValuesAnswer = (values) => values.map((v) => ({ packUid: v.packUid }));
      const none = await runCli(['palette', 'sync', 'api:1.0.0', ...w.at, ...fast, '--palette-timeout', '10'], { env: w.env });
      expect(none.code, none.stdout + none.stderr).toBe(3);
      expect(none.stdout).toContain('NOT VISIBLE in Palette api:1.0.0: Palette lists api:1.0.0');
    } finally {
      w.palette.dropValues = false;
      w.palette.packValuesAnswer = undefined;
    }
    expect(indexed('api', '1.0.0')?.values).toBe('');
  });
});
