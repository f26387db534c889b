import { appendFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { PackpubError, errorMessage } from '../../errors.js';
import { summarize, type PackResult, type PushReport } from '../../operations/push-report.js';
import { outputPlace, tempPathFor, writeFileAtomic } from '../../util/fs.js';
import type { CliIo } from '../io.js';
import { EXIT_USAGE, exitCodeFor, printable, standardOutputAt, userPath, writeLine } from '../io.js';
import { resultWarningLines } from '../render.js';
import type { LedgerState } from '../signals.js';
import { causeLine, failureCauses, packId, referenceUnlessSaid, type PaletteOutcome } from './causes.js';
import type { ValidationReport } from '../../pack/validate.js';
import { annotations, inGitHubActions, workflowCommand, paletteSyncSummary, refusalSummary, stepSummary, validateAnnotations, validatedId, validateSummary } from './github.js';
import { junitXml, paletteSyncJunitXml, refusalJunitXml, unfinishedJunitXml, validateJunitXml } from './junit.js';

/** One line for a failed pack, for logs where stdout is the JSON report; what a registry said is shown as U+XXXX. */
export function failureLine(r: PackResult): string {
  return printable(failureText(r));
}

function failureText(r: PackResult): string {
  let text = `${r.status.toUpperCase()} ${packId(r)}${referenceUnlessSaid(r)}: ${r.error?.message ?? r.status}`;
  const errors = r.findings?.filter((f) => f.severity === 'error') ?? [];
  const first = errors[0];
  if (first !== undefined) {
    const at = [first.file, first.line, first.column].filter((x) => x !== undefined).join(':');
    text += `: ${at}${first.path === undefined ? '' : ` ${first.path}`}: ${first.message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`;
  }
  return r.error?.hint === undefined ? text : `${text} (hint: ${r.error.hint})`;
}

/** With --json/--json-lines: one human line per failure (one per shared cause) for stderr. */
export function failureLines(results: PackResult[]): string[] {
  return failureCauses(results).map((c) =>
    c.kind === 'pack' ? failureLine(c.result) : printable(`${causeLine(c)}${c.hint === undefined ? '' : ` (hint: ${c.hint})`}`),
  );
}

export interface CiOutputOptions {
  /** stdout is machine-only (--json, --json-lines): failures also go to stderr, one line each. */
  machine: boolean;
  /** --junit FILE, relative to the working directory. */
  junit?: string;
  targets: string[];
  started: Date;
  /** push --palette-sync: the Palette step's outcome, when it ran. */
  palette?: PaletteOutcome;
  /**
   * The run was interrupted (SIGINT/SIGTERM): what to say of it. The job summary and the JUnit report say
   * "interrupted" (never a success), also when every pack that started finished.
   */
  interrupted?: string[];
  /** Abandoned after the grace period (or a second signal): stderr has said what was and was not published. */
  abandoned?: boolean;
}

/**
 * An abandoned run as a report: what finished as it finished; a pack started and not finished on a target
 * `failed` with code ABORTED, "perhaps published" when its blobs were uploaded (the registry may have written
 * its tag), else "not published"; a pack never started `failed` ABORTED, as a run stopped in time reports it.
 */
export function abandonedReport(state: LedgerState<PackResult>, started: Date): PushReport {
  const targets = state.targets.length > 0 ? state.targets : [''];
  const done = new Set(state.finished.map((r) => `${r.dir}\0${r.target ?? ''}`));
  const unfinished: PackResult[] = [];
  const aborted = (dir: string, target: string, error: NonNullable<PackResult['error']>, pack?: { name: string; version: string; reference?: string }, first = false): PackResult => ({
    dir,
    ...(pack === undefined ? {} : { name: pack.name, version: pack.version }),
    ...(first && pack?.reference !== undefined ? { reference: pack.reference } : {}),
    ...(target === '' ? {} : { target }),
    status: 'failed',
    uploadedBytes: 0,
    durationMs: 0,
    error,
  });
  for (const p of state.started) {
    targets.forEach((target, i) => {
      if (done.has(`${p.dir}\0${target}`)) return;
      const error = p.tagging
        ? { code: 'ABORTED', message: 'abandoned while writing its tag: perhaps published', hint: 'run again: it finds the version unchanged or publishes it' }
        : { code: 'ABORTED', message: 'abandoned in flight: not published (no tag was written)', hint: 'run again to finish' };
      unfinished.push(aborted(p.dir, target, error, p, i === 0));
    });
  }
  for (const p of state.notStarted) {
    const pack = p.name === undefined || p.version === undefined ? undefined : { name: p.name, version: p.version };
    for (const target of targets) unfinished.push(aborted(p.dir, target, { code: 'ABORTED', message: 'not started: the run was stopped' }, pack));
  }
  const results = [...state.finished, ...unfinished];
  return { target: state.targets.join(', '), results, summary: summarize(results), durationMs: Date.now() - started.getTime(), aborted: true };
}

/**
 * The runs (by their io) that wrote their reports: an error ending such a run afterwards (push --palette-sync's Palette
 * error) leaves them as they are. By run, so that runs side by side in one process keep their own.
 */
const reported = new WeakSet<CliIo>();

/**
 * A push or validate that ended on an error before writing its reports (a usage or configuration error, exit 2:
 * nothing was attempted; or another error that ended it): the --junit file gets one error case naming it, and in
 * GitHub Actions the job summary says so (the ::error annotation is renderError's). Best effort: a report that cannot
 * be written (the --junit path was the refusal) is left out; the error itself is what the run prints.
 */
export async function reportRefusal(io: CliIo, command: 'push' | 'validate' | 'palette sync', junit: unknown, thrown: unknown, started: Date): Promise<void> {
  if (reported.has(io)) return;
  reported.add(io);
  const err = thrown instanceof PackpubError ? thrown : new PackpubError('INTERNAL', errorMessage(thrown), { hint: 'this is a bug in packpub; run again with --debug and report the output' });
  const refused = exitCodeFor(err.code) === EXIT_USAGE;
  if (inGitHubActions(io.env)) await appendSummary(io, () => refusalSummary(command, err, refused));
  if (typeof junit !== 'string' || junit.trim() === '') return;
  // Standard output (checkJunitPath's refusal) stays empty, as for every run refused (exit 2).
  const stdout = standardOutputAt(io, resolve(io.cwd, userPath(io, junit)));
  if (stdout === 'file' || stdout === 'pipe') return;
  await writeJunit(io, junit, refusalJunitXml(command, err, refused, { started, hostname: hostname() })).catch(() => undefined);
}

/**
 * Everything a push reports besides its own renderer: stderr failure lines for machine output, GitHub
 * annotations and the job summary when GITHUB_ACTIONS=true, and the JUnit file.
 */
export async function writeCiOutputs(io: CliIo, report: PushReport, options: CiOutputOptions): Promise<void> {
  reported.add(io);
  const interrupted = options.interrupted === undefined ? {} : { interrupted: options.interrupted };
  if (options.machine && options.abandoned !== true) {
    for (const line of failureLines(report.results)) writeLine(io.stderr, line);
    // Warnings are in each result; a person reading the job log sees them too.
    for (const r of report.results) for (const line of resultWarningLines(packId(r), r.reference, r.warnings)) writeLine(io.stderr, line);
  }
  if (inGitHubActions(io.env)) {
    // The summary first: its failure is a warning among the run's others, within GitHub's 10 (was: the 11th, not shown).
    const lost = await appendSummary(io, () => stepSummary(report, options.palette, interrupted), false);
    for (const line of annotations(report, io.env['GITHUB_WORKSPACE'] || io.cwd, options.palette, lost)) writeLine(io.stderr, line);
  }
  if (options.junit !== undefined) {
    await writeJunit(io, options.junit, junitXml(report, { targets: options.targets, started: options.started, hostname: hostname(), ...(options.palette === undefined ? {} : { palette: options.palette }), ...interrupted }));
  }
}

/**
 * `palette sync`'s reports once a sync was asked for, whatever came of it (visible, not, stopped by an error): in GitHub
 * Actions the job summary (paletteSyncSummary), and with --junit FILE the Palette suite alone (paletteSyncJunitXml).
 */
export async function writePaletteSyncOutputs(io: CliIo, file: string | undefined, palette: PaletteOutcome, started: Date): Promise<void> {
  reported.add(io);
  if (inGitHubActions(io.env)) await appendSummary(io, () => paletteSyncSummary(palette));
  if (file !== undefined) await writeJunit(io, file, paletteSyncJunitXml(palette, { started, durationMs: Date.now() - started.getTime(), hostname: hostname() }));
}

/**
 * The job summary appended to GITHUB_STEP_SUMMARY, when set. A failure to (a full disk, a file the step cannot write) is
 * a `::warning` annotation, the run's outcome standing: it was a plain `warning:` line deep in the log, the run's page
 * showing a green step with no summary and nothing saying why.
 */
async function appendSummary(io: CliIo, text: () => string, print = true): Promise<string | undefined> {
  const summaryFile = io.env['GITHUB_STEP_SUMMARY'];
  if (summaryFile === undefined || summaryFile === '') return undefined;
  try {
    await appendFile(summaryFile, text());
    return undefined;
  } catch (err) {
    const said = `cannot append the job summary to GITHUB_STEP_SUMMARY (${summaryFile}): ${errorMessage(err)}; the job summary is missing or cut short, the run's outcome is in the log (and its exit code)`;
    const line = workflowCommand('warning', { title: 'packpub job summary' }, printable(said));
    if (print) writeLine(io.stderr, line);
    return line;
  }
}

async function writeJunit(io: CliIo, file: string, xml: string): Promise<void> {
  try {
    await writeFileAtomic(resolve(io.cwd, userPath(io, file)), xml);
  } catch (err) {
    throw new PackpubError('USAGE', `cannot write the JUnit report ${file}: ${errorMessage(err)}`, {
      hint: 'give --junit a path in a folder that exists and is writable',
    });
  }
}

/** `INVALID a:1.0.0: pack.json:3:5 a.b: message (and 2 more)`: a pack that did not pass, for stderr beside --json. */
export function validateFailureLine(r: ValidationReport, strict: boolean): string {
  const failing = r.findings.filter((f) => f.severity === 'error' || (strict && f.severity === 'warning'));
  const first = failing[0];
  const at = first === undefined ? '' : [first.file, first.line, first.column].filter((x) => x !== undefined).join(':');
  const finding = first === undefined ? 'did not pass' : `${at}${first.path === undefined ? '' : ` ${first.path}`}: ${first.message}${failing.length > 1 ? ` (and ${failing.length - 1} more)` : ''}`;
  return printable(`INVALID ${validatedId(r)}: ${finding}`);
}

/**
 * What `validate` reports besides its own output, as push does: with --json, one stderr line per pack that did not
 * pass; in GitHub Actions, an annotation per finding and the job summary; with --junit, the JUnit file.
 */
export async function writeValidateCiOutputs(io: CliIo, reports: readonly ValidationReport[], options: { machine: boolean; junit?: string; started: Date; strict: boolean }): Promise<void> {
  reported.add(io);
  if (options.machine) for (const r of reports) if (!r.passed) writeLine(io.stderr, validateFailureLine(r, options.strict));
  if (inGitHubActions(io.env)) {
    const lost = await appendSummary(io, () => validateSummary(reports, options.strict), false);
    for (const line of validateAnnotations(reports, io.env['GITHUB_WORKSPACE'] || io.cwd, lost)) writeLine(io.stderr, line);
  }
  if (options.junit !== undefined) await writeJunit(io, options.junit, validateJunitXml(reports, { started: options.started, durationMs: Date.now() - options.started.getTime(), hostname: hostname() }));
}

/**
 * Refuse --junit before anything is pushed when its folder does not exist or takes no new file (read-only,
 * no permission): tried by creating and removing an empty file there, as the report's own write will.
 */
export async function checkJunitPath(at: string | Pick<CliIo, 'cwd' | 'env'>, file: string): Promise<void> {
  // With the run's io, `~/...` is the home folder's (the shell leaves a ~ after = alone), as writeCiOutputs reads it.
  const cwd = typeof at === 'string' ? at : at.cwd;
  // `--junit` left without its value (an unset CI variable): the run published, then failed writing a report
  // over the working directory (exit 1). Refused before anything runs, as the other path flags are; checked
  // before userPath, which makes '' the working directory.
  if (file.trim() === '') throw new PackpubError('USAGE', '--junit is empty', { hint: 'give a value (an unset CI variable often leaves it empty), or leave --junit out' });
  // `-` (standard output, as build -o reads it) wrote the report to a file named "-", exit 0.
  if (file === '-') {
    throw new PackpubError('USAGE', `--junit - is standard output, which carries the run's own lines (or its --json report) too`, { hint: 'give --junit a file (e.g. reports/junit.xml) and read it from there' });
  }
  if (typeof at !== 'string') file = userPath(at, file);
  const dir = dirname(resolve(cwd, file));
  const info = await stat(dir).catch(() => undefined);
  if (info?.isDirectory() !== true) {
    throw new PackpubError('USAGE', `--junit ${file}: folder ${dir} does not exist`, { hint: 'create the folder first, or give another path' });
  }
  const place = await outputPlace(resolve(cwd, file));
  // `--junit /dev/stdout` into a pipe or a file: the run's own lines (or its --json report) go there too, and the
  // XML read from it was not XML. (On a terminal, or /dev/null, nothing reads it as a file.)
  const stdout = typeof at === 'string' || !('stdout' in at) ? undefined : standardOutputAt(at as Pick<CliIo, 'stdout'>, place.path);
  if (stdout === 'file' || stdout === 'pipe') {
    throw new PackpubError('USAGE', `--junit ${file} is standard output, which carries the run's own lines (or its --json report) too`, {
      hint: 'give --junit a file (e.g. reports/junit.xml) and read it from there',
    });
  }
  if (place.special) return; // a pipe or device (/dev/stdout) is written into: no file is created beside it
  if ((await stat(place.path).catch(() => undefined))?.isDirectory() === true) {
    throw new PackpubError('USAGE', `--junit ${file} is a folder`, { hint: 'give --junit a file path, e.g. reports/junit.xml' });
  }
  const probe = tempPathFor(place.path);
  const refused = (err: unknown) =>
    new PackpubError('USAGE', `--junit ${file}: cannot write into folder ${dirname(place.path)}: ${errorMessage(err)}`, {
      hint: 'give --junit a path in a folder that exists and is writable',
    });
  // From now on the file says this run has not finished its report, until the run writes it: a run killed on the way
  // (SIGKILL, out of memory, a runner's kill after its grace) leaves that, not an earlier run's report (a kept Jenkins
  // workspace: every pack passed) or no file at all.
  try {
    await writeFile(probe, unfinishedJunitXml(new Date()), { flag: 'wx' });
  } catch (err) {
    throw refused(err);
  }
  try {
    await rename(probe, place.path);
  } catch (err) {
    await rm(probe, { force: true });
    throw refused(err);
  }
}
