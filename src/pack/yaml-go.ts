import { Lexer, CST, LineCounter, YAMLParseError, isAlias, isMap, isScalar, isSeq, parseAllDocuments, parseDocument, visit, type Document, type Node as YamlNode, type Scalar } from 'yaml';
import { goBreakValues, goFinalBlockBreak, goFlowScalar } from './yaml-breaks.js';
import { parseFastYaml, type FastYaml } from './yaml-fast.js';
import { goSchemaTags, goTaggedScalar } from './yaml-tags.js';
import { goTabProblem } from './yaml-tabs.js';

/*
 * YAML read the way Go reads it. Helm reads YAML with Go (sigs.k8s.io/yaml over go-yaml v2, a port of
 * libyaml), and pack-central's CI with yq (go-yaml v3, the same scanner): a file is valid for packpub
 * exactly when it is valid there, and every error keeps a line and a column. Palette reads a pack's
 * values.yaml on its servers, with a reader that is not public (its Terraform provider hands pack values
 * to the API as text): packpub reads it as Helm does; a `.inf`/`.nan` value, a uint64 key or a null key there, which
 * only Helm's JSON step refuses once it reaches a chart, is a warning (validate.ts values-not-json). The `yaml` package
 * parses (it keeps source positions); where it follows the YAML 1.2 spec more strictly than libyaml,
 * or more loosely than go-yaml's decoder, this module adjusts the verdict:
 *
 * - libyaml does not check indentation inside flow collections (scannerc.go yaml_parser_unroll_indent
 *   returns at once when flow_level > 0), so `key: [` followed by less indented items is valid. Such
 *   lines are indented further (positions mapped back) before parsing.
 * - libyaml reads `#` after a token as a comment without a space before it (`a: "x"#c`).
 * - go-yaml refuses a tagged scalar its tag cannot hold (`!!int abc`, `!!bool maybe`, bad `!!binary`
 *   base64: yaml-tags.ts), and tabs leading a line where no token may start (yaml-tabs.ts).
 * - go-yaml refuses what the `yaml` package builds: control characters (readerc.go "control
 *   characters are not allowed"), an alias to an unknown anchor ("unknown anchor 'x' referenced"), an
 *   anchor whose value holds an alias to itself ("anchor 'x' value contains itself"), a list or map as a
 *   mapping key ("invalid map key"), a merge (`<<`) of something that is not a map or list of maps
 *   ("map merge requires map or sequence of maps as the value"). A null key (`~:`, `null:`, `? !!null`)
 *   Go reads; sigs.k8s.io/yaml refuses it only when it turns the result into JSON ("unsupported map key
 *   of type: <nil>"): the parse records it (nullKey) and the YAML check judges it (yaml-source.ts).
 * - libyaml ends a line at a carriage return alone, NEL (U+0085), LS (U+2028) and PS (U+2029) too
 *   (yamlprivateh.go is_break); each is read as a line feed here, and LS/PS keep their own value inside
 *   scalars (yaml-breaks.ts). A byte-order mark at the start of the text (a second one, after the one
 *   the caller drops) is skipped like a space (scannerc.go yaml_parser_scan_to_next_token).
 * - go-yaml reads only YAML 1.1: a `%YAML` directive naming another version is an error ("found incompatible
 *   YAML document"), as is a second `%YAML` before one document; the `yaml` package reads 1.2 there instead.
 * - In a flow collection, go-yaml keeps a `:` followed by `,`, `]` or `}` in the plain scalar before it
 *   (`[fd00::]`); the `yaml` package reads a key there (flowColons). Likewise a `-` right before `,`, `]` or
 *   `}` is the plain scalar "-" for Go (`{k: -}`); the `yaml` package reads a block sequence there and refuses it.
 * - go-yaml's escapes in double-quoted scalars are libyaml's, not YAML 1.2's: `\'` is read as `'`, `\/` and a
 *   `\u`/`\U` surrogate are refused (goEscapes).
 * - A block scalar (`|`, `>`) whose last line ends the text with no line break after it gets no final "\n"
 *   in go-yaml (there is no break to append); the `yaml` package adds one (yaml-breaks.ts goFinalBlockBreak).
 * - Duplicate keys are accepted, the last one winning, as go-yaml v2's Unmarshal and sigs.k8s.io/yaml's
 *   Unmarshal do (only their Strict variants refuse them); callers report them as warnings.
 * Scalars resolve with YAML 1.1 rules (yes/no are booleans), as go-yaml v2 does; timestamps stay strings
 * (go-yaml v2 decodes them into interface{} as strings); a collection's tag is never looked at, so `!!omap`
 * and `!!pairs` lists stay lists and a `!!set` map stays a map (yaml-tags.ts goSchemaTags).
 */

export interface GoYamlError {
  message: string;
  /** 1-based. */
  line: number;
  column: number;
  /** 0-based offset in the original text. */
  offset: number;
}

export interface GoYamlParse {
  documents: Document.Parsed[];
  /** The first error, if any, as go-yaml would refuse the text. */
  error?: GoYamlError;
  /** Errors only inside documents after the first, which Helm never reads (go-yaml Unmarshal stops after one). */
  laterDocumentError?: GoYamlError;
  /**
   * The first null key of the first document (`~: x`, `null: x`, `? !!null ~`, or nothing before the `:`):
   * go-yaml reads it, sigs.k8s.io/yaml cannot make it a JSON key ("unsupported map key of type: <nil>").
   */
  nullKey?: GoYamlError;
  /** Where text after the first document's root node begins that Go never reads (ignoredTail): no error in Go. */
  ignoredFrom?: { line: number; column: number; offset: number; afterFlowMap?: true };
  /** Original position of an offset in the parsed text. */
  position(offset: number): { line: number; column: number; offset: number };
}

/** A text as read by the fast reader (yaml-fast.ts) when it is in its subset, else by parseGoYaml. */
export type YamlParse = GoYamlParse | FastYaml;

let fastReader = true;

/** Turn the fast reader off (false) or on again: tests compare the two readers' results. */
export function setFastYaml(on: boolean): void {
  fastReader = on;
}

/** Read `text` as Go reads YAML: with the fast reader when the text is in its subset, else with parseGoYaml. */
export function parseYaml(text: string): YamlParse {
  return (fastReader ? parseFastYaml(text) : undefined) ?? parseGoYaml(text);
}

/** Most lines re-indented inside flow collections and quoted scalars before giving up (each costs a scan of the text). */
const MAX_FLOW_FIXES = 200;

/** Line breaks for libyaml that are not for the `yaml` package: a lone CR, NEL, LS, PS. */
const BREAKS_TO_LF = /\r(?!\n)|[\u0085\u2028\u2029]/;
const BREAKS_TO_LF_ALL = new RegExp(BREAKS_TO_LF.source, 'g');

const CONTROL = /[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u;

/** Whether a quoted-scalar token of the `yaml` lexer ends with its closing quote. */
function closedQuote(token: string): boolean {
  const quote = token[0];
  if (token.length < 2 || token[token.length - 1] !== quote) return false;
  if (quote === "'") return true;
  let backslashes = 0;
  for (let i = token.length - 2; i > 0 && token[i] === '\\'; i--) backslashes++;
  return backslashes % 2 === 0;
}

/** Stands for a `:` that go-yaml keeps inside a plain scalar (flowColons); a private-use character, printable for Go. */
const KEPT_COLON = '\ue000';
const FLOW_COLON = /:[,\]}]|(?:[[{,]|:\s)\s*:/;
/** Stands for a `-` that go-yaml reads as a plain scalar in a flow collection (flowColons); private-use too. */
const KEPT_DASH = '\ue001';
const FLOW_DASH = /-:?[,\]}]/;

/**
 * Inside a flow collection, go-yaml ends a plain scalar at a `:` only when a blank or a line break follows it
 * (scannerc.go yaml_parser_scan_plain_scalar, v2 and v3): `[fd00::]` is the string "fd00::", `{k: fd00::}`
 * maps k to "fd00::", `[a:, b]` holds "a:". YAML 1.2, as the `yaml` package reads it, also ends it before `,`,
 * `]` or `}` and takes the `:` as a value indicator (`[{"fd00:": null}]`; `{k: fd00::}` an error). Such a `:`
 * right after a plain scalar is replaced here by KEPT_COLON (one character for one: positions stay) and put
 * back in the values by restoreFlowColons (`kept`: undefined when the text holds none, or holds KEPT_COLON
 * itself). `leading`: the first plain scalar in a flow collection that starts with `:`, which Go refuses
 * (scannerc.go yaml_parser_fetch_next_token takes a `:` in flow context as a value indicator; then "did not
 * find expected node content"), as in `[127.0.0.1, ::1]` or `[::]`; the `yaml` package reads "::1", {":": null}.
 * A `-` starting a token right before `,`, `]` or `}` in a flow collection is a plain scalar for Go (scannerc.go
 * yaml_parser_fetch_next_token takes `-` as a block entry only before a blank or a break): `{k: -}` maps k to
 * "-", `{-}` holds the key "-", `[-:]` the text "-:"; the `yaml` lexer reads a block sequence entry there, which
 * it refuses in a flow mapping. Such a `-` is replaced by KEPT_DASH the same way (and the `:` of `-:` by KEPT_COLON).
 */
function flowColons(text: string): { kept?: string; leading?: number } {
  if ((!FLOW_COLON.test(text) && !FLOW_DASH.test(text)) || text.includes(KEPT_COLON) || text.includes(KEPT_DASH)) return {};
  const colons: number[] = [];
  const dashes: number[] = [];
  let leading: number | undefined;
  let offset = 0;
  let depth = 0;
  let plainEnd = -1;
  for (const token of new Lexer().lex(text)) {
    const type = CST.tokenType(token);
    if (type === 'flow-seq-start' || type === 'flow-map-start') depth++;
    else if (type === 'flow-seq-end' || type === 'flow-map-end') depth = Math.max(0, depth - 1);
    else if (type === 'map-value-ind' && depth > 0 && offset === plainEnd && ',]}'.includes(text[offset + 1] ?? '')) colons.push(offset);
    else if (type === 'seq-item-ind' && depth > 0 && ',]}'.includes(text[offset + 1] ?? '')) dashes.push(offset);
    else if (type === 'seq-item-ind' && depth > 0 && text[offset + 1] === ':' && ',]}'.includes(text[offset + 2] ?? '')) {
      // `-:` before `,`, `]` or `}`: the plain scalar "-:" for Go (`[-:]`, `{k: -:}`).
      dashes.push(offset);
      colons.push(offset + 1);
    }
    // Control tokens (document mode, scalar marker) are markers, not text; a plain scalar's text has no type.
    if (type === 'doc-mode' || type === 'scalar') continue;
    // In a flow collection Go takes every ':' that starts a token as a value indicator: `[::1]` has no value.
    if (depth > 0 && ((type === null && token.startsWith(':')) || (type === 'map-value-ind' && offset !== plainEnd && text[offset + 1] === ':'))) leading ??= offset;
    offset += token.length;
    plainEnd = type === null ? offset : -1;
  }
  if (colons.length === 0 && dashes.length === 0) return leading === undefined ? {} : { leading };
  const kept = new Set(dashes);
  let out = '';
  let from = 0;
  for (const at of [...colons, ...dashes].sort((a, b) => a - b)) {
    out += `${text.slice(from, at)}${kept.has(at) ? KEPT_DASH : KEPT_COLON}`;
    from = at + 1;
  }
  return { kept: out + text.slice(from), ...(leading === undefined ? {} : { leading }) };
}

/** Put back the `:` and `-` flowColons replaced, in every scalar's value and source (keys included). */
function restoreFlowColons(docs: Document.Parsed[]): void {
  const restore = (text: string): string => text.replaceAll(KEPT_COLON, ':').replaceAll(KEPT_DASH, '-');
  for (const doc of docs) {
    visit(doc, {
      Scalar(_key, node) {
        if (typeof node.value === 'string') node.value = restore(node.value);
        const withSource = node as Scalar & { source?: string };
        if (typeof withSource.source === 'string') withSource.source = restore(withSource.source);
      },
    });
  }
}

/**
 * Cheap structural pass: where the `yaml` lexer ends a flow collection, or a quoted scalar, because a
 * line is not indented enough.
 */
function lowFlowLine(text: string): { lineStart: number; indent: number; need: number } | 'doc-marker' | undefined {
  let offset = 0;
  let depth = 0;
  let flowColumnStart = 0;
  for (const token of new Lexer().lex(text)) {
    const type = CST.tokenType(token);
    if (type === 'flow-error-end') {
      const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
      let end = lineStart;
      while (text[end] === ' ') end++;
      if (text.startsWith('---', end) || text.startsWith('...', end)) return 'doc-marker';
      return { lineStart, indent: end - lineStart, need: flowColumnStart + 1 };
    }
    if ((type === 'double-quoted-scalar' || type === 'single-quoted-scalar') && !closedQuote(token)) {
      // libyaml does not check the indentation of a quoted scalar's lines (scannerc.go
      // yaml_parser_scan_flow_scalar stops only at a document marker); the `yaml` lexer ends the scalar
      // at a line indented less than its block. Leading blanks of those lines are not part of the value.
      let lineStart = offset + token.length;
      for (;;) {
        const next = text.indexOf('\n', lineStart);
        if (next === -1) return undefined;
        lineStart = next + 1;
        const lineEnd = text.indexOf('\n', lineStart);
        // Lines of spaces only are fine; one with a tab in its leading blanks ends the scalar too.
        if (!/^ *\r?$/.test(text.slice(lineStart, lineEnd === -1 ? text.length : lineEnd))) break;
      }
      let end = lineStart;
      while (text[end] === ' ') end++;
      if (end === lineStart && (text.startsWith('---', end) || text.startsWith('...', end))) return 'doc-marker';
      return { lineStart, indent: end - lineStart, need: offset - (text.lastIndexOf('\n', offset - 1) + 1) + 1 };
    }
    if (type === 'flow-seq-start' || type === 'flow-map-start') {
      if (depth === 0) flowColumnStart = offset - (text.lastIndexOf('\n', offset - 1) + 1);
      depth++;
    } else if (type === 'flow-seq-end' || type === 'flow-map-end') {
      depth = Math.max(0, depth - 1);
    }
    // Control tokens (document mode, scalar marker, flow end) are markers, not text.
    if (type !== 'doc-mode' && type !== 'scalar') offset += token.length;
  }
  return undefined;
}

/**
 * A block scalar header (`|` or `>`) first on its line at the column of the key it is the value of
 * (`d:\n|\n  x`), or of the `-` entry it is the item of (`-\n|\n  x`): libyaml reads it as that value
 * (a line ends a collection only left of its indentation, and a block scalar cannot start a simple key,
 * so no `:` is required after it); the `yaml` package refuses it ("Implicit keys need to be on a single
 * line"). Returns the start of the first such line, to be indented one space further before parsing: the
 * block scalar keeps its content indentation rules (more than its collection's), so its value stays Go's.
 * An anchor or a tag before the header is a simple key for libyaml ("could not find expected ':'") and
 * is left alone, as is a header left of its collection's column (the collection ends there).
 */
function lowBlockHeader(text: string): number | undefined {
  let offset = 0;
  /** Offset of the last token that is not blank, newline or comment, and its type. */
  let last: { type: ReturnType<typeof CST.tokenType>; offset: number } | undefined;
  for (const token of new Lexer().lex(text)) {
    const type = CST.tokenType(token);
    if (type === 'block-scalar-header' && (last?.type === 'map-value-ind' || last?.type === 'seq-item-ind')) {
      const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
      const keyLineStart = text.lastIndexOf('\n', last.offset - 1) + 1;
      const column = offset - lineStart;
      // The column of the collection: the `-` entry's, or the key's (its line's indentation plus any `- `
      // entries before it).
      const before = text.slice(keyLineStart, last.offset);
      const keyColumn = last.type === 'seq-item-ind' ? before.length : (/^ *(?:-[ \t]+)*/.exec(before)?.[0].length ?? -1);
      if (lineStart > last.offset && /^ *$/.test(text.slice(lineStart, offset)) && column === keyColumn) return lineStart;
    }
    if (type !== 'space' && type !== 'newline' && type !== 'comment' && type !== 'doc-mode' && type !== 'scalar') last = { type, offset };
    if (type !== 'doc-mode' && type !== 'scalar') offset += token.length;
  }
  return undefined;
}

const PARSE_OPTIONS = {
  version: '1.1',
  merge: true,
  uniqueKeys: false,
  strict: true,
  prettyErrors: false,
  customTags: goSchemaTags,
} as const;

/** One line of a double-quoted scalar's text (no line break in it) decoded as go-yaml decodes escapes (`\\'` is `'`). */
function decodeDoubleQuoted(line: string): string {
  const value = (parseDocument(`"${line.replace(ESCAPE, (m: string, c: string) => (c === "'" ? '\\x27' : m))}"`, PARSE_OPTIONS).contents as Scalar | null)?.value;
  return typeof value === 'string' ? value : line;
}

/** An escape in a double-quoted scalar: `\\` and the character after it. */
const ESCAPE = /\\([\s\S])/g;

/**
 * What go-yaml's scanner says of the escapes in a double-quoted scalar's text (scannerc.go
 * yaml_parser_scan_flow_scalar), where it differs from YAML 1.2 as the `yaml` package reads it: `\\/` is
 * "found unknown escape character", a `\\u`/`\\U` surrogate (D800-DFFF) "found invalid Unicode character
 * escape code"; `\\'` is read as `'` (`goQuote`), which the `yaml` package refuses. Offsets in `source`.
 */
function goEscapes(source: string): { problem?: { message: string; offset: number }; goQuote: boolean } {
  let goQuote = false;
  for (const m of source.matchAll(ESCAPE)) {
    const c = m[1];
    const at = m.index ?? 0;
    if (c === "'") goQuote = true;
    else if (c === '/') return { goQuote, problem: { message: "found unknown escape character (\\/ is an escape in YAML 1.2, not in Go's YAML reader, which Helm uses: write / alone)", offset: at } };
    else if (c === 'u' || c === 'U') {
      const code = parseInt(source.slice(at + 2, at + (c === 'u' ? 6 : 10)), 16);
      if (code >= 0xd800 && code <= 0xdfff) return { goQuote, problem: { message: `found invalid Unicode character escape code (${source.slice(at, at + (c === 'u' ? 6 : 10))} is a UTF-16 surrogate; Go's YAML reader, which Helm uses, refuses it)`, offset: at } };
    }
  }
  return { goQuote };
}

function parseDocuments(text: string): Document.Parsed[] {
  const documents = parseAllDocuments(text, PARSE_OPTIONS);
  const docs = (Array.isArray(documents) ? documents : [documents]) as Document.Parsed[];
  // go-yaml reads `\\'` in a double-quoted scalar as `'` (its value is set in decoderProblem).
  for (const doc of docs) {
    if (doc.errors.some(goQuoteEscape)) doc.errors = doc.errors.filter((err) => !goQuoteEscape(err));
    // The `yaml` lexer ends a double-quoted scalar at a line indented less than its block; when the line it
    // ends on closes with an escaped quote (`"C:\\"`), the scalar passes as closed, with no error. Go reads
    // on (its value goes on over the next lines): an error here has the lines indented as Go reads them.
    if (text.includes('\\"')) {
      visit(doc, {
        Scalar(_key, node) {
          if (node.type === 'QUOTE_DOUBLE' && node.range !== undefined && node.range !== null && !closedQuote(text.slice(node.range[0], node.range[1]))) {
            doc.errors.push(new YAMLParseError([node.range[1], node.range[1]], 'MISSING_CHAR', 'Missing closing "quote'));
          }
        },
      });
    }
  }
  return docs;
}

function goQuoteEscape(err: { code: string; message: string }): boolean {
  return err.code === 'BAD_DQ_ESCAPE' && err.message.startsWith("Invalid escape sequence \\'");
}

export function parseGoYaml(text: string): GoYamlParse {
  // libyaml takes a carriage return not followed by a line feed (old Mac files, or a CRLF file whose last
  // line lost its LF), NEL, LS and PS as line breaks; the `yaml` package does not. One character for one,
  // so offsets, lines and columns stay those of the text as given. A BOM left at the start (the caller
  // dropped one) is skipped by Go at column 0 of the first line: a space here, so columns stay Go's.
  const given = text;
  let original = BREAKS_TO_LF.test(text) ? text.replace(BREAKS_TO_LF_ALL, '\n') : text;
  if (original.charCodeAt(0) === 0xfeff) original = ` ${original.slice(1)}`;
  const flow = flowColons(original);
  if (flow.kept !== undefined) original = flow.kept;
  let docs = parseDocuments(original);
  // Indentation added to lines inside flow collections: line start offset (in the padded text) -> spaces added.
  const pads: Array<{ start: number; added: number }> = [];
  let parsedText = original;
  // A flow collection the lexer ends early (flow-error-end) always leaves an error in its document
  // ("... must be sufficiently indented and end with a ]"), so text that parses cleanly needs no fix:
  // the structural pass (a second lexing of the whole text) runs only when a document has errors.
  if (docs.some((doc) => doc.errors.length > 0)) {
    let text = original;
    for (let fixes = 0; fixes < MAX_FLOW_FIXES && text.includes('\n'); fixes++) {
      let low = lowFlowLine(text);
      if (low === undefined) {
        const header = lowBlockHeader(text);
        if (header !== undefined) low = { lineStart: header, indent: 0, need: 1 };
      }
      if (low === undefined || low === 'doc-marker' || low.need <= low.indent) break;
      const added = low.need - low.indent;
      text = `${text.slice(0, low.lineStart)}${' '.repeat(added)}${text.slice(low.lineStart)}`;
      for (const p of pads) if (p.start > low.lineStart) p.start += added;
      pads.push({ start: low.lineStart, added });
    }
    if (text !== original) docs = parseDocuments(text);
    parsedText = text;
  }
  pads.sort((a, b) => a.start - b.start);
  const originalLines = new LineCounter();
  originalLines.addNewLine(0);
  for (let i = original.indexOf('\n'); i !== -1; i = original.indexOf('\n', i + 1)) originalLines.addNewLine(i + 1);

  const position = (offset: number): { line: number; column: number; offset: number } => {
    let shift = 0;
    for (const p of pads) {
      if (p.start > offset) break;
      shift += Math.min(p.added, offset - p.start);
    }
    const back = Math.max(0, Math.min(offset - shift, original.length));
    const { line, col } = originalLines.linePos(back);
    return { line, column: col, offset: back };
  };
  const errorAt = (message: string, offset: number): GoYamlError => ({ message, ...position(offset) });
  if (flow.kept !== undefined) restoreFlowColons(docs);
  if (flow.leading !== undefined) {
    // Go refuses it while scanning: an error of the document holding it (the first, or a later one).
    const at = flow.leading;
    const doc = docs.find((d) => d.range[0] <= at && at < d.range[2]) ?? docs[docs.length - 1];
    doc?.errors.push(new YAMLParseError([at, at + 1], 'UNEXPECTED_TOKEN', "did not find expected node content (a value starting with ':' inside [...] or {...}: Go's YAML reader, which Helm uses, reads that ':' as a value indicator; quote the value, e.g. \"::1\")"));
  }
  if (given !== original) goBreakValues(docs, given, parsedText, (offset) => position(offset).offset, parseDocuments, decodeDoubleQuoted);
  if (!original.endsWith('\n')) goFinalBlockBreak(docs, original, (offset) => position(offset).offset);
  const result: GoYamlParse = { documents: docs, position };

  const control = CONTROL.exec(original);
  if (control !== null) {
    const code = control[0].codePointAt(0) ?? 0;
    result.error = { message: `control characters are not allowed (U+${code.toString(16).toUpperCase().padStart(4, '0')})`, ...position(control.index) };
    return result;
  }

  // A document end marker as the stream's first token: libyaml starts an implicit document there and finds
  // no node in it (parserc.go yaml_parser_parse_node, "did not find expected node content"); the `yaml`
  // package reads an empty stream.
  const lead = /^(?:[ \t\r\n\ufeff\u0085\u2028\u2029]|#[^\r\n\u0085\u2028\u2029]*)*/.exec(original)?.[0].length ?? 0;
  if (/^\.\.\.(?:[ \t\r\n\u0085\u2028\u2029]|$)/.test(original.slice(lead)) && (lead === 0 || /[\r\n\u0085\u2028\u2029\ufeff]/.test(original[lead - 1] as string))) {
    const { line, col } = originalLines.linePos(lead);
    result.error = { message: "did not find expected node content (a document end marker, ..., before any content; Go's YAML reader, which Helm uses, refuses it)", line, column: col, offset: lead };
    return result;
  }

  // go-yaml reads YAML 1.1 only: a %YAML directive naming another version stops it (parserc.go "found
  // incompatible YAML document"), and so does a second one before the same document. The `yaml` package
  // would read a `%YAML 1.2` document with 1.2's rules instead (`yes` a string), silently.
  if (original.includes('%YAML')) {
    let from = 0;
    docs.forEach((doc, index) => {
      const start = position(doc.range[0]).offset;
      let seen = false;
      for (const m of original.slice(from, start).matchAll(/^%YAML(?:[ \t]+(\d+)\.(\d+))?/gm)) {
        const at = from + (m.index ?? 0);
        let message: string | undefined;
        if (seen) message = 'found duplicate %YAML directive';
        else if (m[1] !== undefined && (m[1] !== '1' || m[2] !== '1')) {
          message = `found incompatible YAML document (%YAML ${m[1]}.${m[2]}: Go's YAML reader, which Helm and Palette use, reads only YAML 1.1)`;
        }
        seen = true;
        if (message === undefined) continue;
        const { line, col } = originalLines.linePos(at);
        const problem = { message, line, column: col, offset: at };
        if (index === 0) result.error ??= problem;
        else result.laterDocumentError ??= problem;
        break;
      }
      from = Math.max(start, position(doc.range[2]).offset);
    });
  }

  const originalPosition = (offset: number): { line: number; column: number; offset: number } => {
    const { line, col } = originalLines.linePos(offset);
    return { line, column: col, offset };
  };
  const tab = goTabProblem(docs, original, (offset) => position(offset).offset);
  // A text of blanks and comments holds no document, but Go's scanner still refuses a tab leading a line.
  if (docs.length === 0 && tab !== undefined) result.error = { message: tab.message, ...originalPosition(tab.offset) };
  docs.forEach((doc, index) => {
    // Go decodes the first document's root node and stops: what follows it there is never read (tail).
    const tail = index === 0 ? ignoredTail(doc as Document.Parsed, parsedText) : undefined;
    const nullKeyAt = (offset: number): void => {
      if (index === 0) result.nullKey ??= errorAt(NULL_KEY, offset);
    };
    const problem = tail === undefined ? firstProblem(doc as Document.Parsed, parsedText, errorAt, nullKeyAt) : decoderProblem(doc as Document.Parsed, parsedText, errorAt, nullKeyAt);
    const found = problem ?? (tab?.doc === index ? { message: tab.message, ...originalPosition(tab.offset) } : undefined);
    if (found === undefined && tail !== undefined) result.ignoredFrom = { ...position(tail), ...(isMap(doc.contents) && doc.contents.flow === true ? { afterFlowMap: true as const } : {}) };
    if (found === undefined) return;
    if (index === 0) result.error ??= found;
    else result.laterDocumentError ??= found;
  });
  return result;
}

/**
 * Where the text that Go never reads begins, when the first document's only errors lie after its root
 * node: go-yaml's Unmarshal parses one node and stops, so `  a: 1\nb: 2` reads as {a: 1} and `b: 2` is
 * never looked at (the parser is not asked for it; the scanner reads only the tokens of that line, to
 * end the root). Taken only when that first line parses on its own, so no token Go scans there fails.
 */
function ignoredTail(doc: Document.Parsed, text: string): number | undefined {
  const root = doc.contents;
  const end = root?.range?.[1];
  if (isMap(root) && root.flow === true && end !== undefined && doc.errors.length > 0 && !doc.errors.some((err) => err.pos[0] < end)) return textAfterFlowMap(text, end);
  // Only the common case is taken: a block mapping or sequence whose first line was indented, ended by a
  // line less indented than it, that starts with a key or a scalar (`-`, `?` and `:` there are tokens
  // Go's scanner refuses out of context, as are tokens later on the root's own last line).
  if (doc.errors.length === 0 || end === undefined || root === null || !(isMap(root) || isSeq(root)) || root.flow === true) return undefined;
  if (doc.errors.some((err) => err.pos[0] < end)) return undefined;
  const at = nextTokenAfter(text, end);
  const lineStart = text.lastIndexOf('\n', at - 1) + 1;
  const rootStart = root.range?.[0] ?? 0;
  const rootColumn = rootStart - (text.lastIndexOf('\n', rootStart - 1) + 1);
  if (at - lineStart >= rootColumn || lineStart < end) return undefined;
  return keyLineAt(text, at);
}

/** Where the next token after `end` starts: blanks, line breaks and comments skipped. */
function nextTokenAfter(text: string, end: number): number {
  let at = end;
  for (;;) {
    while (at < text.length && ' \t\r\n'.includes(text[at] as string)) at++;
    if (text[at] !== '#') return at;
    while (at < text.length && text[at] !== '\n') at++;
  }
}

/**
 * `at`, when the line it opens (nothing but blanks before it) starts with a key whose `:` is on it, so Go's
 * scanner stops there (a possible key without its `:` would make it read on, to later lines), and that line
 * and all the text before it read cleanly on their own; else undefined.
 */
function keyLineAt(text: string, at: number): number | undefined {
  const lineEnd = text.indexOf('\n', at);
  const line = text.slice(at, lineEnd === -1 ? text.length : lineEnd);
  const lineStart = text.lastIndexOf('\n', at - 1) + 1;
  if (text.slice(lineStart, at).trim() !== '') return undefined;
  if (!/^(?:[^\s#\-?:,[\]{}&*!|>'"%@`][^#\n]*?|"(?:[^"\\\n]|\\.)*"|'(?:[^'\n]|'')*')[ \t]*:(?:[ \t]|$)/.test(line) || line.length > 1024) return undefined;
  if (!parseDocuments(line).every((d) => d.errors.length === 0)) return undefined;
  return parseDocuments(text.slice(0, lineStart)).every((d) => d.errors.length === 0) ? at : undefined;
}

/**
 * Where the text after a top-level flow mapping (`{a: 1} junk`) begins when Go never reads it: go-yaml v2's
 * Unmarshal (decode.go parser.document) parses the root node, then only asks for the document's end, which
 * libyaml (parserc.go yaml_parser_parse_document_end) gives as soon as the next token scans, whatever it is.
 * The scanner scans ahead until it knows whether the `{` starts a key, so every token to the end of that
 * line, and the first one after it, must scan cleanly, and no `:` may follow on that line (the mapping
 * would be a key, and the document a block mapping Go refuses). Taken only in the plain case: the rest of
 * the text is one plain scalar for the scanner (it starts like one; no `: `, no ` #`, no line opening with
 * `#`, `---` or `...`), so the scanner reads one token to the end of the text and stops; or the next
 * line opens with a key (keyLineAt), where the scanner stops at its `:`.
 */
function textAfterFlowMap(text: string, end: number): number | undefined {
  let at = end;
  while (text[at] === ' ' || text[at] === '\t') at++;
  // Nothing but a comment after it on its line: what follows must be a key line, as after a block value.
  if (at >= text.length || text[at] === '\n' || text[at] === '\r' || (text[at] === '#' && at > end)) return keyLineAt(text, nextTokenAfter(text, end));
  const tail = text.slice(at);
  if (/^[\s\-?:,[\]{}#&*!|>'"%@`]/.test(tail)) return undefined;
  if (/:(?:[ \t\r\n]|$)|[ \t\r\n]#|(?:^|\n)(?:---|\.\.\.)(?:[ \t\r\n]|$)/.test(tail)) return undefined;
  return at;
}

function firstProblem(doc: Document.Parsed, text: string, errorAt: (message: string, offset: number) => GoYamlError, nullKeyAt: (offset: number) => void): GoYamlError | undefined {
  for (const err of doc.errors) {
    // libyaml takes `#` right after a token as a comment; YAML 1.2 wants a space before it.
    if (err.code === 'MISSING_CHAR' && err.message.startsWith('Comments must be separated')) continue;
    const message = err.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? err.message;
    const open = unclosedFlowStart(doc, text, message, err.pos[0]);
    // The position is the opening one's: the message says so.
    if (open !== undefined) return errorAt(`${message}: the ${open.bracket} here is never closed`, open.offset);
    return errorAt(message, err.pos[0]);
  }
  return decoderProblem(doc, text, errorAt, nullKeyAt);
}

/**
 * Where the flow collection an error at the end of the text leaves open starts (`name: [a` as a file's last
 * line): the `yaml` package places "Flow sequence ... must ... end with a ]" past the last line (line 3 of a
 * two-line file), where nothing is to fix. The last collection of that kind whose `[` or `{` comes before it.
 */
function unclosedFlowStart(doc: Document.Parsed, text: string, message: string, offset: number): { offset: number; bracket: string } | undefined {
  const kind = /^(?:Flow (sequence|map) in block collection must be sufficiently indented|Missing closing (["'])quote)/.exec(message);
  if (kind === null || !/^(?:\s|#[^\n]*)*$/.test(text.slice(offset))) return undefined;
  const quote = kind[2];
  let start: number | undefined;
  const consider = (from: number | undefined): void => {
    if (from !== undefined && from < offset && (start === undefined || from > start)) start = from;
  };
  visit(doc, {
    Collection(_key, node) {
      if (quote === undefined && node.flow === true && (kind[1] === 'sequence') === isSeq(node)) consider(node.range?.[0]);
    },
    Scalar(_key, node) {
      if (quote !== undefined && node.type === (quote === '"' ? 'QUOTE_DOUBLE' : 'QUOTE_SINGLE')) consider(node.range?.[0]);
    },
  });
  return start === undefined ? undefined : { offset: start, bracket: quote ?? (kind[1] === 'sequence' ? '[' : '{') };
}

/** Offset of the `:` after a flow mapping key ending at `from` (blanks, line breaks and comments between), if there is one. */
function flowColon(text: string, from: number): number | undefined {
  let i = from;
  for (;;) {
    while (i < text.length && ' \t\r\n'.includes(text[i] as string)) i++;
    if (text[i] !== '#') break;
    while (i < text.length && text[i] !== '\n') i++;
  }
  return text[i] === ':' ? i : undefined;
}

/**
 * Whether the flow mapping key starting at `start` is an implicit one (not after `?`), read forward from
 * `from`, the end of what comes before it in the mapping (just after `{`, or the end of the previous
 * entry): only blanks, line breaks, comments, one `,` and the key's anchor or tag may lie between. Read
 * forward, a `#` there always starts a comment. Anything else counts as not implicit, so such a key is
 * never refused here.
 */
function implicitFlowKey(text: string, from: number, start: number): boolean {
  let i = from;
  let commas = 0;
  while (i < start) {
    const c = text[i] as string;
    if (' \t\r\n'.includes(c)) i++;
    else if (c === '#') {
      while (i < start && text[i] !== '\n') i++;
    } else if (c === ',' && commas === 0) {
      commas++;
      i++;
    } else if (c === '&' || c === '!') {
      while (i < start && !' \t\r\n,{}[]'.includes(text[i] as string)) i++;
    } else return false;
  }
  return i === start;
}

const NULL_KEY = 'a null key (~, null or nothing before the colon) cannot be converted to JSON (sigs.k8s.io/yaml: "unsupported map key of type: <nil>")';

/** What go-yaml's decoder refuses in a well-formed document; null keys (for sigs.k8s.io/yaml's JSON step) go to `nullKeyAt`. */
function decoderProblem(doc: Document.Parsed, text: string, errorAt: (message: string, offset: number) => GoYamlError, nullKeyAt: (offset: number) => void): GoYamlError | undefined {
  const defined = new Map<string, YamlNode>();
  /** Anchors whose node is still being walked: an alias to one is an alias to itself. */
  const open = new Set<string>();
  let problem: GoYamlError | undefined;
  const start = (node: YamlNode | null | undefined): number => node?.range?.[0] ?? 0;

  const walk = (node: YamlNode | null | undefined, depth: number): void => {
    if (problem !== undefined || node === null || node === undefined || depth > 10_000) return;
    if (isAlias(node)) {
      if (open.has(node.source)) problem = errorAt(`anchor '${node.source}' value contains itself`, start(node));
      else if (!defined.has(node.source)) problem = errorAt(`unknown anchor '${node.source}' referenced`, start(node));
      return;
    }
    const anchor = node.anchor;
    if (anchor !== undefined) open.add(anchor);
    if (isScalar(node) && node.type === 'QUOTE_DOUBLE' && node.range !== null && node.range !== undefined) {
      const source = text.slice(node.range[0], node.range[1]);
      const escapes = goEscapes(source);
      if (escapes.problem !== undefined) problem ??= errorAt(escapes.problem.message, node.range[0] + escapes.problem.offset);
      else if (escapes.goQuote) node.value = goFlowScalar(source, 'QUOTE_DOUBLE', decodeDoubleQuoted);
    }
    if (isScalar(node) && node.tag !== undefined) {
      // An explicit tag: Go refuses a value the tag cannot hold, and reads the others with its own rules
      // (yaml-tags.ts); the `yaml` package only warns and keeps the text.
      const tagged = goTaggedScalar(node.tag, String((node as Scalar).source ?? node.value ?? ''));
      if (tagged.error !== undefined) problem = errorAt(`${tagged.error} (Go's YAML reader, which Helm uses, refuses it)`, start(node));
      else if (tagged.value !== undefined) node.value = tagged.value;
    }
    if (isMap(node)) {
      // Where the text before each flow key begins: just after `{`, then the end of the previous entry.
      let before = (node.range?.[0] ?? 0) + 1;
      for (const pair of node.items) {
        const key = pair.key as YamlNode | null;
        const from = before;
        before = (pair.value as YamlNode | null)?.range?.[1] ?? key?.range?.[1] ?? before;
        const keyAt = key?.range?.[0] ?? start(pair.value as YamlNode | null);
        // libyaml drops a possible simple key when the line changes before its `:` (scannerc.go
        // yaml_parser_stale_simple_keys); in a flow mapping the `:` then has no key ("did not find
        // expected ',' or '}'"). The `yaml` package checks this only in flow sequences.
        if (node.flow === true && key?.range !== undefined && key.range !== null) {
          const colon = flowColon(text, key.range[1]);
          const span = colon === undefined ? '' : text.slice(key.range[0], colon);
          if (colon !== undefined && implicitFlowKey(text, from, key.range[0])) {
            // Go then refuses the `:` only when a blank, a line break, the end, `[`, `{`, `]` or `?` follows it
            // (`{k\n:,}` and `{k\n:2}` read; checked against go-yaml v2 and v3).
            const next = text[colon + 1];
            if (span.includes('\n') && (next === undefined || ' \t\r\n[{]?'.includes(next))) {
              problem ??= errorAt("did not find expected ',' or '}': a key in a {...} mapping must be on one line with its ':' (Go's YAML reader, which Helm uses, refuses it)", colon);
            } else if (span.length > 1024 && [...span].length > 1024) {
              // The same stale check drops a key whose `:` is more than 1024 characters after its start.
              problem ??= errorAt("did not find expected ',' or '}': the ':' of a key in a {...} mapping must be at most 1024 characters after the key's start (Go's YAML reader, which Helm uses, refuses it)", colon);
            }
          }
        }
        if (isMap(key) || isSeq(key)) {
          problem ??= errorAt('invalid map key: a list or map cannot be a key', keyAt);
        } else if (key === null || (isScalar(key) && key.value === null)) {
          nullKeyAt(keyAt);
        }
        if (isScalar(key) && (key as Scalar).source === '<<' && (key as Scalar).type === 'PLAIN') {
          const value = pair.value as YamlNode | null;
          const sources = isSeq(value) ? value.items : [value];
          const ok = sources.every((s) => isMap(s) || (isAlias(s) && isMap(defined.get(s.source))));
          if (!ok || !(isSeq(value) || isMap(value) || isAlias(value))) problem ??= errorAt('map merge requires map or sequence of maps as the value', value?.range?.[0] ?? keyAt);
        }
        walk(key, depth + 1);
        walk(pair.value as YamlNode | null, depth + 1);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) walk(item as YamlNode | null, depth + 1);
    }
    if (anchor !== undefined) {
      open.delete(anchor);
      defined.set(anchor, node);
    }
  };
  walk(doc.contents as YamlNode | null, 0);
  return problem;
}

/**
 * What the first document of a parse holds, as Go's Unmarshal reads it (it reads only the first one):
 * `none` for a text without documents (empty, or comments only), `empty` for a document that is empty or
 * null (`---` followed by another `---`, or `~`).
 */
export function firstDocumentKind(parsed: YamlParse): 'none' | 'empty' | 'map' | 'seq' | 'scalar' {
  const NULL = /^(?:~|null|Null|NULL|)$/;
  if ('fast' in parsed) {
    if (parsed.docs.length === 0) return 'none';
    const root = parsed.docs[0];
    if (root === undefined || (root.kind === 'scalar' && root.plain && NULL.test(root.value))) return 'empty';
    return root.kind === 'alias' ? 'scalar' : root.kind;
  }
  const doc = parsed.documents[0];
  if (doc === undefined) return 'none';
  const root = doc.contents as YamlNode | null;
  if (root === null || (isScalar(root) && root.value === null)) return 'empty';
  return isMap(root) ? 'map' : isSeq(root) ? 'seq' : 'scalar';
}
