import { checkPackWalk, isAlwaysExcluded, listPackEntries, mayNameAlwaysExcluded, PackFileRefusal, packignoreLeavesOutFile, type PackEntry } from '../archive/walk.js';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { blockingReads } from '../pack/files.js';
import { notArchivableFinding, type Finding } from '../pack/findings.js';
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
  const report = await withNestedPacksSaid(await withNeededFilesKept(await validatePack(dir, options), options.strict), options.strict);
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

/**
 * The files a pack needs, left out of its archive by its .packignore (`*.yaml`, `pack.json`, `manifests/`): validate
 * said OK and push published an archive without them, exit 0 (without pack.json: a tag `pull` refuses as no pack;
 * without values.yaml or a kubeManifests file: a pack Palette cannot deploy). An error at .packignore per file; a warning
 * for a file Palette reads when the pack has one (the logo, README.md, schema.yaml, presets.yaml) that the folder holds.
 * A file pack.json lists under a name every archive leaves out (`manifests/._app.yaml`, a folder `._generated/`: macOS's
 * metadata files start so) was left out the same way, .packignore or not: an error at pack.json (`left-out-of-archive`).
 */
async function withNeededFilesKept(report: ValidationReport, strict: boolean | undefined): Promise<ValidationReport> {
  if (report.pack === undefined) return report;
  // Most packs have no .packignore: one stat, and one look at pack.json's text for a name every archive leaves out.
  const ignoring = existsSync(posix.join(report.dir, '.packignore'));
  let text = '';
  try {
    text = readFileSync(posix.join(report.dir, 'pack.json'), 'utf8');
  } catch {
    // read (and judged) by validatePack already
  }
  if (!ignoring && !mayNameAlwaysExcluded(text)) return report;
  let json: { kubeManifests?: unknown; charts?: unknown } = {};
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    // read (and judged) by validatePack already
  }
  const listed = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
  const needed: Array<[string, string]> = [
    ['pack.json', 'every pack holds one'],
    ['values.yaml', 'every pack holds one'],
    ...listed(json.kubeManifests).map((f): [string, string] => [f, 'pack.json lists it in kubeManifests']),
    ...listed(json.charts).map((f): [string, string] => [f, 'pack.json lists it in charts']),
  ];
  // Files Palette reads when the pack has them, which validate checked in the folder: a warning, as their absence is.
  const optional: Array<[string, string]> = [
    ['logo.png', "Palette shows it as the pack's logo"],
    ['README.md', "Palette shows it as the pack's description"],
    ['schema.yaml', 'Palette asks the values it lists'],
    ['presets.yaml', 'Palette offers its presets'],
  ];
  const found: Finding[] = [];
  for (const [file, why, severity] of [...needed.map(([f, w]) => [f, w, 'error'] as const), ...optional.filter(([f]) => ignoring && existsSync(posix.join(report.dir, f))).map(([f, w]) => [f, w, 'warning'] as const)]) {
    const rel = posix.normalize(file);
    if (rel.startsWith('../') || posix.isAbsolute(rel) || found.some((f) => f.path === rel)) continue;
    const named = rel.split('/').find((part) => isAlwaysExcluded(part));
    if (named !== undefined) {
      found.push({
        severity,
        rule: 'left-out-of-archive',
        file: 'pack.json',
        path: rel,
        message: `${rel} is left out of every archive (packpub leaves out .git, .DS_Store and names starting with "._", macOS's metadata, at any depth: "${named}"), and ${why}: push would publish the pack without it; rename it`,
      });
      continue;
    }
    if (!ignoring || !(await packignoreLeavesOutFile(report.dir, rel))) continue;
    found.push({
      severity,
      rule: 'packignore-leaves-out',
      file: '.packignore',
      path: rel,
      message: `.packignore leaves out ${rel}, which ${severity === 'error' ? `the pack needs (${why})` : `is in the pack folder (${why})`}: push would publish the pack without it; remove the line of .packignore that matches it or a folder it is in`,
    });
  }
  if (found.length === 0) return report;
  const errors = report.errors + found.filter((f) => f.severity === 'error').length;
  const warnings = report.warnings + found.filter((f) => f.severity === 'warning').length;
  return { ...report, findings: [...report.findings, ...found], errors, warnings, passed: errors === 0 && (strict !== true || warnings === 0) };
}

/**
 * A pack folder holding another pack in a folder of its own (`packs/pack.json` left at a tree's root, a pack copied
 * into another): the walk packed the inner pack into the outer one's archive, and `push --recursive` stops at the outer
 * pack, so the inner one was never published on its own, exit 0 (a tree root holding a stray pack.json published that
 * alone). A warning per folder (one level down), unless .packignore leaves it out.
 */
async function withNestedPacksSaid(report: ValidationReport, strict: boolean | undefined): Promise<ValidationReport> {
  if (report.pack === undefined) return report;
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(report.dir, { withFileTypes: true });
  } catch {
    return report; // judged by the walk
  }
  const found: Finding[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith('.') || !existsSync(posix.join(report.dir, entry.name, 'pack.json'))) continue;
    if (await packignoreLeavesOutFile(report.dir, `${entry.name}/pack.json`)) continue;
    found.push({
      severity: 'warning',
      rule: 'nested-pack',
      file: `${entry.name}/pack.json`,
      message: `${entry.name}/ holds a pack of its own: push packs it into this pack's archive, and push --recursive stops at this pack, so it is never published itself; move it out of this pack folder, or list "${entry.name}/" in .packignore`,
    });
  }
  if (found.length === 0) return report;
  const warnings = report.warnings + found.length;
  return { ...report, findings: [...report.findings, ...found], warnings, passed: report.errors === 0 && (strict !== true || warnings === 0) };
}
