import { describe, expect, it } from 'vitest';
import { annotations, stepSummary } from '../../../src/cli/ci-output/github.js';
import type { PaletteOutcome } from '../../../src/cli/ci-output/causes.js';
import { junitXml } from '../../../src/cli/ci-output/junit.js';
import { summarize, type PackResult, type PushReport } from '../../../src/operations/push-report.js';

/*
 * push --palette-sync exits 3 when Palette does not list a published pack. The CI outputs knew only the push:
 * the job summary said "succeeded" and the JUnit report had no failure while the job failed with exit code 3.
 */

const published: PackResult = {
  dir: '/w/packs/a',
  name: 'a',
  version: '1.0.0',
  target: 'registry h:5000/b',
  reference: 'h:5000/b/spectro-packs/archive/a:1.0.0',
  status: 'published',
  digest: `sha256:${'1'.repeat(64)}`,
  size: 600,
  uploadedBytes: 600,
  durationMs: 12,
};
const report: PushReport = { target: 'registry h:5000/b', results: [published], summary: summarize([published]), durationMs: 20, aborted: false };
const registry = { uid: 'r1', name: 'h-b', scope: 'tenant', endpoint: 'https://h:5000', baseContentPath: 'b', isSyncSupported: true } as never;
const target = (status: 'visible' | 'published-not-visible', pack: Record<string, unknown>): PaletteOutcome => ({
  status,
  targets: [{ target: 'h:5000/b', status, registry, forced: false, sync: { outcome: status === 'visible' ? 'success' : 'failed', message: "Palette's sync of h-b failed: manifest unknown" }, packs: [{ name: 'a', version: '1.0.0', ...pack } as never], durationMs: 5 }],
});
const notVisible = target('published-not-visible', { status: 'not-visible', reason: "Palette's sync of h-b failed: manifest unknown" });
const visible = target('visible', { status: 'visible', packUid: 'u-1' });
const options = { targets: ['registry h:5000/b'], started: new Date('2026-01-01T00:00:00Z'), hostname: 'ci' };

describe('the Palette step in the CI outputs', () => {
  it('a pack Palette does not list: the summary does not say succeeded, an error annotation, a failing JUnit case', () => {
    const summary = stepSummary(report, notVisible);
    expect(summary.split('\n')[0]).toBe('### packpub push: published, not visible in Palette');
    expect(summary).toContain("**Palette:** not every pack is visible\n- a:1.0.0 (h:5000/b): not visible in Palette: Palette's sync of h-b failed: manifest unknown\n");
    expect(annotations(report, '/w', notVisible).at(-1)).toBe("::error title=packpub palette::a:1.0.0 (h:5000/b): not visible in Palette: Palette's sync of h-b failed: manifest unknown");
    const xml = junitXml(report, { ...options, palette: notVisible });
    expect(xml).toContain('<testsuites name="packpub push" tests="2" failures="1" errors="0" time="0.020">');
    expect(xml).toContain(
      // The suite's time is the wait for Palette (the target's durationMs, 5 ms): was 0 whatever the wait.
      '  <testsuite name="Palette" tests="1" failures="1" errors="0" skipped="0" time="0.005" timestamp="2026-01-01T00:00:00" hostname="ci">\n' +
        '    <testcase name="a:1.0.0" classname="palette h:5000/b" time="0.000">\n' +
        '      <failure message="not visible in Palette: Palette&apos;s sync of h-b failed: manifest unknown" type="PALETTE_NOT_VISIBLE">',
    );
  });

  it('an error that stopped the sync fails one case named for the step', () => {
    const error: PaletteOutcome = { status: 'error', error: { code: 'AUTH', message: 'Palette rejected the API key', hint: 'check SPECTROCLOUD_APIKEY' } };
    expect(stepSummary(report, error).split('\n')[0]).toBe('### packpub push: published, Palette sync failed');
    expect(stepSummary(report, error)).toContain('- Palette sync stopped: Palette rejected the API key (check SPECTROCLOUD\\_APIKEY)\n');
    const xml = junitXml(report, { ...options, palette: error });
    expect(xml).toContain('<testcase name="palette sync" classname="palette" time="0.000">\n      <failure message="Palette sync stopped: Palette rejected the API key" type="AUTH">');
  });

  it('an error after some packs were confirmed: the summary and the JUnit report keep them (was: the error alone)', () => {
    const b = { name: 'b', version: '2.0.0', status: 'not-visible', reason: 'not confirmed: Palette answered 503 to read pack b after 6 attempts' };
    const kept = target('published-not-visible', { status: 'visible', packUid: 'u-1' });
    const first = kept.status === 'error' ? undefined : kept.targets[0];
    const stopped: PaletteOutcome = {
      status: 'error',
      error: { code: 'PALETTE', message: 'Palette answered 503 to read pack b after 6 attempts' },
      targets: first === undefined ? [] : [{ ...first, sync: { outcome: 'success' }, packs: [...first.packs, b as never] }],
    };
    const summary = stepSummary(report, stopped);
    expect(summary).toContain('- Palette sync stopped: Palette answered 503 to read pack b after 6 attempts\n');
    expect(summary).toContain('- (h:5000/b): before the error, Palette was seen to list 1 of the 2 versions asked for (a:1.0.0); the others are not confirmed\n');
    // Stopped by an interrupt (exit 130): said so, not "the error".
    const interrupted: PaletteOutcome = { ...stopped, error: { code: 'ABORTED', message: 'interrupted while Palette was asked' } };
    expect(stepSummary(report, interrupted)).toContain('- (h:5000/b): before the interrupt, Palette was seen to list 1 of the 2 versions asked for (a:1.0.0); the others are not confirmed\n');
    // A target with no version to confirm (an empty base path) has nothing to say it of.
    const none: PaletteOutcome = { ...stopped, targets: first === undefined ? [] : [{ ...first, packs: [] }] };
    expect(stepSummary(report, none)).not.toContain('before the error');
    const xml = junitXml(report, { ...options, palette: stopped });
    expect(xml).toContain('<testsuite name="Palette" tests="3" failures="2"');
    expect(xml).toContain('<testcase name="a:1.0.0" classname="palette h:5000/b" time="0.000">\n      <system-out>visible in Palette (packUid u-1)</system-out>');
    expect(xml).toContain('<testcase name="b:2.0.0" classname="palette h:5000/b" time="0.000">\n      <failure message="not visible in Palette: not confirmed: Palette answered 503 to read pack b after 6 attempts" type="PALETTE">');
  });

  it('every pack visible: succeeded, no annotation, a passing case', () => {
    expect(stepSummary(report, visible).split('\n')[0]).toBe('### packpub push: succeeded');
    expect(stepSummary(report, visible)).toContain('**Palette:** every pack is visible\n');
    expect(annotations(report, '/w', visible)).toEqual([]);
    const xml = junitXml(report, { ...options, palette: visible });
    expect(xml).toContain('<testsuites name="packpub push" tests="2" failures="0"');
    expect(xml).toContain('<system-out>visible in Palette (packUid u-1)</system-out>');
  });
});
