import type { Credential, CredentialProvider } from '../credentials/types.js';
import { errorMessage, isPackpubError, PackpubError } from '../errors.js';
import type { PackRef } from '../oci/reference.js';
import type { ReadableTarget, PackTarget, WritableTarget } from '../targets/open.js';
import { openTarget as openTargetUnchecked, type OpenTargetOptions } from '../targets/open.js';
import type { ClientDeps } from '../registry/client.js';
import { checkOptions, checkTarget, type OptionShape } from '../util/options.js';
import { buildPack as buildPackUnchecked, type BuildOptions } from './build.js';
import { copyPacks as copyPacksUnchecked, type CopyOptions } from './copy.js';
import { discoverPacks as discoverPacksUnchecked, type DiscoverOptions } from './discover.js';
import { listPacks as listPacksUnchecked, type ListOptions } from './list.js';
import { pullPack as pullPackUnchecked, type PullOptions } from './pull.js';
import { pushPacks as pushPacksUnchecked, type PushOptions } from './push.js';
import { tagPack as tagPackUnchecked } from './tag.js';
import { applyDelete as applyDeleteUnchecked, planDelete as planDeleteUnchecked, type DeleteOptions } from './delete.js';
import { inspectPack as inspectPackUnchecked } from './inspect.js';
import { initPack as initPackUnchecked, type InitOptions } from './init.js';
import {
  paletteRegistryBeforePublish as paletteRegistryBeforePublishUnchecked,
  planPaletteSync as planPaletteSyncUnchecked,
  registerPaletteRegistry as registerPaletteRegistryUnchecked,
  resolvePaletteRegistry as resolvePaletteRegistryUnchecked,
  syncPaletteRegistry as syncPaletteRegistryUnchecked,
  type PalettePackRef,
  type PaletteSyncOptions,
  type PaletteTargetRef,
  type RegisterOptions,
  type ResolveOptions,
} from './palette.js';
import { paletteDoctor as paletteDoctorUnchecked, type DoctorOptions } from './palette-doctor.js';
import type { PaletteClient } from '../palette/client.js';
import { login as loginUnchecked, logout as logoutUnchecked, type LoginOptions, type LogoutOptions } from './login.js';
import { validatePackFolder } from './validate-folder.js';
import { firstPlaceInPacks, type PlaceInPack } from './place-in-pack.js';
import { resolve } from 'node:path';
import type { ValidateOptions } from '../pack/validate.js';

/*
 * The operations as the library exports them (index.ts): each checks what a JavaScript program gave it before any
 * work, and refuses a mistake as a USAGE PackpubError (a rejected promise) instead of doing something else. Before,
 * `pushPacks(target, { packs, dryrun: true })` (misspelt) published; `force: 'false'` overwrote; `packs: 'dir'`,
 * a missing options object or `onEvent: 'x'` rejected with a bare TypeError ("options.packs.map is not a function").
 * The CLI calls the operations themselves: it builds their options from its own checked flags.
 */

const PUSH: OptionShape<PushOptions> = {
  packs: 'strings',
  force: 'boolean',
  skipExisting: 'boolean',
  dryRun: 'boolean',
  strict: 'boolean',
  continueOnError: 'boolean',
  failFast: 'boolean',
  concurrency: 'number',
  extraTags: 'strings',
  allowOtherVersion: 'boolean',
  annotations: 'object',
  created: 'date',
  mtime: 'date',
  cacheDir: 'string',
  checksAhead: 'object',
  env: 'object',
  onEvent: 'function',
  signal: 'signal',
};

const COPY: OptionShape<CopyOptions> = {
  name: 'string',
  version: 'string',
  all: 'boolean',
  force: 'boolean',
  skipExisting: 'boolean',
  dryRun: 'boolean',
  failFast: 'boolean',
  concurrency: 'number',
  onEvent: 'function',
  signal: 'signal',
  rereadDelayMs: 'number',
};

const LIST: OptionShape<ListOptions> = {
  name: 'string',
  details: 'boolean',
  concurrency: 'number',
  rereadDelayMs: 'number',
  readTag: 'function',
  onRefused: 'function',
  limits: 'object',
};

const PULL: OptionShape<PullOptions> = { outDir: 'string', maxBytes: 'number', signal: 'signal' };

type TagOptions = NonNullable<Parameters<typeof tagPackUnchecked>[3]>;
const TAG: OptionShape<TagOptions> = { force: 'boolean', allowOtherVersion: 'boolean', signal: 'signal', onTag: 'function' };

const VALIDATE: OptionShape<ValidateOptions> = { strict: 'boolean', deep: 'boolean' };

const DISCOVER: OptionShape<DiscoverOptions> = { recursive: 'boolean', shard: 'string', extraTags: 'strings', cwd: 'string' };

const BUILD: OptionShape<BuildOptions> = { outFile: 'string', outDir: 'string', cwd: 'string', strict: 'boolean', env: 'object', referenceFor: 'function', basePath: 'string' };

const PLAN_DELETE: OptionShape<DeleteOptions> = { ignoreMissing: 'boolean' };

type ApplyDeleteOptions = NonNullable<Parameters<typeof applyDeleteUnchecked>[2]>;
const APPLY_DELETE: OptionShape<ApplyDeleteOptions> = { signal: 'signal', onResult: 'function' };

const CONNECTION = {
  plainHttp: 'boolean',
  caFile: 'string',
  insecure: 'boolean',
  certFile: 'string',
  keyFile: 'string',
  headers: 'object',
  resolve: 'strings',
  allowCrossHostAuth: 'boolean',
  retry: 'object',
  debug: 'function',
  userAgent: 'string',
} as const;

const LOGIN: OptionShape<LoginOptions> = { ...CONNECTION, host: 'string', username: 'string', password: 'string', registryConfig: 'string', env: 'object', helper: 'object' };

const LOGOUT: OptionShape<LogoutOptions> = { host: 'string', registryConfig: 'string', env: 'object', helper: 'object' };

/** Its choices (layer, chartVersionFrom) and names are initPack's own checks. */
const INIT: OptionShape<InitOptions> = {
  ...{ dir: 'string', name: 'string', version: 'string', displayName: 'string', layer: 'string', addonType: 'string' },
  ...{ namespace: 'string', fromChart: 'string', chartVersionFrom: 'string', force: 'boolean', sourceDateEpoch: 'number' },
};

const SYNC: OptionShape<PaletteSyncOptions> = {
  ...{ packs: 'any', force: 'boolean', registry: 'any', timeoutMs: 'number', pollIntervalMs: 'number', clock: 'object', signal: 'signal' },
  ...{ onEvent: 'function', afterPublish: 'boolean', unreadable: 'object', publishedValues: 'function', newVersions: 'object', replacedVersions: 'object' },
};

const RESOLVE: OptionShape<ResolveOptions> = { registry: 'string', deadline: 'number' };

const REGISTER: OptionShape<RegisterOptions> = { name: 'string', credentials: 'object', ca: 'string', insecureSkipVerify: 'boolean' };

const DOCTOR: OptionShape<DoctorOptions> = { target: 'object', store: 'object', client: 'object', registry: 'string', credentials: 'object' };

/** The keys of OpenTargetOptions (RegistryConnectionOptions and the client's), their values checked by openTarget. */
const OPEN: OptionShape<OpenTargetOptions> = {
  credentials: 'object',
  login: 'object',
  fileLogin: 'object',
  awsIdentityNamed: 'boolean',
  registryConfig: 'string',
  registry: 'string',
  ociLayout: 'string',
  type: 'string',
  ecrEndpoint: 'string',
  awsProfile: 'string',
  awsRoleArn: 'string',
  ecrRepositories: 'object',
  ecrClients: 'object',
  createProject: 'boolean',
  warn: 'function',
  env: 'object',
  plainHttp: 'boolean',
  insecure: 'boolean',
  caFile: 'string',
  certFile: 'string',
  keyFile: 'string',
  headers: 'object',
  settingNames: 'object',
  resolve: 'strings',
  allowCrossHostAuth: 'boolean',
  retry: 'object',
  debug: 'function',
  userAgent: 'string',
};

/**
 * The operation's listener (onEvent, onTag) threw: the operation went on as if it had not (what was done is what the
 * listener's failure did not change), and its promise rejects with this, holding the report it would have resolved
 * with. Before, a listener throwing at a `pack-done` event rejected pushPacks with the listener's own error and no
 * report, although the pack was published; at `pack-start` it failed the pack.
 */
export class ListenerFailed<R> extends PackpubError {
  constructor(
    operation: string,
    listener: string,
    event: string,
    cause: unknown,
    /** What the operation did, as it would have resolved. */
    readonly report: R,
  ) {
    super('USAGE', `${operation}: its ${listener} listener threw at the "${event}" event: ${cause instanceof Error ? cause.message : String(cause)}`, {
      hint: `error.report holds what ${operation} did, which the listener's failure did not change; make the listener not throw`,
      cause,
    });
    this.name = 'ListenerFailed';
  }
}

/**
 * A listener whose throws are kept (the first) instead of reaching the operation. An async listener's rejection too:
 * left alone, it was an unhandled rejection, which ends a Node program; the operation waits for such pending
 * promises before it settles (settled()), so the rejection is told as a throw is.
 */
function guard<A extends unknown[]>(
  listener: ((...args: A) => void) | undefined,
  eventOf: (...args: A) => string,
): { listener: ((...args: A) => void) | undefined; failure: () => { event: string; err: unknown } | undefined; settled: () => Promise<unknown> } {
  let failure: { event: string; err: unknown } | undefined;
  const pending: Array<Promise<unknown>> = [];
  if (listener === undefined) return { listener, failure: () => undefined, settled: async () => undefined };
  return {
    listener: (...args: A) => {
      try {
        const result: unknown = listener(...args);
        if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
          pending.push(
            Promise.resolve(result).catch((err: unknown) => {
              failure ??= { event: eventOf(...args), err };
            }),
          );
        }
      } catch (err) {
        failure ??= { event: eventOf(...args), err };
      }
    },
    failure: () => failure,
    settled: () => Promise.all(pending),
  };
}

/** Runs `op` with the guarded listener, then rejects with ListenerFailed when the listener threw (or its promise rejected). */
async function withGuard<R, A extends unknown[]>(operation: string, name: string, g: ReturnType<typeof guard<A>>, op: () => Promise<R>): Promise<R> {
  const report = await op().finally(g.settled);
  const failure = g.failure();
  if (failure !== undefined) throw new ListenerFailed(operation, name, failure.event, failure.err, report);
  return report;
}

function checkRef(operation: string, ref: unknown): void {
  const r = ref as Partial<PackRef> | null | undefined;
  if (typeof r !== 'object' || r === null || typeof r.name !== 'string' || typeof r.version !== 'string') {
    throw new PackpubError('USAGE', `${operation}: the pack must be { name, version } (parsePackRef('name:version') gives one)`);
  }
}

function checkString(operation: string, what: string, value: unknown): void {
  if (typeof value !== 'string') throw new PackpubError('USAGE', `${operation}: ${what} must be a string`);
}

/**
 * What a value that should be a credential (a caller's, or its provider's answer) is when it is none ("a string", "a
 * credential whose password is not a string"), or undefined when it is one.
 */
function credentialFault(c: unknown): string | undefined {
  if (typeof c !== 'object' || c === null || Array.isArray(c)) return `${c === null ? 'null' : Array.isArray(c) ? 'an array' : `a ${typeof c}`}, not a credential object`;
  for (const key of ['username', 'password', 'identityToken', 'registryToken', 'source'] as const) {
    const v = (c as Record<string, unknown>)[key];
    if (v !== undefined && typeof v !== 'string') return `a credential whose ${key} is not a string`;
  }
  const expires = (c as Credential).expiresAt;
  if (expires !== undefined && !(expires instanceof Date)) return 'a credential whose expiresAt is not a Date';
  return undefined;
}

/**
 * A caller's credential provider, its failures told as packpub's: a throw or rejection that is no PackpubError (a
 * TypeError of its own, a rejected string) becomes CREDENTIALS naming the provider, and an answer that is no
 * credential is refused (was: listPacks rejected with the thrown string itself, no code; an answer `'user:pw'`
 * was read as no credential, and the registry answered "authentication required").
 */
function checkedProvider(p: CredentialProvider): CredentialProvider {
  const name = typeof p.name === 'string' ? p.name : 'credentials';
  // A plain object calling the provider's own methods on it: a wrapper inheriting from it (Object.create) ran them
  // with `this` the wrapper, which a class keeping #private fields refuses ("Cannot write private member"), so its
  // invalidate, called when a credential with expiresAt runs out, failed every request.
  const checked: CredentialProvider = {
    name,
    resolve: async (host: string): Promise<Credential | undefined> => {
      let answer: unknown;
      try {
        answer = await p.resolve(host);
      } catch (err) {
        if (isPackpubError(err)) throw err;
        throw new PackpubError('CREDENTIALS', `the credential provider ${name} failed for ${host}: ${errorMessage(err)}`, { cause: err });
      }
      if (answer === undefined) return undefined;
      const fault = credentialFault(answer);
      if (fault !== undefined) throw new PackpubError('CREDENTIALS', `the credential provider ${name} answered ${host} with ${fault}`);
      return answer as Credential;
    },
  };
  if (typeof p.invalidate === 'function') checked.invalidate = (host: string) => p.invalidate?.(host);
  return checked;
}

export async function openTarget(options: OpenTargetOptions, deps: ClientDeps = {}): Promise<PackTarget> {
  checkOptions('openTarget', options, OPEN);
  const given = options ?? {};
  if (given.credentials !== undefined && typeof given.credentials.resolve !== 'function') {
    throw new PackpubError('USAGE', 'openTarget: option credentials must be a credential provider (an object with resolve(host)), as chainProviders or staticProvider make');
  }
  for (const key of ['login', 'fileLogin'] as const) {
    const fault = given[key] === undefined ? undefined : credentialFault(given[key]);
    if (fault !== undefined) throw new PackpubError('USAGE', `openTarget: option ${key} must be a credential ({ username, password }), not ${fault}`);
  }
  return openTargetUnchecked(given.credentials === undefined ? given : { ...given, credentials: checkedProvider(given.credentials) }, deps);
}

/**
 * A push's own places inside a pack folder it pushes: an OCI layout target, the cacheDir. The walk packed them: the
 * second push of an unchanged pack into `<pack>/layout` published the layout inside the pack (overwritten with
 * --force, a conflict without), and `cacheDir: '<pack>/cache'` published the cache's index (other packs' folders
 * and digests), exit 0. The CLI refused both (cli/commands/push.ts, cli/own-files.ts); a library caller now too.
 */
async function refuseOwnPlacesInPacks(targets: readonly PackTarget[], options: PushOptions): Promise<void> {
  const places: PlaceInPack[] = targets
    .filter((t) => t.store.kind === 'oci-layout')
    .map((t) => ({ path: resolve(t.store.location), what: 'the OCI layout', fix: 'open a layout outside the pack (openTarget ociLayout)' }));
  if (options.cacheDir !== undefined) places.push({ path: resolve(options.cacheDir), what: "packpub's cache folder (cacheDir)", fix: 'give cacheDir a folder outside the pack, and remove that folder from the pack if it is there' });
  const found = await firstPlaceInPacks(options.packs.map((p) => resolve(p)), places, 'push');
  if (found !== undefined) throw found.refusal;
}

export async function pushPacks(targetOrTargets: PackTarget | PackTarget[], options: PushOptions): Promise<Awaited<ReturnType<typeof pushPacksUnchecked>>> {
  for (const t of Array.isArray(targetOrTargets) ? targetOrTargets : [targetOrTargets]) checkTarget('pushPacks', 'the target', t);
  checkOptions('pushPacks', options, PUSH, ['packs']);
  await refuseOwnPlacesInPacks(Array.isArray(targetOrTargets) ? targetOrTargets : [targetOrTargets], options);
  const g = guard(options.onEvent, (e) => e.type);
  return withGuard('pushPacks', 'onEvent', g, () => pushPacksUnchecked(targetOrTargets, { ...options, onEvent: g.listener }));
}

export async function copyPacks(from: ReadableTarget, to: WritableTarget, options: CopyOptions = {}): ReturnType<typeof copyPacksUnchecked> {
  checkTarget('copyPacks', 'the source', from);
  checkTarget('copyPacks', 'the destination', to);
  checkOptions('copyPacks', options, COPY);
  const g = guard(options.onEvent, (e) => e.type);
  return withGuard('copyPacks', 'onEvent', g, () => copyPacksUnchecked(from, to, { ...options, onEvent: g.listener }));
}

export async function listPacks(target: ReadableTarget, options: ListOptions = {}): ReturnType<typeof listPacksUnchecked> {
  checkTarget('listPacks', 'the target', target);
  checkOptions('listPacks', options, LIST);
  return listPacksUnchecked(target, options);
}

export async function pullPack(target: ReadableTarget, ref: PackRef, options: PullOptions = {}): ReturnType<typeof pullPackUnchecked> {
  checkTarget('pullPack', 'the target', target);
  checkRef('pullPack', ref);
  checkOptions('pullPack', options, PULL);
  return pullPackUnchecked(target, ref, options);
}

export async function tagPack(target: PackTarget, ref: PackRef, given: string[], options: TagOptions = {}): ReturnType<typeof tagPackUnchecked> {
  checkTarget('tagPack', 'the target', target);
  checkRef('tagPack', ref);
  if (!Array.isArray(given) || !given.every((t) => typeof t === 'string')) throw new PackpubError('USAGE', 'tagPack: the tags must be an array of strings');
  checkOptions('tagPack', options, TAG);
  // The event named by what was done to which tag (`tagged stable`): String(outcome) said "[object Object]".
  const g = guard(options.onTag, (outcome) => `${outcome.status} ${outcome.tag}`);
  return withGuard('tagPack', 'onTag', g, () => tagPackUnchecked(target, ref, given, { ...options, onTag: g.listener }));
}

/** The pack checks plus the rules of push's archive walk (what `packpub validate` runs). */
export async function validatePack(dir: string, options: ValidateOptions = {}): ReturnType<typeof validatePackFolder> {
  checkString('validatePack', 'the pack folder', dir);
  checkOptions('validatePack', options, VALIDATE);
  return validatePackFolder(dir, options);
}

export async function discoverPacks(args: string[], options: DiscoverOptions = {}): ReturnType<typeof discoverPacksUnchecked> {
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) throw new PackpubError('USAGE', 'discoverPacks: the folders must be an array of strings');
  checkOptions('discoverPacks', options, DISCOVER);
  return discoverPacksUnchecked(args, options);
}

export async function buildPack(dir: string, options: BuildOptions = {}): ReturnType<typeof buildPackUnchecked> {
  checkString('buildPack', 'the pack folder', dir);
  checkOptions('buildPack', options, BUILD);
  // The archive written inside the pack it packs (`buildPack('.')` from the pack folder, `outDir: 'pack/out'`): the
  // build failed with "the pack folder changed while packpub was packing", which is not what happened (the CLI says it).
  const cwd = options.cwd ?? process.cwd();
  const place: PlaceInPack =
    options.outFile !== undefined
      ? { path: resolve(cwd, options.outFile), what: 'the archive (outFile)', fix: 'give outFile a path outside the pack', file: true }
      : { path: resolve(cwd, options.outDir ?? '.'), what: `the archive's folder (${options.outDir === undefined ? 'the working folder, without outDir' : 'outDir'})`, fix: 'give outDir (or outFile) a folder outside the pack' };
  const found = await firstPlaceInPacks([resolve(cwd, dir)], [place], 'build');
  if (found !== undefined) throw found.refusal;
  return buildPackUnchecked(dir, options);
}

export async function inspectPack(target: ReadableTarget, ref: PackRef): ReturnType<typeof inspectPackUnchecked> {
  checkTarget('inspectPack', 'the target', target);
  checkRef('inspectPack', ref);
  return inspectPackUnchecked(target, ref);
}

export async function planDelete(target: Parameters<typeof planDeleteUnchecked>[0], refs: readonly PackRef[], options: DeleteOptions = {}): ReturnType<typeof planDeleteUnchecked> {
  checkTarget('planDelete', 'the target', target);
  if (!Array.isArray(refs)) throw new PackpubError('USAGE', "planDelete: the packs must be an array of { name, version } (parsePackRef('name:version') gives one)");
  for (const ref of refs) checkRef('planDelete', ref);
  checkOptions('planDelete', options, PLAN_DELETE);
  return planDeleteUnchecked(target, refs, options);
}

export async function applyDelete(target: Parameters<typeof applyDeleteUnchecked>[0], plan: Parameters<typeof applyDeleteUnchecked>[1], options: ApplyDeleteOptions = {}): ReturnType<typeof applyDeleteUnchecked> {
  checkTarget('applyDelete', 'the target', target);
  if (typeof plan !== 'object' || plan === null || !Array.isArray((plan as { versions?: unknown }).versions)) throw new PackpubError('USAGE', 'applyDelete: the plan must be what planDelete returned');
  checkOptions('applyDelete', options, APPLY_DELETE);
  return applyDeleteUnchecked(target, plan, options);
}

export async function login(options: LoginOptions): ReturnType<typeof loginUnchecked> {
  checkOptions('login', options, LOGIN, ['host', 'username', 'password']);
  return loginUnchecked(options);
}

export async function logout(options: LogoutOptions): ReturnType<typeof logoutUnchecked> {
  checkOptions('logout', options, LOGOUT, ['host']);
  return logoutUnchecked(options);
}

export async function initPack(options: InitOptions): ReturnType<typeof initPackUnchecked> {
  checkOptions('initPack', options, INIT, ['dir']);
  return initPackUnchecked(options);
}

/**
 * The client and the registry of a Palette operation: a PaletteClient (a missing one rejected with "Cannot read
 * properties of undefined"), and `{ host, basePath }` with a host (an empty one was matched against registries stored
 * with no endpoint) and `plainHttp` a switch when given.
 */
function checkPaletteTarget(operation: string, target: unknown, client: unknown): void {
  const c = client as Partial<Record<'listOciRegistries' | 'whileNotAborted', unknown>> | null | undefined;
  if (typeof c !== 'object' || c === null || typeof c.listOciRegistries !== 'function' || typeof c.whileNotAborted !== 'function') {
    throw new PackpubError('USAGE', `${operation}: its first argument must be a PaletteClient (new PaletteClient({ apiKey, endpoint }))`);
  }
  const t = target as Partial<PaletteTargetRef> | null | undefined;
  if (typeof t !== 'object' || t === null || typeof t.host !== 'string' || t.host.trim() === '' || typeof t.basePath !== 'string' || (t.plainHttp !== undefined && typeof t.plainHttp !== 'boolean')) {
    throw new PackpubError('USAGE', `${operation}: the registry must be { host, basePath } (as the target's)`);
  }
}

/** A sync's `packs`: name:version pairs, each `{ name, version }` (a list of strings or a string was read as names undefined). */
function checkPalettePacks(operation: string, packs: unknown): void {
  const pair = (p: unknown) => typeof p === 'object' && p !== null && typeof (p as PalettePackRef).name === 'string' && (p as PalettePackRef).name !== '' && typeof (p as PalettePackRef).version === 'string' && (p as PalettePackRef).version !== '';
  if (!Array.isArray(packs) || !packs.every(pair)) throw new PackpubError('USAGE', `${operation}: option packs must be an array of { name, version } (each a non-empty string)`);
}

export async function resolvePaletteRegistry(client: PaletteClient, target: PaletteTargetRef, options?: ResolveOptions): ReturnType<typeof resolvePaletteRegistryUnchecked> {
  checkPaletteTarget('resolvePaletteRegistry', target, client);
  checkOptions('resolvePaletteRegistry', options, RESOLVE);
  return resolvePaletteRegistryUnchecked(client, target, options);
}

export async function paletteRegistryBeforePublish(client: PaletteClient, target: PaletteTargetRef, options?: ResolveOptions): ReturnType<typeof paletteRegistryBeforePublishUnchecked> {
  checkPaletteTarget('paletteRegistryBeforePublish', target, client);
  checkOptions('paletteRegistryBeforePublish', options, RESOLVE);
  return paletteRegistryBeforePublishUnchecked(client, target, options);
}

/** syncPaletteRegistry and planPaletteSync (`run`) with their arguments checked and their onEvent listener guarded. */
async function checkedPaletteSync(operation: string, run: typeof syncPaletteRegistryUnchecked, client: PaletteClient, target: PaletteTargetRef, options: PaletteSyncOptions): ReturnType<typeof syncPaletteRegistryUnchecked> {
  checkPaletteTarget(operation, target, client);
  checkOptions(operation, options, SYNC, ['packs']);
  checkPalettePacks(operation, options.packs);
  const g = guard(options.onEvent, (e) => e.type);
  return withGuard(operation, 'onEvent', g, () => run(client, target, { ...options, onEvent: g.listener }));
}

export async function syncPaletteRegistry(client: PaletteClient, target: PaletteTargetRef, options: PaletteSyncOptions): ReturnType<typeof syncPaletteRegistryUnchecked> {
  return checkedPaletteSync('syncPaletteRegistry', syncPaletteRegistryUnchecked, client, target, options);
}

export async function planPaletteSync(client: PaletteClient, target: PaletteTargetRef, options: PaletteSyncOptions): ReturnType<typeof planPaletteSyncUnchecked> {
  return checkedPaletteSync('planPaletteSync', planPaletteSyncUnchecked, client, target, options);
}

export async function registerPaletteRegistry(client: PaletteClient, target: PaletteTargetRef, options: RegisterOptions): ReturnType<typeof registerPaletteRegistryUnchecked> {
  checkPaletteTarget('registerPaletteRegistry', target, client);
  checkOptions('registerPaletteRegistry', options, REGISTER, ['credentials']);
  return registerPaletteRegistryUnchecked(client, target, options);
}

export async function paletteDoctor(options: DoctorOptions): ReturnType<typeof paletteDoctorUnchecked> {
  checkOptions('paletteDoctor', options, DOCTOR, ['target']);
  return paletteDoctorUnchecked(options);
}
