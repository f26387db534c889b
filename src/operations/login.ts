import { staticProvider } from '../credentials/chain.js';
import { helperErase, helperStore, type CredentialHelperOptions } from '../credentials/cred-helper.js';
import {
  authKeysFor,
  dockerConfigPath,
  encodeAuth,
  findAuthEntry,
  helperFor,
  normalizeRegistryKey,
  readDockerConfig,
  registryKey,
  updateDockerConfig,
  type DockerConfig,
} from '../credentials/docker-config.js';
import { parseEcrHost } from '../aws/ecr-host.js';
import { PackpubError } from '../errors.js';
import { validateHost } from '../oci/reference.js';
import { refuseColonUserName, tokenSubject } from '../registry/auth/token.js';
import { RegistryClient } from '../registry/client.js';
import { discardBody } from '../registry/http.js';
import { plainHttpRealm, tokenRedirectHint } from '../registry/errors.js';
import type { RegistryConnectionOptions } from '../targets/options.js';

/*
 * `packpub login` / `logout`: what `docker login` does, in the same file format, so Docker, ORAS, Helm and
 * skopeo read what packpub writes and the other way round (oras-1.0-push.md, "Auth as ORAS does it").
 * Credentials are checked against `GET /v2/` before anything is saved, as `oras login` does.
 */

/** Network settings used to reach the registry for the check. */
export type LoginConnection = Pick<RegistryConnectionOptions, 'plainHttp' | 'caFile' | 'insecure' | 'certFile' | 'keyFile' | 'headers' | 'resolve' | 'allowCrossHostAuth' | 'retry' | 'debug' | 'userAgent'>;

export interface LoginOptions extends LoginConnection {
  /** Registry host (`host[:port]`; a scheme or path, as Docker accepts, is dropped). */
  host: string;
  username: string;
  password: string;
  /** --registry-config: this Docker config file instead of the default. */
  registryConfig?: string;
  env?: NodeJS.ProcessEnv;
  /** Credential helper process settings. */
  helper?: Omit<CredentialHelperOptions, 'configuredIn'>;
}

export type StoredIn = { kind: 'helper'; helper: string; program: string } | { kind: 'file'; path: string };

export interface LoginResult {
  host: string;
  /** The key or server URL the credentials are stored under. */
  key: string;
  storedIn: StoredIn;
  /** The Docker config file that was read (and written for a plain `auths` entry). */
  configPath: string;
  /** False when `/v2/` answered without asking for credentials, so they were saved unchecked (as docker login does). */
  checked: boolean;
}

export interface LogoutOptions {
  host: string;
  registryConfig?: string;
  env?: NodeJS.ProcessEnv;
  helper?: Omit<CredentialHelperOptions, 'configuredIn'>;
}

export interface LogoutResult {
  host: string;
  /** False when nothing was stored for the host. */
  removed: boolean;
  /** Where credentials were removed from. */
  removedFrom: StoredIn[];
  configPath: string;
}

/** `https://harbor.example.com/v2/` -> `harbor.example.com` (Docker accepts URLs here); validated. */
export function loginHost(input: string): { host: string; plainHttp?: boolean } {
  const trimmed = input.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(trimmed)?.[1]?.toLowerCase();
  const host = trimmed.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').split('/')[0] ?? '';
  validateHost(host);
  return { host: normalizeRegistryKey(host) === 'docker.io' ? 'docker.io' : host.toLowerCase(), ...(scheme === 'http' ? { plainHttp: true } : {}) };
}

/**
 * Why `login` is not needed for this host, or undefined when it is. ECR registry passwords last 12 hours
 * and are minted on demand from AWS credentials, so storing one would only leave a stale secret behind.
 */
export function loginNotNeeded(host: string): string | undefined {
  const ecr = parseEcrHost(host);
  if (ecr === undefined) return undefined;
  return (
    `${host} is an AWS ECR registry: packpub mints its registry password on demand with ecr:GetAuthorizationToken ` +
    `from your AWS credentials (AWS_PROFILE / --aws-profile, aws sso login, environment keys, OIDC web identity, ` +
    `instance or task roles), so there is nothing to log in to`
  );
}

/** `docker.io` is served by registry-1.docker.io; every other host serves its own API. */
function apiHost(host: string): string {
  return host === 'docker.io' ? 'registry-1.docker.io' : host;
}

/**
 * `GET /v2/` with the credentials; throws the registry client's AUTH error when they are rejected or would
 * not be sent. Returns false when the registry answered without asking for credentials (nothing checked).
 */
export async function verifyCredentials(options: LoginOptions): Promise<boolean> {
  const host = apiHost(options.host);
  const client = RegistryClient.create({
    ...options,
    host,
    credentials: staticProvider('login', { username: options.username, password: options.password }),
  });
  try {
    const auth = await client.request({ method: 'GET', url: client.url('/v2/'), expect: [200] }, async (res) => {
      await discardBody(res);
      return res.auth;
    });
    if (auth.withheld === 'plain-http' && auth.realmHost !== undefined && client.url('/v2/').protocol === 'https:') {
      const { message, hint } = plainHttpRealm(host, auth.realmHost);
      throw new PackpubError('AUTH', `${message}, so they could not be checked`, { hint: `${hint}; nothing was saved` });
    }
    if (auth.withheld !== undefined) {
      // Later commands would withhold them the same way: saving them would only hide the problem.
      throw new PackpubError('AUTH', `credentials for ${host} were not sent, so they could not be checked`, {
        hint:
          auth.withheld === 'plain-http'
            ? 'pass --plain-http explicitly to send credentials over HTTP'
            : auth.withheld === 'redirect'
              ? `the token service ${auth.realmHost ?? ''} redirected them to ${auth.redirectedTo ?? ''}, where they do not go: ${tokenRedirectHint(auth.realmHost ?? '')}`
              : `the token service ${auth.realmHost ?? ''} is on another host; pass --allow-cross-host-auth if you trust it`,
      });
    }
    // Harbor's token service (and others like it) answers wrong credentials with a 200 and a token for no one,
    // which /v2/ accepts: docker login then says "Login Succeeded" and saves them. A token that names its
    // subject as nobody (an empty `sub`) says the credentials were not taken; an opaque one is not judged.
    if (auth.scheme === 'bearer' && auth.credentialSent && client.session.tokens.fresh().some((token) => tokenSubject(token) === '')) {
      throw new PackpubError('AUTH', `credentials rejected by ${host}: its token service (${auth.realmHost ?? host}) answered them with an anonymous token (no subject), as it answers a wrong user name or password`, {
        hint: 'check the user name and password (a robot account\'s name as robot$<project>+<name>, quoted in the shell); nothing was saved',
      });
    }
    return auth.credentialSent;
  } finally {
    await client.close();
  }
}

/**
 * Check the credentials against the registry, then save them: into the credential helper configured for
 * the host (`credHelpers[host]`, else `credsStore`), else as `auths[host].auth` in the Docker config.
 */
export async function login(options: LoginOptions): Promise<LoginResult> {
  const parsed = loginHost(options.host);
  const host = parsed.host;
  const notNeeded = loginNotNeeded(host);
  if (notNeeded !== undefined) throw new PackpubError('USAGE', notNeeded, { hint: 'run packpub push directly; no login is needed for ECR' });
  if (options.username === '') throw new PackpubError('USAGE', 'login needs a user name', { hint: 'pass -u USER' });
  // Before anything is sent: a registry that asks for no credentials would never see the Basic header that refuses it.
  refuseColonUserName(options.username);
  if (options.password === '') {
    throw new PackpubError('USAGE', 'login needs a password or token', { hint: 'pipe it in: echo "$TOKEN" | packpub login HOST -u USER --password-stdin' });
  }
  const configPath = dockerConfigPath({ ...(options.registryConfig === undefined ? {} : { registryConfig: options.registryConfig }), ...(options.env === undefined ? {} : { env: options.env }) });
  // Read first: a broken config should stop us before we talk to the registry.
  const existing = (await readDockerConfig(configPath)) ?? {};
  const checked = await verifyCredentials({ ...options, ...parsed, host });

  const key = registryKey(host);
  const helper = helperFor(existing, host);
  if (helper !== undefined) {
    await helperStore(helper.helper, { serverUrl: key, username: options.username, secret: options.password }, {
      ...(options.env === undefined ? {} : { env: options.env }),
      ...options.helper,
      configuredIn: `${helper.via} of ${configPath}`,
    });
    // As docker login does with a helper: keep an `auths` entry without secrets, and drop any old secret
    // there, which packpub would otherwise read before asking the helper.
    await updateDockerConfig(configPath, (config) => {
      config.auths ??= {};
      const keys = authKeysFor(config, host);
      if (keys.length === 0) config.auths[key] = {};
      for (const k of keys) config.auths[k] = stripSecrets(config.auths[k] ?? {});
    });
    return { host, key, storedIn: { kind: 'helper', helper: helper.helper, program: `docker-credential-${helper.helper}` }, configPath, checked };
  }
  let writtenKey = key;
  await updateDockerConfig(configPath, (config) => {
    config.auths ??= {};
    const found = findAuthEntry(config, host);
    writtenKey = found?.key ?? key;
    config.auths[writtenKey] = { ...stripSecrets(found?.entry ?? {}), auth: encodeAuth(options.username, options.password) };
  });
  return { host, key: writtenKey, storedIn: { kind: 'file', path: configPath }, configPath, checked };
}

function stripSecrets(entry: NonNullable<DockerConfig['auths']>[string]): NonNullable<DockerConfig['auths']>[string] {
  const { auth: _auth, identitytoken: _id, password: _pw, username: _user, registrytoken: _rt, ...rest } = entry;
  return rest;
}

/** Remove stored credentials for the host: from its credential helper and from `auths`. */
export async function logout(options: LogoutOptions): Promise<LogoutResult> {
  const { host } = loginHost(options.host);
  const configPath = dockerConfigPath({ ...(options.registryConfig === undefined ? {} : { registryConfig: options.registryConfig }), ...(options.env === undefined ? {} : { env: options.env }) });
  const config = await readDockerConfig(configPath);
  const removedFrom: StoredIn[] = [];
  if (config === undefined) return { host, removed: false, removedFrom, configPath };
  const helper = helperFor(config, host);
  if (helper !== undefined) {
    const erased = await helperErase(helper.helper, registryKey(host), {
      ...(options.env === undefined ? {} : { env: options.env }),
      ...options.helper,
      configuredIn: `${helper.via} of ${configPath}`,
    });
    if (erased) removedFrom.push({ kind: 'helper', helper: helper.helper, program: `docker-credential-${helper.helper}` });
  }
  const keys = authKeysFor(config, host);
  if (keys.length > 0) {
    const hadSecret = keys.some((k) => Object.keys(config.auths?.[k] ?? {}).length > 0);
    await updateDockerConfig(configPath, (c) => {
      for (const k of authKeysFor(c, host)) delete c.auths?.[k];
    });
    if (hadSecret) removedFrom.push({ kind: 'file', path: configPath });
  }
  return { host, removed: removedFrom.length > 0, removedFrom, configPath };
}
