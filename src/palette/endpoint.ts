import { isEcrHost, parseEcrHost } from '../aws/ecr-host.js';
import { PackpubError } from '../errors.js';
import { isLoopbackHost } from '../oci/reference.js';
import { PACKS_NAMESPACE } from '../pack/naming.js';
import type { PaletteRegistryFlavour } from './types.js';

/** Palette SaaS API (terraform-provider-spectrocloud's default host; palette-api.md 1). */
export const PALETTE_SAAS_ENDPOINT = 'https://api.spectrocloud.com';

/**
 * Environment variables Spectro's own tools read: the Terraform provider takes the key from
 * SPECTROCLOUD_APIKEY and the host from SPECTROCLOUD_HOST (a bare host name or a URL); Palette's MCP
 * server takes a project uid from SPECTROCLOUD_DEFAULT_PROJECT_ID.
 */
export const PALETTE_ENV = {
  apiKey: 'SPECTROCLOUD_APIKEY',
  host: 'SPECTROCLOUD_HOST',
  project: 'SPECTROCLOUD_DEFAULT_PROJECT_ID',
} as const;

/** How long a Palette sync and the packs' visibility are waited for, and the pause between status polls (as Terraform's provider). */
export const DEFAULT_PALETTE_TIMEOUT_MS = 600_000;
export const DEFAULT_PALETTE_POLL_MS = 10_000;

/**
 * The API base URL for an endpoint given as a host or URL (default SaaS). HTTPS unless `http://` is given
 * for a loopback host: the API key must not travel in clear text over a network.
 */
export function paletteBaseUrl(endpoint: string | undefined): URL {
  const raw = (endpoint ?? '').trim() === '' ? PALETTE_SAAS_ENDPOINT : (endpoint ?? '').trim();
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`);
  } catch {
    throw new PackpubError('USAGE', `Palette endpoint "${raw}" is not a host name or URL`, {
      hint: 'give the API host of your Palette, e.g. --palette-endpoint https://palette.example.com (default: the SaaS API)',
    });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new PackpubError('USAGE', `Palette endpoint "${raw}" must be an https:// URL`);
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.host)) {
    throw new PackpubError('USAGE', `refusing to send the Palette API key over plain HTTP to ${url.host}`, {
      hint: 'use https:// for the Palette endpoint',
    });
  }
  url.pathname = url.pathname.replace(/\/+$/, '');
  // The API's base copied with its version (`https://api.spectrocloud.com/v1`): every call would go to /v1/v1/..., and
  // Palette's 404 read "could not list OCI registries: Resource not found".
  if (/(^|\/)v1$/i.test(url.pathname)) {
    throw new PackpubError('USAGE', `Palette endpoint "${raw}" ends with /v1, which packpub puts before every call itself (it would ask for /v1/v1/...)`, {
      hint: `give the API host alone: ${url.origin}${url.pathname.replace(/\/?v1$/i, '')}`,
    });
  }
  url.search = '';
  url.hash = '';
  return url;
}

/**
 * An endpoint as Palette stores it, or a target's host, reduced to `host[:port]`: no scheme, no trailing slash,
 * lowercase, and no port that is the default of its scheme (`:443` for https://, `:80` for http://; without a
 * scheme, HTTPS's unless `plainHttp`): a registry entered in Palette as `https://harbor.example.com:443` serves
 * the target `harbor.example.com`, and was taken for another (sync: "no Pack registry serves"; register: a second one).
 */
export function endpointHost(endpoint: string | undefined, plainHttp = false): string {
  const raw = (endpoint ?? '').trim();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(raw)?.[1]?.toLowerCase() ?? (plainHttp ? 'http' : 'https');
  const host = raw.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/\/+$/, '').toLowerCase();
  const defaultPort = scheme === 'https' ? ':443' : scheme === 'http' ? ':80' : undefined;
  return defaultPort !== undefined && host.endsWith(defaultPort) ? host.slice(0, -defaultPort.length) : host;
}

/**
 * An endpoint split into its `host[:port]` (as endpointHost reduces it) and the path after the host, slashes trimmed
 * (`https://h/spectro-oci-registry/` -> `h`, `spectro-oci-registry`; '' for none). Palette's docs give the Endpoint as
 * the registry's host alone, the path under it going into Base Content Path: whether its sync reads `<endpoint path>/<base
 * content path>` is not documented, so a registry entered with a path serves no target, but is told apart from none.
 */
export function endpointParts(endpoint: string | undefined, plainHttp = false): { host: string; path: string } {
  const raw = (endpoint ?? '').trim();
  const scheme = /^([a-z][a-z0-9+.-]*:\/\/)/i.exec(raw)?.[1] ?? '';
  const rest = raw.slice(scheme.length);
  const slash = rest.indexOf('/');
  const host = slash < 0 ? rest : rest.slice(0, slash);
  return { host: endpointHost(`${scheme}${host}`, plainHttp), path: slash < 0 ? '' : trimSlashes(rest.slice(slash)) };
}

/** True when an endpoint carries a scheme (`https://...`), which Palette does not want for ECR. */
export function endpointHasScheme(endpoint: string | undefined): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test((endpoint ?? '').trim());
}

/** `auth.tls.enabled` of a Basic registry's record, when Palette returned it as a boolean (else undefined). */
export function tlsEnabledOf(spec: unknown): boolean | undefined {
  const auth = typeof spec === 'object' && spec !== null ? (spec as { auth?: unknown }).auth : undefined;
  const tls = typeof auth === 'object' && auth !== null ? (auth as { tls?: unknown }).tls : undefined;
  const enabled = typeof tls === 'object' && tls !== null ? (tls as { enabled?: unknown }).enabled : undefined;
  return typeof enabled === 'boolean' ? enabled : undefined;
}

/** How a Basic registry Palette stores says to connect, against how the registry speaks (see connectionMismatch). */
export interface ConnectionMismatch {
  /** Every way given names the other scheme (the endpoint's, and TLS when given): Palette's sync cannot read the registry. */
  fails: boolean;
  /** `has endpoint https://h`, `has endpoint https://h and TLS off (auth.tls.enabled false)`, `has TLS on (...)`. */
  says: string;
  /** `plain HTTP` or `HTTPS`: what the registry speaks. */
  speaks: string;
  /** What to write in Palette: `Endpoint http://h`, with `, TLS off` when TLS is given. */
  fix: string;
}

/**
 * A Basic registry in Palette names how to connect twice: the endpoint's scheme and `auth.tls.enabled`. Which one
 * Palette's sync follows is not documented (palette-api.md), so a mismatch fails only when the endpoint names the
 * other scheme than the registry speaks and TLS (when given) does not name the right one; when the two disagree
 * with each other, `fails` is false (a note: make them agree). Undefined when neither names the other scheme.
 */
export function connectionMismatch(endpoint: string | undefined, tlsEnabled: boolean | undefined, host: string, plainHttp: boolean): ConnectionMismatch | undefined {
  const scheme = /^(https?):\/\//i.exec((endpoint ?? '').trim())?.[1]?.toLowerCase();
  const speaks = plainHttp ? 'http' : 'https';
  const schemeWrong = scheme !== undefined && scheme !== speaks;
  const tlsWrong = tlsEnabled !== undefined && tlsEnabled !== !plainHttp;
  if (!schemeWrong && !tlsWrong) return undefined;
  const tls = tlsEnabled === undefined ? undefined : `TLS ${tlsEnabled ? 'on' : 'off'} (auth.tls.enabled ${String(tlsEnabled)})`;
  const says = scheme === undefined ? `has ${tls ?? ''}` : `has endpoint ${(endpoint ?? '').trim()}${tls === undefined ? '' : ` and ${tls}`}`;
  return {
    fails: schemeWrong && (tlsEnabled === undefined || tlsWrong),
    says,
    speaks: plainHttp ? 'plain HTTP' : 'HTTPS',
    fix: `Endpoint ${paletteEndpointFor(host, plainHttp)}${tlsEnabled === undefined ? '' : `, TLS ${plainHttp ? 'off' : 'on'}`}`,
  };
}

export function trimSlashes(path: string | undefined): string {
  return (path ?? '').replace(/^\/+|\/+$/g, '');
}

/** A Palette registry's flavour from `spec.registryType` (Terraform lowercases it and expects basic or ecr). */
export function flavourOf(registryType: string | undefined): PaletteRegistryFlavour | undefined {
  const t = (registryType ?? '').toLowerCase();
  return t === 'basic' || t === 'ecr' ? t : undefined;
}

/** The flavour Palette needs for a registry host: ECR for `<acct>.dkr.ecr.<region>.amazonaws.com`, else Basic. */
export function flavourForHost(host: string): PaletteRegistryFlavour {
  return isEcrHost(host) ? 'ecr' : 'basic';
}

export function ecrRegion(host: string): string | undefined {
  return parseEcrHost(host)?.region;
}

/** True when a base content path wrongly includes the `spectro-packs/archive` that Palette adds itself. */
export function includesPacksNamespace(basePath: string): boolean {
  const p = trimSlashes(basePath);
  return p === PACKS_NAMESPACE || p.endsWith(`/${PACKS_NAMESPACE}`);
}

/** The endpoint value to enter in Palette for a target host. */
export function paletteEndpointFor(host: string, plainHttp: boolean): string {
  if (flavourForHost(host) === 'ecr') return host; // "Exclude the https:// prefix" (add-oci-packs.md)
  return `${plainHttp ? 'http' : 'https'}://${host}`;
}
