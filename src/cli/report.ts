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
