/**
 * Where Palette looks for packs: `<host>/<base path>/spectro-packs/archive/<name>:<version>`
 * (palette-packs.md, "Where an OCI pack lives").
 */
export const PACKS_NAMESPACE = 'spectro-packs/archive';

/** The base repository `<base>/spectro-packs/archive` (pushed as an empty artifact on Harbor, created on ECR). */
export function baseRepository(basePath: string): string {
  return basePath === '' ? PACKS_NAMESPACE : `${basePath}/${PACKS_NAMESPACE}`;
}

export function packRepository(basePath: string, name: string): string {
  return `${baseRepository(basePath)}/${name}`;
}

/** The pack name of a repository under the base, or undefined when it is not a pack repository. */
export function packNameOf(basePath: string, repository: string): string | undefined {
  const prefix = `${baseRepository(basePath)}/`;
  if (!repository.startsWith(prefix)) return undefined;
  const name = repository.slice(prefix.length);
  return name === '' ? undefined : name;
}

/** The layer's file name and title, as `tar -czf NAME-VERSION.tar.gz` makes it. */
export function archiveFileName(name: string, version: string): string {
  return `${name}-${version}.tar.gz`;
}
