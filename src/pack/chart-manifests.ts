import { isUtf8 } from 'node:buffer';
import { posix } from 'node:path';
import type { NextChunk } from './chart-archive.js';

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
  return utf16(bytes) ? undefined : refusalIn(bytes, kind);
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
    if (first && utf16(chunk)) return undefined;
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
 * megabytes, nearly all ASCII.
 */
function asciiEnd(bytes: Buffer, end: number): number | undefined {
  for (let i = 0; i < end; i++) {
    const b = bytes[i] as number;
    if ((b >= 0x20 && b < 0x7f) || (b >= 0x09 && b <= 0x0d)) continue;
    return i;
  }
  return undefined;
}

/** `first` and every chunk after it, as one buffer. */
async function joined(first: Buffer, next: NextChunk): Promise<Buffer> {
  const all = [first];
  for (let more = await next(); more !== undefined; more = await next()) all.push(more);
  return Buffer.concat(all);
}

function utf16(bytes: Buffer): boolean {
  return bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff));
}

function refusalIn(bytes: Buffer, kind: HelmYamlFile): string | undefined {
  const action = kind === 'template' ? bytes.indexOf('{{') : -1;
  const fixed = action === -1 ? bytes : bytes.subarray(0, action);
  const at = asciiEnd(fixed, fixed.length);
  if (at === undefined) return undefined;
  if ((fixed[at] as number) < 0x80) return controlCharacter(String.fromCharCode(fixed[at] as number));
  if (isUtf8(fixed)) {
    const control = REFUSED.exec(fixed.toString('utf8', at));
    return control === null ? undefined : controlCharacter(control[0]);
  }
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

function controlCharacter(char: string): string {
  return `control characters are not allowed (U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')})`;
}
