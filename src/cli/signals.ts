import { PackpubError, errorMessage } from '../errors.js';
import type { CliContext } from './context.js';
import type { Opening } from './target-command.js';
import { EXIT_INTERRUPTED, INTERRUPT_SIGNALS, writeLine } from './io.js';

/** How long in-flight requests may run after an interrupt before they are abandoned, unless GRACE_ENV says otherwise. */
export const GRACE_MS = 5_000;
/** The variable that sets that grace, in seconds. */
export const GRACE_ENV = 'PACKPUB_INTERRUPT_GRACE';
/** The longest grace GRACE_ENV may ask for, in seconds. */
export const MAX_GRACE_S = 300;

/**
 * This run's grace (ms): GRACE_ENV's seconds (0 to MAX_GRACE_S, fractions allowed), else GRACE_MS. A runner that
 * kills the step soon after its SIGTERM leaves no time for the reports after a 5 s grace (Jenkins' abort: 5 s,
 * hudson.util.ProcessTree.softKillWaitSeconds; the reports take up to ABANDON_REPORT_MS more): a shorter one
 * lets them be written. Anything else (empty too: an unset CI variable) is refused before the work starts.
 */
export function interruptGraceMs(env: NodeJS.ProcessEnv): number {
  const raw = env[GRACE_ENV];
  if (raw === undefined) return GRACE_MS;
  const seconds = /^\s*\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(seconds <= MAX_GRACE_S)) {
    throw new PackpubError('USAGE', `${GRACE_ENV} must be a number of seconds from 0 to ${MAX_GRACE_S}, got "${raw}"`, {
      hint: `give the seconds packs in flight may finish in after SIGINT, SIGTERM or SIGHUP (default ${GRACE_MS / 1000}), or unset ${GRACE_ENV}`,
    });
  }
  return Math.round(seconds * 1000);
}

/**
 * Signals this close after the last one heeded are the same interrupt delivered twice, not "signal again": Ctrl-C on
 * `npm run <script>` reaches packpub from the terminal and once more from npm, which passes the signals it gets on to
 * its child; Jenkins' abort sends SIGTERM to every process of the build, npm passing its own on too. Read as a second
 * signal, either abandoned the packs in flight at once, without the grace period. A person signalling again to stop
 * at once does so after reading the first message, later than this.
 */
export const SIGNAL_ECHO_MS = 500;

/** The pack-level events push and copy share, as far as an interrupted run needs them. */
type LedgerEvent =
  | { type: 'pack-start'; dir?: string; name: string; version: string; reference?: string }
  | { type: 'blob-upload-done'; name: string; version: string }
  | { type: 'manifest-start'; name: string; version: string }
  | { type: 'pack-done'; result: LedgerResult }
  | { type: 'validated'; dir: string; report: { pack?: { name: string; version: string } | undefined } }
  | { type: string };

/** What the ledger needs of a finished result (push's PackResult, copy's result). */
export interface LedgerResult {
  dir?: string | undefined;
  target?: string | undefined;
  name?: string | undefined;
  version?: string | undefined;
  status: string;
}

/** A pack the run started (finished on every target, or not). */
export interface StartedPack {
  dir: string;
  name: string;
  version: string;
  /** Its reference on the first target (pack-start's). */
  reference?: string;
  /** Its blobs were uploaded (to some target): where it did not finish, the tag may have been written after all. */
  tagging: boolean;
}

/** What an abandoned run leaves: its finished results, the packs it started, and those not started (when known). */
export interface LedgerState<R extends LedgerResult> {
  finished: R[];
  started: StartedPack[];
  /** Packs that never started (named when validated); empty when the ledger was not told the packs (expect()). */
  notStarted: Array<{ dir: string; name?: string; version?: string }>;
  /** The run's targets (display names), when told. */
  targets: string[];
}

/**
 * What a run has started and finished, kept from its events so that a run abandoned mid-flight (grace period
 * over, or a second signal) can still say what was and was not published before the process exits.
 */
export class RunLedger<R extends LedgerResult = LedgerResult> {
  private readonly inFlight = new Set<string>();
  /** Packs started, by `name:version`: their folder and first reference. */
  private readonly started = new Map<string, { dir?: string | undefined; reference?: string | undefined }>();
  private readonly results: R[] = [];
  /** Packs whose blobs were uploaded at some point (tagging forgets them once they finish on one target). */
  private readonly uploaded = new Set<string>();
  private packs: readonly string[] = [];
  /** What pack.json names, by folder, for the packs validated. */
  private readonly named = new Map<string, { name: string; version: string }>();
  private targets: readonly string[] = [];
  /**
   * Packs in flight whose blobs are uploaded: their manifest (the tag) may be on its way, and a registry
   * that received it writes the tag even when this process is gone, so abandoning them proves nothing.
   */
  private readonly tagging = new Set<string>();
  private readonly finished: string[] = [];
  /** Results expected (packs x targets), when known. */
  total = 0;

  /**
   * `writing`: the event after which a pack's tag may be on its way. Push's `blob-upload-done` comes once per pack, for
   * its layer, right before its manifest; copy's comes once per blob (the `{}` config first), so copy says
   * `manifest-start` (was: a version abandoned while its layer was still downloading said "perhaps copied").
   */
  constructor(private readonly writing: 'blob-upload-done' | 'manifest-start' = 'blob-upload-done') {}

  /** The run's pack folders and targets: an abandoned run can then name the packs that never started. */
  expect(packs: readonly string[], targets: readonly string[]): void {
    this.packs = packs;
    this.targets = targets;
    this.total = packs.length * targets.length;
  }

  onEvent = (event: LedgerEvent): void => {
    if (event.type === 'validated' && 'report' in event) {
      if (event.report.pack !== undefined) this.named.set(event.dir, event.report.pack);
    } else if (event.type === 'pack-start' && 'name' in event) {
      const key = `${event.name}:${event.version}`;
      this.inFlight.add(key);
      this.started.set(key, { dir: 'dir' in event ? event.dir : undefined, reference: 'reference' in event ? event.reference : undefined });
    } else if (event.type === this.writing && 'name' in event) {
      const key = `${event.name}:${event.version}`;
      if (this.inFlight.has(key)) this.tagging.add(key);
      this.uploaded.add(key);
    } else if (event.type === 'pack-done' && 'result' in event) {
      const key = `${event.result.name ?? '?'}:${event.result.version ?? '?'}`;
      this.inFlight.delete(key);
      this.tagging.delete(key);
      this.finished.push(event.result.status);
      this.results.push(event.result as R);
    }
  };

  /** The finished results, the packs started and those never started, for the reports of an abandoned run. */
  state(): LedgerState<R> {
    const started: StartedPack[] = [...this.started].map(([key, at]) => {
      const colon = key.lastIndexOf(':');
      return {
        dir: at.dir ?? key,
        name: key.slice(0, colon),
        version: key.slice(colon + 1),
        ...(at.reference === undefined || at.reference === '' ? {} : { reference: at.reference }),
        tagging: this.uploaded.has(key),
      };
    });
    const seen = new Set([...this.results.map((r) => r.dir), ...started.map((s) => s.dir)]);
    return { finished: [...this.results], started, notStarted: this.packs.filter((dir) => !seen.has(dir)).map((dir) => ({ dir, ...this.named.get(dir) })), targets: [...this.targets] };
  }

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
  /**
   * What the first signal does when the operation gives up its work in flight at once (pull: its download), said
   * after `<SIGNAL>: ` instead of the grace it does not wait for; the grace still bounds it.
   */
  stopsAtOnce?: string;
  /**
   * Writes the run's reports (JUnit, job summary) for an abandoned run, given the lines just printed; the
   * process exits once it settles, or after ABANDON_REPORT_MS at most.
   */
  onAbandon?: (lines: string[]) => Promise<void>;
}

/**
 * The reports of an enclosing run, for a withInterrupt inside it that has none of its own (push --palette-sync's
 * Palette step): abandoning that step ends the whole run, whose reports must still be written. By run (its
 * context), so that runs side by side in one process (tests, a program embedding main()) keep their own.
 */
const enclosingAbandon = new WeakMap<CliContext, (lines: string[]) => Promise<void>>();

/** Run `fn` with `onAbandon` as the run's reports should an interrupt inside it be abandoned (see enclosingAbandon). */
export async function withAbandonReports<T>(ctx: CliContext, onAbandon: (lines: string[]) => Promise<void>, fn: () => Promise<T>): Promise<T> {
  const outer = enclosingAbandon.get(ctx);
  enclosingAbandon.set(ctx, onAbandon);
  try {
    return await fn();
  } finally {
    if (outer === undefined) enclosingAbandon.delete(ctx);
    else enclosingAbandon.set(ctx, outer);
  }
}

/**
 * How long an abandoned run may spend writing its reports before it exits anyway: within the 2.5 s GitHub's runner
 * leaves between its SIGTERM and killing the step's processes (GitHub Docs, "Canceling a workflow").
 */
const ABANDON_REPORT_MS = 2_000;

/** Prints a line of the interrupt's on a line of its own (the live status taken away first). */
function sayer(ctx: CliContext, hooks: InterruptHooks): (line: string) => void {
  return (line) => {
    hooks.clearStatus?.();
    writeLine(ctx.io.stderr, line);
  };
}

/**
 * Ends an interrupted run: says `reason` and what is safe about it, the ledger's summary, writes the run's reports
 * (bounded by ABANDON_REPORT_MS) and exits 130; a signal while the reports are written exits at once.
 */
function abandoner(ctx: CliContext, hooks: InterruptHooks): (reason: string) => void {
  const say = sayer(ctx, hooks);
  const note = hooks.abandonNote ?? 'no tag was written for unfinished packs';
  let abandoning = false;
  return (reason) => {
    // A signal while the reports are written: exit now, without them.
    if (abandoning) process.exit(EXIT_INTERRUPTED);
    abandoning = true;
    // A tag being written may land after this process is gone: then say which, instead of "no tag was written".
    const line = hooks.abandonNote === undefined && hooks.ledger?.uncertain === true ? `${reason}; no tag was written for unfinished packs except perhaps those below` : `${reason}; ${note}`;
    say(line);
    const summary = hooks.ledger?.summary() ?? [];
    for (const l of summary) writeLine(ctx.io.stderr, l);
    const reports = hooks.onAbandon ?? enclosingAbandon.get(ctx);
    if (reports === undefined) process.exit(EXIT_INTERRUPTED);
    // A CI job cancelled after the grace period still gets its reports, saying the run was interrupted (never
    // a success). Bounded: a report that cannot be written in time is given up, the exit code stays 130.
    setTimeout(() => process.exit(EXIT_INTERRUPTED), ABANDON_REPORT_MS);
    reports([line, ...summary])
      .catch((err: unknown) => writeLine(ctx.io.stderr, `warning: the interrupted run's reports were not all written: ${errorMessage(err)}`))
      .finally(() => process.exit(EXIT_INTERRUPTED));
  };
}

/**
 * Run steps that publish nothing and honour no signal (push before its first pack: the targets opened, a registry
 * that does not answer probed up to --retry-deadline; Palette's key checked; --check-images): the first SIGINT or
 * SIGTERM ends the run at once, saying `<SIGNAL>: interrupted <when>`, with its reports (hooks.onAbandon: every pack
 * not started), exit 130. Before, main's handler ended it with "SIGTERM: interrupted" alone: no --json report, no job
 * summary, and a JUnit file holding only the `unfinished` case. A signal within SIGNAL_ECHO_MS of the first is it again.
 */
export async function stopAtOnce<T>(ctx: CliContext, when: string, fn: () => Promise<T>, hooks: InterruptHooks): Promise<T> {
  // The grace of the work that follows, refused before this step's requests (a registry probed for minutes first).
  interruptGraceMs(ctx.io.env);
  return readingAtOnce(ctx, when, fn, hooks);
}

/**
 * stopAtOnce for a command that only reads and has no grace (list, inspect: PACKPUB_INTERRUPT_GRACE is not theirs, so
 * not checked): the first SIGINT or SIGTERM ends it at once, `<SIGNAL>: interrupted <when>; <abandonNote>`, exit 130
 * (before: `SIGINT: interrupted` alone, main.ts's handler).
 */
export async function readingAtOnce<T>(ctx: CliContext, when: string, fn: () => Promise<T>, hooks: InterruptHooks): Promise<T> {
  const abandon = abandoner(ctx, hooks);
  const stopListening = onInterrupt((sig) => {
    ctx.interrupted = true;
    abandon(`${sig}: interrupted ${when}`);
  });
  try {
    return await fn();
  } finally {
    stopListening();
  }
}

/**
 * A one-target command's opening (target-command.ts withTarget) under stopAtOnce: an interrupt while a registry that
 * does not answer is probed (up to --retry-deadline) ends the run at once, `<SIGNAL>: interrupted while the target was
 * opened; <abandonNote>`, exit 130 (before: "SIGINT: interrupted" alone). Also refuses a bad grace before the probe.
 */
export function openingAtOnce(ctx: CliContext, abandonNote: string, stop: typeof stopAtOnce = stopAtOnce): Opening {
  return (_options, open) => stop(ctx, 'while the target was opened', open, { abandonNote });
}

/** What list and inspect say when interrupted (stdout stays empty: their documents are printed only on exit 0). */
export const NOTHING_PRINTED = 'nothing was printed';

/** openingAtOnce for list and inspect, which only read: `<SIGNAL>: interrupted while the target was opened; nothing was printed`. */
export function readingOpening(ctx: CliContext): Opening {
  return openingAtOnce(ctx, NOTHING_PRINTED, readingAtOnce);
}

/** Calls `heed` on INTERRUPT_SIGNALS, but not for one within SIGNAL_ECHO_MS of the last heeded; returns the undo. */
function onInterrupt(heed: (sig: NodeJS.Signals) => void): () => void {
  let heeded = -Infinity;
  const onSignal = (sig: NodeJS.Signals) => {
    const now = performance.now();
    if (now - heeded < SIGNAL_ECHO_MS) return;
    heeded = now;
    heed(sig);
  };
  for (const sig of INTERRUPT_SIGNALS) process.on(sig, onSignal);
  return () => {
    for (const sig of INTERRUPT_SIGNALS) process.off(sig, onSignal);
  };
}

/**
 * Run an operation that honours an AbortSignal. The first SIGINT/SIGTERM stops new work and lets
 * requests in flight finish for a few seconds (interruptGraceMs: refused here, before `fn` starts, when not valid); after that, or on a second signal (later than SIGNAL_ECHO_MS), the
 * process exits 130 after saying what was and was not published.
 * Abandoning is safe: manifests are written only after their blobs, so no tag points at missing content.
 */
export async function withInterrupt<T>(ctx: CliContext, fn: (signal: AbortSignal) => Promise<T>, hooks: InterruptHooks = {}): Promise<T> {
  const graceMs = interruptGraceMs(ctx.io.env);
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const say = sayer(ctx, hooks);
  const abandon = abandoner(ctx, hooks);
  const stopListening = onInterrupt((sig) => {
    if (controller.signal.aborted) return abandon(`${sig} again: abandoning requests in flight`);
    ctx.interrupted = true;
    say(
      hooks.stopsAtOnce !== undefined
        ? `${sig}: ${hooks.stopsAtOnce}`
        : graceMs === 0
          ? `${sig}: starting no new work (${GRACE_ENV}=0: what is in flight is not waited for)`
          : `${sig}: starting no new work; what is in flight may finish within ${graceMs / 1000} s (signal again to stop at once)`,
    );
    controller.abort();
    timer = setTimeout(() => abandon('abandoning requests still in flight'), graceMs);
    timer.unref();
  });
  try {
    return await fn(controller.signal);
  } finally {
    stopListening();
    if (timer !== undefined) clearTimeout(timer);
  }
}
