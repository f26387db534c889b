import { PackpubError } from '../errors.js';

/*
 * Reference grammar from distribution/reference (regexp.go) and the OCI distribution spec:
 *   path-component := [a-z0-9]+ (separator [a-z0-9]+)*   separator := [._] | __ | -+
 *   tag            := [\w][\w.-]{0,127}
 *   domain         := host components joined by '.', optional :port; or a bracketed IPv6 literal
 * A full repository name (without the host) is at most 255 characters.
 */
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DOMAIN_COMPONENT_RE = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const IPV6_RE = /^\[[0-9a-fA-F:.]+\]$/;
const MAX_REPOSITORY_LENGTH = 255;

/** User input as it may appear in a message: control characters (newlines, escape sequences) shown as U+XXXX. */
export function shown(value: string): string {
  return value.replace(/[\u0000-\u001f\u007f]/g, (c) => `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
}

export function isValidTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

export function validateTag(tag: string, what = 'tag'): string {
  if (!isValidTag(tag)) {
    const why =
      tag.length === 0
        ? 'it is empty'
        : tag.length > 128
          ? `it is ${tag.length} characters long (at most 128)`
          : /^[.-]/.test(tag)
            ? `it starts with "${shown(tag[0] ?? '')}"`
            : `"${shown([...tag].find((c) => !/[A-Za-z0-9_.-]/.test(c)) ?? '')}" is not allowed`;
    throw new PackpubError('REFERENCE', `${what} "${shown(tag)}" is not a valid OCI tag: ${why}`, {
      hint: 'tags use letters, digits, "_", "." and "-", start with a letter, digit or "_", and are at most 128 characters (no "+build")',
    });
  }
  return tag;
}

/**
 * Repository paths already found valid in this process: a push asks about each pack's repository several
 * times (its look-up, its push, the client's URL), ~10 k instructions each while the code is still cold.
 * Only valid paths are kept (an invalid one is checked, and reported, every time); bounded.
 */
const validPaths = new Set<string>();
const MAX_VALID_PATHS = 10_000;

/** Validate a repository path (components joined by '/'); `what` names it in the message. */
export function validateRepositoryPath(path: string, what = 'repository'): string {
  if (validPaths.has(path)) return path;
  if (path.length > MAX_REPOSITORY_LENGTH) {
    throw new PackpubError('REFERENCE', `${what} "${shown(path)}" is ${path.length} characters long (at most ${MAX_REPOSITORY_LENGTH})`);
  }
  for (const component of path.split('/')) {
    if (!PATH_COMPONENT_RE.test(component)) {
      const hint =
        component === ''
          ? 'remove the empty path segment (a doubled or trailing "/")'
          : component !== component.toLowerCase() && PATH_COMPONENT_RE.test(component.toLowerCase())
            ? `use lowercase: "${shown(component.toLowerCase())}"`
            : 'path components use lowercase letters and digits separated by ".", "_", "__" or "-"';
      throw new PackpubError('REFERENCE', `${what} "${shown(path)}" has an invalid path component "${shown(component)}"`, { hint });
    }
  }
  if (validPaths.size < MAX_VALID_PATHS) validPaths.add(path);
  return path;
}

export function isValidRepositoryPath(path: string): boolean {
  try {
    validateRepositoryPath(path);
    return true;
  } catch {
    return false;
  }
}

/** Validate `host[:port]` (a DNS name, IPv4, or bracketed IPv6, with an optional port). */
export function validateHost(host: string): string {
  const bad = (why: string): never => {
    throw new PackpubError('REFERENCE', `registry host "${shown(host)}" is not valid: ${why}`, {
      hint: 'give the registry as HOST[:PORT]/BASE-PATH, e.g. harbor.example.com/spectro-oci-registry',
    });
  };
  if (host === '') bad('it is empty');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(host)) bad('leave out the URL scheme (use --plain-http for HTTP)');
  let name = host;
  const portMatch = /^(.*):(\d+)$/.exec(host);
  if (portMatch !== null && !(host.startsWith('[') && !host.includes(']:'))) {
    name = portMatch[1] ?? '';
    const port = Number(portMatch[2]);
    if (port < 1 || port > 65535) bad(`port ${portMatch[2]} is out of range`);
  } else if (/:[^\]]*$/.test(host) && !host.startsWith('[')) {
    bad('the port is not a number');
  }
  if (IPV6_RE.test(name)) return host;
  for (const part of name.split('.')) {
    if (!DOMAIN_COMPONENT_RE.test(part)) bad(`"${shown(part)}" is not a valid host name label`);
  }
  return host;
}

/**
 * Whether `image` is a container image reference as Docker and containerd read it (distribution/reference's
 * grammar): `[HOST[:PORT]/]PATH[:TAG][@ALGORITHM:HEX]`, the first segment a host when it holds "." or ":" or a
 * capital, or is `localhost` (as Docker's normalize.go tells one), each path component lowercase. Nothing that holds a space, a line break or another character
 * outside the grammar is one.
 */
export function isImageReference(image: string): boolean {
  let rest = image;
  const at = rest.indexOf('@');
  if (at >= 0) {
    if (!/^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/.test(rest.slice(at + 1))) return false;
    rest = rest.slice(0, at);
  }
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  // A registry host as Docker's normalize.go (splitDockerDomain) tells one: ".", ":", "localhost", or a capital.
  if (first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost' || first.toLowerCase() !== first)) {
    try {
      validateHost(first);
    } catch {
      return false;
    }
    rest = rest.slice(slash + 1);
  }
  const colon = rest.indexOf(':');
  if (colon >= 0) {
    if (!TAG_RE.test(rest.slice(colon + 1))) return false;
    rest = rest.slice(0, colon);
  }
  return rest.length > 0 && rest.length <= MAX_REPOSITORY_LENGTH && rest.split('/').every((c) => PATH_COMPONENT_RE.test(c));
}

/** Host without port, lowercased; brackets kept for IPv6. */
export function hostName(host: string): string {
  const m = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(host);
  return (m?.[1] ?? host).toLowerCase();
}

/** Docker Hub's registry names (Docker's config and helpers file them all under one key). */
export const DOCKER_HUB_NAMES: ReadonlySet<string> = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** Whether a registry host (with or without a port) is one of Docker Hub's names. */
export function isDockerHubHost(host: string): boolean {
  return DOCKER_HUB_NAMES.has(hostName(host));
}

/** True for hosts ORAS talks to over plain HTTP by default (localhost and loopback). */
export function isLoopbackHost(host: string): boolean {
  const name = hostName(host);
  return name === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(name) || name === '[::1]';
}

export interface RegistryLocation {
  /** `host[:port]` */
  host: string;
  /** Path below the host, possibly empty, without leading or trailing '/'. */
  basePath: string;
}

/**
 * Parse `--registry HOST[:PORT]/BASE-PATH`; `plainHttpFlag` is the setting a hint names where the registry was
 * written (copy: `--from-plain-http`; packpub.yaml: `targets.<name>.tls.plainHttp: true`).
 */
export function parseRegistryLocation(spec: string, plainHttpFlag = '--plain-http'): RegistryLocation {
  const trimmed = spec.trim().replace(/\/+$/, '');
  const withoutScheme = trimmed.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  // user:password@host: never echo it (it would print the password), and never use it.
  if (withoutScheme.split('/')[0]?.includes('@')) {
    throw new PackpubError('REFERENCE', 'the registry must not carry credentials (user@host or user:password@host)', {
      hint: 'give HOST[:PORT]/BASE-PATH, and credentials with --username and --password-stdin, or packpub login',
    });
  }
  if (withoutScheme !== trimmed) {
    throw new PackpubError('REFERENCE', `registry "${shown(spec)}" must not include a URL scheme`, {
      hint: `use "${shown(withoutScheme)}" (add ${plainHttpFlag} for an HTTP registry)`,
    });
  }
  const slash = trimmed.indexOf('/');
  const host = slash === -1 ? trimmed : trimmed.slice(0, slash);
  const basePath = slash === -1 ? '' : trimmed.slice(slash + 1);
  validateHost(host);
  if (basePath !== '') validateRepositoryPath(basePath, 'base path');
  return { host, basePath };
}

export interface PackRef {
  name: string;
  version: string;
}

/** Parse `<name>:<version>` as given to tag / inspect / pull. */
export function parsePackRef(ref: string): PackRef {
  const colon = ref.lastIndexOf(':');
  if (colon <= 0 || colon === ref.length - 1) {
    throw new PackpubError('USAGE', `"${shown(ref)}" is not a pack reference`, { hint: 'write it as <name>:<version>, e.g. hello-universe:1.2.0' });
  }
  const name = ref.slice(0, colon);
  const version = ref.slice(colon + 1);
  validateRepositoryPath(name, 'pack name');
  validateTag(version, 'pack version');
  return { name, version };
}

/** `host/repo:tag` for display. */
export function formatReference(host: string, repository: string, tag?: string): string {
  const base = host === '' ? repository : `${host}/${repository}`;
  return tag === undefined ? base : `${base}:${tag}`;
}
