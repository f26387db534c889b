import { PackpubError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { RETRY_DEFAULTS, backoffDelayMs, currentRetryClock } from '../registry/retry.js';
import type { ArtifactStore } from '../targets/artifact-store.js';

/*
 * The read-back of push, tag and copy: after a registry accepted a manifest under a tag, the tag is read again,
 * so a registry (or a proxy in front of it) that answers 201 without keeping the manifest, or a publisher
 * writing right after, never ends in "published", "tagged" or "copied".
 */

/**
 * What `tag` of `repository` holds now: its digest, or null for nothing. Read with GET, the bytes hashed: a
 * HEAD answered by a cache can call a tag absent, or name a digest it does not serve. A pack manifest is under
 * 1 KiB, and an absent tag is a 404 either way.
 */
export async function tagHolds(store: Pick<ArtifactStore, 'getManifest'>, repository: string, tag: string): Promise<Digest | null> {
  return (await store.getManifest(repository, tag))?.descriptor.digest ?? null;
}

/**
 * How many times a read-back that does not find what the run wrote reads the tag again, each after a pause (the
 * retry backoff: about 0.25, 0.5 and 1 s by default): a registry whose replicas or cache lag behind a write it
 * accepted (a load balancer in front of several, a pull-through cache) serves nothing, or what the tag held
 * before, for a moment.
 */
export const READ_BACK_REREADS = 3;

/**
 * What `tag` holds right after this run wrote it (tagHolds): read again after a pause, up to READ_BACK_REREADS
 * times, while `stale(held)` says it may be a replica that has not caught up: nothing, or what the tag held
 * before the write. A lagging replica made push, tag and copy say "accepted the manifest without keeping it",
 * exit 1, for a write that was kept; a tag that really holds nothing, or still the old manifest, is told so after
 * the pauses. Another digest (a publisher right after) is told at once. `delayMs`: --retry-delay. Not cut short by
 * an interrupt: the write was carried out, and what it left is worth saying (the pauses add up to about 1.75 s).
 */
export async function tagHoldsAfterWrite(
  store: Pick<ArtifactStore, 'getManifest'>,
  repository: string,
  tag: string,
  stale: (held: Digest | null) => boolean,
  options: { delayMs?: number | undefined } = {},
): Promise<Digest | null> {
  let held = await tagHolds(store, repository, tag);
  const clock = currentRetryClock();
  for (let retry = 0; retry < READ_BACK_REREADS && stale(held); retry++) {
    await clock.sleep(backoffDelayMs(retry, () => clock.random(), options.delayMs ?? RETRY_DEFAULTS.initialDelayMs));
    held = await tagHolds(store, repository, tag);
  }
  return held;
}

/** How an operation words a read-back that did not find what it wrote. */
export interface ReadBackWords {
  /** When it was read: "after the write was accepted", "at the end of this run". */
  when: string;
  /** The hint when the tag holds nothing: accepted and not kept. */
  nothing: string;
  /** When it holds another digest: the hint (a CONFLICT worded as for nothing), or the operation's own error. */
  other: string | ((held: Digest) => PackpubError);
}

/**
 * Why `reference` holding `held` (not `digest`, the digest this run wrote there) fails: REGISTRY when it holds
 * nothing, or still `before` (what it held before this run's --force write); CONFLICT (or `words.other`'s error)
 * when it holds another digest.
 */
export function readBackError(reference: string, digest: Digest, held: Digest | null, words: ReadBackWords, before?: Digest | null): PackpubError {
  // What it held before this write (a --force move or overwrite): the write was accepted and not kept, no publisher moved it.
  if (held !== null && held === before) {
    return new PackpubError('REGISTRY', `${reference} still holds ${held} ${words.when} (this run wrote ${digest})`, { hint: words.nothing });
  }
  if (held !== null && typeof words.other !== 'string') return words.other(held);
  return new PackpubError(held === null ? 'REGISTRY' : 'CONFLICT', `${reference} does not hold ${digest} ${words.when} (it holds ${held ?? 'nothing'})`, {
    hint: held === null || typeof words.other !== 'string' ? words.nothing : words.other,
  });
}
