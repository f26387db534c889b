import { afterEach, describe, expect, it } from 'vitest';
import { setFastYaml } from '../../../src/pack/yaml-go.js';
import { checkYamlText } from '../../../src/pack/yaml-source.js';

/*
 * A block scalar (`|`, `>`) whose last line ends the text, with no line break after it: go-yaml (v2.4.0 and
 * v3, scannerc.go yaml_parser_scan_block_scalar: Helm, yq and Palette) appends the break read after the last
 * line, which there is none, so `a: |` + `  x` is "x"; the `yaml` package (YAML 1.2) reads "x\n". A final line
 * of blanks is no line of the scalar: the break before it stays. Every value here was checked on the same
 * bytes with go-yaml v2.4.0; both readers (the fast one and the full one) must give it.
 */

afterEach(() => setFastYaml(true));

const VALUES: Array<[string, unknown]> = [
  ['a: |\n  x', { a: 'x' }],
  ['a: >\n  x\n  y', { a: 'x y' }],
  ['a: |+\n  x', { a: 'x' }],
  ['a: |+\n  x\n\n  y', { a: 'x\n\ny' }],
  ['a: |-\n  x', { a: 'x' }],
  ['a: |\n  x  ', { a: 'x  ' }],
  ['a: |2\n   x', { a: ' x' }],
  ['b:\n  - |\n    x', { b: ['x'] }],
  ['a: !t |\n  x', { a: 'x' }],
  ['a: |\n  x\n---\nb: |\n  y', { a: 'x\n' }],
  // Not at the end, or a break after the last line: Go keeps it.
  ['a: |\n  x\n', { a: 'x\n' }],
  ['a: |\n  x\n  ', { a: 'x\n' }],
  ['a: |+\n  x\n\n ', { a: 'x\n\n' }],
  ['a: |\n  x\n#c', { a: 'x\n' }],
  ['a: |\n  x\r', { a: 'x\n' }],
  ['a: |\n  x\nb: 1', { a: 'x\n', b: 1 }],
];

describe.each([true, false])('a block scalar at the end of the text (fast reader %s)', (fast) => {
  it.each(VALUES)('%j has the value Go gives', (text, value) => {
    setFastYaml(fast);
    const check = checkYamlText(text, 'values.yaml');
    expect(check.findings).toEqual([]);
    expect(check.ok).toBe(true);
    expect(check.documents[0]).toEqual(value);
  });
});
