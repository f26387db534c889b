import type { Readable } from 'node:stream';
import { isPackpubError } from '../errors.js';
import { isDigest, type Digest } from '../oci/digest.js';
import { EMPTY_CONFIG, type Descriptor, type FetchedManifest } from '../oci/manifest.js';
import { ANNOTATION_TITLE, MEDIA_TYPE_LAYER_TAR, MEDIA_TYPE_OCI_MANIFEST } from '../oci/media-types.js';
import type { NextChunk } from '../pack/chart-archive.js';
import type { ArtifactStore } from '../targets/artifact-store.js';

/*
 * A version held with this very pack compressed by another zlib (README, Reproducibility): Node's own zlib hashes by
 * the processor (CRC32C or Rabin-Karp), a Node linked to the system's zlib compresses as plain zlib, so the same tar
 * gives other gzip bytes, another layer digest, on another machine. push then reads the held layer and compares what
 * it inflates to with this build's tar, byte for byte: the same tar is the same pack (Palette unpacks the layer), and
 * the version stays as it is ('unchanged', its digest the held one), instead of "already holds different content".
 *
 * Only a manifest this build would write but for its layer's digest and size (heldShapeDiffers) is compared; its
 * manifest annotations are not, as they are not when the layer digests are equal (the created time differs from run
 * to run unless SOURCE_DATE_EPOCH is set; an unchanged version keeps the manifest it has).
 */

/**
 * The largest held layer read, relative to this build's compressed size: twice it and 64 KiB. zlib at any level from
 * 1 to 9, memLevel 1 too, packed the corpus's packs into 0.95 to 1.54 times the bytes packpub's level 6 gives; another
 * build of zlib at the same level, within a few percent. A larger layer is not read (a conflict, as before).
 */
export function heldLayerCap(compressedSize: number): number {
  return 2 * compressedSize + 64 * 1024;
}

/** This build's layer, as the comparison needs it. */
export interface OurLayer {
  /** The layer title this build writes (`<name>-<version>.tar.gz`). */
  title: string;
  digest: Digest;
  /** Bytes of the .tar.gz. */
  size: number;
  /** Bytes of the tar before compression. */
  tarSize: number;
  /** A fresh stream of this build's .tar.gz; undefined when this run did not build it (the cache knew its digest). */
  open: (() => Readable) | undefined;
  /** Whether a layer is known to hold this build's tar (an earlier run compared it: ArchiveCache `held`): not read again. */
  known?: (layer: Digest) => boolean;
}

/**
 * What the held layer comes to:
 * - `same`: it inflates to exactly this build's tar (`known`: an earlier run's comparison said so, it was not read);
 * - not `same`, no `why`: another manifest shape, or a layer holding another tar (the conflict as before);
 * - not `same` with `why`: the layer could not be compared, said as a phrase that follows the held layer's digest in
 *   the conflict message (`, which ...`).
 */
export type HeldVerdict = { same: true; layer: Descriptor; known?: true } | { same: false; why?: string };

/**
 * Why the held manifest is not what this build would write but for its layer's digest and size; undefined when it is:
 * an OCI image manifest (schemaVersion 2) with ORAS's `{}` config, one layer of packpub's media type titled `title`,
 * nothing else (no subject, no artifactType, no other layer annotation). Manifest annotations are not compared.
 */
export function heldShapeDiffers(bytes: Buffer, title: string): string | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    return 'not JSON';
  }
  if (!isObject(doc)) return 'not an object';
  const extra = Object.keys(doc).find((k) => !MANIFEST_KEYS.has(k));
  if (extra !== undefined) return `it has ${extra}`;
  if (doc['schemaVersion'] !== 2 || doc['mediaType'] !== MEDIA_TYPE_OCI_MANIFEST) return 'another manifest type';
  const config = doc['config'];
  if (!isObject(config) || !sameFields(config, { mediaType: EMPTY_CONFIG.mediaType, digest: EMPTY_CONFIG.digest, size: EMPTY_CONFIG.size })) return 'another config';
  const layers = doc['layers'];
  if (!Array.isArray(layers) || layers.length !== 1) return 'not one layer';
  const layer: unknown = layers[0];
  if (!isObject(layer) || layer['mediaType'] !== MEDIA_TYPE_LAYER_TAR || Object.keys(layer).some((k) => !LAYER_KEYS.has(k))) return 'another layer type';
  const annotations = layer['annotations'];
  if (!isObject(annotations) || !sameFields(annotations, { [ANNOTATION_TITLE]: title })) return 'another layer title';
  return undefined;
}

const MANIFEST_KEYS: ReadonlySet<string> = new Set(['schemaVersion', 'mediaType', 'config', 'layers', 'annotations']);
const LAYER_KEYS: ReadonlySet<string> = new Set(['mediaType', 'digest', 'size', 'annotations']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether `value` has exactly the fields of `want`, with the same values. */
function sameFields(value: Record<string, unknown>, want: Record<string, unknown>): boolean {
  const keys = Object.keys(value);
  return keys.length === Object.keys(want).length && keys.every((k) => Object.hasOwn(want, k) && value[k] === want[k]);
}

/** The held layer inflated to more bytes than this build's tar (gunzipChunks' count hook throws it). */
class LongerThanOurs extends Error {}

/**
 * Whether the layer of `held` (a manifest whose layer digest is not `ours.digest`) holds this build's tar. The layer is
 * read through the store's verifying fetch (its digest checked at its end; the comparison ends there, not before) and
 * inflated as Go's gzip reader reads it (member after member, each trailer checked); it is never inflated past the
 * size of this build's tar, and the read stops at the first byte that differs.
 * Throws what the read met that says nothing of the content (a network failure after the retries, a refusal, bytes
 * that do not hash to the digest, the run stopped): the caller decides what a version that could not be compared is.
 */
export async function judgeHeldLayer(store: Pick<ArtifactStore, 'fetchBlob'>, repo: string, held: FetchedManifest, ours: OurLayer, signal?: AbortSignal): Promise<HeldVerdict> {
  if (heldShapeDiffers(held.bytes, ours.title) !== undefined) return { same: false };
  const layer = layerOf(held.bytes);
  if (layer !== undefined && ours.known?.(layer.digest) === true) return { same: true, layer, known: true };
  if (layer === undefined || layer.digest === ours.digest || ours.open === undefined) return { same: false };
  const cap = heldLayerCap(ours.size);
  if (layer.size > cap) return { same: false, why: `, which is ${layer.size} bytes, more than twice this build's ${ours.size}: not read to compare` };
  let source: Readable;
  try {
    source = await store.fetchBlob(repo, layer, signal);
  } catch (err) {
    if (isPackpubError(err, 'NOT_FOUND')) return { same: false, why: `, which the store does not serve (${err.message})` };
    throw err;
  }
  // The gzip reader is loaded here, on the first version that needs it: an unchanged re-run never does (bundle.test).
  const { ArchiveDataError, ByteReader, gunzipChunks } = await import('../pack/chart-archive.js');
  const mine = ours.open();
  let inflated = 0;
  const theirs = gunzipChunks(new ByteReader(chunksOf(source)), (bytes) => {
    inflated += bytes;
    if (inflated > ours.tarSize) throw new LongerThanOurs();
  });
  const own = gunzipChunks(new ByteReader(chunksOf(mine)), () => undefined);
  try {
    return (await sameBytes(own.next, theirs.next)) ? { same: true, layer } : { same: false };
  } catch (err) {
    if (err instanceof LongerThanOurs) return { same: false };
    if (err instanceof ArchiveDataError) return { same: false, why: `, which is not valid gzip (${err.message})` };
    throw err;
  } finally {
    theirs.close();
    own.close();
    source.destroy();
    mine.destroy();
  }
}

/** The one layer of a manifest heldShapeDiffers passed. */
function layerOf(bytes: Buffer): Descriptor | undefined {
  const doc = JSON.parse(bytes.toString('utf8')) as { layers: Descriptor[] };
  const layer = doc.layers[0];
  return layer !== undefined && typeof layer.digest === 'string' && isDigest(layer.digest) && Number.isSafeInteger(layer.size) && layer.size >= 0 ? layer : undefined;
}

/** A readable's chunks, one at a time (its errors thrown from the call that meets them). */
function chunksOf(source: Readable): NextChunk {
  const it = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  return async () => {
    const { done, value } = await it.next();
    return done === true ? undefined : value;
  };
}

/**
 * Whether two sources of chunks give the same bytes, read side by side: false at the first byte that differs or when
 * one ends before the other. `theirs` is read to its end (its errors thrown) before the answer is true.
 */
async function sameBytes(ours: NextChunk, theirs: NextChunk): Promise<boolean> {
  let a: Buffer | undefined = Buffer.alloc(0);
  let b: Buffer | undefined = Buffer.alloc(0);
  for (;;) {
    if (a !== undefined && a.length === 0) a = await ours();
    if (b !== undefined && b.length === 0) b = await theirs();
    if (a === undefined || b === undefined) return a === undefined && b === undefined;
    if (a.length === 0 || b.length === 0) continue;
    const n = Math.min(a.length, b.length);
    if (!a.subarray(0, n).equals(b.subarray(0, n))) return false;
    a = a.subarray(n);
    b = b.subarray(n);
  }
}
