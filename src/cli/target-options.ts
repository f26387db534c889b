import { loadConfig, type LoadedConfig } from '../config/load.js';
import { configTargetOptions, defaultTargetNames, getConfigTarget, hasEnvCredentials, type TargetOverrides } from '../config/targets.js';
import { PackpubError } from '../errors.js';
import type { OpenTargetOptions } from '../targets/open.js';
import type { Args, CliContext } from './context.js';
import { writeLine } from './io.js';
import { targetOptionsFromArgs } from './target-flags.js';

export { configFileFlag, configFlags } from './config-flags.js';

const loadedByArgs = new WeakMap<object, Promise<LoadedConfig>>();

/** The configuration for this command line, read once per parsed argv; warnings go to stderr once. */
export function loadCliConfig(args: Args, ctx: CliContext): Promise<LoadedConfig> {
  let pending = loadedByArgs.get(args);
  if (pending === undefined) {
    pending = loadConfig({
      ...(args['config'] === undefined ? {} : { path: String(args['config']) }),
      cwd: ctx.io.cwd,
      env: ctx.io.env,
    }).then((loaded) => {
      for (const w of loaded.warnings) writeLine(ctx.io.stderr, `warning: ${w}`);
      return loaded;
    });
    loadedByArgs.set(args, pending);
  }
  return pending;
}

/** Repeated flags arrive as arrays; `--target a,b` is accepted too. */
export function listArg(value: unknown): string[] {
  if (value === undefined || value === null || value === false) return [];
  const items = Array.isArray(value) ? value : [value];
  return items.flatMap((v) => String(v).split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

function flagCredentialsGiven(args: Args): boolean {
  return args['username'] !== undefined || args['passwordStdin'] === true;
}

/** Flag values that were actually given, as overrides of a configured target. */
function overridesFromArgs(args: Args, flags: OpenTargetOptions): TargetOverrides {
  const s = (key: string) => (args[key] === undefined ? undefined : String(args[key]));
  const o: TargetOverrides = {};
  const type = s('registryType');
  if (type !== undefined) o.type = type as NonNullable<TargetOverrides['type']>;
  if (typeof args['plainHttp'] === 'boolean') o.plainHttp = args['plainHttp'];
  const caFile = s('caFile');
  if (caFile !== undefined) o.caFile = caFile;
  // Booleans with a yargs default of false: only `true` shows the flag was given.
  if (args['insecure'] === true) o.insecure = true;
  if (args['allowCrossHostAuth'] === true) o.allowCrossHostAuth = true;
  if (args['createProject'] === true) o.createProject = true;
  if (Array.isArray(args['resolve'])) o.resolve = (args['resolve'] as unknown[]).map(String);
  const registryConfig = s('registryConfig');
  if (registryConfig !== undefined) o.registryConfig = registryConfig;
  if (flagCredentialsGiven(args) && flags.credentials !== undefined) o.credentials = flags.credentials;
  const ecrEndpoint = s('ecrEndpoint');
  if (ecrEndpoint !== undefined) o.ecrEndpoint = ecrEndpoint;
  const awsProfile = s('awsProfile');
  if (awsProfile !== undefined) o.awsProfile = awsProfile;
  const awsRoleArn = s('awsRoleArn');
  if (awsRoleArn !== undefined) o.awsRoleArn = awsRoleArn;
  const ecr: NonNullable<TargetOverrides['ecr']> = {};
  // --create-repositories defaults to true: only --no-create-repositories shows it was given.
  if (args['createRepositories'] === false) ecr.create = false;
  if (args['ecrTagMutability'] !== undefined) ecr.tagMutability = args['ecrTagMutability'] as NonNullable<typeof ecr.tagMutability>;
  if (args['ecrEncryption'] !== undefined) ecr.encryption = args['ecrEncryption'] as NonNullable<typeof ecr.encryption>;
  const kmsKey = s('ecrKmsKey');
  if (kmsKey !== undefined) ecr.kmsKey = kmsKey;
  const tags = flags.ecrRepositories?.tags;
  if (tags !== undefined) ecr.tags = tags;
  if (Object.keys(ecr).length > 0) o.ecr = ecr;
  return o;
}

/**
 * Options for one configured target with the flags of this command line applied on top
 * (flags > environment > file). `flags` is what targetOptionsFromArgs made of the same args.
 */
export function configuredTargetOptions(
  loaded: LoadedConfig,
  name: string,
  args: Args,
  flags: OpenTargetOptions,
  ctx: CliContext,
): OpenTargetOptions {
  const target = getConfigTarget(loaded, name);
  const options = configTargetOptions(loaded, name, ctx.io.env, overridesFromArgs(args, flags));
  if (target.tls?.insecure === true && args['insecure'] !== true) {
    writeLine(ctx.io.stderr, `warning: target ${name} has tls.insecure: TLS certificates are not verified; anyone on the network path can read and change what is pushed`);
  }
  return {
    ...options,
    ...(flags.retry === undefined ? {} : { retry: flags.retry }),
    ...(flags.warn === undefined ? {} : { warn: flags.warn }),
    ...(flags.debug === undefined ? {} : { debug: flags.debug }),
  };
}

function refuseSharedCredentials(args: Args, ctx: CliContext, what: string): void {
  if (flagCredentialsGiven(args)) {
    throw new PackpubError('USAGE', `--username / --password-stdin would be sent to every one of ${what}`, {
      hint: 'push to one target per run, or give each target its own auth (username + passwordEnv) in packpub.yaml, or use the Docker config (packpub login)',
    });
  }
  if (hasEnvCredentials(ctx.io.env)) {
    throw new PackpubError('USAGE', `PACKPUB_USERNAME / PACKPUB_PASSWORD would be sent to every one of ${what}`, {
      hint: 'unset them and give each target its own auth (username + passwordEnv) in packpub.yaml, or use the Docker config (packpub login)',
    });
  }
}

/**
 * One OpenTargetOptions per target of this run, for `push`: from repeated --registry flags, from
 * --target NAME (repeatable) looked up in packpub.yaml, or the single default (PACKPUB_REGISTRY, else
 * the file's defaults.target, else the local OCI layout). Flags beat the environment, which beats
 * the file. --target together with --registry or --oci-layout is a USAGE error naming both.
 */
export async function resolveTargetOptions(args: Args, ctx: CliContext): Promise<OpenTargetOptions[]> {
  const names = listArg(args['target']);
  const registries = listArg(args['registry']);
  const ociLayout = args['ociLayout'] as string | undefined;
  if (names.length > 0 && registries.length > 0) {
    throw new PackpubError('USAGE', `--target ${names.join(',')} and --registry ${registries.join(',')} exclude each other`, {
      hint: 'use --target for targets named in packpub.yaml, or --registry for a registry given in full: not both',
    });
  }
  if (names.length > 0 && ociLayout !== undefined) {
    throw new PackpubError('USAGE', `--target ${names.join(',')} and --oci-layout ${ociLayout} exclude each other`, {
      hint: 'name the layout as a target in packpub.yaml (ociLayout: DIR), or drop --target',
    });
  }
  if (registries.length > 1 && ociLayout !== undefined) {
    throw new PackpubError('USAGE', `--registry and --oci-layout ${ociLayout} exclude each other`);
  }
  const loaded = await loadCliConfig(args, ctx);
  const chosen =
    names.length > 0
      ? names
      : registries.length === 0 && ociLayout === undefined && (ctx.io.env['PACKPUB_REGISTRY'] ?? '') === ''
        ? defaultTargetNames(loaded.config)
        : [];

  if (chosen.length === 0) {
    const unique = [...new Set(registries)];
    if (unique.length < registries.length) throw new PackpubError('USAGE', 'the same --registry is given twice');
    if (unique.length > 1) refuseSharedCredentials(args, ctx, `the ${unique.length} registries`);
    const flags = await targetOptionsFromArgs({ ...args, registry: unique[0] } as Args, ctx);
    return unique.length <= 1 ? [flags] : unique.map((registry) => ({ ...flags, registry }));
  }

  const unique = [...new Set(chosen)];
  for (const name of unique) getConfigTarget(loaded, name); // unknown names fail before stdin is read
  if (unique.length > 1) refuseSharedCredentials(args, ctx, `the targets ${unique.join(', ')}`);
  // Flag-derived settings (stdin password, retry, debug) once; the registry itself comes from the file.
  const flags = await targetOptionsFromArgs({ ...args, registry: undefined, ociLayout: undefined } as Args, {
    ...ctx,
    io: { ...ctx.io, env: { ...ctx.io.env, PACKPUB_REGISTRY: undefined } },
  });
  return unique.map((name) => configuredTargetOptions(loaded, name, args, flags, ctx));
}

export interface PackRoots {
  /** Folders, globs or roots, as `push` positional arguments. */
  packs: string[];
  recursive: boolean;
}

/**
 * What to push: the pack arguments when given, else the file's `packs:` (with its `recursive`).
 * `--recursive` on the command line turns recursion on for either.
 */
export async function configuredPackRoots(args: Args, ctx: CliContext): Promise<PackRoots> {
  const given = listArgRaw(args['packs']);
  if (given.length > 0) return { packs: given, recursive: args['recursive'] === true };
  const loaded = await loadCliConfig(args, ctx);
  const packs = loaded.config?.packs ?? [];
  if (packs.length === 0) {
    throw new PackpubError('USAGE', 'no packs to push', {
      hint: loaded.file === undefined ? 'name pack folders (or roots with --recursive), or list them under packs: in packpub.yaml' : `name pack folders, or list them under packs: in ${loaded.file}`,
    });
  }
  return { packs, recursive: args['recursive'] === true || loaded.config?.recursive === true };
}

/** Positional lists keep commas (a folder may contain one). */
function listArgRaw(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map(String).filter((v) => v !== '');
}

export interface RunDefaults {
  concurrency?: number;
  strict: boolean;
  continueOnError: boolean;
  failFast: boolean;
  skipExisting: boolean;
}

/**
 * Run settings: a flag that was given wins, else the file's `defaults:`. The boolean flags have a yargs
 * default of false, so only `true` shows one was given: the file can turn a setting on, and a flag
 * can turn it on, but `--no-strict` cannot turn off a file's `strict: true` (edit the file instead).
 */
export async function configuredRunDefaults(args: Args, ctx: CliContext): Promise<RunDefaults> {
  const d = (await loadCliConfig(args, ctx)).config?.defaults ?? {};
  const flag = (key: string, fromFile: boolean | undefined): boolean => args[key] === true || fromFile === true;
  const concurrency = (args['concurrency'] as number | undefined) ?? d.concurrency;
  return {
    ...(concurrency === undefined ? {} : { concurrency }),
    strict: flag('strict', d.strict),
    continueOnError: flag('continueOnError', d.continueOnError),
    failFast: flag('failFast', d.failFast),
    // --force contradicts skipExisting; a flag beats the file.
    skipExisting: args['force'] === true ? false : flag('skipExisting', d.skipExisting),
  };
}
