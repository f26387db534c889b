import type { Readable } from 'node:stream';
import { parseEcrHost } from '../aws/ecr-host.js';
import { isPackpubError } from '../errors.js';
import { isDigest, type Digest } from '../oci/digest.js';
import type { Descriptor } from '../oci/manifest.js';
import { formatReference, validateRepositoryPath } from '../oci/reference.js';
import { RegistryClient, type ClientDeps } from '../registry/client.js';
import { PackpubError } from '../errors.js';
import { isRegistryError, readBounded } from '../registry/errors.js';
import { backoffDelayMs } from '../registry/retry.js';
import { isTokenRefusal } from '../registry/auth/token.js';
import type { RegistryConnectionOptions } from './options.js';
import type { ArtifactStore, DeleteScope, DeleteTagRequest, FetchedManifest, PushBlobOptions, StoreKind } from './artifact-store.js';

/**
 * Open a registry as an ArtifactStore: ECR and Harbor extend the generic store with their own behaviour.
 * The HTTP stack (transport, auth, retry) is built once, by the generic store's client, and the flavours
 * reuse it; `deps` lets tests inject a transport or a clock.
 */
export async function openRegistryStore(options: RegistryConnectionOptions, deps: ClientDeps = {}): Promise<ArtifactStore> {
  const type = options.type ?? (parseEcrHost(options.host) ? 'ecr' : undefined);
  if (type === 'ecr') return (await import('./ecr.js')).openEcrStore(options, () => RegistryClient.create(options, deps));
  const generic = await openGenericRegistryStore(options, deps);
  if (type === 'harbor') return (await import('./harbor.js')).openHarborStore(options, generic);
  if (type === undefined && (await isHarbor(generic.client, options.debug))) {
    options.debug?.(`${options.host} is Harbor (GET /api/v2.0/systeminfo answered); use --registry-type to override`);
    return (await import('./harbor.js')).openHarborStore(options, generic);
  }
  return generic;
}

/**
 * Harbor answers `GET /api/v2.0/systeminfo` to anyone with its `auth_mode` (and, before 2.13, its version); a plain
 * distribution registry answers 404. One request per run, on the pooled connection, without credentials (the answer is public)
 * and with a short loop of its own rather than the full retry policy (up to three answers: a passing fault is asked
 * again): any lasting failure means "not Harbor" and the real error, if any, surfaces on the first registry call with
 * its proper message.
 */
async function isHarbor(client: RegistryClient, debug?: (line: string) => void): Promise<boolean> {
  // One --request-timeout for the whole probe: an answer dripping in a byte at a time never trips the chunk timeout.
  const signal = AbortSignal.timeout(client.transport.requestTimeoutMs);
  const { retry } = client;
  let answered = false;
  for (let attempt = 1; attempt <= 3 && !signal.aborted; attempt++) {
    try {
      // After an answer that was a passing fault, the retry backoff's pause before asking again (--retry-delay): three
      // asks within milliseconds met the same fault (a Harbor restarting, answering 503), and a Harbor was taken for a
      // generic registry. After no answer (a connection refused or reset), asked again at once, as before: a registry
      // that never answers is refused by the first registry call without a wait (its retry policy's "never answered").
      if (answered) await retry.clock.sleep(backoffDelayMs(attempt - 2, () => retry.clock.random(), retry.initialDelayMs), signal);
      answered = false;
      const res = await client.transport.request({ method: 'GET', url: client.url('/api/v2.0/systeminfo'), followRedirects: false, signal });
      answered = true;
      const body = (await readBounded(res.body, 64 * 1024)).toString('utf8');
      // A passing fault: ask again rather than guess "not Harbor". A success other than 200 (a 206 unasked) or a 200
      // without JSON (empty, cut short) is one too: taken for "not Harbor" at once, a Harbor so answered once had its
      // --create-project left undone and its missing project said as "credentials rejected or no push permission".
      if (res.status >= 500 || (res.status > 200 && res.status < 300)) continue;
      if (res.status !== 200) return false;
      // A web page (a UI in front of the registry answering every path with its index.html) is no passing fault:
      // "not Harbor" at once, not after two more asks and their pauses (~0.75 s of every run against it).
      if (/^\s*</.test(body)) return false;
      let doc: unknown;
      try {
        doc = JSON.parse(body);
      } catch {
        debug?.(`Harbor probe attempt ${attempt}: the answer is not JSON`);
        continue;
      }
      // Decided at once whatever JSON it is: `null` or a string is "not Harbor", not a fault to ask again about.
      // Harbor 2.13+ tells its version to signed-in users only (goharbor/harbor#21672); auth_mode it tells anyone.
      const info = (typeof doc === 'object' && doc !== null ? doc : {}) as { harbor_version?: unknown; auth_mode?: unknown };
      return typeof info.harbor_version === 'string' || typeof info.auth_mode === 'string';
    } catch (err) {
      if (isPackpubError(err) && err.code !== 'NETWORK') return false;
      debug?.(`Harbor probe attempt ${attempt} failed: ${(err as Error).message}`);
    }
  }
  debug?.('could not tell whether this is Harbor; treating it as a generic registry (use --registry-type harbor)');
  return false;
}

/** The plain distribution-API store; `deps` lets tests inject a transport or a clock. */
export async function openGenericRegistryStore(options: RegistryConnectionOptions, deps: ClientDeps = {}): Promise<GenericRegistryStore> {
  return new GenericRegistryStore(RegistryClient.create(options, deps));
}

/**
 * A registry that offers no catalog: GHCR answers `GET /v2/_catalog` 404
 * (GHCR's maintainers said so on microsoft/vscode-docker#1525), others 405 UNSUPPORTED. It was "repository catalog not
 * found ... is <host> an OCI registry?", which sent users after a registry that works. Tag lists work there: the pack by name.
 */
function noCatalog(err: unknown, location: string): PackpubError | undefined {
  if (isPackpubError(err, 'AUTH') && (err.message.startsWith('credentials rejected by ') || isTokenRefusal(err))) {
    // GitLab gives the catalog scope to its administrators only (gitlab-foss!14751; never on GitLab.com): a developer's
    // good token was told "credentials rejected ... check the user name and password". Wrong credentials read the same.
    return new PackpubError('AUTH', `${location} refused its repository catalog (GET /v2/_catalog) to these credentials: some registries (GitLab) show it to administrators only, and wrong credentials read the same`, {
      hint: `list a pack by name (packpub list <name>; copy: <name> --all), which needs pull rights only; if that is refused too: ${err.hint ?? 'check the user name and password'}`,
      cause: err,
    });
  }
  if (!isRegistryError(err) || (err.status !== 404 && err.status !== 405 && err.ociCode !== 'UNSUPPORTED')) return undefined;
  return new PackpubError('REGISTRY', `${location} does not list its repositories: GET /v2/_catalog answered ${err.status ?? ''}${err.ociCode === undefined ? '' : ` ${err.ociCode}`} (GHCR and other hosted registries offer none), so the packs under a base path cannot be found`, {
    hint: 'name the pack: packpub list <name> (copy: <name> --all) reads its tag list, which these registries serve',
    cause: err,
  });
}

/** A 404 for a manifest, tag or repository: "not there" rather than a failure. */
function isNotFound(err: unknown): boolean {
  return isPackpubError(err, 'NOT_FOUND');
}

/** What `call` answers, or `absent` when the registry says it is not there (isNotFound). */
async function unlessNotFound<T, A>(call: Promise<T>, absent: A): Promise<T | A> {
  try {
    return await call;
  } catch (err) {
    if (isNotFound(err)) return absent;
    throw err;
  }
}

/**
 * Any OCI distribution registry as a pack store. The ECR and Harbor stores extend it, overriding what their
 * registry does differently, and reuse its client's HTTP stack (`client.stack`: transport, auth session,
 * retry policy) for their own API calls.
 */
export class GenericRegistryStore implements ArtifactStore {
  readonly kind: StoreKind = 'generic';
  /** The distribution API deletes manifests by digest only (tag deletion is a distribution-spec 1.1 option). */
  readonly deleteScope: DeleteScope = 'manifest';
  readonly location: string;
  readonly client: RegistryClient;

  constructor(client: RegistryClient) {
    this.client = client;
    this.location = client.host;
  }

  reference(repository: string, tag?: string): string {
    if (tag !== undefined && isDigest(tag)) return `${formatReference(this.location, repository)}@${tag}`;
    return formatReference(this.location, repository, tag);
  }

  getManifest(repository: string, reference: string, known?: FetchedManifest, signal?: AbortSignal): Promise<FetchedManifest | undefined> {
    return unlessNotFound(this.client.getManifest(repository, reference, signal, known), undefined);
  }

  headManifest(repository: string, reference: string): Promise<Descriptor | undefined> {
    return unlessNotFound(this.client.headManifest(repository, reference), undefined);
  }

  pushManifest(repository: string, reference: string, bytes: Buffer, mediaType: string): Promise<Digest> {
    return this.client.putManifest(repository, reference, bytes, mediaType);
  }

  hasBlob(repository: string, digest: Digest): Promise<boolean> {
    return this.client.blobExists(repository, digest);
  }

  servesBlob(repository: string, digest: Digest): Promise<boolean> {
    return this.client.blobServed(repository, digest);
  }

  /** Uploads (or mounts, with `mountFrom`): the push operation asks hasBlob first where a blob may be there already. */
  pushBlob(repository: string, descriptor: Descriptor, open: () => Readable, options: PushBlobOptions = {}): Promise<void> {
    return this.client.uploadBlob(repository, descriptor, open, undefined, options.mountFrom);
  }

  fetchBlob(repository: string, descriptor: Descriptor, signal?: AbortSignal): Promise<Readable> {
    return this.client.fetchBlob(repository, descriptor, signal);
  }

  listTags(repository: string): Promise<string[]> {
    // distribution answers NAME_UNKNOWN for a repository with no pushes yet
    return unlessNotFound(this.client.listTags(repository), []);
  }

  listTagsKnown(repository: string): Promise<string[] | undefined> {
    return unlessNotFound(this.client.listTags(repository), undefined);
  }

  /**
   * `DELETE /v2/<name>/manifests/<digest>`: the registry removes the manifest and every tag pointing at it,
   * so this refuses when other tags point there. Registries with deletes turned off answer 405 UNSUPPORTED.
   */
  async deleteTag({ repository, tag, digest, otherTags }: DeleteTagRequest): Promise<void> {
    if (otherTags.length > 0) {
      throw new PackpubError('CONFLICT', `${this.reference(repository, tag)} shares its manifest with ${otherTags.join(', ')}: deleting it would delete those too`, {
        hint: 'this registry deletes manifests, not tags; delete every tag of that content together, or keep it',
      });
    }
    try {
      await this.client.deleteManifest(repository, digest);
    } catch (err) {
      if (isNotFound(err)) throw new PackpubError('NOT_FOUND', `${this.reference(repository, tag)} (${digest}) is no longer there: deleted meanwhile?`, { cause: err });
      if (isRegistryError(err) && (err.status === 405 || err.ociCode === 'UNSUPPORTED')) {
        throw new PackpubError('REGISTRY', `${this.location} does not allow deleting manifests (${err.status} ${err.ociCode ?? 'UNSUPPORTED'}); nothing was deleted`, {
          hint: 'deletes are turned off on this registry: a CNCF distribution registry needs storage.delete.enabled: true (REGISTRY_STORAGE_DELETE_ENABLED=true); other registries delete through their own UI or API',
          cause: err,
        });
      }
      throw err;
    }
  }

  /** Through `/v2/_catalog` (needs catalog access; the ECR and Harbor stores list through their APIs). */
  async listRepositories(prefix: string): Promise<string[]> {
    if (prefix !== '') validateRepositoryPath(prefix, 'repository prefix');
    const all = await this.client.catalog().catch(async (err: unknown) => {
      throw (await this.refusedEverywhere(err)) ?? noCatalog(err, this.location) ?? err;
    });
    const under = prefix === '' ? all : all.filter((r) => r.startsWith(`${prefix}/`));
    return [...new Set(under)].sort();
  }

  /**
   * The catalog refused as "credentials rejected": when `GET /v2/` refuses the same credentials, they are wrong (a Basic
   * registry's wrong password), and that error is the answer. It read "refused its repository catalog ... (GitLab) show
   * it to administrators only", sending the user to list by name, which then failed the same. Undefined otherwise
   * (/v2/ takes them: the catalog alone is refused, as GitLab refuses it to developers).
   */
  private async refusedEverywhere(err: unknown): Promise<unknown> {
    if (!isPackpubError(err, 'AUTH') || !err.message.startsWith('credentials rejected by ')) return undefined;
    const pinged = await this.client.ping().then(() => undefined, (e: unknown) => e);
    return isPackpubError(pinged, 'AUTH') && pinged.message.startsWith('credentials rejected by ') ? err : undefined;
  }

  /** Nothing to prepare on a plain registry: repositories appear on first push. Declares push intent for auth scopes. */
  async prepareRepository(repository: string): Promise<void> {
    this.intendPush(repository);
  }

  intendPush(repository: string): void {
    validateRepositoryPath(repository);
    this.client.declarePush(repository);
  }

  intendMountFrom(repository: string): void {
    this.client.declareMountSource(repository);
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
