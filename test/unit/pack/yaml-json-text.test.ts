import { describe, expect, it } from 'vitest';
import { GoScalar, goFloat32Text, holdsNumberOrBool, valuesWithGoScalars } from '../../../src/pack/yaml-json-text.js';
import { isContentDocument } from '../../../src/pack/yaml-source.js';

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
