import { readsAsGo, type GoRead } from './yaml-go-cases.js';

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
