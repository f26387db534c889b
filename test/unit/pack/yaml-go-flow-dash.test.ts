import { readsAsGo, type GoRead, type GoRefused } from './yaml-go-cases.js';

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
