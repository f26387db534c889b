import type { CliContext } from './context.js';
import { EXIT_INTERRUPTED, writeLine } from './io.js';

/** How long in-flight requests may run after an interrupt before they are abandoned. */
const GRACE_MS = 5_000;

/** The pack-level events push and copy share, as far as an interrupted run needs them. */
type LedgerEvent =
  | { type: 'pack-start'; name: string; version: string }
  | { type: 'blob-upload-done'; name: string; version: string }
  | { type: 'pack-done'; result: { name?: string | undefined; version?: string | undefined; status: string } }
  | { type: string };

/**
 * What a run has started and finished, kept from its events so that a run abandoned mid-flight (grace period
 * over, or a second signal) can still say what was and was not published before the process exits.
 */
export class RunLedger {
  private readonly inFlight = new Set<string>();
  /**
   * Packs in flight whose blobs are uploaded: their manifest (the tag) may be on its way, and a registry
   * that received it writes the tag even when this process is gone, so abandoning them proves nothing.
   */
  private readonly tagging = new Set<string>();
  private readonly finished: string[] = [];
  /** Results expected (packs x targets), when known. */
  total = 0;

  onEvent = (event: LedgerEvent): void => {
    if (event.type === 'pack-start' && 'name' in event) this.inFlight.add(`${event.name}:${event.version}`);
    else if (event.type === 'blob-upload-done' && 'name' in event) {
      const key = `${event.name}:${event.version}`;
      if (this.inFlight.has(key)) this.tagging.add(key);
    } else if (event.type === 'pack-done' && 'result' in event) {
      const key = `${event.result.name ?? '?'}:${event.result.version ?? '?'}`;
      this.inFlight.delete(key);
      this.tagging.delete(key);
      this.finished.push(event.result.status);
    }
  };

  /** Some pack in flight was writing its tag: abandoning it leaves its version published or not. */
  get uncertain(): boolean {
    return this.tagging.size > 0;
  }

  /** What finished (by status), what was abandoned in flight, how many never started, and what may be published. */
  summary(): string[] {
    const counts = new Map<string, number>();
    for (const status of this.finished) counts.set(status, (counts.get(status) ?? 0) + 1);
    const done = [...counts].map(([status, n]) => `${n} ${status}`).join(', ');
    const lines = [`interrupted: ${this.finished.length}${this.total > 0 ? ` of ${this.total}` : ''} finished${done === '' ? '' : ` (${done})`}`];
    const abandoned = [...this.inFlight].filter((key) => !this.tagging.has(key));
    const notStarted = Math.max(0, this.total - this.finished.length - this.inFlight.size);
    if (abandoned.length > 0 || notStarted > 0) {
      const parts = [abandoned.length > 0 ? `abandoned in flight: ${listed(abandoned)}` : '', notStarted > 0 ? `${notStarted} not started` : ''].filter(Boolean);
      lines.push(`not published: ${parts.join('; ')} (no tag was written for them; run again to finish)`);
    }
    if (this.tagging.size > 0) {
      lines.push(`perhaps published: ${listed([...this.tagging])} (abandoned while writing the tag, which the registry may have written; run again: it finds them unchanged or publishes them)`);
    }
    return lines;
  }
}

function listed(keys: string[]): string {
  return keys.length > 10 ? `${keys.slice(0, 10).join(', ')} and ${keys.length - 10} more` : keys.join(', ');
}

export interface InterruptHooks {
  /** Takes the live status line away, so messages start on a line of their own. */
  clearStatus?: () => void;
  /** Feeds on the run's events; its summary is printed when the run is abandoned. */
  ledger?: RunLedger;
  /** What is safe about abandoning this run (default: publishing's "no tag was written for unfinished packs"). */
  abandonNote?: string;
}

/**
 * Run an operation that honours an AbortSignal. The first SIGINT/SIGTERM stops new work and lets
 * requests in flight finish for a few seconds; after that, or on a second signal, the process exits 130
 * after saying what was and was not published.
 * Abandoning is safe: manifests are written only after their blobs, so no tag points at missing content.
 */
export async function withInterrupt<T>(ctx: CliContext, fn: (signal: AbortSignal) => Promise<T>, hooks: InterruptHooks = {}): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const say = (line: string) => {
    hooks.clearStatus?.();
    writeLine(ctx.io.stderr, line);
  };
  const note = hooks.abandonNote ?? 'no tag was written for unfinished packs';
  const abandon = (reason: string) => {
    // A tag being written may land after this process is gone: then say which, instead of "no tag was written".
    const line = hooks.abandonNote === undefined && hooks.ledger?.uncertain === true ? `${reason}; no tag was written for unfinished packs except perhaps those below` : `${reason}; ${note}`;
    say(line);
    for (const l of hooks.ledger?.summary() ?? []) writeLine(ctx.io.stderr, l);
    process.exit(EXIT_INTERRUPTED);
  };
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) abandon(`${sig} again: abandoning requests in flight`);
    ctx.interrupted = true;
    say(`${sig}: starting no new work; what is in flight may finish within ${GRACE_MS / 1000} s (signal again to stop at once)`);
    controller.abort();
    timer = setTimeout(() => abandon('abandoning requests still in flight'), GRACE_MS);
    timer.unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await fn(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (timer !== undefined) clearTimeout(timer);
  }
}
