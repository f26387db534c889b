import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { skipWaits } from '../support/clock.js';
import { runBin, runCli, spawnCli, waitFor } from '../support/cli.js';
import { startPaletteLab } from '../support/palette-lab.js';
import { writePacks } from '../support/packs.js';
import { startRecordingProxy } from '../support/recording-proxy.js';
import { expectReportValid } from '../support/report-schema.js';
import { runChildText } from '../support/spawner.js';
import { setup } from '../support/stage.js';

/*
 * What each CI output says for each outcome of the Palette loop. palette sync wrote no job summary once a sync was
 * asked for: exit 0, exit 3 (not visible by the deadline, or the sync failed) and an error after the sync (Palette
 * unreachable through the deadline, exit 1, with --junit) left the job's page empty. A push or palette sync stopped by
 * a Palette error wrote a JUnit report of the one failing case, the packs Palette had confirmed before it left out, and
 * push's summary did not say them either. Now: palette sync's summary for every outcome (heading, each target's
 * registry and sync, a table of packs); the JUnit Palette suite and push's summary keep the packs confirmed before an error.
 */

const XSD = fileURLToPath(new URL('../fixtures/junit-jenkins.xsd', import.meta.url));
const KEY = `apikey-${Math.random().toString(36).slice(2)}-tenant-admin`;
const clock = skipWaits();
const w = setup(async (stack) => {
  const lab = await startPaletteLab(stack, { prefix: 'packpub-palette-ci-outcomes-', key: KEY, name: 'outcomes-lab', base: 'outcomes', clock, shared: true });
  // In front of Palette: answers for it once the sync was asked for (an outage after the trigger).
  const proxy = stack.add(await startRecordingProxy(lab.palette.url));
  const packs = await writePacks(lab.root, { a: 'oc-a:1.0.0', b: 'oc-b:1.0.0', c: 'oc-c:1.0.0', d: 'oc-d:1.0.0', e: 'oc-e:1.0.0', f: 'oc-f:1.0.0', g: 'oc-g:1.0.0', h: 'oc-h:1.0.0', i: 'oc-i:1.0.0' });
  return { ...lab, proxy, packs };
});

const target = () => `${w.registry.host}/${w.under('outcomes')}`;
const at = () => ['--registry', target()];
const env = () => ({ HOME: join(w.root, 'home'), DOCKER_CONFIG: join(w.root, 'docker'), SPECTROCLOUD_HOST: w.proxy.url, SPECTROCLOUD_APIKEY: KEY });
let n = 0;

/** `palette sync ...args` in GitHub Actions with --junit: exit code, stderr's workflow commands, the summary and the JUnit file. */
async function syncInCi(args: string[]): Promise<{ code: number; stderr: string; commands: string[]; md: string; xml: string }> {
  const summary = join(w.root, `summary-${++n}.md`);
  const junit = join(w.root, `junit-${n}.xml`);
  await writeFile(summary, '');
  const run = await runCli(['palette', 'sync', ...args, ...at(), '--palette-poll-interval', '1', '--junit', junit], {
    env: { ...env(), GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary, GITHUB_WORKSPACE: w.root },
  });
  await runChildText('xmllint', ['--noout', '--schema', XSD, junit]);
  return { code: run.code, stderr: run.stderr, commands: run.stderr.split('\n').filter((l) => l.startsWith('::')), md: await readFile(summary, 'utf8'), xml: await readFile(junit, 'utf8') };
}

const packUid = (name: string) => w.palette.registries.get(w.uid)?.index.get(name)?.get('1.0.0')?.packUid ?? 'none';

describe('palette sync in CI, each outcome of the loop', () => {
  it('every pack visible (exit 0): a summary saying so with each pack\'s packUid, a passing JUnit case, no annotation (was: no summary)', async () => {
    expect((await runCli(['push', w.packs.a, ...at()], { env: env() })).code).toBe(0);
    const run = await syncInCi(['oc-a:1.0.0']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.commands).toEqual([]);
    const lines = run.md.split('\n');
    expect(lines[0]).toBe('### packpub palette sync: every pack is visible in Palette');
    expect(run.md).toContain(`**${target()}**: Palette registry outcomes-lab (${w.uid}), sync success: Synced 1 pack versions\n`);
    expect(run.md).toContain(`| oc-a | 1.0.0 | visible | ${packUid('oc-a')} |  |\n`);
    expect(run.xml).toMatch(/<testsuites name="packpub palette sync" tests="1" failures="0" errors="0"/);
  });

  it('a sync that failed on another pack while Palette lists this one (exit 3): the summary says the pack is there and the sync failed', async () => {
    expect((await runCli(['push', w.packs.c, ...at()], { env: env() })).code).toBe(0);
    w.palette.failSyncsAfterIndexing = 'failed to pull other-team:2.0.0: manifest unknown';
    const run = await syncInCi(['oc-c:1.0.0']);
    expect(run.code, run.stderr).toBe(3);
    expect(run.md.split('\n')[0]).toBe('### packpub palette sync: Palette lists every pack, but its sync failed (exit 3)');
    expect(run.md).toContain(`**${target()}**: Palette registry outcomes-lab (${w.uid}), sync failed: failed to pull other-team:2.0.0: manifest unknown\n`);
    expect(run.md).toContain('- Palette lists every version asked for (1) with the content published, but its sync of outcomes-lab failed');
    expect(run.md).toContain(`| oc-c | 1.0.0 | visible | ${packUid('oc-c')} |  |\n`);
  });

  it('Palette unreachable after the sync was asked for, through the deadline (exit 1, --junit): the summary says the error and the pack not confirmed (was: none); the JUnit report keeps the pack\'s case', async () => {
    expect((await runCli(['push', w.packs.d, ...at()], { env: env() })).code).toBe(0);
    // Every status read after the sync was asked for answered 503, until the deadline.
    let triggered = false;
    w.proxy.onRequest = (req) => {
      if (req.method === 'POST' && /\/sync(\?|$)/.test(req.path)) triggered = true;
      else if (triggered && req.path.endsWith('/sync/status')) return { status: 503, headers: { 'content-type': 'application/json' }, body: '{"code":"ServiceUnavailable","message":"upstream restarting"}' };
      return 'pass';
    };
    try {
      const run = await syncInCi(['oc-d:1.0.0', '--palette-timeout', '30', '--retry-attempts', '2']);
      expect(run.code, run.stderr).toBe(1);
      expect(run.md.split('\n')[0]).toBe('### packpub palette sync: stopped by an error');
      expect(run.md).toMatch(/\n- Palette answered 503 to read the sync status of registry [0-9a-f]+ after/);
      expect(run.md).toMatch(/\| oc-d \| 1\.0\.0 \| not-visible \|  \| not confirmed: Palette answered 503/);
      expect(run.xml).toMatch(/<testsuites name="packpub palette sync" tests="2" failures="2" errors="0"/);
      expect(run.xml).toContain(`<testcase name="oc-d:1.0.0" classname="palette ${target()}" time="0.000">\n      <failure message="not visible in Palette: not confirmed: Palette answered 503`);
      // The error that ends the run is its annotation.
      expect(run.commands.some((l) => l.startsWith('::error') && l.includes('Palette answered 503 to read the sync status'))).toBe(true);
    } finally {
      w.proxy.onRequest = undefined;
    }
  });

  it('push --palette-sync whose sync Palette refuses (403, a role that reads registries but may not sync): published, exit 1; every output says it, the hint not blaming a project-scoped key', async () => {
    const summary = join(w.root, 'summary-refused.md');
    const junit = join(w.root, 'junit-refused.xml');
    await writeFile(summary, '');
    const syncsBefore = w.palette.registries.get(w.uid)?.syncRequests.length ?? 0;
    w.proxy.onRequest = (req) =>
      req.method === 'POST' && /\/sync(\?|$)/.test(req.path) ? { status: 403, headers: { 'content-type': 'application/json' }, body: '{"code":"Forbidden","message":"User is not authorized to sync the registry"}' } : 'pass';
    try {
      const run = await runCli(['push', w.packs.e, ...at(), '--palette-sync', '--json', '--junit', junit], {
        env: { ...env(), GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary, GITHUB_WORKSPACE: w.root },
      });
      expect(run.code, run.stderr).toBe(1);
      const message = `the Palette API key may not sync registry ${w.uid} (403), though Palette let it read registries earlier in this run: User is not authorized to sync the registry`;
      expect(run.stderr).toContain(`error: ${message}\n`);
      expect(run.stderr).toContain("hint: the key's user has a role that reads registries but may not do this: use an API key of a tenant admin (Tenant Admin role), or ask for that permission; what was published stays published, and packpub palette sync confirms it\n");
      const report = JSON.parse(run.stdout) as { results: { status: string }[]; palette: { status: string; error: { code: string; message: string } } };
      expect(report.results.map((r) => r.status)).toEqual(['published']);
      expect(report.palette).toMatchObject({ status: 'error', error: { code: 'AUTH', message } });
      const md = await readFile(summary, 'utf8');
      expect(md.split('\n')[0]).toBe('### packpub push: published, Palette sync failed');
      expect(md).toContain(`- Palette sync stopped: ${message.replace(/_/g, '\\_')}`);
      const xml = await readFile(junit, 'utf8');
      expect(xml).toContain(`<failure message="Palette sync stopped: ${message}" type="AUTH">`);
      await runChildText('xmllint', ['--noout', '--schema', XSD, junit]);
      // One annotation for the error (was two: ci-output's "Palette sync stopped: ..." and the run's error again).
      expect(run.stderr.split('\n').filter((l) => l.startsWith('::'))).toEqual([`::error title=packpub palette::Palette sync stopped: ${message}%0Ahint: the key's user has a role that reads registries but may not do this: use an API key of a tenant admin (Tenant Admin role), or ask for that permission; what was published stays published, and packpub palette sync confirms it`]);
      // The 403 came from in front of Palette's sync: it never got a sync request.
      expect(w.palette.registries.get(w.uid)?.syncRequests.length).toBe(syncsBefore);
    } finally {
      w.proxy.onRequest = undefined;
    }
  });

  it('palette sync --json interrupted (SIGTERM) after one pack was confirmed and while another was read: exit 130; the JSON, the JUnit report and the summary keep the confirmed pack and say the other is not (was: stdout empty, one "stopped" case)', async () => {
    for (const p of [w.packs.f, w.packs.g]) expect((await runCli(['push', p, ...at()], { env: env() })).code).toBe(0);
    const summary = join(w.root, 'summary-interrupted.md');
    const junit = join(w.root, 'junit-interrupted.xml');
    await writeFile(summary, '');
    const syncsBefore = w.palette.registries.get(w.uid)?.syncRequests.length ?? 0;
    // oc-f is read and listed; every read of oc-g is answered 503 (retried): the signal comes during those retries.
    const read = { f: false, g: false };
    w.proxy.onRequest = (req) => {
      if (req.method === 'GET' && req.path.startsWith('/v1/packs/oc-f/')) read.f = true;
      if (req.method !== 'GET' || !req.path.startsWith('/v1/packs/oc-g/')) return 'pass';
      read.g = read.f;
      return { status: 503, headers: { 'content-type': 'application/json' }, body: '{"code":"ServiceUnavailable","message":"upstream restarting"}' };
    };
    try {
      const run = spawnCli(['palette', 'sync', 'oc-f:1.0.0', 'oc-g:1.0.0', ...at(), '--palette-poll-interval', '0.05', '--json', '--junit', junit], {
        env: { ...env(), GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary, GITHUB_WORKSPACE: w.root },
      });
      try {
        await waitFor(() => read.g, 'oc-g to be read after oc-f');
        run.child.kill('SIGTERM');
        const result = await run.done;
        expect(result.code, result.stderr).toBe(130);
        expect(result.stderr).toContain('error: interrupted while Palette was asked; nothing was written to the registry;');
        const reason = 'not confirmed: interrupted before Palette was seen to list it';
        const report = JSON.parse(result.stdout) as { status: string; error: { code: string }; targets: { target: string; status: string; packs: unknown[] }[] };
        expectReportValid(report, '#/$defs/paletteRun');
        expect(report.status).toBe('error');
        expect(report.error.code).toBe('ABORTED');
        expect(report.targets.map((t) => [t.target, t.status])).toEqual([[target(), 'published-not-visible']]);
        expect(report.targets[0]?.packs).toEqual([
          { name: 'oc-f', version: '1.0.0', status: 'visible', packUid: packUid('oc-f') },
          { name: 'oc-g', version: '1.0.0', status: 'not-visible', reason },
        ]);
        const md = await readFile(summary, 'utf8');
        expect(md.split('\n')[0]).toBe('### packpub palette sync: interrupted');
        expect(md).toContain(`| oc-f | 1.0.0 | visible | ${packUid('oc-f')} |  |\n| oc-g | 1.0.0 | not-visible |  | ${reason} |\n`);
        const xml = await readFile(junit, 'utf8');
        await runChildText('xmllint', ['--noout', '--schema', XSD, junit]);
        expect(xml).toMatch(/<testsuites name="packpub palette sync" tests="3" failures="2" errors="0"/);
        expect(xml).toContain(`<testcase name="oc-f:1.0.0" classname="palette ${target()}" time="0.000">\n      <system-out>visible in Palette (packUid ${packUid('oc-f')})</system-out>`);
        expect(xml).toContain(`<testcase name="oc-g:1.0.0" classname="palette ${target()}" time="0.000">\n      <failure message="not visible in Palette: ${reason}" type="ABORTED">`);
        // One sync asked for; Palette lists both (the 503s came from in front of it).
        expect(w.palette.registries.get(w.uid)?.syncRequests.length).toBe(syncsBefore + 1);
        expect(w.palette.registries.get(w.uid)?.index.get('oc-g')?.has('1.0.0')).toBe(true);
      } finally {
        run.child.kill('SIGKILL');
      }
    } finally {
      w.proxy.onRequest = undefined;
    }
  });

  it('push --palette-sync --json: durationMs, the whole run\'s wall time, holds the wait for Palette, and so does the JUnit report\'s time (was: the push\'s alone)', async () => {
    const junit = join(w.root, 'junit-duration.xml');
    // A process of its own: its clock is the system's, as Palette's wait in it (this file skips waits in-process).
    const run = await runBin(['push', w.packs.h, ...at(), '--palette-sync', '--palette-poll-interval', '1', '--json', '--junit', junit], { env: env() });
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { durationMs: number; results: { status: string; durationMs: number }[]; palette: { status: string; targets: { durationMs: number }[] } };
    expect(report.results.map((r) => r.status)).toEqual(['published']);
    expect(report.palette.status).toBe('visible');
    const waited = report.palette.targets[0]?.durationMs ?? 0;
    // At least two polls a second apart.
    expect(waited).toBeGreaterThanOrEqual(2000);
    expect(report.durationMs).toBeGreaterThanOrEqual((report.results[0]?.durationMs ?? 0) + waited);
    expect(await readFile(junit, 'utf8')).toContain(`<testsuites name="packpub push" tests="2" failures="0" errors="0" time="${(report.durationMs / 1000).toFixed(3)}">`);
    expect(w.palette.registries.get(w.uid)?.index.get('oc-h')?.has('1.0.0')).toBe(true);
  });

  it('palette sync whose JUnit report cannot be written after the sync (a full disk): exit 1, as push and validate (was: exit 2, a usage error, after Palette had synced and listed the pack)', async () => {
    expect((await runCli(['push', w.packs.i, ...at()], { env: env() })).code).toBe(0);
    const syncsBefore = w.palette.registries.get(w.uid)?.syncRequests.length ?? 0;
    const run = await runCli(['palette', 'sync', 'oc-i:1.0.0', ...at(), '--palette-poll-interval', '1', '--junit', '/dev/full'], { env: env() });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toBe(`visible in Palette oc-i:1.0.0 (packUid ${packUid('oc-i')})\n`);
    expect(run.stderr).toContain('error: cannot write the JUnit report /dev/full: ENOSPC');
    expect(w.palette.registries.get(w.uid)?.syncRequests.length).toBe(syncsBefore + 1);
  });

  // Last: the sync left running is settled by the next status read, which would take another test's failSyncsAfterIndexing.
  it('not visible by the deadline (exit 3): the summary says it, with the reason; one annotation; a failing case (was: no summary)', async () => {
    expect((await runCli(['push', w.packs.b, ...at()], { env: env() })).code).toBe(0);
    w.palette.hangSyncs = true;
    try {
      const run = await syncInCi(['oc-b:1.0.0', '--palette-timeout', '30']);
      expect(run.code, run.stderr).toBe(3);
      expect(run.md.split('\n')[0]).toBe('### packpub palette sync: not every pack is visible in Palette (exit 3)');
      expect(run.md).toContain(`**${target()}**: Palette registry outcomes-lab (${w.uid}), sync timeout: Sync in progress\n`);
      expect(run.md).toMatch(/\n\| oc-b \| 1\.0\.0 \| not-visible \|  \| timed out after \d+ s waiting for Palette's sync of outcomes-lab \(last status InProgress\)/);
      expect(run.commands).toHaveLength(1);
      expect(run.commands[0]).toMatch(/^::error title=packpub palette::oc-b:1\.0\.0 \(.*\): not visible in Palette: timed out after/);
      expect(run.xml).toMatch(/<testsuites name="packpub palette sync" tests="1" failures="1" errors="0"/);
    } finally {
      w.palette.hangSyncs = false;
    }
  });
});
