import { afterEach, describe, expect, it } from 'vitest';
import { setFastYaml } from '../../../src/pack/yaml-go.js';
import { checkYamlText } from '../../../src/pack/yaml-source.js';

/*
 * A `:` right after a plain scalar inside a flow collection and before `,`, `]` or `}`: go-yaml (v2.4.0 and
 * v3, scannerc.go yaml_parser_scan_plain_scalar) ends a plain scalar at a `:` only when a blank or a line
 * break follows, so the `:` is part of the scalar (IPv6 addresses such as `fd00::`); YAML 1.2 takes it as a
 * value indicator. And a `:` that starts a value there is a value indicator for Go (`[::1]` is refused).
 * Every value and verdict below is what go-yaml v2.4.0 gives for the same text.
 */

afterEach(() => setFastYaml(true));

const CASES: Array<[string, unknown]> = [
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

describe.each([true, false])('a colon before a flow indicator, as Go reads it (fast reader %s)', (fast) => {
  it.each(CASES)('%j', (text, value) => {
    setFastYaml(fast);
    const check = checkYamlText(text, 'values.yaml');
    expect(check.findings).toEqual([]);
    expect(check.ok).toBe(true);
    expect(check.documents).toEqual([value]);
  });
});

/** Values that start with `:` inside [...] or {...}: Go reads that `:` as a value indicator and refuses the file. */
const REFUSED: Array<[string, number, number]> = [
  ['no_proxy: [127.0.0.1, ::1]\n', 1, 23],
  ['x: [::]\n', 1, 5],
  ['x: {k: :a}\n', 1, 8],
  ['a: 1\nx:\n  - [b, :c]\n', 3, 9],
];

describe.each([true, false])('a value starting with a colon in a flow collection, refused as Go refuses it (fast reader %s)', (fast) => {
  it.each(REFUSED)('%j', (text, line, column) => {
    setFastYaml(fast);
    const check = checkYamlText(text, 'values.yaml');
    expect(check.ok).toBe(false);
    expect(check.findings).toHaveLength(1);
    expect(check.findings[0]).toMatchObject({ severity: 'error', rule: 'yaml-syntax', line, column });
    expect(check.findings[0]!.message).toContain('not valid YAML: did not find expected node content');
  });
});
