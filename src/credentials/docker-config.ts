import { constants } from 'node:fs';
import { access, lstat, mkdir, realpath, stat } from 'node:fs/promises';
import { noHomeReason, systemHome } from '../util/home.js';
import { dirname, join } from 'node:path';
import { isEcrHost, isEcrPublicHost } from '../aws/ecr-host.js';
import { registerSecret } from '../util/redact.js';
import { PackpubError, isPackpubError } from '../errors.js';
import type { CredentialHelperOptions } from './cred-helper.js';
import { normalizeRegistryKey } from './registry-key.js';
import { passable, unanswered, type Credential, type CredentialProvider } from './types.js';
import { makeDirs, outputPlace, readNamedFile, removeDeadTempsOf, writeFileAtomic } from '../util/fs.js';
import { withLockFile, type HeldLock } from '../util/lock-file.js';

/*
 * Docker's client config file (docker/cli cli/config/configfile), as Docker and ORAS read and write it (Helm, skopeo and
 * podman read it too, but their logins write a file of the same format elsewhere: README "Credentials"):
 *   { "auths": { "<host>": { "auth": base64("user:pass"), "identitytoken": "..." } },
 *     "credHelpers": { "<host>": "<helper>" }, "credsStore": "<helper>", ...other fields... }
 * Keys of `auths` may carry a scheme and a path (`https://index.docker.io/v1/`); Docker Hub lives under
 * `https://index.docker.io/v1/`.
 */

export interface DockerAuthEntry {
  auth?: string;
  identitytoken?: string;
  /** A bearer token sent to the registry as it is (Docker's and ORAS's `registrytoken`). */
  registrytoken?: string;
  username?: string;
  password?: string;
  [key: string]: unknown;
}

export interface DockerConfig {
  auths?: Record<string, DockerAuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [key: string]: unknown;
}

export interface DockerConfigLocation {
  /** --registry-config: this file instead of the default. */
  registryConfig?: string;
  env?: NodeJS.ProcessEnv;
}

/** Docker Hub's key in `auths` and the server URL its helpers are asked about. */
export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

/** Whether this user may look into `dir` (search permission on it and every folder above). */
async function searchable(dir: string): Promise<boolean> {
  try {
    await access(dir, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Whether `path` is a file (false when it is anything else or cannot be looked at). */
async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Where the Docker config is, and whether the user named it (--registry-config, DOCKER_CONFIG) or it is the default. */
function dockerConfigPlace(location: DockerConfigLocation): { path: string; named: boolean } {
  if (location.registryConfig !== undefined && location.registryConfig !== '') return { path: location.registryConfig, named: true };
  const env = location.env ?? process.env;
  const dockerConfig = env['DOCKER_CONFIG'];
  if (dockerConfig !== undefined && dockerConfig !== '') return { path: join(dockerConfig, 'config.json'), named: true };
  const home = env['HOME'] !== undefined && env['HOME'] !== '' ? env['HOME'] : systemHome();
  if (home === undefined) {
    throw new PackpubError('CREDENTIALS', `no Docker config: ${noHomeReason()}`, { hint: 'set HOME or DOCKER_CONFIG, or give --registry-config FILE' });
  }
  return { path: join(home, '.docker', 'config.json'), named: false };
}

/** `--registry-config`, else `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigPath(location: DockerConfigLocation = {}): string {
  return dockerConfigPlace(location).path;
}

export { normalizeRegistryKey };

/** The key a new `auths` entry gets, and the server URL helpers are asked about. */
export function registryKey(host: string): string {
  const normalized = normalizeRegistryKey(host);
  return normalized === 'docker.io' ? DOCKER_HUB_KEY : normalized;
}

/** Keys of `record` that name `host`: the exact key first, then any spelling that normalises to it. */
function matchingKeys(record: Record<string, unknown> | undefined, host: string): string[] {
  if (record === undefined || typeof record !== 'object') return [];
  const wanted = normalizeRegistryKey(host);
  const exact = registryKey(host);
  const keys = Object.keys(record).filter((k) => normalizeRegistryKey(k) === wanted);
  return keys.sort((a, b) => Number(b === exact) - Number(a === exact));
}

export function findAuthEntry(config: DockerConfig, host: string): { key: string; entry: DockerAuthEntry } | undefined {
  const key = matchingKeys(config.auths, host)[0];
  if (key === undefined) return undefined;
  const entry = config.auths?.[key];
  // `"host": null` holds nothing, as Docker reads it (a null entry is its zero value).
  return entry === undefined || entry === null || typeof entry !== 'object' ? undefined : { key, entry };
}

/** All `auths` keys naming `host` (a file may hold `host` and `https://host/v1/` side by side). */
export function authKeysFor(config: DockerConfig, host: string): string[] {
  return matchingKeys(config.auths, host);
}

/** The helper for `host`: `credHelpers[host]`, else `credsStore`. */
export function helperFor(config: DockerConfig, host: string): { helper: string; via: 'credHelpers' | 'credsStore' } | undefined {
  const key = matchingKeys(config.credHelpers, host)[0];
  const specific = key === undefined ? undefined : config.credHelpers?.[key];
  if (typeof specific === 'string' && specific !== '') return { helper: specific, via: 'credHelpers' };
  if (typeof config.credsStore === 'string' && config.credsStore !== '') return { helper: config.credsStore, via: 'credsStore' };
  return undefined;
}

export function encodeAuth(username: string, password: string): string {
  return Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
}

/** base64 `user:pass`, split at the first colon (robot accounts `robot$proj+name` have none in the name). */
export function decodeAuth(auth: string): { username: string; password: string } | undefined {
  if (!/^[A-Za-z0-9+/=\s]*$/.test(auth)) return undefined;
  const text = Buffer.from(auth, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0) return undefined;
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

/**
 * The config at `path`, or undefined when there is no such file. Throws CREDENTIALS when it cannot be parsed.
 * `unsearchableIsNone`: a folder on the way this user may not search (EACCES before the file itself: a non-root
 * user whose HOME is /root, as in a container run with --user) hides whether the file is there: read as none, as
 * Docker's CLI goes on without it, so anonymous and ECR runs still work (the default path only: a path the user
 * named is refused as unreadable). A file this user may see but not read is refused either way.
 */
export async function readDockerConfig(path: string, unsearchableIsNone = false): Promise<DockerConfig | undefined> {
  let text: string;
  try {
    text = await readNamedFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (unsearchableIsNone && (err as NodeJS.ErrnoException).code === 'EACCES' && !(await searchable(dirname(path)))) return undefined;
    // DOCKER_CONFIG naming the file itself (it names the folder that holds config.json), --registry-config a folder: it
    // read "cannot be read: ENOTDIR ..." (or EISDIR), hint "fix its permissions", on every command.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR' && (await isFile(dirname(path)))) {
      throw new PackpubError('CREDENTIALS', `docker config ${path} cannot be read: ${dirname(path)} is a file, not a folder`, {
        hint: `DOCKER_CONFIG names the folder that holds config.json (here ${dirname(dirname(path))}); to name the file itself, give --registry-config ${dirname(path)}`,
      });
    }
    if (code === 'EISDIR') {
      throw new PackpubError('CREDENTIALS', `docker config ${path} is a folder, not a file`, {
        hint: `--registry-config takes the file (such as ${join(path, 'config.json')}); DOCKER_CONFIG takes the folder`,
      });
    }
    throw new PackpubError('CREDENTIALS', `docker config ${path} cannot be read: ${(err as Error).message}`, {
      hint: 'fix its permissions, or point --registry-config at another file',
      cause: err,
    });
  }
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    // Only the position: JSON.parse's message quotes the text around the error, which may be a stored secret.
    const position = /position (\d+)/.exec((err as Error).message)?.[1];
    throw new PackpubError('CREDENTIALS', `docker config ${path} is not valid JSON${position === undefined ? '' : ` (at character ${position})`}`, {
      hint: 'fix the file (it is JSON, as docker login writes it), or point --registry-config at another file',
    });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new PackpubError('CREDENTIALS', `docker config ${path} is not a JSON object`, {
      hint: 'fix the file, or point --registry-config at another file',
    });
  }
  // The fields packpub reads and writes, as Docker reads them (it refuses such a file whole): an `auths` list
  // took login's entry and wrote it nowhere ("Login succeeded", exit 0), a string or number crashed it.
  const fields = parsed as Record<string, unknown>;
  for (const [field, want] of [['auths', 'a JSON object'], ['credHelpers', 'a JSON object'], ['credsStore', 'a string']] as const) {
    const value = fields[field];
    // null is the field's zero value to Docker (Go decodes it as no map, no string): nothing, as when it is left out.
    // Read as an object, it crashed every command ("Cannot convert undefined or null to object", "bug in packpub").
    if (value === null) delete fields[field];
    if (value === undefined || value === null || (want === 'a string' ? typeof value === 'string' : typeof value === 'object' && !Array.isArray(value))) continue;
    throw new PackpubError('CREDENTIALS', `docker config ${path}: "${field}" is not ${want}`, {
      hint: 'fix the file (docker does not read it either), or point --registry-config at another file',
    });
  }
  return parsed as DockerConfig;
}

/** Resolve a symlinked config to its target, as Docker does, so the link survives the rename. */
async function writeTarget(path: string): Promise<string> {
  try {
    if ((await lstat(path)).isSymbolicLink()) return await realpath(path);
  } catch {
    // missing file: written where asked
  }
  return path;
}

/** How long a change of the config waits for another one (its lock file), and when that lock counts as abandoned. */
const CONFIG_LOCK = { waitMs: 15_000, staleMs: 10_000 } as const;

/**
 * Read, change and write back the config: every other field and the key order are kept, the directory is
 * created (0700), and the file is replaced atomically (temp file + rename) with mode 0600. The three steps run
 * under a lock file beside it (`<file>.lock`), so logins and logouts at the same time (processes, or calls in
 * one program) each keep the others' entries: without it, each wrote back the file it had read, and all but
 * the last entry were lost while every login said it was saved.
 */
export async function updateDockerConfig(path: string, change: (config: DockerConfig) => void | Promise<void>): Promise<void> {
  const target = await writeTarget(path);
  const cannotWrite = (err: unknown) =>
    new PackpubError('CREDENTIALS', `cannot write docker config ${target}: ${(err as Error).message}`, {
      hint: 'check that the directory is writable, or point --registry-config at another file',
      cause: err,
    });
  // A folder this user may not create (HOME of another user, read-only): said as the file's write, not a bug.
  await makeDirs(dirname(target), { mode: 0o700 }).catch((err: unknown) => Promise.reject(err instanceof PackpubError ? err : cannotWrite(err)));
  const lock = `${target}.lock`;
  const busy = () =>
    new PackpubError('CREDENTIALS', `docker config ${target} is being changed by another process (${lock} stayed for ${CONFIG_LOCK.waitMs / 1000} s)`, {
      hint: `run again; if no login or logout is running, remove ${lock}`,
    });
  // A config that is a device or a pipe (/dev/null) is written into, never renamed over (writeFileAtomic): no lock beside it.
  const special = (await outputPlace(target)).special;
  const locked = (fn: (held: HeldLock) => Promise<void>) =>
    special ? fn({ held: async () => true }) : withLockFile(lock, { ...CONFIG_LOCK, busy }, fn).catch((err: unknown) => Promise.reject(err instanceof PackpubError ? err : cannotWrite(err)));
  await locked(async (held) => {
    await removeDeadTempConfigs(target);
    const config = (await readDockerConfig(path)) ?? {};
    await change(config);
    // A login of another host or PID namespace takes the lock of one stalled past its staleMs and saves its entry;
    // this config, read before, would drop it, both logins saying saved.
    const stillHeld = async () => {
      if (!(await held.held())) {
        throw new PackpubError('CREDENTIALS', `docker config ${target} was not changed: another process took over ${lock} while this one held it (it stalled for more than ${CONFIG_LOCK.staleMs / 1000} s)`, {
          hint: 'run again: the other process\'s entry is kept',
        });
      }
    };
    // Tab indentation, as docker/cli writes it; exactly 0600 whatever the umask.
    await writeFileAtomic(target, `${JSON.stringify(config, null, '\t')}\n`, { mode: 0o600, beforeRename: stillHeld, durable: true }).catch((err: unknown) => Promise.reject(err instanceof PackpubError ? err : cannotWrite(err)));
  });
}

/** A temp file of a config write killed before its rename left this long ago by a process that is gone is removed. */
const TEMP_LEFT_MS = 10 * 60_000;

/**
 * A login or logout killed between writing its temp file and renaming it (SIGKILL, a cancelled job) left
 * `<config>.tmp-<pid>-<hex>` beside the config, holding the whole new config, credentials included, for good
 * (chaos s22 F5). Removed under the lock by the next change, once its process is gone on this host and it is ten
 * minutes old; any doubt keeps it.
 */
async function removeDeadTempConfigs(target: string): Promise<void> {
  await removeDeadTempsOf(target, TEMP_LEFT_MS);
}

export interface DockerConfigProviderOptions extends DockerConfigLocation {
  /** Options for running credential helpers (runner, timeout). `env` defaults to the location's env. */
  helper?: Omit<CredentialHelperOptions, 'configuredIn'>;
}

/**
 * Credentials from the Docker config, in the order Docker and ORAS read it: the helper that applies to the
 * host (`credHelpers[host]`, else `credsStore`) when there is one, and only otherwise `auths[host]`
 * (`identitytoken`, else `auth`). A helper configured for the host is the only source for it, as in
 * docker/cli's GetCredentialsStore: an `auths` entry beside it (often stale: written before the helper was
 * set up) is never used instead. Does not apply (undefined) when the file does not exist or holds nothing
 * for the host; fails (CREDENTIALS) on an unreadable file, a broken entry or a failing helper.
 */
export function dockerConfigProvider(options: DockerConfigProviderOptions = {}): CredentialProvider {
  // No home folder to hold the default config (and none named): nothing stored there, as for a missing file.
  let place: { path: string; named: boolean };
  try {
    place = dockerConfigPlace(options);
  } catch (err) {
    if (!isPackpubError(err, 'CREDENTIALS')) throw err;
    return { name: 'docker config (none: no home folder)', resolve: () => Promise.resolve(undefined) };
  }
  const { path, named } = place;
  const name = `docker config ${path}`;
  let loaded: Promise<DockerConfig | undefined> | undefined;
  // Each helper is asked for one host at a time, and one that did not answer in time is not asked again by this
  // provider: its error is the answer at once. A hung helper cost its timeout for every host (push --check-images:
  // for every image host, eight at once).
  const asking = new Map<string, Promise<unknown>>();
  const hung = new Map<string, unknown>();
  const askHelper = async (helper: string, ask: () => Promise<Credential | undefined>): Promise<Credential | undefined> => {
    const before = asking.get(helper) ?? Promise.resolve();
    const turn = before.then(async () => {
      if (hung.has(helper)) throw hung.get(helper);
      try {
        return await ask();
      } catch (err) {
        if ((err as { cause?: { code?: string } }).cause?.code === 'ETIMEDOUT') hung.set(helper, err);
        throw err;
      }
    });
    asking.set(helper, turn.catch(() => undefined));
    return turn;
  };
  return {
    name,
    async resolve(host: string): Promise<Credential | undefined> {
      loaded ??= readDockerConfig(path, !named);
      const config = await loaded;
      if (config === undefined) {
        if (options.registryConfig !== undefined && options.registryConfig !== '') {
          throw new PackpubError('CREDENTIALS', `registry config ${path} does not exist`, {
            hint: `check the path, or create it with: packpub login ${host} --registry-config ${path}`,
          });
        }
        return undefined;
      }
      const helper = helperFor(config, host);
      if (helper !== undefined) {
        // Loaded only here: node:child_process (and what it loads) costs a run without a helper compile time for nothing.
        const { helperGet } = await import('./cred-helper.js');
        try {
          return await askHelper(helper.helper, () =>
            helperGet(helper.helper, registryKey(host), {
              env: options.env,
              ...options.helper,
              configuredIn: `${helper.via} of ${path}`,
            }),
          );
        } catch (err) {
          // amazon-ecr-credential-helper configured for an ECR host (a CI image's or a laptop's config) but not installed:
          // it would mint the token from the AWS SDK's default chain, as packpub's own ECR provider after this one does.
          if (helper.helper === 'ecr-login' && isEcrHost(host) && ((err as { cause?: { code?: string } }).cause?.code === 'ENOENT')) return undefined;
          if (!(err instanceof PackpubError && err.code === 'CREDENTIALS')) throw err;
          // The default store (credsStore: Docker Desktop's `desktop` on a runner or in WSL where it is not installed or
          // does not answer) is no ECR host's own: packpub's ECR (or ECR Public) provider, next, mints the token (it failed
          // every push there); its error is still said if that provider fails too.
          if (helper.via === 'credsStore' && (isEcrHost(host) || isEcrPublicHost(host))) passable(err);
          throw unanswered(err);
        }
      }
      const found = findAuthEntry(config, host);
      if (found !== undefined) {
        const { entry, key } = found;
        // One form per credential (./types.ts): the identity token wins; Docker keeps `auth` = "user:" beside it.
        if (typeof entry.identitytoken === 'string' && entry.identitytoken !== '') return { identityToken: entry.identitytoken, source: name };
        if (typeof entry.auth === 'string' && entry.auth !== '') {
          const decoded = decodeAuth(entry.auth);
          if (decoded === undefined) {
            throw new PackpubError('CREDENTIALS', `the "auth" of "${key}" in ${path} is not base64 of user:password`, {
              hint: `log in again with: packpub login ${host} (or remove the entry)`,
            });
          }
          return { ...decoded, source: name };
        }
        if (typeof entry.username === 'string' && entry.username !== '' && typeof entry.password === 'string') {
          return { username: entry.username, password: entry.password, source: name };
        }
        // A registry (access) token, sent to the registry as the Bearer token it is, as Docker and ORAS send it: it read
        // as no credential, "authentication required ... pass --username".
        if (typeof entry.registrytoken === 'string' && entry.registrytoken !== '') {
          registerSecret(entry.registrytoken);
          // RFC 6750 b64token: visible ASCII; a line break would end the Authorization header and start another.
          if (!/^[\x21-\x7e]+$/.test(entry.registrytoken)) {
            throw new PackpubError('CREDENTIALS', `the "registrytoken" of "${key}" in ${path} holds a space, a control or a non-ASCII character, which no header can carry`, {
              hint: `write the token again without it, or log in again with: packpub login ${host}`,
            });
          }
          return { registryToken: entry.registrytoken, source: name };
        }
        // `{}`: Docker writes this placeholder when the secret went to a credential helper.
      }
      return undefined;
    },
  };
}
