/**
 * packpub as a library: everything the CLI does is a typed function here.
 *
 *   import { openTarget, pushPacks, discoverPacks } from 'packpub';
 *   const target = await openTarget({ registry: 'harbor.example.com/spectro-oci-registry' });
 *   const report = await pushPacks(target, { packs: await discoverPacks(['packs/'], { recursive: true }) });
 *   await target.store.close();
 */
export { PackpubError, isPackpubError, type ErrorCode, type PackpubErrorOptions } from './errors.js';

// OCI model (no I/O)
export { DigestStream, isDigest, parseDigest, sha256Digest, type Digest } from './oci/digest.js';
export {
  EMPTY_CONFIG,
  createdTime,
  emptyArtifactManifest,
  formatCreated,
  packLayer,
  packManifest,
  parseManifest,
  serializeManifest,
  type Descriptor,
  type ImageManifest,
  type PackManifestInput,
} from './oci/manifest.js';
export * from './oci/media-types.js';
export {
  formatReference,
  isValidTag,
  parsePackRef,
  parseRegistryLocation,
  validateRepositoryPath,
  validateTag,
  type PackRef,
  type RegistryLocation,
} from './oci/reference.js';

// Packs and archives
export * from './pack/index.js';
export * from './archive/index.js';

// Targets: where packs live
export { DEFAULT_OCI_LAYOUT, type OpenTargetOptions, type PackTarget, type ReadableTarget, type WritableTarget } from './targets/open.js';
export type { ArtifactStore, DeletableStore, DeleteScope, DeleteTagRequest, FetchedManifest, ReadableStore, StoreKind, WritableStore } from './targets/artifact-store.js';
export type { EcrRepositoryOptions, RegistryConnectionOptions, RegistryType, RetryOptions } from './targets/options.js';
export { OciLayoutStore } from './targets/oci-layout.js';
export { openGenericRegistryStore, openRegistryStore } from './targets/registry-store.js';

// The distribution client
export { RegistryClient, type ClientDeps, type RegistryClientOptions } from './registry/client.js';
export type { RetryClock } from './registry/retry.js';
export { RegistryError, isRegistryError } from './registry/errors.js';
export { redactUrl } from './util/redact.js';

// Credentials
export { ANONYMOUS, type Credential, type CredentialProvider } from './credentials/types.js';
export { chainProviders, staticProvider } from './credentials/chain.js';
export { defaultCredentialChain, type DefaultChainOptions } from './credentials/default-chain.js';
export { dockerConfigProvider, dockerConfigPath, readDockerConfig, updateDockerConfig } from './credentials/docker-config.js';
export { ecrCredentialProvider } from './credentials/ecr-token.js';
export { isEcrHost, parseEcrHost, type EcrHost } from './aws/ecr-host.js';

// Operations
// The operations a program calls, each checking its arguments first (a misspelt or mistyped option: a USAGE error).
export {
  applyDelete,
  buildPack,
  copyPacks,
  discoverPacks,
  initPack,
  inspectPack,
  ListenerFailed,
  listPacks,
  login,
  logout,
  openTarget,
  paletteDoctor,
  planDelete,
  pullPack,
  pushPacks,
  paletteRegistryBeforePublish,
  planPaletteSync,
  registerPaletteRegistry,
  resolvePaletteRegistry,
  syncPaletteRegistry,
  tagPack,
  validatePack,
} from './operations/checked.js';
export { type PushOptions } from './operations/push.js';
export { defaultConcurrency, ensureBaseRepository } from './operations/publish.js';
export { parseShard, type DiscoverOptions } from './operations/discover.js';
export { PackInvalidError, type BuildOptions as BuildPackOptions, type BuildResult } from './operations/build.js';
// validatePack (operations/checked.ts) is the pack checks plus the rules of push's archive walk (what `packpub validate`
// runs): it takes the place of pack/'s validatePack, which checks only what it reads, so that a pack that validates is
// one push can build.
export { sortVersions, type ListLimits, type ListOptions, type ListedPack, type ListedVersion } from './operations/list.js';
export { type InspectResult } from './operations/inspect.js';
export { type PullOptions, type PullResult } from './operations/pull.js';
export { type TagResult } from './operations/tag.js';
export {
  deleteReportOf,
  deleteSucceeded,
  PALETTE_DELETE_WARNING,
  type DeleteOptions,
  type DeletePlan,
  type DeleteReport,
  type DeleteResult,
  type DeleteStatus,
  type DeleteSummary,
} from './operations/delete.js';
export { ArchiveCache, defaultCacheDir } from './operations/archive-cache.js';
// What the CLI's exit code 0 means for a push (no pack invalid, conflicting or failed, not aborted): pushPacks
// resolves with a report whatever the packs' outcome, so this is the check a program makes.
export { pushSucceeded } from './operations/push-report.js';
export type { EventSink, PackResult, PackStatus, PlannedAction, PushEvent, PushReport, PushSummary } from './operations/push-report.js';
export * from './config/index.js';
export {
  copySucceeded,
  summarizeCopy,
  type CopyEvent,
  type CopyEventSink,
  type CopyOptions,
  type CopyReport,
  type CopyResult,
  type CopyStatus,
  type CopySummary,
} from './operations/copy.js';

// Authoring
export { type InitChart, type InitOptions, type InitResult } from './operations/init.js';
export { deepCheckPack, type DeepCheckInput } from './pack/deep-checks.js';
export { missingDependencies, readChart, subchartValueKeys, type ChartError, type ChartProblem, type HelmChart } from './pack/chart.js';
export { packChartDirectory } from './archive/chart-package.js';
export { findImages, type FoundImage } from './pack/chart-images.js';
export { encodePngRgb, placeholderLogo } from './pack/logo.js';

// Palette: the closed loop after publishing (README "After publishing: Palette")
export { PaletteClient, type PaletteClientOptions } from './palette/client.js';
export { DEFAULT_PALETTE_POLL_MS, DEFAULT_PALETTE_TIMEOUT_MS, PALETTE_ENV, PALETTE_SAAS_ENDPOINT, paletteBaseUrl } from './palette/endpoint.js';
export type { PaletteRegistryFlavour, PaletteSyncStatus } from './palette/types.js';
export {
  isNotVisible,
  PaletteSyncStopped,
  palettePacksFromPush,
  paletteRegistrySpec,
  paletteSyncOptionsFromPush,
  type PackValuesKind,
  type PalettePackRef,
  type PalettePackVisibility,
  type PaletteRegistryCredentials,
  type PaletteRunStatus,
  type PaletteSyncEvent,
  type PaletteSyncOptions,
  type PaletteSyncReport,
  type PaletteTargetRef,
  type RegisterOptions,
  type RegisterResult,
  type ResolveOptions,
  type ResolvedPaletteRegistry,
} from './operations/palette.js';
export { paletteSettings, type DoctorFinding, type DoctorOptions, type DoctorReport, type PaletteSettings } from './operations/palette-doctor.js';
