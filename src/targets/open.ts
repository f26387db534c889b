import { PackpubError } from '../errors.js';
import { parseRegistryLocation } from '../oci/reference.js';
import { OciLayoutStore } from './oci-layout.js';
import type { RegistryConnectionOptions } from './options.js';
import type { ArtifactStore } from './artifact-store.js';

/** The store the CLI publishes to when no registry is given. */
export const DEFAULT_OCI_LAYOUT = './oci-packs';

export interface PackTarget {
  store: ArtifactStore;
  /** Base content path below the host ('' for a layout or a registry root). */
  basePath: string;
  /** For messages: `oci-layout ./oci-packs` or `registry harbor.example.com/spectro-oci-registry`. */
  display: string;
}

export interface OpenTargetOptions extends Omit<RegistryConnectionOptions, 'host'> {
  /** `HOST[:PORT]/BASE-PATH`; when undefined the OCI layout is used. */
  registry?: string;
  /** OCI layout directory (default ./oci-packs when no registry is given). */
  ociLayout?: string;
}

/** Open the target named by the options: a registry when `registry` is set, else the local OCI layout. */
export async function openTarget(options: OpenTargetOptions): Promise<PackTarget> {
  if (options.registry !== undefined && options.ociLayout !== undefined) {
    throw new PackpubError('USAGE', 'give either --registry or --oci-layout, not both');
  }
  if (options.registry === undefined) {
    const dir = options.ociLayout ?? DEFAULT_OCI_LAYOUT;
    return { store: new OciLayoutStore(dir), basePath: '', display: `oci-layout ${dir}` };
  }
  const { host, basePath } = parseRegistryLocation(options.registry);
  const { openRegistryStore } = await import('./registry-store.js');
  const store = await openRegistryStore({ ...options, host });
  return { store, basePath, display: `registry ${basePath === '' ? host : `${host}/${basePath}`}` };
}
