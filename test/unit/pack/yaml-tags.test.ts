import { describe, expect, it } from 'vitest';
import { goKeyText, goTaggedScalar } from '../../../src/pack/yaml-tags.js';
import { checkYamlText } from '../../../src/pack/yaml-source.js';

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
