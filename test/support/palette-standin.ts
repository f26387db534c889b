import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract } from 'tar-stream';
import { readBody, sendJson } from './loopback.js';
import { load as loadYaml } from 'js-yaml';

/*
 * A loopback stand-in for the part of Palette's API packpub uses (shared/reference/palette-api.md):
 *   - `ApiKey` header checked: missing or unknown -> 401 v1Error;
 *   - /v1/registries/* need a tenant admin's key -> 403 for a project-scoped key; /v1/packs/* accept a
 *     project key only with the `ProjectUid` of one of its projects;
 *   - rate limit per path prefix (/v1/registries, /v1/packs): 10 req/s, burst 5 -> 429 TooManyRequests;
 *   - every request body validated against palette-api-subset.yaml (read at run time) with ajv -> 400;
 *   - the summary (no baseContentPath, `status.sync`) and the per-registry GET (baseContentPath,
 *     `status.syncStatus`, secrets masked); the wrong flavour -> 404 ResourceNotFound;
 *   - a sync lifecycle: after POST .../sync the status may keep showing the previous run for a few polls
 *     (`startDelayPolls`), then InProgress, then Success or Failed with a new lastRunTime. The sync reads the
 *     real loopback registry (catalog or a lab's repository list, tags, manifests) before answering the
 *     trigger, so a pack is visible only after a sync that started after its push. A version already indexed keeps its old
 *     digest unless the sync was forced (Palette caches digests). Each version's `packValues[].values` is the values.yaml
 *     of its archive ('' for an empty one, as an OS pack's, or when the layer could not be read; `dropValues`);
 *   - HTTPS with the given certificate (`tls`), as a self-hosted Palette with a private CA serves it;
 *   - optionally (`summaryPageSize`) the registry summary paged as Palette pages lists (listmeta.continue),
 *     and (`repeatContinue`) a server that hands out the same continue token forever;
 *   - an outage (`outage`): every request answered 503 (or 429), with a Retry-After when given;
 *   - projects (`projects`): pack calls with an unknown ProjectUid refused, and a project that does not show
 *     a registry's packs; a project read (GET /v1/projects/{uid}) answers 404 for a uid it does not know; the list of
 *     projects (GET /v1/dashboard/projects/metadata, what Palette's Terraform provider finds its project in) names the
 *     projects the key's user is in (a tenant admin's: every one);
 *   - the pack search (h): one item per pack name with the registries (this scope shows) listing it and each one's
 *     latest version, filtered by registryUid and name, sorted by name, in pages of at most 50 (listmeta.continue).
 */

export const PALETTE_SUBSET_FILE = fileURLToPath(new URL('../../../shared/reference/palette-api-subset.yaml', import.meta.url));

export interface PaletteKey {
  role: 'tenant-admin' | 'project';
  /** Project uids a project-scoped key may use (and, for either role, the projects the key's user holds a role in). */
  projects?: string[];
  /**
   * false: the key's roles hold no `project.get` (Palette's Cluster Profile roles, in a project or at tenant scope, give
   * packRegistry get/list and nothing on projects: librarium user-management/palette-rbac), so its project read (GET
   * /v1/projects/{uid}) is answered `projectReadDenial`; it may still use its projects' packs.
   */
  readsProjects?: boolean;
}

/** How Palette reaches one registry host of a test lab. */
export interface PaletteLab {
  /** Base URL the stand-in reads the registry at (`http://127.0.0.1:<port>`). */
  url: string;
  /**
   * Headers for a registry request with the credentials stored in Palette, or an Error carrying the
   * message Palette would show. Default: Basic, or the Bearer token dance, with auth.username/password.
   */
  authorize?: (spec: StoredSpec, scope: string, challenge: string) => Promise<Record<string, string>>;
  /** Repository names when the catalog is refused (ECR, Harbor robots). */
  repositories?: () => Iterable<string>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type StoredSpec = Record<string, any>;

export interface StoredSync {
  status: string;
  message: string;
  lastRunTime?: string;
  lastSyncedTime?: string;
  isSyncSupported: boolean;
}

export interface IndexedPack {
  digest: string;
  packUid: string;
  /** The values.yaml Palette read from the pack's archive, shown as its `packValues[].values` ('' when it read none). */
  values: string;
}

export interface StoredRegistry {
  uid: string;
  flavour: 'basic' | 'ecr';
  name: string;
  spec: StoredSpec;
  sync: StoredSync;
  /** name -> version -> indexed entry. */
  index: Map<string, Map<string, IndexedPack>>;
  /** Every sync request: forceSync flag and when; `busy`: it came while a sync ran and was answered as busySyncs says. */
  syncRequests: { force: boolean; at: number; busy?: 'ignore' | 400 | 409 | 423 }[];
  run?: SyncRun;
  /** Packs a sync saw with a new digest but kept the cached one (not forced). */
  staleVersions: string[];
}

interface SyncRun {
  force: boolean;
  startedAt: Date;
  polls: number;
  previous: StoredSync;
  indexing: Promise<{ found: Map<string, Map<string, FoundVersion>>; skipped: string[] } | { error: string }>;
  settled: boolean;
}

export interface PaletteRequestRecord {
  method: string;
  path: string;
  prefix: string;
  at: number;
  status: number;
  projectUid: string | undefined;
  query: string;
  /**
   * Which `ApiKey` header came (the credential Palette got), as paletteKeyId gives it (never the key itself: a record
   * must not hold it, so tests can check no key went into a path or query), and whether an `Authorization` header came.
   */
  apiKeyId: string | undefined;
  authorization: boolean;
}

export interface PaletteStandinOptions {
  keys: Record<string, PaletteKey>;
  /** Registry hosts (`host[:port]` as in a Palette endpoint without scheme) the stand-in can read. */
  labs?: Record<string, PaletteLab>;
  /** Status polls after a trigger that still show the previous run (default 0). */
  startDelayPolls?: number;
  /** Status polls that show InProgress before the result (default 1). */
  inProgressPolls?: number;
  /** Per-prefix rate limit (default 10/s, burst 5, as Palette). */
  rate?: { perSecond: number; burst: number };
  /**
   * The time the stand-in counts in (rate limit, request times, sync run times; default the system's): the
   * clock the client waits on (support/clock.ts skippingClock), so its pacing is judged on the time it waited.
   */
  clock?: { now(): number };
  /** Serve HTTPS with this certificate and key (PEM files, e.g. from makeTestCertificates). */
  tls?: { certFile: string; keyFile: string };
  /**
   * Page the registry summary this many items at a time, as Palette pages its lists (v1ListMetaData:
   * `listmeta {continue, count, limit, offset}`, `?continue=<token>` for the next page, an empty
   * `continue` at the end). Default: one answer without listmeta, as the 4.8 spec describes the summary.
   */
  summaryPageSize?: number;
}

export interface PaletteStandin {
  /** `http://127.0.0.1:<port>` (`https://` with `tls`): give it as the Palette endpoint. */
  url: string;
  /** TCP connections accepted, including ones whose TLS handshake failed (they never reach `requests`). */
  connections: number;
  registries: Map<string, StoredRegistry>;
  /** The API keys Palette takes (options.keys): delete one to revoke it, as an expired key is, mid-run. */
  keys: Record<string, PaletteKey>;
  requests: PaletteRequestRecord[];
  /** Bodies refused by the schema check, with ajv's messages. */
  schemaRejections: { path: string; errors: string }[];
  /** Add a registry as if a user had created it in the UI; returns its uid. */
  addRegistry(flavour: 'basic' | 'ecr', name: string, spec: StoredSpec, sync?: Partial<StoredSync>): string;
  /** The next sync of each registry ends Failed with this message (undefined: succeed). */
  failSyncs: string | undefined;
  /**
   * The next sync of each registry indexes what it read, then ends Failed with this message: as a sync of a shared
   * registry that read the good packs and failed on someone else's broken one (whether Palette indexes the others then
   * is not documented; `failSyncs` is the other case, a sync failing before it indexes anything).
   */
  failSyncsAfterIndexing: string | undefined;
  /**
   * The pack search (POST /v1/packs/search) answers 404 ResourceNotFound when nothing matches, as Palette's Go SDK expects
   * (it reads a 404 as no results); else (the default) 200 with no items.
   */
  searchNone404: boolean;
  /**
   * Pack names Palette marks deprecated. A pack read (g) lists them, as it lists every pack but disabled ones; the
   * search (h) gives them for a `state` filter naming `deprecated`, and without a `state` filter only while
   * `searchHidesDeprecated` is false (the search's default filter is not documented: set it to play one that leaves
   * them out).
   */
  deprecated: Set<string>;
  /**
   * Pack versions (`name:version`) an administrator disabled in Palette. A pack read (g) leaves them out unless its
   * `states` names `disabled` ("If states is not specified or empty then by default API will return all packs except
   * disabled packs", the 4.8 spec); a read with `states` gives only the versions in those states (a version is
   * `disabled` when here, else `deprecated` when its name is in `deprecated`, else neither). The search (h) is not
   * changed by it (its default filter is not documented).
   */
  disabled: Set<string>;
  /** A pack read with `states` is answered 400 BadRequest, as a Palette that does not take the parameter might. */
  statesRefused: boolean;
  /**
   * The registry list (a) gives no `status` for its items: a Palette whose list leaves the sync status out (the record
   * (b) still has `status.syncStatus`, which Terraform's provider reads sync on or off from).
   */
  summaryWithoutStatus: boolean;
  /** Fields the registry list's `status.sync` leaves out (a partial status): default none. */
  summarySyncOmits: string[];
  searchHidesDeprecated: boolean;
  /** While set, what a page of the pack search gives as `items` instead of its packs (an odd Palette or proxy). */
  searchItemsAnswer: ((items: { metadata: unknown; spec: Record<string, unknown> }[]) => unknown) | undefined;
  /** Syncs never finish (InProgress forever). */
  hangSyncs: boolean;
  /**
   * While true, a running sync's status shows the run before's `lastRunTime`, not its own start (undocumented either
   * way): a client cannot tell from it when the run going on started.
   */
  runningShowsLastRun: boolean;
  /**
   * A sync asked for is answered 202 but never starts: the status keeps showing the previous run (a queue that is
   * stuck; what Palette does then is not documented, palette-api.md 5).
   */
  syncsNeverStart: boolean;
  /**
   * While set, the word the sync status answer (f) gives for each status ('', InProgress, Success, Failed): the 4.8
   * spec lists no values, and Terraform's provider knows only some (palette-api.md 2(f)).
   */
  statusWord: ((status: string) => string) | undefined;
  /**
   * What a sync request gets while a sync of the registry is running (undocumented, palette-api.md 5 "Sync already
   * running"): `restart` (the default) starts it again from the registry as it is now; `ignore` answers 202 and lets
   * the running one finish, which never sees what was pushed after it started; 409 answers a v1Error SyncInProgress;
   * 400 and 423 answer a v1Error saying a sync is in progress with that status (Palette's own code for it is not public).
   */
  busySyncs: 'restart' | 'ignore' | 400 | 409 | 423;
  /**
   * While true, a sync indexes the versions it finds without their values: Palette lists them, each with an empty
   * `packValues[].values` (what the upload script of palette-api.md checks for, as a sync that failed to read the
   * pack's content). A later forced sync without it reads them again.
   */
  dropValues: boolean;
  /** With `summaryPageSize`: every page hands out the first page's continue token again (a replaying proxy or a server bug). */
  repeatContinue: boolean;
  /** While set, what a pack's tags answer (and its packValues) give as each version's `packUid` instead of its own (an odd Palette). */
  packUidAnswer: ((packUid: string) => unknown) | undefined;
  /** While set, what a pack's answer gives as `packValues` instead of one entry per version (undefined: the field left out). */
  packValuesAnswer: ((values: { packUid: unknown; values: string }[]) => unknown) | undefined;
  /**
   * While set, every request (still recorded) is answered this status with a v1Error body, and
   * `Retry-After: retryAfter` if given; with `times`, only that many requests, then the outage ends.
   */
  outage: { status: 429 | 503; retryAfter?: string; times?: number; date?: string } | undefined;
  /**
   * While set, the next `times` (default 1) requests with this method and path (recorded with the status sent)
   * are answered `status` with a v1Error body, or their connection is dropped (`reset`). With `afterActing`, the
   * stand-in first does what the request asks, as Palette behind a gateway that fails after Palette acted.
   */
  fault: { method: string; path: RegExp; status: 400 | 409 | 500 | 502 | 503 | 504 | 'reset'; afterActing?: boolean; times?: number; text?: string } | undefined;
  /**
   * Projects Palette knows, each with the uids of the registries whose packs it shows (undefined: every
   * registry). Unset (the default): any ProjectUid is taken and shows every registry. A pack call with a
   * ProjectUid it does not know is answered `unknownProjectStatus` (the answer is undocumented: 404
   * ResourceNotFound, or 403 Forbidden, or `ignore`: answered at tenant scope); a pack of a registry the project does not show is 404, as a pack
   * not indexed yet.
   */
  projects: Map<string, Set<string> | undefined> | undefined;
  unknownProjectStatus: 403 | 404 | 'ignore';
  /**
   * What a pack read (g) of a pack the registry lists no version of gets: 404 ResourceNotFound (the default), or 200
   * with no body or `null` (undocumented; Palette's Go SDK reads either as an entity with no tags).
   */
  unknownPackAnswer: 404 | 'empty' | 'null';
  /** A project read (GET /v1/projects/{uid}) is refused (403), as for a key whose role may not read projects. */
  projectReadsRefused: boolean;
  /**
   * What a key whose roles may not read projects (PaletteKey.readsProjects false) gets for a project read: 403 (the
   * default), or 404 as a Palette hiding what a key may not see would answer (undocumented).
   */
  projectReadDenial: 403 | 404;
  /** The list of projects (GET /v1/dashboard/projects/metadata) is refused (403). */
  projectListRefused: boolean;
  /** Projects' names by uid, as the project read and list give them (default: the uid). */
  projectNames: Map<string, string>;
  /** The largest number of requests to one prefix within any 1-second window. */
  maxPerSecond(prefix: string): number;
  /** Requests answered 429. */
  throttled(): number;
  /**
   * What a well-behaved client never causes, in words: 429s, more than 10 requests to a prefix within one
   * second, bodies the schema refused. Empty when the run kept every rule.
   */
  violations(): string[];
  close(): Promise<void>;
}

/** How a request record names the API key it carried (PaletteRequestRecord.apiKeyId): a digest, not the key. */
export function paletteKeyId(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

const MASK = '**********';
/** How Palette's Go models write a time never set (strfmt.DateTime's zero value; the fields are not pointers, so omitempty keeps them). */
const ZERO_TIME = '0001-01-01T00:00:00.000Z';

function mask(spec: StoredSpec): StoredSpec {
  const copy = JSON.parse(JSON.stringify(spec)) as StoredSpec;
  if (copy['auth']?.password !== undefined) copy['auth'].password = MASK;
  if (copy['auth']?.token !== undefined) copy['auth'].token = MASK;
  if (copy['credentials']?.secretKey !== undefined) copy['credentials'].secretKey = MASK;
  return copy;
}

function endpointHostOf(endpoint: string | undefined): string {
  // A user name and password in the endpoint (`https://user:pw@host`) are not part of the host Palette reads.
  return (endpoint ?? '').replace(/^[a-z]+:\/\//i, '').replace(/^[^/?#]*@/, '').replace(/\/+$/, '').toLowerCase();
}

/** The request body validators, compiled once per worker process (test files share workers): ~0.3 CPU-s a compile, and nine stand-ins start. */
let validatorsCompiled: Record<string, ValidateFunction> | undefined;

function loadValidators(): Record<string, ValidateFunction> {
  validatorsCompiled ??= compileValidators();
  return validatorsCompiled;
}

function compileValidators(): Record<string, ValidateFunction> {
  const doc = loadYaml(readFileSync(PALETTE_SUBSET_FILE, 'utf8')) as { components: { schemas: Record<string, unknown> } };
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema({ $id: 'palette', components: doc.components });
  const get = (name: string) => {
    const v = ajv.getSchema(`palette#/components/schemas/${name}`);
    if (v === undefined) throw new Error(`palette-api-subset.yaml has no schema ${name}`);
    return v;
  };
  return {
    v1BasicOciRegistry: get('v1BasicOciRegistry'),
    v1EcrRegistry: get('v1EcrRegistry'),
    v1BasicOciRegistrySpec: get('v1BasicOciRegistrySpec'),
    v1EcrRegistrySpec: get('v1EcrRegistrySpec'),
    v1PacksFilterSpec: get('v1PacksFilterSpec'),
  };
}

/** GET a registry path the way Palette's sync would: Basic, or a Bearer token from the realm, with the stored credentials. */
async function defaultAuthorize(spec: StoredSpec, scope: string, challenge: string): Promise<Record<string, string>> {
  const user = spec['auth']?.username as string | undefined;
  const password = spec['auth']?.password as string | undefined;
  const basic = user === undefined ? undefined : `Basic ${Buffer.from(`${user}:${password ?? ''}`).toString('base64')}`;
  if (/^basic/i.test(challenge)) return basic === undefined ? {} : { authorization: basic };
  const realm = /realm="([^"]+)"/.exec(challenge)?.[1];
  const service = /service="([^"]+)"/.exec(challenge)?.[1];
  if (realm === undefined) return {};
  const url = new URL(realm);
  if (service !== undefined) url.searchParams.set('service', service);
  url.searchParams.set('scope', scope);
  const res = await fetch(url, { headers: basic === undefined ? {} : { authorization: basic } });
  if (res.status !== 200) throw new Error(`token service answered ${res.status}`);
  const body = (await res.json()) as { token?: string; access_token?: string };
  return { authorization: `Bearer ${body.token ?? body.access_token ?? ''}` };
}

async function registryGet(lab: PaletteLab, spec: StoredSpec, path: string, scope: string, accept?: string): Promise<Response> {
  const headers: Record<string, string> = accept === undefined ? {} : { accept };
  // A Basic registry's API base path (basePath: "OCI registry api base path"): its OCI API is read under it.
  const api = String(spec['basePath'] ?? '').replace(/^\/+|\/+$/g, '');
  const root = api === '' ? lab.url : `${lab.url}/${api}`;
  const first = await fetch(`${root}${path}`, { headers });
  if (first.status !== 401) return first;
  await first.arrayBuffer();
  const challenge = first.headers.get('www-authenticate') ?? '';
  const auth = await (lab.authorize ?? defaultAuthorize)(spec, scope, challenge);
  return fetch(`${root}${path}`, { headers: { ...headers, ...auth } });
}

const MANIFEST_ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';

/** One version a sync found: its manifest digest and the values.yaml of its archive ('' when it could not be read). */
interface FoundVersion {
  digest: string;
  values: string;
}

/**
 * The values.yaml of a pack's archive (the top folder's, or at the archive's top), as Palette shows it in the pack's
 * `packValues[].values`: '' when the archive holds none, or when the layer cannot be read (Palette then lists the
 * version with empty values, the case the upload script of palette-api.md checks for).
 */
async function readValues(lab: PaletteLab, spec: StoredSpec, repo: string, layerDigest: string | undefined, scope: string): Promise<string> {
  if (layerDigest === undefined) return '';
  // A layer's bytes never change under its digest: what a sync read of it stands for every later sync of the lab
  // (each sync re-reads every tag's manifest, which is where a version changes).
  const read = valuesRead.get(lab) ?? new Map<string, string>();
  valuesRead.set(lab, read);
  const known = read.get(`${repo}@${layerDigest}`);
  if (known !== undefined) return known;
  const values = await fetchValues(lab, spec, repo, layerDigest, scope);
  if (values !== undefined) read.set(`${repo}@${layerDigest}`, values);
  return values ?? '';
}

/** The values.yaml of the layers each lab's syncs read (readValues): repo@digest -> values. */
const valuesRead = new WeakMap<PaletteLab, Map<string, string>>();

/** readValues' read of the layer: undefined when it could not be read (read again by the next sync). */
async function fetchValues(lab: PaletteLab, spec: StoredSpec, repo: string, layerDigest: string, scope: string): Promise<string | undefined> {
  try {
    const res = await registryGet(lab, spec, `/v2/${repo}/blobs/${layerDigest}`, scope);
    if (res.status !== 200) {
      await res.arrayBuffer();
      return undefined;
    }
    const extract = tarExtract();
    // A layer that is no gzip or tar (a hostile test's) fails the pipeline: handled here, never an unhandled rejection.
    let failed = false;
    const done = pipeline(Readable.from(Buffer.from(await res.arrayBuffer())), createGunzip(), extract).catch(() => {
      failed = true;
    });
    let values = '';
    try {
      for await (const entry of extract) {
        const parts = entry.header.name.split('/').filter((p) => p !== '' && p !== '.');
        if (entry.header.type === 'file' && parts.at(-1) === 'values.yaml' && parts.length <= 2) {
          const chunks: Buffer[] = [];
          for await (const chunk of entry) chunks.push(chunk as Buffer);
          values = Buffer.concat(chunks).toString('utf8');
        } else entry.resume();
      }
    } catch {
      failed = true;
    }
    await done;
    return failed ? '' : values;
  } catch {
    return undefined;
  }
}

/** What a sync of this registry finds: name -> version -> what it holds, plus skipped entries. */
async function readPacks(lab: PaletteLab, spec: StoredSpec): Promise<{ found: Map<string, Map<string, FoundVersion>>; skipped: string[] }> {
  const base = String(spec['baseContentPath'] ?? '').replace(/^\/+|\/+$/g, '');
  const prefix = `${base === '' ? '' : `${base}/`}spectro-packs/archive/`;
  let repositories: string[];
  if (lab.repositories !== undefined) repositories = [...lab.repositories()];
  else {
    const res = await registryGet(lab, spec, '/v2/_catalog?n=1000', 'registry:catalog:*');
    if (res.status !== 200) throw new Error(`listing repositories of ${spec['endpoint']} failed: ${res.status} ${(await res.text()).slice(0, 200)}`);
    repositories = ((await res.json()) as { repositories?: string[] }).repositories ?? [];
  }
  const found = new Map<string, Map<string, FoundVersion>>();
  const skipped: string[] = [];
  for (const repo of repositories.sort()) {
    if (!repo.startsWith(prefix)) continue;
    const name = repo.slice(prefix.length);
    if (name === '' || name.includes('/')) continue;
    const scope = `repository:${repo}:pull`;
    const tagsRes = await registryGet(lab, spec, `/v2/${repo}/tags/list`, scope);
    if (tagsRes.status === 404) continue;
    if (tagsRes.status !== 200) throw new Error(`reading tags of ${repo} failed: ${tagsRes.status} ${(await tagsRes.text()).slice(0, 200)}`);
    const tags = ((await tagsRes.json()) as { tags?: string[] | null }).tags ?? [];
    for (const tag of tags) {
      const res = await registryGet(lab, spec, `/v2/${repo}/manifests/${tag}`, scope, MANIFEST_ACCEPT);
      const bytes = Buffer.from(await res.arrayBuffer());
      if (res.status !== 200) throw new Error(`reading ${repo}:${tag} failed: ${res.status}`);
      // A pack is one layer titled `<name>-<version>.tar.gz`, as ORAS 1.0 pushes it (palette-packs.md).
      const manifest = JSON.parse(bytes.toString('utf8')) as { layers?: { digest?: string; annotations?: Record<string, string> }[] };
      const layer = (manifest.layers ?? []).find((l) => (l.annotations?.['org.opencontainers.image.title'] ?? '').endsWith('.tar.gz'));
      if (layer === undefined) {
        skipped.push(`${name}:${tag} (no tar.gz layer)`);
        continue;
      }
      const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
      const versions = found.get(name) ?? new Map<string, FoundVersion>();
      versions.set(tag, { digest, values: await readValues(lab, spec, repo, layer.digest, scope) });
      found.set(name, versions);
    }
  }
  return { found, skipped };
}

function v1Error(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  const text = JSON.stringify({ code, message, details: {}, ref: randomBytes(6).toString('hex') });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

const uid = () => randomBytes(12).toString('hex');

export async function startPaletteStandin(options: PaletteStandinOptions): Promise<PaletteStandin> {
  const validators = loadValidators();
  const labs = new Map(Object.entries(options.labs ?? {}).map(([host, lab]) => [host.toLowerCase(), lab]));
  const registries = new Map<string, StoredRegistry>();
  const requests: PaletteRequestRecord[] = [];
  const schemaRejections: { path: string; errors: string }[] = [];
  const rate = options.rate ?? { perSecond: 10, burst: 5 };
  const clock = options.clock ?? { now: () => Date.now() };
  const now = (): number => clock.now();
  const buckets = new Map<string, { tokens: number; last: number }>();
  const startDelay = options.startDelayPolls ?? 0;
  const inProgressPolls = options.inProgressPolls ?? 1;

  const addRegistry = (flavour: 'basic' | 'ecr', name: string, spec: StoredSpec, sync: Partial<StoredSync> = {}): string => {
    const id = uid();
    registries.set(id, {
      uid: id,
      flavour,
      name,
      spec,
      sync: { status: '', message: '', lastRunTime: ZERO_TIME, lastSyncedTime: ZERO_TIME, isSyncSupported: spec['isSyncSupported'] !== false, ...sync },
      index: new Map(),
      syncRequests: [],
      staleVersions: [],
    });
    return id;
  };
  // Palette's own registry is always in the list, and is not editable (registries.md).
  addRegistry('basic', 'Palette Registry', { endpoint: 'https://registry.palette.example', providerType: 'pack', baseContentPath: 'packs', isSyncSupported: true, auth: { type: 'noAuth' } }, { status: 'Success', lastRunTime: new Date(now() - 3600_000).toISOString() });

  const standin: PaletteStandin = {
    url: '',
    connections: 0,
    registries,
    keys: options.keys,
    requests,
    schemaRejections,
    addRegistry,
    failSyncs: undefined,
    failSyncsAfterIndexing: undefined,
    searchNone404: false,
    deprecated: new Set(),
    disabled: new Set(),
    statesRefused: false,
    summaryWithoutStatus: false,
    summarySyncOmits: [],
    searchHidesDeprecated: false,
    searchItemsAnswer: undefined,
    hangSyncs: false,
    runningShowsLastRun: false,
    syncsNeverStart: false,
    statusWord: undefined,
    busySyncs: 'restart',
    dropValues: false,
    repeatContinue: false,
    packUidAnswer: undefined,
    packValuesAnswer: undefined,
    projects: undefined,
    unknownProjectStatus: 404,
    projectReadsRefused: false,
    projectReadDenial: 403,
    unknownPackAnswer: 404,
    projectListRefused: false,
    projectNames: new Map(),
    outage: undefined,
    fault: undefined,
    maxPerSecond(prefix) {
      const times = requests.filter((r) => r.prefix === prefix).map((r) => r.at);
      let max = 0;
      for (let i = 0, j = 0; i < times.length; i++) {
        while ((times[i] as number) - (times[j] as number) >= 1000) j++;
        max = Math.max(max, i - j + 1);
      }
      return max;
    },
    throttled: () => requests.filter((r) => r.status === 429).length,
    violations() {
      const out: string[] = [];
      if (this.throttled() > 0) out.push(`${this.throttled()} requests answered 429`);
      for (const prefix of ['/v1/registries', '/v1/packs']) {
        const max = this.maxPerSecond(prefix);
        if (max > 10) out.push(`${max} requests to ${prefix} within one second`);
      }
      for (const r of schemaRejections) out.push(`schema refused the body of ${r.path}: ${r.errors}`);
      return out;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const allowRate = (prefix: string): boolean => {
    const at = now();
    const b = buckets.get(prefix) ?? { tokens: rate.burst, last: at };
    b.tokens = Math.min(rate.burst, b.tokens + ((at - b.last) / 1000) * rate.perSecond);
    b.last = at;
    buckets.set(prefix, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  };

  const startSync = (reg: StoredRegistry, force: boolean) => {
    const lab = labs.get(endpointHostOf(reg.spec['endpoint'] as string));
    const indexing =
      lab === undefined
        ? Promise.resolve({ error: `dial tcp: lookup ${endpointHostOf(reg.spec['endpoint'] as string)}: no such host` })
        : readPacks(lab, reg.spec).catch((err: Error) => ({ error: err.message }));
    reg.run = { force, startedAt: new Date(now()), polls: 0, previous: { ...reg.sync }, indexing, settled: false };
    reg.syncRequests.push({ force, at: now() });
  };

  /** The status a GET shows now; finishes the run when its polls are done and indexing has ended. */
  const statusOf = async (reg: StoredRegistry): Promise<StoredSync> => {
    const run = reg.run;
    if (run === undefined || run.settled) return reg.sync;
    run.polls++;
    if (run.polls <= startDelay || standin.syncsNeverStart) return run.previous;
    const running: StoredSync = { ...reg.sync, status: 'InProgress', message: 'Sync in progress', lastRunTime: standin.runningShowsLastRun ? reg.sync.lastRunTime : run.startedAt.toISOString() };
    if (run.polls <= startDelay + inProgressPolls || standin.hangSyncs) return running;
    const outcome = await run.indexing;
    run.settled = true;
    const failMessage = standin.failSyncs;
    standin.failSyncs = undefined;
    if ('error' in outcome || failMessage !== undefined) {
      reg.sync = { ...reg.sync, status: 'Failed', message: failMessage ?? (outcome as { error: string }).error, lastRunTime: run.startedAt.toISOString() };
      return reg.sync;
    }
    for (const [name, versions] of outcome.found) {
      const known = reg.index.get(name) ?? new Map<string, IndexedPack>();
      for (const [version, { digest, values }] of versions) {
        const old = known.get(version);
        if (old !== undefined && old.digest !== digest && !run.force) {
          reg.staleVersions.push(`${name}:${version}`);
          continue;
        }
        // The same digest is not read again (Palette caches digests) unless the sync is forced.
        const read = standin.dropValues ? '' : values;
        if (old === undefined || old.digest !== digest || (run.force && old.values !== read)) {
          known.set(version, { digest, packUid: createHash('sha1').update(`${reg.uid}/${name}/${version}/${digest}`).digest('hex').slice(0, 24), values: read });
        }
      }
      reg.index.set(name, known);
    }
    const total = [...outcome.found.values()].reduce((n, v) => n + v.size, 0);
    const failAfter = standin.failSyncsAfterIndexing;
    standin.failSyncsAfterIndexing = undefined;
    if (failAfter !== undefined) {
      reg.sync = { ...reg.sync, status: 'Failed', message: failAfter, lastRunTime: run.startedAt.toISOString() };
      return reg.sync;
    }
    reg.sync = {
      ...reg.sync,
      status: 'Success',
      message: outcome.skipped.length === 0 ? `Synced ${total} pack versions` : `Synced ${total} pack versions; skipped ${outcome.skipped.join(', ')}`,
      lastRunTime: run.startedAt.toISOString(),
      lastSyncedTime: new Date(now()).toISOString(),
    };
    return reg.sync;
  };

  const summaryItem = (r: StoredRegistry) => ({
    metadata: { uid: r.uid, name: r.name },
    spec: {
      endpoint: r.spec['endpoint'],
      providerType: r.spec['providerType'] ?? 'helm',
      registryType: r.flavour,
      isPrivate: r.flavour === 'ecr' ? r.spec['isPrivate'] : r.spec['auth']?.type !== 'noAuth',
      ...(r.spec['defaultRegion'] === undefined ? {} : { defaultRegion: r.spec['defaultRegion'] }),
      scope: 'tenant',
    },
    ...(standin.summaryWithoutStatus ? {} : { status: { sync: Object.fromEntries(Object.entries(r.sync).filter(([k]) => !standin.summarySyncOmits.includes(k))) } }),
  });

  const validate = async (flavour: 'basic' | 'ecr', spec: StoredSpec): Promise<string | undefined> => {
    const lab = labs.get(endpointHostOf(spec['endpoint'] as string));
    if (lab === undefined) return `Failed to connect to registry ${spec['endpoint']}: no such host`;
    if (flavour === 'ecr' && /^[a-z]+:\/\//i.test(String(spec['endpoint']))) return `invalid ECR endpoint ${spec['endpoint']}: remove the scheme`;
    try {
      const res = await registryGet(lab, spec, '/v2/', 'registry:catalog:*');
      if (res.status === 401 || res.status === 403) return `Failed to authenticate with registry ${spec['endpoint']}: unauthorized`;
      const base = String(spec['baseContentPath'] ?? '').replace(/^\/+|\/+$/g, '');
      const repo = `${base === '' ? '' : `${base}/`}spectro-packs/archive`;
      const tags = await registryGet(lab, spec, `/v2/${repo}/tags/list`, `repository:${repo}:pull`);
      if (tags.status === 401 || tags.status === 403) return `Failed to read ${repo} in registry ${spec['endpoint']}: access denied`;
      return undefined;
    } catch (err) {
      return `Failed to authenticate with registry ${spec['endpoint']}: ${(err as Error).message}`;
    }
  };

  /** Continue tokens of the paged summary -> the index their page starts at. */
  const pageTokens = new Map<string, number>();
  /** The same for the pack search. */
  const searchTokens = new Map<string, number>();
  let firstToken: string | undefined;

  const recordOf = (req: IncomingMessage): PaletteRequestRecord => {
    const url = new URL(req.url ?? '/', 'http://palette');
    const prefix = /^\/v1\/[^/]+/.exec(url.pathname)?.[0] ?? url.pathname;
    return {
      method: req.method ?? '',
      path: url.pathname,
      prefix,
      at: now(),
      status: 0,
      projectUid: req.headers['projectuid'] as string | undefined,
      query: url.search,
      apiKeyId: req.headers['apikey'] === undefined ? undefined : paletteKeyId(String(req.headers['apikey'])),
      authorization: req.headers['authorization'] !== undefined,
    };
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://palette');
    const path = url.pathname;
    const record = recordOf(req);
    const { prefix, projectUid } = record;
    requests.push(record);
    // Every answer's Date is told on the stand-in's clock, the one its run times are told on (as Palette's are on its own).
    res.setHeader('date', new Date(now()).toUTCString());
    const answer = (status: number, body?: unknown) => {
      record.status = status;
      if (body === undefined) {
        res.writeHead(status);
        res.end();
      } else sendJson(res, status, body);
    };
    const error = (status: number, code: string, message: string) => {
      record.status = status;
      v1Error(res, status, code, message);
    };
    const raw = (await readBody(req)).toString('utf8');
    const outage = standin.outage;
    if (outage !== undefined) {
      if (outage.times !== undefined && --outage.times <= 0) standin.outage = undefined;
      record.status = outage.status;
      const [code, message] = outage.status === 429 ? ['TooManyRequests', 'Too many requests'] : ['ServiceUnavailable', 'Service is unavailable'];
      // `date`: the answer's Date header, as a server whose clock is not the client's would send it.
      return v1Error(res, outage.status, code, message, { ...(outage.retryAfter === undefined ? {} : { 'retry-after': outage.retryAfter }), ...(outage.date === undefined ? {} : { date: outage.date }) });
    }
    if (!allowRate(prefix)) return error(429, 'TooManyRequests', 'Too many requests');
    const key = options.keys[String(req.headers['apikey'] ?? '')];
    if (key === undefined) return error(401, 'Unauthorized', 'Invalid or missing api key');
    if (prefix === '/v1/registries' && key.role !== 'tenant-admin') return error(403, 'Forbidden', 'User is not authorized to access tenant resources');
    if (prefix === '/v1/packs' && key.role !== 'tenant-admin' && (projectUid === undefined || !(key.projects ?? []).includes(projectUid))) {
      return error(403, 'Forbidden', 'User is not authorized to access the resource');
    }
    const projects = standin.projects;
    // 'ignore': the unknown ProjectUid is not looked at, the call answered at tenant scope (as a Palette might).
    if (prefix === '/v1/packs' && projectUid !== undefined && projects !== undefined && !projects.has(projectUid) && standin.unknownProjectStatus !== 'ignore') {
      return standin.unknownProjectStatus === 403 ? error(403, 'Forbidden', 'User is not authorized to access the resource') : error(404, 'ResourceNotFound', 'Resource not found');
    }
    /** Whether the request's scope shows this registry's packs (tenant scope shows every registry). */
    const shows = (registryUid: string) => projectUid === undefined || projects === undefined || (projects.get(projectUid)?.has(registryUid) ?? true);
    let body: unknown;
    if (raw !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        return error(400, 'BadRequest', 'request body is not JSON');
      }
    }
    const check = (schema: string): boolean => {
      const v = validators[schema] as ValidateFunction;
      if (v(body)) return true;
      const errors = (v.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`).join('; ');
      schemaRejections.push({ path, errors });
      error(400, 'BadRequest', `validation failure list: ${errors}`);
      return false;
    };

    let m: RegExpExecArray | null;
    // A project read at tenant scope (GET /v1/projects/{uid}, Palette's user service): known, or 404 ResourceNotFound.
    if (req.method === 'GET' && (m = /^\/v1\/projects\/([^/]+)$/.exec(path)) !== null) {
      const asked = decodeURIComponent(m[1] ?? '');
      if (standin.projectReadsRefused || (key.role !== 'tenant-admin' && !(key.projects ?? []).includes(asked))) return error(403, 'Forbidden', 'User is not authorized to access the resource');
      if (key.readsProjects === false) {
        return standin.projectReadDenial === 404 ? error(404, 'ResourceNotFound', 'Resource not found') : error(403, 'Forbidden', 'User is not authorized to access the resource');
      }
      if (projects !== undefined && !projects.has(asked)) return error(404, 'ResourceNotFound', 'Resource not found');
      return answer(200, { metadata: { uid: asked, name: standin.projectNames.get(asked) ?? asked }, spec: {}, status: {} });
    }
    // The projects the key's user is in (a tenant admin reading projects: every project Palette knows), by uid and name.
    if (req.method === 'GET' && path === '/v1/dashboard/projects/metadata') {
      if (standin.projectListRefused) return error(403, 'Forbidden', 'User is not authorized to access the resource');
      const own = key.projects ?? [];
      const all = key.role === 'tenant-admin' && key.readsProjects !== false ? [...new Set([...(projects?.keys() ?? []), ...own])] : own;
      const listed = all.filter((p) => projects === undefined || projects.has(p));
      return answer(200, { items: listed.map((p) => ({ metadata: { uid: p, name: standin.projectNames.get(p) ?? p } })) });
    }
    if (req.method === 'GET' && path === '/v1/registries/oci/summary') {
      const all = [...registries.values()];
      const size = options.summaryPageSize;
      if (size === undefined) return answer(200, { items: all.map(summaryItem) });
      const token = url.searchParams.get('continue');
      const start = token === null || token === '' ? 0 : pageTokens.get(token);
      if (start === undefined) return error(400, 'BadRequest', 'invalid continue token');
      const end = Math.min(all.length, start + size);
      let next = '';
      if (end < all.length) {
        next = standin.repeatContinue && firstToken !== undefined ? firstToken : uid();
        firstToken ??= next;
        if (!pageTokens.has(next)) pageTokens.set(next, end);
      }
      return answer(200, { items: all.slice(start, end).map(summaryItem), listmeta: { continue: next, count: all.length, limit: size, offset: end } });
    }
    if (req.method === 'POST' && (m = /^\/v1\/registries\/oci\/(basic|ecr)\/validate$/.exec(path)) !== null) {
      const flavour = m[1] as 'basic' | 'ecr';
      if (!check(flavour === 'basic' ? 'v1BasicOciRegistrySpec' : 'v1EcrRegistrySpec')) return;
      const problem = await validate(flavour, body as StoredSpec);
      if (problem !== undefined) return error(400, 'RegistryValidationFailed', problem);
      return answer(204);
    }
    if (req.method === 'POST' && (m = /^\/v1\/registries\/oci\/(basic|ecr)$/.exec(path)) !== null) {
      const flavour = m[1] as 'basic' | 'ecr';
      if (!check(flavour === 'basic' ? 'v1BasicOciRegistry' : 'v1EcrRegistry')) return;
      const b = body as { metadata?: { name?: string }; spec?: StoredSpec };
      if (b.metadata?.name === undefined || b.spec === undefined) return error(400, 'BadRequest', 'metadata.name and spec are required');
      if ([...registries.values()].some((r) => r.name === b.metadata?.name)) return error(409, 'DuplicateRegistryName', `registry ${b.metadata.name} already exists`);
      // "The Palette API requires base_content_path when synchronization is enabled" (Terraform's provider, resource_registry_oci_ecr.go).
      if (b.spec['isSyncSupported'] === true && String(b.spec['baseContentPath'] ?? '').trim() === '') return error(400, 'BadRequest', 'baseContentPath is required when sync is enabled');
      const id = addRegistry(flavour, b.metadata.name, b.spec);
      if (url.searchParams.get('skipPackSync') !== 'true') startSync(registries.get(id) as StoredRegistry, false);
      return answer(201, { uid: id });
    }
    if ((m = /^\/v1\/registries\/oci\/([^/]+)\/(basic|ecr)(\/sync(?:\/status)?)?$/.exec(path)) !== null) {
      const reg = registries.get(m[1] ?? '');
      if (reg === undefined || reg.flavour !== m[2]) return error(404, 'ResourceNotFound', 'Resource not found');
      if (req.method === 'GET' && m[3] === undefined) {
        const sync = reg.run !== undefined && !reg.run.settled ? { ...reg.sync, status: 'InProgress' } : reg.sync;
        return answer(200, { kind: reg.flavour, metadata: { uid: reg.uid, name: reg.name }, spec: mask(reg.spec), status: { syncStatus: sync } });
      }
      if (req.method === 'POST' && m[3] === '/sync') {
        if (raw !== '') return error(400, 'BadRequest', 'sync takes no body');
        const force = url.searchParams.get('forceSync') === 'true';
        const busy = standin.busySyncs;
        if (reg.run !== undefined && !reg.run.settled && busy !== 'restart') {
          reg.syncRequests.push({ force, at: now(), busy });
          if (busy === 'ignore') return answer(202);
          return error(busy, { 400: 'BadRequest', 409: 'SyncInProgress', 423: 'Locked' }[busy], `registry ${reg.name} sync is already in progress`);
        }
        startSync(reg, force);
        // The sync's snapshot of the registry is taken before the 202: a pack pushed after this answer is
        // seen only by a later sync.
        await reg.run?.indexing;
        return answer(202);
      }
      if (req.method === 'GET' && m[3] === '/sync/status') {
        const sync = await statusOf(reg);
        return answer(200, standin.statusWord === undefined ? sync : { ...sync, status: standin.statusWord(sync.status) });
      }
    }
    if (req.method === 'GET' && (m = /^\/v1\/packs\/([^/]+)\/registries\/([^/]+)$/.exec(path)) !== null) {
      const reg = registries.get(m[2] ?? '');
      const name = decodeURIComponent(m[1] ?? '');
      // `states`: only the versions in those states; none given: every version but the disabled ones.
      const states = (url.searchParams.get('states') ?? '').split(',').map((x) => x.trim()).filter((x) => x !== '');
      if (states.length > 0 && standin.statesRefused) return error(400, 'BadRequest', 'unknown query parameter states');
      const stateOf = (version: string) => (standin.disabled.has(`${name}:${version}`) ? 'disabled' : standin.deprecated.has(name) ? 'deprecated' : '');
      const all = reg?.index.get(name);
      const versions = all === undefined ? undefined : new Map([...all].filter(([version]) => (states.length === 0 ? stateOf(version) !== 'disabled' : states.includes(stateOf(version)))));
      if (reg !== undefined && (versions === undefined || versions.size === 0) && standin.unknownPackAnswer !== 404) {
        record.status = 200;
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(standin.unknownPackAnswer === 'null' ? 'null' : '');
      }
      if (reg === undefined || versions === undefined || versions.size === 0 || !shows(reg.uid)) return error(404, 'ResourceNotFound', 'Resource not found');
      const entries = [...versions.entries()];
      return answer(200, {
        name,
        displayName: name,
        layer: 'addon',
        registryUid: reg.uid,
        cloudTypes: ['all'],
        tags: entries.map(([version, e]) => ({ tag: version, version, packUid: standin.packUidAnswer?.(e.packUid) ?? e.packUid, group: '', parentTags: [] })),
        packValues: (standin.packValuesAnswer ?? ((v) => v))(entries.map(([, e]) => ({ packUid: standin.packUidAnswer?.(e.packUid) ?? e.packUid, values: e.values }))),
      });
    }
    if (req.method === 'POST' && path === '/v1/packs/search') {
      if (body !== undefined && !check('v1PacksFilterSpec')) return;
      const spec = (body ?? {}) as { filter?: { registryUid?: string[]; name?: Record<string, unknown>; state?: string[] }; sort?: { field?: string; order?: string }[] };
      // One item per pack name, with every registry (this scope shows) that lists a version of it: the latest one each.
      const byName = new Map<string, { uid: string; name: string; latestVersion: string; latestPackUid: string; scope: string }[]>();
      for (const reg of registries.values()) {
        if (!shows(reg.uid)) continue;
        for (const [name, versions] of reg.index) {
          const last = [...versions.entries()].at(-1);
          if (last === undefined) continue;
          byName.set(name, [...(byName.get(name) ?? []), { uid: reg.uid, name: reg.name, latestVersion: last[0], latestPackUid: last[1].packUid, scope: 'tenant' }]);
        }
      }
      const f = spec.filter ?? {};
      const matches = (name: string): boolean => {
        const n = f.name;
        if (n === undefined) return true;
        const fold = (t: string) => (n['ignoreCase'] === false ? t : t.toLowerCase());
        const [v, eq, contains, begins, ne] = [fold(name), n['eq'], n['contains'], n['beginsWith'], n['ne']].map((x) => (typeof x === 'string' ? fold(x) : x));
        return (eq == null || v === eq) && (ne == null || v !== ne) && (contains == null || (v as string).includes(contains as string)) && (begins == null || (v as string).startsWith(begins as string));
      };
      // A state filter gives the packs in those states; none gives every pack, but deprecated ones while searchHidesDeprecated.
      const inState = (name: string): boolean =>
        f.state === undefined || f.state.length === 0 ? !(standin.searchHidesDeprecated && standin.deprecated.has(name)) : standin.deprecated.has(name) && f.state.includes('deprecated');
      let items = [...byName.entries()]
        .filter(([name, regs]) => matches(name) && inState(name) && (f.registryUid === undefined || f.registryUid.length === 0 || regs.some((r) => f.registryUid?.includes(r.uid))))
        .map(([name, regs]) => ({ metadata: { uid: createHash('sha1').update(name).digest('hex').slice(0, 24), name }, spec: { name, displayName: name, layer: 'addon', type: 'oci', registries: regs } }));
      items.sort((a, b) => a.spec.name.localeCompare(b.spec.name));
      if (spec.sort?.[0]?.order === 'desc') items = items.reverse();
      if (items.length === 0 && standin.searchNone404) return error(404, 'ResourceNotFound', 'Resource not found');
      // Pages of at most 50 (the spec's maximum), by continue token (or offset alone).
      const limit = Math.min(50, Math.max(1, Number(url.searchParams.get('limit') ?? 50) || 50));
      const token = url.searchParams.get('continue');
      const start = token !== null && token !== '' ? searchTokens.get(token) : Number(url.searchParams.get('offset') ?? 0) || 0;
      if (start === undefined) return error(400, 'BadRequest', 'invalid continue token');
      const end = Math.min(items.length, start + limit);
      let next = '';
      if (end < items.length) searchTokens.set((next = uid()), end);
      const page = items.slice(start, end);
      return answer(200, { items: standin.searchItemsAnswer === undefined ? page : standin.searchItemsAnswer(page), listmeta: { continue: next, count: items.length, limit, offset: end } });
    }
    return error(404, 'ResourceNotFound', 'Resource not found');
  };

  /** The fault for this request, if any (standin.fault), counted down. */
  const faultFor = (req: IncomingMessage): NonNullable<PaletteStandin['fault']> | undefined => {
    const fault = standin.fault;
    if (fault === undefined || req.method !== fault.method || !fault.path.test(new URL(req.url ?? '/', 'http://palette').pathname)) return undefined;
    fault.times = (fault.times ?? 1) - 1;
    if (fault.times <= 0) standin.fault = undefined;
    return fault;
  };
  /** Answer `fault` instead of what `handle` would; with afterActing, `handle` acts on it first (its answer goes nowhere). */
  const injectFault = async (req: IncomingMessage, res: ServerResponse, fault: NonNullable<PaletteStandin['fault']>): Promise<void> => {
    const sink = { writeHead: () => sink, setHeader: () => sink, end: () => sink, headersSent: false } as unknown as ServerResponse;
    if (fault.afterActing === true) await handle(req, sink);
    else {
      await readBody(req);
      requests.push(recordOf(req));
    }
    const record = requests.at(-1) as PaletteRequestRecord;
    record.status = fault.status === 'reset' ? 0 : fault.status;
    if (fault.status === 'reset') res.socket?.destroy();
    else if (fault.text !== undefined) {
      res.writeHead(fault.status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(fault.text) });
      res.end(fault.text);
    } else v1Error(res, fault.status, fault.status === 400 ? 'BadRequest' : fault.status === 409 ? 'Conflict' : 'InternalError', `injected ${fault.status}`);
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const fault = faultFor(req);
    (fault === undefined ? handle(req, res) : injectFault(req, res, fault)).catch((err: Error) => {
      if (!res.headersSent) v1Error(res, 500, 'InternalError', err.message);
    });
  };
  const tls = options.tls;
  const server: Server =
    tls === undefined ? createServer(onRequest) : createHttpsServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) }, onRequest);
  server.on('connection', () => void standin.connections++);
  // A client that refuses the certificate ends the handshake: not the stand-in's error.
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  standin.url = `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return standin;
}

/**
 * How Palette reads an ECR-like lab with the credentials stored in an ECR registry: the access key goes to
 * the ECR stand-in's GetAuthorizationToken (its key check applies), and the minted password to the registry.
 */
export function ecrLabAuthorize(ecrApiUrl: string, region: string): PaletteLab['authorize'] {
  return async (spec) => {
    const creds = spec['credentials'] as { credentialType?: string; accessKey?: string } | undefined;
    if (creds?.accessKey === undefined) throw new Error('no AWS credentials: enable authentication on the registry');
    const date = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const res = await fetch(ecrApiUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken',
        'x-amz-date': date,
        authorization: `AWS4-HMAC-SHA256 Credential=${creds.accessKey}/${date.slice(0, 8)}/${region}/ecr/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
      },
      body: '{}',
    });
    const body = (await res.json()) as { authorizationData?: { authorizationToken: string }[]; message?: string };
    if (res.status !== 200) throw new Error(`ECR: ${body.message ?? res.status}`);
    return { authorization: `Basic ${body.authorizationData?.[0]?.authorizationToken ?? ''}` };
  };
}
