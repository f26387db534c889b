import { isAlias, isMap, isScalar, isSeq, type Document, type Node as YamlNode, type Scalar } from 'yaml';
import type { Finding } from './findings.js';
import { appendPath, type PathSegment, type SourcePosition } from './json-source.js';
import { FastYamlUnsupported, fastValue, fastValueOf, type FastYaml, type KeyPaths } from './yaml-fast.js';
import { parseGoYaml, parseYaml, type GoYamlError, type YamlParse } from './yaml-go.js';
import { goKeyText, goUint64Key } from './yaml-tags.js';
import type { YNode } from './yaml-tree.js';

/**
 * Hostile-YAML bounds. Aliases stay shared references when a document is turned into values, so a
 * "billion laughs" document is cheap to load, but anything that later walks the tree (deep checks,
 * JSON rendering, a merge) would expand it. We measure the expansion on the parsed tree, before
 * building values, and refuse documents past these limits.
 */
/** Deepest nesting accepted (real values.yaml files stay under 20). */
export const MAX_YAML_DEPTH = 100;
/**
 * Most alias uses (`*name`) per file: a safety net above what a file within the 4 MiB limit can hold. What
 * Go refuses is judged by goExcessiveAliasing (its ratio of alias-expanded nodes), not by a count.
 */
export const MAX_YAML_ALIASES = 2_000_000;
/**
 * Most nodes that alias uses may add once expanded: a bomb blows past this in a few levels. Above the ~1.2
 * million nodes Go's ratio rule lets a document expand to, so only documents Go refuses too reach it.
 */
export const MAX_YAML_ALIAS_EXPANSION = 2_000_000;
/** Most nodes merged with `<<` per file (counted within the expansion too when merged through an alias). */
export const MAX_YAML_MERGE_KEYS = 2_000_000;

/**
 * go-yaml v2.4.0 decode.go (sigs.k8s.io/yaml, so Helm): "document contains excessive aliasing" once more
 * than 100 of the nodes it decodes are decoded inside an alias, among more than 1000, and their share
 * passes allowedAliasRatio: 99% up to 400 000 decodes, 10% from 4 000 000, linear in between.
 */
export function goExcessiveAliasing(aliased: number, decoded: number): boolean {
  if (aliased <= 100 || decoded <= 1000) return false;
  const allowed = decoded <= 400_000 ? 0.99 : decoded >= 4_000_000 ? 0.1 : 0.99 - (0.89 * (decoded - 400_000)) / 3_600_000;
  return aliased / decoded > allowed;
}

const MAX_RECORDED_KEYS = 50_000;
const MAX_RECORDED_DEPTH = 16;
/** Duplicate keys listed per file before they are summarised. */
const MAX_DUPLICATES = 100;

export interface YamlCheck {
  /** True when the text parsed (as Go's YAML reader would) and passed every bound; `documents` is then set. */
  ok: boolean;
  /** The documents as values (an empty file has none; none either when asked with `documents: false`). */
  documents: unknown[];
  /** Position of each mapping key by formatted path, e.g. `pack.content.images`. */
  keyPositions: Map<string, SourcePosition>;
  /** 1-based lines that lie inside a scalar's content (block scalars, multi-line strings). */
  scalarContentLines: Set<number>;
  /** Errors (syntax, bombs, depth) and warnings (duplicate keys, errors in documents Helm never reads). */
  findings: Finding[];
  /** The parse judged here, for callers that build a tree of the same text (yaml-tree.ts yamlTreeOf). */
  parsed: YamlParse;
  /**
   * `parsed` is what parseYaml(text) returns, so yamlTreeOf(parsed) is parseYamlTree(text); false when
   * the fast reader's result could not be checked and the text was parsed again the Go way.
   */
  parsedAsRead: boolean;
  /**
   * The first plain key Go reads as a uint64 (past int64): sigs.k8s.io/yaml cannot make it a JSON key
   * ("unsupported map key of type: uint64"), so Helm refuses a file holding one.
   */
  uint64Key?: SourcePosition & { path: string };
  /**
   * With `nullKeys: 'record'`: the first null key of the first document (`~: x`), which go-yaml reads and
   * sigs.k8s.io/yaml cannot make a JSON key ("unsupported map key of type: <nil>").
   */
  nullKey?: SourcePosition & { path: string };
}

class Refusal extends Error {
  constructor(
    readonly rule: string,
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

function syntaxFinding(error: GoYamlError, file: string, severity: Finding['severity'] = 'error', note = ''): Finding {
  return { severity, rule: 'yaml-syntax', file, line: error.line, column: error.column, message: `not valid YAML: ${error.message}; fix the syntax at this position${note}` };
}

/**
 * When the error follows an indented `---` line (only blank and comment lines between): YAML reads that
 * line as the text "---" (a document starts only at column 1), so the real mistake sits there. It is what
 * a chart's values.yaml that starts with `---` becomes when pasted, indented, under charts.<name> (as
 * Spectro's packify script and pack-central's docs build a pack's values.yaml; 119 of 2,324 chart
 * values.yaml files in 70 chart repositories start with `---`).
 */
function indentedMarkerNote(text: string, errorLine: number | undefined): string {
  if (errorLine === undefined) return '';
  const lines = text.split('\n', errorLine);
  for (let n = errorLine; n >= 1; n--) {
    const line = lines[n - 1] ?? '';
    if (/^[ \t]+---[ \t]*\r?$/.test(line)) {
      return `; line ${n} is an indented "---", which YAML reads as the text "---", not as the start of a document (that is "---" at column 1 only): remove it (a chart's values.yaml starting with --- and pasted under charts.<name> leaves it there)`;
    }
    if (n !== errorLine && !/^[ \t]*(?:#.*)?\r?$/.test(line)) return '';
  }
  return '';
}

/** What a caller of checkYamlText needs beyond the verdict. */
export interface YamlCheckOptions {
  /** Turn the documents into values (default true); false: only the verdict and the parse. */
  documents?: boolean;
  /**
   * Only the errors and the documents are read (default false). A text the fast reader took (it holds no
   * error) is then not walked for key positions, scalar lines and duplicate-key warnings (a chart's
   * values.yaml, read for Helm's verdict only, with `documents: false`; a Chart.yaml, read for its values:
   * issue 16); texts the full reader reads are checked in full as before.
   */
  errorsOnly?: boolean;
  /**
   * With `documents`: what the caller reads of them. A text the fast reader took makes, in each map, only
   * these keys (issue 16); a list below them is left empty. The full reader's documents stay whole.
   */
  only?: KeyPaths;
  /**
   * A null key (`~: x`): an error (default, for the files Helm loads, which sigs.k8s.io/yaml refuses), or
   * 'record' to have it in `nullKey` and read the text on (for the pack files Palette reads, whose reader
   * is not public).
   */
  nullKeys?: 'error' | 'record';
}

/**
 * Parse YAML text as Go's YAML reader does (yaml-go.ts), with the bounds above. Never throws for bad
 * input: every problem is a finding in `file`, with a line and column. `documents: false` skips
 * turning the documents into values, for callers that only need the verdict and the parse.
 */
export function checkYamlText(text: string, file: string, options: YamlCheckOptions = {}): YamlCheck {
  const read = parseYaml(text);
  if ('fast' in read) {
    if (options.errorsOnly === true) {
      const documents = options.documents === false ? [] : fastDocuments(read, options.only);
      return { ok: true, documents, keyPositions: new Map(), scalarContentLines: new Set(), findings: [], parsed: read, parsedAsRead: true };
    }
    try {
      return checkFastYaml(read, file, options);
    } catch (err) {
      if (!(err instanceof FastYamlUnsupported)) throw err;
    }
  }
  const parsed = 'fast' in read ? parseGoYaml(text) : read;
  const result: YamlCheck = { ok: false, documents: [], keyPositions: new Map(), scalarContentLines: new Set(), findings: [], parsed, parsedAsRead: parsed === read };
  if (parsed.error !== undefined) {
    // Nesting deep enough to exhaust the parser's stack is refused as too deep, like the bound below.
    const tooDeep = /Maximum call stack/i.test(parsed.error.message);
    result.findings.push(
      tooDeep
        ? { severity: 'error', rule: 'yaml-too-deep', file, line: parsed.error.line, column: parsed.error.column, message: `nesting deeper than ${MAX_YAML_DEPTH} levels; refusing the file. Flatten the structure` }
        : syntaxFinding(parsed.error, file, 'error', indentedMarkerNote(text, parsed.error.line)),
    );
    return result;
  }
  if (parsed.nullKey !== undefined && options.nullKeys !== 'record') {
    result.findings.push(syntaxFinding(parsed.nullKey, file));
    return result;
  }
  if (parsed.ignoredFrom !== undefined) {
    const { line, column } = parsed.ignoredFrom;
    result.findings.push({
      severity: 'warning',
      rule: 'yaml-syntax',
      file,
      line,
      column,
      message: parsed.ignoredFrom.afterFlowMap === true
        ? `Go's YAML reader (Helm, Palette) ends the document with the {...} mapping before this and never reads this, nor anything after it up to the next ---: it is ignored. Move it inside the braces, or remove it`
        : `Go's YAML reader (Helm, Palette) ends the document's top-level value before this line and never reads it, nor anything after it up to the next ---: it is ignored. Indent it like the lines above (the first line sets the indentation), or remove it`,
    });
  }
  if (parsed.laterDocumentError !== undefined) {
    result.findings.push(syntaxFinding(parsed.laterDocumentError, file, 'warning', ' (in a document after the first --- separator: Helm reads only the first one, pack-central\'s yq reads all)'));
  }
  const pos = (offset: number): SourcePosition => {
    const { line, column } = parsed.position(offset);
    return { line, column };
  };
  const docs = parsed.documents.filter(isContentDocument);
  try {
    const budget = { aliases: 0, expansion: 0, merges: 0, duplicates: 0 };
    for (const [i, doc] of docs.entries()) walkDocument(doc, pos, result, file, budget, i === 0);
    duplicatesSummary(result, file, budget);
  } catch (err) {
    if (!(err instanceof Refusal)) throw err;
    result.findings.push({ severity: 'error', rule: err.rule, file, ...pos(err.offset), message: err.message });
    return result;
  }
  // Bounded above: aliases become shared references, what they expand to is bounded (Go's ratio, MAX_YAML_ALIAS_EXPANSION).
  if (options.documents !== false) result.documents = docs.map(documentValue);
  result.ok = true;
  return result;
}

/** A document that holds something: not empty, nor an empty scalar without an anchor (the ones checkYamlText gives values of). */
export function isContentDocument(d: Document.Parsed): boolean {
  return d.contents !== null && !(isScalar(d.contents) && d.contents.value === null && (d.contents as Scalar).source === '' && d.contents.anchor === undefined);
}

/**
 * A document's value. A document after the first that Go's reader would refuse (a warning: Helm never
 * reads it) may have none: an alias to an unknown anchor makes toJS throw. Its value is then null.
 */
function documentValue(doc: Document.Parsed): unknown {
  try {
    return doc.toJS({ maxAliasCount: -1 });
  } catch {
    return null;
  }
}

/** checkYamlText of a text the fast reader took: no errors, aliases or merges, only keys to record. */
function checkFastYaml(parsed: FastYaml, file: string, options: YamlCheckOptions): YamlCheck {
  const result: YamlCheck = { ok: true, documents: [], keyPositions: new Map(), scalarContentLines: new Set(), findings: [], parsed, parsedAsRead: true };
  const docs = parsed.docs.filter((d): d is YNode => d !== undefined);
  const budget = { duplicates: 0 };
  const walk = (node: YNode, path: WalkPath | undefined, depth: number): void => {
    if (node.kind === 'seq') {
      node.items.forEach((item, i) => walk(item, { parent: path, segment: i }, depth + 1));
    } else if (node.kind === 'map') {
      const seen = new Map<string, number>();
      for (const entry of node.entries) {
        keyFound(result, file, path, depth, seen, entry.key, { line: entry.keyLine, column: entry.keyColumn }, budget);
        walk(entry.value, { parent: path, segment: entry.key }, depth + 1);
      }
    }
  };
  for (const doc of docs) walk(doc, undefined, 0);
  duplicatesSummary(result, file, budget);
  const lines = parsed.scalarLines;
  for (let i = 0; i < lines.length; i += 2) {
    for (let line = lines[i] as number; line <= (lines[i + 1] as number) && result.scalarContentLines.size < 1_000_000; line++) result.scalarContentLines.add(line);
  }
  if (options.documents !== false) result.documents = fastDocuments(parsed, options.only);
  return result;
}

/** The documents of a text the fast reader took, as values (only the keys `only` names, when given). */
function fastDocuments(parsed: FastYaml, only: KeyPaths | undefined): unknown[] {
  const docs = parsed.docs.filter((d): d is YNode => d !== undefined);
  return only === undefined ? docs.map(fastValue) : docs.map((doc) => fastValueOf(doc, only));
}

/**
 * A mapping key met while walking a document at `depth` (of its map): its position is recorded by
 * path, and a key already `seen` in the same map is reported (the first MAX_DUPLICATES of a file).
 */
function keyFound(
  result: YamlCheck,
  file: string,
  path: WalkPath | undefined,
  depth: number,
  seen: Map<string, number>,
  keyText: string,
  keyPos: SourcePosition,
  budget: { duplicates: number },
): void {
  if (depth < MAX_RECORDED_DEPTH && result.keyPositions.size < MAX_RECORDED_KEYS) {
    const formatted = appendPath(formatWalkPath(path), keyText);
    if (!result.keyPositions.has(formatted)) result.keyPositions.set(formatted, keyPos);
  }
  const first = seen.get(keyText);
  if (first === undefined) seen.set(keyText, keyPos.line);
  else if (++budget.duplicates <= MAX_DUPLICATES) {
    result.findings.push({
      severity: 'warning',
      rule: 'yaml-duplicate-key',
      file,
      path: appendPath(formatWalkPath(path), keyText),
      ...keyPos,
      message: `key "${keyText}" is set twice in ${path === undefined ? 'the top level' : formatWalkPath(path)} (first on line ${first}); Helm and Palette keep only the last one, so merge the two into one`,
    });
  }
}

/** Record the first null key of the first document (the parse found one there: yaml-go.ts nullKey; walked in the same order). */
function nullKeyFound(result: YamlCheck, path: WalkPath | undefined, keyText: string, at: SourcePosition): void {
  if (result.nullKey === undefined && !('fast' in result.parsed) && result.parsed.nullKey !== undefined) result.nullKey = { path: appendPath(formatWalkPath(path), keyText), ...at };
}

function duplicatesSummary(result: YamlCheck, file: string, budget: { duplicates: number }): void {
  if (budget.duplicates > MAX_DUPLICATES) {
    result.findings.push({ severity: 'warning', rule: 'yaml-duplicate-key', file, message: `and ${budget.duplicates - MAX_DUPLICATES} more duplicate keys` });
  }
}

/** A node's key path as a link to its parent's (no array copied per node); formatted on demand, once. */
interface WalkPath {
  parent: WalkPath | undefined;
  segment: PathSegment;
  formatted?: string;
}

function formatWalkPath(path: WalkPath | undefined): string {
  if (path === undefined) return '';
  path.formatted ??= appendPath(formatWalkPath(path.parent), path.segment);
  return path.formatted;
}

function walkDocument(
  doc: Document.Parsed,
  pos: (offset: number) => SourcePosition,
  result: YamlCheck,
  file: string,
  budget: { aliases: number; expansion: number; merges: number; duplicates: number },
  first: boolean,
): void {
  /** Expanded node count of each anchored node, for the alias expansion budget. */
  const sizes = new Map<string, number>();
  const start = (node: YamlNode | null | undefined): number => node?.range?.[0] ?? 0;

  const markScalar = (node: Scalar): void => {
    if (node.range === null || node.range === undefined || node.range[1] <= node.range[0]) return;
    const first = pos(node.range[0]).line;
    const last = pos(Math.max(node.range[0], node.range[1] - 1)).line;
    const block = node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED';
    if (last === first && !block) return;
    // Block scalar content starts below its header; a multi-line flow scalar's first line holds its key.
    for (let line = first + 1; line <= last && result.scalarContentLines.size < 1_000_000; line++) result.scalarContentLines.add(line);
  };

  /** What Go has decoded so far in document order, and how much of it inside aliases (goExcessiveAliasing). */
  const go = { decoded: 0, aliased: 0 };
  const excessive = (at: YamlNode | null | undefined): Refusal =>
    new Refusal(
      'yaml-alias-bomb',
      `aliases expand to ${go.aliased} of the ${go.decoded} nodes Go's YAML reader has decoded by here, a share it refuses as an alias bomb ("document contains excessive aliasing"), as Helm does; write the values out instead of repeating aliases`,
      start(at),
    );
  const walk = (node: YamlNode | null | undefined, path: WalkPath | undefined, depth: number): number => {
    go.decoded++;
    if (node === null || node === undefined) return 1;
    if (depth > MAX_YAML_DEPTH) {
      throw new Refusal('yaml-too-deep', `nesting deeper than ${MAX_YAML_DEPTH} levels; refusing the file. Flatten the structure`, start(node));
    }
    if (isAlias(node)) {
      if (++budget.aliases > MAX_YAML_ALIASES) {
        throw new Refusal('yaml-alias-bomb', `more than ${MAX_YAML_ALIASES} aliases (*name); refusing the file as a possible alias bomb. Write the values out instead of repeating aliases`, start(node));
      }
      const size = sizes.get(node.source) ?? 1;
      budget.expansion += size;
      // Go decodes what the alias stands for, node by node: its share is highest right after.
      go.decoded += size;
      go.aliased += size;
      if (first && goExcessiveAliasing(go.aliased, go.decoded)) throw excessive(node);
      if (budget.expansion > MAX_YAML_ALIAS_EXPANSION) {
        throw new Refusal(
          'yaml-alias-bomb',
          `aliases expand to more than ${MAX_YAML_ALIAS_EXPANSION} nodes (a "billion laughs" alias bomb?); refusing the file. Replace nested aliases (*${node.source}) with the values they stand for`,
          start(node),
        );
      }
      return size;
    }
    let size = 1;
    if (isScalar(node)) {
      markScalar(node as Scalar);
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => (size += walk(item as YamlNode | null, { parent: path, segment: i }, depth + 1)));
    } else if (isMap(node)) {
      const seen = new Map<string, number>();
      for (const pair of node.items) {
        const key = pair.key as YamlNode | null;
        const written = isScalar(key) ? String((key as Scalar).source ?? key.value ?? '') : undefined;
        // The key as Helm holds it: a plain `on` is "true", `!!int 0x10` is "16" (goKeyText).
        const tag = isScalar(key) ? key.tag : undefined;
        const plain = written !== undefined && (key as Scalar).type === 'PLAIN' && tag === undefined;
        const keyText = written === undefined ? undefined : goKeyText(written, plain, tag);
        size += walk(key, { parent: path, segment: '?' }, depth + 1);
        if ((plain || tag !== undefined) && written !== undefined && keyText !== undefined && keyText !== '<<') {
          // The documents' keys as Helm holds them (`1e7` is "1e+07", not JavaScript's "10000000").
          const value = (key as Scalar).value;
          if (value === null) nullKeyFound(result, path, keyText, pos(start(key)));
          else if (typeof value !== 'string' || tag !== undefined) (key as Scalar).value = keyText;
          if (result.uint64Key === undefined && goUint64Key(written, tag)) result.uint64Key = { path: appendPath(formatWalkPath(path), keyText), ...pos(start(key)) };
        } else if (key === null || (isScalar(key) && key.value === null)) {
          nullKeyFound(result, path, keyText ?? '', pos(start(key ?? (pair.value as YamlNode | null))));
        }
        if (keyText === '<<' && isScalar(key) && (key as Scalar).type === 'PLAIN') {
          // A merge copies the keys of what it merges: count them (as nodes) against their own budget.
          const merged = walk(pair.value as YamlNode | null, { parent: path, segment: '<<' }, depth + 1);
          size += merged;
          budget.merges += merged;
          if (budget.merges > MAX_YAML_MERGE_KEYS) {
            throw new Refusal('yaml-alias-bomb', `merges (<<) copy more than ${MAX_YAML_MERGE_KEYS} keys; refusing the file as a possible alias bomb. Write the values out instead of merging`, start(key));
          }
          continue;
        } else if (keyText !== undefined) {
          keyFound(result, file, path, depth, seen, keyText, pos(start(key)), budget);
        }
        size += walk(pair.value as YamlNode | null, { parent: path, segment: keyText ?? '?' }, depth + 1);
      }
    }
    if (node.anchor !== undefined) sizes.set(node.anchor, size);
    return size;
  };
  walk(doc.contents as YamlNode | null, undefined, 0);
  // Go reads only the first document.
  if (first && goExcessiveAliasing(go.aliased, go.decoded)) throw excessive(doc.contents as YamlNode | null);
}
