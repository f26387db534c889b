import { readsAsGo, type GoRead, type GoRefused } from './yaml-go-cases.js';

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
