import { realpathSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { CopyReport } from '../../operations/copy-report.js';
import type { DeleteReport } from '../../operations/delete.js';
import type { PackResult, PushReport } from '../../operations/push-report.js';
import type { Finding } from '../../pack/findings.js';
import type { ValidationReport } from '../../pack/validate.js';
import { annotationData, escapeData } from '../io.js';
import { formatBytes } from '../render.js';
import { causeLine, failureCauses, isFailure, packId, paletteProblems, referenceUnlessSaid, type PaletteOutcome, type PaletteProblem } from './causes.js';
import { WOULD_CONFLICT, wouldConflict } from './junit.js';

/*
 * Output for GitHub Actions (when GITHUB_ACTIONS=true): workflow commands that become annotations, and a
 * Markdown job summary appended to the file named by GITHUB_STEP_SUMMARY.
 * Workflow command syntax and escaping: GitHub Docs, "Workflow commands for GitHub Actions"
 * (`::error file=F,line=L,col=C,title=T::message`; data escapes % CR LF, properties also : and ,).
 */

export function inGitHubActions(env: NodeJS.ProcessEnv): boolean {
  return env['GITHUB_ACTIONS'] === 'true';
}

/** Escape a workflow command's property value. */
export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export function workflowCommand(command: 'error' | 'warning' | 'notice', properties: Record<string, string | number | undefined>, message: string): string {
  const props = Object.entries(properties)
    .filter((e): e is [string, string | number] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${escapeProperty(String(v))}`)
    .join(',');
  return `::${command}${props === '' ? '' : ` ${props}`}::${annotationData(message)}`;
}

/**
 * A file below the pack folder as the workspace-relative path annotations need (forward slashes). Pack folders
 * are real paths (validate's reports): a workspace reached through a symlink (a self-hosted runner's work folder
 * on another disk) is also tried as its real path, else every annotation named an absolute path GitHub could not
 * attach to a file.
 */
function annotationFile(dir: string, file: string, bases: readonly string[]): string {
  const path = join(dir, file);
  for (const base of bases) {
    const rel = relative(base, path);
    if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)) return rel.split(sep).join('/');
  }
  return path.split(sep).join('/');
}

/** The workspace as given and as its real path (annotationFile). */
function workspaceBases(workspace: string): string[] {
  try {
    return [workspace, realpathSync(workspace)];
  } catch {
    return [workspace];
  }
}

function withHint(message: string, hint: string | undefined): string {
  return hint === undefined ? message : `${message}\nhint: ${hint}`;
}

/** A Palette problem in one line: the pack (or the step) and its target, then what is wrong. */
function paletteLine(p: PaletteProblem): string {
  const where = [p.pack, p.target === '' ? undefined : `(${p.target})`].filter((x) => x !== undefined).join(' ');
  return where === '' ? p.message : `${where}: ${p.message}`;
}

/**
 * GitHub shows at most 10 annotations of each kind (error, warning, notice) per step, the first printed
 * (actions/toolkit, docs/problem-matchers.md, "Limitations"): 10 error findings of invalid packs hid the
 * annotation of a pack that failed to publish. Past 10, the ones kept are the failures (a pack, a shared cause,
 * Palette) and the first finding of each pack before its others; the 10th says how many more are in the log.
 */
const PER_KIND = 10;

type Kind = 'error' | 'warning' | 'notice';

/** One annotation: `rank` 0 for a failure, else 1 + its place among its pack's findings of that kind. */
interface Annotation {
  kind: Kind;
  rank: number;
  line: string;
}

/** `summarised`: the run writes a job summary that lists the failures too (push, validate; copy and delete write none). */
function withinLimits(all: Annotation[], title = 'packpub push', summarised = true): string[] {
  const kept = new Set<Annotation>();
  const summaries: string[] = [];
  for (const kind of ['error', 'warning', 'notice'] as const) {
    const ofKind = all.filter((a) => a.kind === kind);
    if (ofKind.length <= PER_KIND) {
      for (const a of ofKind) kept.add(a);
      continue;
    }
    // A stable sort: within one rank, the order they are printed in.
    for (const a of [...ofKind].sort((x, y) => x.rank - y.rank).slice(0, PER_KIND - 1)) kept.add(a);
    const more = ofKind.length - (PER_KIND - 1);
    summaries.push(workflowCommand(kind, { title }, `${more} more ${kind === 'error' ? 'errors' : kind === 'warning' ? 'warnings' : 'notes'} are not annotated (GitHub shows ${PER_KIND} per step): they are in the log above${kind === 'error' && summarised ? ' and in the job summary' : ''}`));
  }
  return [...all.filter((a) => kept.has(a)).map((a) => a.line), ...summaries];
}

/**
 * One annotation per finding of a pack, at its file, line and column (warnings and notes as such). `warningsFail`: the
 * pack failed on its warnings alone (--strict): they are errors, else the failed job had no error annotation at all.
 */
function findingAnnotations(dir: string, id: string, findings: readonly Finding[], bases: readonly string[], warningsFail = false): Annotation[] {
  const seen: Record<Kind, number> = { error: 0, warning: 0, notice: 0 };
  return findings.map((f) => {
    const kind: Kind = f.severity === 'error' || (warningsFail && f.severity === 'warning') ? 'error' : f.severity === 'warning' ? 'warning' : 'notice';
    const strict = kind === 'error' && f.severity === 'warning' ? ' (a warning, which fails with --strict)' : '';
    const line = workflowCommand(kind, { file: annotationFile(dir, f.file, bases), line: f.line, col: f.column, title: `packpub ${f.rule}` }, `${id}: ${f.path === undefined ? '' : `${f.path}: `}${f.message}${strict}`);
    return { kind, rank: 1 + seen[kind]++, line };
  });
}

/**
 * `validate` in GitHub Actions: one annotation per finding, as push annotates them (at most 10 of each kind, the
 * first finding of each pack kept first).
 */
export function validateAnnotations(reports: readonly ValidationReport[], workspace: string, summaryLost?: string): string[] {
  const bases = workspaceBases(workspace);
  return withinLimits(
    [...reports.flatMap((r) => findingAnnotations(r.dir, validatedId(r), r.findings, bases, !r.passed && r.errors === 0)), ...lostSummary(summaryLost)],
    'packpub validate',
  );
}

/** The warning that the job summary could not be written (index.ts appendSummary), kept first among the warnings. */
function lostSummary(line: string | undefined): Annotation[] {
  return line === undefined ? [] : [{ kind: 'warning', rank: 0, line }];
}

/** The pack as people name it: name:version, else its folder. */
export function validatedId(r: ValidationReport): string {
  return r.pack === undefined ? r.dir : `${r.pack.name}:${r.pack.version}`;
}

/**
 * Annotations for a push: one per validation finding, at its file, line and column; one per pack that
 * failed to publish, at its pack.json; one per shared cause (a target-wide error, the invalid-pack gate);
 * with --palette-sync, one per pack Palette does not list (exit code 3) or for the error that stopped the sync.
 * At most 10 of each kind (see PER_KIND).
 */
export function annotations(report: PushReport, workspace: string, palette?: PaletteOutcome, summaryLost?: string): string[] {
  const bases = workspaceBases(workspace);
  const all: Annotation[] = report.results.flatMap((r) =>
    findingAnnotations(r.dir, packId(r), r.findings ?? [], bases, r.status === 'invalid' && !(r.findings ?? []).some((f) => f.severity === 'error')),
  );
  all.push(...lostSummary(summaryLost));
  for (const r of report.results) {
    for (const w of r.warnings ?? []) {
      all.push({ kind: 'warning', rank: 0, line: workflowCommand('warning', { file: annotationFile(r.dir, 'pack.json', bases), title: 'packpub repository settings' }, withHint(`${packId(r)}${referenceUnlessSaid(r)}: ${w.message}`, w.hint)) });
    }
  }
  // Exit 0, yet the registry does not hold what the folder holds: a version kept with other content (--skip-existing),
  // or one a dry run plans as a conflict (the real run would fail). Was: no annotation, the step green.
  for (const r of report.results) {
    const said = r.status === 'skipped' ? 'holds different content; kept as is (--skip-existing): the target does not hold what this folder holds' : wouldConflict(r) ? WOULD_CONFLICT : undefined;
    if (said === undefined) continue;
    const hint = 'publish the change as a new version (bump version in pack.json); --force replaces the version (Palette caches digests: avoid)';
    all.push({ kind: 'warning', rank: 0, line: workflowCommand('warning', { file: annotationFile(r.dir, 'pack.json', bases), title: `packpub ${r.status === 'skipped' ? 'skipped' : 'would conflict'}` }, withHint(`${packId(r)}${referenceUnlessSaid(r)}: ${said}`, hint)) });
  }
  const failure = (line: string) => all.push({ kind: 'error', rank: 0, line });
  for (const cause of failureCauses(report.results)) {
    if (cause.kind === 'pack') {
      const r = cause.result;
      if (r.status === 'invalid' && (r.findings?.length ?? 0) > 0) continue; // its findings were annotated
      failure(
        workflowCommand(
          'error',
          { file: annotationFile(r.dir, 'pack.json', bases), title: `packpub ${r.status}` },
          withHint(`${r.status} ${packId(r)}${referenceUnlessSaid(r)}: ${r.error?.message ?? r.status}`, r.error?.hint),
        ),
      );
    } else {
      failure(workflowCommand('error', { title: 'packpub push' }, withHint(causeLine(cause), cause.hint)));
    }
  }
  for (const p of paletteProblems(palette)) failure(workflowCommand('error', { title: 'packpub palette' }, withHint(paletteLine(p), p.hint)));
  return withinLimits(all);
}

/**
 * `palette sync` in GitHub Actions: an error per pack Palette does not list (exit code 3), or for the sync itself when
 * no pack says why, as push --palette-sync annotates them; at most 10 (it writes no job summary). Was: none, the step
 * failing with exit 3 and no annotation naming a pack.
 */
export function paletteSyncAnnotations(palette: PaletteOutcome): string[] {
  const all = paletteProblems(palette).map((p): Annotation => ({ kind: 'error', rank: 0, line: workflowCommand('error', { title: 'packpub palette' }, withHint(paletteLine(p), p.hint)) }));
  return withinLimits(all, 'packpub palette', false);
}

/**
 * `palette doctor` and `palette register` in GitHub Actions (exit 1 when `errors` is not empty): an error per check that
 * failed (doctor: `<check>: <message>`, then its fix) or per problem of the registry found (register), a warning per
 * warning of register's; at most 10 of each kind (they write no job summary). Was: none, a failed step showing only
 * "Process completed with exit code 1" where annotations are read.
 */
export function paletteCheckAnnotations(command: 'doctor' | 'register', errors: readonly { message: string; fix?: string | undefined }[], warnings: readonly string[] = []): string[] {
  const title = `packpub palette ${command}`;
  const all: Annotation[] = [
    ...errors.map((e): Annotation => ({ kind: 'error', rank: 0, line: workflowCommand('error', { title }, e.fix === undefined ? e.message : `${e.message}\nfix: ${e.fix}`) })),
    ...warnings.map((w): Annotation => ({ kind: 'warning', rank: 0, line: workflowCommand('warning', { title }, w) })),
  ];
  return withinLimits(all, title, false);
}

/**
 * `copy` in GitHub Actions: an error per version that failed or conflicted, a warning per repository setting
 * kept (push's vocabulary: `packpub <status>`, `packpub repository settings`); at most 10 of each kind.
 */
export function copyAnnotations(report: CopyReport): string[] {
  const all: Annotation[] = [];
  for (const r of report.results) {
    const id = `${r.name}:${r.version}`;
    if (r.status === 'failed' || r.status === 'conflict') {
      const said = r.error?.message ?? r.status;
      const message = `${r.status} ${id}${said.includes(r.destination) ? '' : ` -> ${r.destination}`}: ${said}`;
      all.push({ kind: 'error', rank: 0, line: workflowCommand('error', { title: `packpub ${r.status}` }, withHint(message, r.error?.hint)) });
    }
    // Exit 0, but the destination does not hold the source's version: kept with other content, or a dry run's conflict.
    const kept = r.status === 'skipped' && r.notPack === undefined;
    if (kept || (r.status === 'planned' && r.plan === 'conflict')) {
      const said = kept ? 'holds different content; kept as is (--skip-existing): the destination does not hold the source\'s version' : 'dry run: holds different content; the real run would refuse it (CONFLICT, exit 1)';
      all.push({ kind: 'warning', rank: 0, line: workflowCommand('warning', { title: `packpub ${kept ? 'skipped' : 'would conflict'}` }, `${id} -> ${r.destination}: ${said}`) });
    }
    for (const w of r.warnings ?? []) all.push({ kind: 'warning', rank: 1, line: workflowCommand('warning', { title: 'packpub repository settings' }, withHint(`${id} -> ${r.destination}: ${w.message}`, w.hint)) });
  }
  // --all: a pack the source lists whose tag list answers 404 (exit 0, none of its versions copied): a note in the log only.
  for (const p of report.tagsNotServed ?? []) {
    all.push({ kind: 'warning', rank: 0, line: workflowCommand('warning', { title: 'packpub copy' }, `${p.name}: the source lists ${p.source}, but answers 404 for its tag list: no version of it was copied`) });
  }
  return withinLimits(all, 'packpub copy', false);
}

/**
 * `delete` in GitHub Actions: an error per version not deleted that fails the run (missing, refused, failed; a
 * missing one only without --ignore-missing), `title` packpub delete; the versions only cancelled because of
 * another are in the log (their cause has its own annotation). At most 10.
 */
export function deleteAnnotations(report: DeleteReport, ignoreMissing: boolean): string[] {
  const failing = report.results.filter((r) => ['missing', 'refused', 'failed'].includes(r.status) && !(r.status === 'missing' && ignoreMissing));
  const all: Annotation[] = failing.map((r) => {
    const said = r.error?.message ?? r.status;
    const message = `${r.status} ${r.name}:${r.version}${said.includes(r.reference) ? '' : ` (${r.reference})`}: ${said}`;
    return { kind: 'error', rank: 0, line: workflowCommand('error', { title: `packpub delete` }, withHint(message, r.error?.hint)) };
  });
  return withinLimits(all, 'packpub delete', false);
}

/** Text for a Markdown table cell: GFM backslash escapes, HTML entities, one line. */
export function markdownCell(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]|#~])/g, '\\$1')
    // A lone CR ends a Markdown line as LF does (CommonMark, "line ending"): it cut the row, the rest a paragraph below.
    .replace(/\r\n?|\n/g, '<br>');
}

/**
 * A step summary may hold at most 1 MiB, or GitHub drops it whole ("upload aborted"): rows past MAX_ROWS, or past
 * MAX_TABLE_BYTES of table (Palette lines past MAX_PALETTE_LINES), are summed up in one line, and a reason is cut at
 * MAX_REASON characters (a registry's error message may be 64 KiB: 18 such packs lost the whole summary). The JSON
 * report keeps everything.
 */
const MAX_ROWS = 1000;
const MAX_TABLE_BYTES = 768 * 1024;
const MAX_REASON = 500;
const MAX_PALETTE_LINES = 100;

function cut(text: string): string {
  return text.length <= MAX_REASON ? text : `${text.slice(0, MAX_REASON)}... (${text.length - MAX_REASON} more characters in the JSON report)`;
}

function reason(r: PackResult): string {
  if (!isFailure(r) && r.status !== 'skipped') return '';
  if (r.status === 'skipped') return 'holds different content; kept (--skip-existing)';
  const first = r.findings?.find((f) => f.severity === 'error');
  const finding = first === undefined ? '' : ` (${first.file}${first.line === undefined ? '' : `:${first.line}`}: ${first.message})`;
  return `${r.error?.message ?? r.status}${finding}`;
}

/** The job summary: a heading with the totals, a table of packs, the shared causes, and what Palette lists. */
export function stepSummary(report: PushReport, palette?: PaletteOutcome, options: { interrupted?: string[] } = {}): string {
  const s = report.summary;
  const counts = (
    [
      ['published', s.published],
      ['overwritten', s.overwritten],
      ['unchanged', s.unchanged],
      ['skipped', s.skipped],
      ['planned', s.planned],
      ['conflict', s.conflict],
      ['invalid', s.invalid],
      ['failed', s.failed],
    ] as const
  )
    .filter(([, n]) => n > 0)
    .map(([w, n]) => `${n} ${w}`);
  const out: string[] = [];
  const problems = paletteProblems(palette);
  const failed = report.summary.invalid + report.summary.conflict + report.summary.failed > 0 || report.aborted;
  // Published but not listed by Palette is exit code 3: not "succeeded".
  // An error that stopped the Palette step ends the run with its own exit code: the packs are published, their
  // visibility unknown.
  const paletteWord =
    palette?.status === 'error'
      ? 'published, Palette sync failed'
      : problems.length > 0 && problems.every((p) => p.everyPackListed === true)
        ? 'published, Palette lists every pack, but its sync failed'
        : 'published, not visible in Palette';
  // A dry run publishes nothing: "succeeded" read as published, and a planned conflict (which a dry run does not
  // fail on: the real run would, exit 1) was only a row of the table.
  const dryRun = s.planned > 0 && s.published + s.unchanged + s.overwritten + s.skipped === 0;
  const wouldConflict = report.results.filter((r) => r.status === 'planned' && r.plan === 'conflict').length;
  const dryWord = [
    'dry run, nothing published',
    ...(wouldConflict > 0 ? [`${wouldConflict} would conflict (the real run would fail)`] : []),
    ...(problems.length > 0 ? [palette?.status === 'error' ? 'Palette check failed' : 'Palette would not list every pack'] : []),
  ].join('; ');
  // --skip-existing kept versions holding other content: exit 0 as asked, but not "succeeded" alone.
  const kept = s.skipped > 0 ? `; ${s.skipped} kept with different content (--skip-existing)` : '';
  out.push(`### packpub push: ${options.interrupted !== undefined ? 'interrupted' : failed ? 'failed' : dryRun ? dryWord : `${problems.length > 0 ? paletteWord : 'succeeded'}${kept}`}`);
  out.push('');
  // An abandoned run: what stderr said of it, first (the table has each pack's part).
  if (options.interrupted !== undefined) out.push(...options.interrupted.map((l) => `- ${markdownCell(cut(l))}`), '');
  out.push('| pack | version | target | status | digest | size | reason |');
  out.push('| --- | --- | --- | --- | --- | --- | --- |');
  let rows = 0;
  let tableBytes = 0;
  for (const r of report.results) {
    if (rows === MAX_ROWS || tableBytes > MAX_TABLE_BYTES) break;
    const cells = [
      r.name ?? r.dir,
      r.version ?? '',
      r.target ?? '',
      r.status === 'planned' ? `planned ${r.plan ?? ''}`.trim() : r.status,
      r.digest ?? '',
      r.size === undefined ? '' : formatBytes(r.size),
      cut(reason(r)),
    ].map(markdownCell);
    if (r.digest !== undefined) cells[4] = `\`${r.digest}\``;
    const row = `| ${cells.join(' | ')} |`;
    out.push(row);
    rows++;
    tableBytes += Buffer.byteLength(row) + 1;
  }
  if (report.results.length > rows) out.push('', `${report.results.length - rows} more results are in the JSON report.`);
  out.push('');
  out.push(
    `**Totals:** ${s.total} result${s.total === 1 ? '' : 's'} to ${markdownCell(report.target)}: ${counts.join(', ') || 'nothing to do'}; uploaded ${formatBytes(s.uploadedBytes)}${report.aborted ? '; stopped early' : ''}`,
  );
  const shared = failureCauses(report.results).filter((c) => c.kind !== 'pack');
  if (shared.length > 0) {
    out.push('');
    for (const c of shared) out.push(`- ${markdownCell(cut(causeLine(c)))}${c.hint === undefined ? '' : ` (${markdownCell(cut(c.hint))})`}`);
  }
  if (palette !== undefined) {
    const listed = problems.length > 0 && problems.every((p) => p.everyPackListed === true);
    out.push('', `**Palette:** ${listed ? 'every pack is visible, but the sync failed' : problems.length > 0 ? 'not every pack is visible' : palette.status === 'dry-run' ? 'checked, nothing synced (dry run)' : 'every pack is visible'}`);
    for (const p of problems.slice(0, MAX_PALETTE_LINES)) out.push(`- ${markdownCell(cut(paletteLine(p)))}${p.hint === undefined ? '' : ` (${markdownCell(cut(p.hint))})`}`);
    if (problems.length > MAX_PALETTE_LINES) out.push(`- and ${problems.length - MAX_PALETTE_LINES} more (the JSON report's \`palette\`)`);
    // Stopped by an error: what it had confirmed by then (the JSON report's `palette.targets`), not only the error.
    if (palette.status === 'error') for (const t of palette.targets ?? []) if (t.packs.length > 0) out.push(`- ${markdownCell(cut(confirmedBefore(t, palette.error.code === 'ABORTED' ? 'the interrupt' : 'the error')))}`);
  }
  out.push('');
  return `${out.join('\n')}\n`;
}

/** A target an error stopped the Palette step on: which of its packs Palette had been seen to list by then. */
function confirmedBefore(t: { target: string; packs: { name: string; version: string; status: string }[] }, what: string): string {
  const seen = t.packs.filter((p) => p.status === 'visible').map((p) => `${p.name}:${p.version}`);
  return `(${t.target}): before ${what}, Palette was seen to list ${seen.length} of the ${t.packs.length} versions asked for${seen.length === 0 ? '' : ` (${seen.slice(0, 20).join(', ')}${seen.length > 20 ? ` and ${seen.length - 20} more` : ''})`}; the others are not confirmed`;
}

/**
 * `palette sync`'s job summary, for every outcome once a sync was asked for (a run refused or stopped before gets
 * refusalSummary): a heading saying it (every pack visible, exit 0; not every pack visible or the sync failed, exit 3;
 * stopped by an error, with it), then for each target its Palette registry, how its sync ended, and a table of its
 * packs (status, packUid, why not). Was: none, but for a run refused or stopped before the sync: a step failing with
 * exit 3 said nothing in the job's page.
 */
export function paletteSyncSummary(palette: PaletteOutcome): string {
  const problems = paletteProblems(palette);
  const asked = (palette.targets ?? []).reduce((n, t) => n + t.packs.length, 0);
  const heading =
    palette.status === 'error'
      ? palette.error.code === 'ABORTED'
        ? 'interrupted'
        : 'stopped by an error'
      : problems.length === 0
        ? // A base path holding no pack version (a wrong one, or all deleted): "every pack is visible" held of none.
          asked === 0
          ? "no pack version to confirm; Palette's sync succeeded"
          : 'every pack is visible in Palette'
        : problems.every((p) => p.everyPackListed === true)
          ? 'Palette lists every pack, but its sync failed (exit 3)'
          : 'not every pack is visible in Palette (exit 3)';
  const out = [`### packpub palette sync: ${heading}`, ''];
  if (palette.status === 'error') {
    out.push(`- ${markdownCell(cut(palette.error.message))}`);
    if (palette.error.hint !== undefined) out.push(`- hint: ${markdownCell(cut(palette.error.hint))}`);
    out.push('');
  }
  let rows = 0;
  for (const t of palette.targets ?? []) {
    const said = t.sync.message === undefined ? '' : `: ${t.sync.message}`;
    out.push(`**${markdownCell(t.target)}**: Palette registry ${markdownCell(t.registry.name)} (${markdownCell(t.registry.uid)}), sync ${t.sync.outcome}${markdownCell(cut(said))}${t.forced ? ' (forceSync)' : ''}`, '');
    for (const p of problems.filter((x) => x.target === t.target && x.pack === undefined)) out.push(`- ${markdownCell(cut(p.message))}${p.hint === undefined ? '' : ` (${markdownCell(cut(p.hint))})`}`, '');
    if (t.packs.length === 0) {
      out.push(`- no pack version under ${markdownCell(t.target)} to confirm`, '');
      continue;
    }
    out.push('| pack | version | status | packUid | reason |', '| --- | --- | --- | --- | --- |');
    for (const pack of t.packs) {
      if (rows === MAX_ROWS) break;
      rows++;
      out.push(`| ${[pack.name, pack.version, pack.status, pack.packUid ?? '', cut(pack.reason ?? '')].map(markdownCell).join(' | ')} |`);
    }
    out.push('');
  }
  if (asked > rows) out.push(`${asked - rows} more packs are in the log above and in the --json report.`, '');
  return `${out.join('\n')}\n`;
}

/** The job summary of a run that ended on an error before its report (reportRefusal): the error and its hint. */
export function refusalSummary(command: string, err: { message: string; hint?: string | undefined }, refused: boolean): string {
  const lines = [`### packpub ${command}: ${refused ? 'refused, nothing was attempted' : 'stopped by an error'}`, '', `- ${markdownCell(cut(err.message))}`];
  if (err.hint !== undefined) lines.push(`- hint: ${markdownCell(cut(err.hint))}`);
  return `${lines.join('\n')}\n\n`;
}

/** `validate`'s job summary: a heading with the verdict, a table of packs, the totals. */
export function validateSummary(reports: readonly ValidationReport[], strict: boolean): string {
  const failed = reports.filter((r) => !r.passed).length;
  const out = [`### packpub validate: ${failed > 0 ? 'failed' : 'passed'}`, '', '| pack | version | verdict | errors | warnings | first problem |', '| --- | --- | --- | --- | --- | --- |'];
  let rows = 0;
  let tableBytes = 0;
  for (const r of reports) {
    if (rows === MAX_ROWS || tableBytes > MAX_TABLE_BYTES) break;
    const first = r.findings.find((f) => f.severity === 'error') ?? (strict ? r.findings.find((f) => f.severity === 'warning') : undefined);
    const problem = first === undefined ? '' : `${first.file}${first.line === undefined ? '' : `:${first.line}`}: ${first.message}`;
    const row = `| ${[r.pack?.name ?? r.dir, r.pack?.version ?? '', r.passed ? 'passed' : 'failed', String(r.errors), String(r.warnings), cut(problem)].map(markdownCell).join(' | ')} |`;
    out.push(row);
    rows++;
    tableBytes += Buffer.byteLength(row) + 1;
  }
  if (reports.length > rows) out.push('', `${reports.length - rows} more packs are in the log above.`);
  const errors = reports.reduce((n, r) => n + r.errors, 0);
  const warnings = reports.reduce((n, r) => n + r.warnings, 0);
  out.push('', `**Totals:** ${reports.length} pack${reports.length === 1 ? '' : 's'} checked: ${reports.length - failed} passed, ${failed} failed (${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}${strict && warnings > 0 ? ', warnings fail with --strict' : ''})`, '');
  return `${out.join('\n')}\n`;
}
