import type { DeleteReport } from './delete.js';

/**
 * True when a delete run did exactly what was asked (--dry-run: when it could). Apart from operations/delete.ts
 * (which re-exports it) so that cli/report.ts, which every `push --json` loads, does not load the delete
 * operation with it (issue 16).
 */
export function deleteSucceeded(report: DeleteReport): boolean {
  const s = report.summary;
  return s.refused === 0 && s.failed === 0 && s.cancelled === 0 && (s.missing === 0 || report.ignoreMissing) && (report.dryRun || s.planned === 0);
}
