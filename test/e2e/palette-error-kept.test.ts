import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipWaits } from '../support/clock.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { paletteLabWithHello } from '../support/published.js';
import { expectReportValid } from '../support/report-schema.js';
import { setup } from '../support/stage.js';

/*
 * A Palette error that lasts through the retries of a poll (503 on every read of one pack), and since the wait asks
 * again at its next poll, through the polls until --palette-timeout, ended push --palette-sync
 * with exit 1 and `palette: {status: error, error}`: the packs Palette had already been seen to list were on stdout's
 * lines, but not in the JSON report, which a CI job reads. Now the error stays (exit 1, `palette.error`), and
 * `palette.targets` keeps the target's report as it stood: each pack confirmed `visible` with its packUid, the others
 * `not-visible`, "not confirmed: <the error>". palette sync --json prints that object with the error too.
 */

const KEY = `apikey-${Math.random().toString(36).slice(2)}-tenant-admin`;
const clock = skipWaits();
const w = setup((stack) => paletteLabWithHello(stack, 'packpub-palette-error-kept-', KEY, clock, { shared: true }));

interface Report {
  ok: boolean;
  results: { name: string; status: string }[];
  palette: {
    status: string;
    error: { code: string; message: string };
    targets: { target: string; status: string; registry: { uid: string }; sync: { outcome: string }; packs: { name: string; status: string; packUid?: string; reason?: string }[] }[];
  };
}

describe('a Palette sync stopped by a Palette error while it confirms the packs', () => {
  it('exit 1 with the error, and the JSON report keeps the pack Palette had listed (was: the error alone)', async () => {
    const at = ['--registry', `${w.registry.host}/${w.under('packs')}`];
    const alpha = await writePack(join(w.root, 'alpha'), { name: 'alpha', version: '1.0.0' });
    const beta = await writePack(join(w.root, 'beta'), { name: 'beta', version: '2.0.0' });
    const first = await runCli(['push', alpha, beta, ...at], { env: w.env });
    expect(first.code, first.stderr).toBe(0);
    // Every read of beta answered 503, through the retries; alpha's read goes first and is answered.
    w.palette.fault = { method: 'GET', path: /^\/v1\/packs\/beta\//, status: 503, times: 1000 };
    try {
      const run = await runCli(['push', alpha, beta, ...at, '--palette-sync', '--json', '--retry-attempts', '2', '--palette-poll-interval', '5', '--palette-timeout', '60', '--no-cache'], { env: w.env });
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(/^error: Palette answered 503 to read pack beta after (2 attempts|1 attempt, when the wait's deadline \(--palette-timeout\) came)/m);
      // Never "asking again" when the wait's deadline cut the retries: no later poll would come.
      expect(run.stderr).not.toMatch(/deadline \(--palette-timeout\) came: .*; asking again at the next poll/);
      const report = JSON.parse(run.stdout) as Report;
      expectReportValid(report);
      expect(report.ok).toBe(false);
      expect(report.results.map((r) => [r.name, r.status])).toEqual([['alpha', 'unchanged'], ['beta', 'unchanged']]);
      expect(report.palette.status).toBe('error');
      expect(report.palette.error.code).toBe('PALETTE');
      const packUid = w.palette.registries.get(w.uid)?.index.get('alpha')?.get('1.0.0')?.packUid;
      expect(packUid).toMatch(/^[0-9a-f]{24}$/);
      expect(report.palette.targets).toEqual([
        expect.objectContaining({
          target: `${w.registry.host}/${w.under('packs')}`,
          status: 'published-not-visible',
          registry: expect.objectContaining({ uid: w.uid }) as unknown,
          sync: expect.objectContaining({ outcome: 'success' }) as unknown,
          packs: [
            { name: 'alpha', version: '1.0.0', status: 'visible', packUid },
            { name: 'beta', version: '2.0.0', status: 'not-visible', reason: `not confirmed: ${report.palette.error.message}` },
          ],
        }),
      ]);
    } finally {
      w.palette.fault = undefined;
    }
  });

  it('palette sync --json: the same object, printed with the error (was: nothing on stdout)', async () => {
    w.palette.fault = { method: 'GET', path: /^\/v1\/packs\/beta\//, status: 503, times: 1000 };
    try {
      const junit = join(w.root, 'stopped.xml');
      const run = await runCli(['palette', 'sync', 'alpha:1.0.0', 'beta:2.0.0', '--registry', `${w.registry.host}/${w.under('packs')}`, '--json', '--junit', junit, '--retry-attempts', '2', '--palette-poll-interval', '5', '--palette-timeout', '60'], { env: w.env });
      expect(run.code, run.stderr).toBe(1);
      const out = JSON.parse(run.stdout) as Report['palette'];
      expectReportValid(out, '#/$defs/paletteRun');
      expect(out.status).toBe('error');
      expect(out.error.code).toBe('PALETTE');
      expect(run.stderr).toContain(`error: ${out.error.message}\n`);
      expect(out.targets.map((t) => t.packs.map((p) => [p.name, p.status]))).toEqual([[['alpha', 'visible'], ['beta', 'not-visible']]]);
      // --junit: the Palette suite with the error that stopped the sync (not the suite of a run refused before it), and
      // each pack as it stood: alpha confirmed (passing), beta not (was: the error's case alone).
      const xml = await readFile(junit, 'utf8');
      expect(xml).toMatch(/<testsuites name="packpub palette sync" tests="3" failures="2" errors="0"/);
      expect(xml).toContain('<testcase name="palette sync" classname="palette" time="0.000">\n      <failure message="Palette sync stopped: Palette answered 503 to read pack beta after ');
      expect(xml).toMatch(/<testcase name="alpha:1\.0\.0" classname="palette [^"]+" time="0\.000">\n {6}<system-out>visible in Palette \(packUid [0-9a-f]+\)<\/system-out>/);
      expect(xml).toMatch(/<testcase name="beta:2\.0\.0" classname="palette [^"]+" time="0\.000">\n {6}<failure message="not visible in Palette: not confirmed: Palette answered 503 to read pack beta/);
    } finally {
      w.palette.fault = undefined;
    }
  });
});
