import { defaultTargetNames } from '../config/targets.js';
import type { ConfigPalette } from '../config/schema.js';
import { PackpubError } from '../errors.js';
import type { PaletteTargetRef, ResolvedPaletteRegistry } from '../operations/palette.js';
import type { PaletteClient } from '../palette/client.js';
import { endpointHost, PALETTE_ENV, paletteBaseUrl, trimSlashes } from '../palette/endpoint.js';
import { isLoopbackHost, parseRegistryLocation } from '../oci/reference.js';
import type { OpenTargetOptions } from '../targets/open.js';
import type { Args, CliContext } from './context.js';
import { readStdinSecret, userPath, writeLine } from './io.js';
import { listArg, loadCliConfig, resolveTargetOptions, retryFlags } from './target-options.js';

/** One target of the run, with where its packs show up in Palette. */
export interface PaletteTarget {
  options: OpenTargetOptions;
  ref: PaletteTargetRef;
  /** The target's `palette:` section of packpub.yaml, when it came from the file. */
  config: ConfigPalette | undefined;
  /** Where that section is, for messages: `targets.prod.palette in packpub.yaml`. */
  where?: string;
  /** The Palette registry serving it, found before anything was published (push's pre-flight) or synced (palette sync of several targets): the sync uses it. */
  registry?: ResolvedPaletteRegistry;
}

/** Registry targets of this command line (--registry / --target / packpub.yaml), each with its palette section. */
export async function paletteTargets(args: Args, ctx: CliContext): Promise<PaletteTarget[]> {
  return paletteTargetsOf(args, ctx, await resolveTargetOptions(args, ctx));
}

/**
 * The targets resolveTargetOptions gave (same order) with their palette sections, checked before anything
 * is published: registries only, a base path Palette can use, and an API key.
 */
export async function paletteTargetsOf(args: Args, ctx: CliContext, all: OpenTargetOptions[]): Promise<PaletteTarget[]> {
  // --palette-timeout / --palette-poll-interval: a bad value is a usage error before anything is published or listed.
  paletteRunSettings(args, undefined);
  refuseEmptyPaletteFlags(args);
  const { checkPaletteTarget } = await import('../operations/palette.js');
  const loaded = await loadCliConfig(args, ctx);
  // The same choice resolveTargetOptions made: named targets, else defaults.target unless a registry is given.
  const named = listArg(args['target']);
  const names =
    named.length > 0
      ? [...new Set(named)]
      : listArg(args['registry']).length === 0 && args['ociLayout'] === undefined && (ctx.io.env['PACKPUB_REGISTRY'] ?? '') === ''
        ? [...new Set(defaultTargetNames(loaded.config))]
        : [];
  const targets = all.map((options, i) => {
    if (options.registry === undefined) {
      throw new PackpubError('USAGE', 'Palette reads packs from a registry, not from an OCI layout', {
        hint: 'name the registry with --registry HOST/BASE-PATH or --target NAME',
      });
    }
    const { host, basePath } = parseRegistryLocation(options.registry);
    const name = names[i];
    const ref = { host, basePath, plainHttp: options.plainHttp ?? isLoopbackHost(host) };
    checkPaletteTarget(ref);
    const config = name === undefined ? undefined : loaded.config?.targets?.[name]?.palette;
    return { options, ref, config, ...(config === undefined ? {} : { where: `targets.${name}.palette in ${loaded.file ?? 'packpub.yaml'}` }) };
  });
  oneRegistryOneTarget(args, targets);
  return targets;
}

/**
 * --palette-registry names one Palette registry, which serves one host and base path: given for a run of several
 * targets, the first target's sync ran (and push published to all) before the second was found not served by it
 * (exit 2, "serves <a>, not <b>"). Refused before anything is published or synced.
 */
function oneRegistryOneTarget(args: Args, targets: PaletteTarget[]): void {
  const registry = args['paletteRegistry'];
  if (registry === undefined) return;
  const places = [...new Set(targets.map((t) => `${endpointHost(t.ref.host, t.ref.plainHttp === true)}/${trimSlashes(t.ref.basePath)}`))];
  if (places.length < 2) return;
  throw new PackpubError('USAGE', `--palette-registry ${String(registry)} names one Palette registry, which serves one host and base path, but the run has ${places.length} targets: ${places.join(', ')}`, {
    hint: 'run once per target, or give each target its registry with palette.registry in packpub.yaml',
  });
}

/** The Palette text flags: each given as "" (an unset CI variable) is refused, never read as "not given". */
const PALETTE_TEXT_FLAGS: [string, string, string][] = [
  ['paletteEndpoint', '--palette-endpoint', `the API key would go to the default Palette (${PALETTE_ENV.host}, else the SaaS API) instead of yours`],
  ['paletteProject', '--palette-project', 'the packs would be confirmed at tenant scope instead of in your project'],
  ['paletteRegistry', '--palette-registry', 'no Palette registry has an empty name'],
  ['paletteCaFile', '--palette-ca-file', 'no file has an empty name'],
];

/** The text flags of `palette register` and `doctor` alone, refused empty as PALETTE_TEXT_FLAGS are. */
export const PALETTE_ACTION_TEXT_FLAGS: [string, string, string][] = [
  ['paletteRegistryName', '--palette-registry-name', 'Palette would be asked to create a registry with no name'],
  ['paletteEcrRoleArn', '--palette-ecr-role-arn', 'Palette would be sent an empty role ARN to assume'],
  ['paletteEcrExternalId', '--palette-ecr-external-id', "Palette would be sent an empty external id for the role's trust"],
];

/**
 * `--palette-endpoint "$PALETTE_URL"` with the variable unset sent the key of a self-hosted Palette to the SaaS API
 * (an empty endpoint is the default), and `--palette-project ""` confirmed packs at tenant scope: refused before
 * anything is published or sent, as an empty --registry is.
 */
export function refuseEmptyPaletteFlags(args: Args, flags = PALETTE_TEXT_FLAGS): void {
  for (const [key, flag, why] of flags) {
    const value = args[key];
    if (value === undefined || String(value).trim() !== '') continue;
    throw new PackpubError('USAGE', `${flag} is empty: ${why}`, {
      hint: `give a value (an unset CI variable often leaves it empty), or leave ${flag} out`,
    });
  }
}

/** SPECTROCLOUD_HOST when it is the endpoint used; set but blank is a mistake (an unset CI secret), not "the SaaS API". */
function envPaletteHost(env: NodeJS.ProcessEnv): string | undefined {
  const value = env[PALETTE_ENV.host];
  if (value === undefined) return undefined;
  if (value.trim() === '') {
    throw new PackpubError('USAGE', `${PALETTE_ENV.host} is set but empty: the API key would go to the SaaS API instead of your Palette`, {
      hint: `set it to your Palette's API host, or unset it to use the SaaS API (an unset CI variable often leaves it empty)`,
    });
  }
  return value;
}

/**
 * SPECTROCLOUD_DEFAULT_PROJECT_ID when it is the project used; set but blank is a mistake (an unset CI secret), not
 * "no project": the packs were confirmed at tenant scope, exit 0, as `--palette-project ""` did before it was refused.
 */
function envPaletteProject(env: NodeJS.ProcessEnv): string | undefined {
  const value = env[PALETTE_ENV.project];
  if (value === undefined) return undefined;
  if (value.trim() === '') {
    throw new PackpubError('USAGE', `${PALETTE_ENV.project} is set but empty: the packs would be confirmed at tenant scope instead of in your project`, {
      hint: 'set it to the uid of your Palette project, or unset it to confirm the packs at tenant scope (an unset CI variable often leaves it empty)',
    });
  }
  return value;
}

/** A --palette-* wait in milliseconds: parsed and range-checked (seconds, above 0) by prepareArgs, as every numeric flag. */
function seconds(args: Args, key: string): number | undefined {
  const v = args[key] as number | undefined;
  return v === undefined ? undefined : Math.round(v * 1000);
}

export interface PaletteRunSettings {
  timeoutMs?: number;
  pollIntervalMs?: number;
  registry?: string;
}

export function paletteRunSettings(args: Args, config: ConfigPalette | undefined): PaletteRunSettings {
  const timeoutMs = seconds(args, 'paletteTimeout');
  const pollIntervalMs = seconds(args, 'palettePollInterval');
  const registry = (args['paletteRegistry'] as string | undefined) ?? config?.registry;
  return {
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(pollIntervalMs === undefined ? {} : { pollIntervalMs }),
    ...(registry === undefined ? {} : { registry }),
  };
}

const stdinKeys = new WeakMap<object, Promise<string>>();

/**
 * A key named by a target's `palette.apiKeyEnv` goes only to that section's `palette.endpoint` (docs/configuration.md).
 * Without one, it went to SPECTROCLOUD_HOST's Palette or the SaaS API; with --palette-endpoint naming another
 * Palette (one flag for every target of the run), there. Refused before anything is sent.
 */
function keyStaysWithItsPalette(config: ConfigPalette, variable: string, endpoint: string | undefined, where: string | undefined): void {
  const section = where ?? 'the target\'s palette section';
  if (config.endpoint === undefined) {
    throw new PackpubError('CONFIG', `palette.apiKeyEnv (${section}) names ${variable}, but the section has no palette.endpoint: the key would go to ${endpoint === undefined ? 'the SaaS API' : paletteBaseUrl(endpoint).host}`, {
      hint: `add palette.endpoint beside it (the API host of the Palette ${variable} belongs to; for the SaaS API https://api.spectrocloud.com)`,
    });
  }
  if (endpoint !== undefined && paletteBaseUrl(endpoint).href !== paletteBaseUrl(config.endpoint).href) {
    throw new PackpubError('USAGE', `--palette-endpoint ${paletteBaseUrl(endpoint).host} would get the key of ${variable} (palette.apiKeyEnv, ${section}), which belongs to ${paletteBaseUrl(config.endpoint).host}`, {
      hint: `drop --palette-endpoint to use ${config.endpoint}, or pipe the key of the other Palette to --palette-api-key-stdin`,
    });
  }
}

/** SPECTROCLOUD_HOST's Palette, when it is set to one (blank, as an unset CI variable leaves it, or no host: none). */
function envPaletteUrl(env: NodeJS.ProcessEnv): URL | undefined {
  const value = env[PALETTE_ENV.host];
  if (value === undefined || value.trim() === '') return undefined;
  try {
    return paletteBaseUrl(value);
  } catch {
    return undefined;
  }
}

/** Where each API key of a run (by where it came from) went first: one key goes to one Palette. */
const keyDestinations = new WeakMap<object, Map<string, { href: string; host: string; from: string }>>();

/**
 * One API key, one Palette. SPECTROCLOUD_APIKEY beside SPECTROCLOUD_HOST is the key of that Palette (Spectro's
 * tools read the two as a pair): with palette.endpoint or --palette-endpoint naming another, it went there. And a
 * key of the command line or the environment went to every target's Palette of the run, though each target's
 * palette.endpoint may name another (push --target a,b --palette-sync). Refused before anything is sent.
 */
function oneKeyOnePalette(args: Args, env: NodeJS.ProcessEnv, keyFrom: string, base: URL, from: string): void {
  const envPalette = keyFrom === PALETTE_ENV.apiKey && from !== PALETTE_ENV.host ? envPaletteUrl(env) : undefined;
  if (envPalette !== undefined && envPalette.href !== base.href) {
    throw new PackpubError('USAGE', `${PALETTE_ENV.apiKey} is the key of ${PALETTE_ENV.host}'s Palette (${envPalette.host}), but ${from} names ${base.host}: the key would go to another Palette`, {
      hint: `give the key of ${base.host} with palette.apiKeyEnv or --palette-api-key-stdin, or set ${PALETTE_ENV.host} to it`,
    });
  }
  let seen = keyDestinations.get(args);
  if (seen === undefined) keyDestinations.set(args, (seen = new Map()));
  const first = seen.get(keyFrom);
  if (first === undefined) seen.set(keyFrom, { href: base.href, host: base.host, from });
  else if (first.href !== base.href) {
    throw new PackpubError('USAGE', `the Palette API key of ${keyFrom} would go to two Palettes in one run: ${first.host} (${first.from}) and ${base.host} (${from})`, {
      hint: 'give each target the key of its own Palette with palette.apiKeyEnv in packpub.yaml, or run once per Palette',
    });
  }
}

/**
 * A Palette client for one target. A flag wins; then the target's `palette:` section (it is specific to
 * that target, so a key named by `apiKeyEnv` never goes to another Palette); then Spectro's variables
 * (SPECTROCLOUD_APIKEY, SPECTROCLOUD_HOST, SPECTROCLOUD_DEFAULT_PROJECT_ID); then the SaaS API.
 */
export async function paletteClient(
  args: Args,
  ctx: CliContext,
  config: ConfigPalette | undefined,
  required: boolean,
  where?: string,
  keyAccepted = false,
): Promise<PaletteClient | undefined> {
  const env = ctx.io.env;
  let apiKey: string | undefined;
  if (args['paletteApiKeyStdin'] === true) {
    let pending = stdinKeys.get(args);
    if (pending === undefined) {
      pending = readStdinSecret(ctx.io);
      stdinKeys.set(args, pending);
    }
    apiKey = await pending;
  } else if (config?.apiKeyEnv !== undefined) {
    // Blank (an unset CI secret padded) is no key: it was refused as "no Palette API key", naming SPECTROCLOUD_APIKEY.
    const raw = env[config.apiKeyEnv];
    apiKey = raw === undefined || raw.trim() === '' ? undefined : raw;
    if (apiKey === undefined && required) {
      throw new PackpubError('CONFIG', `palette.apiKeyEnv names ${config.apiKeyEnv}, which is ${raw === undefined ? 'not set' : 'empty'}`, {
        hint: `set ${config.apiKeyEnv} to the API key of ${config.endpoint ?? 'that Palette'} (in CI: from a secret)`,
      });
    }
  } else {
    apiKey = env[PALETTE_ENV.apiKey] || undefined;
  }
  if (apiKey === undefined || apiKey.trim() === '') {
    if (!required) return undefined;
    throw new PackpubError('USAGE', 'no Palette API key', {
      hint: `set ${PALETTE_ENV.apiKey} (as Spectro's Terraform provider reads it) or pipe the key to --palette-api-key-stdin; create one in Palette under Profile > My API Keys`,
    });
  }
  const { PaletteClient } = await import('../palette/client.js');
  const endpoint = (args['paletteEndpoint'] as string | undefined) ?? config?.endpoint ?? envPaletteHost(env);
  if (args['paletteApiKeyStdin'] !== true && config?.apiKeyEnv !== undefined) keyStaysWithItsPalette(config, config.apiKeyEnv, endpoint, where);
  const keyFrom = args['paletteApiKeyStdin'] === true ? '--palette-api-key-stdin' : (config?.apiKeyEnv ?? PALETTE_ENV.apiKey);
  const endpointFrom =
    args['paletteEndpoint'] !== undefined ? '--palette-endpoint' : config?.endpoint !== undefined ? `palette.endpoint (${where ?? 'packpub.yaml'})` : endpoint !== undefined ? PALETTE_ENV.host : 'the default (the SaaS API)';
  oneKeyOnePalette(args, env, keyFrom, paletteBaseUrl(endpoint), endpointFrom);
  const projectUid = (args['paletteProject'] as string | undefined) ?? config?.project ?? envPaletteProject(env);
  const caFlag = args['paletteCaFile'] === undefined ? undefined : userPath(ctx.io, args['paletteCaFile'] as string);
  const caFile = caFlag ?? config?.caFile;
  // Palette's calls retry as registry calls do: --retry-attempts, --retry-deadline, --retry-delay, --request-timeout.
  const retry = retryFlags(args);
  return new PaletteClient({
    apiKey,
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(projectUid === undefined ? {} : { projectUid }),
    ...(caFile === undefined ? {} : { caFile }),
    ...(retry === undefined ? {} : { retry }),
    // Messages about the file name the setting the user wrote, not a flag they never gave.
    ...(caFlag === undefined && caFile !== undefined ? { caFileSource: `palette.caFile (${where ?? 'packpub.yaml'})` } : {}),
    ...(args['debug'] === true ? { debug: (line: string) => writeLine(ctx.io.stderr, `debug: ${line}`) } : {}),
    ...(keyAccepted ? { keyAccepted } : {}),
    env,
  });
}
