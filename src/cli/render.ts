import type { CopyEvent, CopyReport, CopyResult } from '../operations/copy-report.js';
import type { DeleteReport, DeleteResult } from '../operations/delete.js';
import type { BlobUploadDone, BlobUploadProgress, PackResult, PushEvent, PushReport } from '../operations/push-report.js';
import type { Finding } from '../pack/findings.js';
import type { StoreWarning } from '../targets/artifact-store.js';
import { causeLine, failureCauses, mayShareCause } from './ci-output/causes.js';
import { printable, useColor, writeLine, type CliIo } from './io.js';
import { shellWord } from '../util/shell-word.js';

export function formatBytes(n: number | undefined): string {
  if (n === undefined) return '-';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function shortDigest(d: string | undefined): string {
  return d === undefined ? '-' : `${d.slice(0, 19)}`;
}

/** A plain text table, columns padded to their widest cell. */
export function renderTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

const STATUS_WORD: Record<PackResult['status'], string> = {
  published: 'published',
  unchanged: 'unchanged',
  overwritten: 'overwritten',
  skipped: 'skipped',
  conflict: 'CONFLICT',
  invalid: 'INVALID',
  failed: 'FAILED',
  planned: 'plan',
};


/** Findings as `  warning file:line:col path: message`, collapsed after `shown`. */
function findingLines(findings: readonly Finding[], dir: string, shown: number): string[] {
  const lines = findings.slice(0, shown).map((f) => {
    const where = [f.file, f.line, f.column].filter((x) => x !== undefined).join(':');
    // A finding quotes the pack's own text (a chart path, a key, a value): shown as printable() shows a registry's.
    return printable(`  ${f.severity} ${where}${f.path === undefined ? '' : ` ${f.path}`}: ${f.message}`);
  });
  if (findings.length > shown) lines.push(`  ... and ${findings.length - shown} more (packpub validate ${shellWord(dir)} shows them all)`);
  return lines;
}

/** What the target's repository keeps that differs from what was asked (PackResult.warnings), as `  warning: ...` and `  hint: ...` lines. */
export function storeWarningLines(warnings: readonly StoreWarning[] | undefined): string[] {
  return (warnings ?? []).flatMap((w) => [`  warning: ${w.message}`, ...(w.hint === undefined ? [] : [`    hint: ${w.hint}`])]);
}

/** One result's warnings (PackResult/CopyResult.warnings) as `warning: <pack> -> <reference>: ...` lines, for runs whose stdout is a machine format. */
export function resultWarningLines(id: string, where: string | undefined, warnings: readonly StoreWarning[] | undefined): string[] {
  return (warnings ?? []).flatMap((w) => [`warning: ${id}${where === undefined ? '' : ` -> ${where}`}: ${w.message}`, ...(w.hint === undefined ? [] : [`  hint: ${w.hint}`])]);
}

/** Warnings shown under a pack that was published (or unchanged) anyway. */
const WARNINGS_SHOWN = 5;

/** Findings listed under a pack that failed validation; the rest are counted. */
const SHOWN_FINDINGS = 20;

function describeResult(r: PackResult): string {
  // An invalid pack's name and version are pack.json's text: shown as printable() shows it (validate's verdict line).
  const id = printable(r.name === undefined ? r.dir : `${r.name}:${r.version}`);
  switch (r.status) {
    case 'published':
    case 'overwritten':
      return `${STATUS_WORD[r.status]} ${id} -> ${r.reference} (${shortDigest(r.digest)}, ${formatBytes(r.size)}, uploaded ${formatBytes(r.uploadedBytes)}, ${formatDuration(r.durationMs)})`;
    case 'unchanged':
      return `unchanged ${id}: already published at ${r.reference} (${shortDigest(r.digest)})`;
    case 'skipped':
      return `skipped ${id}: ${r.reference} holds different content, kept as is (--skip-existing)`;
    case 'planned':
      return `plan ${r.plan ?? '?'} ${id} -> ${r.reference} (${formatBytes(r.bytesToUpload)} to upload)`;
    default: {
      const lines = [`${STATUS_WORD[r.status]} ${id}: ${printable(r.error?.message ?? 'failed')}`];
      if (r.error?.hint !== undefined) lines.push(`  hint: ${printable(r.error.hint)}`);
      // The findings that failed the pack: its errors, or (none, so --strict failed it) its warnings.
      const errors = r.findings?.filter((x) => x.severity === 'error') ?? [];
      const failing = errors.length > 0 ? errors : (r.findings?.filter((x) => x.severity === 'warning') ?? []);
      lines.push(...findingLines(failing, r.dir, SHOWN_FINDINGS));
      return lines.join('\n');
    }
  }
}

/**
 * The live status line of push and copy on a terminal: `[done/total]` and the uploads in flight (or what
 * the run is doing), redrawn in place on stderr; nothing at all when stderr is not a terminal.
 */
export class LiveStatus {
  readonly live: boolean;
  private readonly uploads = new Map<string, { bytes: number; size: number }>();
  done = 0;
  total: number;
  phaseText = '';
  private shown = false;

  constructor(
    private readonly io: CliIo,
    total = 0,
  ) {
    this.live = useColor(io, 'stderr');
    this.total = total;
  }

  /** The blob events push and copy share: progress of an upload, and its end. */
  onBlobEvent(event: BlobUploadProgress | BlobUploadDone): void {
    const id = `${event.name}:${event.version}`;
    if (event.type === 'blob-upload-progress') {
      this.uploads.set(id, { bytes: event.bytes, size: event.size });
      this.draw();
    } else this.uploads.delete(id);
  }

  get uploading(): boolean {
    return this.uploads.size > 0;
  }

  draw(): void {
    if (!this.live) return;
    const active = [...this.uploads.entries()]
      .slice(0, 3)
      .map(([id, u]) => `${id} ${formatBytes(u.bytes)}/${formatBytes(u.size)}`)
      .join(', ');
    const text = `${this.total === 0 ? '' : `[${this.done}/${this.total}] `}${active === '' ? this.phaseText : active}`;
    this.io.stderr.write(`\r\x1b[K${text.slice(0, (this.io.stderr as { columns?: number }).columns ?? 120)}`);
    this.shown = true;
  }

  clear(): void {
    if (this.live && this.shown) this.io.stderr.write('\r\x1b[K');
    this.shown = false;
  }

  /** Print a line above the status line. */
  print(stream: CliIo['stdout'], line: string): void {
    this.clear();
    writeLine(stream, line);
    this.draw();
  }
}

/**
 * Draws push progress: on a TTY a live status line redrawn in place plus a summary table at the end;
 * otherwise one plain line per finished pack (no escape codes), which CI logs keep readable.
 */
export class PushRenderer {
  private readonly status: LiveStatus;
  private validated = 0;
  private packs = 0;
  readonly reported = new Set<PackResult>();

  /** `total`: results expected (packs x targets), 0 while packs are still being found. */
  constructor(
    private readonly io: CliIo,
    total = 0,
  ) {
    this.status = new LiveStatus(io, total);
  }

  private get live(): boolean {
    return this.status.live;
  }

  /** What the run is doing before packs finish (finding packs, probing the registry): shown at once on a terminal. */
  phase(text: string): void {
    this.status.phaseText = text;
    this.status.draw();
  }

  /** Once packs are found: how many, and how many results to expect. */
  expect(packs: number, targets: number): void {
    this.packs = packs;
    this.status.total = packs * targets;
  }

  onEvent = (event: PushEvent): void => {
    switch (event.type) {
      case 'validated':
        this.validated++;
        this.phase(`validating ${this.validated}/${this.packs} packs`);
        break;
      case 'pack-start':
        if (!this.status.uploading) this.phase(`building ${event.name}:${event.version}`);
        break;
      case 'blob-upload-start':
        this.status.phaseText = 'uploading';
        break;
      case 'blob-upload-progress':
      case 'blob-upload-done':
        this.status.onBlobEvent(event);
        break;
      case 'pack-done':
        this.status.done++;
        // A failure that may share its cause with other packs (the target is down, credentials were
        // rejected) is told once, with the others, when the run ends.
        if (mayShareCause(event.result)) break;
        this.reported.add(event.result);
        this.status.clear();
        this.printResult(event.result);
        this.status.draw();
        break;
      default:
        break;
    }
  };

  /** Take the status line away (the run ends with an error printed below). */
  stop(): void {
    this.status.clear();
  }

  /** Successes are results (stdout); failures are diagnostics (stderr). */
  private printResult(r: PackResult): void {
    const failed = r.status === 'failed' || r.status === 'conflict' || r.status === 'invalid';
    writeLine(failed ? this.io.stderr : this.io.stdout, describeResult(r));
    for (const line of storeWarningLines(r.warnings)) writeLine(this.io.stderr, line);
    // A failed pack's findings are part of describeResult; a pack that went through shows its warnings.
    if (failed) return;
    for (const line of findingLines(r.findings?.filter((f) => f.severity === 'warning') ?? [], r.dir, WARNINGS_SHOWN)) writeLine(this.io.stderr, line);
  }

  /** Prints the results that had no pack-done event (invalid packs, packs not started) and the summary. */
  finish(report: PushReport): void {
    this.status.clear();
    // Invalid packs with their errors, then each shared cause in one line (with the number of packs it stopped).
    for (const cause of failureCauses(report.results.filter((r) => !this.reported.has(r)))) {
      if (cause.kind === 'pack') {
        this.printResult(cause.result);
        this.reported.add(cause.result);
        continue;
      }
      writeLine(this.io.stderr, printable(causeLine(cause)));
      if (cause.hint !== undefined) writeLine(this.io.stderr, `  hint: ${printable(cause.hint)}`);
      for (const r of cause.results) this.reported.add(r);
    }
    for (const r of report.results) if (!this.reported.has(r)) this.printResult(r);
    const s = report.summary;
    const conflicts = report.results.filter((r) => r.status === 'planned' && r.plan === 'conflict').length;
    const parts = [
      s.published && `${s.published} published`,
      s.overwritten && `${s.overwritten} overwritten`,
      s.unchanged && `${s.unchanged} unchanged`,
      s.skipped && `${s.skipped} skipped`,
      // A dry run's planned conflicts (exit 0): the totals said "planned" alone, though the real run would fail on them.
      s.planned && `${s.planned} planned${conflicts > 0 ? ` (${conflicts} would conflict: the real run would fail, exit 1)` : ''}`,
      s.conflict && `${s.conflict} conflict`,
      s.invalid && `${s.invalid} invalid`,
      s.failed && `${s.failed} failed`,
    ].filter(Boolean);
    if (this.live && report.results.length > 1) {
      const rows = report.results.map((r) => [
        r.name ?? r.dir,
        r.version ?? '-',
        STATUS_WORD[r.status] + (r.plan === undefined ? '' : ` ${r.plan}`),
        shortDigest(r.digest),
        formatBytes(r.size),
        formatDuration(r.durationMs),
      ]);
      writeLine(this.io.stdout);
      for (const line of renderTable(['PACK', 'VERSION', 'RESULT', 'DIGEST', 'SIZE', 'TIME'], rows)) writeLine(this.io.stdout, line);
    }
    writeLine(
      this.io.stdout,
      `${report.results.length} pack(s) to ${report.target}: ${parts.join(', ') || 'nothing to do'}; uploaded ${formatBytes(s.uploadedBytes)} in ${formatDuration(report.durationMs)}`,
    );
  }
}

function describeCopyResult(r: CopyResult): string {
  const id = `${r.name}:${r.version}`;
  switch (r.status) {
    case 'copied':
    case 'overwritten':
      return `${r.status} ${id} -> ${r.destination} (${shortDigest(r.digest)}, ${formatBytes(r.size)}, copied ${formatBytes(r.copiedBytes)}, ${formatDuration(r.durationMs)})`;
    case 'unchanged':
      return `unchanged ${id}: ${r.destination} already holds ${shortDigest(r.digest)}`;
    case 'skipped':
      if (r.notPack !== undefined) return notPackLine(r);
      return `skipped ${id}: ${r.destination} holds a different manifest (${shortDigest(r.existingDigest)}), kept as is (--skip-existing)`;
    case 'planned':
      if (r.notPack !== undefined) return notPackLine(r);
      return `plan ${r.plan ?? '?'} ${id} -> ${r.destination} (${formatBytes(r.bytesToCopy)} to copy)`;
    default: {
      const lines = [`${r.status === 'conflict' ? 'CONFLICT' : 'FAILED'} ${id}: ${printable(r.error?.message ?? 'failed')}`];
      if (r.error?.hint !== undefined) lines.push(`  hint: ${printable(r.error.hint)}`);
      return lines.join('\n');
    }
  }
}

function notPackLine(r: CopyResult): string {
  return `skipped ${r.name}:${r.version}: ${r.source} is not a pack (${printable(r.notPack ?? '')}); --all leaves it out`;
}

/**
 * With --json/--json-lines (stdout is the report): the line for a tag --all left out as not a pack, for stderr, as
 * the renderer prints it; undefined for the others.
 */
export function copyNotPackLine(r: CopyResult): string | undefined {
  return r.notPack === undefined ? undefined : notPackLine(r);
}

/** Draws copy progress: one plain line per version (stdout; failures on stderr), and on a TTY the same live status line as push. */
/**
 * With --json/--json-lines (stdout is the report): one line for a version that failed or conflicted, for stderr,
 * in push's form (ci-output failureLine), so a CI log says why; undefined for the others.
 */
export function copyFailureLine(r: CopyResult): string | undefined {
  if (r.status !== 'failed' && r.status !== 'conflict') return undefined;
  const text = `${r.status.toUpperCase()} ${r.name}:${r.version}: ${r.error?.message ?? r.status}`;
  return printable(r.error?.hint === undefined ? text : `${text} (hint: ${r.error.hint})`);
}

export class CopyRenderer {
  private readonly status: LiveStatus;

  constructor(private readonly io: CliIo) {
    this.status = new LiveStatus(io);
  }

  onEvent = (event: CopyEvent): void => {
    switch (event.type) {
      case 'selected':
        this.status.total = event.total;
        break;
      case 'blob-upload-progress':
      case 'blob-upload-done':
        this.status.onBlobEvent(event);
        break;
      case 'pack-done': {
        this.status.done++;
        const r = event.result;
        this.status.print(r.status === 'failed' || r.status === 'conflict' || r.notPack !== undefined ? this.io.stderr : this.io.stdout, describeCopyResult(r));
        for (const line of storeWarningLines(r.warnings)) this.status.print(this.io.stderr, line);
        break;
      }
      default:
        break;
    }
  };

  /** Take the status line away (a message follows on a line of its own). */
  stop(): void {
    this.status.clear();
  }

  finish(report: CopyReport): void {
    this.status.clear();
    const s = report.summary;
    const parts = (['copied', 'overwritten', 'unchanged', 'skipped', 'planned', 'conflict', 'failed'] as const)
      .filter((k) => s[k] > 0)
      .map((k) => `${s[k]} ${k}`);
    writeLine(
      this.io.stdout,
      `${s.total} version(s) from ${report.from} to ${report.to}: ${parts.join(', ') || 'nothing to do'}; copied ${formatBytes(s.copiedBytes)} in ${formatDuration(report.durationMs)}`,
    );
  }
}

/**
 * One line per version of a delete plan or run: `deleted hello:1.0.0: <reference> (sha256:...)` and why not, when not.
 * A planned untag names the tags the manifest stays under once the run is done: not those `named` in the same call.
 */
export function describeDeleteResult(r: DeleteResult, dryRun: boolean, named: ReadonlySet<string> = new Set()): string {
  const id = `${r.name}:${r.version}`;
  const kept = r.status === 'planned' ? (r.otherTags ?? []).filter((t) => !named.has(`${r.name}:${t}`)) : (r.otherTags ?? []);
  const keep = kept.join(', ');
  switch (r.status) {
    case 'deleted':
      return `deleted ${id}: ${r.reference} (${r.digest ?? '-'}), manifest included`;
    case 'untagged':
      return `deleted ${id}: removed the tag ${r.reference}; its manifest ${r.digest ?? '-'} stays under ${keep}`;
    case 'planned': {
      const what = r.plan === 'untag' ? `the tag only; the manifest stays under ${keep}` : 'the tag and its manifest';
      return `${dryRun ? 'would delete' : 'to delete'} ${id}: ${r.reference} (${r.digest ?? '-'}): ${what}`;
    }
    default: {
      const word = r.status === 'cancelled' ? 'not deleted' : r.status.toUpperCase();
      const lines = [`${word} ${id}: ${printable(r.error?.message ?? r.status)}`];
      if (r.error?.hint !== undefined) lines.push(`  hint: ${printable(r.error.hint)}`);
      return lines.join('\n');
    }
  }
}

/** Whether a delete result goes to stderr: it is not what was asked. */
export function isDeleteProblem(r: DeleteResult, ignoreMissing: boolean): boolean {
  return !['deleted', 'untagged', 'planned'].includes(r.status) && !(r.status === 'missing' && ignoreMissing);
}

/** The versions a delete names, as `<name>:<version>`. */
export function namedInDelete(results: readonly DeleteResult[]): Set<string> {
  return new Set(results.map((r) => `${r.name}:${r.version}`));
}

/** One delete result as a line (problems on stderr, the rest on stdout). */
export function renderDeleteResult(io: CliIo, r: DeleteResult, dryRun: boolean, ignoreMissing: boolean): void {
  writeLine(isDeleteProblem(r, ignoreMissing) ? io.stderr : io.stdout, describeDeleteResult(r, dryRun));
}

/**
 * Draw a delete report: a line per version not `shown` yet (as it finished), then, unless everything asked
 * was done, one line naming what was deleted and what was not.
 */
export function renderDeleteReport(io: CliIo, report: DeleteReport, shown: ReadonlySet<DeleteResult> = new Set()): void {
  const named = namedInDelete(report.results);
  for (const r of report.results) if (!shown.has(r)) writeLine(isDeleteProblem(r, report.ignoreMissing) ? io.stderr : io.stdout, describeDeleteResult(r, report.dryRun, named));
  const done = report.results.filter((r) => r.status === 'deleted' || r.status === 'untagged');
  const notDone = report.results.filter((r) => isDeleteProblem(r, report.ignoreMissing));
  if (notDone.length === 0) return;
  const names = (rs: DeleteResult[]) => rs.map((r) => `${r.name}:${r.version}`).join(', ');
  writeLine(io.stderr, `${done.length === 0 ? 'nothing was deleted' : `deleted ${names(done)}`}; not deleted: ${names(notDone)}`);
}
