import { PackpubError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { validateTag, type PackRef } from '../oci/reference.js';
import type { PackTarget } from '../targets/open.js';
import { pushManifestOwed } from './publish.js';
import { readBackError, tagHolds, tagHoldsAfterWrite } from './read-back.js';
import { resolvePack } from './resolve-pack.js';
import { isVersionTag, otherVersionRefusal, otherVersionTags } from './version-tags.js';

export interface TagOptions {
  /** Move a tag that already points at another digest (Palette caches digests: avoid). */
  force?: boolean;
  /** Put a tag that reads as a version other than the pack's (Palette lists it as that version). */
  allowOtherVersion?: boolean;
  /** Once aborted, no further tag is written (the run ends ABORTED, saying which tags were). */
  signal?: AbortSignal;
  /** Each tag as soon as it is done, so an interrupted run has said which tags were written. */
  onTag?: (outcome: TagOutcome, reference: string, digest: Digest) => void;
}

export interface TagOutcome {
  tag: string;
  /** `tagged`: new tag; `already`: it held this digest already (nothing written); `moved`: --force moved it from `previous`. */
  status: 'tagged' | 'already' | 'moved';
  previous?: Digest;
}

export interface TagResult {
  reference: string;
  digest: Digest;
  tags: TagOutcome[];
}

/**
 * Put more tags on a published pack version: the same manifest bytes under each new tag. A tag that
 * already names another digest is refused before anything is written (unless `force`); one that already
 * names this digest is left alone.
 */
export async function tagPack(target: PackTarget, ref: PackRef, given: string[], options: TagOptions = {}): Promise<TagResult> {
  for (const tag of given) validateTag(tag);
  // A tag given twice is one tag: written once, said once (was: written twice, "tagged as stable" twice).
  const tags = [...new Set(given)];
  const resolved = await resolvePack(target, ref);
  const { repository } = resolved;
  const digest = resolved.fetched.descriptor.digest;
  const store = target.store;
  // A tag that reads as a version: compared with the version pack.json names (the archive is read, as pull reads
  // it, only then: a parent tag or a label needs no read).
  const versionLike = tags.filter((tag) => tag !== ref.version && isVersionTag(tag));
  if (versionLike.length > 0 && options.allowOtherVersion !== true) {
    const { readPackJson } = await import('./inspect.js');
    const { packJson } = await readPackJson(target, resolved, ref);
    const version = typeof packJson['version'] === 'string' ? packJson['version'] : '';
    const other = otherVersionTags(versionLike, version);
    if (other.length > 0) throw otherVersionRefusal(resolved.reference, version, other, '--allow-other-version');
  }
  // What each tag holds is read (GET, the bytes hashed), as delete reads what it deletes: a HEAD answered by a
  // cache could call a tag absent (written over without --force) or holding this digest (exit 0, nothing written).
  const holds = (tag: string) => tagHolds(store, repository, tag);
  const current = await Promise.all(tags.map(holds));
  const taken = tags.flatMap((tag, i) => (current[i] !== null && current[i] !== digest ? [`${tag} (${current[i]})`] : []));
  if (taken.length > 0 && options.force !== true) {
    throw new PackpubError('CONFLICT', `${store.reference(repository)}: ${taken.join(', ')} already tag${taken.length === 1 ? 's' : ''} other content; ${resolved.reference} is ${digest}`, {
      hint: 'Palette caches pack digests: moving a tag that clusters use can break them. Nothing was changed; choose another tag, or pass --force to move it',
    });
  }
  // --force where the store would still refuse to move a tag (an immutable ECR repository, a Harbor immutable tag rule):
  // asked before any tag is written, as push and copy ask. The tags before it were written, then it was refused (exit 1,
  // tagged in part).
  if (options.force === true && store.refusesReplacing !== undefined) {
    for (const [i, tag] of tags.entries()) {
      const held = current[i];
      if (held === null || held === undefined || held === digest) continue;
      const refused = await store.refusesReplacing(repository, tag, held);
      if (refused !== undefined) throw refused;
    }
  }
  const outcomes: TagOutcome[] = [];
  const done = (outcome: TagOutcome) => {
    outcomes.push(outcome);
    options.onTag?.(outcome, resolved.reference, digest);
  };
  for (const [i, tag] of tags.entries()) {
    if (options.signal?.aborted === true) {
      throw new PackpubError('ABORTED', `interrupted before tag ${tag}: ${outcomes.length === 0 ? 'no tag was written' : `only ${outcomes.map((o) => o.tag).join(', ')} ${outcomes.length === 1 ? 'holds' : 'hold'} ${resolved.reference}`}; ${tags.slice(i).join(', ')} not written`, {
        hint: 'run tag again: tags already written answer "already tagged"',
      });
    }
    const previous = current[i] ?? null;
    if (previous === digest) {
      done({ tag, status: 'already' });
      continue;
    }
    // Registries offer no compare-and-swap: look again right before the write (the OCI layout also checks
    // `ifTagHolds` under its lock), so a tag another publisher set meanwhile is not moved without --force.
    const now = await holds(tag);
    if (now !== previous && now !== digest && options.force !== true) {
      throw new PackpubError('CONFLICT', `${store.reference(repository, tag)} was set to ${now ?? 'nothing'} by another publisher during this run; ${resolved.reference} is ${digest}`, {
        hint: `tags before ${tag} were written; check what it holds (packpub inspect), then tag again (--force moves it)`,
      });
    }
    // As push's: a refusal naming a blob (a replica that has not caught up with the version's push) is sent again after pauses.
    await pushManifestOwed(store, repository, tag, resolved.fetched.bytes, resolved.fetched.descriptor.mediaType, { ifTagHolds: options.force === true ? now : previous });
    // Read back (read-back.ts): a write accepted and not kept, or a publisher right after, is not "tagged".
    const after = await tagHoldsAfterWrite(store, repository, tag, (held) => held !== digest && (held === null || held === now));
    if (after !== digest) {
      throw readBackError(store.reference(repository, tag), digest, after, {
        when: 'after the write was accepted',
        nothing: `tags before ${tag} were written; the registry or a proxy in front of it accepted the manifest without keeping it: tag again, and report it to its owner if it persists`,
        other: `tags before ${tag} were written; another publisher moved it right after: check what it holds (packpub inspect)`,
      }, now);
    }
    done(previous === null ? { tag, status: 'tagged' } : { tag, status: 'moved', previous });
  }
  return { reference: resolved.reference, digest, tags: outcomes };
}
