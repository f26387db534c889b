import type { PackResult, PushEvent, PushReport } from '../operations/push-report.js';
import { causeLine, failureCauses, mayShareCause } from './ci-output/causes.js';
import { useColor, writeLine, type CliIo } from './io.js';

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

function describeResult(r: PackResult): string {
  const id = r.name === undefined ? r.dir : `${r.name}:${r.version}`;
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
      const lines = [`${STATUS_WORD[r.status]} ${id}: ${r.error?.message ?? 'failed'}`];
      if (r.error?.hint !== undefined) lines.push(`  hint: ${r.error.hint}`);
      for (const f of r.findings?.filter((x) => x.severity === 'error').slice(0, 20) ?? []) {
        const where = [f.file, f.line, f.column].filter((x) => x !== undefined).join(':');
        lines.push(`  ${f.severity} ${where}${f.path === undefined ? '' : ` ${f.path}`}: ${f.message}`);
      }
      return lines.join('\n');
    }
  }
}

/**
 * Draws push progress: on a TTY a live status line redrawn in place plus a summary table at the end;
 * otherwise one plain line per finished pack (no escape codes), which CI logs keep readable.
 */
export class PushRenderer {
  private readonly live: boolean;
  private readonly uploads = new Map<string, { bytes: number; size: number }>();
  private done = 0;
  private validated = 0;
  private packs = 0;
  private phaseText = '';
  private statusShown = false;
  readonly reported = new Set<PackResult>();

  /** `total`: results expected (packs x targets), 0 while packs are still being found. */
  constructor(
    private readonly io: CliIo,
    private total = 0,
  ) {
    this.live = useColor(io, 'stderr');
  }

  /** What the run is doing before packs finish (finding packs, probing the registry): shown at once on a terminal. */
  phase(text: string): void {
    this.phaseText = text;
    this.drawStatus();
  }

  /** Once packs are found: how many, and how many results to expect. */
  expect(packs: number, targets: number): void {
    this.packs = packs;
    this.total = packs * targets;
  }

  onEvent = (event: PushEvent): void => {
    switch (event.type) {
      case 'validated':
        this.validated++;
        this.phase(`validating ${this.validated}/${this.packs} packs`);
        break;
      case 'pack-start':
        if (this.uploads.size === 0) this.phase(`building ${event.name}:${event.version}`);
        break;
      case 'blob-upload-start':
        this.phaseText = 'uploading';
        break;
      case 'blob-upload-progress':
        this.uploads.set(`${event.name}:${event.version}`, { bytes: event.bytes, size: event.size });
        this.drawStatus();
        break;
      case 'blob-upload-done':
        this.uploads.delete(`${event.name}:${event.version}`);
        break;
      case 'pack-done':
        this.done++;
        // A failure that may share its cause with other packs (the target is down, credentials were
        // rejected) is told once, with the others, when the run ends.
        if (mayShareCause(event.result)) break;
        this.reported.add(event.result);
        this.clearStatus();
        this.printResult(event.result);
        this.drawStatus();
        break;
      default:
        break;
    }
  };

  private drawStatus(): void {
    if (!this.live) return;
    const active = [...this.uploads.entries()]
      .slice(0, 3)
      .map(([id, u]) => `${id} ${formatBytes(u.bytes)}/${formatBytes(u.size)}`)
      .join(', ');
    const text = `${this.total === 0 ? '' : `[${this.done}/${this.total}] `}${active === '' ? this.phaseText : active}`;
    this.io.stderr.write(`\r\x1b[K${text.slice(0, (this.io.stderr as { columns?: number }).columns ?? 120)}`);
    this.statusShown = true;
  }

  /** Take the status line away (the run ends with an error printed below). */
  stop(): void {
    this.clearStatus();
  }

  private clearStatus(): void {
    if (this.live && this.statusShown) this.io.stderr.write('\r\x1b[K');
    this.statusShown = false;
  }

  /** Successes are results (stdout); failures are diagnostics (stderr). */
  private printResult(r: PackResult): void {
    const failed = r.status === 'failed' || r.status === 'conflict' || r.status === 'invalid';
    writeLine(failed ? this.io.stderr : this.io.stdout, describeResult(r));
  }

  /** Prints the results that had no pack-done event (invalid packs, packs not started) and the summary. */
  finish(report: PushReport): void {
    this.clearStatus();
    // Invalid packs with their errors, then each shared cause in one line (with the number of packs it stopped).
    for (const cause of failureCauses(report.results.filter((r) => !this.reported.has(r)))) {
      if (cause.kind === 'pack') {
        this.printResult(cause.result);
        this.reported.add(cause.result);
        continue;
      }
      writeLine(this.io.stderr, causeLine(cause));
      if (cause.hint !== undefined) writeLine(this.io.stderr, `  hint: ${cause.hint}`);
      for (const r of cause.results) this.reported.add(r);
    }
    for (const r of report.results) if (!this.reported.has(r)) this.printResult(r);
    const s = report.summary;
    const parts = [
      s.published && `${s.published} published`,
      s.overwritten && `${s.overwritten} overwritten`,
      s.unchanged && `${s.unchanged} unchanged`,
      s.skipped && `${s.skipped} skipped`,
      s.planned && `${s.planned} planned`,
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
