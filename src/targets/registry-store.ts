import { PackpubError } from '../errors.js';
import type { RegistryConnectionOptions } from './options.js';
import type { ArtifactStore } from './types.js';

/** Open a registry as an ArtifactStore (generic distribution; Harbor and ECR add their own behaviour). */
export async function openRegistryStore(_options: RegistryConnectionOptions): Promise<ArtifactStore> {
  throw new PackpubError('INTERNAL', 'registry targets are not implemented yet');
}
