import { hostname } from 'node:os';
import type { PackResult, PushReport } from '../../operations/push-report.js';
import type { Finding } from '../../pack/findings.js';
import type { ValidationReport } from '../../pack/validate.js';
import { isFailure, packId, paletteProblems, type PaletteOutcome } from './causes.js';

/*
 * `--junit FILE`: the push as a JUnit XML report in the Ant/Jenkins shape that GitLab CI, Jenkins and
 * Azure DevOps read: <testsuites> holding one <testsuite> per target, one <testcase> per pack (and
 * target), a <failure> for an invalid, conflicting or failed pack, <skipped> for --skip-existing.
 */

/** Characters XML 1.0 does not allow at all (control characters other than tab, LF, CR). */
// eslint-disable-next-line no-control-regex
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;

export function xmlEscape(s: string): string {
  return s
    .replace(NOT_XML, '\ufffd')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\r/g, '&#13;')
    .replace(/\n/g, '&#10;')
    .replace(/\t/g, '&#9;');
}

/** Text content keeps line breaks; only markup characters are escaped. */
function xmlText(s: string): string {
  return s.replace(NOT_XML, '\ufffd').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function attrs(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`)
    .join('');
}

/** `error pack.json:3:5 a.b: message` */
function findingLine(f: Finding): string {
  const where = [f.file, f.line, f.column].filter((x) => x !== undefined).join(':');
  return `${f.severity} ${where}${f.path === undefined ? '' : ` ${f.path}`}: ${f.message}`;
}

function failureBody(r: PackResult): string {
  const lines = [r.error?.message ?? r.status];
  if (r.error?.hint !== undefined) lines.push(`hint: ${r.error.hint}`);
  for (const f of r.findings ?? []) lines.push(findingLine(f));
  return lines.join('\n');
}

/** A dry run's plan for a version that holds other content. */
export function wouldConflict(r: PackResult): boolean {
  return r.status === 'planned' && r.plan === 'conflict';
}

export const WOULD_CONFLICT = 'dry run: holds different content; the real run would refuse it (CONFLICT, exit 1)';

function testcase(r: PackResult, suite: string): string {
  const open = `    <testcase${attrs({ name: packId(r), classname: suite, time: seconds(r.durationMs) })}`;
  if (isFailure(r)) {
    const type = r.error?.code ?? r.status.toUpperCase();
    const message = `${r.status}: ${r.error?.message ?? r.status}`;
    return `${open}>\n      <failure${attrs({ message, type })}>${xmlText(failureBody(r))}</failure>\n    </testcase>`;
  }
  if (r.status === 'skipped') {
    return `${open}>\n      <skipped${attrs({ message: 'holds different content; kept as is (--skip-existing)' })}/>\n    </testcase>`;
  }
  // A dry run's planned conflict is no pass: the real run would refuse the pack (exit 1). Skipped, as the dry run's
  // exit code is 0 (docs/report.md), with what the real run would do.
  if (wouldConflict(r)) {
    return `${open}>\n      <skipped${attrs({ message: WOULD_CONFLICT })}/>\n    </testcase>`;
  }
  const detail = [r.status === 'planned' ? `planned ${r.plan ?? ''}` : r.status, r.reference, r.digest].filter((x) => x !== undefined).join(' ');
  // What the target's repository keeps that differs from what was asked: JUnit's channel for a passing case's warnings.
  const warned = (r.warnings ?? []).flatMap((w) => [`warning: ${w.message}`, ...(w.hint === undefined ? [] : [`hint: ${w.hint}`])]);
  const err = warned.length === 0 ? '' : `\n      <system-err>${xmlText(warned.join('\n'))}</system-err>`;
  return `${open}>\n      <system-out>${xmlText(detail)}</system-out>${err}\n    </testcase>`;
}

/** The one case of a run that had no pack to push (junitXml). */
function nothingToPush(target: string): string {
  return `    <testcase${attrs({ name: 'nothing to push', classname: target, time: seconds(0) })}>\n      <system-out>${xmlText('no pack to push in this run (a --shard I/N that holds none): nothing was published, as asked')}</system-out>\n    </testcase>`;
}

export interface JunitOptions {
  /** Display names of the run's targets, in order; invalid packs (which reached none) count for each. */
  targets: string[];
  /** When the run started (the suites' timestamp). */
  started: Date;
  hostname?: string;
  /** push --palette-sync: one more suite, a case per pack Palette was asked to list, failing where it does not (exit code 3). */
  palette?: PaletteOutcome;
  /** The run was abandoned after an interrupt (what stderr said): one more suite, whose one case is an error. */
  interrupted?: string[];
}

/** The Palette step as a suite: each pack confirmed (or planned) passes, each problem fails. */
function paletteSuite(palette: PaletteOutcome, stamp: Record<string, string>): { xml: string; tests: number; failures: number } {
  const problems = paletteProblems(palette);
  const cases: string[] = [];
  let tests = 0;
  const failing = (name: string, classname: string, message: string, hint: string | undefined): string =>
    `    <testcase${attrs({ name, classname, time: seconds(0) })}>\n      <failure${attrs({ message, type: palette.status === 'error' ? palette.error.code : 'PALETTE_NOT_VISIBLE' })}>${xmlText(hint === undefined ? message : `${message}\nhint: ${hint}`)}</failure>\n    </testcase>`;
  for (const p of problems.filter((x) => x.pack === undefined)) {
    tests++;
    cases.push(failing('palette sync', p.target === '' ? 'palette' : `palette ${p.target}`, p.message, p.hint));
  }
  let failures = cases.length;
  // Stopped by an error, the targets it had reached by then too (each pack confirmed before it passes, the others
  // fail, not confirmed): before, the one failing case alone, the packs Palette had been seen to list left out.
  for (const t of palette.targets ?? []) {
    // A base path holding no pack version, its sync succeeded (exit 0): one passing case saying so. Was: a suite of no
    // case (the report's only one for palette sync), on which Jenkins' junit step fails the build.
    if (t.packs.length === 0 && !problems.some((x) => x.target === t.target)) {
      tests++;
      cases.push(`    <testcase${attrs({ name: 'no pack version', classname: `palette ${t.target}`, time: seconds(0) })}>\n      <system-out>${xmlText(`no pack version under ${t.target} to confirm; Palette's sync ${t.sync.outcome === 'success' ? 'succeeded' : `ended ${t.sync.outcome}`}`)}</system-out>\n    </testcase>`);
    }
    for (const pack of t.packs) {
      tests++;
      const id = `${pack.name}:${pack.version}`;
      const problem = problems.find((x) => x.target === t.target && x.pack === id) ?? (pack.status === 'not-visible' ? { message: `not visible in Palette: ${pack.reason ?? 'not confirmed'}`, hint: undefined } : undefined);
      if (problem !== undefined) {
        failures++;
        cases.push(failing(id, `palette ${t.target}`, problem.message, problem.hint));
      } else cases.push(`    <testcase${attrs({ name: id, classname: `palette ${t.target}`, time: seconds(0) })}>\n      <system-out>${xmlText(pack.status === 'visible' ? `visible in Palette (packUid ${pack.packUid ?? 'unknown'})` : pack.status)}</system-out>\n    </testcase>`);
    }
  }
  // The time Palette was waited for (each target's sync and confirmation): was 0, for a wait of minutes.
  const waited = (palette.targets ?? []).reduce((n, t) => n + t.durationMs, 0);
  const open = `  <testsuite${attrs({ name: 'Palette', tests, failures, errors: 0, skipped: 0, time: seconds(waited), ...stamp })}>`;
  return { xml: [open, ...cases, '  </testsuite>'].join('\n'), tests, failures };
}

export function junitXml(report: PushReport, options: JunitOptions): string {
  const targets = options.targets.length > 0 ? options.targets : [report.target];
  const suites: string[] = [];
  let tests = 0;
  let failures = 0;
  const stamp = { timestamp: options.started.toISOString().replace(/\.\d{3}Z$/, ''), hostname: options.hostname ?? 'localhost' };
  for (const target of targets) {
    const results = report.results.filter((r) => r.target === undefined || r.target === target);
    const failed = results.filter(isFailure).length;
    const skipped = results.filter((r) => r.status === 'skipped' || wouldConflict(r)).length;
    const time = results.reduce((n, r) => n + r.durationMs, 0);
    // A run with no pack (a --shard I/N holding none, exit 0): one passing case saying so. A report of no test case
    // failed Jenkins' junit step ("None of the test reports contained any result") for a run that did as asked.
    const cases = report.results.length === 0 ? [nothingToPush(target)] : results.map((r) => testcase(r, target));
    tests += cases.length;
    failures += failed;
    suites.push(
      [
        `  <testsuite${attrs({
          name: target,
          tests: cases.length,
          failures: failed,
          errors: 0,
          skipped,
          time: seconds(time),
          ...stamp,
        })}>`,
        ...cases,
        '  </testsuite>',
      ].join('\n'),
    );
  }
  if (options.palette !== undefined) {
    const suite = paletteSuite(options.palette, stamp);
    suites.push(suite.xml);
    tests += suite.tests;
    failures += suite.failures;
  }
  // An abandoned run: whatever its cases say, the report is not a success (an error case, counted in `errors`).
  let errors = 0;
  if (options.interrupted !== undefined) {
    tests++;
    errors++;
    const first = options.interrupted[0];
    suites.push(errorSuite('interrupted', `interrupted: ${first ?? 'the run was abandoned'}`, 'INTERRUPTED', options.interrupted.join('\n') || 'the run was abandoned', stamp, report.durationMs));
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs({ name: 'packpub push', tests, failures, errors, time: seconds(report.durationMs) })}>`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}

/**
 * `palette sync --junit`: the Palette suite push --palette-sync adds (a case per pack, failing where Palette does not
 * list it, exit code 3; one failing case for an error that stopped the sync), alone.
 */
export function paletteSyncJunitXml(palette: PaletteOutcome, options: { started: Date; durationMs: number; hostname?: string }): string {
  const stamp = { timestamp: options.started.toISOString().replace(/\.\d{3}Z$/, ''), hostname: options.hostname ?? 'localhost' };
  const suite = paletteSuite(palette, stamp);
  return ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites${attrs({ name: 'packpub palette sync', tests: suite.tests, failures: suite.failures, errors: 0, time: seconds(options.durationMs) })}>`, suite.xml, '</testsuites>', ''].join('\n');
}

/** A suite of one case, `run`, that is an error (the run itself, not a pack, did not do what was asked). */
function errorSuite(name: string, message: string, type: string, body: string, stamp: Record<string, string>, ms: number): string {
  return [
    `  <testsuite${attrs({ name, tests: 1, failures: 0, errors: 1, skipped: 0, time: seconds(0), ...stamp })}>`,
    `    <testcase${attrs({ name: 'run', classname: name, time: seconds(ms) })}>`,
    `      <error${attrs({ message, type })}>${xmlText(body)}</error>`,
    '    </testcase>',
    '  </testsuite>',
  ].join('\n');
}

/**
 * A run that ended on an error before it wrote its report (`refused`: a usage or configuration error, exit 2, nothing
 * attempted; `stopped`: any other error that ended it): one suite of that name whose one case is an error naming
 * it. Without a file, GitLab's `reports: junit` warns "no files" and Jenkins' junit step fails "No test report files
 * were found", neither saying why.
 */
export function refusalJunitXml(command: string, error: { code: string; message: string; hint?: string | undefined }, refused: boolean, options: { started: Date; hostname?: string }): string {
  const stamp = { timestamp: options.started.toISOString().replace(/\.\d{3}Z$/, ''), hostname: options.hostname ?? 'localhost' };
  const name = refused ? 'refused' : 'stopped';
  const body = error.hint === undefined ? error.message : `${error.message}\nhint: ${error.hint}`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs({ name: `packpub ${command}`, tests: 1, failures: 0, errors: 1, time: seconds(Date.now() - options.started.getTime()) })}>`,
    errorSuite(name, `${name}: ${error.message}`, error.code, body, stamp, Date.now() - options.started.getTime()),
    '</testsuites>',
    '',
  ].join('\n');
}

/** What --junit holds while the run has not written its report (checkJunitPath): one error case, `unfinished`. */
export function unfinishedJunitXml(started: Date): string {
  const stamp = { timestamp: started.toISOString().replace(/\.\d{3}Z$/, ''), hostname: hostname() };
  const message = `unfinished: packpub started at ${started.toISOString()} and has not written this report: it is still running, or it was stopped (interrupted or killed) before it could`;
  return ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites${attrs({ name: 'packpub', tests: 1, failures: 0, errors: 1, time: seconds(0) })}>`, errorSuite('unfinished', message, 'UNFINISHED', message, stamp, 0), '</testsuites>', ''].join('\n');
}

/**
 * `validate --junit FILE`: one suite `validate`, one case per pack folder (in the order given), failing (type
 * PACK_INVALID, as push's invalid packs) where the pack did not pass, its findings in the body; a passing pack's
 * warnings and notes go to its case's system-err.
 */
export function validateJunitXml(reports: readonly ValidationReport[], options: { started: Date; durationMs: number; hostname?: string }): string {
  const failed = reports.filter((r) => !r.passed).length;
  const stamp = { timestamp: options.started.toISOString().replace(/\.\d{3}Z$/, ''), hostname: options.hostname ?? 'localhost' };
  const cases = reports.map((r) => {
    const open = `    <testcase${attrs({ name: r.pack === undefined ? r.dir : `${r.pack.name}:${r.pack.version}`, classname: 'validate', time: seconds(0) })}>`;
    const body = xmlText(r.findings.map(findingLine).join('\n'));
    const counts = `${r.errors} error${r.errors === 1 ? '' : 's'}, ${r.warnings} warning${r.warnings === 1 ? '' : 's'}`;
    if (!r.passed) return `${open}\n      <failure${attrs({ message: `invalid: ${counts}`, type: 'PACK_INVALID' })}>${body}</failure>\n    </testcase>`;
    return `${open}\n      <system-out>${xmlText(`passed: ${counts} (${r.dir})`)}</system-out>${r.findings.length === 0 ? '' : `\n      <system-err>${body}</system-err>`}\n    </testcase>`;
  });
  const time = seconds(options.durationMs);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs({ name: 'packpub validate', tests: reports.length, failures: failed, errors: 0, time })}>`,
    `  <testsuite${attrs({ name: 'validate', tests: reports.length, failures: failed, errors: 0, skipped: 0, time, ...stamp })}>`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
