import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isPackpubError, PackpubError } from '../errors.js';
import {
  DEFAULT_PALETTE_POLL_MS,
  DEFAULT_PALETTE_TIMEOUT_MS,
  ecrRegion,
  endpointHost,
  endpointParts,
  flavourForHost,
  flavourOf,
  includesPacksNamespace,
  paletteEndpointFor,
  trimSlashes,
  connectionMismatch,
  tlsEnabledOf,
} from '../palette/endpoint.js';
import type { PaletteClient } from '../palette/client.js';
import { PaletteUnavailable } from '../palette/errors.js';
import {
  isKnownSyncStatus,
  syncPhase,
  type PaletteBasicSpec,
  type PalettePackTags,
  type PaletteEcrSpec,
  type PaletteRegistry,
  type PaletteRegistryFlavour,
  type PaletteRegistrySummary,
} from '../palette/types.js';
import { currentRetryClock, type RetryClock } from '../registry/retry.js';
import { nearest } from '../util/nearest.js';
import { redactText } from '../util/redact.js';
import type { PushReport } from './push-report.js';

/*
 * The closed loop after publishing (palette-api.md 3): find the Palette registry that serves the target,
 * trigger its sync, wait for a sync that ran after this call (a stale Success from an earlier run does not
 * count), then confirm each published name:version is listed through that registry.
 */

/** Where packs were published, as Palette sees it: `<host>/<basePath>/spectro-packs/archive/<name>`. */
export interface PaletteTargetRef {
  /** `host[:port]` of the registry. */
  host: string;
  basePath: string;
  /** The registry speaks plain HTTP (loopback); Palette's endpoint then starts with http://. */
  plainHttp?: boolean;
}

/** A Palette registry that serves a target. */
export interface ResolvedPaletteRegistry {
  uid: string;
  name: string;
  flavour: PaletteRegistryFlavour;
  endpoint: string;
  baseContentPath: string;
}

export interface ResolveOptions {
  /** `--palette-registry NAME|UID`: use this one (it must still be a Pack registry on the target's host). */
  registry?: string;
  /** Clock time the Palette calls must end by (the sync's deadline). */
  deadline?: number;
}

/** A registry of the summary with its full record, when its flavour could be read. */
export interface PaletteRegistryDetails {
  summary: PaletteRegistrySummary;
  flavour: PaletteRegistryFlavour | undefined;
  record: PaletteRegistry | undefined;
}

/**
 * Every OCI registry on the target's host, with the per-registry record (which holds baseContentPath); also one whose
 * endpoint carries a path after the host (endpointParts), which serves no target but is named (pathInEndpoint).
 */
export async function registriesOnHost(client: PaletteClient, target: Pick<PaletteTargetRef, 'host' | 'plainHttp'>, deadline?: number, listed?: PaletteRegistrySummary[]): Promise<PaletteRegistryDetails[]> {
  const wanted = endpointHost(target.host, target.plainHttp === true);
  const out: PaletteRegistryDetails[] = [];
  for (const summary of listed ?? (await client.listOciRegistries(deadline))) {
    if (endpointParts(summary.spec?.endpoint).host !== wanted) continue;
    out.push(await readDetails(client, summary, deadline));
  }
  return out;
}

async function readDetails(client: PaletteClient, summary: PaletteRegistrySummary, deadline?: number): Promise<PaletteRegistryDetails> {
  const named = flavourOf(summary.spec?.registryType);
  // Asking the wrong flavour answers 404 (palette-api.md 2(b)); Terraform's import tries ecr, then basic.
  for (const flavour of named === undefined ? (['ecr', 'basic'] as const) : [named]) {
    const record = await client.getRegistry(summary.metadata.uid, flavour, deadline);
    if (record !== undefined) return { summary, flavour, record };
  }
  return { summary, flavour: named, record: undefined };
}

function isPackProvider(d: PaletteRegistryDetails): boolean {
  return (d.record?.spec.providerType ?? d.summary.spec?.providerType ?? '').toLowerCase() === 'pack';
}

function toResolved(d: PaletteRegistryDetails): ResolvedPaletteRegistry {
  return {
    uid: d.summary.metadata.uid,
    name: d.summary.metadata.name,
    flavour: d.flavour ?? 'basic',
    endpoint: d.record?.spec.endpoint ?? d.summary.spec?.endpoint ?? '',
    baseContentPath: trimSlashes(d.record?.spec.baseContentPath),
  };
}

/**
 * `Palette's last sync of registry <name> (<uid>), at <time>, failed: <message>`, when the sync status Palette gives for
 * it without a request of its own (givenSyncStatus: the list's, else the record's) says its last sync failed; else undefined.
 */
export function lastSyncFailure(d: PaletteRegistryDetails): string | undefined {
  const sync = givenSyncStatus(d);
  if (sync === undefined) return undefined;
  const { status, message, lastRunTime } = sync;
  if (typeof status !== 'string' || syncPhase(status) !== 'failed') return undefined;
  const at = typeof lastRunTime === 'string' && Date.parse(lastRunTime) > 0 ? `, at ${redactText(lastRunTime)}` : '';
  const said = typeof message === 'string' && message.trim() !== '' ? redactText(message) : `status ${status}, no message`;
  return `Palette's last sync of registry ${d.summary.metadata.name} (${d.summary.metadata.uid})${at}, failed: ${said}`;
}

/**
 * Whether the sync status Palette gives for the registry says its sync is off while its settings (the record's spec) do
 * not: the registry list's (`status.sync`, palette-api.md 2(a)), else, when the list gives none, the record's
 * (`status.syncStatus`, 2(b), where Terraform's provider reads sync on or off from); no request of its own. Palette's
 * sync of it then reports sync off, and lists none of the packs.
 */
export function listSaysSyncOff(d: PaletteRegistryDetails): boolean {
  if (d.record?.spec.isSyncSupported === false) return false;
  // Field by field: a list status without isSyncSupported leaves it to the record's.
  const listed = givenSyncStatus(d, 'list')?.['isSyncSupported'];
  return (typeof listed === 'boolean' ? listed : givenSyncStatus(d, 'record')?.['isSyncSupported']) === false;
}

/**
 * The sync status Palette gives for a registry without a request of its own: the registry list's (`status.sync`,
 * palette-api.md 2(a)), else, when the list gives none, the registry record's (`status.syncStatus`, 2(b)).
 */
function givenSyncStatus(d: PaletteRegistryDetails, from?: 'list' | 'record'): Record<string, unknown> | undefined {
  const record: unknown = d.record?.status;
  const inRecord = (): unknown => (typeof record === 'object' && record !== null ? (record as Record<string, unknown>)['syncStatus'] : undefined);
  const sync: unknown = from === 'record' ? inRecord() : from === 'list' ? d.summary.status?.sync : (d.summary.status?.sync ?? inRecord());
  return typeof sync === 'object' && sync !== null && !Array.isArray(sync) ? (sync as Record<string, unknown>) : undefined;
}

/** The Pack registries on the target's host (an endpoint of the host alone) whose base content path is the target's base path. */
export function matchingRegistries(target: PaletteTargetRef, details: PaletteRegistryDetails[]): PaletteRegistryDetails[] {
  return details.filter((d) => d.record !== undefined && isPackProvider(d) && endpointParts(d.record.spec.endpoint ?? d.summary.spec?.endpoint).path === '' && trimSlashes(d.record.spec.baseContentPath) === trimSlashes(target.basePath));
}

/**
 * The Pack registries on the target's host entered with the target's base path (or part of it) in the Endpoint
 * (`https://h/spectro-oci-registry`), the rest in Base Content Path: they serve no target (endpointParts), and
 * `problem` says what to edit. Before, such a registry was not seen at all: push said no registry serves the target,
 * doctor listed none, and register created a second one beside it.
 */
export function pathInEndpoint(target: PaletteTargetRef, details: PaletteRegistryDetails[]): { details: PaletteRegistryDetails; problem: string; fix: string }[] {
  const base = trimSlashes(target.basePath);
  return details.flatMap((d) => {
    const endpoint = d.record?.spec.endpoint ?? d.summary.spec?.endpoint;
    const path = endpointParts(endpoint).path;
    if (d.record === undefined || !isPackProvider(d) || path === '' || trimSlashes(`${path}/${trimSlashes(d.record.spec.baseContentPath)}`) !== base) return [];
    const problem = `Palette registry ${d.summary.metadata.name} (${d.summary.metadata.uid}) has Endpoint ${endpoint ?? ''}, with a path: Palette takes the Endpoint as the registry's host, the path under it as Base Content Path`;
    return [{ details: d, problem, fix: `Endpoint ${paletteEndpointFor(target.host, target.plainHttp === true)}, Base Content Path ${base}` }];
  });
}

/**
 * The one Palette registry that serves the target (match by endpoint host and base content path, as
 * palette-api.md 3.1). None: NOT_FOUND pointing to doctor/register. Several: USAGE asking for --palette-registry.
 */
export async function resolvePaletteRegistry(client: PaletteClient, target: PaletteTargetRef, options: ResolveOptions = {}): Promise<ResolvedPaletteRegistry> {
  return toResolved(await servingRegistry(client, target, options));
}

/** resolvePaletteRegistry's registry with its full record (whose settings the pre-flight before publishing reads). */
async function servingRegistry(client: PaletteClient, target: PaletteTargetRef, options: ResolveOptions): Promise<PaletteRegistryDetails> {
  const where = `${target.host}${target.basePath === '' ? '' : `/${target.basePath}`}`;
  if (options.registry !== undefined) {
    const all = await client.listOciRegistries(options.deadline);
    const byUid = all.filter((r) => r.metadata.uid === options.registry);
    const candidates = byUid.length > 0 ? byUid : all.filter((r) => r.metadata.name === options.registry);
    if (candidates.length === 0) {
      // Palette matches names exactly (as its Go SDK's GetPackRegistryCommonByName): "Harbor-Packs" for "harbor-packs"
      // read as no such registry, the one meant left to be found in doctor's list.
      const close = nearest(options.registry, all.map((r) => r.metadata.name));
      const meant = close === undefined ? undefined : all.filter((r) => r.metadata.name === close);
      const named = meant === undefined || meant.length === 0 ? '' : `; it has one named "${close ?? ''}" (${meant.map((r) => r.metadata.uid).join(', ')}), and names are matched exactly`;
      throw new PackpubError('NOT_FOUND', `Palette has no OCI registry named or with uid "${options.registry}"${named}`, {
        hint: `packpub palette doctor for the target lists the registries Palette has on ${target.host}`,
      });
    }
    // Names are not unique in Palette: picking the first of several could sync (and confirm packs in) another registry.
    if (candidates.length > 1) {
      throw new PackpubError('USAGE', `${candidates.length} OCI registries in Palette are named "${options.registry}": ${candidates.map((r) => `${r.metadata.uid} (${r.spec?.endpoint ?? 'no endpoint'})`).join(', ')}`, {
        hint: 'give --palette-registry (or palette.registry) the uid of the one that serves the target',
      });
    }
    const chosen = candidates[0] as PaletteRegistrySummary;
    const details = await readDetails(client, chosen, options.deadline);
    if (!isPackProvider(details)) {
      throw new PackpubError('PALETTE', `Palette registry ${chosen.metadata.name} is not a Pack registry (provider ${details.record?.spec.providerType ?? chosen.spec?.providerType ?? 'unknown'})`, {
        hint: 'Palette lists packs only from registries with Provider Pack; run packpub palette doctor',
      });
    }
    // The registry chosen must serve the target: a registry of another host or base path may list the same
    // name:version from elsewhere, and the run would confirm packs it never published.
    const resolved = toResolved(details);
    if (details.record === undefined || endpointHost(resolved.endpoint) !== endpointHost(target.host, target.plainHttp === true) || resolved.baseContentPath !== trimSlashes(target.basePath)) {
      const serves = details.record === undefined ? 'an unreadable endpoint' : `${endpointHost(resolved.endpoint)}${resolved.baseContentPath === '' ? '' : `/${resolved.baseContentPath}`}`;
      throw new PackpubError('USAGE', `Palette registry ${chosen.metadata.name} (${chosen.metadata.uid}) serves ${serves}, not ${where}`, {
        hint: `name the Palette registry whose endpoint is ${target.host} and whose base content path is ${trimSlashes(target.basePath) || '(empty)'}; packpub palette doctor lists them`,
      });
    }
    return details;
  }
  const onHost = await registriesOnHost(client, target, options.deadline);
  const found = matchingRegistries(target, onHost);
  if (found.length === 0) {
    const [near] = pathInEndpoint(target, onHost);
    if (near !== undefined) throw new PackpubError('NOT_FOUND', `no Pack registry in Palette serves ${where}: ${near.problem}`, { hint: `edit ${near.details.summary.metadata.name} in Palette: ${near.fix}; packpub palette doctor checks its settings` });
    throw new PackpubError('NOT_FOUND', `no Pack registry in Palette serves ${where}`, {
      hint: 'run packpub palette doctor to see the settings Palette needs, or packpub palette register to add it',
    });
  }
  if (found.length > 1) {
    throw new PackpubError('USAGE', `${found.length} Pack registries in Palette serve ${where}: ${found.map((d) => `${d.summary.metadata.name} (${d.summary.metadata.uid})`).join(', ')}`, {
      hint: 'choose one with --palette-registry NAME|UID (or palette.registry of the target in packpub.yaml)',
    });
  }
  return found[0] as PaletteRegistryDetails;
}

/**
 * push --palette-sync's pre-flight, before anything is published: the one Palette registry serving the target
 * (resolvePaletteRegistry), refused when its record (read to find it) says its sync is off (CONFIG, exit 2): Palette
 * would list none of the packs; and with a project, when the project cannot show the registry's packs
 * (projectBeforePublish: USAGE, exit 2). Before, the packs were published, then the run ended with exit 3.
 */
export async function paletteRegistryBeforePublish(client: PaletteClient, target: PaletteTargetRef, options: ResolveOptions = {}): Promise<ResolvedPaletteRegistry> {
  const details = await servingRegistry(client, target, options);
  const registry = toResolved(details);
  const where = `${target.host}/${trimSlashes(target.basePath)}`;
  if (details.record?.spec.isSyncSupported === false) {
    throw new PackpubError('CONFIG', `sync is off for Palette registry ${registry.name} (${registry.uid}), which serves ${where}: Palette would list none of the packs`, {
      hint: `turn sync on for ${registry.name} in Palette (Tenant Settings > Registries > OCI Registries; packpub palette doctor checks its settings)`,
    });
  }
  // Its settings say on, but the sync status Palette's registry list gives says off: the sync after publishing read the
  // same status and ended exit 3, every pack published and none listed (the dry run said WOULD NOT BE VISIBLE).
  if (listSaysSyncOff(details)) {
    throw new PackpubError('CONFIG', `Palette's sync status of registry ${registry.name} (${registry.uid}), which serves ${where}, says sync is off (isSyncSupported false), though its settings say on: Palette would list none of the packs`, {
      hint: `check ${registry.name} in Palette (Tenant Settings > Registries > OCI Registries): edit and save it with sync on, or sync it there; packpub palette doctor checks it`,
    });
  }
  const wrong = await projectBeforePublish(client, registry, options.deadline);
  if (wrong !== undefined) throw wrong;
  return registry;
}

/**
 * palette sync of several targets, before the first sync: the one Palette registry serving the target, refused (USAGE,
 * exit 2) for a project that cannot show its packs as push --palette-sync's pre-flight refuses it (projectBeforePublish);
 * a registry with sync off is not refused (palette sync reports it per pack, exit 3).
 */
export async function paletteRegistryBeforeSync(client: PaletteClient, target: PaletteTargetRef, options: ResolveOptions = {}): Promise<ResolvedPaletteRegistry> {
  const registry = await resolvePaletteRegistry(client, target, options);
  const wrong = await projectBeforePublish(client, registry, options.deadline);
  if (wrong !== undefined) throw wrong;
  return registry;
}

/**
 * With a project (--palette-project), before anything is published, with no pack name of the run needed: one pack
 * search of the registry in the project; finding none (or refused there), one at tenant scope for a pack Palette lists
 * through the registry, and that pack judged as the check before a sync judges the run's first pack
 * (projectScopeError: read in the project, then at tenant scope). So the refusal rests on the same pack reads as
 * before, not on how Palette's search treats projects (undocumented). First, the project itself is read at tenant
 * scope (unknownProject; not again when `readProject` is false): one Palette does not know (404) is refused. Palette
 * listing no pack through the registry yet, only Palette refusing both the search and a pack read in the project tells
 * the rest. A search answer that tells nothing is left to the checks before and after the sync, as before.
 */
async function projectBeforePublish(client: PaletteClient, registry: ResolvedPaletteRegistry, deadline = Infinity, ask: UntilAnswered = atOnce, readProject = true): Promise<PackpubError | undefined> {
  const project = client.projectUid;
  if (project === undefined) return undefined;
  const unknown = readProject ? await unknownProject(client, registry, deadline, ask) : undefined;
  if (unknown !== undefined) return unknown;
  const own = await ask('project search', () => client.packThrough('project', registry.uid, deadline));
  if (own !== false && own !== 'refused') return undefined;
  const listed = await ask('tenant search', () => client.packThrough('tenant', registry.uid, deadline));
  if (typeof listed === 'object') return projectScopeError(client, registry, listed.name, undefined, deadline, undefined, ask);
  if (listed !== false) return undefined;
  // The project refused the registry's search (403): a pack of any registry, read in the project. Refused there too,
  // the project itself is refused (a uid Palette does not know, or a project the key's user is not in), whatever the
  // registry. Either alone could be the other registry's or the search's own rule (undocumented), so both are needed;
  // anything else is left to the checks after publishing.
  if (own !== 'refused') return undefined;
  const other = await ask('any pack', () => client.anyPack(deadline));
  if (other === undefined) return undefined;
  const read = await ask(`project:${other.name}`, () => client.packTagsIn('project', other.name, other.registryUid, deadline));
  return read.refused === undefined ? undefined : wrongProject(project, registry, `Palette refused a pack read there (${read.refused.message})`, read.refused);
}

/**
 * palette doctor with a project (--palette-project): push --palette-sync's check before publishing
 * (projectBeforePublish), on the one registry serving the target: the error push would refuse with, else undefined.
 */
export async function paletteProjectProblem(client: PaletteClient, registry: PaletteRegistryDetails): Promise<PackpubError | undefined> {
  return projectBeforePublish(client, toResolved(registry));
}

/**
 * palette sync, before its trigger: projectBeforePublish's check, unless the first pack's read in the project (`read`,
 * already made by wrongProjectBefore) shows the pack there, which says the project shows the registry.
 */
async function projectBeforeTrigger(client: PaletteClient, registry: ResolvedPaletteRegistry, packs: PalettePackRef[], deadline: number, read: (name: string) => Promise<PackRead>, ask: UntilAnswered): Promise<PackpubError | undefined> {
  if (client.projectUid === undefined) return undefined;
  const first = packs[0];
  if (first !== undefined) {
    const { entity } = await read(first.name);
    if (entity !== undefined && isOwnEntity(entity, first.name, registry.uid) && (entity.tags ?? []).length > 0) return undefined;
  }
  return projectBeforePublish(client, registry, deadline, ask, false);
}

/**
 * With a project (--palette-project): Palette's own read of it at tenant scope (GET /v1/projects/{uid}); one it does
 * not know (404, and its list of projects does not name it: PaletteClient.projectKnown) is the error, whatever its pack
 * calls answer. Before, that rested on the pack reads alone: a registry with no pack yet, with Palette answering the
 * project's pack calls 404, was found only after publishing and the sync (exit 3), and a Palette answering them at
 * tenant scope would have shown the packs (exit 0). A 403 (the key may not read projects), a 404 the list does not
 * confirm (a key that may use the project but not read it), or an odd answer tells nothing: the pack reads decide.
 */
async function unknownProject(client: PaletteClient, registry: ResolvedPaletteRegistry, deadline: number, ask: UntilAnswered): Promise<PackpubError | undefined> {
  const project = client.projectUid;
  if (project === undefined) return undefined;
  const known = await ask('project', () => client.projectKnown(project, deadline));
  if (known?.known !== false) return undefined;
  const uids = known.uidsOfName;
  const named = uids.length === 0 ? '' : uids.length === 1 ? `; its project named "${project}" has uid ${uids[0] ?? ''}` : `; its projects named "${project}" have uids ${someOf(uids, ', ')}`;
  return wrongProject(project, registry, `Palette has no project with that uid (reading project ${project} answered 404, and Palette's list of projects does not name it${named})`, undefined, uids);
}

/**
 * How a Palette call of the sync step is made: at once, its error ending the run (a check before publishing or of a
 * dry run), or, once the sync step runs (syncOnce), asked again at the next poll while Palette does not answer it
 * through its retries (PaletteUnavailable), until the deadline. `what` tells one call from another, to say its failure once.
 */
type UntilAnswered = <T>(what: string, call: () => Promise<T>) => Promise<T>;
const atOnce: UntilAnswered = (_what, call) => call();

/** A published version to confirm in Palette. */
export interface PalettePackRef {
  name: string;
  version: string;
}

/** `planned`: a dry run found the registry and would confirm this version (nothing was synced). */
export type PalettePackStatus = 'visible' | 'not-visible' | 'planned';

export interface PalettePackVisibility {
  name: string;
  version: string;
  status: PalettePackStatus;
  /** Palette's uid of the pack version, when visible. */
  packUid?: string;
  /** Why it is not visible. */
  reason?: string;
}

/**
 * `dry-run`: not synced (push --dry-run --palette-sync); the registry was found and its sync is on. `error`: a Palette
 * error stopped the wait before the sync was seen to end (PaletteSyncStopped).
 */
export type PaletteSyncOutcome = 'success' | 'failed' | 'timeout' | 'not-supported' | 'dry-run' | 'error';

/**
 * `visible`: every pack is listed by Palette. `published-not-visible`: the packs are in the registry but
 * Palette does not list all of them (the CLI exits 3). A dry run: `dry-run` (Palette was checked, nothing
 * synced), or `would-not-be-visible` (the registry's sync is off: a real run would exit 3 too).
 */
export type PaletteRunStatus = 'visible' | 'published-not-visible' | 'dry-run' | 'would-not-be-visible';

/** True for the statuses that end a run with exit code 3. */
export function isNotVisible(status: PaletteRunStatus): boolean {
  return status === 'published-not-visible' || status === 'would-not-be-visible';
}

export interface PaletteSyncReport {
  status: PaletteRunStatus;
  registry: ResolvedPaletteRegistry;
  /** forceSync=true was sent (a version was replaced in this run). */
  forced: boolean;
  sync: { outcome: PaletteSyncOutcome; status?: string; message?: string; lastRunTime?: string };
  packs: PalettePackVisibility[];
  durationMs: number;
}

export type PaletteSyncEvent =
  | { type: 'palette-registry'; registry: ResolvedPaletteRegistry }
  | {
      type: 'palette-sync-started';
      forced: boolean;
      /** Why forceSync was sent, when not asked for (options.force). */
      why?: string;
      /** Asked for again: the sync running when it was first asked for ended, and none started after it. */
      again?: boolean;
    }
  | { type: 'palette-sync-status'; status: string; message?: string }
  /** The sync asked for did not start (a sync runs already): packpub waits for that one to end, then asks again. */
  | { type: 'palette-sync-waiting'; reason: string }
  | { type: 'palette-pack'; pack: PalettePackVisibility };

export interface PaletteSyncOptions {
  /** Name:version pairs to confirm (empty: only sync). */
  packs: PalettePackRef[];
  /** Send forceSync=true: a version was replaced, and Palette caches digests. */
  force?: boolean;
  /** The registry to use, else resolved from the target. */
  registry?: ResolvedPaletteRegistry | string;
  /** Give up after this long (default 600 000 ms). */
  timeoutMs?: number;
  /** Between polls of the sync status and of the packs (default 10 000 ms, as Terraform's provider). */
  pollIntervalMs?: number;
  clock?: RetryClock;
  signal?: AbortSignal;
  onEvent?: (event: PaletteSyncEvent) => void;
  /**
   * The run published the packs (push): a project found wrong before the sync does not end it with a usage error
   * (exit 2 says nothing was attempted); the sync still runs and each pack is `not-visible`, its reason naming
   * the project. Found after the sync, it is told that way in every run.
   */
  afterPublish?: boolean;
  /**
   * Versions of `packs` (`name:version`) the registry refuses to serve (a project policy: Harbor serving only
   * signed artifacts), and why: Palette is refused them too. They are looked for in Palette with the others, but
   * not waited for: once only they are left, each is `not-visible` with that reason.
   */
  unreadable?: ReadonlyMap<string, string>;
  /**
   * What the values.yaml published as a version holds (PackValuesKind), asked only when Palette lists the version
   * with empty values (`packValues[].values` of its packUid, palette-api.md 2(g)): then a version whose values.yaml
   * is `set` is not visible yet, as Palette did not read its content; one whose values.yaml is `empty` (an OS pack's
   * may be) is. Unset, or answering undefined (not known): Palette's empty values are taken as they are. `signal`
   * aborts at the end of `timeoutMs` or with `signal` (a read from the registry must not outlast them): a read it ends
   * leaves the version not visible, saying the values.yaml could not be read in time.
   */
  publishedValues?: (ref: PalettePackRef, signal: AbortSignal) => Promise<PackValuesKind | undefined>;
  /**
   * Versions of `packs` (`name:version`) this run published as new to the registry (push: status `published`). One
   * Palette already lists through the registry is an earlier artifact's, since deleted: Palette caches its digest and
   * a plain sync keeps it (palette-api.md 5), so the sync is forced, as for a replaced version.
   */
  newVersions?: ReadonlySet<string>;
  /**
   * Versions of `packs` (`name:version`) this run replaced in the registry (push: status `overwritten`). Used when the
   * sync fails: Palette may list such a version from before the sync, with the earlier artifact's digest, so its
   * listing does not show the content published. Unset with `force`: every version listed may be one replaced.
   */
  replacedVersions?: ReadonlySet<string>;
}

/** What a pack's values.yaml holds: `set`, a YAML mapping or list with entries; else `empty` (blank, comments, `{}`). */
export type PackValuesKind = 'empty' | 'set';

/** A published values.yaml as read for the check: its kind, `late` (not read by the deadline or the interrupt), or not known. */
type ValuesRead = PackValuesKind | 'late' | undefined;

/**
 * The kind of a values.yaml's text. Only values with entries count as `set`: Palette is expected to show those
 * (the upload script of palette-api.md treats an empty `values` as a failed import); a file of comments, `{}` or a
 * lone scalar may be shown as empty without a read having failed. Text that does not parse (validate refuses it
 * before a push) is `set` when it is not blank.
 */
export async function valuesKindOf(text: string): Promise<PackValuesKind> {
  const { parseAllDocuments } = await import('yaml');
  try {
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length > 0) throw doc.errors[0];
      const value: unknown = doc.toJS();
      if (Array.isArray(value) ? value.length > 0 : typeof value === 'object' && value !== null && Object.keys(value).length > 0) return 'set';
    }
    return 'empty';
  } catch {
    return text.trim() === '' ? 'empty' : 'set';
  }
}

function timeOf(s: string | undefined): number | undefined {
  if (s === undefined || s === '') return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

/** True when `after` is a run time later than `before` (or there was none before). */
function isNewer(after: string | undefined, before: string | undefined): boolean {
  const a = timeOf(after);
  if (a === undefined) return false;
  const b = timeOf(before);
  return b === undefined || a > b;
}

/**
 * Whether a done or failed status read after the trigger is of a sync that started after it (palette-api.md 3.3),
 * not the previous run's: its run time is later than before the trigger; or the sync was settled (done or failed)
 * before the trigger and has been seen pending or running since (`startedSince`), and its run time is not earlier (a
 * Palette that tells time to the second gives a sync started within the same second as the previous one the same
 * time); or, settled before, the run time changed but cannot be read as a time.
 */
function ranAfterTrigger(runTime: string | undefined, previousRun: string | undefined, settledBefore: boolean, startedSince: boolean): boolean {
  if (isNewer(runTime, previousRun)) return true;
  if (!settledBefore) return false;
  const a = timeOf(runTime);
  const b = timeOf(previousRun);
  if (a !== undefined && b !== undefined) return startedSince && a >= b;
  return startedSince || (runTime !== undefined && runTime !== previousRun);
}

function findVersion(tags: { tag?: string; version?: string; packUid?: unknown }[] | undefined, version: string): { packUid?: string } | undefined {
  // Terraform matches tags[].version, the upload script tags[].tag; parent tags like 1.0.x sit in the same list.
  const hit = (tags ?? []).find((t) => t.version === version || t.tag === version);
  // A packUid that is no string (Palette's is a uid) is left out: reports promise a string, and printing an object
  // nested without end overflowed the stack.
  return hit === undefined ? undefined : typeof hit.packUid === 'string' ? { packUid: hit.packUid } : {};
}

/**
 * The values Palette shows for the version of `packUid` (packValues[].values): `set` (text), `empty` (its entry has no
 * text), or undefined when the answer carries nothing to judge by: no packValues, no entry for that packUid (whether
 * Palette lists every version's values, or the latest's only, is not documented: the upload script of palette-api.md
 * checked the version it had just pushed), or the version's packUid unknown.
 */
function valuesShown(entity: PalettePackTags | undefined, packUid: string | undefined): PackValuesKind | undefined {
  const list = entity?.packValues;
  if (packUid === undefined || !Array.isArray(list)) return undefined;
  const entry = list.find((v) => isRecord(v) && v.packUid === packUid);
  if (entry === undefined) return undefined;
  const values: unknown = entry.values;
  // No field, or null, is an empty string left out (Go's omitempty); any other kind than text is nothing to judge by.
  if (values === undefined || values === null) return 'empty';
  if (typeof values !== 'string') return undefined;
  return values.trim() === '' ? 'empty' : 'set';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isOwnEntity(entity: { name?: string; registryUid?: string }, name: string, registryUid: string): boolean {
  const sameRegistry = entity.registryUid === undefined || entity.registryUid === '' || entity.registryUid === registryUid;
  const sameName = entity.name === undefined || entity.name === '' || entity.name === name;
  return sameRegistry && sameName;
}

/** Up to five of `items` joined by `sep`, and how many more there are: "a, b, c, d, e and 2 more". */
function someOf(items: string[], sep: string): string {
  return items.length > 5 ? `${items.slice(0, 5).join(sep)} and ${items.length - 5} more` : items.join(sep);
}

/** The project check's error: the pack reads of `--palette-project` cannot show this registry's packs. */
function wrongProject(project: string, registry: ResolvedPaletteRegistry, why: string, cause?: unknown, uidsOfName: string[] = []): PackpubError {
  // Palette's uids are lowercase hexadecimal: a capital or a space is a name, such as every tenant's "Default" project.
  // Palette's list of projects naming one so (`uidsOfName`): its uid, to pass instead; several so named: each, to choose.
  const named =
    uidsOfName.length === 1
      ? `--palette-project takes the project's uid, not its name: pass --palette-project ${uidsOfName[0] ?? ''} (project "${project}"); `
      : uidsOfName.length > 1
        ? `--palette-project takes the project's uid, not its name, and ${uidsOfName.length} projects are named "${project}": pass the uid of the one meant (${someOf(uidsOfName, ' or ')}); `
        : /[A-Z\s]/.test(project)
          ? `"${project}" reads as a project's name, and --palette-project takes the project's uid, not its name: `
          : '';
  return new PackpubError('USAGE', `Palette project ${project} (--palette-project) cannot show the packs of registry ${registry.name}: ${why}`, {
    hint: `${named}check the project's uid in Palette (--palette-project, SPECTROCLOUD_DEFAULT_PROJECT_ID or palette.project in packpub.yaml), that the key's user belongs to it and that registry ${registry.name} is available there; without a project packpub confirms the packs at tenant scope`,
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * With a project (--palette-project), a pack that Palette lists through this registry at tenant scope but
 * not in the project, or a pack read Palette refuses there (403), means the project is wrong (an unknown
 * uid, or the registry is not available in it): waiting for the sync would not change that. The error to
 * end the run with, else undefined. `inProject`: the project's answer when already read. `version`
 * undefined: any version of the pack counts.
 */
async function projectScopeError(
  client: PaletteClient,
  registry: ResolvedPaletteRegistry,
  name: string,
  version: string | undefined,
  deadline: number,
  inProject?: PackRead,
  ask: UntilAnswered = atOnce,
): Promise<PackpubError | undefined> {
  const project = client.projectUid;
  if (project === undefined) return undefined;
  const own = inProject ?? (await ask(name, () => client.packTagsIn('project', name, registry.uid, deadline)));
  if (own.refused !== undefined) return wrongProject(project, registry, `Palette refused a pack read there (${own.refused.message})`, own.refused);
  const lists = (entity: PalettePackTags | undefined) =>
    entity !== undefined && isOwnEntity(entity, name, registry.uid) && (version === undefined ? (entity.tags ?? []).length > 0 : findVersion(entity.tags, version) !== undefined);
  if (lists(own.entity)) return undefined;
  const tenant = await ask(`tenant:${name}`, () => client.packTagsIn('tenant', name, registry.uid, deadline));
  if (tenant.refused !== undefined || !lists(tenant.entity)) return undefined;
  return wrongProject(project, registry, `Palette lists ${version === undefined ? name : `${name}:${version}`} through that registry at tenant scope, but not in the project`);
}

/** What a pack read at the client's scope answered (PaletteClient.packTagsIn). */
type PackRead = { entity?: PalettePackTags; refused?: PackpubError };

/**
 * Before the sync (and in a dry run): the first pack's earlier versions show whether the project is wrong. `read`:
 * the read of a pack at the client's scope already made before the sync (listedBefore's), not sent again.
 */
async function wrongProjectBefore(client: PaletteClient, registry: ResolvedPaletteRegistry, packs: PalettePackRef[], deadline: number, read?: (name: string) => Promise<PackRead>, ask: UntilAnswered = atOnce): Promise<PackpubError | undefined> {
  const first = packs[0];
  if (first === undefined || client.projectUid === undefined) return undefined;
  return await projectScopeError(client, registry, first.name, undefined, deadline, await read?.(first.name), ask);
}

/**
 * The versions of `newVersions` (published as new to the registry by this run) that Palette already lists through the
 * registry, before the sync: an earlier artifact's entry, whose digest Palette keeps unless the sync is forced. One
 * read per pack name, at the client's scope; a refused read (a wrong project, judged later) counts as not listed. With
 * more than SEARCH_FROM names, one pack search of the registry first (50 names a page): a name it does not list has no
 * version listed, and is not read (a bulk first publish of 200 packs took 200 reads, 33 s at 6 a second).
 */
async function listedBefore(
  client: PaletteClient,
  registry: ResolvedPaletteRegistry,
  packs: PalettePackRef[],
  newVersions: ReadonlySet<string> | undefined,
  read: (name: string) => Promise<PackRead>,
  deadline: number,
  ask: UntilAnswered,
): Promise<string[]> {
  if (newVersions === undefined || newVersions.size === 0) return [];
  let names = [...new Set(packs.filter((p) => newVersions.has(`${p.name}:${p.version}`)).map((p) => p.name))];
  // At most half as many pages as names: the search never costs more than half the reads it may save.
  const listed = names.length > SEARCH_FROM ? await ask('pack search', () => client.packNamesIn(registry.uid, Math.floor(names.length / 2), deadline)) : undefined;
  if (listed !== undefined) names = names.filter((name) => listed.has(name));
  const out: string[] = [];
  for (const name of names) {
    const { entity } = await read(name);
    if (entity === undefined || !isOwnEntity(entity, name, registry.uid)) continue;
    for (const p of packs) if (p.name === name && newVersions.has(`${p.name}:${p.version}`) && findVersion(entity.tags, p.version) !== undefined) out.push(`${p.name}:${p.version}`);
  }
  return out;
}

/** Pack names to check before a sync above which a pack search (one request for 50 names) comes before the reads. */
const SEARCH_FROM = 2;

/** A pack's reason when the project is wrong: the error's words and what to check (its hint leads with it). */
function wrongProjectReason(wrong: PackpubError): string {
  return wrong.hint === undefined ? wrong.message : `${wrong.message}; ${wrong.hint.replace(/;.*$/, '')}`;
}

/**
 * Sync the Palette registry serving `target` and confirm every pack is listed. Never throws for a pack
 * that stays invisible: the report says so (status `published-not-visible`). Throws for API errors
 * (key rejected, registry not found, ...).
 */
export async function syncPaletteRegistry(client: PaletteClient, target: PaletteTargetRef, options: PaletteSyncOptions): Promise<PaletteSyncReport> {
  const progress: SyncProgress = {};
  try {
    // `signal` gives up the Palette call in flight too, not only the waits between them.
    return await client.whileNotAborted(options.signal, () => syncOnce(client, target, options, progress));
  } catch (err) {
    // An error after the sync was asked for keeps what the run had confirmed by then; so does the interrupt (still an
    // ABORTED error): `palette sync --json` stopped by a signal printed nothing, and push --palette-sync's report, JUnit
    // and summary left out the packs Palette had been seen to list before it.
    if (progress.stopped === undefined || !isPackpubError(err)) throw err;
    const why = err.code === 'ABORTED' ? new PackpubError('ABORTED', 'interrupted before Palette was seen to list it') : err;
    throw new PaletteSyncStopped(err, progress.stopped(why));
  }
}

/** What a sync has done so far, for an error that stops it: set once the sync was asked for. */
interface SyncProgress {
  stopped?: (err: PackpubError) => PaletteSyncReport;
}

/**
 * A Palette error (its code, message and hint, so its exit code) that stopped a sync after it was asked for, such as
 * an outage lasting through the retries of a poll: `report` is the target's report at that moment, each pack Palette
 * had been seen to list `visible` as it was, the others `not-visible`, `not confirmed: <error>`; its sync outcome is
 * `error` unless the sync had been seen to end. push --palette-sync keeps it in its JSON report beside the error.
 */
export class PaletteSyncStopped extends PackpubError {
  constructor(
    readonly stopped: PackpubError,
    readonly report: PaletteSyncReport,
  ) {
    super(stopped.code, stopped.message, { ...(stopped.hint === undefined ? {} : { hint: stopped.hint }), cause: stopped });
  }
}

/** The longest wait a timer holds (Node fires a longer one at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A sync's or a plan's start: its clock and deadline, and the Palette registry serving the target (given, or found). */
async function startOn(
  client: PaletteClient,
  target: PaletteTargetRef,
  options: PaletteSyncOptions,
): Promise<{ clock: RetryClock; started: number; deadline: number; registry: ResolvedPaletteRegistry }> {
  // A library caller's 0 or NaN polled Palette with no pause until the deadline, and a wait past what a timer holds
  // (2^31 - 1 ms, ~24 days) ended at once: refused before any call, as the CLI refuses its flags out of range.
  for (const [name, ms] of [['timeoutMs', options.timeoutMs], ['pollIntervalMs', options.pollIntervalMs]] as const) {
    if (ms !== undefined && !(ms > 0 && ms <= MAX_TIMER_MS)) throw new PackpubError('USAGE', `Palette sync: ${name} must be a number of milliseconds above 0 and at most ${MAX_TIMER_MS}, not ${String(ms)}`);
  }
  const clock = options.clock ?? currentRetryClock();
  const started = clock.now();
  const deadline = started + (options.timeoutMs ?? DEFAULT_PALETTE_TIMEOUT_MS);
  const registry =
    typeof options.registry === 'object'
      ? options.registry
      : await resolvePaletteRegistry(client, target, { deadline, ...(options.registry === undefined ? {} : { registry: options.registry }) });
  options.onEvent?.({ type: 'palette-registry', registry });
  return { clock, started, deadline, registry };
}

async function syncOnce(client: PaletteClient, target: PaletteTargetRef, options: PaletteSyncOptions, progress: SyncProgress): Promise<PaletteSyncReport> {
  const { clock, started, deadline, registry } = await startOn(client, target, options);
  const interval = options.pollIntervalMs ?? DEFAULT_PALETTE_POLL_MS;
  // A read (or the sync request) that Palette did not answer through its retries (an outage of a minute, a gateway
  // restarting) is asked again at the next poll while another fits before the deadline: it ended a wait of up to
  // --palette-timeout after ~7 s of retries, exit 1, though the sync went on. The last such read is said; past the
  // deadline, it ends the run. Every call from here on goes through one of the two below: the status polls and pack
  // reads of the wait skip to the next poll (orNextPoll), a call the run cannot go on without is waited for (untilAnswered).
  const unanswered = new Map<string, PaletteUnavailable>();
  const answerOf = async <T>(what: string, read: () => Promise<T>): Promise<{ answer: T } | undefined> => {
    try {
      const answer = await read();
      unanswered.delete(what);
      return { answer };
    } catch (err) {
      if (!(err instanceof PaletteUnavailable) || err.atDeadline || clock.now() + interval > deadline) throw err;
      // Said once while the same failure repeats, as a sync status is.
      if (unanswered.get(what)?.message !== err.message) options.onEvent?.({ type: 'palette-sync-waiting', reason: `${err.message}; asking again at the next poll` });
      unanswered.set(what, err);
      return undefined;
    }
  };
  const orNextPoll = async <T>(what: string, read: () => Promise<T>): Promise<T | undefined> => (await answerOf(what, read))?.answer;
  const untilAnswered: UntilAnswered = async (what, read) => {
    for (;;) {
      const got = await answerOf(what, read);
      if (got !== undefined) return got.answer;
      await clock.sleep(interval, options.signal);
    }
  };
  // Pack reads before the sync, once per name: whether Palette already lists a new version, and the project check.
  const reads = new Map<string, Promise<PackRead>>();
  const readBefore = (name: string): Promise<PackRead> => {
    let read = reads.get(name);
    if (read === undefined) reads.set(name, (read = untilAnswered(name, () => client.packTagsIn('project', name, registry.uid, deadline))));
    return read;
  };
  const stale = options.force === true ? [] : await listedBefore(client, registry, options.packs, options.newVersions, readBefore, deadline, untilAnswered);
  const forced = options.force === true || stale.length > 0;
  const report = (outcome: PaletteSyncOutcome, packs: PalettePackVisibility[], extra: Partial<PaletteSyncReport['sync']> = {}): PaletteSyncReport => ({
    // Only a sync that ran counts: with no version to confirm (an empty base path), a failed, timed-out or switched-off
    // sync had no pack to mark and was reported `visible`, exit 0.
    status: outcome === 'success' && packs.every((p) => p.status === 'visible') ? 'visible' : 'published-not-visible',
    registry,
    forced,
    sync: { outcome, ...extra },
    packs,
    durationMs: clock.now() - started,
  });
  const notVisible = (reason: string, packs = options.packs) => packs.map((p): PalettePackVisibility => ({ ...p, status: 'not-visible', reason }));
  // What each version's values.yaml published holds, read once, only for a version Palette shows with empty values;
  // bounded by the deadline and the interrupt (`late`: not read by then), so a registry holding the read holds no run.
  const published = new Map<string, Promise<ValuesRead>>();
  const publishedValues = (ref: PalettePackRef): Promise<ValuesRead> => {
    const k = `${ref.name}:${ref.version}`;
    let kind = published.get(k);
    if (kind === undefined) {
      const ask = options.publishedValues;
      // A timer of its own, cleared once the read ends, not AbortSignal.timeout: inside AbortSignal.any, Node 20 lets
      // a garbage collection take the timeout signal, which then never fires (nodejs/node#57736): the read was held
      // until --request-timeout, far past --palette-timeout.
      const late = new AbortController();
      const timer = setTimeout(() => late.abort(), Math.max(1, deadline - clock.now()));
      const signal = AbortSignal.any([late.signal, ...(options.signal === undefined ? [] : [options.signal])]);
      kind = ask === undefined ? Promise.resolve(undefined) : ask(ref, signal).then((v) => (signal.aborted ? 'late' : v), () => (signal.aborted ? 'late' : undefined));
      void kind.finally(() => clearTimeout(timer));
      published.set(k, kind);
    }
    return kind;
  };

  // palette sync: a project Palette does not know is refused first (push read it before publishing).
  const unknown = options.afterPublish === true ? undefined : await unknownProject(client, registry, deadline, untilAnswered);
  if (unknown !== undefined) throw unknown;
  const wrongBefore = await wrongProjectBefore(client, registry, options.packs, deadline, readBefore, untilAnswered);
  if (wrongBefore !== undefined && options.afterPublish !== true) throw wrongBefore;
  // palette sync (a push has made this check before publishing): the first pack not shown in the project tells
  // nothing, so the registry's pack search in the project too, before the trigger (a wrong project ended the run only
  // after the sync it had asked for, exit 3).
  if (options.afterPublish !== true) {
    const wrong = await projectBeforeTrigger(client, registry, options.packs, deadline, readBefore, untilAnswered);
    if (wrong !== undefined) throw wrong;
  }
  const before = await untilAnswered('', () => client.syncStatus(registry.uid, registry.flavour, deadline));
  if (before.isSyncSupported === false) {
    const why = await syncOffReasonOf(client, registry, deadline, untilAnswered);
    const packs = notVisible(why);
    for (const p of packs) options.onEvent?.({ type: 'palette-pack', pack: p });
    const off = report('not-supported', packs);
    offReasons.set(off, why);
    return off;
  }
  let previousRun = before.lastRunTime ?? before.lastSyncedTime;
  let syncedBefore = before.lastSyncedTime;
  const beforePhase = syncPhase(before.status);
  let settledBefore = beforePhase === 'done' || beforePhase === 'failed';
  let startedSince = false;
  // A sync running when it is asked for (the daily one, another pipeline's) may not be restarted: what Palette does then
  // is undocumented (palette-api.md 5). Refused (409), or that run ending with no run started after it (the request not
  // acted on), it is asked for again once that run has ended: a run that started before the push never sees the packs.
  let runningAtTrigger = !settledBefore;
  let conflict: string | undefined;
  let last = before;
  // Palette's clock (the Date of its status answer read last before a sync request): a run whose run time is earlier
  // started before the request. Read against a sync running at the request: a Palette whose running status shows the
  // run before's time, then lets the running (plain) sync finish on a forced request (its UI restarts only one running
  // for an hour), had that run's Success, newer than the time before, taken for the forced sync: a replaced version
  // listed with the digest replaced, exit 0.
  let askedAt: number | undefined;
  const why = stale.length === 0 ? undefined : `Palette lists ${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ` and ${stale.length - 3} more` : ''} from an earlier artifact, since deleted, and keeps its digest unless forced`;
  const trigger = async (again: boolean): Promise<void> => {
    askedAt = last.answeredAt;
    const refused = await untilAnswered('sync', () => client.triggerSync(registry.uid, registry.flavour, forced, deadline));
    // A 409 says a sync runs; another refusal (400, 423 ...) is read so only when the sync status shows one running:
    // the status read last (before the first request), else read now.
    if (refused !== undefined && refused.status !== 409 && syncPhase(last.status) !== 'running') {
      const now = await untilAnswered('', () => client.syncStatus(registry.uid, registry.flavour, deadline));
      if (syncPhase(now.status) !== 'running') throw refused.error;
    }
    conflict = refused?.conflict;
    if (conflict === undefined) {
      refusedLast = undefined;
      options.onEvent?.({ type: 'palette-sync-started', forced, ...(why === undefined ? {} : { why }), ...(again ? { again } : {}) });
      return;
    }
    // A 409 while the status read last shows the last sync ended (done or failed): asked again at each poll, which said,
    // every 10 s until --palette-timeout, "asking again once the sync running ends" about a sync Palette did not show.
    // Said as it is, once. A status pending or running (a sync queued or going on) is said as before.
    const phase = syncPhase(last.status);
    const reason =
      phase === 'done' || phase === 'failed'
        ? `Palette did not start a sync of ${registry.name} (${conflict}), though its sync status shows none running (${last.status ?? ''}); asking again at each poll until --palette-timeout`
        : `Palette did not start a sync of ${registry.name} (${conflict}); asking again once the sync running ends`;
    if (reason !== refusedLast) options.onEvent?.({ type: 'palette-sync-waiting', reason });
    refusedLast = reason;
  };
  /** The refusal said last (trigger): the same one again is not said again. */
  let refusedLast: string | undefined;
  await trigger(false);

  // Wait for a sync that ran after the trigger: a done/failed status with an older lastRunTime is the
  // previous run's (palette-api.md 3.3).
  let lastShown = '';
  // The packs confirmed so far (visible, or not visible for good), and how the sync ended when it was seen to.
  const results = new Map<string, PalettePackVisibility>();
  const key = (p: PalettePackRef) => `${p.name}:${p.version}`;
  let ended: PaletteSyncOutcome = 'error';
  progress.stopped = (err) =>
    report(ended, options.packs.map((p) => results.get(key(p)) ?? { ...p, status: 'not-visible', reason: `not confirmed: ${err.message}` }), statusFields(last));
  for (;;) {
    if (clock.now() >= deadline) {
      const waited = Math.round((clock.now() - started) / 1000);
      const refused = conflict === undefined ? '' : `; Palette refused to start one (${conflict})`;
      // A word packpub does not know is waited on as pending: say so, rather than leave "did not finish" unexplained.
      const unknown = isKnownSyncStatus(last.status) ? '' : `; packpub does not know status "${last.status ?? ''}" as done or failed (it knows Success, Completed, Failed, Error, as Terraform's provider), so it waited on it`;
      // A status that never left the run before the request (no pending or running seen, no later run time): the
      // sync asked for never started, which "last status Success" left to be guessed.
      const lastRun = last.lastRunTime ?? last.lastSyncedTime;
      const notStarted = conflict === undefined && !startedSince && !isNewer(lastRun, previousRun) ? `; Palette showed no sync started after it was asked for one: its status still shows the run before${lastRun === undefined ? '' : ` (${lastRun})`}` : '';
      const after = `; Palette goes on with what it started: packpub palette sync confirms the packs later, or raise --palette-timeout`;
      const packs = notVisible(`timed out after ${waited} s waiting for Palette's sync of ${registry.name} (last status ${last.status === undefined || last.status === '' ? 'none' : last.status})${refused}${unknown}${notStarted}${notStarted === '' && refused === '' ? after : ''}`);
      for (const p of packs) options.onEvent?.({ type: 'palette-pack', pack: p });
      return report('timeout', packs, statusFields(last));
    }
    await clock.sleep(Math.min(interval, Math.max(0, deadline - clock.now())), options.signal);
    const polled = await orNextPoll('', () => client.syncStatus(registry.uid, registry.flavour, deadline));
    if (polled === undefined) continue;
    last = polled;
    const shown = `${last.status ?? ''}|${last.message ?? ''}`;
    if (shown !== lastShown) {
      lastShown = shown;
      options.onEvent?.({ type: 'palette-sync-status', status: last.status ?? '', ...(last.message === undefined ? {} : { message: last.message }) });
    }
    // A status with no word (`status` empty or left out: pending, as Terraform's provider reads it) whose time of the last
    // completed sync (lastSyncedTime) is later than before the request: a sync ended since, and is done. Such a Palette
    // was waited on until --palette-timeout, then exit 3, "last status none", the packs perhaps listed all along.
    const wordless = (last.status ?? '').trim() === '' && isNewer(last.lastSyncedTime, syncedBefore);
    const phase = wordless ? 'done' : syncPhase(last.status);
    if (phase === 'pending' || phase === 'running') startedSince = true;
    // With a sync running at the request, a run that started before it (by Palette's clock) is that one, whatever it shows.
    // (A time never set, Go's zero time, tells nothing.)
    const runAt = timeOf(last.lastRunTime);
    const startedBefore = runningAtTrigger && askedAt !== undefined && runAt !== undefined && runAt > 0 && runAt < askedAt;
    const fresh = !startedBefore && (wordless || ranAfterTrigger(last.lastRunTime ?? last.lastSyncedTime, previousRun, settledBefore, startedSince));
    if ((phase === 'done' || phase === 'failed') && !fresh && (conflict !== undefined || runningAtTrigger)) {
      // The run going on when the sync was asked for has ended, and none started after the request: ask again.
      previousRun = last.lastRunTime ?? last.lastSyncedTime;
      syncedBefore = last.lastSyncedTime;
      settledBefore = true;
      startedSince = false;
      runningAtTrigger = false;
      await trigger(true);
      continue;
    }
    if (phase === 'failed' && fresh) {
      ended = 'failed';
      const said = last.message === undefined || last.message === '' ? 'no message' : last.message;
      // Still exit 3, but each pack is looked at once: one listed with the content published says the failure is
      // another pack's (a shared registry) or the registry's, not this one's.
      const unsure = (ref: PalettePackRef): boolean => {
        const k = `${ref.name}:${ref.version}`;
        if (options.force !== true) return stale.includes(k);
        return options.replacedVersions === undefined || options.replacedVersions.has(k) || options.newVersions?.has(k) === true;
      };
      // A project found wrong before the sync (push: published already) shows none of the packs: say both.
      const packs =
        wrongBefore !== undefined
          ? notVisible(`Palette's sync of ${registry.name} failed: ${said}; and ${wrongProjectReason(wrongBefore)}`)
          : await packsAfterFailedSync(client, registry, options, said, deadline, unsure, publishedValues, untilAnswered);
      for (const p of packs) options.onEvent?.({ type: 'palette-pack', pack: p });
      return report('failed', packs, statusFields(last));
    }
    if (phase === 'done' && fresh) {
      ended = 'success';
      break;
    }
  }
  if (wrongBefore !== undefined) {
    const packs = notVisible(wrongProjectReason(wrongBefore));
    for (const p of packs) options.onEvent?.({ type: 'palette-pack', pack: p });
    return report('success', packs, statusFields(last));
  }

  // Indexing can lag the sync status: poll each pack until listed or the deadline.
  let pending = [...options.packs];
  // The version the project check found listed at tenant scope but not in the project on the last round: a
  // second round alike ends the run (one poll of grace, should the project's listing lag the tenant's).
  let mismatched: string | undefined;
  // The sync ran: a wrong project now leaves the packs still pending not visible, each saying why (exit 3).
  let wrongAfter: PackpubError | undefined;
  // The versions Palette was asked for at least once: the others, when the deadline comes first, were never read.
  const asked = new Set<string>();
  // Versions Palette lists with empty values though their values.yaml is not empty: why each is not visible yet.
  const unread = new Map<string, string>();
  // Of those, the ones whose values.yaml published could not be read by the deadline.
  const late = new Set<string>();
  // A version an administrator disabled in Palette: a pack read leaves it out unless asked for it by state (the 4.8
  // spec: "by default API will return all packs except disabled packs"), so it was waited for until --palette-timeout,
  // then "Palette may have refused the pack". For a name with a version not listed on the last round, one read of its
  // disabled versions, made before that round's usual read: a version the usual read (made after it) still does not
  // list, while the read by state does, is disabled, whether `states` filters or adds to the default (not documented).
  const disabled = new Map<string, PalettePackTags | undefined>();
  let missedBefore = new Set<string>();
  for (;;) {
    let mismatchedNow: string | undefined;
    const missedNow = new Set<string>();
    const byName = new Map<string, PalettePackRef[]>();
    for (const p of pending) byName.set(p.name, [...(byName.get(p.name) ?? []), p]);
    const still: PalettePackRef[] = [];
    // Listed with their values unread: waited for too, apart from `still` (whose first entry the project check reads).
    const unreadNow: PalettePackRef[] = [];
    for (const [name, refs] of byName) {
      // Read past the deadline, a round of many packs (10 reads a second) would end the run long after --palette-timeout.
      if (clock.now() >= deadline) {
        still.push(...refs);
        continue;
      }
      if (missedBefore.has(name) && !disabled.has(name)) {
        const read = await orNextPoll(`disabled:${name}`, () => client.packTagsIn('project', name, registry.uid, deadline, 'disabled'));
        if (read !== undefined) disabled.set(name, read.entity !== undefined && isOwnEntity(read.entity, name, registry.uid) ? read.entity : undefined);
      }
      const inProject = await orNextPoll(name, () => client.packTagsIn('project', name, registry.uid, deadline));
      if (inProject === undefined) {
        still.push(...refs);
        continue;
      }
      for (const ref of refs) asked.add(key(ref));
      if (inProject.refused !== undefined) {
        wrongAfter = await projectScopeError(client, registry, name, undefined, deadline, inProject, untilAnswered);
        if (wrongAfter === undefined) throw inProject.refused;
        break;
      }
      const answered = inProject.entity;
      // Only this registry's entry of this pack counts: the same name:version from another registry is not what was published.
      const entity = answered !== undefined && isOwnEntity(answered, name, registry.uid) ? answered : undefined;
      for (const ref of refs) {
        const hit = findVersion(entity?.tags, ref.version);
        if (hit === undefined) {
          unread.delete(key(ref));
          const off = findVersion(disabled.get(name)?.tags, ref.version);
          if (off !== undefined) {
            const shown: PalettePackVisibility = {
              ...ref,
              status: 'not-visible',
              reason: `Palette lists ${ref.name}:${ref.version} through ${registry.name} only as disabled (packUid ${off.packUid ?? 'unknown'}: a read asking for disabled versions shows it, Palette's default read leaves it out): an administrator disabled it in Palette; enable it there, or publish a new version`,
            };
            results.set(key(ref), shown);
            options.onEvent?.({ type: 'palette-pack', pack: shown });
            continue;
          }
          // The sync is done: a version listed at tenant scope but not in the project will never show there.
          let atTenant = false;
          if (still.length === 0) {
            const wrong = await projectScopeError(client, registry, name, ref.version, deadline, inProject, untilAnswered);
            if (wrong !== undefined && mismatched === key(ref)) wrongAfter = wrong;
            else if (wrong !== undefined) mismatchedNow = key(ref);
            atTenant = wrong !== undefined;
          }
          // Listed at tenant scope by the default read, it is not disabled: no read by state for it.
          if (!atTenant) missedNow.add(name);
          still.push(ref);
          continue;
        }
        // Listed, but with empty values where the values.yaml published has some: Palette did not read the pack's
        // content (the upload script of palette-api.md fails such a pack); waited for as a version not listed yet.
        const kind = valuesShown(entity, hit.packUid) === 'empty' ? await publishedValues(ref) : undefined;
        if (kind === 'set' || kind === 'late') {
          if (kind === 'late') late.add(key(ref));
          unread.set(
            key(ref),
            kind === 'set'
              ? `Palette lists ${ref.name}:${ref.version} (packUid ${hit.packUid ?? 'unknown'}) with empty values, but the values.yaml published has some: Palette's sync of ${registry.name} did not read the pack's content`
              : `Palette lists ${ref.name}:${ref.version} (packUid ${hit.packUid ?? 'unknown'}) with empty values, and the values.yaml published could not be read from the registry within --palette-timeout to tell whether it has some`,
          );
          unreadNow.push(ref);
          continue;
        }
        unread.delete(key(ref));
        const visible: PalettePackVisibility = { ...ref, status: 'visible', ...(hit.packUid === undefined ? {} : { packUid: hit.packUid }) };
        results.set(key(ref), visible);
        options.onEvent?.({ type: 'palette-pack', pack: visible });
      }
      if (wrongAfter !== undefined) break;
    }
    if (wrongAfter !== undefined) {
      const told = new Set([...results.keys()]);
      for (const missing of notVisible(wrongProjectReason(wrongAfter), options.packs.filter((p) => !told.has(key(p))))) {
        results.set(key(missing), missing);
        options.onEvent?.({ type: 'palette-pack', pack: missing });
      }
      break;
    }
    pending = [...still, ...unreadNow];
    mismatched = mismatchedNow;
    missedBefore = missedNow;
    const unreadable = options.unreadable ?? new Map<string, string>();
    if (pending.every((ref) => unreadable.has(key(ref)))) {
      for (const ref of pending) {
        const refused: PalettePackVisibility = { ...ref, status: 'not-visible', reason: `Palette's sync of ${registry.name} finished but does not list ${ref.name}:${ref.version}: ${unreadable.get(key(ref)) ?? ''}` };
        results.set(key(ref), refused);
        options.onEvent?.({ type: 'palette-pack', pack: refused });
      }
      break;
    }
    if (clock.now() + interval > deadline) {
      // The deadline came while Palette did not answer a pending pack's last read: the outage ends the run, as a
      // read failing on the last poll does (not a timeout, whether the deadline fell before or after that poll).
      const outage = pending.map((ref) => unanswered.get(ref.name)).find((err) => err !== undefined);
      if (outage !== undefined) throw outage;
      const msg = last.message === undefined || last.message === '' ? '' : ` (sync message: ${last.message})`;
      const waited = Math.round((clock.now() - started) / 1000);
      for (const ref of pending) {
        const missing: PalettePackVisibility = {
          ...ref,
          status: 'not-visible',
          reason: !asked.has(key(ref))
            ? `timed out after ${waited} s before Palette was asked for ${ref.name}:${ref.version} (--palette-timeout); its sync of ${registry.name} finished${msg}`
            : unread.has(key(ref))
              ? `${unread.get(key(ref)) ?? ''}${msg}${late.has(key(ref)) ? '; raise --palette-timeout, or check the registry' : `; a forced sync (packpub palette sync --force-sync ${ref.name}:${ref.version}) asks Palette to read it again`}`
              : `Palette's sync of ${registry.name} finished but does not list ${ref.name}:${ref.version}${msg}; Palette may have refused the pack`,
        };
        results.set(key(ref), missing);
        options.onEvent?.({ type: 'palette-pack', pack: missing });
      }
      break;
    }
    await clock.sleep(interval, options.signal);
  }
  return report('success', options.packs.map((p) => results.get(key(p)) as PalettePackVisibility), statusFields(last));
}

/**
 * After a sync that failed (Palette's message `said`), each pack read once (no wait: nothing more is coming): `visible`
 * when Palette lists it with the content published, else `not-visible`, each reason starting with the sync's failure.
 * Listed with the content published: not one `unsure` says Palette may list from before the sync (replaced, or listed
 * before though published as new: a forced sync that failed may not have read it again), not named by the sync's
 * message, and not shown with empty values while its values.yaml has some. The run still ends `published-not-visible`.
 */
async function packsAfterFailedSync(
  client: PaletteClient,
  registry: ResolvedPaletteRegistry,
  options: PaletteSyncOptions,
  said: string,
  deadline: number,
  unsure: (ref: PalettePackRef) => boolean,
  publishedValues: (ref: PalettePackRef) => Promise<ValuesRead>,
  ask: UntilAnswered,
): Promise<PalettePackVisibility[]> {
  const failed = `Palette's sync of ${registry.name} failed: ${said}`;
  const clock = options.clock ?? currentRetryClock();
  const seen = new Map<string, PalettePackTags | undefined>();
  // Many names: one pack search first, and a name it does not list is not read (as before the sync, listedBefore).
  const names = new Set(options.packs.map((p) => p.name));
  const listed = names.size > SEARCH_FROM && clock.now() < deadline ? await ask('pack search', () => client.packNamesIn(registry.uid, Math.floor(names.size / 2), deadline)) : undefined;
  if (listed !== undefined) for (const name of names) if (!listed.has(name)) seen.set(name, undefined);
  const out: PalettePackVisibility[] = [];
  for (const ref of options.packs) {
    const no = (why = ''): PalettePackVisibility => ({ ...ref, status: 'not-visible', reason: `${failed}${why}` });
    if (!seen.has(ref.name)) {
      // Never past the deadline; a refused read (a wrong project) leaves the pack as the sync's failure says.
      const read = clock.now() >= deadline ? {} : await ask(ref.name, () => client.packTagsIn('project', ref.name, registry.uid, deadline));
      seen.set(ref.name, read.entity !== undefined && isOwnEntity(read.entity, ref.name, registry.uid) ? read.entity : undefined);
    }
    const entity = seen.get(ref.name);
    const hit = findVersion(entity?.tags, ref.version);
    if (hit === undefined) {
      out.push(no());
      continue;
    }
    const listed = `Palette lists ${ref.name}:${ref.version} (packUid ${hit.packUid ?? 'unknown'})`;
    if (unsure(ref)) {
      out.push(no(`; ${listed}, but maybe from before this sync, which was to read it again: whether it holds the content published is not known`));
      continue;
    }
    if (namesPack(said, ref)) {
      out.push(no(`; ${listed}, but the sync's message names it: Palette could not read it this time`));
      continue;
    }
    const kind = valuesShown(entity, hit.packUid) === 'empty' ? await publishedValues(ref) : undefined;
    if (kind === 'set' || kind === 'late') {
      out.push(no(`; ${listed} with empty values, ${kind === 'set' ? 'but the values.yaml published has some' : 'and the values.yaml published could not be read in time to tell whether it has some'}`));
      continue;
    }
    out.push({ ...ref, status: 'visible', ...(hit.packUid === undefined ? {} : { packUid: hit.packUid }) });
  }
  return out;
}

/**
 * Whether a sync's message names the pack version (`name:version`, `name@version`, the archive's `name-version`) or its
 * repository (`.../archive/name`): then Palette failed on it, whatever it still lists from an earlier sync.
 */
function namesPack(message: string, ref: PalettePackRef): boolean {
  const esc = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // Not part of a longer name or version: `myapp:1.0.0`, `app:1.0.01` and `archive/app:2.0.0` are others; `app-1.0.0.tar.gz` is this one.
  const version = `${esc(ref.name)}[:@-]${esc(ref.version)}(?![A-Za-z0-9_+-]|\\.[0-9])`;
  const repository = `archive/${esc(ref.name)}(?![A-Za-z0-9._@-]|:[A-Za-z0-9_])`;
  return new RegExp(`(?:^|[^A-Za-z0-9._-])(?:${version})|${repository}`, 'i').test(message);
}

/** Why the sync of a report was not asked for, sync being off (syncOffReasonOf): told with no pack to carry it too. */
const offReasons = new WeakMap<PaletteSyncReport, string>();

/** Why a sync report is not `visible` when it names no pack (an empty base path): what the sync itself did. */
export function syncNotDone(report: PaletteSyncReport): string {
  const name = report.registry.name;
  const said = report.sync.message === undefined ? '' : `: ${report.sync.message}`;
  if (report.sync.outcome === 'failed') return `Palette's sync of ${name} failed${said === '' ? ': no message' : said}`;
  if (report.sync.outcome === 'timeout') return `Palette's sync of ${name} did not finish within --palette-timeout (last status ${report.sync.status ?? 'none'})`;
  if (report.sync.outcome === 'not-supported') return offReasons.get(report) ?? syncOffReason(report.registry);
  return `Palette's sync of ${name} ended ${report.sync.outcome}`;
}

function syncOffReason(registry: ResolvedPaletteRegistry): string {
  return `sync is off for Palette registry ${registry.name}: turn it on (Palette lists packs only from synced registries)`;
}

/**
 * syncOffReason, told from the registry's settings (its record, read once): a registry whose settings say sync on while
 * its sync status says off was told "turn it on" by palette sync, as push, doctor and register no longer tell it.
 */
async function syncOffReasonOf(client: PaletteClient, registry: ResolvedPaletteRegistry, deadline: number, ask: UntilAnswered = atOnce): Promise<string> {
  const record = await ask('record', () => client.getRegistry(registry.uid, registry.flavour, deadline));
  if (record?.spec.isSyncSupported !== true) return syncOffReason(registry);
  return `Palette's sync status of registry ${registry.name} says sync is off (isSyncSupported false), though its settings say on: Palette lists no pack from it; edit ${registry.name} in Palette (Tenant Settings > Registries > OCI Registries) and save it with sync on, or sync it there`;
}

/**
 * What a sync would do, checked with reads only (push --dry-run --palette-sync): the key is accepted, one
 * Pack registry serves the target, and its sync is on. Nothing is synced: the packs come back `planned`,
 * or `not-visible` when sync is off (status `would-not-be-visible`, as a real run would end in exit 3).
 */
export async function planPaletteSync(client: PaletteClient, target: PaletteTargetRef, options: PaletteSyncOptions): Promise<PaletteSyncReport> {
  return client.whileNotAborted(options.signal, () => planOnce(client, target, options));
}

async function planOnce(client: PaletteClient, target: PaletteTargetRef, options: PaletteSyncOptions): Promise<PaletteSyncReport> {
  const { clock, started, deadline, registry } = await startOn(client, target, options);
  const wrong = await wrongProjectBefore(client, registry, options.packs, deadline);
  if (wrong !== undefined) throw wrong;
  const status = await client.syncStatus(registry.uid, registry.flavour, deadline);
  const off = status.isSyncSupported === false;
  const reason = off ? await syncOffReasonOf(client, registry, deadline) : '';
  const packs = options.packs.map((p): PalettePackVisibility => (off ? { ...p, status: 'not-visible', reason } : { ...p, status: 'planned' }));
  return {
    status: off ? 'would-not-be-visible' : 'dry-run',
    registry,
    forced: options.force === true,
    sync: { outcome: off ? 'not-supported' : 'dry-run', ...statusFields(status) },
    packs,
    durationMs: clock.now() - started,
  };
}

function statusFields(s: { status?: string; message?: string; lastRunTime?: string }): Partial<PaletteSyncReport['sync']> {
  return {
    ...(s.status === undefined ? {} : { status: s.status }),
    ...(s.message === undefined || s.message === '' ? {} : { message: s.message }),
    ...(s.lastRunTime === undefined ? {} : { lastRunTime: s.lastRunTime }),
  };
}

/** Credentials Palette stores to read the registry. Basic: user + password; ECR: access key or an STS role. */
export type PaletteRegistryCredentials =
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'none' }
  | { kind: 'ecr-secret'; accessKey: string; secretKey: string }
  | { kind: 'ecr-sts'; roleArn: string; externalId?: string };

export interface RegistrySpecOptions {
  credentials: PaletteRegistryCredentials;
  /** PEM CA of the registry, for Palette to trust. */
  ca?: string;
  insecureSkipVerify?: boolean;
}

/** The registry spec Palette needs for the target (palette-api.md 2(c), 4). */
export function paletteRegistrySpec(target: PaletteTargetRef, options: RegistrySpecOptions): { flavour: PaletteRegistryFlavour; spec: PaletteBasicSpec | PaletteEcrSpec } {
  const flavour = flavourForHost(target.host);
  const base = trimSlashes(target.basePath);
  const endpoint = paletteEndpointFor(target.host, target.plainHttp === true);
  const tls = { enabled: target.plainHttp !== true, insecureSkipVerify: options.insecureSkipVerify === true, ...(options.ca === undefined ? {} : { ca: options.ca }) };
  const c = options.credentials;
  if (flavour === 'ecr') {
    const region = ecrRegion(target.host);
    const spec: PaletteEcrSpec = {
      endpoint,
      isPrivate: c.kind !== 'none',
      baseContentPath: base,
      providerType: 'pack',
      isSyncSupported: true,
      ...(region === undefined ? {} : { defaultRegion: region }),
      tls,
    };
    if (c.kind === 'ecr-secret') spec.credentials = { credentialType: 'secret', accessKey: c.accessKey, secretKey: c.secretKey };
    else if (c.kind === 'ecr-sts') spec.credentials = { credentialType: 'sts', sts: { arn: c.roleArn, ...(c.externalId === undefined ? {} : { externalId: c.externalId }) } };
    else if (c.kind === 'basic') {
      throw new PackpubError('USAGE', `${target.host} is an ECR registry: Palette reads it with AWS credentials, not a user name and password`, {
        hint: 'give Palette an IAM user (PACKPUB_PALETTE_ECR_ACCESS_KEY_ID / PACKPUB_PALETTE_ECR_SECRET_ACCESS_KEY) or a role (--palette-ecr-role-arn)',
      });
    }
    return { flavour, spec };
  }
  if (c.kind === 'ecr-secret' || c.kind === 'ecr-sts') {
    throw new PackpubError('USAGE', `${target.host} is not an ECR registry: AWS credentials do not apply`, {
      hint: 'give Palette a user name and password (--username with --password-stdin or PACKPUB_PASSWORD)',
    });
  }
  const spec: PaletteBasicSpec = {
    endpoint,
    baseContentPath: base,
    providerType: 'pack',
    isSyncSupported: true,
    auth: c.kind === 'basic' ? { type: 'basic', username: c.username, password: c.password, tls } : { type: 'noAuth', tls },
  };
  return { flavour, spec };
}

/** Refuse targets Palette cannot use as a Pack registry, before any API call. */
export function checkPaletteTarget(target: PaletteTargetRef): void {
  if (trimSlashes(target.basePath) === '') {
    throw new PackpubError('USAGE', `${target.host} has no base path: Palette needs a base content path for a Pack registry with sync on`, {
      hint: 'publish under a base path, e.g. --registry HOST/spectro-oci-registry',
    });
  }
  if (includesPacksNamespace(target.basePath)) {
    throw new PackpubError('USAGE', `the base path ${target.basePath} ends with spectro-packs/archive, which packpub and Palette add themselves`, {
      hint: `use --registry ${target.host}/${trimSlashes(target.basePath).replace(/\/?spectro-packs\/archive$/, '') || 'BASE'}`,
    });
  }
}

export interface RegisterOptions {
  /** Name in Palette (default derived from host and base path). */
  name?: string;
  credentials: PaletteRegistryCredentials;
  ca?: string;
  insecureSkipVerify?: boolean;
}

export interface RegisterResult {
  status: 'created' | 'exists';
  registry: ResolvedPaletteRegistry;
  /**
   * `exists`: what keeps the registry found from syncing the target as it is (sync off, the other authentication
   * type, a Basic endpoint of the other scheme): what was asked, a registry Palette syncs the target from, is not
   * there (the CLI exits 1). `packpub palette doctor` says more. One that names a packpub command says what to do
   * itself; the others are fixed by editing the registry in Palette.
   */
  problems?: string[];
  /**
   * `exists`: what may still go wrong though it syncs (another registry serving the target too, so every sync asks
   * which; an endpoint and a TLS setting that disagree).
   */
  warnings?: string[];
}

/** The end of a register warning whose fix is no edit in Palette (a registry's authentication type cannot be changed). */
const READD_REGISTRY = 'remove it in Palette and run packpub palette register again';

/** A Palette-friendly default name: lowercase letters, digits and dashes. */
export function defaultRegistryName(target: PaletteTargetRef): string {
  const raw = `${target.host.split(':')[0] ?? target.host}-${target.basePath}`.toLowerCase();
  return raw.replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
}

/**
 * The name of the registry to create: `given` (--palette-registry-name), refused (USAGE) when a registry of Palette has it
 * (ignoring case); else defaultRegistryName, or, when a registry has that (one for another port of the host, or a name
 * cut at 63 characters), the same with the port, then with -2, -3 ... Palette refused a taken name (409) after
 * validating the settings, exit 1, "see Palette's message above"; whether it allows two of one name is not documented,
 * and two would make --palette-registry NAME ambiguous.
 */
function freeRegistryName(target: PaletteTargetRef, given: string | undefined, listed: PaletteRegistrySummary[]): string {
  const holder = (name: string) => listed.find((r) => r.metadata.name.toLowerCase() === name.toLowerCase());
  if (given !== undefined) {
    const other = holder(given);
    if (other === undefined) return given;
    throw new PackpubError('USAGE', `Palette already has a registry named ${given} (${other.metadata.uid}, endpoint ${other.spec?.endpoint ?? 'none'}): nothing was created`, {
      hint: `give the new registry another name with --palette-registry-name; packpub palette doctor lists the registries on ${target.host}`,
    });
  }
  const plain = defaultRegistryName(target);
  const port = target.host.includes(':') ? target.host.slice(target.host.lastIndexOf(':') + 1) : '';
  const withPort = port === '' ? plain : defaultRegistryName({ ...target, host: `${target.host.split(':')[0] ?? ''}-${port}` });
  const cut = (name: string, suffix = '') => `${name.slice(0, 63 - suffix.length).replace(/-+$/, '')}${suffix}`;
  for (let n = 1; n <= 100; n++) {
    for (const name of n === 1 ? [plain, withPort] : [cut(withPort, `-${n}`)]) if (holder(name) === undefined) return name;
  }
  throw new PackpubError('USAGE', `Palette already has registries named ${plain} and ${withPort}-2 to -100`, { hint: 'name the new registry with --palette-registry-name' });
}

/**
 * Create the Pack registry for the target in Palette unless one already serves it (idempotent). The spec is
 * validated by Palette first (POST .../validate): a registry Palette cannot read is never created.
 */
export async function registerPaletteRegistry(client: PaletteClient, target: PaletteTargetRef, options: RegisterOptions): Promise<RegisterResult> {
  checkPaletteTarget(target);
  const listed = await client.listOciRegistries();
  const onHost = await registriesOnHost(client, target, undefined, listed);
  const existing = matchingRegistries(target, onHost);
  // One entered with the base path in its Endpoint is the one meant: not added again beside it, but said how to fix.
  const near = existing.length === 0 ? pathInEndpoint(target, onHost)[0] : undefined;
  const found = existing[0] ?? near?.details;
  if (found !== undefined) {
    // Nothing is created beside it (two would make every sync ask which), but what keeps it from syncing is said.
    const registry = toResolved(found);
    const problems: string[] = near === undefined ? [] : [`${near.problem}; it needs ${near.fix}`];
    const warnings: string[] = [];
    // Two serving the target: every sync asks which one (--palette-registry) until one is removed.
    if (existing.length > 1) {
      const others = existing.slice(1).map((d) => `${d.summary.metadata.name} (${d.summary.metadata.uid})`);
      warnings.push(`Palette registry ${registry.name} is not the only one serving ${target.host}/${trimSlashes(target.basePath)}: so ${others.length === 1 ? 'does' : 'do'} ${others.join(', ')}, and palette sync asks which one (--palette-registry) until all but one are removed (packpub palette doctor lists them)`);
    }
    // As palette doctor's palette-auth-type: Palette reads an ECR host only as an ECR registry, and a type is not edited.
    const wanted = flavourForHost(target.host);
    if (found.flavour !== undefined && found.flavour !== wanted) {
      const type = (f: PaletteRegistryFlavour) => (f === 'ecr' ? 'ECR' : 'Basic');
      const why = wanted === 'ecr' ? `${target.host} is an ECR registry, whose passwords expire after 12 hours` : `${target.host} is not an ECR registry`;
      problems.push(`Palette registry ${registry.name} has authentication type ${type(found.flavour)}, but ${why}: Palette needs type ${type(wanted)} to keep syncing it; ${READD_REGISTRY}`);
    }
    if (found.record?.spec.isSyncSupported === false) problems.push(`Palette registry ${registry.name} has sync off: Palette lists no pack from it until it is turned on`);
    // Its settings say on, its sync status off (as push --palette-sync's pre-flight and doctor judge it): register said it
    // serves the target, exit 0, and push then refused it.
    else if (listSaysSyncOff(found)) problems.push(`Palette's sync status of registry ${registry.name} says sync is off (isSyncSupported false), though its settings say on: Palette lists no pack from it until it is saved with sync on or synced`);
    // Its last sync failed (credentials it stores that expired, a pack it cannot read): it exists, but may not sync the target.
    const failed = lastSyncFailure(found);
    if (failed !== undefined) warnings.push(`${failed}: Palette may not list what is published until a sync succeeds; packpub palette doctor checks the registry, packpub palette sync runs one`);
    // As palette doctor judges it (connectionMismatch): which of endpoint and TLS Palette follows is not documented.
    const mismatch = registry.flavour === 'ecr' ? undefined : connectionMismatch(registry.endpoint, tlsEnabledOf(found.record?.spec), target.host, target.plainHttp === true);
    if (mismatch?.fails === true) problems.push(`Palette registry ${registry.name} ${mismatch.says}, but ${target.host} speaks ${mismatch.speaks}: its every sync fails until it has ${mismatch.fix}`);
    else if (mismatch !== undefined) warnings.push(`Palette registry ${registry.name} ${mismatch.says}, and ${target.host} speaks ${mismatch.speaks}: the two disagree, and which one Palette's sync follows is not documented; make both say ${mismatch.speaks} (${mismatch.fix})`);
    return { status: 'exists', registry, ...(problems.length === 0 ? {} : { problems }), ...(warnings.length === 0 ? {} : { warnings }) };
  }
  const { flavour, spec } = paletteRegistrySpec(target, options);
  const name = freeRegistryName(target, options.name, listed);
  await client.validateRegistry(flavour, spec);
  const uid = await client.createRegistry(flavour, name, spec);
  return { status: 'created', registry: { uid, name, flavour, endpoint: spec.endpoint, baseContentPath: trimSlashes(spec.baseContentPath) } };
}

/**
 * What a push run asks Palette to show: every name:version the target holds after the run (published,
 * replaced, unchanged or kept), and whether a version was replaced (then the sync is forced). For a dry
 * run, the same from the plan: a planned conflict would not be published, so it is not asked for.
 */
export function palettePacksFromPush(report: PushReport, targetDisplay?: string): { packs: PalettePackRef[]; force: boolean } {
  const packs: PalettePackRef[] = [];
  let force = false;
  for (const r of report.results) {
    if (targetDisplay !== undefined && r.target !== undefined && r.target !== targetDisplay) continue;
    if (r.name === undefined || r.version === undefined) continue;
    const held = r.status === 'planned' ? r.plan !== undefined && r.plan !== 'conflict' : ['published', 'overwritten', 'unchanged', 'skipped'].includes(r.status);
    if (!held) continue;
    if (r.status === 'overwritten' || r.plan === 'overwrite') force = true;
    if (!packs.some((p) => p.name === r.name && p.version === r.version)) packs.push({ name: r.name, version: r.version });
  }
  return { packs, force };
}

/**
 * What syncPaletteRegistry needs to know of a push to `targetDisplay` (all targets: undefined), as push --palette-sync
 * passes it: the versions to confirm and whether to force (palettePacksFromPush), the versions published as new and
 * those replaced, and what the values.yaml published as each version holds (read from the pack folder it was built
 * from, only when Palette shows the version without values). Spread it into the options:
 * `syncPaletteRegistry(client, target, { ...paletteSyncOptionsFromPush(report) })`.
 */
export function paletteSyncOptionsFromPush(
  report: PushReport,
  targetDisplay?: string,
): Pick<PaletteSyncOptions, 'packs' | 'force' | 'newVersions' | 'replacedVersions' | 'publishedValues'> & { packs: PalettePackRef[]; force: boolean } {
  const versions = (statuses: PushReport['results'][number]['status'][]) => new Set(resultsOf(report, targetDisplay, statuses).map((r) => `${r.name}:${r.version}`));
  // The folder a version was built from, when the target holds that very archive (one kept by --skip-existing holds another).
  const folders = new Map<string, string>();
  for (const r of resultsOf(report, targetDisplay, ['published', 'overwritten', 'unchanged'])) if (!folders.has(`${r.name}:${r.version}`)) folders.set(`${r.name}:${r.version}`, r.dir);
  const publishedValues = async (ref: PalettePackRef): Promise<PackValuesKind | undefined> => {
    const folder = folders.get(`${ref.name}:${ref.version}`);
    if (folder === undefined) return undefined;
    const text = await readFile(join(folder, 'values.yaml'), 'utf8').catch(() => undefined);
    return text === undefined ? undefined : valuesKindOf(text);
  };
  return { ...palettePacksFromPush(report, targetDisplay), newVersions: versions(['published']), replacedVersions: versions(['overwritten']), publishedValues };
}

/** The results of `report` for the target shown as `targetDisplay` (all: undefined) with one of `statuses`, named. */
function resultsOf(report: PushReport, targetDisplay: string | undefined, statuses: PushReport['results'][number]['status'][]): (PushReport['results'][number] & { name: string; version: string })[] {
  return report.results.filter(
    (r): r is PushReport['results'][number] & { name: string; version: string } =>
      (targetDisplay === undefined || r.target === undefined || r.target === targetDisplay) && r.name !== undefined && r.version !== undefined && statuses.includes(r.status),
  );
}
