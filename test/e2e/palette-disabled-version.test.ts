import { describe, expect, it } from 'vitest';
import { skipWaits } from '../support/clock.js';
import { runCli } from '../support/cli.js';
import { writePacks } from '../support/packs.js';
import { startPaletteLab } from '../support/palette-lab.js';
import { setup } from '../support/stage.js';

/*
 * A pack version an administrator disabled in Palette: Palette's pack read leaves it out unless asked for disabled
 * versions (the 4.8 spec, GET /v1/packs/{name}/registries/{uid} `states`: "by default API will return all packs except
 * disabled packs"). palette sync waited for it every poll until --palette-timeout (10 minutes by default), then said
 * "Palette may have refused the pack". Now one read by state, after a round that did not list it, tells it disabled:
 * exit 3 at once, saying so; the other packs are confirmed as before.
 */

const KEY = `apikey-${Math.random().toString(36).slice(2)}-tenant-admin`;
const clock = skipWaits();
const w = setup(async (stack) => {
  const lab = await startPaletteLab(stack, { prefix: 'packpub-palette-disabled-', key: KEY, name: 'lab', base: 'disabled', clock, shared: true });
  const packs = await writePacks(lab.root, { a: 'dis-a:1.0.0', b: 'dis-b:1.0.0' });
  return { ...lab, packs };
});
const reads = (name: string) => w.palette.requests.filter((r) => r.method === 'GET' && r.path === `/v1/packs/${name}/registries/${w.uid}`);

describe('a pack version an administrator disabled in Palette', () => {
  it('palette sync: exit 3 at once, saying it is disabled (was: waited for until --palette-timeout, "Palette may have refused the pack")', async () => {
    const push = await runCli(['push', w.packs.a, w.packs.b, ...w.at, '--palette-sync'], { env: w.env });
    expect(push.code, push.stdout + push.stderr).toBe(0);
    const packUid = w.palette.registries.get(w.uid)?.index.get('dis-a')?.get('1.0.0')?.packUid;
    expect(packUid).toMatch(/^[0-9a-f]{24}$/);
    w.palette.disabled.add('dis-a:1.0.0');
    const before = reads('dis-a').length;
    const reason = `Palette lists dis-a:1.0.0 through lab only as disabled (packUid ${packUid}: a read asking for disabled versions shows it, Palette's default read leaves it out): an administrator disabled it in Palette; enable it there, or publish a new version`;

    // The default poll (10 s) and timeout (600 s): the waits are skipped, the time they stand for is the report's.
    const run = await runCli(['palette', 'sync', ...w.at, '--json'], { env: w.env });
    expect(run.code, run.stderr).toBe(3);
    const report = JSON.parse(run.stdout) as { status: string; targets: { durationMs: number; sync: { outcome: string }; packs: { name: string; status: string; reason?: string }[] }[] };
    expect(report.status).toBe('published-not-visible');
    expect(report.targets[0]?.sync.outcome).toBe('success');
    expect(report.targets[0]?.packs.map((p) => [p.name, p.status, p.reason])).toEqual([
      ['dis-a', 'not-visible', reason],
      ['dis-b', 'visible', undefined],
    ]);
    // Told after two rounds of reads, not after --palette-timeout's 600 s.
    expect(report.targets[0]?.durationMs).toBeLessThan(60_000);
    // dis-a read three times: the usual read that missed it, the read of its disabled versions, the usual read again.
    const asked = reads('dis-a').slice(before);
    expect(asked.map((r) => r.query)).toEqual(['', '?states=disabled', '']);
    expect(asked.every((r) => r.status === 200 || r.status === 404)).toBe(true);

    const text = await runCli(['palette', 'sync', ...w.at], { env: w.env });
    expect(text.code, text.stderr).toBe(3);
    expect(text.stdout.split('\n').filter((l) => l !== '').sort()).toEqual([`NOT VISIBLE in Palette dis-a:1.0.0: ${reason}`, expect.stringMatching(/^visible in Palette dis-b:1\.0\.0 \(packUid [0-9a-f]{24}\)$/)].sort());
    expect(text.stderr).toContain('error: published, but not visible in Palette (exit 3)');
    // Palette still holds the version as it was: packpub only read it.
    expect(w.palette.registries.get(w.uid)?.index.get('dis-a')?.get('1.0.0')?.packUid).toBe(packUid);
    expect(w.palette.violations()).toEqual([]);

    // Enabled again: visible, exit 0.
    w.palette.disabled.delete('dis-a:1.0.0');
    const enabled = await runCli(['palette', 'sync', 'dis-a:1.0.0', ...w.at], { env: w.env });
    expect(enabled.code, enabled.stderr).toBe(0);
    expect(enabled.stdout).toBe(`visible in Palette dis-a:1.0.0 (packUid ${packUid})\n`);
  });
});

describe('a Palette that refuses the read by state (400)', () => {
  it('waits for the version as before, exit 3 at --palette-timeout, never an error ending the run', async () => {
    w.palette.disabled.add('dis-b:1.0.0');
    w.palette.statesRefused = true;
    try {
      const before = reads('dis-b').length;
      const run = await runCli(['palette', 'sync', 'dis-b:1.0.0', ...w.at, '--palette-timeout', '60'], { env: w.env });
      expect(run.code, run.stderr).toBe(3);
      expect(run.stdout).toMatch(/^NOT VISIBLE in Palette dis-b:1\.0\.0: Palette's sync of lab finished but does not list dis-b:1\.0\.0 \(sync message: Synced \d+ pack versions\); Palette may have refused the pack\n$/);
      const asked = reads('dis-b').slice(before);
      // One read by state, refused; every other poll the usual read.
      expect(asked.filter((r) => r.query === '?states=disabled').map((r) => r.status)).toEqual([400]);
      expect(asked.filter((r) => r.query === '').length).toBeGreaterThan(2);
    } finally {
      w.palette.statesRefused = false;
      w.palette.disabled.delete('dis-b:1.0.0');
    }
  });
});
