import { isAlias, isMap, isScalar, isSeq, type Document, type Node as YamlNode, type Scalar } from 'yaml';
import { parseGoYaml, parseYaml, type GoYamlError, type YamlParse } from './yaml-go.js';
import { goKeyText } from './yaml-tags.js';

/*
 * A YAML document as a tree that keeps positions and leaves aliases unexpanded, read the way Go reads
 * YAML (yaml-go.ts). Deep checks need line numbers, every duplicate key, and bounded work on hostile
 * input (an alias bomb is a few lines of text that expands to billions of nodes), none of which a plain
 * load gives.
 */

export interface YBase {
  /** 1-based line and column of the node's first character. */
  line: number;
  column: number;
  anchor?: string;
}

export interface YScalar extends YBase {
  kind: 'scalar';
  /** Decoded text (quotes and escapes resolved, block scalars folded). */
  value: string;
  /** Plain (unquoted, untagged) scalars are the ones YAML resolves to null, bool and numbers. */
  plain: boolean;
}

export interface YSeq extends YBase {
  kind: 'seq';
  items: YNode[];
}

export interface YEntry {
  /**
   * The key as Helm holds it (a plain `on` is "true", `1.10` is "1.1": yaml-tags.ts goKeyText); complex
   * (collection) keys read as `?`.
   */
  key: string;
  /** The key as written, when Helm holds another text. */
  written?: string;
  keyLine: number;
  keyColumn: number;
  /** The key is a plain scalar (its JavaScript key is what YAML resolves it to, e.g. `1.0` -> "1"). */
  keyPlain?: boolean;
  value: YNode;
}

export interface YMap extends YBase {
  kind: 'map';
  entries: YEntry[];
}

export interface YAlias extends YBase {
  kind: 'alias';
  /** The anchor name, without `*`. */
  name: string;
}

export type YNode = YScalar | YSeq | YMap | YAlias;

export interface DuplicateKey {
  /** Key path of the mapping holding the duplicate: keys, and indexes for list items. */
  parent: Array<string | number>;
  key: string;
  line: number;
  column: number;
  firstLine: number;
}

export interface YamlTree {
  /** Root of the first document; undefined for an empty file. */
  root: YNode | undefined;
  /** Anchored nodes by name (the last definition wins, as in YAML). */
  anchors: Map<string, YNode>;
  duplicates: DuplicateKey[];
  /** True when the document had more nodes than `maxNodes`: the tree is cut off there. */
  truncated: boolean;
  nodes: number;
  /** More than one document in the stream (only the first is kept). */
  multiDocument: boolean;
}

export interface ParseTreeOptions {
  /** Stop building after this many nodes (default 200 000). */
  maxNodes?: number;
  /** Collection nesting limit passed to the parser (default 100). */
  maxDepth?: number;
}

export const DEFAULT_MAX_NODES = 200_000;

/** Line/column lookup over a source text (1-based). */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(text: string) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }

  position(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (this.starts[lo] ?? 0) + 1 };
  }
}

/** The YAML text is not valid for Go's YAML reader. `mark` is 0-based, like js-yaml's, for callers that offset it. */
export class YamlSyntaxError extends Error {
  readonly reason: string;
  readonly mark: { line: number; column: number; position: number };

  constructor(error: GoYamlError) {
    super(`${error.message} (${error.line}:${error.column})`);
    this.name = 'YamlSyntaxError';
    this.reason = error.message;
    this.mark = { line: error.line - 1, column: error.column - 1, position: error.offset };
  }
}

/** Parse `text` into a tree. Throws YamlSyntaxError where Go's YAML reader refuses the text. */
export function parseYamlTree(text: string, options: ParseTreeOptions = {}): YamlTree {
  return yamlTreeOf(parseYaml(text), options);
}

/** The tree of text already parsed with parseYaml (a validator's check kept it): parseYamlTree without parsing again. */
export function yamlTreeOf(parsed: YamlParse, options: ParseTreeOptions = {}): YamlTree {
  const limits = { maxNodes: options.maxNodes ?? DEFAULT_MAX_NODES, maxDepth: options.maxDepth ?? 100 };
  if ('fast' in parsed) {
    // The fast reader built the tree already; past the limits, buildTree's cut-off decides what is kept.
    if (parsed.nodes > limits.maxNodes || parsed.depth > limits.maxDepth) return yamlTreeOf(parseGoYaml(parsed.text), options);
    const root = parsed.docs[0];
    return { root, anchors: new Map(), duplicates: root === undefined ? [] : duplicateKeys(root), truncated: false, nodes: parsed.nodes, multiDocument: parsed.docs.length > 1 };
  }
  if (parsed.error !== undefined) throw new YamlSyntaxError(parsed.error);
  const first = parsed.documents[0];
  const tree: YamlTree = { root: undefined, anchors: new Map(), duplicates: [], truncated: false, nodes: 0, multiDocument: parsed.documents.length > 1 };
  if (first !== undefined) {
    const built = buildTree(first, parsed.position, limits);
    Object.assign(tree, { root: built.root, anchors: built.anchors, duplicates: built.duplicates, truncated: built.truncated, nodes: built.nodes });
  }
  return tree;
}

export interface BuiltTree {
  root: YNode | undefined;
  anchors: Map<string, YNode>;
  duplicates: DuplicateKey[];
  truncated: boolean;
  nodes: number;
  /** Deeper than maxDepth: the position of the first node past it. */
  tooDeep?: { line: number; column: number };
}

/** A node's key path as a chain to its parent: built per node without copying, turned into an array only when needed. */
interface PathChain {
  parent: PathChain | undefined;
  segment: string | number;
}

function pathOf(chain: PathChain | undefined): Array<string | number> {
  const path: Array<string | number> = [];
  for (let link = chain; link !== undefined; link = link.parent) path.push(link.segment);
  return path.reverse();
}

/** The tree of one parsed document, positions in the original text. */
export function buildTree(doc: Document.Parsed, position: (offset: number) => { line: number; column: number }, limits: { maxNodes: number; maxDepth: number }): BuiltTree {
  const out: BuiltTree = { root: undefined, anchors: new Map(), duplicates: [], truncated: false, nodes: 0 };
  const at = (node: YamlNode | null | undefined, fallback: { line: number; column: number }) => (node?.range === undefined || node.range === null ? fallback : position(node.range[0]));

  const build = (node: YamlNode | null | undefined, path: PathChain | undefined, depth: number, where: { line: number; column: number }): YNode => {
    if (++out.nodes > limits.maxNodes) out.truncated = true;
    const { line, column } = at(node, where);
    if (depth > limits.maxDepth && out.tooDeep === undefined) out.tooDeep = { line, column };
    let built: YNode;
    if (node === null || node === undefined) {
      built = { kind: 'scalar', value: '', plain: true, line, column };
    } else if (isAlias(node)) {
      built = { kind: 'alias', name: node.source, line, column };
    } else if (isScalar(node)) {
      const scalar = node as Scalar;
      const text = typeof scalar.source === 'string' ? scalar.source : scalar.value === null || scalar.value === undefined ? '' : String(scalar.value);
      built = { kind: 'scalar', value: text, plain: scalar.type === 'PLAIN' && scalar.tag === undefined, line, column };
    } else if (isSeq(node)) {
      const seq: YSeq = { kind: 'seq', items: [], line, column };
      if (!out.truncated && depth <= limits.maxDepth) {
        node.items.forEach((item, i) => {
          if (!out.truncated) seq.items.push(build(item as YamlNode | null, { parent: path, segment: i }, depth + 1, { line, column }));
        });
      }
      built = seq;
    } else if (isMap(node)) {
      const map: YMap = { kind: 'map', entries: [], line, column };
      const seen = new Map<string, number>();
      if (!out.truncated && depth <= limits.maxDepth) {
        for (const pair of node.items) {
          if (out.truncated) break;
          const keyNode = pair.key as YamlNode | null;
          const keyBuilt = build(keyNode, { parent: path, segment: '?' }, depth + 1, { line, column });
          const key = keyBuilt.kind === 'scalar' ? goKeyText(keyBuilt.value, keyBuilt.plain, isScalar(keyNode) ? keyNode.tag : undefined) : keyBuilt.kind === 'alias' ? `*${keyBuilt.name}` : '?';
          // `<<` merge keys legitimately repeat nothing; complex keys are not comparable as text.
          if (key !== '?' && key !== '<<') {
            const first = seen.get(key);
            if (first !== undefined) out.duplicates.push({ parent: pathOf(path), key, line: keyBuilt.line, column: keyBuilt.column, firstLine: first });
            else seen.set(key, keyBuilt.line);
          }
          const value = build(pair.value as YamlNode | null, { parent: path, segment: key }, depth + 1, { line: keyBuilt.line, column: keyBuilt.column });
          // The written key set only when there is one: an object spread here is a runtime call per entry (issue 16).
          const entry: YEntry = { key, keyLine: keyBuilt.line, keyColumn: keyBuilt.column, keyPlain: keyBuilt.kind === 'scalar' && keyBuilt.plain, value };
          if (keyBuilt.kind === 'scalar' && key !== keyBuilt.value) entry.written = keyBuilt.value;
          map.entries.push(entry);
        }
      }
      built = map;
    } else {
      built = { kind: 'scalar', value: '', plain: true, line, column };
    }
    const anchor = node === null || node === undefined || isAlias(node) ? undefined : node.anchor;
    if (anchor !== undefined) {
      built.anchor = anchor;
      out.anchors.set(anchor, built);
    }
    return built;
  };
  const contents = doc.contents as YamlNode | null;
  // An empty document (empty file, only comments) has no root.
  if (contents !== null && !(isScalar(contents) && contents.value === null && (contents as Scalar).source === '' && contents.anchor === undefined)) {
    out.root = build(contents, undefined, 0, { line: 1, column: 1 });
  }
  return out;
}

/** The duplicate keys of a tree without aliases or merge keys (a fast-read one), in buildTree's order. */
function duplicateKeys(root: YNode): DuplicateKey[] {
  const out: DuplicateKey[] = [];
  const path: Array<string | number> = [];
  const walk = (node: YNode): void => {
    if (node.kind === 'seq') {
      node.items.forEach((item, i) => {
        path.push(i);
        walk(item);
        path.pop();
      });
    } else if (node.kind === 'map') {
      const seen = new Map<string, number>();
      for (const entry of node.entries) {
        const first = seen.get(entry.key);
        if (first !== undefined) out.push({ parent: [...path], key: entry.key, line: entry.keyLine, column: entry.keyColumn, firstLine: first });
        else seen.set(entry.key, entry.keyLine);
        path.push(entry.key);
        walk(entry.value);
        path.pop();
      }
    }
  };
  walk(root);
  return out;
}

/** True for a scalar YAML reads as null (`~`, `null`, or nothing). */
export function isNullScalar(node: YNode): boolean {
  return node.kind === 'scalar' && node.plain && (node.value === '' || node.value === '~' || /^(?:null|Null|NULL)$/.test(node.value));
}

/** Follow aliases to the anchored node (bounded: an alias to an alias chain stops after 16 hops). */
export function resolveAlias(node: YNode | undefined, anchors: Map<string, YNode>): YNode | undefined {
  let current = node;
  for (let hops = 0; current !== undefined && current.kind === 'alias' && hops < 16; hops++) current = anchors.get(current.name);
  return current?.kind === 'alias' ? undefined : current;
}

/** A mapping's keys indexed once: the last entry of each explicit key, and the positions of its `<<` entries. */
interface MapIndex {
  last: Map<string, { entry: YEntry; at: number }>;
  merges: number[];
}

const indexCache = new WeakMap<YMap, MapIndex>();

/** A `<<` merge key: plain (a quoted "<<" is an ordinary key in Go's YAML too). */
function isMergeKey(entry: YEntry): boolean {
  return entry.key === '<<' && entry.keyPlain !== false;
}

/** Keys of a mapping, indexed once (lookups stay linear in the size of both trees). */
function indexOf(map: YMap): MapIndex {
  let index = indexCache.get(map);
  if (index === undefined) {
    index = { last: new Map(), merges: [] };
    map.entries.forEach((entry, at) => {
      if (isMergeKey(entry)) index!.merges.push(at);
      else index!.last.set(entry.key, { entry, at });
    });
    indexCache.set(map, index);
  }
  return index;
}

/** The mappings one `<<` entry merges, in the order written (an alias to a mapping, or a sequence of them). */
function mergeSources(entry: YEntry, anchors: Map<string, YNode>): YMap[] {
  const source = resolveAlias(entry.value, anchors);
  const sources = source?.kind === 'seq' ? source.items : source === undefined ? [] : [source];
  return sources.map((s) => resolveAlias(s, anchors)).filter((s): s is YMap => s?.kind === 'map');
}

/**
 * The entry for `key` in a mapping, looking through `<<` merge keys as Helm reads values (sigs.k8s.io/yaml
 * over go-yaml v2): the mapping's entries apply in the order written, so the last writer of `key` wins,
 * whether an explicit key (the last of duplicates) or a `<<` after it; within one `<<`, an earlier mapping
 * of a sequence wins over a later one, and a merged mapping's own `<<` entries apply the same way.
 * (go-yaml v3 differs only where a `<<` follows an explicit key: there the explicit key wins.)
 */
export function mapEntry(map: YMap, key: string, anchors: Map<string, YNode>, depth = 0): YEntry | undefined {
  const index = indexOf(map);
  const explicit = index.last.get(key);
  if (depth >= 8) return explicit?.entry;
  for (let m = index.merges.length - 1; m >= 0; m--) {
    const at = index.merges[m] as number;
    if (explicit !== undefined && at < explicit.at) break;
    for (const source of mergeSources(map.entries[at] as YEntry, anchors)) {
      const merged = mapEntry(source, key, anchors, depth + 1);
      if (merged !== undefined) return merged;
    }
  }
  return explicit?.entry;
}

/** The keys of a mapping including merged ones, each once (explicit keys first, in the order written), bounded like `mapEntry`. */
export function mapKeys(map: YMap, anchors: Map<string, YNode>, depth = 0): string[] {
  const index = indexOf(map);
  const keys = new Set<string>(index.last.keys());
  if (depth < 8) {
    for (const at of index.merges) for (const source of mergeSources(map.entries[at] as YEntry, anchors)) for (const k of mapKeys(source, anchors, depth + 1)) keys.add(k);
  }
  return [...keys];
}
