import { EcrClients } from '../aws/ecr-sdk.js';
import { defaultCredentialChain } from '../credentials/default-chain.js';
import type { CredentialProvider } from '../credentials/types.js';
import { PackpubError } from '../errors.js';
import { parseRegistryLocation } from '../oci/reference.js';
import type { ClientDeps } from '../registry/stack.js';
import { OciLayoutStore } from './oci-layout.js';
import type { RegistryConnectionOptions } from './options.js';
import type { ArtifactStore, ReadableStore, WritableStore } from './artifact-store.js';

/** A target an operation only reads from. */
export type ReadableTarget = PackTarget<ReadableStore>;
/** A target an operation publishes to. */
export type WritableTarget = PackTarget<WritableStore>;

/** The store the CLI publishes to when no registry is given. */
export const DEFAULT_OCI_LAYOUT = './oci-packs';

/** A store and where packs live in it; `S` narrows what an operation may do to it (ReadableStore, WritableStore). */
export interface PackTarget<S extends Pick<ArtifactStore, 'kind' | 'location' | 'reference'> = ArtifactStore> {
  store: S;
  /** Base content path below the host ('' for a layout or a registry root). */
  basePath: string;
  /** For messages: `oci-layout ./oci-packs` or `registry harbor.example.com/spectro-oci-registry`. */
  display: string;
}

export interface OpenTargetOptions extends Omit<RegistryConnectionOptions, 'host' | 'credentials'> {
  /** Where credentials come from; when undefined, the default chain (defaultCredentialChain) for this target. */
  credentials?: CredentialProvider;
  /** `HOST[:PORT]/BASE-PATH`; when undefined the OCI layout is used. */
  registry?: string;
  /** OCI layout directory (default ./oci-packs when no registry is given). */
  ociLayout?: string;
}

/**
 * Open the target named by the options: a registry when `registry` is set, else the local OCI layout.
 * This is the one place where a registry target gets its credentials (the default chain unless given) and
 * its HTTP stack (transport, retry, auth; built once by the registry store). `deps` injects a transport
 * or a retry clock (tests, embedders).
 */
export async function openTarget(options: OpenTargetOptions, deps: ClientDeps = {}): Promise<PackTarget> {
  if (options.registry !== undefined && options.ociLayout !== undefined) {
    throw new PackpubError('USAGE', 'give either --registry or --oci-layout, not both');
  }
  if (options.registry === undefined) {
    const dir = options.ociLayout ?? DEFAULT_OCI_LAYOUT;
    return { store: new OciLayoutStore(dir), basePath: '', display: `oci-layout ${dir}` };
  }
  const { host, basePath } = parseRegistryLocation(options.registry);
  const { openRegistryStore } = await import('./registry-store.js');
  // One ECR API client per host flavour for this target, shared by the token provider and the store.
  const ecrClients = options.ecrClients ?? new EcrClients();
  const credentials =
    options.credentials ??
    defaultCredentialChain({
      env: options.env ?? process.env,
      ...(options.ecrEndpoint === undefined ? {} : { ecrEndpoint: options.ecrEndpoint }),
      ...(options.awsProfile === undefined ? {} : { awsProfile: options.awsProfile }),
      ...(options.awsRoleArn === undefined ? {} : { awsRoleArn: options.awsRoleArn }),
      ecr: { clients: ecrClients },
    });
  const store = await openRegistryStore({ ...options, host, credentials, ecrClients }, deps);
  return { store, basePath, display: `registry ${basePath === '' ? host : `${host}/${basePath}`}` };
}
