import { FAIL_FAST_NOT_STARTED, type PackResult } from '../../operations/push-report.js';
import type { PushPaletteOutcome } from '../palette-run.js';

/**
 * One cause, one line: failures that share a cause are told once with the number of packs they stopped.
 * Two kinds share a cause:
 * - a target-wide error (credentials rejected, host unreachable, TLS, a credential provider failing) hits
 *   every pack sent to that target;
 * - the invalid-pack gate holds every valid pack back because others are invalid;
 * - --fail-fast keeps the packs not started yet from starting after a failure.
 * Everything else (a conflict, a pack's own upload error, an invalid pack) is its own cause.
 */

/** Error codes that belong to a whole target rather than to one pack. */
const TARGET_WIDE = new Set(['AUTH', 'CREDENTIALS', 'NETWORK', 'TLS']);

export type Cause =
  | { kind: 'pack'; result: PackResult }
  | { kind: 'target'; target: string; code: string; message: string; hint?: string; results: PackResult[] }
  | { kind: 'held-back'; results: PackResult[]; invalid: number; hint?: undefined }
  | { kind: 'not-started'; results: PackResult[]; hint?: undefined };

/** The pack as people name it. */
export function packId(r: PackResult): string {
  return r.name === undefined ? r.dir : `${r.name}:${r.version ?? '?'}`;
}

/** ` -> <reference>` for a failure line, unless the message names it already. */
export function referenceUnlessSaid(r: PackResult): string {
  return r.reference === undefined || (r.error?.message ?? '').includes(r.reference) ? '' : ` -> ${r.reference}`;
}

export function isFailure(r: PackResult): boolean {
  return r.status === 'failed' || r.status === 'conflict' || r.status === 'invalid';
}

/** A failure whose cause may be shared with other packs of the same run (held back until the run ends). */
export function mayShareCause(r: PackResult): boolean {
  return r.status === 'failed' && r.error !== undefined && (TARGET_WIDE.has(r.error.code) || r.error.code === 'PACK_INVALID' || notStarted(r));
}

/** A pack --fail-fast kept from starting: each said "the run was stopped" on a line (and an annotation) of its own. */
function notStarted(r: PackResult): boolean {
  return r.error?.code === 'ABORTED' && r.error.message === FAIL_FAST_NOT_STARTED;
}

/** The pack's own repository and reference removed from a message, so the same cause reads the same for every pack. */
function normalized(r: PackResult): string {
  let message = r.error?.message ?? '';
  if (r.reference !== undefined) {
    const repo = r.reference.replace(/:[^:/]+$/, '');
    const path = repo.replace(/^[^/]+\//, '');
    for (const s of [r.reference, repo, path]) message = message.split(s).join('<pack repository>');
  }
  return message;
}

/** Group failed results by cause, in the order their first pack appears. Successes are left out. */
export function failureCauses(results: PackResult[]): Cause[] {
  const causes: Cause[] = [];
  const byKey = new Map<string, Extract<Cause, { kind: 'target' }>>();
  let heldBack: Extract<Cause, { kind: 'held-back' }> | undefined;
  let stopped: Extract<Cause, { kind: 'not-started' }> | undefined;
  const invalid = new Set(results.filter((r) => r.status === 'invalid').map((r) => r.dir)).size;
  for (const r of results) {
    if (!isFailure(r)) continue;
    const code = r.error?.code;
    if (r.status === 'failed' && code === 'PACK_INVALID') {
      if (heldBack === undefined) {
        // Its line already says what to do: no hint of its own.
        heldBack = { kind: 'held-back', results: [], invalid };
        causes.push(heldBack);
      }
      heldBack.results.push(r);
      continue;
    }
    if (r.status === 'failed' && notStarted(r)) {
      if (stopped === undefined) {
        stopped = { kind: 'not-started', results: [] };
        causes.push(stopped);
      }
      stopped.results.push(r);
      continue;
    }
    if (r.status === 'failed' && code !== undefined && TARGET_WIDE.has(code)) {
      // Network and TLS failures of one target are one cause whatever the pack; an AUTH refusal may
      // differ per repository (Harbor permissions), so its message is part of the key.
      const key = `${r.target ?? ''}\u0000${code}\u0000${code === 'AUTH' ? normalized(r) : ''}`;
      const group = byKey.get(key);
      if (group === undefined) {
        const cause: Extract<Cause, { kind: 'target' }> = {
          kind: 'target',
          target: r.target ?? '',
          code,
          message: normalized(r),
          ...(r.error?.hint === undefined ? {} : { hint: r.error.hint }),
          results: [r],
        };
        byKey.set(key, cause);
        causes.push(cause);
      } else {
        group.results.push(r);
        // Packs failed at once after the first failure carry it wrapped ("not attempted: ... (cause)"):
        // the shortest message is the cause itself.
        const message = normalized(r);
        if (message.length < group.message.length) group.message = message;
        if (group.hint === undefined && r.error?.hint !== undefined) group.hint = r.error.hint;
      }
      continue;
    }
    causes.push({ kind: 'pack', result: r });
  }
  // A target-wide error that stopped one pack only is that pack's own line.
  return causes.map((c) => (c.kind === 'target' && c.results.length === 1 ? { kind: 'pack', result: c.results[0] as PackResult } : c));
}

/** `a:1.0.0, b:2.0.0, c:1.1.0 and 12 more` */
export function listPacks(results: PackResult[], max = 3): string {
  const ids = results.slice(0, max).map(packId);
  const rest = results.length - ids.length;
  return rest > 0 ? `${ids.join(', ')} and ${rest} more` : ids.join(', ');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The one line a shared cause gets (without its hint). */
export function causeLine(cause: Exclude<Cause, { kind: 'pack' }>): string {
  if (cause.kind === 'held-back') {
    // With several targets a held-back pack has one result per target: count packs, not results.
    const packs = new Set(cause.results.map((r) => r.dir)).size;
    return `${plural(packs, 'valid pack')} not pushed because ${cause.invalid} ${cause.invalid === 1 ? 'is' : 'are'} invalid; pass --continue-on-error to push them`;
  }
  if (cause.kind === 'not-started') {
    const packs = [...new Map(cause.results.map((r) => [r.dir, r])).values()];
    return `${plural(packs.length, 'pack')} not started: --fail-fast stopped the run after a failure (${listPacks(packs)})`;
  }
  return `FAILED ${cause.target}: ${cause.message} (stopped ${plural(cause.results.length, 'pack')}: ${listPacks(cause.results)})`;
}

/**
 * What `push --palette-sync` found after publishing (the report's `palette`): a pack Palette does not list ends
 * the run with exit code 3, an error that stopped the sync with its own; the job summary, the annotations and the
 * JUnit report say so as the exit code does.
 */
export type PaletteOutcome = NonNullable<PushPaletteOutcome['json']>;

/** One thing the Palette step left undone: a pack Palette does not list (or, `pack` absent, the step itself). */
export interface PaletteProblem {
  /** The target's `host/base-path`; '' when the step stopped before reaching one. */
  target: string;
  pack?: string;
  message: string;
  hint?: string;
  /** Palette lists every pack of the target with the content published: the sync failed on something else. */
  everyPackListed?: true;
}

/** The run statuses that end a push with exit code 3 (operations/palette.ts isNotVisible, not loaded for this). */
const NOT_VISIBLE: ReadonlySet<string> = new Set(['published-not-visible', 'would-not-be-visible']);

/** Every Palette problem of a run, in the order the targets were synced; none when Palette lists every pack. */
export function paletteProblems(palette: PaletteOutcome | undefined): PaletteProblem[] {
  if (palette === undefined) return [];
  if (palette.status === 'error') {
    const { message, hint } = palette.error;
    return [{ target: '', message: `Palette sync stopped: ${message}`, ...(hint === undefined ? {} : { hint }) }];
  }
  const out: PaletteProblem[] = [];
  for (const t of palette.targets) {
    if (!NOT_VISIBLE.has(t.status)) continue;
    const missing = t.packs.filter((p) => p.status !== 'visible');
    const why = t.sync.message ?? `Palette's sync ${t.sync.outcome}`;
    if (missing.length === 0 && t.packs.length > 0 && t.sync.outcome === 'failed') {
      // As stderr says it (palette-run.ts): the packs are there; what failed is another pack's or the registry's.
      out.push({
        target: t.target,
        message: `Palette lists every version asked for (${t.packs.length}) with the content published, but its sync of ${t.registry.name} failed: ${why}; what failed is another pack of the registry or the registry itself`,
        hint: "fix what the sync's message names, then packpub palette sync",
        everyPackListed: true,
      });
    } else if (missing.length === 0) out.push({ target: t.target, message: `not visible in Palette: ${why}` });
    for (const p of missing) out.push({ target: t.target, pack: `${p.name}:${p.version}`, message: `not visible in Palette: ${p.reason ?? why}` });
  }
  return out;
}
