import { PackpubError } from '../errors.js';
import { sourceDateEpoch } from '../util/source-date-epoch.js';
import { isDigest, sha256Digest, type Digest } from './digest.js';
import { jsonTextFacts, shownPath, type JsonPath, type JsonTextFacts } from './json-text.js';
import {
  ANNOTATION_CREATED,
  ANNOTATION_TITLE,
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_LAYER_TAR,
  MEDIA_TYPE_OCI_INDEX,
  MEDIA_TYPE_OCI_MANIFEST,
  MEDIA_TYPE_OCTET_STREAM,
  MEDIA_TYPE_UNKNOWN_CONFIG,
} from './media-types.js';

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  annotations?: Record<string, string>;
}

/** Manifest bytes as fetched, with their descriptor (mediaType, digest and size of the bytes). */
export interface FetchedManifest {
  descriptor: Descriptor;
  bytes: Buffer;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** The two-byte `{}` config ORAS 1.0 pushes when none is given. */
/**
 * The largest manifest packpub reads, from a registry (registry/client.ts) or a layout (targets/oci-layout.ts): the
 * limit registries may put on a manifest they take (distribution-spec "Pushing Manifests"; ECR's limit); a pack's is under
 * 1 KiB.
 */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export const EMPTY_CONFIG_BYTES = Buffer.from('{}');
export const EMPTY_CONFIG: Descriptor = {
  mediaType: MEDIA_TYPE_UNKNOWN_CONFIG,
  digest: sha256Digest(EMPTY_CONFIG_BYTES),
  size: EMPTY_CONFIG_BYTES.length,
};

/**
 * JSON string literal exactly as Go's encoding/json (Go 1.20, which built ORAS 1.0.0) writes it:
 * `<`, `>`, `&`, U+2028 and U+2029 as \u escapes, control characters other than \n \r \t as \u00xx.
 */
export function goJsonString(value: string): string {
  let out = '"';
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || ch === '<' || ch === '>' || ch === '&' || code === 0x2028 || code === 0x2029) {
      out += `\\u${code.toString(16).padStart(4, '0')}`;
    } else if (code >= 0xd800 && code <= 0xdfff) {
      out += '\\ufffd'; // lone surrogate: Go replaces invalid UTF-8 with U+FFFD
    } else out += ch;
  }
  return `${out}"`;
}

/** Go marshals map keys sorted bytewise. */
function goAnnotations(map: Record<string, string>): string {
  const keys = Object.keys(map).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return `{${keys.map((k) => `${goJsonString(k)}:${goJsonString(map[k] ?? '')}`).join(',')}}`;
}

function goDescriptor(d: Descriptor): string {
  let out = `{"mediaType":${goJsonString(d.mediaType)},"digest":${goJsonString(d.digest)},"size":${d.size}`;
  if (d.annotations !== undefined && Object.keys(d.annotations).length > 0) {
    out += `,"annotations":${goAnnotations(d.annotations)}`;
  }
  return `${out}}`;
}

/**
 * Serialize a manifest byte-for-byte as ORAS 1.0.0 (oras-go v2.0.2, image-spec v1.1.0-rc2 structs):
 * compact, fields in struct order, empty annotation maps omitted, no trailing newline.
 */
export function serializeManifest(m: ImageManifest): Buffer {
  let out = `{"schemaVersion":${m.schemaVersion},"mediaType":${goJsonString(m.mediaType)}`;
  out += `,"config":${goDescriptor(m.config)}`;
  out += `,"layers":[${m.layers.map(goDescriptor).join(',')}]`;
  if (m.subject !== undefined) out += `,"subject":${goDescriptor(m.subject)}`;
  if (m.annotations !== undefined && Object.keys(m.annotations).length > 0) {
    out += `,"annotations":${goAnnotations(m.annotations)}`;
  }
  return Buffer.from(`${out}}`, 'utf8');
}

/** RFC 3339 UTC with whole seconds, as ORAS writes `org.opencontainers.image.created`. */
export function formatCreated(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/**
 * The creation time to stamp: `SOURCE_DATE_EPOCH` (reproducible-builds.org) when set and not empty, else now.
 * A malformed SOURCE_DATE_EPOCH is refused (util/source-date-epoch.ts: the one rule for every use of it).
 */
export function createdTime(env: NodeJS.ProcessEnv = process.env, now: () => Date = () => new Date()): Date {
  const epoch = sourceDateEpoch(env);
  return epoch === undefined ? now() : new Date(epoch * 1000);
}

export interface PackManifestInput {
  layer: { digest: Digest; size: number };
  /** Layer title: the bare archive file name, `<name>-<version>.tar.gz`. */
  title: string;
  created: Date;
  /**
   * Manifest annotations (`oras push --annotation K=V`). As oras-go's Pack, a given
   * `org.opencontainers.image.created` replaces the creation time; serialized with keys sorted.
   */
  annotations?: Record<string, string>;
}

/** The manifest `oras push REG/REPO:TAG NAME-VERSION.tar.gz` (ORAS 1.0.0) writes. */
export function packManifest(input: PackManifestInput): ImageManifest {
  return {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_OCI_MANIFEST,
    config: EMPTY_CONFIG,
    layers: [
      {
        mediaType: MEDIA_TYPE_LAYER_TAR,
        digest: input.layer.digest,
        size: input.layer.size,
        annotations: { [ANNOTATION_TITLE]: input.title },
      },
    ],
    annotations: { [ANNOTATION_CREATED]: formatCreated(input.created), ...input.annotations },
  };
}

/** The "empty artifact" `oras push REG/BASE/spectro-packs/archive` writes to create the base repository. */
export function emptyArtifactManifest(created: Date): ImageManifest {
  return {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_OCI_MANIFEST,
    config: EMPTY_CONFIG,
    layers: [],
    annotations: { [ANNOTATION_CREATED]: formatCreated(created) },
  };
}

function isDescriptor(v: unknown): v is Descriptor {
  if (typeof v !== 'object' || v === null) return false;
  const d = v as Record<string, unknown>;
  return (
    typeof d['mediaType'] === 'string' &&
    typeof d['digest'] === 'string' &&
    isDigest(d['digest']) &&
    typeof d['size'] === 'number' &&
    Number.isSafeInteger(d['size']) &&
    d['size'] >= 0
  );
}

/** The media types of an image manifest: OCI's, and Docker's schema 2, which has the same fields. */
const IMAGE_MANIFEST_TYPES: readonly string[] = [MEDIA_TYPE_OCI_MANIFEST, MEDIA_TYPE_DOCKER_MANIFEST];

/**
 * The media type of manifest `bytes`: the `mediaType` field they hold (the digest covers it, image-spec has it
 * match the descriptor's), else the OCI type of the kind of document they are (an image manifest, an index:
 * Docker's schema 2 types require the field, OCI's may leave it out), else `claimed` (a registry's Content-Type,
 * a layout index entry's). A Content-Type a
 * registry or proxy got wrong (`text/plain`, an index's for a manifest) was written again with the bytes by copy
 * and tag: a layout naming its manifest so (exit 0, unreadable by other tools), a registry refusing it.
 */
export function manifestMediaType(bytes: Uint8Array, claimed: string | undefined): string {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return claimed ?? MEDIA_TYPE_OCTET_STREAM;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return claimed ?? MEDIA_TYPE_OCTET_STREAM;
  const m = doc as Record<string, unknown>;
  if (typeof m['mediaType'] === 'string' && m['mediaType'] !== '') return m['mediaType'];
  if (Array.isArray(m['manifests'])) return MEDIA_TYPE_OCI_INDEX;
  if ('config' in m || 'layers' in m) return MEDIA_TYPE_OCI_MANIFEST;
  return claimed ?? MEDIA_TYPE_OCTET_STREAM;
}

/**
 * A manifest of the right shape whose config or a layer is named by a digest of another algorithm (the image spec's
 * grammar, e.g. sha512 from a tool that writes it): said as such, not as "not an image manifest".
 */
function otherAlgorithm(m: Record<string, unknown>): { what: string; algorithm: string } | undefined {
  if (m['schemaVersion'] !== 2 || typeof m['config'] !== 'object' || !Array.isArray(m['layers'])) return undefined;
  const named = [{ what: 'config', d: m['config'] }, ...m['layers'].map((d) => ({ what: 'layer', d }))];
  for (const { what, d } of named) {
    const digest = typeof d === 'object' && d !== null ? (d as Record<string, unknown>)['digest'] : undefined;
    const found = typeof digest === 'string' ? /^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):[a-zA-Z0-9=_-]+$/.exec(digest) : null;
    if (found !== null && found[1] !== 'sha256') return { what, algorithm: found[1] ?? '' };
  }
  return undefined;
}

/** Parse manifest bytes read from a registry or layout; throws a typed error when it is not an image manifest. */
export function parseManifest(bytes: Uint8Array): ImageManifest {
  let doc: unknown;
  const text = Buffer.from(bytes).toString('utf8');
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new PackpubError('REGISTRY', 'manifest is not valid JSON', { cause: err });
  }
  const m = doc as Record<string, unknown>;
  // A manifest names its own type (the digest covers it): one that says it is something else is not one, whatever its fields.
  const own = typeof doc === 'object' && doc !== null ? m['mediaType'] : undefined;
  if (own !== undefined && !IMAGE_MANIFEST_TYPES.includes(own as string)) {
    throw new PackpubError('REGISTRY', `manifest says it is ${typeof own === 'string' ? own.slice(0, 100) : `a ${typeof own}`}, not an image manifest`);
  }
  if (
    typeof doc !== 'object' ||
    doc === null ||
    m['schemaVersion'] !== 2 ||
    !isDescriptor(m['config']) ||
    !Array.isArray(m['layers']) ||
    !m['layers'].every(isDescriptor)
  ) {
    const other = typeof doc === 'object' && doc !== null ? otherAlgorithm(m) : undefined;
    if (other !== undefined) throw new PackpubError('REGISTRY', `manifest names its ${other.what} by a ${other.algorithm} digest: packpub reads sha256 digests only`);
    throw new PackpubError('REGISTRY', 'manifest is not an OCI image manifest (schemaVersion 2 with config and layers)');
  }
  refuseFoldedKeys(m, MANIFEST_FIELDS, 'manifest');
  for (const d of [m['config'], ...(m['layers'] as unknown[])]) refuseFoldedKeys(d as Record<string, unknown>, DESCRIPTOR_FIELDS, 'descriptor');
  refuseGoTypes(m);
  refuseOtherReading(jsonTextFacts(text));
  return doc as ImageManifest;
}


/** Whether `path` is an integer field of an image manifest (Go's int and int64): schemaVersion, a descriptor's size. */
function integerField(path: JsonPath): boolean {
  if (path.length === 1) return path[0] === 'schemaVersion';
  if (path.length === 2) return (path[0] === 'config' || path[0] === 'subject') && path[1] === 'size';
  return path.length === 3 && path[0] === 'layers' && typeof path[1] === 'number' && path[2] === 'size';
}

/** Whether `path` is the manifest or one of its descriptors (the objects whose fields Go decodes into structs). */
function structPath(path: JsonPath): boolean {
  return path.length === 0 || (path.length === 1 && (path[0] === 'config' || path[0] === 'subject')) || (path.length === 2 && path[0] === 'layers' && typeof path[1] === 'number');
}

/**
 * Refuse what Go reads otherwise than JSON.parse (oci/json-text.ts): `"size": 467.0` was pulled (exit 0) while the
 * registry, ORAS and Palette refuse the manifest; a field given twice (`"layers":[A],"layers":[B]`), which Go merges
 * into one (B with A's annotations), JSON.parse reading B alone.
 */
function refuseOtherReading(facts: JsonTextFacts): void {
  const number = facts.nonIntegers.find((f) => integerField(f.path));
  if (number !== undefined) {
    throw new PackpubError('REGISTRY', `manifest's ${shownPath(number.path)} is ${number.literal.slice(0, 40)}, not an integer: Go's JSON reader (Palette's, ORAS's, the registry's) refuses the manifest`, { hint: GO_REFUSES_HINT });
  }
  const twice = facts.duplicates.find((d) => structPath(d.path));
  if (twice !== undefined) {
    throw new PackpubError('REGISTRY', `${twice.path.length === 0 ? 'manifest' : `manifest's ${shownPath(twice.path)}`} has the key ${JSON.stringify(twice.key.slice(0, 100))} twice, which Go's JSON reader (Palette's, the registry's) merges where packpub keeps the last: packpub would read another manifest than Palette`, { hint: GO_REFUSES_HINT });
  }
}

/**
 * The first field of `obj` (a manifest, an index, or a descriptor in one) that Go's encoding/json refuses the whole
 * document for, being of another JSON type than its Go field (null is none: Go leaves the field as it is), said as
 * `annotations "n" is not a string`; undefined when none. `descriptor`: its mediaType, digest and size too.
 */
export function goTypeFault(obj: Record<string, unknown>, descriptor: boolean): string | undefined {
  if (descriptor) {
    const field = (['mediaType', 'digest', 'size'] as const).find((f) => obj[f] !== undefined && obj[f] !== null && typeof obj[f] !== (f === 'size' ? 'number' : 'string'));
    if (field !== undefined) return `${field} is not a ${field === 'size' ? 'number' : 'string'}`;
  }
  const annotations = obj['annotations'];
  if (annotations !== undefined && annotations !== null) {
    if (typeof annotations !== 'object' || Array.isArray(annotations)) return 'annotations is not an object';
    const key = Object.keys(annotations).find((k) => (annotations as Record<string, unknown>)[k] !== null && typeof (annotations as Record<string, unknown>)[k] !== 'string');
    if (key !== undefined) return `annotations ${JSON.stringify(key.slice(0, 100))} is not a string`;
  }
  const artifactType = obj['artifactType'];
  if (artifactType !== undefined && artifactType !== null && typeof artifactType !== 'string') return 'artifactType is not a string';
  const urls = obj['urls'];
  if (urls !== undefined && urls !== null && !(Array.isArray(urls) && urls.every((u) => u === null || typeof u === 'string'))) return 'urls is not a list of strings';
  const platform = obj['platform'];
  if (descriptor && platform !== undefined && platform !== null && (typeof platform !== 'object' || Array.isArray(platform))) return 'platform is not an object';
  return undefined;
}

/** The fields of a manifest and its descriptors Go refuses the manifest for when they are of another JSON type (null is none). */
function refuseGoTypes(m: Record<string, unknown>): void {
  const check = (obj: Record<string, unknown>, where: string, descriptor: boolean): void => {
    const fault = goTypeFault(obj, descriptor);
    if (fault !== undefined) throw new PackpubError('REGISTRY', `${where}${fault}: Go's JSON reader (Palette's, ORAS's, the registry's) refuses the manifest`, { hint: GO_REFUSES_HINT });
  };
  check(m, "manifest's ", false);
  check(m['config'] as Record<string, unknown>, "manifest's config.", true);
  (m['layers'] as Array<Record<string, unknown>>).forEach((layer, i) => check(layer, `manifest's layers[${i}].`, true));
  const subject = m['subject'];
  if (subject !== undefined && subject !== null) {
    if (typeof subject !== 'object' || Array.isArray(subject)) throw new PackpubError('REGISTRY', "manifest's subject is not an object: Go's JSON reader (Palette's, ORAS's, the registry's) refuses the manifest", { hint: GO_REFUSES_HINT });
    check(subject as Record<string, unknown>, "manifest's subject.", true);
  }
}

/** The hint of a manifest Go reads otherwise than packpub, or refuses (list names the tag not a pack, saying why). */
export const GO_REFUSES_HINT = 'no tool writes a manifest so (a hand-made or hostile one): do not use this tag; ask its publisher to push the version again';

/** The fields of an image manifest and of a descriptor (image-spec; Docker's schema 2 has the same names). */
const MANIFEST_FIELDS = ['schemaVersion', 'mediaType', 'artifactType', 'config', 'layers', 'subject', 'annotations'];
const DESCRIPTOR_FIELDS = ['mediaType', 'digest', 'size', 'urls', 'annotations', 'data', 'artifactType', 'platform'];

/** A key as Go's encoding/json matches it to a field: case folded (Unicode simple folding: ſ is s, the Kelvin sign K is k). */
export function goFolded(key: string): string {
  return key.replace(/\u017f/g, 's').toLowerCase();
}

/**
 * Go's encoding/json (the reader of registries, skopeo and Palette) takes a key spelled otherwise than a field
 * (`LAYERS`, `layerſ`, `Digest`) as that field, the later key winning; JSON.parse reads only the exact name. A
 * manifest `{"layers":[A],"LAYERS":[B]}` was pulled and inspected as A while Palette reads B: refused.
 */
function refuseFoldedKeys(obj: Record<string, unknown>, fields: readonly string[], what: string): void {
  for (const key of Object.keys(obj)) {
    if (fields.includes(key)) continue;
    const field = fields.find((f) => f.toLowerCase() === goFolded(key));
    if (field !== undefined) {
      throw new PackpubError('REGISTRY', `${what} has a key ${JSON.stringify(key.slice(0, 100))}, which Go's JSON reader (Palette's, the registry's) reads as "${field}": packpub would read another ${what} than Palette`, {
        hint: GO_REFUSES_HINT,
      });
    }
  }
}

/**
 * The annotation `key` of `annotations` when it is a string, else undefined: parseManifest checks descriptors,
 * not annotations, and a registry's manifest may hold any JSON there (a number was printed as text: a crash).
 */
export function stringAnnotation(annotations: unknown, key: string): string | undefined {
  if (typeof annotations !== 'object' || annotations === null) return undefined;
  const value = (annotations as Record<string, unknown>)[key];
  return typeof value === 'string' ? value : undefined;
}

/** The pack layer of a manifest: its single layer. */
export function packLayer(m: ImageManifest): Descriptor | undefined {
  return m.layers.length === 1 ? m.layers[0] : undefined;
}
