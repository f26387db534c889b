import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { archiveMtime, buildArchive } from '../archive/index.js';
import { ARCHIVE_THROUGH } from '../archive/build.js';
import { folderCheck } from '../archive/stat-tree.js';
import { PackpubError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { createdTime, packManifest, serializeManifest } from '../oci/manifest.js';
import { sha256Digest } from '../oci/digest.js';
import { archiveFileName, packRepository } from '../pack/naming.js';
import type { ValidationReport } from '../pack/validate.js';
import type { ValidationReportLike } from './push-report.js';
import { validatePackFolder } from './validate-folder.js';
import { shellWord } from '../util/shell-word.js';
import { localWriteError, makeDirs, outputPlace, removeDeadTempsOf, removeMadeFolders, removeOwnTempsOf } from '../util/fs.js';

/** A temp file of a build killed before its rename (build -o), left this long ago by a process that is gone, is removed. */
const TEMP_LEFT_MS = 10 * 60_000;

export interface BuildOptions {
  /** Output archive path (default `<name>-<version>.tar.gz` in `outDir`). */
  outFile?: string;
  /** Folder the default-named archive goes to when no `outFile` is given (default `cwd`). */
  outDir?: string;
  /** Folder a relative pack `dir` and `outFile` are read from, and the default archive is placed in (default the process's working directory). */
  cwd?: string;
  strict?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Host and base path the reference is shown for (default: the local OCI layout naming). */
  referenceFor?: (repository: string, tag: string) => string;
  basePath?: string;
}

export interface BuildResult {
  name: string;
  version: string;
  archive: { path: string; fileName: string; digest: Digest; size: number; entries: number; uncompressedSize: number };
  manifest: { digest: Digest; size: number; bytes: Buffer };
  reference: string;
  validation: ValidationReportLike;
}

/** A pack `buildPack` refuses because it does not pass validation; `report` holds every finding (the CLI annotates them). */
export class PackInvalidError extends PackpubError {
  readonly report: ValidationReport;

  constructor(message: string, hint: string, report: ValidationReport) {
    super('PACK_INVALID', message, { hint });
    this.report = report;
  }
}

/** Validate a pack and write its deterministic archive; compute the manifest a push would write. */
export async function buildPack(dir: string, options: BuildOptions = {}): Promise<BuildResult> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const packDir = resolve(cwd, dir);
  const checked = folderCheck(packDir);
  const validation = await validatePackFolder(packDir, { strict: options.strict === true });
  if (validation.errors > 0 || validation.pack === undefined || (options.strict === true && validation.warnings > 0)) {
    // The first finding that fails it, where it is: a CI log (an ::error in GitHub) says why without a second command.
    const failing = validation.findings.filter((f) => f.severity === 'error' || (options.strict === true && f.severity === 'warning'));
    const first = failing[0];
    const where = first === undefined ? '' : [first.file, first.line, first.column].filter((x) => x !== undefined).join(':');
    const why = first === undefined ? '' : `: ${where}${first.path === undefined ? '' : ` ${first.path}`}: ${first.message}${failing.length > 1 ? ` (and ${failing.length - 1} more)` : ''}`;
    throw new PackInvalidError(`${dir} is not a valid pack (${validation.errors} error(s), ${validation.warnings} warning(s))${why}`, `run: packpub validate ${shellWord(dir)}`, validation);
  }
  const { name, version } = validation.pack;
  const fileName = archiveFileName(name, version);
  const outFile = resolve(cwd, options.outFile ?? join(options.outDir ?? '.', fileName));
  const mtime = archiveMtime(env);
  // A build killed while it wrote (SIGKILL, a cancelled job) left its temp file, up to the archive's size, beside the
  // file (or in the temp folder, for a pipe or device) for good: the next build wrote under another name.
  const place = await outputPlace(outFile);
  const temp = place.special ? join(tmpdir(), ARCHIVE_THROUGH) : place.path;
  await removeDeadTempsOf(temp, TEMP_LEFT_MS);
  // The folders -o names that are not there yet are made here, so that a build that fails (a full disk) or is interrupted
  // leaves none of them behind (`-o new/deeper/x.tgz`: new/deeper/ was left, empty).
  const made = place.special ? undefined : await makeDirs(dirname(place.path)).catch((err: unknown) => Promise.reject(localWriteError(err, outFile)));
  // A build interrupted (Ctrl-C, SIGTERM: the CLI ends through process.exit) left its temp file too, in flight.
  const removeTemp = () => {
    removeOwnTempsOf(temp);
    removeMadeFolders(made, dirname(temp));
  };
  process.once('exit', removeTemp);
  const archive = await buildArchive(packDir, outFile, { name, version, mtime, checked })
    .catch((err: unknown) => {
      removeMadeFolders(made, dirname(temp));
      throw err;
    })
    .finally(() => process.off('exit', removeTemp));
  const bytes = serializeManifest(
    packManifest({ layer: { digest: archive.digest, size: archive.size }, title: fileName, created: createdTime(env) }),
  );
  const repository = packRepository(options.basePath ?? '', name);
  // The archive as BuildResult declares it: buildArchive's record also carries push's cache records (members,
  // content key, the folder's stat tree), which are no part of build's result (nor of `build --json`).
  const { path, digest, size, entries, uncompressedSize } = archive;
  return {
    name,
    version,
    archive: { path, fileName, digest, size, entries, uncompressedSize },
    manifest: { digest: sha256Digest(bytes), size: bytes.length, bytes },
    reference: options.referenceFor?.(repository, version) ?? `${repository}:${version}`,
    validation,
  };
}
