import { EXTRACT_DEFAULTS, EntryKinds, entrySegments, feedLayer, hardLinkRefusal, hardLinkTarget, inflatedRefusal, refuseGlobalRecords, tarReader, GoTarView } from '../archive/extract.js';
import { PackpubError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { stringAnnotation, type Descriptor, type ImageManifest } from '../oci/manifest.js';
import type { PackRef } from '../oci/reference.js';
import { ANNOTATION_CREATED, ANNOTATION_TITLE } from '../oci/media-types.js';
import type { ReadableTarget } from '../targets/open.js';
import { archiveVerdict, judgePackJson, MAX_JSON_DEPTH, MAX_PACK_JSON_BYTES, nestsDeeper, sameManifestOn, type FoundPackJson } from './archive-pack-json.js';
import { resolvePack, type ResolvedPack } from './resolve-pack.js';

export interface InspectResult {
  reference: string;
  repository: string;
  manifest: { digest: Digest; size: number; mediaType: string; created?: string; content: ImageManifest };
  /** The pack layer's descriptor (mediaType, digest, size, annotations) and its title annotation. */
  layer: Descriptor & { title?: string };
  /** The archive's top-level folder. */
  folder?: string;
  /** pack.json read from inside the archive: the pack named (archive-pack-json.ts refuses any other). */
  packJson: Record<string, unknown>;
}

/** The file entry whose bytes a path of the archive holds (a hard link: the file it copies), and its size. */
interface FileSource {
  entry: number;
  size: number;
}

/** What inspect learnt of an archive read by pull's rules. */
interface ArchiveRead {
  tops: Set<string>;
  kinds: EntryKinds;
  /** Every file path, as pull would write it, and where its bytes come from. */
  files: Map<string, FileSource>;
  /** The bytes of the file entries that can still be pull's pack.json (and of `keep`), by entry number. */
  bytes: Map<number, Buffer>;
}

async function readEntry(entry: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of entry) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Read a layer to its end (the store verifies its digest): a failure to read it, or a digest that does not match, is thrown. */
export async function drainBlob(target: ReadableTarget, resolved: ResolvedPack, signal?: AbortSignal): Promise<void> {
  for await (const chunk of await target.store.fetchBlob(resolved.repository, resolved.layer, signal)) void chunk;
}

/**
 * Read the published archive whole (its digest verified by the store while it flows) by pull's rules, keeping
 * the bytes of the entries that can be the pack.json pull writes, and of entry number `keep`.
 */
async function readArchive(target: ReadableTarget, resolved: ResolvedPack, keep: number | undefined): Promise<ArchiveRead> {
  const blob = await target.store.fetchBlob(resolved.repository, resolved.layer);
  // Names read as Go's archive/tar reads them, V7 headers too (see archive/extract.ts).
  const extract = tarReader();
  // The store verifies the digest while the blob flows: one pass over it. The archive is inflated whole (to the
  // end of the digest check), under pull's decompression-bomb ratio: a small layer of gzipped zeros would
  // otherwise keep inspect inflating for hours. (Pull's 2 GiB size limit has a flag there; inspect writes nothing.)
  let compressed = 0;
  let inflated = 0;
  // Go's view of the same bytes (archive/extract.ts): an archive Palette reads otherwise is refused, as pull refuses it.
  const goView = new GoTarView();
  const names: string[] = [];
  const stop = new AbortController();
  const feeding = feedLayer(blob, extract, goView, {
    compressed: (chunk) => {
      compressed += chunk.length;
    },
    inflated: (bytes) => {
      inflated += bytes;
      const refusal = inflatedRefusal(compressed, inflated, { maxBytes: Infinity, maxRatio: EXTRACT_DEFAULTS.maxRatio });
      if (refusal) throw refusal;
    },
    signal: stop.signal,
  })
    .catch((err: unknown) => {
      // As a pipeline would: the blob and the parser end with the error (the loop below ends with it).
      stop.abort(err);
      blob.destroy();
      extract.destroy(err instanceof Error ? err : new Error(String(err)));
      throw err;
    })
    .finally(() => goView.end());
  // The archive is read by pull's rules (archive/extract.ts), so that inspect shows the pack.json pull writes and
  // refuses what pull refuses: names as pull places them (`hello//pack.json` is `hello/pack.json`), the last
  // entry of a name wins, a hard link copies an earlier file (whichever it is: its bytes are read again by a
  // second pass when they were not kept).
  const read: ArchiveRead = { tops: new Set(), kinds: new EntryKinds(), files: new Map(), bytes: new Map() };
  const { tops, kinds, files, bytes } = read;
  /**
   * Only the bytes of what can still be the answer are kept: pull writes the only top folder's pack.json, or with
   * more than one top entry the top's. A candidate in any other folder is not kept (each up to MAX_PACK_JSON_BYTES,
   * kept for every top folder, filled the heap: a crash on what a registry serves).
   */
  const candidates = new Set<string>();
  const candidate = (segments: readonly string[]) => segments.length <= 2 && segments[segments.length - 1] === 'pack.json' && (segments.length === 1 || tops.size === 1);
  const forget = () => {
    const needed = new Set([keep, ...[...candidates].map((key) => files.get(key)?.entry)]);
    for (const entry of bytes.keys()) if (!needed.has(entry)) bytes.delete(entry);
  };
  let count = 0;
  /** The bytes pull would write: files, and hard links as copies. */
  let written = 0;
  try {
    for await (const entry of extract) {
      const h = entry.header;
      const number = ++count;
      refuseGlobalRecords(extract);
      names.push(h.name);
      const segments = entrySegments(h, number, EXTRACT_DEFAULTS);
      const [top] = segments;
      if (top === undefined) {
        entry.resume();
        continue;
      }
      if (!tops.has(top)) {
        tops.add(top);
        // A second top entry: the first top folder's pack.json can no longer be the answer.
        if (tops.size === 2) {
          for (const key of candidates) if (key !== 'pack.json') candidates.delete(key);
          forget();
        }
      }
      const key = segments.join('/');
      const shown = JSON.stringify(h.name);
      if (h.type === 'directory') {
        kinds.addDir(segments, shown);
        entry.resume();
      } else if (h.type === 'link') {
        const linked = hardLinkTarget(h, kinds, EXTRACT_DEFAULTS).join('/');
        if (linked !== key) {
          // Pull writes a copy of the file: its ratio guard (hardLinkRefusal) counts it, so does inspect.
          written += files.get(linked)?.size ?? 0;
          const bomb = hardLinkRefusal(shown, compressed, written, EXTRACT_DEFAULTS.maxRatio);
          if (bomb !== undefined) throw bomb;
          kinds.addFile(segments, shown);
          files.set(key, files.get(linked) as FileSource);
          if (candidate(segments)) candidates.add(key);
          forget();
        }
        entry.resume();
      } else {
        kinds.addFile(segments, shown);
        const size = h.size ?? 0;
        written += size;
        files.set(key, { entry: number, size });
        if (candidate(segments)) candidates.add(key);
        if ((candidate(segments) || number === keep) && size <= MAX_PACK_JSON_BYTES) bytes.set(number, await readEntry(entry));
        else entry.resume();
        forget();
      }
    }
    await feeding;
    await goView.check(names);
  } catch (err) {
    feeding.catch(() => undefined);
    // A failure to read the blob (the registry's error, a reset, a digest that does not match): told as it is.
    if (err instanceof PackpubError && err.code !== 'UNSAFE_ARCHIVE') throw err;
    // gunzip, tar or the archive rules refused the bytes before the blob's end, where the store checks its digest:
    // other bytes than the digest names fail so too. Read the blob through once more: a digest that does not match,
    // or a read that fails, is the cause to tell; bytes that are the digest's make it a verdict on the archive.
    await drainBlob(target, resolved);
    if (err instanceof PackpubError) throw archiveVerdict(err);
    // The fix docs/errors.md gives, on the terminal too (was: no hint at all).
    throw archiveVerdict(
      new PackpubError('REGISTRY', `could not read the archive of ${resolved.reference}: ${(err as Error).message}`, {
        cause: err,
        hint: 'its bytes are the ones its digest names, but no readable .tar.gz: the published archive itself is broken; publish the version again from its pack folder (push --force)',
      }),
    );
  }
  return read;
}

/**
 * The pack.json of a resolved pack's archive as pull writes it (read by pull's rules, the digest verified) and the
 * archive's top folder pull makes the pack folder; judged as pull judges it (archive-pack-json.ts): an archive that
 * is no pack, or another pack's, is refused.
 */
export async function readPackJson(
  target: ReadableTarget,
  resolved: ResolvedPack,
  ref: PackRef,
  sameManifestAs = sameManifestOn(target, resolved),
): Promise<{ folder?: string; packJson: Record<string, unknown> }> {
  let read = await readArchive(target, resolved, undefined);
  // As pull places it: one top-level folder becomes the pack folder; otherwise the archive's top is.
  const [only] = read.tops;
  const folder = read.tops.size === 1 && only !== undefined && read.kinds.kind([only]) === 'directory' ? only : undefined;
  const packPath = folder === undefined ? ['pack.json'] : [folder, 'pack.json'];
  const source = read.kinds.kind(packPath) === 'file' ? read.files.get(packPath.join('/')) : undefined;
  let found: FoundPackJson;
  if (source !== undefined && source.size > MAX_PACK_JSON_BYTES) found = { size: source.size };
  else if (source !== undefined) {
    // A hard link to a file whose bytes were not kept (any file of the archive): read the archive once more for them.
    if (!read.bytes.has(source.entry)) read = await readArchive(target, resolved, source.entry);
    found = { bytes: read.bytes.get(source.entry) ?? Buffer.alloc(0) };
  }
  const packJson = await judgePackJson(resolved.reference, ref, folder, found, sameManifestAs);
  return { ...(folder === undefined ? {} : { folder }), packJson };
}

/** Manifest, digest, layer and the pack.json read from inside the published archive (digest verified). */
export async function inspectPack(target: ReadableTarget, ref: PackRef): Promise<InspectResult> {
  const resolved = await resolvePack(target, ref);
  // The manifest is shown whole (--json): one nested deeper than any manifest is (an annotation or an unknown
  // field of arrays in arrays) overflowed the stack when printed. Its descriptors were read; it is no pack's.
  if (nestsDeeper(resolved.manifest, MAX_JSON_DEPTH)) {
    throw new PackpubError('REGISTRY', `${resolved.reference} is not a pack: its manifest nests deeper than ${MAX_JSON_DEPTH} levels`, {
      hint: 'check the name and --registry: this tag holds another kind of artifact, not a pack',
    });
  }
  const { layer } = resolved;
  const { folder, packJson } = await readPackJson(target, resolved, ref);
  const created = stringAnnotation(resolved.manifest.annotations, ANNOTATION_CREATED);
  const title = stringAnnotation(layer.annotations, ANNOTATION_TITLE);
  return {
    reference: resolved.reference,
    repository: resolved.repository,
    manifest: {
      digest: resolved.fetched.descriptor.digest,
      size: resolved.fetched.bytes.length,
      mediaType: resolved.fetched.descriptor.mediaType,
      ...(created === undefined ? {} : { created }),
      content: resolved.manifest,
    },
    // The descriptor's documented fields only (docs/report.md): anything else a registry put in it is in manifest.content.
    layer: {
      mediaType: layer.mediaType,
      digest: layer.digest,
      size: layer.size,
      ...(layer.annotations === undefined ? {} : { annotations: layer.annotations }),
      ...(title === undefined ? {} : { title }),
    },
    ...(folder === undefined ? {} : { folder }),
    packJson,
  };
}
