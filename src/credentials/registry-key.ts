/*
 * How Docker names a registry in its config and to its credential helpers: a key or server URL may carry a
 * scheme and a path (`https://host:5000/v1/`); Docker Hub has several names. Shared by the Docker config and
 * the credential helper protocol (which checks that a helper answered for the server it was asked about).
 */

import { DOCKER_HUB_NAMES, isDockerHubHost } from '../oci/reference.js';

export { isDockerHubHost };

/** `https://host:5000/v1/` -> `host:5000`; Docker Hub's names -> `docker.io`; lowercased. */
export function normalizeRegistryKey(key: string): string {
  const host = key.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').split('/')[0] ?? '';
  const lower = host.toLowerCase();
  return DOCKER_HUB_NAMES.has(lower) ? 'docker.io' : lower;
}
