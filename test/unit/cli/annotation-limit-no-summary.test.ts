import { describe, expect, it } from 'vitest';
import { copyAnnotations, deleteAnnotations } from '../../../src/cli/ci-output/github.js';
import type { CopyReport } from '../../../src/operations/copy-report.js';
import type { DeleteReport } from '../../../src/operations/delete.js';

/*
 * GitHub shows 10 annotations of a kind per step: past them, the last annotation says where the others are. push and
 * validate write a job summary listing every failure; copy and delete write none, yet their last annotation sent the
 * reader to "the job summary". Now it names the log alone for them (push's wording: test/e2e/annotation-limit.test.ts).
 */

const versions = Array.from({ length: 13 }, (_, i) => `1.0.${i}`);

describe('past 10 errors, a run that writes no job summary', () => {
  it('copy: the last annotation points to the log only', () => {
    const report: CopyReport = {
      from: 'registry a.example/src',
      to: 'registry b.example/dst',
      results: versions.map((version) => ({
        name: 'web',
        version,
        source: `a.example/src/spectro-packs/archive/web:${version}`,
        destination: `b.example/dst/spectro-packs/archive/web:${version}`,
        status: 'failed',
        copiedBytes: 0,
        durationMs: 1,
        error: { code: 'NETWORK', message: 'connection reset' },
      })),
      summary: { total: 13, copied: 0, unchanged: 0, overwritten: 0, skipped: 0, conflict: 0, failed: 13, planned: 0, copiedBytes: 0 },
      durationMs: 13,
      aborted: false,
    };
    const errors = copyAnnotations(report).filter((l) => l.startsWith('::error'));
    expect(errors).toHaveLength(10);
    expect(errors.at(-1)).toBe('::error title=packpub copy::4 more errors are not annotated (GitHub shows 10 per step): they are in the log above');
  });

  it('delete: the last annotation points to the log only', () => {
    const report: DeleteReport = {
      target: 'registry b.example/dst',
      dryRun: false,
      ignoreMissing: false,
      results: versions.map((version) => ({ name: 'web', version, reference: `b.example/dst/spectro-packs/archive/web:${version}`, status: 'missing', error: { code: 'NOT_FOUND', message: 'no such version' } })),
      summary: { total: 13, deleted: 0, untagged: 0, planned: 0, missing: 13, refused: 0, failed: 0, cancelled: 0 },
      durationMs: 13,
    };
    const errors = deleteAnnotations(report, false).filter((l) => l.startsWith('::error'));
    expect(errors).toHaveLength(10);
    expect(errors.at(-1)).toBe('::error title=packpub delete::4 more errors are not annotated (GitHub shows 10 per step): they are in the log above');
  });
});
