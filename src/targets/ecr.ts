import type { RegistryConnectionOptions } from './options.js';
import type { ArtifactStore } from './types.js';

/** Open an ECR registry: the generic store plus repository creation and API listing (filled in by the ECR work). */
export async function openEcrStore(
  options: RegistryConnectionOptions,
  openGeneric: (options: RegistryConnectionOptions) => Promise<ArtifactStore>,
): Promise<ArtifactStore> {
  return openGeneric(options);
}
