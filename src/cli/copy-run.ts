import { PackpubError } from '../errors.js';
import { copyPacks, copySucceeded, type CopyEvent, type CopyReport, type CopyResult } from '../operations/copy.js';
import { openTarget, type PackTarget } from '../targets/open.js';
import { resolveSideOptions } from './target-options.js';
import type { Args, CliContext } from './context.js';
import { EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, useColor, writeLine, type CliIo } from './io.js';
import { formatBytes, formatDuration, shortDigest } from './render.js';
import { REPORT_SCHEMA_VERSION } from './report.js';
import { withInterrupt } from './signals.js';
import { VERSION } from '../version.js';


/** The `copy --json` document (docs/report.md, "copy"). */
export function copyReportJson(report: CopyReport): Record<string, unknown> {
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: 'packpub',
    toolVersion: VERSION,
    operation: 'copy',
    from: report.from,
    to: report.to,
    ok: copySucceeded(report),
    aborted: report.aborted,
    durationMs: report.durationMs,
    summary: report.summary,
    results: report.results,
  };
}

function describe(r: CopyResult): string {
  const id = `${r.name}:${r.version}`;
  switch (r.status) {
    case 'copied':
    case 'overwritten':
      return `${r.status} ${id} -> ${r.destination} (${shortDigest(r.digest)}, ${formatBytes(r.size)}, copied ${formatBytes(r.copiedBytes)}, ${formatDuration(r.durationMs)})`;
    case 'unchanged':
      return `unchanged ${id}: ${r.destination} already holds ${shortDigest(r.digest)}`;
    case 'skipped':
      return `skipped ${id}: ${r.destination} holds a different manifest (${shortDigest(r.existingDigest)}), kept as is (--skip-existing)`;
    case 'planned':
      return `plan ${r.plan ?? '?'} ${id} -> ${r.destination} (${formatBytes(r.bytesToCopy)} to copy)`;
    default: {
      const lines = [`${r.status === 'conflict' ? 'CONFLICT' : 'FAILED'} ${id}: ${r.error?.message ?? 'failed'}`];
      if (r.error?.hint !== undefined) lines.push(`  hint: ${r.error.hint}`);
      return lines.join('\n');
    }
  }
}

/** One plain line per version (stdout; failures on stderr); on a TTY also a live status line. */
class CopyRenderer {
  private readonly live: boolean;
  private total = 0;
  private done = 0;
  private readonly active = new Map<string, { bytes: number; size: number }>();
  private statusShown = false;

  constructor(private readonly io: CliIo) {
    this.live = useColor(io, 'stderr');
  }

  onEvent = (event: CopyEvent): void => {
    switch (event.type) {
      case 'selected':
        this.total = event.total;
        break;
      case 'blob-copy-progress':
        this.active.set(`${event.name}:${event.version}`, { bytes: event.bytes, size: event.size });
        this.draw();
        break;
      case 'blob-copy-done':
        this.active.delete(`${event.name}:${event.version}`);
        break;
      case 'pack-done': {
        this.done++;
        this.clear();
        const r = event.result;
        writeLine(r.status === 'failed' || r.status === 'conflict' ? this.io.stderr : this.io.stdout, describe(r));
        this.draw();
        break;
      }
      default:
        break;
    }
  };

  private draw(): void {
    if (!this.live) return;
    const active = [...this.active.entries()]
      .slice(0, 3)
      .map(([id, u]) => `${id} ${formatBytes(u.bytes)}/${formatBytes(u.size)}`)
      .join(', ');
    this.io.stderr.write(`\r\x1b[K[${this.done}/${this.total}] ${active}`.slice(0, (this.io.stderr as { columns?: number }).columns ?? 120));
    this.statusShown = true;
  }

  private clear(): void {
    if (this.live && this.statusShown) this.io.stderr.write('\r\x1b[K');
    this.statusShown = false;
  }

  finish(report: CopyReport): void {
    this.clear();
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

function parseRefArg(ref: string | undefined, all: boolean): { name?: string; version?: string } {
  if (ref === undefined || ref === '') return {};
  const colon = ref.lastIndexOf(':');
  if (colon === -1) {
    if (!all) {
      throw new PackpubError('USAGE', `"${ref}" names no version`, { hint: `write ${ref}:<version>, or add --all for every version of ${ref}` });
    }
    return { name: ref };
  }
  if (colon === 0 || colon === ref.length - 1) {
    throw new PackpubError('USAGE', `"${ref}" is not a pack reference`, { hint: 'write it as <name>:<version>, e.g. hello-universe:1.2.0' });
  }
  return { name: ref.slice(0, colon), version: ref.slice(colon + 1) };
}

/** `packpub copy`: loaded only when the command runs. */
export async function runCopy(args: Args, ctx: CliContext): Promise<number> {
    const all = args['all'] === true;
    const { name, version } = parseRefArg(args['ref'] as string | undefined, all);
    if (name === undefined && !all) {
      throw new PackpubError('USAGE', 'name what to copy: <name>:<version>, <name> --all, or --all for every pack');
    }
    if (args['fromPasswordStdin'] === true && args['toPasswordStdin'] === true) {
      throw new PackpubError('USAGE', '--from-password-stdin and --to-password-stdin cannot both read standard input', {
        hint: 'pipe one password in; give the other side as PACKPUB_FROM_PASSWORD / PACKPUB_TO_PASSWORD or in the Docker config',
      });
    }
    const fromOptions = await resolveSideOptions(args, ctx, 'from');
    const toOptions = await resolveSideOptions(args, ctx, 'to');
    const json = args['json'] === true;
    const jsonLines = args['jsonLines'] === true;
    const renderer = json || jsonLines ? undefined : new CopyRenderer(ctx.io);
    let from: PackTarget | undefined;
    let to: PackTarget | undefined;
    try {
      from = await openTarget(fromOptions);
      to = await openTarget(toOptions);
      const source = from;
      const destination = to;
      const report = await withInterrupt(ctx, (signal) =>
        copyPacks(source, destination, {
          ...(name === undefined ? {} : { name }),
          ...(version === undefined ? {} : { version }),
          all,
          force: args['force'] === true,
          skipExisting: args['skipExisting'] === true,
          dryRun: args['dryRun'] === true,
          failFast: args['failFast'] === true,
          ...(args['concurrency'] === undefined ? {} : { concurrency: args['concurrency'] as number }),
          signal,
          onEvent: (event) => {
            renderer?.onEvent(event);
            if (jsonLines && event.type === 'pack-done') writeLine(ctx.io.stdout, JSON.stringify({ type: 'result', ...event.result }));
          },
        }),
      );
      if (json) writeLine(ctx.io.stdout, JSON.stringify(copyReportJson(report), null, 2));
      else if (jsonLines) {
        writeLine(
          ctx.io.stdout,
          JSON.stringify({ type: 'summary', operation: 'copy', from: report.from, to: report.to, summary: report.summary, durationMs: report.durationMs, aborted: report.aborted }),
        );
      } else renderer?.finish(report);
      if (report.aborted && ctx.interrupted === true) return EXIT_INTERRUPTED;
      return copySucceeded(report) ? EXIT_OK : EXIT_FAILURE;
    } finally {
      await from?.store.close();
      await to?.store.close();
    }
  }
