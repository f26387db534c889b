import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipWaits } from '../support/clock.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { paletteLabWithHello } from '../support/published.js';
import { registryAdmin } from '../support/registry-admin.js';
import { expectReportValid } from '../support/report-schema.js';
import { setup } from '../support/stage.js';

/*
 * A Palette sync that ends Failed (a shared registry where someone else's pack is broken, or the registry itself).
 * The run exits 3, as before, but it used to mark every pack NOT VISIBLE with the sync's message without looking at
 * them: a user could not tell whether their pack or another broke the sync. Now each pack is read once: one Palette
 * lists with the content published is `visible`; one it may list from before the sync (a version replaced, so the
 * forced sync was to read it again) is not, and says why.
 */

const KEY = `apikey-${Math.random().toString(36).slice(2)}-tenant-admin`;
const clock = skipWaits();
const w = setup((stack) => paletteLabWithHello(stack, 'packpub-palette-failed-', KEY, clock, { shared: true }));
const fast = ['--palette-poll-interval', '0.02', '--palette-timeout', '60'];
const BROKEN = 'failed to pull other-team:2.0.0: manifest unknown';

describe('a Palette sync that ends Failed', () => {
  it('our pack read by it before it failed: visible, exit 3 still, and stderr says the failure is another pack\'s', async () => {
    w.palette.failSyncsAfterIndexing = BROKEN;
    const run = await runCli(['push', await writePack(join(w.root, 'a1'), { name: 'app', version: '1.0.0' }), ...w.at, '--palette-sync', ...fast, '--no-cache'], { env: w.env });
    expect(run.code, run.stdout + run.stderr).toBe(3);
    expect(run.stdout).toMatch(/^visible in Palette app:1\.0\.0 \(packUid [0-9a-f]{24}\)$/m);
    expect(run.stdout).not.toContain('NOT VISIBLE');
    expect(run.stderr).toContain(
      `palette: Palette's sync of lab failed: ${BROKEN}; it lists every version asked for (1) with the content published, so what failed is another pack of the registry or the registry itself\n`,
    );
    expect(run.stderr).toContain('error: published, and Palette lists every version, but its sync failed (exit 3)\n');
    expect(run.stderr).not.toContain('error: published, but not visible in Palette');
    // Palette holds the artifact published.
    const digest = await registryAdmin(w.registry).digestOf(`${w.under('packs')}/spectro-packs/archive/app`, '1.0.0');
    expect(w.packRegistry()?.index.get('app')?.get('1.0.0')?.digest).toBe(digest);
    expect(w.packRegistry()?.sync.status).toBe('Failed');
  });

  it('--json: the run is published-not-visible with outcome failed; each pack says what Palette lists', async () => {
    w.palette.failSyncsAfterIndexing = BROKEN;
    const run = await runCli(['palette', 'sync', 'app:1.0.0', ...w.at, ...fast, '--json'], { env: w.env });
    expect(run.code, run.stdout + run.stderr).toBe(3);
    const out = JSON.parse(run.stdout) as { status: string; targets: { sync: { outcome: string; message: string }; packs: { status: string; packUid?: string }[] }[] };
    expectReportValid(out, '#/$defs/paletteRun');
    expect(out.status).toBe('published-not-visible');
    expect(out.targets[0]?.sync).toMatchObject({ outcome: 'failed', message: BROKEN });
    expect(out.targets[0]?.packs).toEqual([{ name: 'app', version: '1.0.0', status: 'visible', packUid: w.packRegistry()?.index.get('app')?.get('1.0.0')?.packUid }]);
  });

  it('a pack the failed sync\'s message names is not visible, though Palette lists it from an earlier sync', async () => {
    w.palette.failSyncs = 'failed to pull app:1.0.0: manifest unknown';
    const run = await runCli(['palette', 'sync', 'app:1.0.0', ...w.at, ...fast], { env: w.env });
    expect(run.code, run.stdout + run.stderr).toBe(3);
    const packUid = w.packRegistry()?.index.get('app')?.get('1.0.0')?.packUid ?? '';
    expect(run.stdout).toBe(
      `NOT VISIBLE in Palette app:1.0.0: Palette's sync of lab failed: failed to pull app:1.0.0: manifest unknown; Palette lists app:1.0.0 (packUid ${packUid}), but the sync's message names it: Palette could not read it this time\n`,
    );
    expect(run.stderr).toContain('error: published, but not visible in Palette (exit 3)\n');
  });

  it('a sync failing before it read anything: our new pack NOT VISIBLE with the sync\'s message, as before', async () => {
    w.palette.failSyncs = 'cannot reach the registry';
    const run = await runCli(['push', await writePack(join(w.root, 'b1'), { name: 'app', version: '1.1.0' }), ...w.at, '--palette-sync', ...fast, '--no-cache'], { env: w.env });
    expect(run.code, run.stdout + run.stderr).toBe(3);
    expect(run.stdout).toContain("NOT VISIBLE in Palette app:1.1.0: Palette's sync of lab failed: cannot reach the registry\n");
    expect(run.stderr).toContain("palette: Palette's sync of lab failed: cannot reach the registry; it lists none of the versions asked for with the content published\n");
    expect(run.stderr).toContain('error: published, but not visible in Palette (exit 3)\n');
    expect(w.packRegistry()?.index.get('app')?.has('1.1.0')).toBe(false);
  });

  it('many packs after a failed sync: one pack search, no read of a name Palette does not list (was: a read per name)', async () => {
    w.palette.failSyncs = 'cannot reach the registry';
    const from = w.palette.requests.length;
    const names = ['f1', 'f2', 'f3'];
    const dirs = await Promise.all(names.map((n) => writePack(join(w.root, 'many', n), { name: n, version: '1.0.0' })));
    const run = await runCli(['push', ...dirs, ...w.at, '--palette-sync', ...fast, '--no-cache'], { env: w.env });
    expect(run.code, run.stdout + run.stderr).toBe(3);
    for (const n of names) expect(run.stdout).toContain(`NOT VISIBLE in Palette ${n}:1.0.0: Palette's sync of lab failed: cannot reach the registry\n`);
    // One search before the sync (new names), one after its failure, each with its search of deprecated packs; no pack read.
    const packCalls = w.palette.requests.slice(from).filter((r) => r.prefix === '/v1/packs').map((r) => `${r.method} ${r.path}`);
    expect(packCalls).toEqual(Array(4).fill('POST /v1/packs/search'));
    for (const n of names) expect(w.packRegistry()?.index.has(n)).toBe(false);
  });

  it('a replaced version Palette lists from before a forced sync that failed: NOT VISIBLE, saying the content is not known', async () => {
    const admin = registryAdmin(w.registry);
    const repo = `${w.under('packs')}/spectro-packs/archive/app`;
    const old = await admin.digestOf(repo, '1.0.0');
    w.palette.failSyncs = BROKEN;
    const run = await runCli(['push', await writePack(join(w.root, 'a2'), { name: 'app', version: '1.0.0', files: { 'b.txt': 'changed' } }), ...w.at, '--force', '--palette-sync', ...fast, '--no-cache'], { env: w.env });
    expect(run.code, run.stdout + run.stderr).toBe(3);
    expect(run.stdout).toContain('overwritten app:1.0.0');
    const packUid = w.packRegistry()?.index.get('app')?.get('1.0.0')?.packUid ?? '';
    expect(run.stdout).toContain(
      `NOT VISIBLE in Palette app:1.0.0: Palette's sync of lab failed: ${BROKEN}; Palette lists app:1.0.0 (packUid ${packUid}), but maybe from before this sync, which was to read it again: whether it holds the content published is not known\n`,
    );
    expect(run.stderr).toContain('error: published, but not visible in Palette (exit 3)\n');
    // Palette still holds the earlier artifact; the registry the new one.
    expect(w.packRegistry()?.index.get('app')?.get('1.0.0')?.digest).toBe(old);
    expect(await admin.digestOf(repo, '1.0.0')).not.toBe(old);
    expect(w.packRegistry()?.syncRequests.at(-1)?.force).toBe(true);
  });

  it('palette doctor after a sync that failed: FAIL palette-last-sync with Palette\'s message, exit 1 (was: "no problems found", exit 0); after a sync that succeeds, no such finding', async () => {
    const push = await runCli(['push', w.pack, ...w.at], { env: w.env });
    expect(push.code, push.stderr).toBe(0);
    w.palette.failSyncs = 'unauthorized: authentication required';
    const sync = await runCli(['palette', 'sync', 'hello:1.0.0', ...w.at, ...fast], { env: w.env });
    expect(sync.code, sync.stdout + sync.stderr).toBe(3);
    const ran = w.packRegistry()?.sync.lastRunTime ?? '';
    // doctor and register read only: no sync asked for (counted from here, after doctor and register below).
    const before = w.packRegistry()?.syncRequests.length ?? 0;
    const doctor = await runCli(['palette', 'doctor', ...w.at], { env: w.env });
    expect(doctor.code, doctor.stdout + doctor.stderr).toBe(1);
    expect(doctor.stdout).toContain(
      `FAIL  palette-last-sync: Palette's last sync of registry lab (${w.uid}), at ${ran}, failed: unauthorized: authentication required\n        fix: Palette may not list what is published under ${w.registry.host}/${w.under('packs')} until a sync of it succeeds: fix what the message names (often the credentials Palette stores for the registry, or a pack Palette cannot read), then run packpub palette sync\n`,
    );
    expect(doctor.stdout).toContain('1 problem found');
    const json = await runCli(['palette', 'doctor', ...w.at, '--json'], { env: w.env });
    expect(json.code).toBe(1);
    expect((JSON.parse(json.stdout) as { findings: { check: string; ok: boolean }[] }).findings.filter((f) => !f.ok).map((f) => f.check)).toEqual(['palette-last-sync']);
    // register finds it and creates nothing, exit 0, but warns of the failure (was: "already serves", no word of it).
    const held = w.palette.registries.size;
    const register = await runCli(['palette', 'register', ...w.at], { env: { ...w.env, GITHUB_ACTIONS: 'true' } });
    expect(register.code, register.stderr).toBe(0);
    expect(register.stdout).toContain('already serves');
    const warned = `Palette's last sync of registry lab (${w.uid}), at ${ran}, failed: unauthorized: authentication required: Palette may not list what is published until a sync succeeds; packpub palette doctor checks the registry, packpub palette sync runs one`;
    expect(register.stderr).toContain(`warning: ${warned}\n`);
    // In GitHub Actions, the warning is an annotation too (exit 0: a warning, not an error).
    expect(register.stderr.split('\n').filter((l) => l.startsWith('::'))).toEqual([`::warning title=packpub palette register::${warned}`]);
    expect(w.palette.registries.size).toBe(held);
    expect(w.packRegistry()?.syncRequests.length).toBe(before);
    const synced = await runCli(['palette', 'sync', 'hello:1.0.0', ...w.at, ...fast], { env: w.env });
    expect(synced.code, synced.stdout + synced.stderr).toBe(0);
    expect(w.packRegistry()?.syncRequests.length).toBe(before + 1);
    const healthy = await runCli(['palette', 'doctor', ...w.at], { env: w.env });
    expect(healthy.code, healthy.stdout).toBe(0);
    expect(healthy.stdout).not.toContain('palette-last-sync');
    expect(healthy.stdout).toContain('no problems found');
  });
});
