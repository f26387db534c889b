import { copySucceeded, type CopyReport } from '../operations/copy-report.js';
import type { DeleteReport } from '../operations/delete.js';
import { deleteSucceeded } from '../operations/delete-report.js';
import type { PushReport } from '../operations/push-report.js';
import { VERSION } from '../version.js';

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
