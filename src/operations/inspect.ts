import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { EXTRACT_DEFAULTS, EntryKinds, entrySegments, hardLinkTarget, inflatedRefusal, meter } from '../archive/extract.js';
import { PackpubError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { stringAnnotation, type Descriptor, type ImageManifest } from '../oci/manifest.js';
import type { PackRef } from '../oci/reference.js';
import { ANNOTATION_CREATED, ANNOTATION_TITLE } from '../oci/media-types.js';
import type { ReadableTarget } from '../targets/open.js';
import { resolvePack } from './resolve-pack.js';

/** Deepest nesting of a manifest or pack.json inspect prints (validate's bound for pack.json, MAX_JSON_DEPTH). */
const MAX_JSON_DEPTH = 64;

/** pack.json larger than this inside an archive is not read (a pack.json is a few KB). */
const MAX_PACK_JSON_BYTES = 4 * 1024 * 1024;

export interface InspectResult {
  reference: string;
  repository: string;
  manifest: { digest: Digest; size: number; mediaType: string; created?: string; content: ImageManifest };
  /** The pack layer's descriptor (mediaType, digest, size, annotations) and its title annotation. */
  layer: Descriptor & { title?: string };
  /** The archive's top-level folder. */
  folder?: string;
  /** pack.json read from inside the archive. */
  packJson?: unknown;
}

/** Whether `value` holds arrays or objects nested more than `max` deep (walked without recursion). */
function nestsDeeper(value: unknown, max: number): boolean {
  const pending: Array<[unknown, number]> = [[value, 0]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [v, depth] = next;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= max) return true;
    for (const child of Object.values(v)) pending.push([child, depth + 1]);
  }
  return false;
}

/** A pack.json entry's JSON; undefined when it is none, or nested deeper than a pack.json ever is. */
async function readPackJson(entry: AsyncIterable<unknown>): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of entry) chunks.push(chunk as Buffer);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
  // JSON.parse takes any depth, but printing it (text or --json) overflowed the stack, a crash.
  return nestsDeeper(value, MAX_JSON_DEPTH) ? undefined : value;
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
  const blob = await target.store.fetchBlob(resolved.repository, layer);
  // V7 headers too, as Go's archive/tar reads them (see archive/extract.ts).
  const extract = tar.extract({ allowUnknownFormat: true } as Parameters<typeof tar.extract>[0]);
  // The store verifies the digest while the blob flows: one pass over it. The archive is inflated whole (to the
  // end of the digest check), under pull's decompression-bomb ratio: a small layer of gzipped zeros would
  // otherwise keep inspect inflating for hours. (Pull's 2 GiB size limit has a flag there; inspect writes nothing.)
  let compressed = 0;
  let inflated = 0;
  const feeding = pipeline(
    blob,
    meter((chunk) => {
      compressed += chunk.length;
      return undefined;
    }),
    createGunzip(),
    meter((chunk) => {
      inflated += chunk.length;
      return inflatedRefusal(compressed, inflated, { maxBytes: Infinity, maxRatio: EXTRACT_DEFAULTS.maxRatio });
    }),
    extract,
  );
  // The archive is read by pull's rules (archive/extract.ts), so that inspect shows the pack.json pull writes and
  // refuses what pull refuses: names as pull places them (`hello//pack.json` is `hello/pack.json`), the last
  // entry of a name wins, a hard link copies an earlier file. A pack.json pull would write from a file inspect did
  // not keep (a hard link to another file) is shown as none, never as the one it replaced.
  const kinds = new EntryKinds();
  const tops = new Set<string>();
  /**
   * What each pack.json that can still be the answer holds after the entries so far: its JSON, or undefined
   * (unread). Pull writes the only top folder's pack.json, or with more than one top entry the top's: a
   * candidate in any other folder is neither read nor kept (each up to MAX_PACK_JSON_BYTES parsed, kept for
   * every top folder, filled the heap: a crash on what a registry serves).
   */
  const packJsons = new Map<string, { value: unknown } | undefined>();
  let count = 0;
  try {
    for await (const entry of extract) {
      const h = entry.header;
      const segments = entrySegments(h, ++count, EXTRACT_DEFAULTS);
      const [top] = segments;
      if (top === undefined) {
        entry.resume();
        continue;
      }
      if (!tops.has(top)) {
        tops.add(top);
        // A second top entry: the first top folder's pack.json can no longer be the answer.
        if (tops.size === 2) for (const key of [...packJsons.keys()]) if (key !== 'pack.json') packJsons.delete(key);
      }
      const key = segments.join('/');
      const candidate = segments.length <= 2 && segments[segments.length - 1] === 'pack.json' && (segments.length === 1 || tops.size === 1);
      if (h.type === 'directory') {
        kinds.addDir(segments, JSON.stringify(h.name));
        entry.resume();
      } else if (h.type === 'link') {
        const target = hardLinkTarget(h, kinds, EXTRACT_DEFAULTS);
        if (target.join('/') !== key) {
          kinds.addFile(segments, JSON.stringify(h.name));
          if (candidate) packJsons.set(key, packJsons.get(target.join('/')));
        }
        entry.resume();
      } else {
        kinds.addFile(segments, JSON.stringify(h.name));
        if (candidate) packJsons.set(key, (h.size ?? 0) <= MAX_PACK_JSON_BYTES ? { value: await readPackJson(entry) } : undefined);
        else entry.resume();
      }
    }
    await feeding;
  } catch (err) {
    feeding.catch(() => undefined);
    if (err instanceof PackpubError) throw err;
    throw new PackpubError('REGISTRY', `could not read the archive of ${resolved.reference}: ${(err as Error).message}`, { cause: err });
  }
  // As pull places it: one top-level folder becomes the pack folder; otherwise the archive's top is.
  const [only] = tops;
  const folder = tops.size === 1 && only !== undefined && kinds.kind([only]) === 'directory' ? only : undefined;
  const packPath = folder === undefined ? ['pack.json'] : [folder, 'pack.json'];
  const packJson = kinds.kind(packPath) === 'file' ? packJsons.get(packPath.join('/'))?.value : undefined;
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
    ...(packJson === undefined ? {} : { packJson }),
  };
}
