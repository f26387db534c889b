import { Document, isScalar } from 'yaml';
import type { YEntry, YMap, YNode, YScalar, YSeq } from './yaml-tree.js';
import { goKeyText, goSchemaTags, goUint64Key } from './yaml-tags.js';

/*
 * A fast reader for the YAML almost every pack file is written in (issue 16): block mappings and
 * sequences, plain and quoted scalars on one line, comments, `---` between documents. It builds the
 * position-keeping tree of yaml-tree.ts directly, without the `yaml` package's lexer, CST and Document
 * (most of validate's CPU time). It gives up (returns undefined) the moment the text holds anything
 * else: anchors, aliases, tags, flow collections, block scalars, multi-line scalars, merge keys, tabs,
 * carriage returns, control characters, directives, `...`, odd indentation, long or null keys, deep
 * nesting, or anything that would be an error. The caller then reads the text with the full reader
 * (yaml-go.ts), so every result is the one the full reader gives; test/unit/pack/yaml-fast.test.ts
 * checks that on every YAML text of the real packs and on generated YAML in and near the subset.
 * Plain scalars resolve with the full reader's own YAML 1.1 schema (resolvePlain below).
 */

/** The parse of a text the fast reader took: every document's root (undefined for an empty one). */
export interface FastYaml {
  fast: true;
  text: string;
  docs: Array<YNode | undefined>;
  /** Nodes of the first document as yaml-tree.ts buildTree counts them (keys included). */
  nodes: number;
  /** Deepest node of any document, root at 0 (keys and values one deeper than their map). */
  depth: number;
  /** First and last line of every block scalar's content, in pairs (yaml-source.ts scalarContentLines). */
  scalarLines: number[];
}

/** Deepest nesting the fast reader takes (the full reader's bounds are 100: these never reach them). */
const MAX_FAST_DEPTH = 90;
/** Longest implicit key (the `yaml` package refuses more than 1024 characters). */
const MAX_KEY_LENGTH = 1000;

/** Thrown inside the reader when the text leaves the subset. */
const UNSUPPORTED = new Error('not in the fast YAML subset');

const SPACE = 0x20;
const HASH = 0x23;
const DASH = 0x2d;
const COLON = 0x3a;
const DQUOTE = 0x22;
const SQUOTE = 0x27;
const BACKSLASH = 0x5c;

/** Line breaks, tabs, carriage returns, BOMs and control characters: any of them sends the text to the full reader. */
const OUTSIDE = /[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\u{10000}-\u{10ffff}]/u;

/** First characters of a plain scalar the fast reader refuses: YAML indicators, quotes (handled apart), `<` (merge keys). */
function badPlainStart(c: number, next: number): boolean {
  switch (c) {
    case 0x5b: // [
    case 0x5d: // ]
    case 0x7b: // {
    case 0x7d: // }
    case 0x2c: // ,
    case HASH:
    case 0x26: // &
    case 0x2a: // *
    case 0x21: // !
    case 0x7c: // |
    case 0x3e: // >
    case 0x25: // %
    case 0x40: // @
    case 0x60: // `
    case DQUOTE:
    case SQUOTE:
    case 0x3f: // ?
    case COLON:
    case 0x3c: // <
      return true;
    case DASH:
      return next === SPACE || Number.isNaN(next);
    default:
      return false;
  }
}

const ESCAPES: Record<string, string> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  e: '\x1b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  N: '\u0085',
  _: '\u00a0',
  L: '\u2028',
  P: '\u2029',
  ' ': ' ',
  '"': '"',
  // go-yaml (scannerc.go yaml_parser_scan_flow_scalar) reads `\'` as `'` and refuses `\/` ("found unknown
  // escape character"), unlike YAML 1.2: `\/` is left to the full reader, which refuses it.
  "'": "'",
  '\\': '\\',
};

class Reader {
  /** Content lines (not blank, not only a comment): start offset, indentation, end offset, 1-based number, document marker. */
  private readonly starts: number[] = [];
  private readonly indents: number[] = [];
  private readonly ends: number[] = [];
  private readonly numbers: number[] = [];
  private readonly markers: boolean[] = [];
  private readonly count: number;
  /** The current content line. */
  private li = 0;
  nodes = 0;
  depth = 0;
  /** First and last line of every block scalar's content, in pairs. */
  readonly scalarLines: number[] = [];

  constructor(private readonly text: string) {
    const len = text.length;
    let pos = 0;
    let number = 1;
    while (pos <= len) {
      let end = text.indexOf('\n', pos);
      if (end === -1) end = len;
      let c = pos;
      while (c < end && text.charCodeAt(c) === SPACE) c++;
      if (c < end && text.charCodeAt(c) !== HASH) {
        let marker = false;
        if (c === pos) {
          if (text.startsWith('---', c)) {
            let r = c + 3;
            while (r < end && text.charCodeAt(r) === SPACE) r++;
            // `---` alone (or with a comment after a space) separates documents; `--- x`, `---x` are not taken.
            if (!(r === end || (r > c + 3 && text.charCodeAt(r) === HASH))) throw UNSUPPORTED;
            marker = true;
          } else if (text.startsWith('...', c) || text.charCodeAt(c) === 0x25) {
            throw UNSUPPORTED;
          }
        }
        this.starts.push(pos);
        this.indents.push(c - pos);
        this.ends.push(end);
        this.numbers.push(number);
        this.markers.push(marker);
      }
      pos = end + 1;
      number++;
    }
    this.count = this.starts.length;
  }

  read(): Array<YNode | undefined> {
    const docs: Array<YNode | undefined> = [];
    if (this.count === 0) return docs;
    let firstNodes = -1;
    if (this.markers[0] !== true) {
      docs.push(this.document());
      firstNodes = this.nodes;
    }
    while (this.li < this.count) {
      this.li++; // the marker
      if (this.li >= this.count || this.markers[this.li] === true) docs.push(undefined);
      else docs.push(this.document());
      if (firstNodes === -1) firstNodes = this.nodes;
    }
    this.nodes = Math.max(firstNodes, 0);
    return docs;
  }

  private document(): YNode {
    const li = this.li;
    const root = this.block((this.starts[li] as number) + (this.indents[li] as number), -1, 0);
    if (this.li < this.count && this.markers[this.li] !== true) throw UNSUPPORTED;
    return root;
  }

  /** Is content line `li` there, and not a document marker? */
  private more(li: number): boolean {
    return li < this.count && this.markers[li] !== true;
  }

  private lineOf(offset: number): { line: number; column: number } {
    return { line: this.numbers[this.li] as number, column: offset - (this.starts[this.li] as number) + 1 };
  }

  /**
   * A scalar node at `offset` of the current line: its position written as fields, not spread from lineOf's (an
   * object spread after other properties is a runtime call in V8: ~5x the cost of the node, made for every key
   * and value of every YAML file validate reads; issue 16).
   */
  private scalarNode(value: string, plain: boolean, offset: number): YScalar {
    return { kind: 'scalar', value, plain, line: this.numbers[this.li] as number, column: offset - (this.starts[this.li] as number) + 1 };
  }

  private node(depth: number): void {
    this.nodes++;
    if (depth > this.depth) {
      if (depth > MAX_FAST_DEPTH) throw UNSUPPORTED;
      this.depth = depth;
    }
  }

  private isSeqStart(off: number, end: number): boolean {
    return this.text.charCodeAt(off) === DASH && (off + 1 === end || this.text.charCodeAt(off + 1) === SPACE);
  }

  /** A node that starts at `off` on the current line, its parent indented by `parent`. */
  private block(off: number, parent: number, depth: number): YNode {
    const end = this.ends[this.li] as number;
    if (this.isSeqStart(off, end)) return this.seq(off, depth);
    const key = this.key(off, end);
    if (key !== undefined) return this.map(off, key, depth);
    const scalar = this.scalar(off, end, depth, undefined);
    // A more indented line continues the scalar over several lines: not in the subset.
    if (this.more(this.li) && (this.indents[this.li] as number) > parent) throw UNSUPPORTED;
    return scalar;
  }

  /**
   * The key of a `key: value` line starting at `off`: the key scalar and the offset after its colon,
   * or undefined when the line holds no mapping key.
   */
  private key(off: number, end: number): { node: YScalar; after: number } | undefined {
    const text = this.text;
    const c = text.charCodeAt(off);
    if (c === DQUOTE || c === SQUOTE) {
      const quoted = this.quoted(off, end);
      let r = quoted.end;
      while (r < end && text.charCodeAt(r) === SPACE) r++;
      if (text.charCodeAt(r) !== COLON || !(r + 1 === end || text.charCodeAt(r + 1) === SPACE)) return undefined;
      if (r - off > MAX_KEY_LENGTH) throw UNSUPPORTED;
      return { node: this.scalarNode(quoted.value, false, off), after: r + 1 };
    }
    if (c === 0x7c || c === 0x3e || c === 0x5b || c === 0x7b) return undefined; // a block scalar header or flow collection
    if (badPlainStart(c, off + 1 < end ? text.charCodeAt(off + 1) : NaN)) throw UNSUPPORTED;
    for (let j = off; j < end; j++) {
      const ch = text.charCodeAt(j);
      if (ch === COLON) {
        if (j + 1 === end || text.charCodeAt(j + 1) === SPACE) {
          let k = j;
          while (text.charCodeAt(k - 1) === SPACE) k--;
          if (k - off > MAX_KEY_LENGTH) throw UNSUPPORTED;
          const value = text.slice(off, k);
          // Merge keys, and null keys (which sigs.k8s.io/yaml refuses): the full reader's verdict.
          if (value === '<<' || value === '~' || value === 'null' || value === 'Null' || value === 'NULL') throw UNSUPPORTED;
          // A key Go reads as a uint64, which Helm refuses: the full reader records it.
          if (goUint64Key(value)) throw UNSUPPORTED;
          return { node: this.scalarNode(value, true, off), after: j + 1 };
        }
      } else if (ch === HASH && text.charCodeAt(j - 1) === SPACE) {
        return undefined;
      }
    }
    return undefined;
  }

  /** A quoted scalar that closes on its line: the decoded text and the offset after the closing quote. */
  private quoted(off: number, end: number): { value: string; end: number } {
    const text = this.text;
    const q = text.charCodeAt(off);
    let value = '';
    let from = off + 1;
    for (let j = off + 1; j < end; j++) {
      const ch = text.charCodeAt(j);
      if (ch === q) {
        if (q === SQUOTE && text.charCodeAt(j + 1) === SQUOTE) {
          value += text.slice(from, j + 1);
          j++;
          from = j + 1;
          continue;
        }
        return { value: value + text.slice(from, j), end: j + 1 };
      }
      if (ch === BACKSLASH && q === DQUOTE) {
        value += text.slice(from, j);
        const next = text[j + 1] ?? '';
        const simple = ESCAPES[next];
        if (simple !== undefined) {
          value += simple;
          j++;
        } else if (next === 'x' || next === 'u' || next === 'U') {
          const length = next === 'x' ? 2 : next === 'u' ? 4 : 8;
          const hex = text.slice(j + 2, j + 2 + length);
          if (hex.length !== length || !/^[0-9a-fA-F]+$/.test(hex)) throw UNSUPPORTED;
          const code = parseInt(hex, 16);
          // A surrogate go-yaml refuses ("found invalid Unicode character escape code"): the full reader says so.
          if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) throw UNSUPPORTED;
          value += String.fromCodePoint(code);
          j += 1 + length;
        } else {
          throw UNSUPPORTED;
        }
        from = j + 1;
      }
    }
    throw UNSUPPORTED; // closes on a later line, or never
  }

  /**
   * A scalar from `off` to the end of its line (a comment may follow), or a block scalar (`|`, `>`)
   * when `blockParent` (the indentation of the collection holding it) is given. Moves past its lines.
   */
  private scalar(off: number, end: number, depth: number, blockParent: number | undefined): YScalar {
    const text = this.text;
    this.node(depth);
    const c = text.charCodeAt(off);
    if (c === DQUOTE || c === SQUOTE) {
      const quoted = this.quoted(off, end);
      let r = quoted.end;
      while (r < end && text.charCodeAt(r) === SPACE) r++;
      if (r < end && !(r > quoted.end && text.charCodeAt(r) === HASH)) throw UNSUPPORTED;
      const scalar: YScalar = this.scalarNode(quoted.value, false, off);
      this.li++;
      return scalar;
    }
    if ((c === 0x7c || c === 0x3e) && blockParent !== undefined) return this.blockScalar(off, end, blockParent);
    if (c === 0x5b || c === 0x7b) throw UNSUPPORTED; // flow collections: see inline()
    if (badPlainStart(c, off + 1 < end ? text.charCodeAt(off + 1) : NaN)) throw UNSUPPORTED;
    let stop = end;
    for (let j = off + 1; j < end; j++) {
      const ch = text.charCodeAt(j);
      if (ch === HASH && text.charCodeAt(j - 1) === SPACE) {
        stop = j;
        break;
      }
      if (ch === COLON && (j + 1 === end || text.charCodeAt(j + 1) === SPACE)) throw UNSUPPORTED;
    }
    while (text.charCodeAt(stop - 1) === SPACE) stop--;
    const scalar: YScalar = this.scalarNode(text.slice(off, stop), true, off);
    this.li++;
    return scalar;
  }

  /** A value after `key: ` or `- `: a scalar, or a flow collection on one line (`[a, "b"]`, `[]`, `{}`). */
  private inline(off: number, end: number, depth: number, parent: number): YNode {
    const text = this.text;
    const c = text.charCodeAt(off);
    if (c !== 0x5b && c !== 0x7b) return this.scalar(off, end, depth, parent);
    this.node(depth);
    const at = this.lineOf(off);
    const close = c === 0x5b ? 0x5d : 0x7d;
    let j = off + 1;
    while (j < end && text.charCodeAt(j) === SPACE) j++;
    const items: YNode[] = [];
    if (text.charCodeAt(j) === close) j++;
    else {
      // Only sequences have items here; `{a: 1}` is left to the full reader.
      if (c === 0x7b) throw UNSUPPORTED;
      for (;;) {
        const ch = text.charCodeAt(j);
        let itemEnd: number;
        this.node(depth + 1);
        if (ch === DQUOTE || ch === SQUOTE) {
          const quoted = this.quoted(j, end);
          items.push(this.scalarNode(quoted.value, false, j));
          itemEnd = quoted.end;
        } else {
          if (badPlainStart(ch, j + 1 < end ? text.charCodeAt(j + 1) : NaN)) throw UNSUPPORTED;
          let k = j;
          for (; k < end; k++) {
            const x = text.charCodeAt(k);
            if (x === 0x2c || x === 0x5d) break;
            // Flow indicators, `:` (a pair) and `#` inside an item: not taken.
            if (x === 0x5b || x === 0x7b || x === 0x7d || x === COLON || x === HASH) throw UNSUPPORTED;
          }
          let stop = k;
          while (text.charCodeAt(stop - 1) === SPACE) stop--;
          items.push(this.scalarNode(text.slice(j, stop), true, j));
          itemEnd = k;
        }
        j = itemEnd;
        while (j < end && text.charCodeAt(j) === SPACE) j++;
        const sep = text.charCodeAt(j);
        if (sep === 0x5d) {
          j++;
          break;
        }
        if (sep !== 0x2c) throw UNSUPPORTED;
        j++;
        while (j < end && text.charCodeAt(j) === SPACE) j++;
        if (text.charCodeAt(j) === 0x5d || j === end) throw UNSUPPORTED; // `[a,]`, or continued on the next line
      }
    }
    let r = j;
    while (r < end && text.charCodeAt(r) === SPACE) r++;
    if (r < end && !(r > j && text.charCodeAt(r) === HASH)) throw UNSUPPORTED;
    this.li++;
    return c === 0x5b ? { kind: 'seq', items, line: at.line, column: at.column } : { kind: 'map', entries: [], line: at.line, column: at.column };
  }

  /**
   * A block scalar whose header (`|`, `|-`, `>`, `>-`, nothing after it) is at `off`, in a collection
   * indented by `parent`. Taken: content lines indented alike (deeper ones too for `|`), blank lines
   * between them, no blank line first, none deeper than the content after it (YAML keeps those).
   */
  private blockScalar(off: number, end: number, parent: number): YScalar {
    const text = this.text;
    const folded = text.charCodeAt(off) === 0x3e;
    let header = off + 1;
    const strip = text.charCodeAt(header) === DASH;
    if (strip) header++;
    if (header !== end) throw UNSUPPORTED;
    const at = this.lineOf(off);
    // Raw lines from the one after the header: content ends at the first non-blank line indented by
    // `parent` or less. Comment-like lines inside are content.
    const lines: string[] = [];
    let trim = -1;
    let last = -1;
    let lastEnd = -1;
    let pos = end + 1;
    while (pos <= text.length && end < text.length) {
      let lineEnd = text.indexOf('\n', pos);
      if (lineEnd === -1) lineEnd = text.length;
      let c = pos;
      while (c < lineEnd && text.charCodeAt(c) === SPACE) c++;
      const indent = c - pos;
      if (c === lineEnd) {
        // Blank: before any content (YAML counts it in), or deeper than the content (kept), not taken.
        if (trim === -1 || indent > trim) throw UNSUPPORTED;
        lines.push('');
      } else {
        if (indent <= parent) break;
        if (trim === -1) trim = indent;
        else if (indent < trim) throw UNSUPPORTED;
        if (folded && indent > trim) throw UNSUPPORTED;
        lines.push(text.slice(pos + trim, lineEnd));
        last = lines.length;
        lastEnd = lineEnd;
      }
      pos = lineEnd + 1;
    }
    if (last === -1) throw UNSUPPORTED; // empty
    lines.length = last;
    let value: string;
    if (!folded) value = lines.join('\n');
    else {
      // Folding: a line break between two text lines is a space; each blank line between them a break.
      value = '';
      let sep = '';
      for (const line of lines) {
        if (line === '') {
          if (sep === '\n') value += '\n';
          else sep = '\n';
        } else {
          value += sep + line;
          sep = ' ';
        }
      }
    }
    // Go adds the break after the last line, none when that line ends the text (yaml-breaks.ts goFinalBlockBreak).
    if (!strip && lastEnd < text.length) value += '\n';
    const lastLine = at.line + last;
    this.scalarLines.push(at.line + 1, lastLine);
    while (this.li < this.count && (this.numbers[this.li] as number) <= lastLine) this.li++;
    return { kind: 'scalar', value, plain: false, line: at.line, column: at.column };
  }

  private map(off: number, first: { node: YScalar; after: number }, depth: number): YMap {
    const text = this.text;
    const indent = off - (this.starts[this.li] as number);
    this.node(depth);
    const pos = this.lineOf(off);
    const map: YMap = { kind: 'map', entries: [], line: pos.line, column: pos.column };
    let key: { node: YScalar; after: number } | undefined = first;
    for (;;) {
      this.node(depth + 1); // the key
      const end = this.ends[this.li] as number;
      let p = key.after;
      while (p < end && text.charCodeAt(p) === SPACE) p++;
      let value: YNode;
      if (p === end || text.charCodeAt(p) === HASH) {
        const empty = this.lineOf(p);
        this.li++;
        const next = this.li;
        if (this.more(next) && (this.indents[next] as number) > indent) {
          value = this.block((this.starts[next] as number) + (this.indents[next] as number), indent, depth + 1);
        } else if (this.more(next) && this.indents[next] === indent && this.isSeqStart((this.starts[next] as number) + indent, this.ends[next] as number)) {
          value = this.seq((this.starts[next] as number) + indent, depth + 1);
        } else {
          this.node(depth + 1);
          value = { kind: 'scalar', value: '', plain: true, line: empty.line, column: empty.column };
        }
      } else {
        value = this.inline(p, end, depth + 1, indent);
      }
      const k = key.node;
      const goKey = goKeyText(k.value, k.plain);
      const entry: YEntry = { key: goKey, keyLine: k.line, keyColumn: k.column, keyPlain: k.plain, value };
      if (goKey !== k.value) entry.written = k.value;
      map.entries.push(entry);
      const next = this.li;
      if (!this.more(next) || (this.indents[next] as number) < indent) return map;
      if ((this.indents[next] as number) > indent) throw UNSUPPORTED;
      const at = (this.starts[next] as number) + indent;
      key = this.key(at, this.ends[next] as number);
      if (key === undefined) throw UNSUPPORTED;
    }
  }

  private seq(off: number, depth: number): YSeq {
    const text = this.text;
    const indent = off - (this.starts[this.li] as number);
    this.node(depth);
    const pos = this.lineOf(off);
    const seq: YSeq = { kind: 'seq', items: [], line: pos.line, column: pos.column };
    let at = off;
    for (;;) {
      const end = this.ends[this.li] as number;
      let p = at + 1;
      while (p < end && text.charCodeAt(p) === SPACE) p++;
      if (p === end || text.charCodeAt(p) === HASH) {
        // `-` with nothing after it on its line: the item is below, or null.
        this.li++;
        const next = this.li;
        if (this.more(next) && (this.indents[next] as number) > indent) {
          seq.items.push(this.block((this.starts[next] as number) + (this.indents[next] as number), indent, depth + 1));
        } else {
          // An empty item: the `yaml` package makes it null or an empty scalar depending on what follows.
          throw UNSUPPORTED;
        }
      } else if (this.isSeqStart(p, end)) {
        seq.items.push(this.seq(p, depth + 1));
      } else {
        const key = this.key(p, end);
        if (key !== undefined) seq.items.push(this.map(p, key, depth + 1));
        else {
          seq.items.push(this.inline(p, end, depth + 1, indent));
        }
      }
      const next = this.li;
      if (!this.more(next) || (this.indents[next] as number) < indent) return seq;
      if ((this.indents[next] as number) > indent) throw UNSUPPORTED;
      at = (this.starts[next] as number) + indent;
      if (!this.isSeqStart(at, this.ends[next] as number)) return seq;
    }
  }
}

/** Read `text` with the fast reader, or undefined when it leaves the subset (read it with yaml-go.ts then). */
export function parseFastYaml(text: string): FastYaml | undefined {
  if (OUTSIDE.test(text)) return undefined;
  try {
    const reader = new Reader(text);
    const docs = reader.read();
    return { fast: true, text, docs, nodes: reader.nodes, depth: reader.depth, scalarLines: reader.scalarLines };
  } catch (err) {
    if (err === UNSUPPORTED) return undefined;
    throw err;
  }
}

/* ---------- values ---------- */

const SCHEMA_OPTIONS = {
  version: '1.1',
  merge: true,
  customTags: goSchemaTags,
} as const;

interface ScalarTag {
  default?: boolean | 'key';
  test?: RegExp;
  resolve: (value: string, onError: (message: string) => void, options: object) => unknown;
}

let schemaTags: { tags: ScalarTag[]; options: object } | undefined;

/** The tags and options the full reader resolves plain scalars with (yaml-go.ts PARSE_OPTIONS). */
function scalarSchema(): { tags: ScalarTag[]; options: object } {
  if (schemaTags === undefined) {
    const doc = new Document(undefined, SCHEMA_OPTIONS);
    schemaTags = { tags: doc.schema.tags as unknown as ScalarTag[], options: doc.options };
  }
  return schemaTags;
}

/** Thrown by fastValue when a scalar does not resolve cleanly: the caller reads the text with the full reader. */
export class FastYamlUnsupported extends Error {}

/**
 * A plain scalar's value as the `yaml` package resolves it (compose-scalar.ts findScalarTagByTest with
 * the YAML 1.1 schema without timestamps). Only text starting like a null, bool or number (`e5` is a float) can be one.
 */
function resolvePlain(text: string, atKey: boolean): unknown {
  if (text !== '' && !/^[-+.~0-9nNyYtTfFoOeE<]/.test(text)) return text;
  const { tags, options } = scalarSchema();
  for (const tag of tags) {
    if ((tag.default === true || (atKey && tag.default === 'key')) && tag.test !== undefined && tag.test.test(text)) {
      let failed = false;
      const res = tag.resolve(text, () => (failed = true), options);
      if (failed) throw new FastYamlUnsupported(`scalar ${text} did not resolve`);
      const value = isScalar(res) ? res.value : res;
      if (typeof value === 'bigint' || (typeof value === 'object' && value !== null)) throw new FastYamlUnsupported(`scalar ${text} resolves to an object`);
      return value;
    }
  }
  return text;
}

/**
 * Key paths wanted of a document (yaml-source.ts YamlCheckOptions `only`): per key, `true` for its whole
 * value, or the keys wanted below it.
 */
export type KeyPaths = ReadonlyMap<string, KeyPaths | true>;

/** A fast-read node as JavaScript values, as the `yaml` package's toJS gives them (yaml-source.ts). */
export function fastValue(node: YNode): unknown {
  return prunedValue(node, true);
}

/**
 * fastValue with, in each map, only the keys `keep` names (and their values) made (issue 16: a pack's
 * values.yaml is read for `pack.content.images` only); what is left out is still resolved, so the same
 * texts throw FastYamlUnsupported.
 */
export function fastValueOf(node: YNode, keep: KeyPaths): unknown {
  return prunedValue(node, keep);
}

function prunedValue(node: YNode, keep: KeyPaths | true | undefined): unknown {
  switch (node.kind) {
    case 'scalar':
      return node.plain ? resolvePlain(node.value, false) : node.value;
    case 'seq':
      if (keep !== true) {
        for (const item of node.items) prunedValue(item, undefined);
        return [];
      }
      return node.items.map(fastValue);
    case 'map': {
      const out: Record<string, unknown> = {};
      for (const entry of node.entries) {
        // The key as Helm holds it (goKeyText: `1e7` is "1e+07"), as the full reader's documents have it.
        const key = entry.key;
        const wanted = keep === true ? true : keep?.get(key);
        const value = prunedValue(entry.value, wanted);
        if (wanted === undefined) continue;
        // addPairToJSMap: a key already there (or inherited, like __proto__) is defined, not assigned.
        if (key in out) Object.defineProperty(out, key, { value, writable: true, enumerable: true, configurable: true });
        else out[key] = value;
      }
      return out;
    }
    case 'alias':
      throw new FastYamlUnsupported('alias');
  }
}
