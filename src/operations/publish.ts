import { Readable, Transform } from 'node:stream';
import { PackpubError, errorMessage, isPackpubError } from '../errors.js';
import { localWriteError } from '../util/fs.js';
import { usableCpus } from '../util/cores.js';
import { sha256Digest, type Digest } from '../oci/digest.js';
import { EMPTY_CONFIG, EMPTY_CONFIG_BYTES, emptyArtifactManifest, serializeManifest, type Descriptor } from '../oci/manifest.js';
import { MEDIA_TYPE_OCI_MANIFEST } from '../oci/media-types.js';
import { isRegistryError } from '../registry/errors.js';
import { backoffDelayMs, currentRetryClock } from '../registry/retry.js';
import type { PushManifestOptions, StoreWarning, WritableStore } from '../targets/artifact-store.js';

/*
 * The publishing steps push and copy share: blobs before manifests, the base repository Palette expects,
 * how many at once, and how a failure is reported.
 */

/** Packs (or versions) in flight: four per usable core (usableCpus: within a container's CPU quota; 4 to 16), since each alternates between I/O, compression and round trips. */
export function defaultConcurrency(): number {
  return Math.max(4, Math.min(16, 4 * usableCpus()));
}

/**
 * A library caller's `concurrency` (pushPacks, copyPacks), else the default. Anything but a whole number of 1 or more
 * is refused before any work: NaN hung a push for good and crashed a copy with a TypeError, 0 and -1 meant 1.
 */
export function runConcurrency(operation: string, given: number | undefined): number {
  if (given === undefined) return defaultConcurrency();
  if (!Number.isSafeInteger(given) || given < 1) throw new PackpubError('USAGE', `${operation}: concurrency must be a whole number of 1 or more, not ${String(given)}`);
  return given;
}

/** The fixed creation time of the base repository's empty artifact, so its digest is the same every run. */
const BASE_ARTIFACT_CREATED = new Date('2000-01-01T00:00:00Z');

/**
 * A dry run's look at the repositories the real run would prepare (checkRepository, reading only): the base
 * repository `base`, then the pack's `repo`. The refusal prepareRepository would throw (CONFLICT: an existing
 * ECR repository's weaker encryption or other KMS key), or undefined. Any other error is thrown, as the real
 * run would fail with it (a missing Harbor project; an ECR repository missing with --no-create-repositories).
 */
export async function plannedRefusal(store: Pick<WritableStore, 'checkRepository'>, base: string, repo: string): Promise<PackpubError | undefined> {
  await store.checkRepository?.(base, { marker: true });
  try {
    await store.checkRepository?.(repo);
    return undefined;
  } catch (err) {
    if (isPackpubError(err) && err.code === 'CONFLICT') return err;
    throw err;
  }
}

/**
 * That refusal as a planned conflict shows it (a planned result carries no error, and a planned conflict
 * does not fail the dry run): the result's first warning.
 */
export function refusalWarning(refused: PackpubError): StoreWarning {
  return { message: `a real run would refuse this pack (${refused.code}, exit 1): ${refused.message}`, ...(refused.hint === undefined ? {} : { hint: refused.hint }) };
}

/** The hint of a conflict: why replacing a published version is dangerous, and the ways out. */
export function paletteCacheNote(verb: 'Publish' | 'Copy'): string {
  return `Palette caches pack digests: replacing a published version can break clusters that use it. ${verb} a new version instead, or pass --force to replace it (--skip-existing to keep it)`;
}

/** A failure as a report holds it: code, message, hint. */
export function errorInfo(thrown: unknown): { code: string; message: string; hint?: string } {
  const err = localWriteError(thrown);
  if (isPackpubError(err)) return { code: err.code, message: err.message, ...(err.hint === undefined ? {} : { hint: err.hint }) };
  return { code: 'INTERNAL', message: errorMessage(err) };
}

/** Counts bytes as they stream, for progress events: `onBytes` gets each chunk's length. */
export function counting(onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      onBytes(chunk.length);
      cb(null, chunk);
    },
  });
}

/**
 * Blobs up to this size that are known to be new are uploaded without asking the registry first: the
 * question costs a round trip, about what sending a few hundred KiB costs, and the answer is nearly always no.
 */
export const ASK_FIRST_BYTES = 1024 * 1024;

/**
 * Stores that are always asked first: the OCI layout (asking is a stat), and ECR, whose layer API refuses a
 * layer it already holds (LayerAlreadyExistsException) and whose registry API is not documented to take a
 * second upload, so a run resuming an interrupted one could fail there on every retry.
 */
const ALWAYS_ASK: ReadonlySet<WritableStore['kind']> = new Set(['oci-layout', 'ecr']);

/** Whether blobs may be mounted from another repository of `store` (see ensureBlob `mountFrom`). */
export function mountsBlobs(store: Pick<WritableStore, 'kind'>): boolean {
  return !ALWAYS_ASK.has(store.kind);
}

/**
 * Upload a blob unless the store has it; returns the bytes sent (at most: a mount that the registry takes
 * sends nothing, and is not told apart from the upload it may turn into). Push's report counts only the
 * pack archive's return (`uploadedBytes`), never the 2-byte `{}` config's, mounted or uploaded. `likelyNew`: the caller knows the
 * blob is new content (a version the target does not hold yet), so one under ASK_FIRST_BYTES is sent without
 * asking; a distribution-spec registry that has it after all (an interrupted earlier run) takes the same
 * bytes again. `mountFrom`: a repository of the same registry known to hold the blob; it is mounted from
 * there without asking first (one request: the mount, or the upload it turns into), except on the stores
 * that are always asked (mountsBlobs).
 */
export async function ensureBlob(
  store: WritableStore,
  repo: string,
  descriptor: Descriptor,
  open: () => Readable,
  likelyNew = false,
  mountFrom?: string,
): Promise<number> {
  if (mountFrom !== undefined && mountFrom !== repo && mountsBlobs(store)) {
    await store.pushBlob(repo, descriptor, open, { mountFrom });
    return descriptor.size;
  }
  const ask = !likelyNew || descriptor.size > ASK_FIRST_BYTES || ALWAYS_ASK.has(store.kind);
  if (ask && (await store.hasBlob(repo, descriptor.digest, descriptor.size))) {
    sparedOnItsWord(store, repo, descriptor, open);
    return 0;
  }
  await store.pushBlob(repo, descriptor, open);
  return descriptor.size;
}

/** A blob not sent because the store said it holds it, and how to send it after all. */
interface SparedBlob {
  descriptor: Descriptor;
  open: () => Readable;
  /** Its check (read, and sent when not served): the bytes sent. Once, for the manifests of every version that name it. */
  checked?: Promise<number>;
}

/** The blobs of each store not sent on its word (sparedOnItsWord), by `<repository>\0<digest>`, until a manifest naming them is taken. */
const spared = new WeakMap<object, Map<string, SparedBlob>>();

/**
 * Remember that the blob `descriptor` of `repo` was not sent because `store` said it holds it (a HEAD answered 200),
 * for pushManifestOwed: a cache or proxy in front of a registry can say so of a blob the registry does not hold.
 * Not for the OCI layout, whose answer is a look at the file itself.
 */
export function sparedOnItsWord(store: Pick<WritableStore, 'kind'>, repo: string, descriptor: Descriptor, open: () => Readable): void {
  if (store.kind === 'oci-layout') return;
  let blobs = spared.get(store);
  if (blobs === undefined) spared.set(store, (blobs = new Map()));
  blobs.set(`${repo}\0${descriptor.digest}`, { descriptor, open });
}

/** The blobs of `repo` the manifest `bytes` names that were not sent on the store's word (sparedOnItsWord). */
function sparedFor(store: object, repo: string, bytes: Buffer): Array<[string, SparedBlob]> {
  const blobs = spared.get(store);
  if (blobs === undefined) return [];
  const text = bytes.toString('utf8');
  return [...blobs].filter(([key, blob]) => key.startsWith(`${repo}\0`) && text.includes(blob.descriptor.digest));
}

/**
 * `store.pushManifest`, after sending the blobs this run left out on the store's word (sparedOnItsWord: a HEAD answered
 * 200, which a cache or proxy in front of a registry can say of a blob the registry lost or never had) that the
 * store does not serve after all. When the registry refuses the manifest all the same as naming a blob it does not
 * hold (MANIFEST_BLOB_UNKNOWN: a cache that serves it too), those blobs are sent and the manifest once more. Before,
 * the pack failed on every run ("answered 400 MANIFEST_BLOB_UNKNOWN"), each run asking the same HEAD. A refusal that
 * lasts (or names only blobs that were sent: a lagging replica) is sent again after pauses (BLOB_LAG_REPUTS). The
 * digest written, and the bytes sent for it besides.
 */
export async function pushManifestOwed(
  store: WritableStore,
  repo: string,
  reference: string,
  bytes: Buffer,
  mediaType: string,
  options?: PushManifestOptions,
): Promise<{ digest: Digest; resentBytes: number }> {
  const put = () => (options === undefined ? store.pushManifest(repo, reference, bytes, mediaType) : store.pushManifest(repo, reference, bytes, mediaType, options));
  let resentBytes = 0;
  const send = async (key: string, blob: SparedBlob) => {
    await store.pushBlob(repo, blob.descriptor, blob.open);
    spared.get(store)?.delete(key);
    resentBytes += blob.descriptor.size;
  };
  // A registry may take a manifest naming blobs it lacks (distribution-spec: it MAY refuse it): each blob left out on a
  // HEAD's word is read (its first byte) before the manifest names it. Before, such a registry was left with a tag over
  // a missing blob, exit 0, and the read-back (the manifest) saw nothing wrong. One request per blob a HEAD said was
  // there already (a run after an interrupted one; the config of a repository copied into: once per repository and
  // run, the versions written together waiting for the one check), none on push's usual path.
  const servesBlob = store.servesBlob;
  if (servesBlob !== undefined) {
    for (const [key, blob] of sparedFor(store, repo, bytes)) {
      const first = blob.checked === undefined;
      blob.checked ??= (async () => {
        if (await servesBlob.call(store, repo, blob.descriptor.digest)) return 0;
        await store.pushBlob(repo, blob.descriptor, blob.open);
        spared.get(store)?.delete(key);
        return blob.descriptor.size;
      })().catch((err: unknown) => {
        blob.checked = undefined; // a later version checks again
        throw err;
      });
      const sent = await blob.checked;
      if (first) resentBytes += sent;
    }
  }
  let owed: Array<[string, SparedBlob]>;
  try {
    const digest = await put();
    for (const [key] of sparedFor(store, repo, bytes)) spared.get(store)?.delete(key);
    return { digest, resentBytes };
  } catch (err) {
    if (!blobUnknown(err)) throw err;
    owed = sparedFor(store, repo, bytes);
    for (const [key, blob] of owed) await send(key, blob);
  }
  // Sent again, the manifest goes at once; every blob it names was sent (in this run or an earlier one), the refusal
  // may be a replica that has not caught up with an upload it took (a registry's nodes behind a load balancer, each
  // with a cache of its own): asked again after the retry backoff's pauses (about 0.25, 0.5 and 1 s), as the read-back
  // waits for a lagging tag. Before, such a push failed where a re-run a second later passed.
  const clock = currentRetryClock();
  let refused: unknown;
  for (let again = 0; again < BLOB_LAG_REPUTS; again++) {
    if (again > 0 || owed.length === 0) await clock.sleep(backoffDelayMs(again, () => clock.random()));
    try {
      return { digest: await put(), resentBytes };
    } catch (err) {
      if (!blobUnknown(err)) throw err;
      refused = err;
    }
  }
  if (owed.length === 0) throw refused;
  throw new PackpubError('REGISTRY', `${store.location} refused the manifest of ${store.reference(repo, reference)} as naming a blob it does not hold, after saying it held it and being sent it again`, {
    hint: 'the registry, or a cache or proxy in front of it, answers for blobs it does not keep; bypass the cache or proxy, and report it to the registry owner',
    cause: refused,
  });
}

/** How many times pushManifestOwed sends a manifest again that the registry refused as naming a blob it lacks. */
const BLOB_LAG_REPUTS = 3;

function blobUnknown(err: unknown): boolean {
  return isRegistryError(err) && err.ociCode === 'MANIFEST_BLOB_UNKNOWN';
}

/**
 * Make sure `<base>/spectro-packs/archive` exists, as the Palette docs do with `oras push` of an empty
 * artifact (Harbor shows the namespace; ECR needs the repository). Pushed untagged, by digest.
 */
export async function ensureBaseRepository(store: WritableStore, repo: string): Promise<void> {
  await store.prepareRepository(repo, { marker: true });
  const bytes = serializeManifest(emptyArtifactManifest(BASE_ARTIFACT_CREATED));
  const digest = sha256Digest(bytes);
  if ((await store.headManifest(repo, digest)) !== undefined) return;
  await ensureBlob(store, repo, EMPTY_CONFIG, () => Readable.from([EMPTY_CONFIG_BYTES]));
  await pushManifestOwed(store, repo, digest, bytes, MEDIA_TYPE_OCI_MANIFEST);
}
