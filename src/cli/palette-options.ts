import type { Argv } from 'yargs';
import { defaultTargetNames } from '../config/targets.js';
import type { ConfigPalette } from '../config/schema.js';
import { PackpubError } from '../errors.js';
import type { PaletteTargetRef } from '../operations/palette.js';
import { DEFAULT_PALETTE_POLL_MS, DEFAULT_PALETTE_TIMEOUT_MS } from '../operations/palette.js';
import type { PaletteClient } from '../palette/client.js';
import { PALETTE_ENV } from '../palette/endpoint.js';
import { isLoopbackHost, parseRegistryLocation } from '../oci/reference.js';
import type { OpenTargetOptions } from '../targets/open.js';
import type { Args, CliContext } from './context.js';
import { readStdinSecret, userPath, writeLine } from './io.js';
import { declareOwnFlags, type OwnFlags } from './target-flags.js';
import { listArg, loadCliConfig, resolveTargetOptions, retryFlags } from './target-options.js';

/** The --help group of every flag that concerns Palette (push --palette-sync and palette's own too). */
export const PALETTE_GROUP = 'Palette:';

/** Flags that reach Palette's API; shared by `palette doctor|register|sync` and `push --palette-sync`. */
const PALETTE_FLAGS: OwnFlags = {
  group: PALETTE_GROUP,
  options: {
    'palette-endpoint': {
      type: 'string',
      describe: `Palette API host or URL (default: palette.endpoint of the target, else env ${PALETTE_ENV.host}, else the SaaS API)`,
    },
    'palette-api-key-stdin': {
      type: 'boolean',
      default: false,
      describe: `Read the Palette API key from standard input (default: the variable palette.apiKeyEnv of the target names, else env ${PALETTE_ENV.apiKey})`,
    },
    'palette-project': {
      type: 'string',
      describe: `Project uid for pack reads (default: palette.project of the target, else env ${PALETTE_ENV.project}); registries are always read at tenant scope`,
    },
    'palette-registry': {
      type: 'string',
      describe: 'Name or uid of the Palette registry serving the target (default: the one Pack registry with its host and base path)',
    },
    'palette-timeout': {
      type: 'number',
      describe: `Seconds to wait for the sync and for every pack to be visible (default ${DEFAULT_PALETTE_TIMEOUT_MS / 1000})`,
    },
    'palette-poll-interval': {
      type: 'number',
      describe: `Seconds between status polls (default ${DEFAULT_PALETTE_POLL_MS / 1000}, as Terraform's provider)`,
    },
    'palette-ca-file': { type: 'string', describe: 'PEM CA of a self-hosted Palette' },
  },
};

/** Declare the Palette flags (PALETTE_FLAGS) on a command. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function paletteFlags(y: Argv<any>): Argv<any> {
  return declareOwnFlags(y, PALETTE_FLAGS);
}

/** The Palette flags `push` reads only with --palette-sync (yargs keys, and the flag as typed). */
const PUSH_PALETTE_FLAGS: [string, string][] = [
  ['paletteEndpoint', '--palette-endpoint'],
  ['paletteApiKeyStdin', '--palette-api-key-stdin'],
  ['paletteProject', '--palette-project'],
  ['paletteRegistry', '--palette-registry'],
  ['paletteTimeout', '--palette-timeout'],
  ['palettePollInterval', '--palette-poll-interval'],
  ['paletteCaFile', '--palette-ca-file'],
];

/**
 * `push` with a Palette flag but without --palette-sync would publish and never reach Palette: a run that
 * silently does less than the command line says. Refused before anything is published.
 */
export function refusePaletteFlagsWithoutSync(args: Args): void {
  if (args['paletteSync'] === true) return;
  const given = PUSH_PALETTE_FLAGS.filter(([key]) => args[key] !== undefined && args[key] !== false).map(([, flag]) => flag);
  if (given.length === 0) return;
  throw new PackpubError('USAGE', `${given.join(', ')} ${given.length === 1 ? 'applies' : 'apply'} only with --palette-sync, which is not given: Palette would not be synced`, {
    hint: 'add --palette-sync to sync Palette after publishing, or drop the Palette flags',
  });
}

/** One target of the run, with where its packs show up in Palette. */
export interface PaletteTarget {
  options: OpenTargetOptions;
  ref: PaletteTargetRef;
  /** The target's `palette:` section of packpub.yaml, when it came from the file. */
  config: ConfigPalette | undefined;
  /** Where that section is, for messages: `targets.prod.palette in packpub.yaml`. */
  where?: string;
}

/** Registry targets of this command line (--registry / --target / packpub.yaml), each with its palette section. */
export async function paletteTargets(args: Args, ctx: CliContext): Promise<PaletteTarget[]> {
  refuseTwoStdinReaders(args);
  return paletteTargetsOf(args, ctx, await resolveTargetOptions(args, ctx));
}

/** Only one flag may read standard input; checked before either reads it. */
export function refuseTwoStdinReaders(args: Args): void {
  if (args['paletteApiKeyStdin'] === true && args['passwordStdin'] === true) {
    throw new PackpubError('USAGE', '--palette-api-key-stdin and --password-stdin cannot both read standard input', {
      hint: `give the API key in ${PALETTE_ENV.apiKey}, or the registry password in PACKPUB_PASSWORD`,
    });
  }
}

/**
 * The targets resolveTargetOptions gave (same order) with their palette sections, checked before anything
 * is published: registries only, a base path Palette can use, and an API key.
 */
export async function paletteTargetsOf(args: Args, ctx: CliContext, all: OpenTargetOptions[]): Promise<PaletteTarget[]> {
  refuseTwoStdinReaders(args);
  // --palette-timeout / --palette-poll-interval: a bad value is a usage error before anything is published or listed.
  paletteRunSettings(args, undefined);
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
  return all.map((options, i) => {
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
}

function seconds(args: Args, key: string, flag: string): number | undefined {
  const v = args[key] as number | undefined;
  if (v === undefined) return undefined;
  if (!Number.isFinite(v) || v <= 0) throw new PackpubError('USAGE', `${flag} must be a positive number of seconds, got ${String(v)}`);
  return Math.round(v * 1000);
}

export interface PaletteRunSettings {
  timeoutMs?: number;
  pollIntervalMs?: number;
  registry?: string;
}

export function paletteRunSettings(args: Args, config: ConfigPalette | undefined): PaletteRunSettings {
  const timeoutMs = seconds(args, 'paletteTimeout', '--palette-timeout');
  const pollIntervalMs = seconds(args, 'palettePollInterval', '--palette-poll-interval');
  const registry = (args['paletteRegistry'] as string | undefined) ?? config?.registry;
  return {
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(pollIntervalMs === undefined ? {} : { pollIntervalMs }),
    ...(registry === undefined ? {} : { registry }),
  };
}

const stdinKeys = new WeakMap<object, Promise<string>>();

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
    apiKey = env[config.apiKeyEnv] || undefined;
    if (apiKey === undefined && required) {
      throw new PackpubError('CONFIG', `palette.apiKeyEnv names ${config.apiKeyEnv}, which is not set`, {
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
  const endpoint = (args['paletteEndpoint'] as string | undefined) ?? config?.endpoint ?? (env[PALETTE_ENV.host] || undefined);
  const projectUid = (args['paletteProject'] as string | undefined) ?? config?.project ?? (env[PALETTE_ENV.project] || undefined);
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
  });
}
