import { checkPackWalk, listPackEntries, PackFileRefusal, type PackEntry } from '../archive/walk.js';
import { blockingReads } from '../pack/files.js';
import { notArchivableFinding } from '../pack/findings.js';
import { validatePack, type ValidateOptions, type ValidationReport } from '../pack/validate.js';

/**
 * validatePack, plus the rules of push's archive walk applied to the whole pack folder (archive/walk.ts
 * checkPackWalk, the walker's own rules): what push would refuse while building the archive (a symlink
 * leaving the pack in an unpacked chart, a fifo, ...) is an error finding here, so a pack that validates
 * is one push can build. This is what `validate`, push's validation pool and buildPack run.
 */
export async function validatePackFolder(dir: string, options: ValidateOptions = {}): Promise<ValidationReport> {
  return (await validateForBuild(dir, options, false)).report;
}

/**
 * validatePackFolder, and with `list`, for a pack that passes, the entries of its archive (listPackEntries,
 * which applies the same rules while it lists; with blocking calls on a thread that reads pack files that
 * way, useBlockingReads): a build of the pack then needs no second walk. The report
 * is validatePackFolder's in every case: when the listing refuses anything, or fails, the check decides.
 */
export async function validateForBuild(dir: string, options: ValidateOptions, list: boolean): Promise<{ report: ValidationReport; entries?: PackEntry[] }> {
  const report = await validatePack(dir, options);
  const walk = report.pack === undefined ? {} : { topFolder: `${report.pack.name}-${report.pack.version}` };
  if (list && report.pack !== undefined && report.errors === 0 && (options.strict !== true || report.warnings === 0)) {
    try {
      return { report, entries: await listPackEntries(report.dir, walk, blockingReads()) };
    } catch {
      // the check below gives the verdict, as without `list`
    }
  }
  try {
    // report.dir is the pack folder's real path (validatePack resolved it).
    await checkPackWalk(report.dir, walk, true);
    return { report };
  } catch (err) {
    if (!(err instanceof PackFileRefusal)) throw err;
    const finding = notArchivableFinding(err.path, err.message, err.hint);
    // Already refused by the check that reads that file (values.yaml or logo.png a link outside the pack): once is enough.
    if (report.findings.some((f) => f.severity === 'error' && f.file === finding.file)) return { report };
    return { report: { ...report, findings: [...report.findings, finding], errors: report.errors + 1, passed: false } };
  }
}
