import { PackpubError } from '../errors.js';
import { parseDigest } from '../oci/digest.js';
import { parsePackRef, parseRegistryLocation, shown, validateRepositoryPath, type PackRef } from '../oci/reference.js';
import { PACKS_NAMESPACE } from '../pack/naming.js';
import type { Args } from './context.js';

/**
 * The pack argument of inspect / pull / tag, in every form packpub itself prints or a user copies:
 * `name:version`, `name@sha256:...`, and the full reference push prints,
 * `host[:port]/base/spectro-packs/archive/name:version` (or `@sha256:...`, or `oci:DIR/spectro-packs/archive/...`
 * for a layout), whose location then names the target.
 */
export interface PackArgument {
  ref: PackRef;
  /** `host[:port]/base` when the argument was a full registry reference. */
  registry?: string;
  /** The layout folder when the argument was an `oci:` reference. */
  ociLayout?: string;
}

export function parsePackArgument(text: string): PackArgument {
  const marker = `/${PACKS_NAMESPACE}/`;
  const at = text.lastIndexOf(marker);
  const location = at === -1 ? undefined : text.slice(0, at);
  // The repository path without its location (`spectro-packs/archive/name:version`, as a registry's UI lists it):
  // the pack of the target the flags name. It was looked up as a pack named "spectro-packs/archive/name".
  const bare = `${PACKS_NAMESPACE}/`;
  const rest = at !== -1 ? text.slice(at + marker.length) : text.startsWith(bare) ? text.slice(bare.length) : text;
  const ref = parseNameAndVersion(rest);
  if (location === undefined) return { ref };
  if (location.startsWith('oci:')) return { ref, ociLayout: location.slice('oci:'.length) || '.' };
  const parsed = parseRegistryLocation(location);
  return { ref, registry: parsed.basePath === '' ? parsed.host : `${parsed.host}/${parsed.basePath}` };
}

function parseNameAndVersion(text: string): PackRef {
  const at = text.indexOf('@');
  if (at === -1) return parsePackRef(text);
  const name = text.slice(0, at);
  if (name === '') throw new PackpubError('USAGE', `"${shown(text)}" names no pack`, { hint: 'write <name>@sha256:<digest>, or <name>:<version>' });
  // `name:version@sha256:...` (as crane and Renovate pin): was "pack name "name:version" has an invalid path component".
  const colon = name.lastIndexOf(':');
  if (colon > name.lastIndexOf('/')) {
    throw new PackpubError('USAGE', `"${shown(text)}" names both a version (${shown(name.slice(colon + 1))}) and a digest: packpub takes one of them`, {
      hint: `write ${shown(name.slice(0, colon))}@${shown(text.slice(at + 1))} for that content, or ${shown(name)} for what the version holds now`,
    });
  }
  validateRepositoryPath(name, 'pack name');
  return { name, version: parseDigest(text.slice(at + 1)) };
}

/**
 * The command's flags with the target the argument names: a full reference chooses the registry or layout
 * (it wins over PACKPUB_REGISTRY); a flag naming another one is a usage error rather than a silent choice.
 */
export function argsForPack(args: Args, pack: PackArgument): Args {
  if (pack.registry === undefined && pack.ociLayout === undefined) return args;
  const named = pack.registry ?? `oci:${pack.ociLayout ?? ''}`;
  const flag = args['registry'] as string | string[] | undefined;
  const layout = args['ociLayout'] as string | undefined;
  const sameRegistry = typeof flag === 'string' && pack.registry !== undefined && flag.replace(/\/+$/, '') === pack.registry;
  const sameLayout = layout !== undefined && pack.ociLayout !== undefined && layout.replace(/\/+$/, '') === pack.ociLayout.replace(/\/+$/, '');
  if ((flag !== undefined && !sameRegistry) || (layout !== undefined && !sameLayout)) {
    throw new PackpubError('USAGE', `the reference names ${named}, but ${flag !== undefined ? `--registry ${String(flag)}` : `--oci-layout ${layout ?? ''}`} names another target`, {
      hint: `drop the flag, or give the reference as ${pack.ref.name}:${pack.ref.version}`,
    });
  }
  return pack.registry !== undefined ? { ...args, registry: pack.registry } : { ...args, ociLayout: pack.ociLayout };
}

/** `./<name>-<version>` for pull; a digest reference gets the first 12 hex digits instead of the version. */
export function defaultPullFolder(ref: PackRef): string {
  return ref.version.startsWith('sha256:') ? `${ref.name}-${ref.version.slice('sha256:'.length, 'sha256:'.length + 12)}` : `${ref.name}-${ref.version}`;
}
