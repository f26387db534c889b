/** The pack model: load and validate Palette pack folders. Re-exports only. */
export {
  DEPENDENCY_TYPES,
  DOCUMENTED_ADDON_TYPES,
  KNOWN_CLOUD_TYPES,
  PACK_FILES,
  PACK_LAYERS,
  RESOURCE_TYPES,
  SCHEDULE_TYPES,
  loadPack,
  readPackJson,
  type LoadedPack,
  type PackDependency,
  type PackJson,
  type PackJsonRead,
  type PackLayer,
  type PackResource,
  type PackResourceComponent,
} from './model.js';
export { validatePack, type ValidateOptions, type ValidationReport } from './validate.js';
export type { Finding } from './findings.js';
export { MAX_PACK_TEXT_BYTES, isInside, resolvePackDir, statInPack, type PackFileStatus } from './files.js';
export { MAX_JSON_DEPTH } from './json-source.js';
export { MAX_YAML_ALIASES, MAX_YAML_ALIAS_EXPANSION, MAX_YAML_DEPTH, MAX_YAML_MERGE_KEYS } from './yaml-source.js';
export { HELM_MAX_CHART_BYTES, MAX_CHART_ENTRIES, MAX_CHART_INFLATED_BYTES } from './chart.js';
export { PACK_JSON_SCHEMA } from './schema.js';
export { PACKS_NAMESPACE, archiveFileName, baseRepository, packNameOf, packRepository } from './naming.js';
