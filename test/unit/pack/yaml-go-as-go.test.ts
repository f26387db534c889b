import { describe } from 'vitest';
import { readsAsGo, type GoRead, type GoRefused } from './yaml-go-cases.js';

/*
 * The cases of YAML that yaml-go.ts must read as Go reads it, a describe per kind (each was a test file of its
 * own): each test file costs vitest ~15-30 ms of CPU whatever its size (requests between worker and main process,
 * test/per-file-setup.ts).
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
