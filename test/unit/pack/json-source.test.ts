import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonSyntaxError, formatPath, parseLocatedJson } from '../../../src/pack/json-source.js';

function jsonParseOk(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function ourParseOk(text: string): boolean {
  try {
    parseLocatedJson(text);
    return true;
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    return false;
  }
}

describe('parseLocatedJson', () => {
  it('gives the same value as JSON.parse for any JSON document', () => {
    fc.assert(
      fc.property(fc.json({ depthSize: 'small' }), (text) => {
        expect(parseLocatedJson(text).value).toEqual(JSON.parse(text));
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ['[1 2]', "unexpected '2'; expected ',' or ']' (is a comma missing?) (line 1, column 4)"],
    ['[ 1 , ]', "trailing comma before ']'; remove it (line 1, column 5)"],
    ['[1', "unexpected end of file: a ']' is missing (line 1, column 3)"],
    ['{"a":1 "b":2}', "expected ',' between properties (a comma is missing) (line 1, column 8)"],
    ['{"a":1;}', "unexpected ';'; expected ',' or '}' (line 1, column 7)"],
    ['{"a":1,}', "trailing comma before '}'; remove it (line 1, column 7)"],
    ['{"a":1,', "unexpected end of file: a '}' is missing (line 1, column 8)"],
  ])('says what is wrong after a member of %s', (text, message) => {
    expect(() => parseLocatedJson(text)).toThrow(message);
  });

  it('reads every escape as JSON.parse does, and names a bad one', () => {
    const bs = '\\';
    const text = `{"s": "q${bs}" b${bs}${bs} s${bs}/ ${bs}b${bs}f${bs}n${bs}r${bs}t ${bs}u00e9${bs}u2603 end"}`;
    expect(parseLocatedJson(text).value).toEqual(JSON.parse(text));
    expect(() => parseLocatedJson(`{"s": "a${bs}x"}`)).toThrow(`invalid escape "${bs}x" in a string`);
    expect(() => parseLocatedJson(`{"s": "a${bs}u12G4"}`)).toThrow(`invalid ${bs}u escape: it needs four hex digits`);
  });

  it('accepts exactly what JSON.parse accepts, on near-JSON text', () => {
    // Damage valid JSON by deleting, duplicating or inserting one character.
    const damaged = fc
      .tuple(fc.json({ depthSize: 'small' }), fc.nat(), fc.constantFrom('del', 'dup', 'ins'), fc.constantFrom(',', '}', ']', '"', "'", ':', ' ', '\t', '\n', '-', '0', '.', 'e', '\\', 'x', '\u0001'))
      .map(([text, at, op, ch]) => {
        const i = text.length === 0 ? 0 : at % text.length;
        if (op === 'del') return text.slice(0, i) + text.slice(i + 1);
        if (op === 'dup') return text.slice(0, i) + (text[i] ?? '') + text.slice(i);
        return text.slice(0, i) + ch + text.slice(i);
      });
    fc.assert(
      fc.property(damaged, (text) => {
        expect(ourParseOk(text)).toBe(jsonParseOk(text));
      }),
      { numRuns: 1000 },
    );
  });

  it('records where each value starts, by JSON path', () => {
    const { positions } = parseLocatedJson('{\n  "a": {\n    "b": [1, {"c": true}]\n  },\n  "x.y": null\n}');
    expect(positions.get('')).toEqual({ line: 1, column: 1 });
    expect(positions.get('a.b')).toEqual({ line: 3, column: 10 });
    expect(positions.get('a.b[1].c')).toEqual({ line: 3, column: 20 });
    expect(positions.get('["x.y"]')).toEqual({ line: 5, column: 10 });
  });

  it('keeps "__proto__" as a plain key, like JSON.parse', () => {
    const { value } = parseLocatedJson('{"__proto__": {"polluted": true}}');
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value as object)).toEqual(['__proto__']);
  });

  it('formats paths the way a user reads them', () => {
    expect(formatPath(['constraints', 'dependencies', 0, 'layer'])).toBe('constraints.dependencies[0].layer');
    expect(formatPath(['annotations', 'example.com/x'])).toBe('annotations["example.com/x"]');
  });
});
