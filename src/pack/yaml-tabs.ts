import { isMap, isScalar, isSeq, type Document, type Node as YamlNode } from 'yaml';

/*
 * Tabs at the start of a line, where Go's YAML reader refuses them and the `yaml` package does not
 * (go-yaml v2, as Helm 3 uses it; v3 alike except where noted). In block context, libyaml's
 * yaml_parser_scan_to_next_token skips a tab only where no simple key may start, so a tab before the
 * first token of a line, or after a `-`, `?` or `:` indicator that starts the line, is "found
 * character that cannot start any token". Right after a plain scalar, the scalar's own scanner reads the
 * blanks of the following lines, and refuses a tab there left of the scalar's block indentation plus one
 * ("found a tab character that violates indentation", yaml_parser_scan_plain_scalar). So a line holding
 * only a tab, between two keys, makes Helm refuse the file. Inside quoted scalars, block scalars (which
 * the `yaml` package already judges as Go does) and flow collections, tabs are fine.
 */

export interface TabProblem {
  /** Offset in the text. */
  offset: number;
  message: string;
  /** Index of the document it lies in. */
  doc: number;
}

interface Plain {
  start: number;
  end: number;
  /** Column of the innermost block collection holding it (-1 at the top of a document). */
  indent: number;
}

/** A tab leading a line: after spaces only, or after spaces and `-`/`?`/`:` indicators that start the line. */
const LEADING_TAB = /^(?:( *)\t|((?: *[-?:](?=[ \t]))+[ \t]*?)\t)/gm;

/**
 * The first tab Go refuses in `text` (the parsed text, breaks already LF), if any. `offset` maps an
 * offset of the parse to `text`.
 */
export function goTabProblem(docs: Document.Parsed[], text: string, offset: (parsed: number) => number): TabProblem | undefined {
  if (!text.includes('\t')) return undefined;
  const skip: Array<[number, number]> = [];
  const plains: Plain[] = [];
  const docEnds: number[] = [];
  const blocks: Plain[] = [];
  const column = (at: number): number => at - (text.lastIndexOf('\n', at - 1) + 1);
  docs.forEach((doc) => {
    docEnds.push(offset(doc.range[2]));
    const walk = (node: YamlNode | null | undefined, indent: number, inFlow: boolean): void => {
      if (node === null || node === undefined || node.range === null || node.range === undefined) return;
      const start = offset(node.range[0]);
      const end = offset(node.range[1]);
      if (isScalar(node)) {
        // An empty plain scalar (a key with no value) scans nothing: it reads no blanks after it.
        if (node.type === 'PLAIN' && !inFlow) {
          if (end > start) plains.push({ start, end, indent });
        }
        else if (node.type !== 'PLAIN') skip.push([start, end]);
        if (node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED') blocks.push({ start, end, indent });
      } else if (isMap(node) || isSeq(node)) {
        const flow = inFlow || node.flow === true;
        if (flow && !inFlow) skip.push([start, end]);
        const inner = flow ? indent : column(start);
        if (isMap(node)) {
          for (const pair of node.items) {
            walk(pair.key as YamlNode | null, inner, flow);
            walk(pair.value as YamlNode | null, inner, flow);
          }
        } else {
          for (const item of node.items) walk(item as YamlNode | null, inner, flow);
        }
      }
    };
    walk(doc.contents as YamlNode | null, -1, false);
  });
  const inBlock = blockScalarTab(blocks, text);
  plains.sort((a, b) => a.start - b.start);
  let next = 0;
  const docOf = (at: number): number => {
    const doc = docEnds.findIndex((end) => at < end);
    return doc === -1 ? docEnds.length - 1 : doc;
  };
  for (const m of text.matchAll(LEADING_TAB)) {
    const tab = (m.index ?? 0) + m[0].length - 1;
    if (inBlock !== undefined && inBlock <= tab) break;
    if (skip.some(([s, e]) => tab >= s && tab < e)) continue;
    const afterIndicator = m[2] !== undefined;
    // The plain scalar whose scanner reads this tab: the one it lies in, or the last one before it
    // with nothing but blanks and line breaks in between.
    while (next < plains.length && (plains[next] as Plain).start <= tab) next++;
    const last = plains[next - 1];
    const plain = last !== undefined && (tab < last.end || /^[ \t\r\n]*$/.test(text.slice(last.end, tab))) ? last : undefined;
    // Inside a plain scalar's continuation line, `-`, `?` and `:` before the tab are text.
    if (afterIndicator && plain !== undefined && tab < plain.end) continue;
    if (!afterIndicator && plain !== undefined && column(tab) >= plain.indent + 1) continue;
    const message = !afterIndicator && plain !== undefined ? 'found a tab character that violates indentation' : 'found character that cannot start any token';
    return { offset: tab, message: `${message} (a tab at the start of a line; Go's YAML reader, which Helm uses, allows only spaces there)`, doc: docOf(tab) };
  }
  if (inBlock !== undefined) {
    return { offset: inBlock, message: "found a tab character where an indentation space is expected (a tab in a block scalar's indentation; Go's YAML reader, which Helm uses, allows only spaces there)", doc: docOf(inBlock) };
  }
  return undefined;
}

/**
 * The first tab Go refuses in a block scalar's indentation (scannerc.go yaml_parser_scan_block_scalar_breaks):
 * until the indentation is known (the first line with text, when no indicator gives it), a tab right
 * after a line's leading spaces; after that, a tab left of the indentation.
 */
function blockScalarTab(blocks: Plain[], text: string): number | undefined {
  for (const block of blocks) {
    const headerEnd = text.indexOf('\n', block.start);
    if (headerEnd === -1 || headerEnd >= block.end) continue;
    const increment = /^[|>][+-]?([1-9])|^[|>][1-9]?[+-]?/.exec(text.slice(block.start, headerEnd));
    const digit = /[1-9]/.exec(increment?.[0] ?? '')?.[0];
    let indent = digit === undefined ? 0 : (block.indent >= 0 ? block.indent : 0) + Number(digit);
    let maxIndent = 0;
    for (let lineStart = headerEnd + 1; lineStart < block.end; ) {
      let at = lineStart;
      while (text[at] === ' ' && (indent === 0 || at - lineStart < indent)) at++;
      if (text[at] === '\t' && (indent === 0 || at - lineStart < indent)) return at;
      maxIndent = Math.max(maxIndent, at - lineStart);
      const lineEnd = text.indexOf('\n', at);
      if (indent === 0 && text[at] !== '\n' && text[at] !== '\r' && at < text.length) indent = Math.max(maxIndent, block.indent + 1, 1);
      if (lineEnd === -1) break;
      lineStart = lineEnd + 1;
    }
  }
  return undefined;
}
