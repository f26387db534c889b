// The archive module: deterministic streaming tar.gz of a pack folder, and safe extraction.
export { buildArchive, type BuildOptions, type BuildProgress, type BuiltArchive } from './build.js';
export { packChartDirectory, type PackChartOptions, type PackedChart, type OutsideLink } from './chart-package.js';
export { ARCHIVE_FORMAT_VERSION, cachedPackContentKey, contentKeyOf, packContentKey, type ContentKeyOptions, type FileHashCache } from './content-key.js';
export { statTreeHolds, statTreeOf, type StatTree } from './stat-tree.js';
export { EXTRACT_DEFAULTS, extractArchive, safeEntrySegments, type ExtractOptions, type ExtractResult } from './extract.js';
export {
  DEFAULT_BLOCK_SIZE,
  DEFAULT_GZIP_LEVEL,
  GZIP_HEADER,
  gzipBlocks,
  gzipMember,
  gzipMembers,
  type GzipOptions,
} from './gzip.js';
export { DEFAULT_ARCHIVE_MTIME, archiveMtime, tarBytes, type TarOptions } from './tar.js';
export {
  PACKIGNORE_FILE,
  PackFileRefusal,
  WALK_DEFAULTS,
  checkPackWalk,
  compareArchivePaths,
  isAlwaysExcluded,
  listPackEntries,
  normaliseMode,
  rootSignature,
  statSignature,
  type PackEntry,
  type PackEntryType,
  type WalkOptions,
} from './walk.js';
