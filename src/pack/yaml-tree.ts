import { EVENT_ID, getScalarValue, parseEvents, SCALAR_STYLE, type Event } from 'js-yaml';

/*
 * A YAML document as a tree that keeps positions and leaves aliases unexpanded, built from js-yaml's
 * event stream. Deep checks need line numbers, every duplicate key, and bounded work on hostile input
 * (an alias bomb is a few lines of text that expands to billions of nodes), none of which `load` gives.
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
  /** The key's text; complex (collection) keys read as `?`. */
  key: string;
  keyLine: number;
  keyColumn: number;
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

interface Frame {
  node: YMap | YSeq;
  path: Array<string | number>;
  /** Mappings: the key waiting for its value. */
  pendingKey?: { key: string; line: number; column: number };
  seen?: Map<string, number>;
}

/** Parse `text` into a tree. Throws js-yaml's YAMLException (with `mark.line`, 0-based) on syntax errors. */
export function parseYamlTree(text: string, options: ParseTreeOptions = {}): YamlTree {
  const maxNodes = options.maxNodes ?? DEFAULT_MAX_NODES;
  const events: Event[] = parseEvents(text, { maxDepth: options.maxDepth ?? 100 });
  const lines = new LineIndex(text);
  const tree: YamlTree = { root: undefined, anchors: new Map(), duplicates: [], truncated: false, nodes: 0, multiDocument: false };
  const stack: Frame[] = [];
  let documents = 0;
  let lastOffset = 0;

  const pos = (offset: number) => {
    if (offset >= 0) lastOffset = offset;
    return lines.position(offset >= 0 ? offset : lastOffset);
  };

  const attach = (node: YNode): void => {
    const top = stack[stack.length - 1];
    if (top === undefined) {
      tree.root ??= node;
      return;
    }
    if (top.node.kind === 'seq') {
      top.node.items.push(node);
      return;
    }
    if (top.pendingKey === undefined) {
      const key = node.kind === 'scalar' ? node.value : node.kind === 'alias' ? `*${node.name}` : '?';
      top.pendingKey = { key, line: node.line, column: node.column };
      return;
    }
    const { key, line, column } = top.pendingKey;
    top.pendingKey = undefined;
    // `<<` merge keys legitimately repeat nothing; complex keys are not comparable as text.
    if (key !== '?' && key !== '<<') {
      top.seen ??= new Map();
      const first = top.seen.get(key);
      if (first !== undefined) tree.duplicates.push({ parent: top.path, key, line, column, firstLine: first });
      else top.seen.set(key, line);
    }
    top.node.entries.push({ key, keyLine: line, keyColumn: column, value: node });
  };

  const childPath = (): Array<string | number> => {
    const top = stack[stack.length - 1];
    if (top === undefined) return [];
    if (top.node.kind === 'seq') return [...top.path, top.node.items.length];
    return top.pendingKey === undefined ? [...top.path, '?'] : [...top.path, top.pendingKey.key];
  };

  const anchorOf = (start: number, end: number): string | undefined => (start >= 0 ? text.slice(start, end) : undefined);

  for (const event of events) {
    if (event.type === EVENT_ID.DOCUMENT) {
      documents++;
      if (documents > 1) {
        tree.multiDocument = true;
        break;
      }
      continue;
    }
    if (event.type === EVENT_ID.POP) {
      if (stack.length > 0) stack.pop();
      continue;
    }
    if (++tree.nodes > maxNodes) {
      tree.truncated = true;
      break;
    }
    let node: YNode;
    switch (event.type) {
      case EVENT_ID.SCALAR: {
        const { line, column } = pos(event.valueStart >= 0 ? event.valueStart : event.tagStart);
        node = {
          kind: 'scalar',
          value: event.valueStart >= 0 ? getScalarValue(text, event) : '',
          plain: event.style === SCALAR_STYLE.PLAIN && event.tagStart < 0,
          line,
          column,
        };
        break;
      }
      case EVENT_ID.ALIAS: {
        const { line, column } = pos(event.anchorStart - 1);
        node = { kind: 'alias', name: text.slice(event.anchorStart, event.anchorEnd), line, column };
        break;
      }
      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE: {
        const { line, column } = pos(event.start);
        node = event.type === EVENT_ID.MAPPING ? { kind: 'map', entries: [], line, column } : { kind: 'seq', items: [], line, column };
        break;
      }
    }
    const anchor = event.type === EVENT_ID.ALIAS ? undefined : anchorOf(event.anchorStart, event.anchorEnd);
    if (anchor !== undefined) {
      node.anchor = anchor;
      tree.anchors.set(anchor, node);
    }
    const path = childPath();
    attach(node);
    if (node.kind === 'map' || node.kind === 'seq') stack.push({ node, path });
  }
  return tree;
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

const indexCache = new WeakMap<YMap, Map<string, YEntry>>();

/** Explicit keys of a mapping, indexed once (lookups stay linear in the size of both trees). */
function indexOf(map: YMap): Map<string, YEntry> {
  let index = indexCache.get(map);
  if (index === undefined) {
    index = new Map();
    for (const entry of map.entries) if (!index.has(entry.key)) index.set(entry.key, entry);
    indexCache.set(map, index);
  }
  return index;
}

function mergeSources(map: YMap, anchors: Map<string, YNode>): YMap[] {
  const merge = indexOf(map).get('<<');
  if (merge === undefined) return [];
  const source = resolveAlias(merge.value, anchors);
  const sources = source?.kind === 'seq' ? source.items : source === undefined ? [] : [source];
  return sources.map((s) => resolveAlias(s, anchors)).filter((s): s is YMap => s?.kind === 'map');
}

/**
 * The entry for `key` in a mapping, looking through `<<` merge keys (Helm reads values with go-yaml,
 * which applies merges). Explicit keys win over merged ones, as the YAML merge-key spec says.
 */
export function mapEntry(map: YMap, key: string, anchors: Map<string, YNode>, depth = 0): YEntry | undefined {
  const explicit = indexOf(map).get(key);
  if (explicit !== undefined || depth >= 8) return explicit;
  for (const source of mergeSources(map, anchors)) {
    const merged = mapEntry(source, key, anchors, depth + 1);
    if (merged !== undefined) return merged;
  }
  return undefined;
}

/** The keys of a mapping including merged ones (first occurrence wins), bounded like `mapEntry`. */
export function mapKeys(map: YMap, anchors: Map<string, YNode>, depth = 0): string[] {
  const keys = new Set<string>();
  for (const key of indexOf(map).keys()) if (key !== '<<') keys.add(key);
  if (depth < 8) for (const source of mergeSources(map, anchors)) for (const k of mapKeys(source, anchors, depth + 1)) keys.add(k);
  return [...keys];
}
