import { isEcrHost, isEcrPublicHost } from '../aws/ecr-host.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { resolve } from 'node:path';
import { configTargetOptions, defaultTargetNames, getConfigTarget, hasEnvCredentials, type TargetOverrides } from '../config/targets.js';
import { envCredential, envValue } from '../credentials/env.js';
import type { Credential } from '../credentials/types.js';
import { PackpubError } from '../errors.js';
import { parseRegistryLocation } from '../oci/reference.js';
import { ResolveMap } from '../registry/host-overrides.js';
import { extraHeaders } from '../registry/registry-only.js';
import type { RetryOptions } from '../registry/retry.js';
import type { OpenTargetOptions } from '../targets/open.js';
import { DEFAULT_OCI_LAYOUT } from '../targets/options.js';
import type { Args, CliContext } from './context.js';
import { readStdinSecret, userPath, writeLine } from './io.js';
import { homePath } from '../util/home.js';
import { shellWord } from '../util/shell-word.js';
import { refuseEmptyPackFolders } from './target-flags.js';

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

function flagCredentialsGiven(args: Args, side?: Side): boolean {
  return (
    args[key('username', side)] !== undefined ||
    args[key('passwordStdin', side)] === true ||
    (side === undefined && (args['identityToken'] !== undefined || args['identityTokenStdin'] === true))
  );
}

export type Side = 'from' | 'to';

/** The yargs key of a flag, or of its per-side variant for copy (--from-username -> fromUsername). */
function key(name: string, side?: Side): string {
  return side === undefined ? name : `${side}${name[0]!.toUpperCase()}${name.slice(1)}`;
}

function parseTags(values: string[] | undefined): Record<string, string> | undefined {
  if (values === undefined || values.length === 0) return undefined;
  const tags: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new PackpubError('USAGE', `--ecr-tag "${v}" is not KEY=VALUE`);
    const name = v.slice(0, eq);
    // The last one silently won (`--ecr-tag team=a --ecr-tag team=b`), as --annotation and packpub.yaml's ecr.tags refuse it.
    if (Object.hasOwn(tags, name)) throw new PackpubError('USAGE', `--ecr-tag ${name} is given twice`, { hint: 'give each tag key once: a repository holds one value per key' });
    tags[name] = v.slice(eq + 1);
  }
  return tags;
}

/** What a command line gives for the registry host only: the mTLS client certificate and extra headers. */
export type RegistryOnlySettings = Pick<TargetOverrides, 'certFile' | 'keyFile' | 'headers' | 'settingNames'>;

/**
 * --cert-file / --key-file (both or neither) and -H/--header (parsed and checked, values registered for
 * redaction), or a copy side's --from-* / --to-* variants. Refused before any work.
 */
export function registryOnlySettings(args: Args, ctx: CliContext, side?: Side): RegistryOnlySettings {
  const flag = (name: string) => `--${side === undefined ? '' : `${side}-`}${name}`;
  const certFile = args[key('certFile', side)] as string | undefined;
  const keyFile = args[key('keyFile', side)] as string | undefined;
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new PackpubError('USAGE', certFile === undefined ? `${flag('key-file')} needs ${flag('cert-file')}` : `${flag('cert-file')} needs ${flag('key-file')}`, {
      hint: `a client certificate is given as two PEM files: ${flag('cert-file')} CERT ${flag('key-file')} KEY`,
    });
  }
  const o: RegistryOnlySettings = {};
  if (certFile !== undefined && keyFile !== undefined) {
    Object.assign(o, { certFile: userPath(ctx.io, certFile), keyFile: userPath(ctx.io, keyFile) }, side === undefined ? {} : { settingNames: { certFile: flag('cert-file'), keyFile: flag('key-file') } });
  }
  const headers = listArgRaw(args[key('header', side)]);
  if (headers.length > 0) o.headers = extraHeaders(headers, side === undefined ? '--header' : flag('header'));
  return o;
}

/** --identity-token / --identity-token-stdin: an OAuth2 refresh token, exclusive with user and password. */
async function identityTokenFromArgs(args: Args, ctx: CliContext): Promise<string | undefined> {
  const given = args['identityToken'] as string | undefined;
  const fromStdin = args['identityTokenStdin'] === true;
  if (given === undefined && !fromStdin) return undefined;
  if (args['username'] !== undefined || args['passwordStdin'] === true) {
    throw new PackpubError('USAGE', '--identity-token takes the place of --username and --password-stdin: give one or the other');
  }
  if (given !== undefined) {
    writeLine(ctx.io.stderr, 'warning: --identity-token puts the token on the command line, where other users of this machine can see it; prefer --identity-token-stdin');
  }
  const token = given ?? (await readStdinSecret(ctx.io));
  if (token === '') throw new PackpubError('USAGE', 'the identity token is empty', { hint: 'pipe the token into --identity-token-stdin' });
  return token;
}

/**
 * The credential the command line gives, or the one a copy side's environment gives
 * (PACKPUB_FROM_USERNAME / PACKPUB_FROM_PASSWORD). Reads stdin for --password-stdin. A flag may take the
 * other half of the pair from the environment (the side's variables first, then the shared ones); a
 * variable that is set but empty is never that half (an unexpanded CI secret), and half a pair in the
 * environment is refused when the environment is what would be used (envCredential).
 */
async function loginFromArgs(args: Args, ctx: CliContext, side?: Side): Promise<Credential | undefined> {
  const env = ctx.io.env;
  const flag = (name: string) => `--${side === undefined ? '' : `${side}-`}${name}`;
  const prefixes = side === undefined ? ['PACKPUB_'] : [`PACKPUB_${side.toUpperCase()}_`, 'PACKPUB_'];
  /** The first of the variables that is set, by name: `NAME` for messages, value possibly empty. */
  const fromEnv = (what: 'USERNAME' | 'PASSWORD'): { name: string; value: string } | undefined => {
    for (const p of prefixes) {
      const value = envValue(env, `${p}${what}`);
      if (value !== undefined) return { name: `${p}${what}`, value };
    }
    return undefined;
  };
  const username = args[key('username', side)] as string | undefined;
  if (username !== undefined && username.trim() === '') {
    throw new PackpubError('USAGE', `${flag('username')} is empty`, {
      hint: `give the user name (an unset CI variable often leaves it empty), or leave ${flag('username')} out`,
    });
  }
  if (side === undefined) {
    const identity = await identityTokenFromArgs(args, ctx);
    if (identity !== undefined) return { identityToken: identity, source: 'flags' };
  }
  if (args[key('passwordStdin', side)] === true) {
    const envUser = fromEnv('USERNAME');
    const user = username ?? (envUser?.value || undefined);
    if (user === undefined) {
      throw new PackpubError('USAGE', `${flag('password-stdin')} needs ${flag('username')} (or ${prefixes[0]}USERNAME)${envUser === undefined ? '' : `: ${envUser.name} is set but empty`}`, {
        hint: `add ${flag('username')} USER`,
      });
    }
    return { username: user, password: await readStdinSecret(ctx.io), source: 'flags' };
  }
  if (username !== undefined) {
    const password = fromEnv('PASSWORD');
    if (password === undefined || password.value === '') {
      throw new PackpubError('USAGE', `${flag('username')} ${username} needs a password${password === undefined ? '' : `: ${password.name} is set but empty`}`, {
        hint: `pipe it in with ${flag('password-stdin')}, or set ${prefixes[0]}PASSWORD (never put it on the command line)`,
      });
    }
    return { username, password: password.value, source: 'flags' };
  }
  if (side !== undefined) {
    // Per-side credentials in the environment beat the shared PACKPUB_USERNAME / PACKPUB_PASSWORD.
    const own = envCredential(env, side === 'from' ? 'PACKPUB_FROM_' : 'PACKPUB_TO_');
    if (own !== undefined) return own;
  }
  // The shared pair is the chain's to read; half of it is refused now, before any work.
  envCredential(env);
  return undefined;
}

/**
 * The flags of this command line as settings data (only the flags that were given), for one target or
 * for one side of a copy. Numbers were parsed and range-checked by prepareArgs.
 */
async function flagSettings(args: Args, ctx: CliContext, side?: Side): Promise<TargetOverrides & Pick<OpenTargetOptions, 'retry'>> {
  const s = (name: string) => (args[name] === undefined ? undefined : String(args[name]));
  const o: TargetOverrides & Pick<OpenTargetOptions, 'retry'> = {};
  const type = s(key('registryType', side));
  if (type !== undefined) o.type = type as NonNullable<TargetOverrides['type']>;
  if (typeof args[key('plainHttp', side)] === 'boolean') o.plainHttp = args[key('plainHttp', side)];
  const caFile = s(key('caFile', side));
  if (caFile !== undefined) o.caFile = userPath(ctx.io, caFile);
  // Booleans with a yargs default of false: only `true` shows the flag was given.
  if (args[key('insecure', side)] === true) o.insecure = true;
  const registryOnly = registryOnlySettings(args, ctx, side);
  Object.assign(o, registryOnly);
  // Messages about a copy side's files, and its hints about plain HTTP, name that side's flags.
  if (side !== undefined) {
    o.settingNames = { ...registryOnly.settingNames, ...(caFile === undefined ? {} : { caFile: `--${side}-ca-file` }), plainHttp: `--${side}-plain-http` };
  }
  if (args['allowCrossHostAuth'] === true) o.allowCrossHostAuth = true;
  // Projects and repositories are only ever created at a destination.
  if (args['createProject'] === true && side !== 'from') o.createProject = true;
  if (Array.isArray(args['resolve'])) o.resolve = (args['resolve'] as unknown[]).map(String);
  const registryConfig = s('registryConfig');
  if (registryConfig !== undefined) o.registryConfig = userPath(ctx.io, registryConfig);
  const login = await loginFromArgs(args, ctx, side);
  if (login !== undefined) o.login = login;
  const ecrEndpoint = s('ecrEndpoint');
  if (ecrEndpoint !== undefined) o.ecrEndpoint = ecrEndpoint;
  const awsProfile = s('awsProfile');
  if (awsProfile !== undefined) o.awsProfile = awsProfile;
  const awsRoleArn = s('awsRoleArn');
  if (awsRoleArn !== undefined) o.awsRoleArn = awsRoleArn;
  const ecr: NonNullable<TargetOverrides['ecr']> = {};
  if (side !== 'from') {
    // --create-repositories defaults to true: only --no-create-repositories shows it was given.
    if (args['createRepositories'] === false) ecr.create = false;
    if (args['ecrTagMutability'] !== undefined) ecr.tagMutability = args['ecrTagMutability'] as NonNullable<typeof ecr.tagMutability>;
    const exclusions = args['ecrTagMutabilityExclusion'] as string[] | undefined;
    if (exclusions !== undefined && exclusions.length > 0) ecr.tagMutabilityExclusions = exclusions.map(String);
    if (args['ecrEncryption'] !== undefined) ecr.encryption = args['ecrEncryption'] as NonNullable<typeof ecr.encryption>;
    const kmsKey = s('ecrKmsKey');
    if (kmsKey !== undefined) ecr.kmsKey = kmsKey;
    const tags = parseTags(args['ecrTag'] as string[] | undefined);
    if (tags !== undefined) ecr.tags = tags;
  }
  if (Object.keys(ecr).length > 0) o.ecr = ecr;
  const retry = retryFlags(args);
  if (retry !== undefined) o.retry = retry;
  return o;
}

/** --retry-attempts, --request-timeout, --retry-deadline, --retry-delay as RetryOptions; undefined when none is given. */
export function retryFlags(args: Args): RetryOptions | undefined {
  const attempts = args['retryAttempts'] as number | undefined;
  const timeout = args['requestTimeout'] as number | undefined;
  const deadline = args['retryDeadline'] as number | undefined;
  const delay = args['retryDelay'] as number | undefined;
  if (attempts === undefined && timeout === undefined && deadline === undefined && delay === undefined) return undefined;
  return {
    ...(attempts === undefined ? {} : { attempts }),
    ...(timeout === undefined ? {} : { requestTimeoutMs: timeout * 1000 }),
    ...(deadline === undefined ? {} : { deadlineMs: deadline * 1000 }),
    ...(delay === undefined ? {} : { initialDelayMs: delay * 1000 }),
  };
}

/** What every target of this run gets besides its own settings: warnings, the debug trace, the environment. */
function runHooks(args: Args, ctx: CliContext): Pick<OpenTargetOptions, 'warn' | 'debug' | 'env'> {
  return {
    warn: (line: string) => writeLine(ctx.io.stderr, `warning: ${line}`),
    env: ctx.io.env,
    ...(args['debug'] === true ? { debug: (line: string) => writeLine(ctx.io.stderr, `debug: ${line}`) } : {}),
  };
}

const INSECURE_WARNING = 'TLS certificates are not verified; anyone on the network path can read and change what is pushed';

/** The connection flags given for this target (or copy side), as typed: a local OCI layout has no use for them. */
function connectionFlagsGiven(flags: TargetOverrides, side: Side | undefined): string[] {
  const flag = (name: string) => `--${side === undefined ? '' : `${side}-`}${name}`;
  return [
    ...(flags.plainHttp === undefined ? [] : [flags.plainHttp ? flag('plain-http') : `--no-${flag('plain-http').slice(2)}`]),
    ...(flags.caFile === undefined ? [] : [flag('ca-file')]),
    ...(flags.insecure === true ? [flag('insecure')] : []),
    ...(flags.certFile === undefined ? [] : [flag('cert-file'), flag('key-file')]),
    ...(flags.headers === undefined ? [] : [flag('header')]),
    // --resolve is shared by both sides of a copy: the other side may use it.
    ...(side === undefined && flags.resolve !== undefined ? ['--resolve'] : []),
    // A registry's flavour and a Harbor project mean nothing to a layout (were ignored without a word).
    ...(flags.type === undefined ? [] : [flag('registry-type')]),
    ...(flags.createProject === true ? ['--create-project'] : []),
  ];
}

/**
 * A local OCI layout takes no connection settings: say which were given and are ignored (as packpub.yaml's
 * `tls:` on an ociLayout target is), instead of checking files it never reads or warning about a network.
 */
function warnIgnoredOnLayout(flags: TargetOverrides, side: Side | undefined, what: string, ctx: CliContext): void {
  const given = connectionFlagsGiven(flags, side);
  if (given.length > 0) writeLine(ctx.io.stderr, `warning: ${given.join(', ')} ignored: ${what} is a local OCI layout, not a registry`);
}

/** Options for a registry or layout named on the command line (not in packpub.yaml). */
function givenTargetOptions(
  where: { registry?: string; ociLayout?: string },
  flags: TargetOverrides & Pick<OpenTargetOptions, 'retry'>,
  args: Args,
  ctx: CliContext,
  side?: Side,
): OpenTargetOptions {
  const { ecr, ...rest } = flags;
  const env = ctx.io.env;
  const ecrEndpoint = flags.ecrEndpoint ?? (env['AWS_ENDPOINT_URL_ECR'] || undefined);
  // Passed to the SDK as the profile: the SDK reads the process's environment, not io.env (embedded main()).
  const awsProfile = flags.awsProfile ?? (env['AWS_PROFILE'] || undefined);
  let located = where;
  if (where.registry === undefined) {
    const dir = where.ociLayout ?? DEFAULT_OCI_LAYOUT;
    // A CI variable written as a YAML block (`|`) ends in a line break: the packs went into a folder `out\n`, exit 0,
    // and the next step reading `out` found none.
    if (/[\r\n]/.test(dir)) {
      const flag = side === undefined ? '--oci-layout' : `--${side}`;
      throw new PackpubError('USAGE', `${flag} ${JSON.stringify(dir)} holds a line break: a folder of that name would be made`, {
        hint: 'give the folder without it (a CI variable often ends in one: strip it)',
      });
    }
    warnIgnoredOnLayout(flags, side, `${side === undefined ? 'the target' : `--${side}`} (${dir})`, ctx);
    if (userPath(ctx.io, dir) !== dir) located = { ociLayout: userPath(ctx.io, dir) };
  } else if (flags.insecure === true) writeLine(ctx.io.stderr, `warning: --insecure: ${INSECURE_WARNING}`);
  return {
    ...located,
    ...rest,
    insecure: flags.insecure === true,
    allowCrossHostAuth: flags.allowCrossHostAuth === true,
    ...(ecrEndpoint === undefined ? {} : { ecrEndpoint }),
    ...(awsProfile === undefined ? {} : { awsProfile }),
    // --aws-role-arn / --aws-profile name the identity: its ECR token comes before the Docker config's.
    ...(flags.awsRoleArn !== undefined || flags.awsProfile !== undefined ? { awsIdentityNamed: true } : {}),
    ecrRepositories: {
      create: ecr?.create !== false,
      ...(ecr?.tagMutability === undefined ? {} : { tagMutability: ecr.tagMutability }),
      ...(ecr?.tagMutabilityExclusions === undefined ? {} : { tagMutabilityExclusions: ecr.tagMutabilityExclusions }),
      ...(ecr?.encryption === undefined ? {} : { encryption: ecr.encryption }),
      ...(ecr?.kmsKey === undefined ? {} : { kmsKey: ecr.kmsKey }),
      ...(ecr?.tags === undefined ? {} : { tags: ecr.tags }),
    },
    createProject: flags.createProject === true,
    ...runHooks(args, ctx),
  };
}

/**
 * Options for one configured target with the flags of this command line applied on top
 * (flags > environment > file).
 */
function configuredTargetOptions(
  loaded: LoadedConfig,
  name: string,
  flags: TargetOverrides & Pick<OpenTargetOptions, 'retry'>,
  args: Args,
  ctx: CliContext,
  side?: Side,
): OpenTargetOptions {
  const target = getConfigTarget(loaded, name);
  const { retry, ...overrides } = flags;
  const options = configTargetOptions(loaded, name, ctx.io.env, overrides);
  // The file's own tls: on a layout is reported by loadConfig ("tls ignored").
  if (target.ociLayout !== undefined) warnIgnoredOnLayout(flags, side, `target ${name}`, ctx);
  else if (target.tls?.insecure === true && flags.insecure !== true) {
    writeLine(ctx.io.stderr, `warning: target ${name} has tls.insecure: ${INSECURE_WARNING}`);
  } else if (flags.insecure === true) {
    writeLine(ctx.io.stderr, `warning: --insecure: ${INSECURE_WARNING}`);
  }
  return { ...options, ...(retry === undefined ? {} : { retry }), ...runHooks(args, ctx) };
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

/** --registry values as given; an empty or blank one is a mistake (an unset CI variable), never "the layout". */
export function registryArgs(args: Args): string[] {
  const raw = args['registry'];
  if (raw === undefined) return [];
  const values = (Array.isArray(raw) ? raw : [raw]).map((v) => String(v));
  if (values.some((v) => v.trim() === '')) {
    throw new PackpubError('USAGE', '--registry is empty', {
      hint: 'give HOST[:PORT]/BASE-PATH (an unset CI variable often leaves it empty), or leave --registry out to use the local OCI layout',
    });
  }
  refuseEmptyItem('--registry', values);
  return listArg(values);
}

/**
 * A comma-separated value with an empty item (`--target "prod,$EXTRA"`, `--target ,`: unset CI variables): the
 * item was dropped, so `push --target ,` published to defaults.target or the local layout, exit 0. Refused as an
 * empty value is.
 */
function refuseEmptyItem(flag: string, values: readonly string[]): void {
  const given = values.find((v) => v.split(',').some((item) => item.trim() === ''));
  if (given === undefined) return;
  throw new PackpubError('USAGE', `${flag} "${given}" has an empty name between its commas`, {
    hint: `an unset CI variable often leaves one out: give every name, or leave ${flag} out`,
  });
}

/** --target values as given; an empty or blank one is a mistake (an unset CI variable), never "the default targets". */
function targetArgs(args: Args): string[] {
  const raw = args['target'];
  if (raw !== undefined && (Array.isArray(raw) ? raw : [raw]).some((v) => String(v).trim() === '')) {
    throw new PackpubError('USAGE', '--target is empty', {
      hint: 'name a target of packpub.yaml (an unset CI variable often leaves it empty), or leave --target out to use defaults.target',
    });
  }
  if (raw !== undefined) refuseEmptyItem('--target', (Array.isArray(raw) ? raw : [raw]).map(String));
  return listArg(raw);
}

/** PACKPUB_REGISTRY when set; set but empty or blank is a mistake, not "no registry". */
export function envRegistry(env: NodeJS.ProcessEnv): string | undefined {
  const value = env['PACKPUB_REGISTRY'];
  if (value === undefined) return undefined;
  if (value.trim() === '') {
    throw new PackpubError('USAGE', 'PACKPUB_REGISTRY is set but empty', {
      hint: 'set it to HOST[:PORT]/BASE-PATH, or unset it to use the local OCI layout (an unset CI variable often leaves it empty)',
    });
  }
  try {
    parseRegistryLocation(value);
  } catch (err) {
    // Say where the value came from: nothing on the command line shows it.
    if (err instanceof PackpubError) throw new PackpubError(err.code, `PACKPUB_REGISTRY: ${err.message}`, { ...(err.hint === undefined ? {} : { hint: err.hint }), cause: err });
    throw err;
  }
  return value;
}

export interface TargetChoice {
  /** push: several targets (repeated --registry / --target, or defaults.target naming several). */
  many?: boolean;
}

/**
 * The one mapping from flags + environment + packpub.yaml to target options, for every command that
 * talks to one or more targets: from --registry (repeatable for push), from --target NAME looked up in
 * packpub.yaml, or the single default (PACKPUB_REGISTRY, else the file's defaults.target, else the local
 * OCI layout). Flags beat the environment, which beats the file. Contradictions are refused here, before
 * any work. The result is data: openTarget builds each target's credential chain and HTTP stack.
 */
export async function resolveTargetOptions(args: Args, ctx: CliContext, choice: TargetChoice = { many: true }): Promise<OpenTargetOptions[]> {
  const names = targetArgs(args);
  const registries = registryArgs(args);
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
  if (choice.many !== true && (registries.length > 1 || names.length > 1)) {
    // --target a,b is one flag naming two targets.
    const what = registries.length > 1 ? `--registry was given ${registries.length} times` : `--target names ${names.length} targets (${names.join(', ')})`;
    throw new PackpubError('USAGE', `${what}; this command works on one target`, { hint: 'only push and palette sync take several targets' });
  }
  const fromEnv = names.length === 0 && registries.length === 0 && ociLayout === undefined ? envRegistry(ctx.io.env) : undefined;
  const loaded = await loadCliConfig(args, ctx);
  const chosen = names.length > 0 ? names : registries.length === 0 && ociLayout === undefined && fromEnv === undefined ? defaultTargetNames(loaded.config) : [];
  if (choice.many !== true && chosen.length > 1) {
    throw new PackpubError('USAGE', `defaults.target names ${chosen.length} targets; this command works on one`, { hint: 'pick one with --target NAME' });
  }

  if (chosen.length === 0) {
    const unique = [...new Set(registries)];
    if (unique.length < registries.length) throw new PackpubError('USAGE', 'the same --registry is given twice');
    if (unique.length > 1) {
      refuseSameDestination(unique.map((registry) => ({ label: `--registry ${registry}`, registry })), ctx.io.cwd);
      refuseSharedCredentials(args, ctx, `the ${unique.length} registries`);
    }
    const flags = await flagSettings(args, ctx);
    const options =
      unique.length === 0
        ? [givenTargetOptions(fromEnv !== undefined ? { registry: fromEnv } : ociLayout !== undefined ? { ociLayout } : {}, flags, args, ctx)]
        : unique.map((registry) => givenTargetOptions({ registry }, flags, args, ctx));
    warnEcrFlagsUnused(flags, options, ctx);
    return options;
  }

  const unique = [...new Set(chosen)];
  for (const name of unique) getConfigTarget(loaded, name); // unknown names fail before stdin is read
  if (unique.length > 1) refuseSharedCredentials(args, ctx, `the targets ${unique.join(', ')}`);
  const flags = await flagSettings(args, ctx);
  const options = unique.map((name) => configuredTargetOptions(loaded, name, flags, args, ctx));
  if (options.length > 1) refuseSameDestination(options.map((o, i) => ({ label: `target ${unique[i] ?? ''}`, ...o })), ctx.io.cwd);
  warnEcrFlagsUnused(flags, options, ctx);
  return options;
}

/** The ECR flags a command line gave, as typed (TargetOverrides keys to flags). */
function ecrFlagsGiven(flags: TargetOverrides): string[] {
  const ecr = flags.ecr ?? {};
  return [
    ...(ecr.create === false ? ['--no-create-repositories'] : []),
    ...(ecr.tagMutability === undefined ? [] : ['--ecr-tag-mutability']),
    ...(ecr.tagMutabilityExclusions === undefined ? [] : ['--ecr-tag-mutability-exclusion']),
    ...(ecr.encryption === undefined ? [] : ['--ecr-encryption']),
    ...(ecr.kmsKey === undefined ? [] : ['--ecr-kms-key']),
    ...(ecr.tags === undefined ? [] : ['--ecr-tag']),
    ...(flags.awsProfile === undefined ? [] : ['--aws-profile']),
    ...(flags.awsRoleArn === undefined ? [] : ['--aws-role-arn']),
    ...(flags.ecrEndpoint === undefined ? [] : ['--ecr-endpoint']),
  ];
}

/**
 * ECR flags given for a run none of whose targets is ECR (or ECR Public) were dropped without a word (`--ecr-encryption
 * KMS` on a registry reached under another name, read as a generic one: repositories without KMS, exit 0), while
 * packpub.yaml's `ecr:` on such a target is warned about. Said once, for the run.
 */
function warnEcrFlagsUnused(flags: TargetOverrides, options: readonly OpenTargetOptions[], ctx: CliContext): void {
  const given = ecrFlagsGiven(flags);
  if (given.length === 0) return;
  const isEcr = (o: OpenTargetOptions): boolean => {
    // A layout is no ECR, whatever --registry-type says (that flag is named in the layout's own warning).
    if (o.registry === undefined) return false;
    if (o.type === 'ecr') return true;
    if (o.type !== undefined) return false;
    try {
      const { host } = parseRegistryLocation(o.registry);
      return isEcrHost(host) || isEcrPublicHost(host);
    } catch {
      return true; // said by openTarget
    }
  };
  if (options.some(isEcr)) return;
  // The hint only where a registry could be ECR under another name: no flag makes a layout ECR.
  const hint = options.some((o) => o.registry !== undefined) ? ' (give --registry-type ecr if it is one)' : '';
  writeLine(ctx.io.stderr, `warning: ${given.join(', ')} ignored: ${options.length === 1 ? 'the target is not' : 'no target of this run is'} an AWS ECR registry${hint}`);
}

/**
 * Two targets of one run that are one place (`--registry h/base --registry h/base/`, two packpub.yaml targets naming
 * the same registry or layout): each pack was written there twice at once, the second reported `unchanged`, and the
 * summary counted both. Two targets whose `resolve` sends the name to different addresses (one name served by a
 * registry in each data centre) are two places.
 */
function refuseSameDestination(
  targets: ReadonlyArray<{ label: string; registry?: string | undefined; ociLayout?: string | undefined; resolve?: readonly string[] | undefined; plainHttp?: boolean | undefined }>,
  cwd: string,
): void {
  const seen = new Map<string, string>();
  for (const t of targets) {
    let place: string;
    if (t.registry === undefined) place = `oci-layout ${resolve(cwd, t.ociLayout ?? DEFAULT_OCI_LAYOUT)}`;
    else {
      const { host, basePath } = parseRegistryLocation(t.registry);
      place = `registry ${host.toLowerCase()}${basePath === '' ? '' : `/${basePath}`}`;
      if (t.resolve !== undefined && t.resolve.length > 0) {
        const { hostname, port } = new URL(`http://${host}`);
        const address = new ResolveMap(t.resolve).lookup(hostname, port === '' ? (t.plainHttp === true ? 80 : 443) : Number(port));
        if (address !== undefined) place += ` at ${address}`;
      }
    }
    const other = seen.get(place);
    if (other !== undefined) {
      throw new PackpubError('USAGE', `${other} and ${t.label} are the same ${place}`, { hint: 'give each registry or layout once (push would write each pack there twice at once)' });
    }
    seen.set(place, t.label);
  }
}

/** The single target of a command that works on one (list, inspect, pull, tag). */
export async function resolveOneTarget(args: Args, ctx: CliContext): Promise<OpenTargetOptions> {
  const [options] = await resolveTargetOptions(args, ctx, { many: false });
  return options!;
}

/** What `--from` / `--to` names: a configured target, a local layout, or a registry. */
export type SideSpec = { kind: 'target'; name: string } | { kind: 'layout'; dir: string } | { kind: 'registry'; registry: string };

/** A name defined under `targets:` wins over a registry host of the same spelling. `oci:~/DIR` is in the home folder (no shell reads that `~`). */
export function parseSide(value: string, loaded: LoadedConfig, io: Pick<CliContext['io'], 'cwd' | 'env'>): SideSpec {
  if (value.trim() === '') throw new PackpubError('USAGE', 'an empty --from or --to names nothing', { hint: 'give HOST[:PORT]/BASE-PATH, oci:DIR, or a target named in packpub.yaml' });
  if (loaded.config?.targets?.[value] !== undefined) return { kind: 'target', name: value };
  if (value.startsWith('oci:')) {
    const dir = value.slice('oci:'.length);
    if (dir.trim() === '') throw new PackpubError('USAGE', '"oci:" needs a directory, e.g. oci:./oci-packs');
    // `oci:-` made (or read) a layout folder named "-".
    if (dir === '-') throw new PackpubError('USAGE', '"oci:-" names standard input or output, not a folder', { hint: 'give oci:./- for a folder named "-"' });
    return { kind: 'layout', dir: homePath(dir, io.env) ?? resolve(io.cwd, dir) };
  }
  return { kind: 'registry', registry: value };
}

/**
 * Options for one side of `copy` (--from or --to), through the same mapping: per-side flags and
 * per-side credentials (PACKPUB_FROM_* / PACKPUB_TO_*) become settings, never rewritten environment.
 * PACKPUB_REGISTRY names push's target; for copy, --from and --to say everything.
 */
export async function resolveSideOptions(args: Args, ctx: CliContext, side: Side): Promise<OpenTargetOptions> {
  const loaded = await loadCliConfig(args, ctx);
  const spec = parseSide(String(args[side]), loaded, ctx.io);
  // A mistake in the location is refused now, with this side's flag in the hint (openTarget parses it again).
  if (spec.kind === 'registry') parseRegistryLocation(spec.registry, `--${side}-plain-http`);
  refuseSharedPairOnBothSides(args, ctx, loaded);
  const flags = await flagSettings(args, ctx, side);
  if (spec.kind === 'target') return configuredTargetOptions(loaded, spec.name, flags, args, ctx, side);
  return givenTargetOptions(spec.kind === 'registry' ? { registry: spec.registry } : { ociLayout: spec.dir }, flags, args, ctx, side);
}

/** The registry host a copy side names (lowercase), or undefined for a layout (or a side not given). */
function sideHost(args: Args, ctx: CliContext, loaded: LoadedConfig, side: Side): string | undefined {
  if (args[side] === undefined) return undefined;
  const spec = parseSide(String(args[side]), loaded, ctx.io);
  const registry = spec.kind === 'registry' ? spec.registry : spec.kind === 'target' ? loaded.config?.targets?.[spec.name]?.registry : undefined;
  if (registry === undefined) return undefined;
  try {
    return parseRegistryLocation(registry).host.toLowerCase();
  } catch {
    return undefined; // that side's own resolveSideOptions says what is wrong, with its flags in the hint
  }
}

/**
 * The shared PACKPUB_USERNAME / PACKPUB_PASSWORD go to each side of a copy that has no credential of its own
 * (flags, PACKPUB_FROM_* / PACKPUB_TO_*), and beat a target's auth in packpub.yaml. With two registry hosts that
 * sent one registry's secret to the other (copy from Harbor to ECR: the robot's secret to AWS, then "credentials
 * rejected"): refused, as push refuses them for several targets. One host (two projects of one Harbor) is fine.
 */
function refuseSharedPairOnBothSides(args: Args, ctx: CliContext, loaded: LoadedConfig): void {
  const env = ctx.io.env;
  const usesShared = (side: Side) => !flagCredentialsGiven(args, side) && envCredential(env, side === 'from' ? 'PACKPUB_FROM_' : 'PACKPUB_TO_') === undefined;
  if (!usesShared('from') || !usesShared('to') || !hasEnvCredentials(env)) return;
  const from = sideHost(args, ctx, loaded, 'from');
  const to = sideHost(args, ctx, loaded, 'to');
  if (from === undefined || to === undefined || from === to) return;
  throw new PackpubError('USAGE', `PACKPUB_USERNAME / PACKPUB_PASSWORD would be sent to both sides of the copy, ${from} and ${to}`, {
    hint: 'give each side its own: PACKPUB_FROM_USERNAME + PACKPUB_FROM_PASSWORD and PACKPUB_TO_USERNAME + PACKPUB_TO_PASSWORD (or --from-username / --to-username), or use the Docker config (packpub login), which keeps credentials per host',
  });
}

/** The flags of `args` that chose the target (and the file naming it), as a hint repeats them: ` --registry h/b`. */
export function hintFlags(args: Readonly<Record<string, unknown>>): string {
  const word = (v: unknown): string => shellWord(String(v));
  const named = (flag: string, value: unknown): string => {
    const text = Array.isArray(value) ? value.join(',') : value;
    return text === undefined || text === '' ? '' : ` ${flag} ${word(text)}`;
  };
  return named('--target', args['target']) + named('--registry', args['registry']) + named('--oci-layout', args['ociLayout']) + named('--config', args['config']);
}

/** hintFlags for a copy side: its place as list and inspect would name it (` --target NAME`, ` --registry X`, ` --oci-layout DIR`). */
export async function sideHintFlags(args: Args, ctx: CliContext, side: Side): Promise<string> {
  const spec = parseSide(String(args[side]), await loadCliConfig(args, ctx), ctx.io);
  const place = spec.kind === 'target' ? { target: spec.name } : spec.kind === 'layout' ? { ociLayout: spec.dir } : { registry: spec.registry };
  return hintFlags({ ...place, config: args['config'] });
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
  refuseEmptyPackFolders('push', given);
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
  return (Array.isArray(value) ? value : [value]).map(String);
}

export interface RunDefaults {
  concurrency?: number;
  strict: boolean;
  continueOnError: boolean;
  failFast: boolean;
  skipExisting: boolean;
}

/**
 * Run settings: a flag that was given wins, else the file's `defaults:`. push declares these switches
 * without a default, so a given flag is true or false and an absent one undefined: `--no-strict` turns off
 * a file's `strict: true` (it was ignored before), and `--force` beats the file's skipExisting.
 */
export async function configuredRunDefaults(args: Args, ctx: CliContext): Promise<RunDefaults> {
  const d = (await loadCliConfig(args, ctx)).config?.defaults ?? {};
  const flag = (key: string, fromFile: boolean | undefined): boolean => (typeof args[key] === 'boolean' ? args[key] : fromFile) === true;
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
