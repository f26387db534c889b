/** packpub.yaml: loading, checking, and turning named targets into target options. Re-exports only. */
export { MAX_CONFIG_BYTES, loadConfig, type LoadConfigOptions, type LoadedConfig } from './load.js';
export { CONFIG_FILE_NAMES, CONFIG_SCHEMA, CONFIG_VERSION, type ConfigDefaults, type ConfigTarget, type PackpubConfig } from './schema.js';
export {
  configTargetOptions,
  defaultTargetNames,
  fileCredential,
  getConfigTarget,
  hasEnvCredentials,
  type TargetOverrides,
} from './targets.js';
export { targetCredentials, type TargetCredentialOptions } from './credentials.js';
