import { envCredential, envValue } from '../credentials/env.js';
import type { Credential, CredentialProvider } from '../credentials/types.js';
import { PackpubError } from '../errors.js';
import type { TlsSettingNames } from '../registry/stack.js';
import type { OpenTargetOptions } from '../targets/open.js';
import type { LoadedConfig } from './load.js';
import type { ConfigTarget, PackpubConfig } from './schema.js';

/** The target names `defaults.target` selects (empty when the file names none). */
export function defaultTargetNames(config: PackpubConfig | undefined): string[] {
  const t = config?.defaults?.target;
  if (t === undefined) return [];
  return Array.isArray(t) ? [...t] : [t];
}

/** A named target from the file, or a USAGE error listing the names that exist. */
export function getConfigTarget(loaded: LoadedConfig, name: string): ConfigTarget {
  const target = loaded.config?.targets?.[name];
  if (target !== undefined) return target;
  const known = Object.keys(loaded.config?.targets ?? {});
  if (loaded.file === undefined) {
    throw new PackpubError('USAGE', `target "${name}" is not defined: no packpub.yaml was found`, {
      hint: 'create packpub.yaml with a targets: section in this folder, or pass --config FILE',
    });
  }
  throw new PackpubError('USAGE', `target "${name}" is not defined in ${loaded.file}`, {
    hint: known.length === 0 ? 'add it under targets:' : `defined targets: ${known.join(', ')}`,
  });
}

/**
 * True when PACKPUB_USERNAME and PACKPUB_PASSWORD are both set (they then beat the file); half a pair is
 * refused (USAGE, envCredential).
 */
export function hasEnvCredentials(env: NodeJS.ProcessEnv): boolean {
  return envCredential(env) !== undefined;
}

/**
 * The credential a target's `auth` section names: `username` plus the password read from the
 * environment variable `passwordEnv`. Undefined when the section names no user.
 */
export function fileCredential(loaded: LoadedConfig, name: string, env: NodeJS.ProcessEnv): Credential | undefined {
  const auth = getConfigTarget(loaded, name).auth;
  if (auth?.username === undefined || auth.passwordEnv === undefined) return undefined;
  const password = envValue(env, auth.passwordEnv);
  if (password === undefined || password === '') {
    throw new PackpubError('CONFIG', `targets.${name}.auth.passwordEnv in ${loaded.file ?? 'packpub.yaml'} names ${auth.passwordEnv}, which is ${password === undefined ? 'not set' : 'empty'}`, {
      hint: `set ${auth.passwordEnv} to the password of ${auth.username} (in CI: from a secret), or remove auth from the target to use the Docker config`,
    });
  }
  return { username: auth.username, password, source: `${loaded.file ?? 'packpub.yaml'} (targets.${name}.auth)` };
}

/** Settings given on the command line; each one beats the environment and the file. */
export interface TargetOverrides {
  type?: OpenTargetOptions['type'];
  plainHttp?: boolean;
  caFile?: string;
  insecure?: boolean;
  /** mTLS client certificate and key (both or neither). */
  certFile?: string;
  keyFile?: string;
  /** Extra headers for the registry host (lowercase name -> value). */
  headers?: Record<string, string>;
  /** How the TLS flags were spelled (a copy side's --to-ca-file, --to-plain-http), for messages. */
  settingNames?: TlsSettingNames;
  resolve?: string[];
  allowCrossHostAuth?: boolean;
  registryConfig?: string;
  /** A credential from the command line (--username with a password): tried before every other source. */
  login?: Credential;
  /** A provider of the caller's own: it replaces the whole chain. */
  credentials?: CredentialProvider;
  ecrEndpoint?: string;
  awsProfile?: string;
  awsRoleArn?: string;
  ecr?: {
    create?: boolean;
    tagMutability?: NonNullable<OpenTargetOptions['ecrRepositories']>['tagMutability'];
    tagMutabilityExclusions?: string[];
    encryption?: NonNullable<OpenTargetOptions['ecrRepositories']>['encryption'];
    kmsKey?: string;
    tags?: Record<string, string>;
  };
  createProject?: boolean;
}

/**
 * Options to open a configured target: overrides (flags) beat the environment, which beats the file.
 * Without overrides this is what a library caller gets for `--target NAME`. Pure data: the credential
 * sources are named (login, fileLogin, registryConfig) and openTarget builds the chain from them.
 */
export function configTargetOptions(
  loaded: LoadedConfig,
  name: string,
  env: NodeJS.ProcessEnv = process.env,
  overrides: TargetOverrides = {},
): OpenTargetOptions {
  const t = getConfigTarget(loaded, name);
  if (t.ociLayout !== undefined) return { ociLayout: t.ociLayout, env };
  const o = overrides;
  const ecrEndpoint = o.ecrEndpoint ?? (env['AWS_ENDPOINT_URL_ECR'] || undefined) ?? t.ecr?.endpoint;
  // AWS_PROFILE in the environment beats the file's profile (env over file). It is passed to the SDK as
  // the profile: the SDK reads the process's environment, which is not `env` when main() runs embedded.
  const awsProfile = o.awsProfile ?? (env['AWS_PROFILE'] || undefined) ?? t.ecr?.awsProfile;
  const awsRoleArn = o.awsRoleArn ?? t.ecr?.awsRoleArn;
  // Named for this target (not only AWS_PROFILE of the environment): its ECR token comes before the Docker config's.
  const awsIdentityNamed = awsRoleArn !== undefined || o.awsProfile !== undefined || t.ecr?.awsProfile !== undefined;
  const registryConfig = o.registryConfig ?? t.auth?.registryConfig;
  const plainHttp = o.plainHttp ?? t.tls?.plainHttp;
  const caFile = o.caFile ?? t.tls?.caFile;
  // The certificate and its key come as a pair: from the flags, else from the file.
  const clientCert = o.certFile !== undefined ? { certFile: o.certFile, keyFile: o.keyFile } : { certFile: t.tls?.certFile, keyFile: t.tls?.keyFile };
  // Messages name each file setting where it was given: the flag, or this target's key in the file.
  const inFile = (key: string) => `targets.${name}.tls.${key} in ${loaded.file ?? 'packpub.yaml'}`;
  const settingNames = {
    ...(o.caFile === undefined ? (t.tls?.caFile === undefined ? {} : { caFile: inFile('caFile') }) : o.settingNames?.caFile === undefined ? {} : { caFile: o.settingNames.caFile }),
    ...(o.certFile !== undefined
      ? { ...(o.settingNames?.certFile === undefined ? {} : { certFile: o.settingNames.certFile }), ...(o.settingNames?.keyFile === undefined ? {} : { keyFile: o.settingNames.keyFile }) }
      : t.tls?.certFile === undefined
        ? {}
        : { certFile: inFile('certFile'), keyFile: inFile('keyFile') }),
    ...(o.settingNames?.plainHttp === undefined ? {} : { plainHttp: o.settingNames.plainHttp }),
  };
  const resolveHosts = o.resolve ?? t.resolve;
  const type = o.type ?? t.type;
  const ecr = {
    create: o.ecr?.create ?? t.ecr?.createRepositories,
    tagMutability: o.ecr?.tagMutability ?? t.ecr?.tagMutability,
    // The filters go with the mutability they belong to: a mutability given as a flag takes the flag's filters only.
    tagMutabilityExclusions: o.ecr?.tagMutability !== undefined || o.ecr?.tagMutabilityExclusions !== undefined ? o.ecr?.tagMutabilityExclusions : t.ecr?.tagMutabilityExclusions,
    encryption: o.ecr?.encryption ?? t.ecr?.encryption,
    kmsKey: o.ecr?.kmsKey ?? t.ecr?.kmsKey,
    tags: o.ecr?.tags ?? t.ecr?.tags,
  };
  // The file's credential is only read (and its passwordEnv required) when nothing before it answers.
  const fileLogin = o.credentials !== undefined || o.login !== undefined || hasEnvCredentials(env) ? undefined : fileCredential(loaded, name, env);
  return {
    ...(t.registry === undefined ? {} : { registry: t.registry }),
    ...(type === undefined ? {} : { type }),
    ...(plainHttp === undefined ? {} : { plainHttp }),
    ...(caFile === undefined ? {} : { caFile }),
    insecure: (o.insecure ?? t.tls?.insecure) === true,
    ...(clientCert.certFile === undefined ? {} : { certFile: clientCert.certFile }),
    ...(clientCert.keyFile === undefined ? {} : { keyFile: clientCert.keyFile }),
    ...(o.headers === undefined ? {} : { headers: o.headers }),
    ...(Object.keys(settingNames).length === 0 ? {} : { settingNames }),
    ...(resolveHosts === undefined ? {} : { resolve: resolveHosts }),
    allowCrossHostAuth: (o.allowCrossHostAuth ?? t.auth?.allowCrossHostAuth) === true,
    ...(o.credentials === undefined ? {} : { credentials: o.credentials }),
    ...(o.login === undefined ? {} : { login: o.login }),
    ...(fileLogin === undefined ? {} : { fileLogin }),
    ...(registryConfig === undefined ? {} : { registryConfig }),
    ...(ecrEndpoint === undefined ? {} : { ecrEndpoint }),
    ...(awsProfile === undefined ? {} : { awsProfile }),
    ...(awsRoleArn === undefined ? {} : { awsRoleArn }),
    ...(awsIdentityNamed ? { awsIdentityNamed } : {}),
    ecrRepositories: {
      create: ecr.create !== false,
      ...(ecr.tagMutability === undefined ? {} : { tagMutability: ecr.tagMutability }),
      ...(ecr.tagMutabilityExclusions === undefined ? {} : { tagMutabilityExclusions: ecr.tagMutabilityExclusions }),
      ...(ecr.encryption === undefined ? {} : { encryption: ecr.encryption }),
      ...(ecr.kmsKey === undefined ? {} : { kmsKey: ecr.kmsKey }),
      ...(ecr.tags === undefined ? {} : { tags: ecr.tags }),
    },
    createProject: (o.createProject ?? t.harbor?.createProject) === true,
    env,
  };
}
