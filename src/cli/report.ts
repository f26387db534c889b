import { copySucceeded, summarizeCopy, type CopyReport, type CopyResult } from '../operations/copy-report.js';
import type { DeleteReport } from '../operations/delete.js';
import { deleteSucceeded } from '../operations/delete-report.js';
import type { PushReport } from '../operations/push-report.js';
import { VERSION } from '../version.js';
import type { LedgerState } from './signals.js';

/** Version of the JSON report format (docs/report.md); bumped only on incompatible changes. */
export const REPORT_SCHEMA_VERSION = 1;

/** The documented `push --json` document. */
export function reportJson(report: PushReport): Record<string, unknown> {
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    operation: 'push',
    tool: 'packpub',
    toolVersion: VERSION,
    target: report.target,
    ok: report.summary.invalid === 0 && report.summary.conflict === 0 && report.summary.failed === 0 && !report.aborted,
    aborted: report.aborted,
    durationMs: report.durationMs,
    summary: report.summary,
    results: report.results,
  };
}

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

/** The `delete --json` document (docs/report.md, "delete"). */
export function deleteReportJson(report: DeleteReport): Record<string, unknown> {
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: 'packpub',
    toolVersion: VERSION,
    operation: 'delete',
    target: report.target,
    ok: deleteSucceeded(report),
    dryRun: report.dryRun,
    durationMs: report.durationMs,
    summary: report.summary,
    results: report.results,
  };
}

/**
 * A copy abandoned after an interrupt, as a report: each version the run selected, in order; what finished as it
 * finished; a version started and not finished `failed` ABORTED, "perhaps copied" once its blobs were sent (the
 * destination may have written its tag), else "not copied"; a version never started as a run stopped in time says.
 */
export function abandonedCopyReport(
  state: LedgerState<CopyResult>,
  selected: ReadonlyArray<Pick<CopyResult, 'name' | 'version' | 'source' | 'destination'>>,
  sides: { from: string; to: string },
  startedAt: number,
): CopyReport {
  const finished = new Map(state.finished.map((r) => [`${r.name}:${r.version}`, r]));
  const started = new Map(state.started.map((p) => [`${p.name}:${p.version}`, p]));
  const results = selected.map((base): CopyResult => {
    const key = `${base.name}:${base.version}`;
    const done = finished.get(key);
    if (done !== undefined) return done;
    const inFlight = started.get(key);
    const error =
      inFlight === undefined
        ? { code: 'ABORTED', message: 'not started: the run was stopped' }
        : inFlight.tagging
          ? { code: 'ABORTED', message: 'abandoned while writing its tag: perhaps copied', hint: 'run again: it finds the version unchanged or copies it' }
          : { code: 'ABORTED', message: 'abandoned in flight: not copied (no tag was written)', hint: 'run again to finish' };
    return { ...base, status: 'failed', copiedBytes: 0, durationMs: 0, error };
  });
  return { ...sides, results, summary: summarizeCopy(results), durationMs: Date.now() - startedAt, aborted: true };
}
