import fc from 'fast-check';
import { CST, Lexer, parseAllDocuments, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { readsAsGo, type GoRead, type GoRefused } from './yaml-go-cases.js';
import { parseGoYaml } from '../../../src/pack/yaml-go.js';
import { checkYamlText, MAX_YAML_ALIAS_EXPANSION, isContentDocument } from '../../../src/pack/yaml-source.js';
import { formatPath, type PathSegment } from '../../../src/pack/json-source.js';
import { parseYamlTree, type YMap } from '../../../src/pack/yaml-tree.js';
import { goKeyText, goTaggedScalar } from '../../../src/pack/yaml-tags.js';
import { goBlockScalar, goFlowScalar } from '../../../src/pack/yaml-breaks.js';
import { GoScalar, goFloat32Text, holdsNumberOrBool, valuesWithGoScalars } from '../../../src/pack/yaml-json-text.js';

/*
 * The tests of YAML read as Go reads it (yaml-go.ts, yaml-fast.ts's full reader, yaml-source.ts, yaml-json-
 * text.ts), a describe per former file (each was a test file of its own): each test file costs vitest ~15-30 ms of
 * CPU whatever its size (requests between worker and main process, test/per-file-setup.ts).
 */

describe('yaml-go-block-end', () => {
  /*
   * A block scalar (`|`, `>`) whose last line ends the text, with no line break after it: go-yaml (v2.4.0 and
   * v3, scannerc.go yaml_parser_scan_block_scalar: Helm, yq and Palette) appends the break read after the last
   * line, which there is none, so `a: |` + `  x` is "x"; the `yaml` package (YAML 1.2) reads "x\n". A final line
   * of blanks is no line of the scalar: the break before it stays. Every value here was checked on the same
   * bytes with go-yaml v2.4.0; both readers (the fast one and the full one) must give it.
   */

  // The last line ends the text: "x" in Go (clip, keep, strip alike), "x\n" in YAML 1.2.
  const NO_BREAK = ['a: |\n  x', 'a: |+\n  x', 'a: |-\n  x', 'a: !t |\n  x'];
  // A break after the last line (a final line of blanks, a comment, a lone CR): Go keeps it.
  const BREAK = ['a: |\n  x\n', 'a: |\n  x\n  ', 'a: |\n  x\n#c', 'a: |\n  x\r'];
  const OTHERS: Array<[string, string]> = [['a: >\n  x\n  y', 'x y'], ['a: |+\n  x\n\n  y', 'x\n\ny'], ['a: |\n  x  ', 'x  '], ['a: |2\n   x', ' x'], ['a: |+\n  x\n\n ', 'x\n\n']];

  const VALUES: GoRead[] = [
    ...NO_BREAK.map((text): GoRead => [text, { a: 'x' }]),
    ...BREAK.map((text): GoRead => [text, { a: 'x\n' }]),
    ...OTHERS.map(([text, value]): GoRead => [text, { a: value }]),
    ['b:\n  - |\n    x', { b: ['x'] }],
    ['a: |\n  x\n---\nb: |\n  y', { a: 'x\n' }],
    ['a: |\n  x\nb: 1', { a: 'x\n', b: 1 }],
  ];

  readsAsGo('a block scalar at the end of the text', VALUES);
});

describe('yaml-go-flow-dash', () => {
  /*
   * A `-` right before `,`, `]` or `}` in a flow collection: go-yaml (v2.4.0 and v3, scannerc.go
   * yaml_parser_fetch_next_token: a `-` is a block entry only before a blank or a line break) reads the plain
   * scalar "-" (`{k: -}` maps k to "-"); the `yaml` package read a block sequence entry there and refused the
   * file ("Block collections are not allowed within flow collections"). A `-` before a blank or a break stays
   * refused, as Go refuses it. Every verdict and value here was checked on the same bytes with go-yaml v2.4.0.
   */

  const ACCEPTED: GoRead[] = [
    ['a: {k: -}\n', { a: { k: '-' } }],
    ['a: {k: -, b: 1}\n', { a: { k: '-', b: 1 } }],
    ['a: {a: 1, k: -,}\n', { a: { a: 1, k: '-' } }],
    ['a: [{k: -}]\n', { a: [{ k: '-' }] }],
    ['a: {k: [-]}\n', { a: { k: ['-'] } }],
    ['a: [k: -]\n', { a: [{ k: '-' }] }],
    ['a: {"k": -}\n', { a: { k: '-' } }],
    ['{-}\n', { '-': null }],
    ['a: {-, x}\n', { a: { '-': null, x: null } }],
    ['a: [x, -]\n', { a: ['x', '-'] }],
    ['a: [fd00::, -]\n', { a: ['fd00::', '-'] }],
    ['a: {k: --}\n', { a: { k: '--' } }],
    // `-:` before a flow indicator is the text "-:" for Go.
    ['a: [-:, b]\n', { a: ['-:', 'b'] }],
    ['a: {k: -:}\n', { a: { k: '-:' } }],
    ['a: {-:}\n', { a: { '-:': null } }],
  ];

  const REFUSED: GoRefused[] = [['a: [ - ]\n'], ['a: {k: -\n  }\n'], ['a: {k: - }\n'], ['a: {k: -: v}\n']];

  readsAsGo('a dash in a flow collection as Go reads it', ACCEPTED, REFUSED);
});

describe('yaml-go-escapes', () => {
  /*
   * Escapes in double-quoted scalars where go-yaml (scannerc.go yaml_parser_scan_flow_scalar, v2.4.0 and
   * v3: the reader of Helm, yq and Palette) and YAML 1.2 (the `yaml` package) part: Go reads `\'` as `'`
   * and refuses `\/` ("found unknown escape character") and a `\u`/`\U` surrogate ("found invalid Unicode
   * character escape code"), and a line ending in `\"` does not close the value (the `yaml` package took
   * it as closed when the next line was indented less). Each verdict was checked on the same bytes with go-yaml v2.4.0 and v3; both
   * readers (the fast one and the full one) must give it.
   */

  const ACCEPTED: GoRead[] = [
    ['k: "don\\\'t"\n', { k: "don't" }],
    ['k: "a\\\\\'b"\n', { k: "a\\'b" }],
    ['"it\\\'s": 1\n', { "it's": 1 }],
    ['k: "a\\\'\n  b\\\'c"\n', { k: "a' b'c" }],
    ['a: ["\\\'", x]\n', { a: ["'", 'x'] }],
    ['k: "\\U0001F600 \\u00e9"\n', { k: '\u{1F600} \u00e9' }],
    // A line ending in an escaped quote does not close the value, however the next line is indented.
    ['a:\n  p: "x\\"\n  y"\n', { a: { p: 'x" y' } }],
    ['a: "\\"\n"\n', { a: '" ' }],
  ];

  const REFUSED: GoRefused[] = [
    ['k: "x\\/y"\n', 'found unknown escape character', 1, 6],
    ['a: 1\nk: ["\\/"]\n', 'found unknown escape character', 2, 6],
    ['k: "\\uD83D\\uDE00"\n', 'found invalid Unicode character escape code', 1, 5],
    ['k: "\\U0000DFFF"\n', 'found invalid Unicode character escape code', 1, 5],
    // `"C:\"` is no closed value: Go reads on into `name: "x"` and stops at its `x` ("did not find expected key").
    ['path: "C:\\"\nname: "x"\n', 'Unexpected scalar at node end', 2, 8],
  ];

  readsAsGo('double-quoted escapes as Go reads them', ACCEPTED, REFUSED);
});

describe('yaml-go-flow-colon', () => {
  /*
   * A `:` right after a plain scalar inside a flow collection and before `,`, `]` or `}`: go-yaml (v2.4.0 and
   * v3, scannerc.go yaml_parser_scan_plain_scalar) ends a plain scalar at a `:` only when a blank or a line
   * break follows, so the `:` is part of the scalar (IPv6 addresses such as `fd00::`); YAML 1.2 takes it as a
   * value indicator. And a `:` that starts a value there is a value indicator for Go (`[::1]` is refused).
   * Every value and verdict below is what go-yaml v2.4.0 gives for the same text.
   */

  const CASES: GoRead[] = [
    ['x: [fd00::]\n', { x: ['fd00::'] }],
    ['x: [1.2.3.4, 001:db8::]\n', { x: ['1.2.3.4', '001:db8::'] }],
    ['x: {k: fd00::}\n', { x: { k: 'fd00::' } }],
    ['x: { a: b:}\n', { x: { a: 'b:' } }],
    ['x: [a:, b]\n', { x: ['a:', 'b'] }],
    ['x: [a:,]\n', { x: ['a:'] }],
    ['x: {a:}\n', { x: { 'a:': null } }],
    // Unchanged: a blank after the `:`, a `:` inside the scalar, a quoted key.
    ['x: {a: b, c: [d:e]}\n', { x: { a: 'b', c: ['d:e'] } }],
    ['x: {"a":}\n', { x: { a: null } }],
    ['x: "[a:]"\nz: [a:]\n', { x: '[a:]', z: ['a:'] }],
  ];

  readsAsGo('a colon before a flow indicator, as Go reads it', CASES);

  /** Values that start with `:` inside [...] or {...}: Go reads that `:` as a value indicator and refuses the file. */
  const REFUSED: GoRefused[] = [
    ['no_proxy: [127.0.0.1, ::1]\n', 'did not find expected node content', 1, 23],
    ['x: [::]\n', 'did not find expected node content', 1, 5],
    ['x: {k: :a}\n', 'did not find expected node content', 1, 8],
    ['a: 1\nx:\n  - [b, :c]\n', 'did not find expected node content', 3, 9],
  ];

  readsAsGo('a value starting with a colon in a flow collection, refused as Go refuses it', [], REFUSED);
});

describe('yaml-go', () => {
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
});

describe('yaml-source', () => {
  /** Every mapping key's formatted path in a plain value, as checkYamlText records them (parents less than 16 deep). */
  function keyPaths(value: unknown, path: PathSegment[] = [], out = new Set<string>()): Set<string> {
    if (Array.isArray(value)) value.forEach((item, i) => keyPaths(item, [...path, i], out));
    else if (typeof value === 'object' && value !== null) {
      for (const [key, child] of Object.entries(value)) {
        if (path.length < 16) out.add(formatPath([...path, key]));
        keyPaths(child, [...path, key], out);
      }
    }
    return out;
  }

  describe('checkYamlText', () => {
    it('records where mapping keys sit, through sequences and flow collections', () => {
      const text = ['pack:', '  content:', '    images:', '      - image: a', '        tag: {x: 1}', 'charts: {web: {replicas: 2}}', ''].join('\n');
      const check = checkYamlText(text, 'values.yaml');
      expect(check.ok).toBe(true);
      expect(check.keyPositions.get('pack.content.images')).toEqual({ line: 3, column: 5 });
      expect(check.keyPositions.get('pack.content.images[0].tag')).toEqual({ line: 5, column: 9 });
      expect(check.keyPositions.get('pack.content.images[0].tag.x')).toEqual({ line: 5, column: 15 });
      expect(check.keyPositions.get('charts.web.replicas')).toEqual({ line: 6, column: 16 });
    });

    it('marks the lines inside block and multi-line scalars', () => {
      const text = ['a: |', '   one', '   two', 'b: "x', '   y"', 'c: 1', ''].join('\n');
      expect([...checkYamlText(text, 'values.yaml').scalarContentLines].sort()).toEqual([2, 3, 5]);
    });

    it('accepts aliases that expand a little, and refuses one that expands past the budget', () => {
      expect(checkYamlText('base: &b {x: 1, y: 2}\none: *b\ntwo: *b\n', 'values.yaml').ok).toBe(true);
      // Nested aliases, 8 per level: Go's share of alias-expanded decodes passes 99% at the third level.
      const levels = ['l0: &l0 [0, 0, 0, 0, 0, 0, 0, 0]'];
      for (let i = 1; i < 9; i++) levels.push(`l${i}: &l${i} [${Array(8).fill(`*l${i - 1}`).join(', ')}]`);
      const first = checkYamlText(`${levels.join('\n')}\n`, 'values.yaml');
      expect(first.findings).toEqual([expect.objectContaining({ rule: 'yaml-alias-bomb', line: 4, message: expect.stringContaining('document contains excessive aliasing') })]);
      // In a document after the first (which Go never reads), the same bomb is stopped by the budget.
      const later = checkYamlText(`x: 1\n---\n${levels.join('\n')}\n`, 'values.yaml');
      expect(later.findings).toEqual([expect.objectContaining({ rule: 'yaml-alias-bomb', line: 9, message: expect.stringContaining(`more than ${MAX_YAML_ALIAS_EXPANSION} nodes`) })]);
    });

    // sigs.k8s.io/yaml Unmarshal (what Helm uses) accepts duplicate keys, the last one winning (yaml.go:
    // "Duplicate fields ... are ignored"; only UnmarshalStrict refuses them; go-yaml v2 decode.go
    // setMapIndex errors "already set in map" only in strict mode). So: valid, with a warning per key.
    it('accepts duplicate keys as Go does (the last wins) and warns about every one with its line', () => {
      const check = checkYamlText('charts:\n  foo:\n    replicaCount: 1\n    replicaCount: 2\n    image:\n      tag: a\n      tag: b\n', 'values.yaml');
      expect(check.ok).toBe(true);
      expect(check.documents).toEqual([{ charts: { foo: { replicaCount: 2, image: { tag: 'b' } } } }]);
      expect(check.findings.map((f) => [f.severity, f.rule, f.path, f.line, f.column])).toEqual([
        ['warning', 'yaml-duplicate-key', 'charts.foo.replicaCount', 4, 5],
        ['warning', 'yaml-duplicate-key', 'charts.foo.image.tag', 7, 7],
      ]);
      expect(check.findings[0]?.message).toContain('(first on line 3)');
    });

    it('names duplicate keys and key positions by their full path through lists and odd keys', () => {
      const check = checkYamlText('a:\n  - "x.y":\n      k: 1\n      k: 2\ntop: 1\ntop: 2\n', 'values.yaml');
      expect(check.ok).toBe(true);
      expect(check.findings.map((f) => [f.path, f.line, f.column])).toEqual([
        ['a[0]["x.y"].k', 4, 7],
        ['top', 6, 1],
      ]);
      expect(check.findings[0]?.message).toContain('is set twice in a[0]["x.y"] (first on line 3)');
      expect(check.findings[1]?.message).toContain('is set twice in the top level (first on line 5)');
      expect([...check.keyPositions]).toEqual([
        ['a', { line: 1, column: 1 }],
        ['a[0]["x.y"]', { line: 2, column: 5 }],
        ['a[0]["x.y"].k', { line: 3, column: 7 }],
        ['top', { line: 5, column: 1 }],
      ]);
    });

    it('gives the same verdict and findings without building values when asked for none', () => {
      for (const text of ['a: 1\na: 2\nb: [1, 2]\n', 'a: [1,\n', 'a: *nope\n', 'x: |\n  one\n  two\n']) {
        const full = checkYamlText(text, 'presets.yaml');
        const bare = checkYamlText(text, 'presets.yaml', { documents: false });
        expect(bare.documents).toEqual([]);
        expect({ ...bare, documents: full.documents, parsed: undefined }).toEqual({ ...full, parsed: undefined });
      }
    });

    // The walk formats paths incrementally (issue 16); formatPath over the whole path is the reference.
    it('records every key under the path formatPath gives it, for generated documents with odd keys', () => {
      const key = fc.constantFrom('a', 'b-c', 'x.y', '0', '12', 'with space', '_k', '$v', 'é', 'q"t', '[i]', '');
      const { tree } = fc.letrec((tie) => ({
        tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, fc.constantFrom(1, 'text', null, true), tie('map'), tie('list')),
        map: fc.dictionary(key, tie('tree'), { maxKeys: 4 }),
        list: fc.array(tie('tree'), { maxLength: 3 }),
      }));
      fc.assert(
        fc.property(fc.dictionary(key, tree, { minKeys: 1, maxKeys: 5 }), (doc) => {
          const check = checkYamlText(stringify(doc), 'values.yaml');
          expect(check.findings).toEqual([]);
          expect(check.documents).toEqual([doc]);
          expect(new Set(check.keyPositions.keys())).toEqual(keyPaths(doc));
        }),
        { numRuns: 300 },
      );
    });

    it('does not throw on an alias to an unknown anchor in a document after the first (a warning, its value null)', () => {
      for (const text of ['a: 1\n...\n*a\n', 'a: 1\n---\nb: *x\n', '---\n---\n*a\n']) {
        const check = checkYamlText(text, 'values.yaml');
        expect(check.ok, text).toBe(true);
        expect(check.findings, text).toEqual([expect.objectContaining({ severity: 'warning', rule: 'yaml-syntax', message: expect.stringContaining("unknown anchor 'x'".replace('x', text.includes('*x') ? 'x' : 'a')) })]);
        expect(check.documents.at(-1), text).toBeNull();
      }
    });

    it('treats an empty file as zero documents, not an error', () => {
      expect(checkYamlText('', 'values.yaml')).toMatchObject({ ok: true, documents: [] });
      expect(checkYamlText('# only a comment\n', 'values.yaml')).toMatchObject({ ok: true, documents: [] });
    });

    it('refuses an alias to an anchor that does not exist, with its line', () => {
      const check = checkYamlText('a: 1\nb: *nope\n', 'values.yaml');
      expect(check.findings).toEqual([expect.objectContaining({ severity: 'error', rule: 'yaml-syntax', line: 2, column: 4, message: "not valid YAML: unknown anchor 'nope' referenced; fix the syntax at this position" })]);
    });
  });

  describe('number keys as Helm holds them (sigs.k8s.io/yaml over go-yaml v2)', () => {
    // Go formats a float key with strconv.FormatFloat(f, 'g', -1, 32) and an int key in decimal; JavaScript's
    // text differs for exponents, float32 rounding and ints past 2^53. `&a`/`*a` make the full reader read it.
    const KEYS = 'k:\n  1e7: a\n  3.14159265: b\n  9007199254740993: c\n  1e-7: d\n  0x1F: e\n  on: f\n  "1e7": g\n';
    it.each([
      ['the fast reader', KEYS],
      ['the full reader', `x: &a 1\ny: *a\n${KEYS}`],
    ])('%s gives the documents the keys Go gives', (_, text) => {
      const check = checkYamlText(text, 'values.yaml');
      expect(check.ok).toBe(true);
      expect(Object.keys((check.documents[0] as { k: object }).k).sort()).toEqual(['1e+07', '1e-07', '1e7', '3.1415927', '31', '9007199254740993', 'true']);
    });

    it.each([
      ['a:\n  18446744073709551615: 1\n', 'a["18446744073709551615"]', 2, 3],
      ['9223372036854775808: x\n', '["9223372036854775808"]', 1, 1],
      ['a: {0xFFFF_FFFF_FFFF_FFFF: 1}\n', 'a["18446744073709551615"]', 1, 5],
    ])('%j: a key past int64 that Go reads as a uint64 (sigs.k8s.io/yaml: "unsupported map key of type: uint64")', (text, path, line, column) => {
      expect(checkYamlText(text, 'values.yaml').uint64Key).toEqual({ path, line, column });
    });

    it.each(['18446744073709551616: x\n', '-9223372036854775809: x\n', '"18446744073709551615": x\n', '9223372036854775807: x\n', '+9223372036854775808: x\n', 'a: !!str 18446744073709551615\n'])(
      '%j: no uint64 key (past uint64 and below int64 Go reads a float; quoted, tagged, int64 or a value: fine)',
      (text) => {
        const check = checkYamlText(text, 'values.yaml');
        expect(check.ok).toBe(true);
        expect(check.uint64Key).toBeUndefined();
      },
    );

    it('tagged keys are the keys Go makes of them, in the documents, the key paths and the tree (go-yaml v2 decode.go scalar)', () => {
      // resolve.go resolve(tag, text) then sigs.k8s.io/yaml convertToJSONableObject: an int in decimal, a
      // float (also an int read with !!float) as float32 'g' text, a bool as true/false, !!binary decoded;
      // !!str and local tags keep the text.
      const text = 'k:\n  !!int 0x10: a\n  !!bool yes: b\n  !!float 1e7: c\n  !!binary aGk=: d\n  !!str 1.0: e\n  !foo 010: f\n  !!float 123456789: g\n  !!int "1_0": h\n';
      const keys = ['16', 'true', '1e+07', 'hi', '1.0', '010', '1.2345679e+08', '10'];
      const check = checkYamlText(text, 'values.yaml');
      expect(check.ok).toBe(true);
      expect(Object.keys((check.documents[0] as { k: object }).k).sort()).toEqual([...keys].sort());
      expect([...check.keyPositions.keys()].slice(1)).toEqual(keys.map((key) => formatPath(['k', key])));
      const root = parseYamlTree(text).root as YMap;
      expect((root.entries[0]?.value as YMap).entries.map((e) => e.key)).toEqual(keys);
    });

    it('a tagged !!int key past int64 is a uint64 key too', () => {
      expect(checkYamlText('a:\n  !!int 9223372036854775808: x\n', 'values.yaml').uint64Key).toEqual({ path: 'a["9223372036854775808"]', line: 2, column: 9 });
    });
  });

  describe('null keys (go-yaml reads a nil key; sigs.k8s.io/yaml: "unsupported map key of type: <nil>")', () => {
    it.each([
      ['a:\n  ~: 1\n', 'a["~"]', 2, 3],
      ['null: x\n', 'null', 1, 1],
      ['a: {~: 1}\n', 'a["~"]', 1, 5],
      ['a:\n  ? !!null ~\n  : 1\n', 'a["~"]', 2, 12],
      ['a:\n  : 1\n', 'a[""]', 2, 3],
    ])('%j: an error by default, recorded with nullKeys: record', (text, path, line, column) => {
      const strict = checkYamlText(text, 'values.yaml');
      expect(strict.ok).toBe(false);
      expect(strict.findings).toEqual([expect.objectContaining({ severity: 'error', rule: 'yaml-syntax', message: expect.stringContaining('unsupported map key of type: <nil>') })]);
      const recorded = checkYamlText(text, 'values.yaml', { nullKeys: 'record' });
      expect(recorded.ok).toBe(true);
      expect(recorded.findings).toEqual([]);
      expect(recorded.nullKey).toEqual({ path, line, column });
    });

    it('a null key in a document after the first is never read by Helm: no error, nothing recorded', () => {
      const check = checkYamlText('a: 1\n---\n~: 2\n', 'values.yaml', { nullKeys: 'record' });
      expect(check.ok).toBe(true);
      expect(check.nullKey).toBeUndefined();
      expect(checkYamlText('a: 1\n---\n~: 2\n', 'values.yaml').findings).toEqual([]);
    });
  });

  // A chart's values.yaml starting with --- pasted, indented, under charts.<name> (packify's awk, pack-central's docs).
  describe('an indented --- before a syntax error', () => {
    const NOTE = 'is an indented "---", which YAML reads as the text "---", not as the start of a document (that is "---" at column 1 only): remove it';
    const messageOf = (text: string): string => checkYamlText(text, 'values.yaml').findings.map((f) => `${f.line}: ${f.message}`).join('\n');

    it('names that line, also across comment and blank lines', () => {
      expect(messageOf('charts:\n  db:\n\n    ---\n    mongodb:\n      type: ReplicaSet\n')).toContain(`line 4 ${NOTE}`);
      expect(messageOf('charts:\n  db:\n    ---\n    # comment\n\n    postgresVersion: 18\n')).toContain(`line 3 ${NOTE}`);
    });

    it('says nothing of a --- the error does not follow', () => {
      const text = 'charts:\n  db:\n    note: |\n      ---\n    image: x\n  web: [1\n';
      expect(messageOf(text)).toMatch(/^6: not valid YAML.*: the \[ here is never closed/);
      expect(messageOf(text)).not.toContain('indented "---"');
      expect(checkYamlText('charts:\n  db:\n    ---\n', 'values.yaml').findings).toEqual([]);
    });
  });
});

describe('yaml-tags', () => {
  /*
   * Explicitly tagged scalars as go-yaml v2.4.0 (Helm 3, through sigs.k8s.io/yaml) reads them: every
   * expected value or refusal below is what it gave for `a: <text>` (resolve.go resolve, decode.go scalar;
   * numbers through strconv with base 0 after dropping every `_`).
   */
  const refused: Array<[string, string]> = [
    ['!!int abc', 'cannot decode !!str `abc` as a !!int'],
    ['!!int 1.5', 'cannot decode !!float `1.5` as a !!int'],
    ['!!int 08', 'cannot decode !!float `08` as a !!int'],
    ['!!int 0x', 'cannot decode !!str `0x` as a !!int'],
    ['!!int _1', 'cannot decode !!str `_1` as a !!int'],
    ['!!int 0b2', 'cannot decode !!str `0b2` as a !!int'],
    ['!!int ~', 'cannot decode !!null `~` as a !!int'],
    ['!!int', 'cannot decode !!null `` as a !!int'],
    ['!!int true', 'cannot decode !!bool `true` as a !!int'],
    ['!!int 2001-12-14', 'cannot decode !!str `2001-12-14` as a !!int'],
    ['!!int 99999999999999999999', 'cannot decode !!float `99999999999999999999` as a !!int'],
    ['!!int -9223372036854775809', 'cannot decode !!float `-9223372036854775809` as a !!int'],
    ['!!bool maybe', 'cannot decode !!str `maybe` as a !!bool'],
    ['!!bool 1', 'cannot decode !!int `1` as a !!bool'],
    ['!!float x', 'cannot decode !!str `x` as a !!float'],
    ['!!float ._5', 'cannot decode !!str `._5` as a !!float'],
    ['!!float inf', 'cannot decode !!str `inf` as a !!float'],
    ['!!float 1e400', 'cannot decode !!str `1e400` as a !!float'],
    ['!!float 18446744073709551615', 'cannot decode !!int `18446744073709551615` as a !!float'],
    ['!!null foo', 'cannot decode !!str `foo` as a !!null'],
    ['!!timestamp foo', 'cannot decode !!str `foo` as a !!timestamp'],
    ['!!timestamp 12', 'cannot decode !!int `12` as a !!timestamp'],
    ['!!binary aGk', '!!binary value contains invalid base64 data'],
    ['!!binary a Gk=', '!!binary value contains invalid base64 data'],
  ];

  const accepted: Array<[string, unknown]> = [
    ['!!int 0o17', 15],
    ['!!int 0O17', 15],
    ['!!int 0x_1', 1],
    ['!!int 0X1F', 31],
    ['!!int 017', 15],
    ['!!int 0B1', 1],
    ['!!int -0b101', -5],
    ['!!int 1_000', 1000],
    ['!!int 1_', 1],
    ['!!int +5', 5],
    ['!!int "12"', 12],
    ['!!int 18446744073709551615', 18446744073709551615],
    ['!!bool yes', true],
    ['!!bool Off', false],
    ['!!bool "on"', true],
    ['!!float 1', 1],
    ['!!float 0x10', 16],
    ['!!float 1__0', 10],
    ['!!float .5', 0.5],
    ['!!float 1.', 1],
    ['!!float 1e-400', 0],
    ['!!null ~', null],
    ['!!null', null],
    ['!!str 12', '12'],
    ['!!timestamp 2001-12-14', '2001-12-14'],
    ['!!binary aGk=', 'hi'],
    ['!!binary |\n  aGk=\n', 'hi'],
    ['!!map x', 'x'],
    ['!foo bar', 'bar'],
  ];

  describe("tagged scalars, as Go's YAML reader reads them", () => {
    it.each(refused)('refused: a: %s', (text, message) => {
      const check = checkYamlText(`x: 1\na: ${text}\n`, 'values.yaml');
      expect(check.ok).toBe(false);
      expect(check.findings).toEqual([expect.objectContaining({ severity: 'error', rule: 'yaml-syntax', line: 2 })]);
      expect(check.findings[0]?.message).toContain(`${message} (Go's YAML reader, which Helm uses, refuses it)`);
    });

    it.each(accepted)('accepted: a: %s', (text, value) => {
      const check = checkYamlText(`a: ${text}\n`, 'values.yaml');
      expect(check.findings.filter((f) => f.severity === 'error')).toEqual([]);
      expect(check.documents[0]).toEqual({ a: value });
    });

    it('a tagged key Go cannot read is refused too', () => {
      const check = checkYamlText('!!int abc: 1\n', 'values.yaml');
      expect(check.findings[0]?.message).toContain('cannot decode !!str `abc` as a !!int');
    });

    it('a %TAG directive that renames !! leaves the value alone, as Go does', () => {
      expect(checkYamlText('%TAG !! tag:example.com,2000:\n---\na: !!int abc\n', 'values.yaml').documents[0]).toEqual({ a: 'abc' });
      expect(goTaggedScalar('tag:example.com,2000:int', 'abc')).toEqual({});
    });
  });

  /*
   * Plain scalars that look like numbers, as go-yaml v2.4.0 resolves them (resolve.go resolve with no tag,
   * read from its source): ParseInt/ParseUint with base 0 after dropping every `_`, then ParseFloat for
   * the yamlStyleFloat forms; a text starting with `.` through ParseFloat as it is; anything else a string.
   * The `yaml` package's YAML 1.1 rules read several of them otherwise (`.` and `e5` as NaN, `1e999` as
   * Infinity, `1:20` as 80, `0o17` as a string), so packpub refused charts Helm loads ("json: unsupported
   * value: NaN") and read others with the wrong value.
   */
  const plain: Array<[string, unknown]> = [
    ['.', '.'],
    ['-.', '-.'],
    ['+.', '+.'],
    ['._', '._'],
    ['._1', '._1'],
    ['.e1', '.e1'],
    ['e5', 'e5'],
    ['E5', 'E5'],
    ['0x_', '0x_'],
    ['0b_', '0b_'],
    ['0_', 0],
    ['1e999', '1e999'],
    ['-1e999', '-1e999'],
    ['1:20', '1:20'],
    ['0o17', 15],
    ['0B1', 1],
    ['-0x1F', -31],
    ['1__2', 12],
    ['08', 8],
    ['017', 15],
    ['.5', 0.5],
    ['1.', 1],
    ['1e5', 100000],
    ['2024-01-31', '2024-01-31'],
    ['.nan', Number.NaN],
    ['-.Inf', Number.NEGATIVE_INFINITY],
    ['.Nan', '.Nan'],
    ['yes', true],
  ];

  describe("plain scalars that look like numbers, as Go's YAML reader reads them", () => {
    it.each(plain)('a: %s', (text, value) => {
      // A block mapping (the fast reader), a flow mapping (the full reader), and the text as a key.
      for (const doc of [`a: ${text}\n`, `{a: ${text}}\n`, `x: &x 1\na: ${text}\ny: *x\n`]) {
        const check = checkYamlText(doc, 'values.yaml');
        expect(check.findings).toEqual([]);
        expect((check.documents[0] as Record<string, unknown>)['a']).toEqual(value);
      }
      const key = checkYamlText(`${text}: 1\n`, 'values.yaml').documents[0] as Record<string, unknown>;
      // sigs.k8s.io/yaml names a non-finite float key .inf, -.inf or .nan (convertToJSONableObject).
      const nonFinite = typeof value === 'number' && !Number.isFinite(value) ? (Number.isNaN(value) ? '.nan' : value > 0 ? '.inf' : '-.inf') : undefined;
      expect(Object.keys(key)).toEqual([nonFinite ?? String(value)]);
    });
  });

  describe('goKeyText (a mapping key as sigs.k8s.io/yaml hands it to Helm)', () => {
    it.each([
      ['on', true, 'true'],
      ['N', true, 'false'],
      ['0x1F', true, '31'],
      ['010', true, '8'],
      ['1.10', true, '1.1'],
      ['1e7', true, '1e+07'],
      ['-.inf', true, '-.inf'],
      ['2001-12-14', true, '2001-12-14'],
      ['name', true, 'name'],
      ['on', false, 'on'],
    ])('%s (plain: %s) is %s', (written, plain, text) => {
      expect(goKeyText(written, plain)).toBe(text);
    });
  });

  describe("collection tags, which go-yaml never looks at (decode.go mapping and sequence)", () => {
    it.each([
      ['a: !!omap\n  - x: 1\n  - y: 2\n', { a: [{ x: 1 }, { true: 2 }] }],
      ['a: !!omap [{x: 1}, {x: 2}]\n', { a: [{ x: 1 }, { x: 2 }] }],
      ['a: !!pairs\n  - x: 1\n  - x: 2\n', { a: [{ x: 1 }, { x: 2 }] }],
      ['a: !!set\n  ? x\n  ? k\n', { a: { x: null, k: null } }],
      ['a: !!set {x: 1}\n', { a: { x: 1 } }],
      ['a: !!omap {x: 1}\n', { a: { x: 1 } }],
    ])('%j reads as the plain list or map Go reads', (text, value) => {
      // The `yaml` package's YAML 1.1 schema made a Map or a Set of these, and refused duplicate keys or set values.
      for (const doc of [text, `z: &z 1\n${text}w: *z\n`]) {
        const check = checkYamlText(doc, 'values.yaml');
        expect(check.findings).toEqual([]);
        expect(check.documents[0]).toMatchObject(value);
      }
    });
  });
});

describe('yaml-breaks', () => {
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
});

describe('yaml-json-text', () => {
  /*
   * sigs.k8s.io/yaml writes a float64 bound for a Go string field with strconv.FormatFloat(v, 'g', -1, 32):
   * rounded to a float32, shortest digits that read back as it, an exponent below 1e-4 and from 1e6 up.
   */
  describe('goFloat32Text (strconv.FormatFloat(x, g, -1, 32))', () => {
    it.each<[number, string]>([
      [1.1, '1.1'],
      [1.0, '1'],
      [2.5, '2.5'],
      [0.1, '0.1'],
      [1.3, '1.3'],
      [1e3, '1000'],
      [100000, '100000'],
      [999999.9, '999999.9'],
      [123456.7, '123456.7'],
      // An exponent from 1e6 up: the date-like versions authors write are no semver for Helm.
      [1e6, '1e+06'],
      [9999999, '9.999999e+06'],
      [20240101.1, '2.0240102e+07'],
      [12345678, '1.2345678e+07'],
      // float32 keeps about 7 digits: the rest is rounded away.
      [1.123456789, '1.1234568'],
      [3.14159265358979, '3.1415927'],
      [16777217, '1.6777216e+07'],
      [33554432, '3.3554432e+07'],
      [0.0001, '0.0001'],
      [0.00001, '1e-05'],
      [1.2345e-30, '1.2345e-30'],
      [1e-45, '1e-45'],
      [3.4028235e38, '3.4028235e+38'],
      // Past float32's range: +Inf as text (a string field takes it; JSON never sees a number).
      [1e39, '+Inf'],
      [-1e39, '-Inf'],
      [Number.NaN, 'NaN'],
      [-0, '-0'],
      [-1.5, '-1.5'],
      // A float32 exactly halfway between its two shortest forms: Go rounds the last digit half to even
      // (ftoaryu.go ryuDigits32), not up as JavaScript's toExponential does.
      [1.00390625, '1.0039062'],
      [176.640625, '176.64062'],
      [1292.03125, '1292.0312'],
      [-1.00390625, '-1.0039062'],
      // ... and up when the lower one is odd.
      [204.609375, '204.60938'],
      [1.01171875, '1.0117188'],
    ])('%s is %s', (x, text) => {
      expect(goFloat32Text(x)).toBe(text);
    });
  });

  /** The GoScalar of `version: <written>` in a one-key document. */
  function scalarOf(written: string): GoScalar {
    const value = (valuesWithGoScalars(`version: ${written}\n`, isContentDocument) as { version: unknown }).version;
    if (!(value instanceof GoScalar)) throw new Error(`${written} is no GoScalar: ${String(value)}`);
    return value;
  }

  describe('numbers and booleans as sigs.k8s.io/yaml hands them to a string field', () => {
    it.each<[string, GoScalar['kind'], string]>([
      ['1.10', 'float', '1.1'],
      ['1.0', 'float', '1'],
      ['1.', 'float', '1'],
      ['.5', 'float', '0.5'],
      ['1e3', 'float', '1000'],
      ['1e7', 'float', '1e+07'],
      ['20240101.1', 'float', '2.0240102e+07'],
      ['12345678.0', 'float', '1.2345678e+07'],
      ['!!float 3', 'float', '3'],
      // go-yaml v2 reads ints with strconv.ParseInt(s, 0, 64) after dropping every `_`.
      ['12345678', 'int', '12345678'],
      ['0x10', 'int', '16'],
      ['010', 'int', '8'],
      ['0o17', 'int', '15'],
      ['0b101', 'int', '5'],
      ['1_000', 'int', '1000'],
      ['+5', 'int', '5'],
      ['-1', 'int', '-1'],
      ['9223372036854775807', 'int', '9223372036854775807'],
      ['18446744073709551615', 'uint', '18446744073709551615'],
      // Past uint64: a float.
      ['18446744073709551616', 'float', '1.8446744e+19'],
      ['yes', 'bool', 'true'],
      ['Off', 'bool', 'false'],
      ['true', 'bool', 'true'],
    ])('%s: a Go %s, written as "%s"', (written, kind, text) => {
      const scalar = scalarOf(written);
      expect({ kind: scalar.kind, text: scalar.text, written: scalar.written }).toEqual({ kind, text, written: written.replace(/^!!float /, '') });
    });

    it('keeps strings, quoted numbers, keys and nulls as they are, and follows aliases and merges', () => {
      const doc = valuesWithGoScalars('a: "1.10"\nb: !!str 1.10\n1.5: x\nc:\nd: &v 1.10\ne: *v\nf:\n  <<: {g: 0x10}\n', isContentDocument) as Record<string, unknown>;
      expect(doc['a']).toBe('1.10');
      expect(doc['b']).toBe('1.10');
      expect(doc['1.5']).toBe('x');
      expect(doc['c']).toBeNull();
      expect((doc['e'] as GoScalar).text).toBe('1.1');
      expect((doc['f'] as Record<string, GoScalar>)['g']?.text).toBe('16');
    });

    it('holdsNumberOrBool finds a number or boolean at any depth, and nothing in strings', () => {
      expect(holdsNumberOrBool({ a: 'x', b: ['y', { c: 'z' }] })).toBe(false);
      expect(holdsNumberOrBool({ a: 'x', b: ['y', { c: 1 }] })).toBe(true);
      expect(holdsNumberOrBool({ a: [false] })).toBe(true);
    });
  });
});
