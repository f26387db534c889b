import { isUtf8 } from 'node:buffer';
import { posix } from 'node:path';
import type { NextChunk } from './chart-archive.js';
import { hasUtf16Bom } from './files.js';
import { checkYamlText } from './yaml-source.js';

/*
 * The files of a chart archive that Helm reads as Kubernetes YAML when it installs the chart, and the bytes
 * that make that read fail whatever the values are. Loading such a chart works (helm show, helm pull);
 * `helm install` and `helm template` do not:
 *
 * - templates/**: every template is rendered, and every rendered file but partials (a base name starting
 *   with `_`) and NOTES.txt is split into documents and parsed (helm/helm pkg/engine/engine.go render;
 *   pkg/action/action.go renderResources; pkg/release/v1/util/manifest_sorter.go SortManifests, "YAML parse
 *   error on <file>"). Text before a template's first `{{` is output as it is, whatever the values.
 * - crds/**.yaml|yml|json (any case): applied as they are, before the templates (pkg/chart/v2/chart.go
 *   CRDObjects; pkg/action/install.go installCRDs, "failed to install CRD <file>").
 *
 * Go's YAML reader (sigs.k8s.io/yaml over go-yaml, readerc.go) refuses bytes that are not UTF-8 and control
 * characters ("control characters are not allowed"): what a `._name` AppleDouble file, written by macOS
 * tar beside each file with extended attributes, holds. Helm trims Unicode spaces off every file and
 * document first, so vertical tabs and form feeds (spaces to Go, refused inside YAML) are left to the
 * YAML checks; a file with a UTF-16 byte order mark, which go-yaml decodes, is not judged.
 */

export type HelmYamlFile = 'template' | 'crd';

/** Which way Helm reads the file at `rel` (its path inside the chart) as YAML at install, if it does. */
export function helmYamlFile(rel: string): HelmYamlFile | undefined {
  if (rel.startsWith('templates/')) {
    return posix.basename(rel).startsWith('_') || rel.endsWith('NOTES.txt') ? undefined : 'template';
  }
  if (rel.startsWith('crds/') && /\.(?:ya?ml|json)$/i.test(rel)) return 'crd';
  return undefined;
}

/** Control characters go-yaml refuses, less the two Go trims as spaces (\v, \f). */
const REFUSED = /[^\t\n\v\f\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u;

/**
 * Why Go's YAML reader refuses what Helm parses of this file whatever the values (a template: the text
 * before its first `{{`; a CRD file: all of it), its first complaint as it reads on; undefined when it may
 * read it.
 */
export function helmYamlRefusal(bytes: Buffer, kind: HelmYamlFile): string | undefined {
  return hasUtf16Bom(bytes) ? undefined : refusalIn(bytes, kind);
}

/**
 * The same, read from an entry's chunks as they come, never joined while they are ASCII: reading stops at
 * a template's first `{{` (the rest of the entry is left to the tar reader to skip).
 */
export async function helmYamlRefusalOfChunks(next: NextChunk, kind: HelmYamlFile): Promise<string | undefined> {
  let first = true;
  let braceEnded = false;
  for (let chunk = await next(); chunk !== undefined; chunk = await next()) {
    if (first && chunk.length < 2) {
      // Too short to tell a byte order mark: the whole entry at once.
      return helmYamlRefusal(await joined(chunk, next), kind);
    }
    if (first && hasUtf16Bom(chunk)) return undefined;
    first = false;
    if (kind === 'template' && braceEnded && chunk[0] === 0x7b) return undefined;
    const action = kind === 'template' ? chunk.indexOf('{{') : -1;
    const at = asciiEnd(chunk, action === -1 ? chunk.length : action);
    if (at !== undefined) {
      const b = chunk[at] as number;
      if (b < 0x80) return controlCharacter(String.fromCharCode(b));
      // Not ASCII: the chunks before were ASCII without a refused byte, so from here on, as one buffer.
      return refusalIn(await joined(chunk.subarray(at), next), kind);
    }
    if (action !== -1) return undefined;
    braceEnded = chunk[chunk.length - 1] === 0x7b;
  }
  return undefined;
}

/**
 * Where the first byte before `end` that is not printable ASCII (nor a tab or a line break) sits: a control
 * character, or the start of a non-ASCII one. A loop over the bytes rather than a string: CRD files run to
 * megabytes, nearly all ASCII. Read four bytes at a time (a 32-bit word of an aligned view): a word holding no
 * byte below 0x20 nor above 0x7e is passed whole, any other is read byte by byte (a line break is such a byte);
 * a byte at a time cost ~1.5 % of `validate`'s CPU on the bench tree (issue 16).
 */
function asciiEnd(bytes: Buffer, end: number): number | undefined {
  let i = 0;
  if (end >= 32) {
    // Up to the first byte a Uint32Array may start at (4-byte aligned in the ArrayBuffer).
    const lead = (4 - (bytes.byteOffset & 3)) & 3;
    for (; i < lead; i++) if (!printable(bytes[i] as number)) return i;
    const count = (end - i) >>> 2;
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset + i, count);
    for (let w = 0; w < count; w++) {
      const x = words[w] as number;
      // Bit Twiddling Hacks' hasless(x, 0x20) | hasmore(x, 0x7e): exact as to whether such a byte is there.
      if (((((x - 0x20202020) & ~x) | ((x + 0x01010101) | x)) & 0x80808080) === 0) continue;
      const at = i + 4 * w;
      for (let k = at; k < at + 4; k++) if (!printable(bytes[k] as number)) return k;
    }
    i += 4 * count;
  }
  for (; i < end; i++) if (!printable(bytes[i] as number)) return i;
  return undefined;
}

/** Printable ASCII, a tab or a line break (asciiEnd). */
function printable(b: number): boolean {
  return (b >= 0x20 && b < 0x7f) || (b >= 0x09 && b <= 0x0d);
}

/** `first` and every chunk after it, as one buffer. */
async function joined(first: Buffer, next: NextChunk): Promise<Buffer> {
  const all = [first];
  for (let more = await next(); more !== undefined; more = await next()) all.push(more);
  return Buffer.concat(all);
}


function refusalIn(bytes: Buffer, kind: HelmYamlFile): string | undefined {
  const action = kind === 'template' ? bytes.indexOf('{{') : -1;
  const fixed = action === -1 ? bytes : bytes.subarray(0, action);
  const at = asciiEnd(fixed, fixed.length);
  if (at === undefined) return undefined;
  if ((fixed[at] as number) < 0x80) return controlCharacter(String.fromCharCode(fixed[at] as number));
  if (isUtf8(fixed)) return refusedInUtf8(fixed, at);
  // Not UTF-8: whichever comes first, a control character or the first byte that is not UTF-8.
  for (let i = at; i < fixed.length; ) {
    const lead = fixed[i] as number;
    const size = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 0;
    const char = fixed.subarray(i, i + size);
    if (size === 0 || char.length < size || !isUtf8(char)) return 'bytes that are not UTF-8 text';
    const text = char.toString('utf8');
    if (REFUSED.test(text)) return controlCharacter(text);
    i += size;
  }
  return undefined;
}

/**
 * REFUSED's first match in UTF-8 `bytes` from `from` on, found in the bytes rather than in decoded text
 * (CRD files run to megabytes, some with a few non-ASCII characters in descriptions): besides the ASCII
 * controls, the only characters of valid UTF-8 it refuses are U+0080-U+0084, U+0086-U+009F (C2 80-84,
 * C2 86-9F) and U+FFFE, U+FFFF (EF BF BE, EF BF BF).
 */
function refusedInUtf8(bytes: Buffer, from: number): string | undefined {
  for (let i = from; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (b < 0x20 ? b < 0x09 || b > 0x0d : b === 0x7f) return controlCharacter(String.fromCharCode(b));
    if (b === 0xc2) {
      const c = bytes[i + 1] as number;
      if (c <= 0x9f && c !== 0x85) return controlCharacter(String.fromCharCode(c));
    } else if (b === 0xef && bytes[i + 1] === 0xbf && ((bytes[i + 2] as number) & 0xfe) === 0xbe) {
      return controlCharacter(String.fromCharCode(0xfffe + (bytes[i + 2] as number) - 0xbe));
    }
  }
  return undefined;
}

function controlCharacter(char: string): string {
  return `control characters are not allowed (U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')})`;
}

/** What Helm's install makes of a file in crds/ it cannot apply, and what to do about it. */
export interface CrdRefusal {
  why: string;
  hint: string;
}

/** kustomize's file format group: a file of it (kustomization.yaml) is no Kubernetes object any cluster serves. */
const KUSTOMIZE_GROUP = 'kustomize.config.k8s.io';
/** A template action where YAML reads a value: after the indentation, a `- `, or a `key: `. */
const ACTION_AS_VALUE = /^[ \t]*(?:-[ \t]+)*(?:[^\s#'"{][^#\n]*?:[ \t]+)?\{\{/m;

/**
 * Why Helm's install cannot apply this crds/ file, read whole, whatever the cluster holds (undefined when it
 * may). Helm reads crds/ files as they are, never rendered (helm/helm pkg/action/install.go installCRDs:
 * KubeClient.Build, "failed to install CRD <file>"); the Kubernetes resource builder splits them at lines
 * that are `---` (apimachinery util/yaml YAMLReader), reads each document as YAML (sigs.k8s.io/yaml over
 * go-yaml), skips empty ones, and decodes each as an object that must have a `kind` (apimachinery
 * unstructured helpers.go: "Object 'Kind' is missing"; a list or a string: "cannot unmarshal ... into Go
 * value"). A kustomization.yaml left among the CRDs (apiVersion kustomize.config.k8s.io/...) is decoded,
 * then no cluster maps it: "no matches for kind "Kustomization"" (Kuadrant/mcp-gateway chart 0.2.0).
 *
 * Only documents that hold a template action where YAML reads a value (a chart author who put a templated
 * CRD into crds/), that name kustomize's group, or that have no top-level `kind:` line, are read in full, and the file is searched as
 * bytes: CRD files run to megabytes (pack-central's add up to 21 MB), and reading every one took seconds.
 * Files apimachinery versions read differently are left alone: a JSON file (first character `{`, unless it
 * is a `{{` action), a `---` line with more after it, a `...` line, line breaks other than LF and CRLF.
 */
export function crdRefusal(bytes: Buffer, rel: string): CrdRefusal | undefined {
  if (hasUtf16Bom(bytes)) return undefined;
  let start = 0;
  while (start < bytes.length && isSpaceByte(bytes[start] as number)) start++;
  if (start === bytes.length || (bytes[start] === 0x7b && bytes[start + 1] !== 0x7b) || leftAlone(bytes)) return undefined;
  const suspect = bytes.indexOf('{{') !== -1;
  let from = 0;
  for (let at = lineStarting(bytes, '---', 0); ; at = lineStarting(bytes, '---', at + 3)) {
    const end = at === -1 ? bytes.length : at;
    const refusal = crdDocumentRefusal(bytes, from, end, rel, suspect);
    if (refusal !== undefined || at === -1) return refusal;
    const lineEnd = bytes.indexOf(0x0a, at);
    from = lineEnd === -1 ? bytes.length : lineEnd + 1;
  }
}

function isSpaceByte(b: number): boolean {
  return b === 0x20 || (b >= 0x09 && b <= 0x0d);
}

/** Where the first line from `from` on that starts with `prefix` starts, or -1. */
function lineStarting(bytes: Buffer, prefix: string, from: number): number {
  if (from === 0 && bytes.subarray(0, prefix.length).toString('latin1') === prefix) return 0;
  const at = bytes.indexOf(`\n${prefix}`, Math.max(0, from - 1));
  return at === -1 ? -1 : at + 1;
}

/** A file apimachinery versions split into documents differently, or whose lines JavaScript would see otherwise than Go. */
function leftAlone(bytes: Buffer): boolean {
  if (lineStarting(bytes, '...', 0) !== -1 || bytes.indexOf('\u2028') !== -1 || bytes.indexOf('\u2029') !== -1) return true;
  for (let at = lineStarting(bytes, '---', 0); at !== -1; at = lineStarting(bytes, '---', at + 3)) {
    for (let i = at + 3; i < bytes.length && bytes[i] !== 0x0a; i++) if (!isSpaceByte(bytes[i] as number)) return true;
  }
  for (let cr = bytes.indexOf(0x0d); cr !== -1; cr = bytes.indexOf(0x0d, cr + 1)) if (bytes[cr + 1] !== 0x0a) return true;
  return false;
}

/** Whether bytes from `from` to `to` hold a line starting with `kind` and a colon (spaces between allowed). */
function hasTopLevelKind(bytes: Buffer, from: number, to: number): boolean {
  for (let at = lineStarting(bytes, 'kind', from); at !== -1 && at < to; at = lineStarting(bytes, 'kind', at + 4)) {
    let i = at + 4;
    while (bytes[i] === 0x20 || bytes[i] === 0x09) i++;
    if (bytes[i] === 0x3a) return true;
  }
  return false;
}

/** The refusal of the document of `bytes` from `from` to `to`, if any. */
function crdDocumentRefusal(bytes: Buffer, from: number, to: number, rel: string, suspect: boolean): CrdRefusal | undefined {
  const action = suspect && bytes.subarray(from, to).indexOf('{{') !== -1 && ACTION_AS_VALUE.test(bytes.toString('utf8', from, to));
  const kustomize = bytes.subarray(from, to).indexOf(KUSTOMIZE_GROUP) !== -1;
  if (!action && !kustomize && hasTopLevelKind(bytes, from, to)) return undefined;
  const doc = bytes.toString('utf8', from, to);
  if (!/^[ \t]*[^\s#]/m.test(doc)) return undefined; // comments and blank lines: an empty document, skipped
  // Go's line reader ends every line with LF alone, the last one too.
  const check = checkYamlText(`${doc.replace(/\r\n/g, '\n')}\n`, rel);
  const firstLine = lineAt(bytes, from);
  const error = check.findings.find((f) => f.severity === 'error');
  if (error !== undefined) {
    if (error.rule === 'yaml-too-deep') return undefined; // go-yaml reads 10,000 levels: not Helm's refusal
    const at = error.line === undefined ? '' : `line ${error.line + firstLine - 1}: `;
    return { why: `${at}${error.message.replace(/; fix the syntax at this position.*$/s, '')}`, hint: action ? CRD_TEMPLATE_HINT : CRD_YAML_HINT };
  }
  const value = check.documents[0];
  if (value === undefined || value === null) return undefined;
  const what = Array.isArray(value) ? 'a list' : typeof value === 'object' ? undefined : `a ${typeof value === 'string' ? 'string' : 'scalar'}`;
  if (what !== undefined) {
    return { why: `the document at line ${firstLine} is ${what}, not a Kubernetes object`, hint: CRD_OBJECT_HINT };
  }
  const kind = (value as Record<string, unknown>)['kind'];
  const apiVersion = (value as Record<string, unknown>)['apiVersion'];
  if (typeof kind === 'string' && kind !== '' && typeof apiVersion === 'string' && apiVersion.startsWith(`${KUSTOMIZE_GROUP}/`)) {
    return {
      why: `the document at line ${firstLine} is a kustomize file (${apiVersion} ${kind}), which no Kubernetes API serves (Helm: "resource mapping not found ... no matches for kind \"${kind}\" in version \"${apiVersion}\"")`,
      hint: `leave it out of the chart: add ${rel} to the chart's .helmignore (as the traefik and aws-load-balancer-controller charts do), then rebuild the archive with \`helm package <chart-dir>\``,
    };
  }
  if (typeof kind === 'string' && kind !== '') return undefined;
  return { why: `the document at line ${firstLine} has no kind (Kubernetes: "Object 'Kind' is missing")`, hint: CRD_OBJECT_HINT };
}

/**
 * Whether a crds/ file holds a CustomResourceDefinition of apiextensions.k8s.io/v1beta1 (a top-level
 * `apiVersion:` line of that value, quoted or not), an API Kubernetes 1.22 and later no longer serve:
 * Helm's install then fails ("no matches for kind "CustomResourceDefinition" in version
 * "apiextensions.k8s.io/v1beta1""). Older clusters take it, so this is no refusal.
 */
export function holdsRemovedCrdApi(bytes: Buffer): boolean {
  if (bytes.indexOf(REMOVED_CRD_API) === -1) return false;
  for (let at = lineStarting(bytes, 'apiVersion', 0); at !== -1; at = lineStarting(bytes, 'apiVersion', at + 10)) {
    const end = bytes.indexOf(0x0a, at);
    const value = bytes.toString('latin1', at + 10, end === -1 ? bytes.length : end).trim();
    if (/^:\s*(["']?)apiextensions\.k8s\.io\/v1beta1\1\s*(?:#.*)?$/.test(value)) return true;
  }
  return false;
}

const REMOVED_CRD_API = 'apiextensions.k8s.io/v1beta1';

function lineAt(bytes: Buffer, offset: number): number {
  let line = 1;
  for (let i = bytes.indexOf(0x0a); i !== -1 && i < offset; i = bytes.indexOf(0x0a, i + 1)) line++;
  return line;
}

const CRD_TEMPLATE_HINT =
  'Helm never renders files in crds/ (no {{ }} there): write the values in, or move a CRD that needs values into templates/ (rendered, but then not installed before the templates that use it); then rebuild the archive';
const CRD_YAML_HINT = 'fix the YAML of that crds/ file (Helm applies it as it is), then rebuild the archive';
const CRD_OBJECT_HINT = 'each document of a crds/ file must be a Kubernetes object with apiVersion and kind: fix or remove that file, then rebuild the archive';
