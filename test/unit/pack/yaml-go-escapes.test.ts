import { readsAsGo, type GoRead, type GoRefused } from './yaml-go-cases.js';

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
