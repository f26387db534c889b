import { PackpubError } from '../errors.js';
import { sha256Digest, type Digest } from '../oci/digest.js';
import type { Descriptor } from '../oci/manifest.js';
import { isRegistryError, type RegistryError } from '../registry/errors.js';
import { HarborApi, harborWriteRefusal, immutableDeleteRefusal, missingProject, proxyCacheProject, READ_ONLY_HINT, readOnlyMode } from './harbor-api.js';
import type { RegistryConnectionOptions } from './options.js';
import { onceper } from '../util/concurrency.js';
import type { RegistryClient } from '../registry/client.js';
import type { ArtifactStore, DeleteTagRequest, FetchedManifest } from './artifact-store.js';
import { GenericRegistryStore } from './registry-store.js';

/*
 * Harbor on top of the generic registry store (registries.md, "Harbor"):
 * - the first path segment is the project, which must exist before a push (Harbor's own answer is a
 *   confusing 401/403): prepareRepository checks it and, with --create-project, creates it;
 * - `/v2/_catalog` is admin-only: listRepositories uses the project's repositories API;
 * - a version is deleted through the artifact API: only its tag when other tags point at the same
 *   artifact, else the artifact (the registry API cannot delete a tag alone);
 * - policy refusals get their own messages: 412 PRECONDITION (immutable tag rule), 403 DENIED quota,
 *   412 PROJECTPOLICYVIOLATION on manifest reads (signature / vulnerability policy).
 */

/** Harbor's project name rule (pkg/project/manager.go: restrictedNameChars, 1 to 255 characters). */
const HARBOR_PROJECT_NAME = /^(?=.{1,255}$)[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

function projectOf(repository: string): string {
  return repository.split('/')[0] ?? repository;
}

function isPolicyViolation(err: unknown): err is RegistryError {
  return isRegistryError(err) && (err.ociCode === 'PROJECTPOLICYVIOLATION' || (err.status === 412 && err.ociCode !== 'PRECONDITION'));
}

export class HarborStore extends GenericRegistryStore {
  override readonly kind = 'harbor' as const;
  private readonly ensureProject: (project: string) => Promise<void>;
  private readonly checkProject: (project: string) => Promise<void>;
  /** A dry run's read of systeminfo's `read_only` (HarborApi.systemInfo: once a minute): true refuses every planned write (refusesWriting). */
  private readonly checkReadOnly: () => Promise<void>;
  private readOnly = false;
  /** Manifests pushed in this run, so a read-back blocked by a project policy can trust the PUT. */
  private readonly pushed = new Map<string, { digest: Digest; bytes: Buffer; mediaType: string }>();

  constructor(
    client: RegistryClient,
    private readonly api: HarborApi,
    private readonly createProject: boolean,
  ) {
    super(client);
    this.ensureProject = onceper(async (project) => {
      if (await this.projectMissing(project)) await this.api.createProject(project);
    });
    this.checkProject = onceper(async (project) => {
      if (await this.projectMissing(project)) return;
      // A dry run only reads: whether these credentials may push there is Harbor's permission list to tell. A pull-only
      // robot's dry run planned "new", exit 0, and the real run was refused ("no push permission"), exit 1.
      const id = this.projectIds.get(project);
      if (id === undefined || (await this.api.canPush(id).catch(() => undefined)) !== false) return;
      const who = (await this.api.credential()).username ?? 'anonymous';
      this.pushDenied.set(
        project,
        new PackpubError('AUTH', `${who} has no push permission on project ${project} (GET /api/v2.0/users/current/permissions lists none): a real run would be refused its first write`, {
          hint: `give the robot account the push permission on project ${project}, or make the user a Developer (or above) there`,
        }),
      );
    });
    // Best effort: a Harbor that does not say (anonymous, an older answer, an error) is planned as before. The answer
    // is HarborApi.systemInfo's, asked again after a minute.
    this.checkReadOnly = async () => {
      this.readOnly = (await this.api.readOnly().catch(() => undefined)) === true;
    };
  }

  /**
   * Whether the project must be created (with --create-project); without it, a missing project is refused, and so is
   * a proxy cache project (Harbor refuses every push into it: said before anything is uploaded, also by a dry run).
   */
  private async projectMissing(project: string): Promise<boolean> {
    const { state, proxyCache, id } = await this.api.project(project);
    if (id !== undefined) this.projectIds.set(project, id);
    if (proxyCache) throw proxyCacheProject(project, this.location);
    if (state !== 'missing') return false;
    if (!HARBOR_PROJECT_NAME.test(project)) {
      // A registry path segment Harbor takes for no project (`a__b`, `a--b`): --create-project's POST was refused
      // 400 "project name is not in lower case or contains illegal characters", once per pack.
      throw new PackpubError('NOT_FOUND', `project ${project} does not exist on ${this.location}, and Harbor cannot create a project of that name: project names are lowercase letters and digits, joined by single ".", "_" or "-"`, {
        hint: `the first segment of the base path is the Harbor project; give one such as "${project.replace(/[._-]{2,}/g, (m) => m[0] ?? '-')}"`,
      });
    }
    if (!this.createProject) {
      throw new PackpubError('NOT_FOUND', `project ${project} does not exist on ${this.location}; create it or pass --create-project`, {
        hint: `the first segment of the base path is the Harbor project; create "${project}" in Harbor, or pass --create-project (needs a user allowed to create projects)`,
      });
    }
    return true;
  }

  override async prepareRepository(repository: string): Promise<void> {
    await this.ensureProject(projectOf(repository));
    await super.prepareRepository(repository);
  }

  /**
   * A dry run's prepareRepository: the same project check, creating nothing (--create-project plans it); and whether
   * Harbor is in read-only mode, which refuses writes only: a version found unchanged is still planned so.
   */
  async checkRepository(repository: string): Promise<void> {
    await Promise.all([this.checkProject(projectOf(repository)), this.checkReadOnly()]);
  }

  /**
   * Before a delete (its plan, --dry-run too): read-only mode (systeminfo) refuses every delete, and an immutable tag
   * rule protecting the tag (the artifact API's immutable status) refuses it 412: the dry run planned the delete,
   * exit 0, where the delete failed, exit 1.
   */
  async refusesDeleting(repository: string, tag: string, digest: Digest): Promise<PackpubError | undefined> {
    await this.checkReadOnly();
    if (this.readOnly) {
      return new PackpubError('REGISTRY', `${this.location} is in read-only mode (GET /api/v2.0/systeminfo says "read_only": true): Harbor deletes nothing now`, { hint: READ_ONLY_HINT });
    }
    const denied = await this.deleteDenied(projectOf(repository));
    if (denied !== undefined) return denied;
    if ((await this.api.tagImmutable(repository, digest, tag).catch(() => undefined)) !== true) return undefined;
    return immutableDeleteRefusal(this.reference(repository, tag), projectOf(repository));
  }

  /**
   * Credentials Harbor's permission list gives no delete right in the project (a Developer, a robot with pull and push
   * only): the dry run planned the delete, exit 0, and the delete was refused 403, exit 1. Asked once per project, before
   * anything is deleted; a Harbor that does not say (anonymous, an OIDC CLI secret, an error) lets the delete go on.
   */
  private readonly deleteDenied = onceper(async (project: string): Promise<PackpubError | undefined> => {
    const id = this.projectIds.get(project) ?? (await this.api.project(project).catch(() => undefined))?.id;
    if (id === undefined || (await this.api.canDelete(id).catch(() => undefined)) !== false) return undefined;
    const who = (await this.api.credential()).username ?? 'anonymous';
    return new PackpubError('AUTH', `${who} has no delete permission on project ${project} (GET /api/v2.0/users/current/permissions lists neither delete artifact nor delete tag): Harbor would refuse the delete`, {
      hint: `deleting needs the Maintainer or Project Admin role on project ${project}, or a robot account with the delete artifact and delete tag permissions; nothing was deleted`,
    });
  });

  /**
   * Read-only mode, or no push permission on the project (both found by checkRepository): the real run's first write
   * would be refused.
   */
  refusesWriting(repository: string): PackpubError | undefined {
    return this.readOnly ? readOnlyMode(this.location) : this.pushDenied.get(projectOf(repository));
  }

  /** Project ids found by the project look-up (the permission list's scope). */
  private readonly projectIds = new Map<string, number>();
  /** A dry run's finding that these credentials may not push into a project (checkProject), by project. */
  private readonly pushDenied = new Map<string, PackpubError>();

  override async listRepositories(prefix: string): Promise<string[]> {
    const clean = prefix.replace(/\/+$/, '');
    if (clean === '') return super.listRepositories(prefix);
    const all = await this.api.listRepositories(projectOf(clean));
    return all.filter((name) => name.startsWith(`${clean}/`)).sort();
  }

  override async pushManifest(repository: string, reference: string, bytes: Buffer, mediaType: string): Promise<Digest> {
    let digest: Digest;
    try {
      digest = await super.pushManifest(repository, reference, bytes, mediaType);
    } catch (err) {
      if (!isRegistryError(err)) throw err;
      if (err.status === 412 && err.ociCode === 'PRECONDITION') {
        // Immutable tag rule: the tag exists. Same digest means this version is already published.
        const local = sha256Digest(bytes);
        const current = await this.headManifest(repository, reference).catch(() => undefined);
        if (current?.digest === local) return local;
        throw this.immutableConflict(repository, reference, err);
      }
      throw this.explainWrite(err, repository);
    }
    this.pushed.set(`${repository}@${reference}`, { digest, bytes, mediaType });
    this.pushed.set(`${repository}@${digest}`, { digest, bytes, mediaType });
    return digest;
  }

  /**
   * A dry run planning to replace `tag` (--force): Harbor's immutable tag rules refuse the real run's manifest PUT
   * (412 PRECONDITION, a conflict, exit 1) where the dry run planned "overwrite", exit 0. Read from the artifact API.
   */
  async refusesReplacing(repository: string, tag: string, holds: Digest): Promise<PackpubError | undefined> {
    const immutable = await this.api.tagImmutable(repository, holds, tag).catch(() => undefined);
    return immutable === true ? this.immutableConflict(repository, tag) : undefined;
  }

  private immutableConflict(repository: string, tag: string, cause?: unknown): PackpubError {
    return new PackpubError('CONFLICT', `${this.reference(repository, tag)} is protected by an immutable tag rule of project ${projectOf(repository)} and holds a different artifact`, {
      hint: 'publish a new version, or ask a Harbor project admin to change the tag immutability rule',
      ...(cause === undefined ? {} : { cause }),
    });
  }

  override async pushBlob(...args: Parameters<ArtifactStore['pushBlob']>): Promise<void> {
    try {
      await super.pushBlob(...args);
    } catch (err) {
      throw this.explainWrite(err, args[0]);
    }
  }

  /** Harbor's 403 DENIED to a write that is no matter of rights: quota, read-only mode, a proxy cache project. */
  private explainWrite(err: unknown, repository: string): unknown {
    if (!isRegistryError(err) || err.status !== 403) return err;
    const project = projectOf(repository);
    if (/quota/i.test(`${err.ociMessage ?? ''} ${err.message}`)) {
      // Harbor's words (pkg/quota/errors.go): "... adding <size> of storage resource, which when updated to current usage
      // of <used> will exceed the configured upper limit of <limit>." How far over it is tells what to delete.
      const over = /adding (\S+(?: \S+)?) of storage resource, which when updated to current usage of (\S+(?: \S+)?) will exceed the configured upper limit of (.+?)\.?$/.exec(err.ociMessage ?? '');
      const detail = over === null ? '' : `: adding ${over[1] ?? ''} to the ${over[2] ?? ''} it holds would pass its limit of ${over[3] ?? ''}`;
      return new PackpubError('REGISTRY', `project ${project} quota exceeded on ${this.location}${detail}`, {
        hint: 'delete old artifacts from the project or ask a Harbor admin to raise its storage quota',
        cause: err,
      });
    }
    const refusal = harborWriteRefusal(err.ociMessage, this.location, project);
    if (refusal === undefined) return err;
    return new PackpubError(refusal.code, refusal.message, { ...(refusal.hint === undefined ? {} : { hint: refusal.hint }), cause: err });
  }

  /**
   * Harbor denies (401/403 "project <p> not found") any registry call into a missing project. For a read
   * that means "not there", so the push that follows reaches prepareRepository, which says what to do.
   */
  private async inMissingProject(err: unknown, repository: string): Promise<boolean> {
    if (!isRegistryError(err) || (err.status !== 401 && err.status !== 403)) return false;
    return (await this.api.projectState(projectOf(repository)).catch(() => 'unknown')) === 'missing';
  }

  override async headManifest(repository: string, reference: string): Promise<Descriptor | undefined> {
    try {
      return await super.headManifest(repository, reference);
    } catch (err) {
      const mine = this.pushed.get(`${repository}@${reference}`);
      if (isPolicyViolation(err) && mine !== undefined) return { mediaType: mine.mediaType, digest: mine.digest, size: mine.bytes.length };
      if (await this.inMissingProject(err, repository)) return undefined;
      throw this.explainRead(err, repository, reference);
    }
  }

  override async getManifest(repository: string, reference: string, known?: FetchedManifest, signal?: AbortSignal): Promise<FetchedManifest | undefined> {
    try {
      return await super.getManifest(repository, reference, known, signal);
    } catch (err) {
      const mine = this.pushed.get(`${repository}@${reference}`);
      if (isPolicyViolation(err) && mine !== undefined) {
        return { descriptor: { mediaType: mine.mediaType, digest: mine.digest, size: mine.bytes.length }, bytes: mine.bytes };
      }
      if (await this.inMissingProject(err, repository)) return undefined;
      throw this.explainRead(err, repository, reference);
    }
  }

  override async hasBlob(repository: string, digest: Digest): Promise<boolean> {
    try {
      return await super.hasBlob(repository, digest);
    } catch (err) {
      if (await this.inMissingProject(err, repository)) return false;
      throw err;
    }
  }

  /**
   * The tags of a pack named by the user (list NAME, copy NAME, palette sync NAME): in a project Harbor does not
   * have, "no pack NAME" (exit 0) hid the typo in the base path that the unnamed list names. Push never reads them.
   */
  override async listTags(repository: string): Promise<string[]> {
    try {
      return await super.listTags(repository);
    } catch (err) {
      if (await this.inMissingProject(err, repository)) throw missingProject(projectOf(repository), this.location);
      throw err;
    }
  }

  /**
   * A listing of every pack reads the tag lists of the repositories the project's repositories API named: a project
   * deleted in between denies them (401/403, "project <p> not found"), which read as a refused login. Said as it is.
   */
  override async listTagsKnown(repository: string): Promise<string[] | undefined> {
    try {
      return await super.listTagsKnown(repository);
    } catch (err) {
      if (!(await this.inMissingProject(err, repository))) throw err;
      const project = projectOf(repository);
      throw new PackpubError('NOT_FOUND', `project ${project} does not exist on ${this.location} any more: it listed ${repository} earlier in this run and was deleted since`, {
        hint: `nothing of project ${project} can be read now; check with the Harbor admins whether it was meant to go, then run again`,
        cause: err,
      });
    }
  }

  override readonly deleteScope = 'tag' as const;

  override async deleteTag({ repository, tag, digest, otherTags }: DeleteTagRequest): Promise<void> {
    const what = this.reference(repository, tag);
    if (otherTags.length > 0) await this.api.deleteTag(repository, digest, tag, what);
    else await this.api.deleteArtifact(repository, digest, what);
  }

  private explainRead(err: unknown, repository: string, reference: string): unknown {
    if (!isPolicyViolation(err)) return err;
    return new PackpubError('REGISTRY', `${this.location} refused to serve ${this.reference(repository, reference)}: a policy of project ${projectOf(repository)} blocks it (PROJECTPOLICYVIOLATION)`, {
      hint: 'the project only serves signed artifacts or ones without known vulnerabilities; sign or scan the artifact, or ask a project admin to relax the policy',
      cause: err,
    });
  }
}

/** Open a Harbor registry: the generic store plus project checks and REST listing, on the generic store's HTTP stack. */
export function openHarborStore(options: RegistryConnectionOptions, generic: GenericRegistryStore): ArtifactStore {
  return new HarborStore(generic.client, new HarborApi(generic.client.stack), options.createProject === true);
}
