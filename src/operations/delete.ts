import { isPackpubError, PackpubError } from '../errors.js';
import { isDigest, type Digest } from '../oci/digest.js';
import type { PackRef } from '../oci/reference.js';
import { packRepository } from '../pack/naming.js';
import { isRegistryError } from '../registry/errors.js';
import type { DeletableTarget } from '../targets/open.js';
import { mapConcurrent } from '../util/concurrency.js';
import { versionNotFound } from './resolve-pack.js';
export { deleteSucceeded } from './delete-report.js';

/*
 * `packpub delete`: remove published versions, in two steps so the CLI can show the plan and ask before
 * anything is removed. planDelete only reads (each version's digest, and every other tag of its repository
 * that points at the same manifest); applyDelete removes, one version at a time, and reads each tag back
 * (exit 0 means it is gone). Nothing is removed when any version cannot be planned, and a failure stops the
 * run: every result says whether its version was deleted, so a partial failure is never silent.
 */

/** Why deleting a published version needs care: Palette keeps the digests it synced (palette-packs.md). */
export const PALETTE_DELETE_WARNING =
  'Palette caches pack digests: cluster profiles that use a deleted version keep its cached digest and may fail with "not found" once it is gone, and publishing the same version again later may not reach Palette (a sync is not known to pick up a re-pushed tag; publish a new version instead)';

/** Lookups of other tags in flight per version (one GET each). */
const TAG_LOOKUPS = 8;

/**
 * What happened to one version:
 * - deleted: the tag is gone, and its manifest with it (no other tag pointed at it when looked up; on a
 *   manifest-scope store that is right before the delete)
 * - untagged: the tag is gone; the manifest stays under `otherTags` (stores that delete tags: Harbor, ECR, OCI layout)
 * - planned: --dry-run, or planned and not confirmed; `plan` says which of the two a run would do
 * - missing: the version does not exist (a failure unless --ignore-missing)
 * - refused: other tags point at the same manifest and the store can only delete manifests (a generic registry),
 *   or the store says it would refuse the delete (refusesDeleting: a Harbor immutable tag rule)
 * - failed: an error while looking it up, deleting it or reading it back
 * - cancelled: not deleted, because another version could not be planned or failed first
 */
export type DeleteStatus = 'deleted' | 'untagged' | 'planned' | 'missing' | 'refused' | 'failed' | 'cancelled';

export interface DeleteResult {
  name: string;
  version: string;
  /** Full reference, e.g. `harbor.example.com/p/spectro-packs/archive/hello:1.0.0`. */
  reference: string;
  status: DeleteStatus;
  /** `delete`: the manifest goes too; `untag`: only the tag goes (other tags keep the manifest). */
  plan?: 'delete' | 'untag';
  /** The manifest digest the version held. */
  digest?: Digest;
  /** Other tags of the repository pointing at the same manifest (also named in this call ones included). */
  otherTags?: string[];
  error?: { code: string; message: string; hint?: string };
}

export interface DeleteSummary {
  total: number;
  deleted: number;
  untagged: number;
  planned: number;
  missing: number;
  refused: number;
  failed: number;
  cancelled: number;
}

export interface DeleteReport {
  /** Display name of the target, e.g. `registry harbor.example.com/spectro-oci-registry`. */
  target: string;
  dryRun: boolean;
  /** Missing versions are not failures (--ignore-missing). */
  ignoreMissing: boolean;
  results: DeleteResult[];
  summary: DeleteSummary;
  durationMs: number;
}

export interface DeleteOptions {
  /** A version that does not exist is reported as missing without failing the run. */
  ignoreMissing?: boolean;
}

export interface ApplyDeleteOptions {
  /** Stops the run before the next version (the one being deleted finishes); the rest are `cancelled`. */
  signal?: AbortSignal;
  /** Called as each version is done (deleted, failed or cancelled), so a caller can show progress. */
  onResult?: (result: DeleteResult) => void;
}

interface PlannedVersion {
  ref: PackRef;
  repository: string;
  result: DeleteResult;
}

/** What planDelete found; give it to applyDelete (or report it as it is for --dry-run). */
export interface DeletePlan {
  target: string;
  ignoreMissing: boolean;
  started: number;
  versions: PlannedVersion[];
  /** True when every version can be deleted (missing ones too, with --ignore-missing). */
  ready: boolean;
}

function errorOf(err: unknown): NonNullable<DeleteResult['error']> {
  if (isPackpubError(err)) return { code: err.code, message: err.message, ...(err.hint === undefined ? {} : { hint: err.hint }) };
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

/** Versions are tags: a digest names content, which may be published under several versions. Also before the target is opened (cli delete). */
export function checkRefs(refs: readonly PackRef[]): PackRef[] {
  const seen = new Map<string, PackRef>();
  for (const ref of refs) {
    if (isDigest(ref.version)) {
      throw new PackpubError('USAGE', `delete takes <name>:<version>, not a digest (${ref.name}@${ref.version})`, {
        hint: 'name the version to delete; packpub list shows the versions of a pack',
      });
    }
    seen.set(`${ref.name}:${ref.version}`, ref);
  }
  if (seen.size === 0) throw new PackpubError('USAGE', 'delete needs at least one <name>:<version>');
  return [...seen.values()];
}

/**
 * Look every version up, without changing anything: its digest, and the other tags of its repository that
 * point at the same manifest (list tags, then read each with GET, a few at a time). A store that can only delete
 * manifests refuses a version whose manifest other tags keep, unless those tags are named in this call too.
 */
export async function planDelete(target: DeletableTarget, refs: readonly PackRef[], options: DeleteOptions = {}): Promise<DeletePlan> {
  const started = Date.now();
  const wanted = checkRefs(refs);
  const { store } = target;
  const named = new Set(wanted.map((r) => `${r.name}:${r.version}`));
  const versions = await mapConcurrent(wanted, 4, async (ref): Promise<PlannedVersion> => {
    const repository = packRepository(target.basePath, ref.name);
    const reference = store.reference(repository, ref.version);
    const base = { name: ref.name, version: ref.version, reference };
    try {
      const head = await manifestDigestOf(target, repository, ref.version);
      if (head === undefined) return { ref, repository, result: { ...base, status: 'missing', error: errorOf(versionNotFound(reference, ref, target.flags)) } };
      const otherTags = await tagsSharing(target, repository, ref.version, head.digest);
      const found = { ...base, digest: head.digest, otherTags };
      const survivors = otherTags.filter((t) => !named.has(`${ref.name}:${t}`));
      if (store.deleteScope === 'manifest' && survivors.length > 0) {
        const error = new PackpubError(
          'CONFLICT',
          `${reference} shares its manifest (${head.digest}) with ${survivors.join(', ')}: this registry can only delete the manifest, which would remove ${survivors.length === 1 ? 'that tag' : 'those tags'} too`,
          { hint: `name every tag of that content in one call (packpub delete ${[ref.version, ...survivors].map((t) => `${ref.name}:${t}`).join(' ')}), or keep it` },
        );
        return { ref, repository, result: { ...found, status: 'refused', error: errorOf(error) } };
      }
      // What the store knows it would refuse (Harbor: read-only mode, an immutable tag rule): the plan says so, as the
      // delete would end (the dry run planned it, exit 0, and the real run failed, exit 1).
      const refusal = await store.refusesDeleting?.(repository, ref.version, head.digest);
      if (refusal !== undefined) return { ref, repository, result: { ...found, status: refusal.code === 'CONFLICT' ? 'refused' : 'failed', error: errorOf(refusal) } };
      return { ref, repository, result: { ...found, status: 'planned', plan: survivors.length === 0 ? 'delete' : 'untag' } };
    } catch (err) {
      return { ref, repository, result: { ...base, status: 'failed', error: errorOf(err) } };
    }
  });
  const ready = versions.every((v) => v.result.status === 'planned' || (v.result.status === 'missing' && options.ignoreMissing === true));
  return { target: target.display, ignoreMissing: options.ignoreMissing === true, started, versions, ready };
}

/**
 * What `tag` holds now, from its manifest's bytes (GET): the digest a DELETE names must be the one `inspect`
 * and `tag` see, never a HEAD's Docker-Content-Digest alone, which a registry or a proxy may get wrong.
 */
async function manifestDigestOf(target: DeletableTarget, repository: string, tag: string): Promise<{ digest: Digest } | undefined> {
  const fetched = await target.store.getManifest(repository, tag);
  return fetched === undefined ? undefined : { digest: fetched.descriptor.digest };
}

/**
 * The other tags of `repository` that point at `digest` now (list tags, then read each, a few at a time). Read
 * as the tag itself is (GET, bytes hashed): on a manifest-scope store each of them goes with the DELETE, and a
 * HEAD answered from a cache or a proxy (gone, another digest) would let one go unasked. A pack manifest is
 * under 1 KiB, so the GET costs about what the HEAD did.
 */
async function tagsSharing(target: DeletableTarget, repository: string, tag: string, digest: Digest): Promise<string[]> {
  const tags = (await target.store.listTags(repository)).filter((t) => t !== tag);
  const digests = await mapConcurrent(tags, TAG_LOOKUPS, async (t) => (await manifestDigestOf(target, repository, t))?.digest);
  return tags.filter((_, i) => digests[i] === digest).sort();
}

/**
 * A store that can only delete manifests takes every tag of the manifest with it. The plan may be minutes
 * old (a confirmation on a terminal): right before the delete, the tag and the tags sharing its manifest
 * are looked up again, and a tag moved or added since (another publisher) stops the delete. What is left
 * is the one round trip between this look-up and the DELETE itself (docs/errors.md).
 */
async function recheckBeforeManifestDelete(target: DeletableTarget, v: PlannedVersion, digest: Digest, named: ReadonlySet<string>, removed: ReadonlySet<string>): Promise<void> {
  const { repository, result: r } = v;
  const now = await manifestDigestOf(target, repository, v.ref.version);
  if (now === undefined) return; // gone already: the read-back says so
  if (now.digest !== digest) {
    throw new PackpubError('CONFLICT', `${r.reference} now points at ${now.digest}, not ${digest} as it did when it was looked up: not deleted`, {
      hint: 'another publisher moved the tag meanwhile; look again with packpub delete --dry-run',
    });
  }
  const added = (await tagsSharing(target, repository, v.ref.version, digest)).filter((t) => !named.has(`${repository}:${t}`) && !removed.has(t) && !(r.otherTags ?? []).includes(t));
  if (added.length > 0) {
    throw new PackpubError(
      'CONFLICT',
      `${r.reference} shares its manifest (${digest}) with ${added.join(', ')}, tagged since it was looked up: this registry can only delete the manifest, which would remove ${added.length === 1 ? 'that tag' : 'those tags'} too; not deleted`,
      { hint: `another publisher tagged the same content meanwhile; name every tag of it in one call (packpub delete ${[v.ref.version, ...added].map((t) => `${v.ref.name}:${t}`).join(' ')}), or keep it` },
    );
  }
}

/**
 * Delete what the plan found, one version at a time, reading each tag back: a tag that still resolves is a
 * failure. The first failure (or `signal`) stops the run; the versions after it are `cancelled`. A plan
 * that is not ready deletes nothing (its planned versions are `cancelled`).
 */
export async function applyDelete(target: DeletableTarget, plan: DeletePlan, options: ApplyDeleteOptions = {}): Promise<DeleteReport> {
  const { store } = target;
  if (!plan.ready) return deleteReportOf(plan, (r) => (r.status === 'planned' ? cancelled(r, 'another version cannot be deleted (see its error)') : r));
  const done = (v: PlannedVersion, result: DeleteResult) => {
    v.result = result;
    options.onResult?.(result);
  };
  /** Tags removed so far, per repository: they no longer keep a manifest. */
  const gone = new Map<string, Set<string>>();
  const named = new Set(plan.versions.map((v) => `${v.repository}:${v.ref.version}`));
  let stopped = false;
  for (const v of plan.versions) {
    const r = v.result;
    if (r.status !== 'planned' || r.digest === undefined) continue;
    if (stopped || options.signal?.aborted === true) {
      done(v, cancelled(r, stopped ? 'an earlier version failed, so this one was not tried' : 'interrupted before this version was tried'));
      continue;
    }
    const removed = gone.get(v.repository) ?? new Set<string>();
    // Tags that still point at the manifest now. A manifest-scope store removes the ones named in this call
    // with the manifest (the first of them deletes it, the others find their tag gone already).
    const present = (r.otherTags ?? []).filter((t) => !removed.has(t));
    const manifestScope = store.deleteScope === 'manifest';
    const otherTags = manifestScope ? present.filter((t) => !named.has(`${v.repository}:${t}`)) : present;
    const already = manifestScope && (r.otherTags ?? []).some((t) => removed.has(t));
    try {
      if (!already && manifestScope) await recheckBeforeManifestDelete(target, v, r.digest, named, removed);
      // An answer saying both "done" and "error" (a success status with an error body) leaves it to the read-back.
      const said = already ? undefined : await store.deleteTag({ repository: v.repository, tag: v.ref.version, digest: r.digest, otherTags }).catch(successWithError);
      // Read back as inspect reads it (GET): a HEAD answered from a cache or a proxy may say gone while it is not.
      if ((await manifestDigestOf(target, v.repository, v.ref.version)) !== undefined) {
        if (said !== undefined) throw said;
        throw new PackpubError('REGISTRY', `${r.reference} still resolves after it was deleted`, {
          hint: 'the registry may cache manifests or replicate with a delay; check with packpub inspect and run delete again',
        });
      }
      removed.add(v.ref.version);
      gone.set(v.repository, removed);
      const { plan: _plan, ...rest } = r;
      // Untagged: the tags it stays under now, not those this run removed before it (the plan saw them). A manifest
      // deleted keeps the tags seen then, which went with it.
      done(v, manifestScope ? { ...rest, status: 'deleted' } : { ...rest, otherTags: present, status: present.length === 0 ? 'deleted' : 'untagged' });
    } catch (err) {
      done(v, { ...r, status: 'failed', error: errorOf(err) });
      stopped = true;
    }
  }
  return deleteReportOf(plan);
}

/** The error of a delete answered with a success status and an error body (kept for the read-back); any other is thrown. */
function successWithError(err: unknown): PackpubError {
  if (isRegistryError(err) && err.status !== undefined && err.status >= 200 && err.status < 300) return err;
  throw err;
}

/**
 * A delete abandoned after an interrupt, as a report: versions done as they were; the one being deleted (versions go
 * one at a time, in order: the first still planned) `failed` ABORTED, perhaps deleted (its DELETE may have reached
 * the registry); the ones after it cancelled, as a run stopped in time says.
 */
export function abandonedDeleteReport(plan: DeletePlan): DeleteReport {
  let inFlight = true;
  return deleteReportOf(plan, (r) => {
    if (r.status !== 'planned') return r;
    if (inFlight && r.digest !== undefined) {
      inFlight = false;
      return { ...r, status: 'failed', error: { code: 'ABORTED', message: 'abandoned while being deleted: perhaps deleted', hint: 'see what is left with packpub inspect; run delete again with --ignore-missing to finish' } };
    }
    return cancelled(r, 'interrupted before this version was tried');
  });
}

/**
 * A delete interrupted before its plan was made (its registry probed, the versions looked up): every version named
 * `cancelled`, none tried. `target.reference`: a version's full reference, as its store writes it (it may not be open yet).
 */
export function unplannedDeleteReport(
  target: { display: string; basePath: string; reference: (repository: string, version: string) => string },
  refs: readonly PackRef[],
  options: { ignoreMissing: boolean; started: number },
): DeleteReport {
  const versions = checkRefs(refs).map((ref): PlannedVersion => {
    const repository = packRepository(target.basePath, ref.name);
    const result: DeleteResult = { name: ref.name, version: ref.version, reference: target.reference(repository, ref.version), status: 'planned' };
    return { ref, repository, result: cancelled(result, 'interrupted before this version was tried') };
  });
  return deleteReportOf({ target: target.display, ignoreMissing: options.ignoreMissing, started: options.started, versions, ready: false });
}

/** A planned version that is not deleted after all (another failed, or the user said no). */
export function cancelled(r: DeleteResult, message: string): DeleteResult {
  return { ...r, status: 'cancelled', error: { code: 'CANCELLED', message } };
}

/** The report of a plan as it stands (a dry run, a declined confirmation) or after applyDelete. */
export function deleteReportOf(plan: DeletePlan, map: (r: DeleteResult) => DeleteResult = (r) => r, dryRun = false): DeleteReport {
  const results = plan.versions.map((v) => map(v.result));
  const summary: DeleteSummary = { total: results.length, deleted: 0, untagged: 0, planned: 0, missing: 0, refused: 0, failed: 0, cancelled: 0 };
  for (const r of results) summary[r.status]++;
  return { target: plan.target, dryRun, ignoreMissing: plan.ignoreMissing, results, summary, durationMs: Date.now() - plan.started };
}

