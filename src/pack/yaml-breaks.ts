import { visit, type Document, type Scalar } from 'yaml';

/*
 * The Unicode line breaks of YAML 1.1, read the way Go's YAML reader reads them. libyaml and its Go
 * ports (go-yaml v2 and v3: yamlprivateh.go is_break) end a line at LF, CR LF, a lone CR, NEL (U+0085),
 * LS (U+2028) and PS (U+2029); the `yaml` package (YAML 1.2) ends one only at LF and CR LF. yaml-go.ts
 * parses a copy of the text where each of them is an LF (one character for one: offsets stay), so the
 * structure, the verdict and the line numbers are Go's. The scalar values need one more step, as
 * scannerc.go read_line keeps the break it reads:
 * - NEL (and CR) become LF, and fold like LF: nothing to do.
 * - LS and PS stay in the value as themselves, and a line ending in one is never folded into a
 *   space: `a: x<LS>  y` is "x<LS>y", not "x y"; empty lines after it are kept as their breaks.
 * `goBreakValues` gives the scalars whose text holds LS or PS the values Go gives them.
 */

/** LS or PS. */
const UNICODE_BREAK = /[\u2028\u2029]/;
/** Every line break as libyaml reads them (a lone CR and NEL already made LF by the caller's text). */
const BREAK = /\r\n|[\n\r\u0085\u2028\u2029]/g;

/** The break a line ends with, as read_line puts it in a value. */
function breakValue(b: string): string {
  return b === '\u2028' || b === '\u2029' ? b : '\n';
}

/** Lines and the break ending each (the last line ends at the end of `text`, with no break). */
function splitLines(text: string): { lines: string[]; breaks: string[] } {
  const lines: string[] = [];
  const breaks: string[] = [];
  let from = 0;
  for (const m of text.matchAll(BREAK)) {
    lines.push(text.slice(from, m.index));
    breaks.push(breakValue(m[0]));
    from = (m.index ?? 0) + m[0].length;
  }
  lines.push(text.slice(from));
  return { lines, breaks };
}

/** Leading or trailing blanks (space, tab). */
const LEADING_BLANKS = /^[ \t]+/;
const TRAILING_BLANKS = /[ \t]+$/;

/** What joins two content lines (scannerc.go yaml_parser_scan_flow_scalar / scan_plain_scalar). */
function flowJoin(leading: string | undefined, trailing: string[]): string {
  // An escaped line break (`\` at the end of a double-quoted line) has no leading break.
  if (leading === undefined) return trailing.join('');
  if (leading === '\n') return trailing.length === 0 ? ' ' : trailing.join('');
  return leading + trailing.join('');
}

/**
 * A plain or quoted scalar's value as go-yaml reads `source` (the scalar's text, quotes included).
 * `decodeDouble` turns the text of one line of a double-quoted scalar (no break in it) into its value.
 */
export function goFlowScalar(source: string, style: 'PLAIN' | 'QUOTE_SINGLE' | 'QUOTE_DOUBLE', decodeDouble: (line: string) => string): string {
  const inner = style === 'PLAIN' ? source : source.slice(1, -1);
  const { lines, breaks } = splitLines(inner);
  const last = lines.length - 1;
  let out = '';
  /** The break after the last content line (undefined: escaped), and the breaks of empty lines since. */
  let leading: string | undefined = '';
  let trailing: string[] = [];
  lines.forEach((raw, i) => {
    let line = i > 0 ? raw.replace(LEADING_BLANKS, '') : raw;
    let escaped = false;
    if (i < last) {
      if (style === 'QUOTE_DOUBLE' && /(?:^|[^\\])(?:\\\\)*\\$/.test(line)) {
        // `\` right before the break: the break is escaped, and the blanks before the `\` are kept.
        escaped = true;
        line = line.slice(0, -1);
      } else {
        const blanks = TRAILING_BLANKS.exec(line);
        if (blanks !== null) {
          const before = line.slice(0, blanks.index);
          // In a double-quoted scalar, `\ ` and `\<TAB>` are escapes: that blank is content.
          const keepOne = style === 'QUOTE_DOUBLE' && /(?:^|[^\\])(?:\\\\)*\\$/.test(before);
          line = keepOne ? line.slice(0, blanks.index + 1) : before;
        }
      }
      // A line with nothing on it (past the first) adds its break to the run of breaks.
      if (i > 0 && line === '' && !escaped) {
        trailing.push(breaks[i] as string);
        return;
      }
    }
    if (i > 0) out += flowJoin(leading, trailing);
    trailing = [];
    out += style === 'QUOTE_DOUBLE' ? decodeDouble(line) : style === 'QUOTE_SINGLE' ? line.replaceAll("''", "'") : line;
    leading = escaped ? undefined : breaks[i];
  });
  return out;
}

/**
 * A block scalar's value as go-yaml reads it (scannerc.go yaml_parser_scan_block_scalar), from its value
 * read as a literal (`|`, same chomping) of the text with LF for every break, and the breaks of its
 * lines in order (those after the header line).
 */
export function goBlockScalar(asLiteral: string, breaks: string[], literal: boolean, chomping: 'clip' | 'strip' | 'keep'): string {
  const parts = asLiteral.split('\n');
  let out = '';
  let leading = '';
  let trailing: string[] = [];
  let leadingBlank = false;
  parts.forEach((line, i) => {
    const lineBreak = i < parts.length - 1 ? (breaks[i] ?? '\n') : undefined;
    if (line === '') {
      if (lineBreak !== undefined) trailing.push(lineBreak);
      return;
    }
    const trailingBlank = line[0] === ' ' || line[0] === '\t';
    if (!literal && !leadingBlank && !trailingBlank && leading === '\n') {
      if (trailing.length === 0) out += ' ';
    } else {
      out += leading;
    }
    out += trailing.join('');
    trailing = [];
    leadingBlank = trailingBlank;
    out += line;
    leading = lineBreak ?? '';
  });
  if (chomping !== 'strip') out += leading;
  if (chomping === 'keep') out += trailing.join('');
  return out;
}

/** The chomping of a block scalar header (`|`, `>-`, `|2+` ...). */
function chompingOf(header: string): 'clip' | 'strip' | 'keep' {
  const m = /^[|>]([1-9]?[+-]?|[+-]?[1-9]?)/.exec(header);
  const indicators = m?.[1] ?? '';
  return indicators.includes('-') ? 'strip' : indicators.includes('+') ? 'keep' : 'clip';
}

/**
 * Give the string scalars of `docs` whose text holds LS or PS the values Go gives them. `text` is the
 * text the documents were parsed from with those breaks kept (a lone CR and NEL may already be LF);
 * `offset` maps a parse offset to `text`; `reparse` parses a text of the same length as the parsed one
 * (for folded block scalars, read once more as literals); `decodeDouble` decodes one line of a
 * double-quoted scalar.
 */
export function goBreakValues(
  docs: Document.Parsed[],
  text: string,
  parsedText: string,
  offset: (parsed: number) => number,
  reparse: (text: string) => Document.Parsed[],
  decodeDouble: (line: string) => string,
): void {
  if (!UNICODE_BREAK.test(text)) return;
  const folded: Array<{ node: Scalar; start: number; end: number }> = [];
  const fix = (node: Scalar, start: number, end: number, asLiteral: string): void => {
    // The breaks after the header line, whose own break is skipped (scannerc.go skip_line).
    const breaks = (text.slice(start).match(BREAK) ?? []).slice(1).map(breakValue);
    set(node, goBlockScalar(asLiteral, breaks, node.type === 'BLOCK_LITERAL', chompingOf(text.slice(start, end))));
  };
  const set = (node: Scalar, value: string): void => {
    node.value = value;
    (node as Scalar & { source?: string }).source = value;
  };
  for (const doc of docs) {
    visit(doc, {
      Scalar(_key, node) {
        if (typeof node.value !== 'string' || node.range === null || node.range === undefined) return;
        const start = offset(node.range[0]);
        const end = offset(node.range[1]);
        const source = text.slice(start, end);
        if (!UNICODE_BREAK.test(source)) return;
        if (node.type === 'PLAIN' || node.type === 'QUOTE_SINGLE' || node.type === 'QUOTE_DOUBLE') {
          set(node, goFlowScalar(source, node.type, decodeDouble));
        } else if (node.type === 'BLOCK_LITERAL') {
          fix(node, start, end, node.value);
        } else if (node.type === 'BLOCK_FOLDED') {
          folded.push({ node, start, end });
        }
      },
    });
  }
  if (folded.length === 0) return;
  // Folded scalars: their lines, read once more as literals from the same text with `|` for `>`.
  let literalText = parsedText;
  for (const { node } of folded) {
    const at = node.range?.[0] ?? 0;
    literalText = `${literalText.slice(0, at)}|${literalText.slice(at + 1)}`;
  }
  const literals = new Map<number, string>();
  for (const doc of reparse(literalText)) {
    visit(doc, {
      Scalar(_key, node) {
        if (node.range !== null && node.range !== undefined && typeof node.value === 'string') literals.set(node.range[0], node.value);
      },
    });
  }
  for (const { node, start, end } of folded) {
    const asLiteral = literals.get(node.range?.[0] ?? -1);
    if (asLiteral !== undefined) fix(node, start, end, asLiteral);
  }
}

/**
 * go-yaml ends a block scalar (`|`, `>`, clip or keep chomping) with the line break after its last line,
 * and reads none when that line ends the text: scannerc.go yaml_parser_scan_block_scalar appends the
 * break read_line read, which at the end of the input is nothing (`a: |` then `  x` with no final line
 * break is "x" in Go, go-yaml v2.4.0 and v3 alike); the `yaml` package adds "\n" all the same. `text` is
 * the text the documents were parsed from with LF for every break; `offset` maps a parse offset to it.
 * Only the last document can end there; a final line of blanks belongs to no line of the scalar (Go keeps
 * the break before it).
 */
export function goFinalBlockBreak(docs: Document.Parsed[], text: string, offset: (parsed: number) => number): void {
  const lastLine = text.slice(text.lastIndexOf('\n') + 1);
  if (!/[^ ]/.test(lastLine)) return;
  const doc = docs[docs.length - 1];
  if (doc === undefined) return;
  visit(doc, {
    Scalar(_key, node) {
      if (node.type !== 'BLOCK_LITERAL' && node.type !== 'BLOCK_FOLDED') return;
      if (typeof node.value !== 'string' || !node.value.endsWith('\n') || node.range === null || node.range === undefined) return;
      if (offset(node.range[1]) !== text.length || chompingOf(text.slice(offset(node.range[0]))) === 'strip') return;
      const value = node.value.slice(0, -1);
      node.value = value;
      (node as Scalar & { source?: string }).source = value;
    },
  });
}
