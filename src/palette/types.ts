/*
 * The part of Palette's API (4.8) packpub uses, as TypeScript shapes. Field names follow the OpenAPI spec
 * (schemas v1OciRegistries, v1BasicOciRegistry, v1EcrRegistry, v1RegistrySyncStatus, v1PackTagEntity);
 * only the fields packpub reads or sends are listed.
 */

/** Palette's two OCI registry flavours; every per-registry path carries one (`/basic` or `/ecr`). */
export type PaletteRegistryFlavour = 'basic' | 'ecr';

/** One item of `GET /v1/registries/oci/summary`. It has no baseContentPath: read the registry itself for that. */
export interface PaletteRegistrySummary {
  metadata: { uid: string; name: string };
  spec: {
    endpoint?: string;
    providerType?: string;
    registryType?: string;
    isPrivate?: boolean;
    defaultRegion?: string;
    scope?: string;
  };
  status?: { sync?: PaletteSyncStatus };
}

export interface PaletteTls {
  enabled?: boolean;
  insecureSkipVerify?: boolean;
  ca?: string;
  certificate?: string;
  key?: string;
}

export interface PaletteBasicSpec {
  endpoint: string;
  baseContentPath?: string;
  providerType?: 'helm' | 'zarf' | 'pack';
  isSyncSupported?: boolean;
  basePath?: string;
  auth: { type: 'noAuth' | 'basic' | 'token'; username?: string; password?: string; token?: string; tls?: PaletteTls };
}

export interface PaletteEcrCredentials {
  credentialType?: 'secret' | 'sts' | 'pod-identity';
  accessKey?: string;
  secretKey?: string;
  sts?: { arn: string; externalId?: string };
}

export interface PaletteEcrSpec {
  endpoint: string;
  isPrivate: boolean;
  baseContentPath?: string;
  providerType?: 'helm' | 'pack' | 'zarf';
  isSyncSupported?: boolean;
  defaultRegion?: string;
  tls?: PaletteTls;
  credentials?: PaletteEcrCredentials;
}

export type PaletteRegistrySpec = PaletteBasicSpec | PaletteEcrSpec;

/** `GET /v1/registries/oci/{uid}/basic|ecr`: note `status.syncStatus` here against `status.sync` in the summary. */
export interface PaletteRegistry {
  metadata: { uid?: string; name: string };
  spec: PaletteBasicSpec | PaletteEcrSpec;
  status?: { syncStatus?: PaletteSyncStatus };
}

export interface PaletteSyncStatus {
  status?: string;
  message?: string;
  lastRunTime?: string;
  lastSyncedTime?: string;
  isSyncSupported?: boolean;
}

/** `GET /v1/packs/{name}/registries/{uid}`. */
export interface PalettePackTags {
  name?: string;
  registryUid?: string;
  tags?: { tag?: string; version?: string; packUid?: string }[];
  packValues?: { packUid?: string; values?: string }[];
}

/** Palette's error body (v1Error). */
export interface PaletteErrorBody {
  code?: string;
  message?: string;
  details?: unknown;
  ref?: string;
}

/**
 * Sync states as Terraform's provider maps them (case-insensitive): the spec lists no values
 * (palette-api.md 2(f)).
 */
export type SyncPhase = 'done' | 'failed' | 'running' | 'pending';

/** Whether a sync status is one of the words Terraform's provider maps (syncPhase), not one read as pending for want of knowing it. */
export function isKnownSyncStatus(status: string | undefined): boolean {
  return ['', 'success', 'completed', 'failed', 'error', 'inprogress', 'running', 'syncing', 'pending', 'unknown'].includes((status ?? '').toLowerCase());
}

export function syncPhase(status: string | undefined): SyncPhase {
  switch ((status ?? '').toLowerCase()) {
    case 'success':
    case 'completed':
      return 'done';
    case 'failed':
    case 'error':
      return 'failed';
    case 'inprogress':
    case 'running':
    case 'syncing':
      return 'running';
    default:
      return 'pending';
  }
}
