import { describe, expect, it } from 'vitest';
import { goBlockScalar, goFlowScalar } from '../../../src/pack/yaml-breaks.js';
import { checkYamlText } from '../../../src/pack/yaml-source.js';

/*
 * Line breaks Go's YAML reader knows and the `yaml` package does not: NEL (U+0085), LS (U+2028) and
 * PS (U+2029) (go-yaml v2 and v3 yamlprivateh.go is_break; read_line makes NEL an LF and keeps LS/PS as
 * they are), and quoted scalars whose lines are indented less than their block (scannerc.go
 * yaml_parser_scan_flow_scalar checks no indentation). Every expected value or verdict below is what
 * go-yaml v2.4.0 (Helm 3, through sigs.k8s.io/yaml) and v3 gave for the same text; where v2's error
 * line differs (it counts NEL/LS/PS as two lines), the line is v3's, which is the line an editor shows.
 */
const NEL = '\u0085';
const LS = '\u2028';
const PS = '\u2029';

interface Case {
  name: string;
  text: string;
  value?: unknown;
  error?: { line: number; message?: string };
}

const cases: Case[] = [
  { name: 'NEL between two keys', text: `a: 1${NEL}b: 2\n`, value: { a: 1, b: 2 } },
  { name: 'LS between two keys', text: `a: 1${LS}b: 2\n`, value: { a: 1, b: 2 } },
  { name: 'PS between two keys', text: `a: 1${PS}b: 2\n`, value: { a: 1, b: 2 } },
  { name: 'a whole file with NEL line ends', text: `a:${NEL}  b: [1, 2]${NEL}  c: x${NEL}d: |${NEL}  l1${NEL}  l2${NEL}`, value: { a: { b: [1, 2], c: 'x' }, d: 'l1\nl2\n' } },
  { name: 'NEL inside a plain value ends the line (the rest is a key without a colon)', text: `a: x${NEL}y\n`, error: { line: 2, message: 'not valid YAML' } },
  { name: 'LS inside a plain value ends the line', text: `a: x${LS}y\n`, error: { line: 2, message: 'not valid YAML' } },
  { name: 'LS ends a comment', text: `a: 1 # x${LS}y\nb: 2\n`, error: { line: 2, message: 'not valid YAML' } },
  { name: 'a plain scalar continued after NEL folds into a space', text: `a: x${NEL}  y\n`, value: { a: 'x y' } },
  { name: 'a plain scalar continued after LS keeps the LS', text: `a: x${LS}  y\n`, value: { a: `x${LS}y` } },
  { name: 'two LS keep both', text: `a: x${LS}${LS}  y\n`, value: { a: `x${LS}${LS}y` } },
  { name: 'an LF then a line holding LS', text: `a: x\n${LS}  y\n`, value: { a: `x${LS}y` } },
  { name: 'NEL then LS', text: `a: x${NEL}${LS}  y\n`, value: { a: `x${LS}y` } },
  { name: 'blanks before LS are dropped', text: `a: b ${LS}  c\n`, value: { a: `b${LS}c` } },
  { name: 'LS then an empty line', text: `a: x${LS}\n\n  y\n`, value: { a: `x${LS}\n\ny` } },
  { name: 'LS in a double-quoted scalar', text: `a: "x${LS}  y"\n`, value: { a: `x${LS}y` } },
  { name: 'LS then LF in a double-quoted scalar', text: `a: "x${LS}\n  y"\n`, value: { a: `x${LS}\ny` } },
  { name: 'NEL in a double-quoted scalar folds', text: `a: "x${NEL}y"\n`, value: { a: 'x y' } },
  { name: 'LS in a single-quoted scalar', text: `a: 'x${LS} y'\n`, value: { a: `x${LS}y` } },
  { name: 'escapes around LS in a double-quoted scalar', text: `a: "\\tx\\ ${LS}  \\u00e9\\\n  z"\n`, value: { a: `\tx ${LS}\u00e9z` } },
  { name: 'LS and PS in a literal block scalar', text: `a: |\n  x${LS}  y${PS}\n`, value: { a: `x${LS}y${PS}` } },
  { name: 'LS in a folded block scalar', text: `a: >\n  x${LS}  y\n  z\n`, value: { a: `x${LS}y z\n` } },
  { name: 'NEL in a folded block scalar folds', text: `a: >\n  x${NEL}  y\n`, value: { a: 'x y\n' } },
  { name: 'a double-quoted scalar continued at column 1', text: 'a: "x\ny"\n', value: { a: 'x y' } },
  { name: 'a single-quoted scalar continued at column 1', text: "a: 'x\ny'\n", value: { a: 'x y' } },
  { name: 'a quoted scalar continued less indented than its key', text: 'a:\n  c: "q\nr"\n', value: { a: { c: 'q r' } } },
  { name: 'a quoted list item continued at column 1', text: '- a\n- "b\nc"\n', value: ['a', 'b c'] },
  { name: 'a quoted scalar continued after a tab', text: 'a: "x\n\ty"\n', value: { a: 'x y' } },
  { name: 'a quoted scalar with blank lines, then an under-indented line', text: "a: 'p\n\n q'\nb: 1\n", value: { a: 'p\nq', b: 1 } },
  // Go: "line 2: found unexpected document indicator"; packpub names the line where the quote opens.
  { name: 'a document marker inside a quoted scalar is still an error', text: 'a: "x\n---\ny"\n', error: { line: 1, message: 'Missing closing "quote' } },
  { name: 'an unclosed quote is still an error', text: 'a: "x\ny\n', error: { line: 1, message: 'not valid YAML' } },
];

/** The text reads as Go reads it: the value it gives, or an error on the line Go names. */
function expectGoReading({ text, value, error }: Case): void {
  const check = checkYamlText(text, 'values.yaml');
  if (error === undefined) {
    expect(check.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(check.documents[0]).toEqual(value);
  } else {
    expect(check.ok).toBe(false);
    expect(check.findings[0]).toMatchObject({ severity: 'error', rule: 'yaml-syntax', line: error.line });
    if (error.message !== undefined) expect(check.findings[0]?.message).toContain(error.message);
  }
}

describe('YAML line breaks and quoted lines read as Go reads them', () => {
  it.each(cases)('$name', expectGoReading);

  it('counts NEL, LS and PS as lines in the positions it reports', () => {
    const check = checkYamlText(`a: 1${NEL}b: 2${LS}c:${PS}  d: 1${NEL}  d: 2\n`, 'values.yaml');
    expect(check.keyPositions.get('c.d')).toEqual({ line: 4, column: 3 });
    expect(check.findings).toEqual([expect.objectContaining({ rule: 'yaml-duplicate-key', line: 5 })]);
  });

  it('a leading byte-order mark left after the one the reader drops is skipped, as Go skips it', () => {
    const check = checkYamlText('\ufeffa: 1\n', 'values.yaml');
    expect(check.documents[0]).toEqual({ a: 1 });
  });

  it('folds plain and quoted lines as libyaml does', () => {
    const decode = (line: string): string => line.replaceAll('\\t', '\t');
    expect(goFlowScalar(`x ${LS}\n \n  y`, 'PLAIN', decode)).toBe(`x${LS}\n\ny`);
    expect(goFlowScalar(`"x\n"`, 'QUOTE_DOUBLE', decode)).toBe('x ');
    expect(goFlowScalar(`"x\n\n"`, 'QUOTE_DOUBLE', decode)).toBe('x\n');
    expect(goFlowScalar(`"x\\\n${LS}y"`, 'QUOTE_DOUBLE', decode)).toBe(`x${LS}y`);
    expect(goFlowScalar(`' x ${LS} ''y'' '`, 'QUOTE_SINGLE', decode)).toBe(` x${LS}'y' `);
  });

  it('folds block lines as libyaml does, with every chomping', () => {
    expect(goBlockScalar('a\nb\n', [LS, '\n'], false, 'clip')).toBe(`a${LS}b\n`);
    expect(goBlockScalar('a\n b\nc\n', ['\n', '\n', '\n'], false, 'clip')).toBe('a\n b\nc\n');
    expect(goBlockScalar('a\n\nb', ['\n', PS], false, 'strip')).toBe(`a${PS}b`);
    expect(goBlockScalar('a\n\n', [LS, PS], true, 'keep')).toBe(`a${LS}${PS}`);
  });
});

/*
 * A block scalar header alone on the line after its key (`d:\n|\n  x`), at the key's column: libyaml
 * (go-yaml v2 in Helm 3 through sigs.k8s.io/yaml, and v3) reads it as the key's value, since the line
 * does not end the mapping and a block scalar cannot start a simple key. Every expected value or verdict
 * below is what go-yaml v2.4.0 and v3 gave for the same text.
 */
const headerCases: Case[] = [
  { name: 'a literal header at the key column', text: 'd:\n|\n  x\n', value: { d: 'x\n' } },
  { name: 'a folded header at the key column', text: 'd:\n>\n  x\n  y\n', value: { d: 'x y\n' } },
  { name: 'content one space in', text: 'd:\n|\n x\n', value: { d: 'x\n' } },
  { name: 'chomping and an indentation indicator', text: 'a:\n|-\n  x\nb:\n|2\n   x\n', value: { a: 'x', b: ' x\n' } },
  { name: 'a comment after the header and between key and header', text: 'd: # c\n# c\n\n|  # c\n  x\n', value: { d: 'x\n' } },
  { name: 'an empty block scalar', text: 'd:\n|\n', value: { d: '' } },
  { name: 'keys after it and nested mappings', text: 'a:\n  d:\n  |\n   x\n  e:\n  >\n   y\n   z\nb:\n|\n q\n', value: { a: { d: 'x\n', e: 'y z\n' }, b: 'q\n' } },
  { name: 'a key in a list item', text: '- - d:\n    |\n     x\n', value: [[{ d: 'x\n' }]] },
  { name: 'a list item at the column of its dash', text: 'a:\n-\n|\n x\n- b\n', value: { a: ['x\n', 'b'] } },
  { name: 'CRLF line ends', text: 'd:\r\n|\r\n  x\r\n', value: { d: 'x\n' } },
  { name: 'a quoted key', text: '"d":\n|\n x\n', value: { d: 'x\n' } },
  // Go: "could not find expected ':'" (line 3 in v2, 2 in v3): the content line at column 0 is a key.
  { name: 'content at the key column is refused', text: 'd:\n|\nx\n', error: { line: 3 } },
  // Go: "could not find expected ':'": an anchor or a tag first on the line starts a simple key.
  { name: 'an anchor before the header is refused', text: 'd:\n&a |\n  x\n', error: { line: 2 } },
  { name: 'a tag before the header is refused', text: 'd:\n!!str |\n  x\n', error: { line: 2 } },
  // Go: "did not find expected key": the header is left of the inner mapping, which ends there.
  { name: 'a header left of its key is refused', text: 'a:\n  d:\n |\n  x\n', error: { line: 3 } },
  { name: 'a header at the column of an outer key is refused', text: 'a:\n  d:\n|\n x\n', error: { line: 3 } },
  // Go: "did not find expected '-' indicator".
  { name: 'a header left of a list item key is refused', text: '- d:\n|\n x\n', error: { line: 2 } },
  { name: 'a header after a block scalar that ended is refused', text: 'd: |\n|\n x\n', error: { line: 2 } },
];

describe('a block scalar header on the line after its key, as Go reads it', () => {
  it.each(headerCases)('$name', expectGoReading);

  it('reports positions in the text as given', () => {
    const check = checkYamlText('a:\n  d:\n  |\n   x\n  e: 1\n  e: 2\n', 'values.yaml');
    expect(check.documents[0]).toEqual({ a: { d: 'x\n', e: 2 } });
    expect(check.keyPositions.get('a.e')).toEqual({ line: 5, column: 3 });
    expect(check.findings).toEqual([expect.objectContaining({ rule: 'yaml-duplicate-key', line: 6 })]);
  });
});
