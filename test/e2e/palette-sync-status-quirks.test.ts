import { describe, expect, it } from 'vitest';
import { skipWaits } from '../support/clock.js';
import { runCli } from '../support/cli.js';
import { writePacks } from '../support/packs.js';
import { startPaletteLab } from '../support/palette-lab.js';
import { listedVersions } from '../support/published.js';
import { setup } from '../support/stage.js';

/*
 * A Pack registry whose settings say sync on, while the sync status Palette gives for it (the registry list's
 * `status.sync`, the same as its sync status call) says off (isSyncSupported false). push --palette-sync checked the
 * settings only: it published every pack, then read that status and ended exit 3, none listed (its dry run: WOULD NOT
 * BE VISIBLE, exit 3); palette doctor said "no problems found". Now push refuses it before publishing (exit 2, as for
 * settings saying off) and doctor fails palette-sync.
 */

const KEY = `apikey-${Math.random().toString(36).slice(2)}-tenant-admin`;
const clock = skipWaits();
const w = setup(async (stack) => {
  const lab = await startPaletteLab(stack, { prefix: 'packpub-palette-status-off-', key: KEY, name: 'lab', base: 'statusoff', clock, shared: true });
  const registry = lab.palette.registries.get(lab.uid);
  if (registry === undefined) throw new Error('no lab registry');
  registry.sync.isSyncSupported = false;
  const packs = await writePacks(lab.root, { a: 'status-off:1.0.0', b: 'status-word:1.0.0', c: 'status-word-fails:1.0.0', d: 'status-refused:1.0.0', e: 'status-partial:1.0.0' });
  return { ...lab, packs };
});
const syncs = () => w.palette.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/sync')).length;

describe("a registry whose settings say sync on and whose sync status says off", () => {
  it('push --palette-sync (and its dry run): exit 2 before publishing (was: published, then exit 3); doctor: FAIL palette-sync (was: no problems)', async () => {
    const said = `error: Palette's sync status of registry lab (${w.uid}), which serves ${w.registry.host}/${w.under('statusoff')}, says sync is off (isSyncSupported false), though its settings say on: Palette would list none of the packs; nothing was published (push --palette-sync checks Palette first)\n`;
    const dry = await runCli(['push', w.packs.a, ...w.at, '--palette-sync', '--dry-run'], { env: w.env });
    expect(dry.code, dry.stdout + dry.stderr).toBe(2);
    expect(dry.stderr).toContain(said);
    const run = await runCli(['push', w.packs.a, ...w.at, '--palette-sync', '--json'], { env: w.env });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(said);
    // Nothing published, nothing asked of Palette but reads.
    expect(await listedVersions(w.at, w.env)).toEqual([]);
    expect(syncs()).toBe(0);

    const doctor = await runCli(['palette', 'doctor', ...w.at, '--json'], { env: w.env });
    expect(doctor.code, doctor.stderr).toBe(1);
    const report = JSON.parse(doctor.stdout) as { findings: { check: string; ok: boolean; message: string; fix?: string }[] };
    expect(report.findings.filter((f) => f.check === 'palette-sync')).toEqual([
      {
        check: 'palette-sync',
        ok: false,
        message: `Palette's sync status of registry lab (${w.uid}) says sync is off (isSyncSupported false), though its settings say on: Palette lists no pack from it`,
        fix: 'edit lab in Palette and save it with sync on, or sync it there; then run doctor again',
      },
    ]);
    expect(syncs()).toBe(0);
    expect(w.palette.violations()).toEqual([]);
  });
});

describe('a Palette whose registry list gives no sync status', () => {
  it("reads the registry's own (status.syncStatus, as Terraform's provider does): off, exit 2 before publishing (was: published, then exit 3); on, published and visible", async () => {
    w.palette.summaryWithoutStatus = true;
    try {
      const run = await runCli(['push', w.packs.a, ...w.at, '--palette-sync'], { env: w.env });
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain(`error: Palette's sync status of registry lab (${w.uid}), which serves ${w.registry.host}/${w.under('statusoff')}, says sync is off (isSyncSupported false), though its settings say on`);
      expect(await listedVersions(w.at, w.env)).toEqual([]);
      expect(syncs()).toBe(0);

      const registry = w.palette.registries.get(w.uid);
      if (registry !== undefined) registry.sync.isSyncSupported = true;
      const on = await runCli(['push', w.packs.a, ...w.at, '--palette-sync'], { env: w.env });
      expect(on.code, on.stderr).toBe(0);
      expect(on.stdout).toMatch(/^visible in Palette status-off:1\.0\.0 \(packUid [0-9a-f]{24}\)$/m);
      expect(await listedVersions(w.at, w.env)).toEqual(['status-off:1.0.0']);
      expect(syncs()).toBe(1);
    } finally {
      w.palette.summaryWithoutStatus = false;
    }
  });
});

describe('a Palette whose sync status gives no word (status empty or left out)', () => {
  it('a later lastSyncedTime is a sync done: visible, exit 0 (was: waited on until --palette-timeout, exit 3, "last status none"); a sync that fails still exit 3', async () => {
    w.palette.statusWord = () => '';
    try {
      const run = await runCli(['push', w.packs.b, ...w.at, '--palette-sync', '--json'], { env: w.env });
      expect(run.code, run.stderr).toBe(0);
      const doc = JSON.parse(run.stdout) as { palette: { status: string; targets: { sync: { outcome: string }; packs: { name: string; status: string; packUid?: string }[] }[] } };
      expect(doc.palette.status).toBe('visible');
      expect(doc.palette.targets[0]?.sync.outcome).toBe('success');
      const packUid = w.palette.registries.get(w.uid)?.index.get('status-word')?.get('1.0.0')?.packUid;
      expect(packUid).toMatch(/^[0-9a-f]{24}$/);
      expect(doc.palette.targets[0]?.packs).toEqual([{ name: 'status-word', version: '1.0.0', status: 'visible', packUid }]);

      // A sync that fails sets no lastSyncedTime: nothing says it is done, and the run does not end 0.
      w.palette.failSyncs = 'auth failed';
      const fails = await runCli(['push', w.packs.c, ...w.at, '--palette-sync', '--palette-timeout', '60'], { env: w.env });
      expect(fails.code, fails.stderr).toBe(3);
      expect(fails.stdout).toContain("NOT VISIBLE in Palette status-word-fails:1.0.0: timed out after 60 s waiting for Palette's sync of lab (last status none)");
      expect(w.palette.registries.get(w.uid)?.index.get('status-word-fails')).toBeUndefined();
    } finally {
      w.palette.statusWord = undefined;
      w.palette.failSyncs = undefined;
    }
  });
});

describe('a Palette whose registry list gives no sync status, after a sync that failed', () => {
  it("palette doctor reads the registry's own status: FAIL palette-last-sync, exit 1 (was: no problems found, exit 0)", async () => {
    const registry = w.palette.registries.get(w.uid);
    if (registry === undefined) throw new Error('no lab registry');
    const kept = { ...registry.sync };
    registry.sync = { ...registry.sync, status: 'Failed', message: 'unauthorized: authentication required', lastRunTime: '2026-12-07T10:00:00.000Z' };
    w.palette.summaryWithoutStatus = true;
    const synced = syncs();
    try {
      const doctor = await runCli(['palette', 'doctor', ...w.at, '--json'], { env: w.env });
      expect(doctor.code, doctor.stderr).toBe(1);
      const report = JSON.parse(doctor.stdout) as { findings: { check: string; ok: boolean; message: string }[] };
      expect(report.findings.filter((f) => !f.ok).map((f) => [f.check, f.message])).toEqual([
        ['palette-last-sync', `Palette's last sync of registry lab (${w.uid}), at 2026-12-07T10:00:00.000Z, failed: unauthorized: authentication required`],
      ]);
      // Doctor asks Palette for no sync.
      expect(syncs()).toBe(synced);
    } finally {
      w.palette.summaryWithoutStatus = false;
      registry.sync = kept;
    }
  });
});

describe('palette register finding a registry whose sync status says off', () => {
  it('exit 1 saying so, nothing created (was: "already serves", exit 0, and push then refused it)', async () => {
    const registry = w.palette.registries.get(w.uid);
    if (registry === undefined) throw new Error('no lab registry');
    registry.sync.isSyncSupported = false;
    const count = w.palette.registries.size;
    try {
      const run = await runCli(['palette', 'register', ...w.at], { env: w.env });
      expect(run.code, run.stderr).toBe(1);
      expect(run.stdout).toBe(`Palette registry lab (${w.uid}) is registered for ${w.registry.host}/${w.under('statusoff')} but cannot sync it as it is: nothing created\n`);
      expect(run.stderr).toContain("error: Palette's sync status of registry lab says sync is off (isSyncSupported false), though its settings say on: Palette lists no pack from it until it is saved with sync on or synced; edit it in Palette (packpub palette doctor checks it)\n");
      expect(w.palette.registries.size).toBe(count);
      expect(w.palette.requests.filter((r) => r.method === 'POST' && r.path === '/v1/registries/oci/basic').length).toBe(0);
    } finally {
      registry.sync.isSyncSupported = true;
    }
  });
});

describe('a sync request Palette refuses (409) while its sync status shows none running', () => {
  it('says so once, asks again at each poll, exit 3 at --palette-timeout (was: "asking again once the sync running ends" at every poll)', async () => {
    const push = await runCli(['push', w.packs.d, ...w.at], { env: w.env });
    expect(push.code, push.stderr).toBe(0);
    const asked = syncs();
    const registry = w.palette.registries.get(w.uid);
    if (registry !== undefined) registry.sync = { ...registry.sync, status: 'Success', message: 'Synced 3 pack versions' };
    w.palette.fault = { method: 'POST', path: /\/sync$/, status: 409, times: 1000 };
    try {
      const run = await runCli(['palette', 'sync', 'status-refused:1.0.0', ...w.at, '--palette-timeout', '60'], { env: w.env });
      expect(run.code, run.stderr).toBe(3);
      expect(run.stdout).toBe("NOT VISIBLE in Palette status-refused:1.0.0: timed out after 60 s waiting for Palette's sync of lab (last status Success); Palette refused to start one (409: injected 409)\n");
      const line = 'palette: Palette did not start a sync of lab (409: injected 409), though its sync status shows none running (Success); asking again at each poll until --palette-timeout\n';
      expect(run.stderr.split(line).length - 1).toBe(1);
      expect(run.stderr).not.toContain('once the sync running ends');
      // Asked at each of the six polls of the minute, and the first time.
      expect(syncs() - asked).toBeGreaterThan(2);
      expect(w.palette.registries.get(w.uid)?.index.get('status-refused')).toBeUndefined();
    } finally {
      w.palette.fault = undefined;
    }
  });
});

describe('a registry list whose sync status leaves isSyncSupported out', () => {
  it("reads it from the registry's own status: off, exit 2 before publishing (was on 75ba2d75: published, then exit 3)", async () => {
    const registry = w.palette.registries.get(w.uid);
    if (registry === undefined) throw new Error('no lab registry');
    registry.sync.isSyncSupported = false;
    w.palette.summarySyncOmits = ['isSyncSupported'];
    try {
      const run = await runCli(['push', w.packs.e, ...w.at, '--palette-sync'], { env: w.env });
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain(`error: Palette's sync status of registry lab (${w.uid}), which serves ${w.registry.host}/${w.under('statusoff')}, says sync is off (isSyncSupported false), though its settings say on`);
      expect(await listedVersions(w.at, w.env)).not.toContain('status-partial:1.0.0');
    } finally {
      w.palette.summarySyncOmits = [];
      registry.sync.isSyncSupported = true;
    }
  });
});

describe('palette sync of a registry whose settings say sync on and whose sync status says off', () => {
  it('exit 3, the reason says its status, not its settings, is off (was: "turn it on"); no sync asked for', async () => {
    const registry = w.palette.registries.get(w.uid);
    if (registry === undefined) throw new Error('no lab registry');
    // Published (an earlier test's push): only Palette's sync status stands in the way.
    expect(await listedVersions(w.at, w.env)).toContain('status-off:1.0.0');
    const asked = syncs();
    registry.sync.isSyncSupported = false;
    try {
      const run = await runCli(['palette', 'sync', 'status-off:1.0.0', ...w.at], { env: w.env });
      expect(run.code, run.stdout + run.stderr).toBe(3);
      expect(run.stdout).toBe(
        `NOT VISIBLE in Palette status-off:1.0.0: Palette's sync status of registry lab says sync is off (isSyncSupported false), though its settings say on: Palette lists no pack from it; edit lab in Palette (Tenant Settings > Registries > OCI Registries) and save it with sync on, or sync it there\n`,
      );
      expect(run.stdout + run.stderr).not.toContain('turn it on');
    } finally {
      registry.sync.isSyncSupported = true;
    }
    expect(syncs()).toBe(asked);
    // Palette's record of it still says on: packpub changed nothing there.
    expect(registry.spec['isSyncSupported']).toBe(true);
  });
});
