import type { EcrRepositoryOptions, RegistryType } from '../targets/options.js';

/** File names looked for in the working directory, in this order. */
export const CONFIG_FILE_NAMES = ['packpub.yaml', 'packpub.yml'] as const;

/** The only format version so far; a file may say `version: 1` or leave it out. */
export const CONFIG_VERSION = 1;

/** A named target in `packpub.yaml`: a registry, or a local OCI layout. */
export interface ConfigTarget {
  /** `HOST[:PORT]/BASE-PATH`, as `--registry`. */
  registry?: string;
  /** A local OCI image layout directory, as `--oci-layout` (made absolute against the file's folder). */
  ociLayout?: string;
  /** As `--registry-type`; default: ecr for ECR host names, else generic. */
  type?: RegistryType;
  auth?: {
    username?: string;
    /** Name of the environment variable holding the password or token (never the password itself). */
    passwordEnv?: string;
    /** A Docker config.json to read credentials from (made absolute against the file's folder). */
    registryConfig?: string;
    allowCrossHostAuth?: boolean;
  };
  tls?: {
    plainHttp?: boolean;
    /** PEM file (made absolute against the file's folder). */
    caFile?: string;
    insecure?: boolean;
    /** mTLS client certificate and its key, PEM (made absolute against the file's folder); both or neither. */
    certFile?: string;
    keyFile?: string;
  };
  /** curl-style `HOST:PORT:ADDRESS`, as `--resolve`. */
  resolve?: string[];
  ecr?: {
    createRepositories?: boolean;
    tagMutability?: NonNullable<EcrRepositoryOptions['tagMutability']>;
    /** Wildcard tag filters of a *_WITH_EXCLUSION tagMutability, as --ecr-tag-mutability-exclusion. */
    tagMutabilityExclusions?: string[];
    encryption?: NonNullable<EcrRepositoryOptions['encryption']>;
    kmsKey?: string;
    tags?: Record<string, string>;
    awsProfile?: string;
    awsRoleArn?: string;
    /** ECR API endpoint URL, as `--ecr-endpoint`. */
    endpoint?: string;
  };
  harbor?: {
    createProject?: boolean;
  };
  /** The Palette that uses this target's packs (`palette` commands, `push --palette-sync`). */
  palette?: ConfigPalette;
}

/** Where a target's packs show up in Palette. The API key itself is never in the file. */
export interface ConfigPalette {
  /** Palette API host or URL, as --palette-endpoint (default: SPECTROCLOUD_HOST, else the SaaS API). */
  endpoint?: string;
  /** Name or uid of the Palette registry serving the target, as --palette-registry. */
  registry?: string;
  /** Project uid for pack reads, as --palette-project. */
  project?: string;
  /** Environment variable holding the API key (default SPECTROCLOUD_APIKEY). */
  apiKeyEnv?: string;
  /** PEM CA of a self-hosted Palette (made absolute against the file's folder). */
  caFile?: string;
}

/** Settings a run uses when neither a flag nor the environment gives them. */
export interface ConfigDefaults {
  /** Target name(s) used when no --target / --registry / --oci-layout / PACKPUB_REGISTRY is given. */
  target?: string | string[];
  concurrency?: number;
  strict?: boolean;
  continueOnError?: boolean;
  failFast?: boolean;
  skipExisting?: boolean;
}

/** `packpub.yaml`, after validation, with relative paths made absolute. */
export interface PackpubConfig {
  version?: number;
  targets?: Record<string, ConfigTarget>;
  /** Pack folders, roots or globs pushed when `push` gets no pack arguments (absolute after loading). */
  packs?: string[];
  /** Search the `packs` roots for pack.json folders, as `--recursive`. */
  recursive?: boolean;
  defaults?: ConfigDefaults;
}

const str = { type: 'string', minLength: 1 } as const;
const bool = { type: 'boolean' } as const;

/** Target names are what users type after --target: keep them plain. */
export const TARGET_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$';
/** POSIX environment variable names. */
export const ENV_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';

const TARGET_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    registry: str,
    ociLayout: str,
    type: { enum: ['generic', 'harbor', 'ecr'] },
    auth: {
      type: 'object',
      additionalProperties: false,
      properties: {
        username: str,
        passwordEnv: { type: 'string', pattern: ENV_NAME_PATTERN },
        registryConfig: str,
        allowCrossHostAuth: bool,
      },
    },
    tls: {
      type: 'object',
      additionalProperties: false,
      properties: { plainHttp: bool, caFile: str, insecure: bool, certFile: str, keyFile: str },
    },
    resolve: { type: 'array', items: { type: 'string', pattern: '^[^:]+:\\d+:.+$' } },
    ecr: {
      type: 'object',
      additionalProperties: false,
      properties: {
        createRepositories: bool,
        tagMutability: { enum: ['MUTABLE', 'IMMUTABLE', 'MUTABLE_WITH_EXCLUSION', 'IMMUTABLE_WITH_EXCLUSION'] },
        // ECR's ImageTagMutabilityExclusionFilter (API reference): 1 to 5 WILDCARD filters.
        tagMutabilityExclusions: { type: 'array', minItems: 1, maxItems: 5, items: { type: 'string', pattern: '^[0-9a-zA-Z._*-]{1,128}$' } },
        encryption: { enum: ['AES256', 'KMS', 'KMS_DSSE'] },
        kmsKey: str,
        tags: { type: 'object', additionalProperties: { type: 'string' } },
        awsProfile: str,
        awsRoleArn: str,
        endpoint: str,
      },
    },
    harbor: {
      type: 'object',
      additionalProperties: false,
      properties: { createProject: bool },
    },
    palette: {
      type: 'object',
      additionalProperties: false,
      properties: { endpoint: str, registry: str, project: str, apiKeyEnv: { type: 'string', pattern: ENV_NAME_PATTERN }, caFile: str },
    },
  },
} as const;

/** JSON Schema (draft-07, ajv's default) of packpub.yaml. Unknown keys are errors at every level. */
export const CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    version: { type: 'integer' },
    targets: {
      type: 'object',
      propertyNames: { pattern: TARGET_NAME_PATTERN },
      additionalProperties: TARGET_SCHEMA,
    },
    packs: { type: 'array', items: str },
    recursive: bool,
    defaults: {
      type: 'object',
      additionalProperties: false,
      properties: {
        target: { anyOf: [{ type: 'string', pattern: TARGET_NAME_PATTERN }, { type: 'array', items: { type: 'string', pattern: TARGET_NAME_PATTERN }, minItems: 1 }] },
        concurrency: { type: 'integer', minimum: 1, maximum: 64 },
        strict: bool,
        continueOnError: bool,
        failFast: bool,
        skipExisting: bool,
      },
    },
  },
} as const;

/** Known keys per level, for "did you mean" hints. Keyed by the schema path with `*` for map entries. */
export function knownKeys(path: readonly (string | number)[]): string[] {
  // Walk the schema alongside the path: under `targets`, any name maps to the target schema.
  let node: Record<string, unknown> | undefined = CONFIG_SCHEMA as unknown as Record<string, unknown>;
  for (const segment of path) {
    if (node === undefined) return [];
    const props = node['properties'] as Record<string, Record<string, unknown>> | undefined;
    if (props !== undefined && typeof segment === 'string' && props[segment] !== undefined) node = props[segment];
    else if (typeof node['additionalProperties'] === 'object') node = node['additionalProperties'] as Record<string, unknown>;
    else return [];
  }
  const props = node?.['properties'] as Record<string, unknown> | undefined;
  return props === undefined ? [] : Object.keys(props);
}
