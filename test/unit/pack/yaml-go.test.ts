import fc from 'fast-check';
import { CST, Lexer, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseGoYaml } from '../../../src/pack/yaml-go.js';
import { checkYamlText } from '../../../src/pack/yaml-source.js';

/*
 * Verdicts of Go's YAML reader (Helm and Palette: sigs.k8s.io/yaml over go-yaml v2; pack-central's yq:
 * go-yaml v3, the same libyaml-derived scanner). Each expected verdict names the go-yaml source that
 * decides it (go-yaml/yaml branches v2 and v3: scannerc.go, readerc.go, decode.go, resolve.go;
 * kubernetes-sigs/yaml yaml.go). Where js-yaml disagrees, it says so.
 */
interface Case {
  name: string;
  text: string;
  /** undefined: valid in Go. Otherwise the 1-based line of the error and a fragment of the message. */
  error?: { line: number; message: string };
  value?: unknown;
  why: string;
}

const cases: Case[] = [
  {
    name: 'flow sequence closed at the key indentation (issue 12, a real chart values.yaml)',
    text: 'clusterRole:\n  - apiGroup: [ "" ]\n    resources:  [\n      configmaps,\n      secrets,\n    ]\n',
    value: { clusterRole: [{ apiGroup: [''], resources: ['configmaps', 'secrets'] }] },
    why: 'scannerc.go yaml_parser_unroll_indent: "In the flow context, do nothing" (no indentation inside [ ]); js-yaml: deficient indentation',
  },
  {
    name: 'flow sequence items at the indentation of their key',
    text: 'a:\n  b: [\n  x, z\n  ]\nc: 1\n',
    value: { a: { b: ['x', 'z'] }, c: 1 },
    why: 'same rule: indentation is not checked while flow_level > 0; js-yaml and the yaml package refuse it',
  },
  {
    name: 'flow mapping continued at column 1',
    text: 'a:\n  b: {\nx: 1 }\n',
    value: { a: { b: { x: 1 } } },
    why: 'same rule; js-yaml: deficient indentation',
  },
  {
    name: 'a comment right after a quoted scalar',
    text: 'a: "x"#c\n',
    value: { a: 'x' },
    why: 'scannerc.go yaml_parser_scan_to_next_token skips a # comment at a token boundary whatever precedes it',
  },
  {
    name: 'a local tag and !!binary',
    text: 'a: !foo bar\nb: !!binary aGk=\n',
    why: 'resolve.go resolve(): an unknown tag leaves the string as it is; !!binary decodes; js-yaml: unknown tag',
  },
  {
    name: 'YAML 1.1 booleans',
    text: 'a: yes\nb: off\nc: "yes"\n',
    value: { a: true, b: false, c: 'yes' },
    why: 'resolve.go (v2) resolve table: y, yes, on, off ... are booleans',
  },
  {
    name: 'duplicate keys (the last one wins)',
    text: 'a: 1\na: 2\n',
    value: { a: 2 },
    why: 'decode.go (v2) setMapIndex reports "already set in map" only when strict; sigs.k8s.io/yaml Unmarshal ignores duplicates (UnmarshalStrict refuses); js-yaml: duplicated mapping key',
  },
  { name: 'an empty file', text: '', why: 'an empty document unmarshals to nothing, no error; js-yaml 5: the input is empty' },
  { name: 'only a comment', text: '# nothing\n', why: 'same' },
  { name: 'a tab as indentation', text: 'a:\n\tb: 1\n', error: { line: 2, message: 'Tabs are not allowed as indentation' }, why: 'scannerc.go: "found character that cannot start any token"' },
  { name: 'a key less indented than its siblings', text: 'a:\n  b: 1\n c: 2\n', error: { line: 3, message: 'not valid YAML' }, why: 'parserc.go: "did not find expected key"' },
  { name: 'a nested mapping on one line', text: 'a: b: c\n', error: { line: 1, message: 'not valid YAML' }, why: 'scannerc.go: "mapping values are not allowed in this context"' },
  { name: 'a plain scalar starting with @', text: 'a: @x\n', error: { line: 1, message: 'reserved character @' }, why: 'scannerc.go: "found character that cannot start any token"' },
  { name: 'an unclosed quote', text: 'a: "x\n', error: { line: 1, message: 'Missing closing "quote: the " here is never closed' }, why: 'scannerc.go: "found unexpected end of stream" (Go says line 2, past the text; packpub names the opening quote)' },
  { name: 'an alias to no anchor', text: 'a: *x\n', error: { line: 1, message: "unknown anchor 'x' referenced" }, why: 'decode.go: "unknown anchor \'%s\' referenced"' },
  { name: 'an anchor that contains itself', text: 'a: &x [*x]\n', error: { line: 1, message: "anchor 'x' value contains itself" }, why: 'decode.go: "anchor \'%s\' value contains itself"' },
  { name: 'a list as a key', text: '[a, b]: c\n', error: { line: 1, message: 'invalid map key' }, why: 'decode.go mapping(): "invalid map key"' },
  { name: 'a null key', text: '~: 1\n', error: { line: 1, message: 'unsupported map key of type: <nil>' }, why: 'sigs.k8s.io/yaml yaml.go convertToJSONableObject: "unsupported map key of type"' },
  { name: 'a merge of a scalar', text: 'a:\n  <<: 1\n', error: { line: 2, message: 'map merge requires map or sequence of maps as the value' }, why: 'decode.go merge(): same message' },
  { name: 'a control character', text: 'a: b\u0007c\n', error: { line: 1, message: 'control characters are not allowed' }, why: 'readerc.go yaml_parser_update_buffer: "control characters are not allowed"' },
  {
    name: 'a %YAML 1.1 directive',
    text: '%YAML 1.1\n---\na: yes\n',
    value: { a: true },
    why: 'parserc.go yaml_parser_process_directives accepts major 1, minor 1',
  },
  {
    name: 'a %YAML 1.2 directive',
    text: '%YAML 1.2\n---\na: yes\n',
    error: { line: 1, message: 'found incompatible YAML document' },
    why: 'parserc.go (v2 and v3) yaml_parser_process_directives: "found incompatible YAML document" unless 1.1; the yaml package would read yes as a string',
  },
  {
    name: 'two %YAML directives before one document',
    text: '%YAML 1.1\n%YAML 1.1\n---\na: 1\n',
    error: { line: 2, message: 'found duplicate %YAML directive' },
    why: 'parserc.go yaml_parser_process_directives: "found duplicate %YAML directive"',
  },
  {
    name: 'a %YAML line inside a block scalar is text',
    text: '--- |\n%YAML 1.2\n',
    value: '%YAML 1.2\n',
    why: 'scannerc.go yaml_parser_scan_block_scalar reads the lines of the scalar itself: a directive is looked for only between documents',
  },
  {
    name: 'carriage returns alone as line breaks (old Mac files)',
    text: 'a: 1\rb:\r  c: 2\r',
    value: { a: 1, b: { c: 2 } },
    why: 'readerc.go/scannerc.go is_break: CR, LF, CR LF (and NEL) all end a line; the yaml package reads a lone CR as text',
  },
  {
    name: 'a CRLF file whose last line lost its LF',
    text: 'a: 1\r\nb: {}\r',
    value: { a: 1, b: {} },
    why: 'scannerc.go is_break: the final CR is a line break',
  },
  {
    name: 'a lone CR counts as a line in positions',
    text: 'a: 1\rb: [\r',
    error: { line: 2, message: 'not valid YAML' },
    why: 'Go counts the CR as a line ("line 2: did not find expected node content"); the unclosed [ is reported where it opens',
  },
  { name: 'a document marker inside a flow sequence', text: 'a: [\n---\n]\n', error: { line: 2, message: 'not valid YAML' }, why: 'scannerc.go reads --- at column 0 as a document start even in flow: "did not find expected \',\' or \']\'"' },
  // A flow mapping key and its `:` on different lines (go-yaml v2 and v3: "did not find expected ',' or '}'",
  // on the line before the `:` in v2's count). Error lines below are the `:`'s.
  ...[
    ['a line break between a flow mapping key and its colon', 'a: {b\n: 1}\n', 2],
    ['the colon indented on the next line', 'a: {b: 1, c\n  : 2}\n', 2],
    ['a quoted key before the line break', "a: {'b'\n : 1}\n", 2],
    ['a plain key over two lines', 'a: {b\n c: 1}\n', 2],
    ['a quoted key over two lines', 'a: {"b\n c": 1}\n', 2],
    ['a comment between key and colon', 'a: {b #c\n: 1}\n', 2],
    ['an anchored key', 'a: {&x b\n: 1}\n', 2],
    ['a flow mapping inside a flow sequence', 'a: [{b\n: 1}]\n', 2],
    ['a key on its own line in a flow mapping', 'a: {\n b\n : 1}\n', 3],
    // A comment before the key: read forward from the entry before it, the comment cannot hide the key.
    ['a comment line before a flow mapping key', 'a: {b: 1, # c\n  d\n  : 2}\n', 3],
    ['a comment after the comma, key and colon on later lines', 'a: {b: 1,\n # c, d\n k\n : 2}\n', 4],
    ['a "#" inside a quoted value before the key', 'a: {b: "x # y", k\n : 2}\n', 2],
    ['a flow collection before the key', 'a: {b: [1, 2], k\n : 3}\n', 2],
    ['the colon followed by a flow collection', 'a: {k\n :[1]}\n', 2],
  ].map(([name, text, line]): Case => ({
    name: name as string,
    text: text as string,
    error: { line: line as number, message: "did not find expected ',' or '}'" },
    why: 'scannerc.go yaml_parser_stale_simple_keys: a simple key is dropped when the line changes before its `:`',
  })),
  {
    name: "a flow mapping key whose ':' is 1025 characters after its start",
    text: `a: {${'k'.repeat(1025)}: 1}\n`,
    error: { line: 1, message: 'at most 1024 characters' },
    why: 'scannerc.go yaml_parser_stale_simple_keys: mark.index + 1024 < index (characters)',
  },
  { name: "a flow mapping key whose ':' is 1024 characters after its start", text: `a: {${'k'.repeat(1024)}: 1}\n`, value: { a: { ['k'.repeat(1024)]: 1 } }, why: 'not yet stale' },
  {
    name: 'a 1024-character flow mapping key ending in an astral character (counted once, as Go counts it)',
    text: `a: {${'k'.repeat(1023)}\u{1F600}: 1}\n`,
    value: { a: { [`${'k'.repeat(1023)}\u{1F600}`]: 1 } },
    why: 'go-yaml counts characters, not UTF-16 units',
  },
  { name: 'an explicit flow mapping key over a line break', text: 'a: {? b\n: 1}\n', value: { a: { b: 1 } }, why: 'an explicit key (`?`) is no simple key' },
  { name: 'a line break after the colon of a flow mapping key', text: 'a: {b :\n 1, c: [1,\n 2]}\n', value: { a: { b: 1, c: [1, 2] } }, why: 'the key and its `:` are on one line' },
  { name: 'a comment line before a flow mapping key on one line with its colon', text: 'a: {b: 1, # c\n  d: 2}\n', value: { a: { b: 1, d: 2 } }, why: 'the key and its `:` are on one line' },
  { name: 'a colon on a later line followed by a value without a blank', text: 'a: {k\n :2, j: 1}\n', value: { a: { 'k :2': null, j: 1 } }, why: 'a `:` not followed by a blank continues the plain scalar, as in Go (go-yaml v2 and v3: the same keys); only a blank, a line break, `[`, `{`, `]` or `?` after the `:` is refused' },
  // go-yaml's Unmarshal decodes the first document's root node and stops: a key less indented than the
  // first line ends that node, and Go never reads it (a warning here, below).
  { name: 'a key less indented than the first line', text: '  a: 1\nb: 2\n', value: { a: 1 }, why: 'Go reads {a: 1} and never reads `b: 2`' },
  { name: 'a nested block ended by a key less indented than the first line', text: '    image:\n      tag: 1\n  other: 2\nlast: 3\n', value: { image: { tag: 1 } }, why: 'Go reads {image: {tag: 1}}' },
  { name: 'an indented sequence ended by a quoted key', text: '  - a\n"b": 1\n', value: ['a'], why: "Go reads ['a']" },
  { name: 'flow mapping keys without a value across lines', text: 'a: {b,\n c\n}\n', value: { a: { b: null, c: null } }, why: 'no `:` follows: keys with null values' },
  // go-yaml v2 decode.go parser.document: after the root node only the document's end is asked for, which
  // libyaml gives once the next token scans; what follows a top-level {...} mapping is never parsed.
  { name: 'text after a top-level flow mapping', text: '{a: 1} junk\n', value: { a: 1 }, why: 'Go reads {a: 1}: `junk` is one plain scalar token, never parsed' },
  { name: 'lines of text after a top-level flow mapping', text: '{a: 1,\n b: [2]}junk}"q"\n more, [x]\n', value: { a: 1, b: [2] }, why: 'the rest is one plain scalar token for the scanner' },
  // A text of blanks and comments holds no document, but libyaml's scanner still meets a tab leading a line.
  { name: 'a tab alone', text: '\t\n', error: { line: 1, message: 'found character that cannot start any token' }, why: 'scannerc.go yaml_parser_scan_to_next_token skips a tab only where no simple key may start' },
  { name: 'a tab before a comment, after a comment line', text: '# values\n \t# none\n', error: { line: 2, message: 'found character that cannot start any token' }, why: 'the same, on the second line' },
  { name: 'a tab inside a comment of an empty file', text: '# values\t# none\n', value: undefined, why: 'a comment is skipped whole' },
  // parserc.go: a `...` marker as the first token starts an implicit document with no node in it.
  { name: 'a document end marker before any content', text: '# no values\n...\n', error: { line: 2, message: 'did not find expected node content' }, why: 'yaml_parser_parse_node: "did not find expected node content"' },
  { name: 'a document end marker after content', text: 'a: 1\n...\n', value: { a: 1 }, why: 'ends the document' },
  { name: 'an indented ... before any content', text: ' ...\n', value: '...', why: 'not a marker: a plain scalar' },
  { name: 'a key on the line after a top-level flow mapping', text: '{a: 1} # c\n\nb: 2\nc: [3\n', value: { a: 1 }, why: 'Go reads {a: 1}; the scanner stops at the `:` of `b`' },
  { name: 'text and a key after a top-level flow mapping', text: '{a: 1} junk: 2\n', error: { line: 1, message: '' }, why: 'the `:` makes the mapping a key of a block mapping, then `junk` is no key: "did not find expected key"' },
  { name: 'an unterminated quote after a top-level flow mapping', text: '{a: 1} "q\n', error: { line: 1, message: '' }, why: 'the scanner reads the quoted scalar: "found unexpected end of stream"' },
];

describe("YAML verdicts match Go's", () => {
  it.each(cases)('$name', ({ text, error, value }) => {
    const parsed = parseGoYaml(text);
    const check = checkYamlText(text, 'values.yaml');
    if (error === undefined) {
      expect(parsed.error).toBeUndefined();
      expect(check.ok).toBe(true);
      expect(check.findings.filter((f) => f.severity === 'error')).toEqual([]);
      if (value !== undefined) expect(check.documents[0]).toEqual(value);
    } else {
      expect(check.ok).toBe(false);
      expect(check.findings).toEqual([expect.objectContaining({ severity: 'error', rule: 'yaml-syntax', line: error.line, column: expect.any(Number) })]);
      expect(check.findings[0]?.message).toContain(error.message);
    }
  });

  it('keeps positions in the original text when it re-indents flow lines', () => {
    const check = checkYamlText('a:\n  b: [\n  x,\n  ]\nc:\n  d: 1\n  d: 2\n', 'values.yaml');
    expect(check.keyPositions.get('c.d')).toEqual({ line: 6, column: 3 });
    expect(check.findings).toEqual([expect.objectContaining({ rule: 'yaml-duplicate-key', line: 7, column: 3 })]);
  });

  it('warns about a %YAML 1.2 directive before a later document (Helm reads only the first)', () => {
    const check = checkYamlText('a: 1\n...\n%YAML 1.2\n---\nb: 2\n', 'values.yaml');
    expect(check.ok).toBe(true);
    expect(check.findings).toEqual([expect.objectContaining({ severity: 'warning', rule: 'yaml-syntax', line: 3, message: expect.stringContaining('found incompatible YAML document') })]);
  });

  it('warns that Go never reads what follows the top-level value when a key is less indented than the first line', () => {
    const check = checkYamlText('  a: 1\n  b: 2\n# c\nc: 3\nd: 4\n', 'values.yaml');
    expect(check.ok).toBe(true);
    expect(check.documents).toEqual([{ a: 1, b: 2 }]);
    expect(check.findings).toEqual([expect.objectContaining({ severity: 'warning', rule: 'yaml-syntax', line: 4, column: 1, message: expect.stringContaining('never reads it, nor anything after it up to the next ---') })]);
    // Where Go's scanner reads on past that line (a key without its `:` there), or the text before it does not
    // read cleanly, Go refuses, and so does packpub (go-yaml v2: "found unexpected end of stream", "could not find expected ':'").
    expect(checkYamlText('  a: 1\n"q"\n "', 'values.yaml').ok).toBe(false);
    expect(checkYamlText('  a: 1\n  !t \nb: 2\n', 'values.yaml').ok).toBe(false);
  });

  it('warns that Go never reads the text after a top-level flow mapping', () => {
    const check = checkYamlText('# values\n{image: {tag: "1.2"}} left over\n', 'values.yaml');
    expect(check.ok).toBe(true);
    expect(check.documents).toEqual([{ image: { tag: '1.2' } }]);
    expect(check.findings).toEqual([expect.objectContaining({ severity: 'warning', rule: 'yaml-syntax', line: 2, column: 23, message: expect.stringContaining('ends the document with the {...} mapping before this and never reads this') })]);
  });

  it('warns (Helm reads only the first document) about an error in a later document', () => {
    const check = checkYamlText('a: 1\n---\nb: [\n', 'values.yaml');
    expect(check.ok).toBe(true);
    expect(check.findings).toEqual([expect.objectContaining({ severity: 'warning', rule: 'yaml-syntax', line: 3, message: expect.stringContaining('Helm reads only the first one') })]);
  });

  // parseGoYaml lexes the text a second time to re-indent flow lines only when the plain parse has an
  // error: that is exact only if every flow collection the lexer ends early leaves an error behind.
  it('a flow collection ended early by its indentation always leaves a parse error (the fast path is exact)', () => {
    const line = fc.constantFrom('a:', '  b: [', 'c: {', '  - [', 'x,', '  y,', ']', '}', '  ]', ' }', '  k: v', '- z', '---', '"q"', 'd: [x, y]', '  e: {f: 1}', '# c', '');
    const text = fc.array(fc.tuple(fc.nat({ max: 6 }), line), { maxLength: 12 }).map((lines) => lines.map(([n, l]) => ' '.repeat(n) + l).join('\n'));
    let endedEarly = 0;
    fc.assert(
      fc.property(text, (t) => {
        const early = [...new Lexer().lex(t)].some((token) => CST.tokenType(token) === 'flow-error-end');
        if (!early) return;
        endedEarly++;
        const docs = parseAllDocuments(t, { version: '1.1', merge: true, uniqueKeys: false, strict: true, prettyErrors: false });
        expect((Array.isArray(docs) ? docs : [docs]).some((d) => d.errors.length > 0)).toBe(true);
      }),
      { numRuns: 1500 },
    );
    expect(endedEarly).toBeGreaterThan(25);
  });
});
