import type { RegistryConnectionOptions } from './options.js';
import type { ArtifactStore } from './types.js';

/** Open a Harbor registry: the generic store plus project checks and REST listing (filled in by the Harbor work). */
export async function openHarborStore(
  options: RegistryConnectionOptions,
  openGeneric: (options: RegistryConnectionOptions) => Promise<ArtifactStore>,
): Promise<ArtifactStore> {
  return openGeneric(options);
}
