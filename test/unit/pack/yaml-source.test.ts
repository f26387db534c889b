import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { formatPath, type PathSegment } from '../../../src/pack/json-source.js';
import { MAX_YAML_ALIAS_EXPANSION, checkYamlText } from '../../../src/pack/yaml-source.js';
import { parseYamlTree, type YMap } from '../../../src/pack/yaml-tree.js';

/** Every mapping key's formatted path in a plain value, as checkYamlText records them (parents less than 16 deep). */
function keyPaths(value: unknown, path: PathSegment[] = [], out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((item, i) => keyPaths(item, [...path, i], out));
  else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      if (path.length < 16) out.add(formatPath([...path, key]));
      keyPaths(child, [...path, key], out);
    }
  }
  return out;
}

describe('checkYamlText', () => {
  it('records where mapping keys sit, through sequences and flow collections', () => {
    const text = ['pack:', '  content:', '    images:', '      - image: a', '        tag: {x: 1}', 'charts: {web: {replicas: 2}}', ''].join('\n');
    const check = checkYamlText(text, 'values.yaml');
    expect(check.ok).toBe(true);
    expect(check.keyPositions.get('pack.content.images')).toEqual({ line: 3, column: 5 });
    expect(check.keyPositions.get('pack.content.images[0].tag')).toEqual({ line: 5, column: 9 });
    expect(check.keyPositions.get('pack.content.images[0].tag.x')).toEqual({ line: 5, column: 15 });
    expect(check.keyPositions.get('charts.web.replicas')).toEqual({ line: 6, column: 16 });
  });

  it('marks the lines inside block and multi-line scalars', () => {
    const text = ['a: |', '   one', '   two', 'b: "x', '   y"', 'c: 1', ''].join('\n');
    expect([...checkYamlText(text, 'values.yaml').scalarContentLines].sort()).toEqual([2, 3, 5]);
  });

  it('accepts aliases that expand a little, and refuses one that expands past the budget', () => {
    expect(checkYamlText('base: &b {x: 1, y: 2}\none: *b\ntwo: *b\n', 'values.yaml').ok).toBe(true);
    // Nested aliases, 8 per level: Go's share of alias-expanded decodes passes 99% at the third level.
    const levels = ['l0: &l0 [0, 0, 0, 0, 0, 0, 0, 0]'];
    for (let i = 1; i < 9; i++) levels.push(`l${i}: &l${i} [${Array(8).fill(`*l${i - 1}`).join(', ')}]`);
    const first = checkYamlText(`${levels.join('\n')}\n`, 'values.yaml');
    expect(first.findings).toEqual([expect.objectContaining({ rule: 'yaml-alias-bomb', line: 4, message: expect.stringContaining('document contains excessive aliasing') })]);
    // In a document after the first (which Go never reads), the same bomb is stopped by the budget.
    const later = checkYamlText(`x: 1\n---\n${levels.join('\n')}\n`, 'values.yaml');
    expect(later.findings).toEqual([expect.objectContaining({ rule: 'yaml-alias-bomb', line: 9, message: expect.stringContaining(`more than ${MAX_YAML_ALIAS_EXPANSION} nodes`) })]);
  });

  // sigs.k8s.io/yaml Unmarshal (what Helm uses) accepts duplicate keys, the last one winning (yaml.go:
  // "Duplicate fields ... are ignored"; only UnmarshalStrict refuses them; go-yaml v2 decode.go
  // setMapIndex errors "already set in map" only in strict mode). So: valid, with a warning per key.
  it('accepts duplicate keys as Go does (the last wins) and warns about every one with its line', () => {
    const check = checkYamlText('charts:\n  foo:\n    replicaCount: 1\n    replicaCount: 2\n    image:\n      tag: a\n      tag: b\n', 'values.yaml');
    expect(check.ok).toBe(true);
    expect(check.documents).toEqual([{ charts: { foo: { replicaCount: 2, image: { tag: 'b' } } } }]);
    expect(check.findings.map((f) => [f.severity, f.rule, f.path, f.line, f.column])).toEqual([
      ['warning', 'yaml-duplicate-key', 'charts.foo.replicaCount', 4, 5],
      ['warning', 'yaml-duplicate-key', 'charts.foo.image.tag', 7, 7],
    ]);
    expect(check.findings[0]?.message).toContain('(first on line 3)');
  });

  it('names duplicate keys and key positions by their full path through lists and odd keys', () => {
    const check = checkYamlText('a:\n  - "x.y":\n      k: 1\n      k: 2\ntop: 1\ntop: 2\n', 'values.yaml');
    expect(check.ok).toBe(true);
    expect(check.findings.map((f) => [f.path, f.line, f.column])).toEqual([
      ['a[0]["x.y"].k', 4, 7],
      ['top', 6, 1],
    ]);
    expect(check.findings[0]?.message).toContain('is set twice in a[0]["x.y"] (first on line 3)');
    expect(check.findings[1]?.message).toContain('is set twice in the top level (first on line 5)');
    expect([...check.keyPositions]).toEqual([
      ['a', { line: 1, column: 1 }],
      ['a[0]["x.y"]', { line: 2, column: 5 }],
      ['a[0]["x.y"].k', { line: 3, column: 7 }],
      ['top', { line: 5, column: 1 }],
    ]);
  });

  it('gives the same verdict and findings without building values when asked for none', () => {
    for (const text of ['a: 1\na: 2\nb: [1, 2]\n', 'a: [1,\n', 'a: *nope\n', 'x: |\n  one\n  two\n']) {
      const full = checkYamlText(text, 'presets.yaml');
      const bare = checkYamlText(text, 'presets.yaml', { documents: false });
      expect(bare.documents).toEqual([]);
      expect({ ...bare, documents: full.documents, parsed: undefined }).toEqual({ ...full, parsed: undefined });
    }
  });

  // The walk formats paths incrementally (issue 16); formatPath over the whole path is the reference.
  it('records every key under the path formatPath gives it, for generated documents with odd keys', () => {
    const key = fc.constantFrom('a', 'b-c', 'x.y', '0', '12', 'with space', '_k', '$v', 'é', 'q"t', '[i]', '');
    const { tree } = fc.letrec((tie) => ({
      tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, fc.constantFrom(1, 'text', null, true), tie('map'), tie('list')),
      map: fc.dictionary(key, tie('tree'), { maxKeys: 4 }),
      list: fc.array(tie('tree'), { maxLength: 3 }),
    }));
    fc.assert(
      fc.property(fc.dictionary(key, tree, { minKeys: 1, maxKeys: 5 }), (doc) => {
        const check = checkYamlText(stringify(doc), 'values.yaml');
        expect(check.findings).toEqual([]);
        expect(check.documents).toEqual([doc]);
        expect(new Set(check.keyPositions.keys())).toEqual(keyPaths(doc));
      }),
      { numRuns: 300 },
    );
  });

  it('does not throw on an alias to an unknown anchor in a document after the first (a warning, its value null)', () => {
    for (const text of ['a: 1\n...\n*a\n', 'a: 1\n---\nb: *x\n', '---\n---\n*a\n']) {
      const check = checkYamlText(text, 'values.yaml');
      expect(check.ok, text).toBe(true);
      expect(check.findings, text).toEqual([expect.objectContaining({ severity: 'warning', rule: 'yaml-syntax', message: expect.stringContaining("unknown anchor 'x'".replace('x', text.includes('*x') ? 'x' : 'a')) })]);
      expect(check.documents.at(-1), text).toBeNull();
    }
  });

  it('treats an empty file as zero documents, not an error', () => {
    expect(checkYamlText('', 'values.yaml')).toMatchObject({ ok: true, documents: [] });
    expect(checkYamlText('# only a comment\n', 'values.yaml')).toMatchObject({ ok: true, documents: [] });
  });

  it('refuses an alias to an anchor that does not exist, with its line', () => {
    const check = checkYamlText('a: 1\nb: *nope\n', 'values.yaml');
    expect(check.findings).toEqual([expect.objectContaining({ severity: 'error', rule: 'yaml-syntax', line: 2, column: 4, message: "not valid YAML: unknown anchor 'nope' referenced; fix the syntax at this position" })]);
  });
});

describe('number keys as Helm holds them (sigs.k8s.io/yaml over go-yaml v2)', () => {
  // Go formats a float key with strconv.FormatFloat(f, 'g', -1, 32) and an int key in decimal; JavaScript's
  // text differs for exponents, float32 rounding and ints past 2^53. `&a`/`*a` make the full reader read it.
  const KEYS = 'k:\n  1e7: a\n  3.14159265: b\n  9007199254740993: c\n  1e-7: d\n  0x1F: e\n  on: f\n  "1e7": g\n';
  it.each([
    ['the fast reader', KEYS],
    ['the full reader', `x: &a 1\ny: *a\n${KEYS}`],
  ])('%s gives the documents the keys Go gives', (_, text) => {
    const check = checkYamlText(text, 'values.yaml');
    expect(check.ok).toBe(true);
    expect(Object.keys((check.documents[0] as { k: object }).k).sort()).toEqual(['1e+07', '1e-07', '1e7', '3.1415927', '31', '9007199254740993', 'true']);
  });

  it.each([
    ['a:\n  18446744073709551615: 1\n', 'a["18446744073709551615"]', 2, 3],
    ['9223372036854775808: x\n', '["9223372036854775808"]', 1, 1],
    ['a: {0xFFFF_FFFF_FFFF_FFFF: 1}\n', 'a["18446744073709551615"]', 1, 5],
  ])('%j: a key past int64 that Go reads as a uint64 (sigs.k8s.io/yaml: "unsupported map key of type: uint64")', (text, path, line, column) => {
    expect(checkYamlText(text, 'values.yaml').uint64Key).toEqual({ path, line, column });
  });

  it.each(['18446744073709551616: x\n', '-9223372036854775809: x\n', '"18446744073709551615": x\n', '9223372036854775807: x\n', '+9223372036854775808: x\n', 'a: !!str 18446744073709551615\n'])(
    '%j: no uint64 key (past uint64 and below int64 Go reads a float; quoted, tagged, int64 or a value: fine)',
    (text) => {
      const check = checkYamlText(text, 'values.yaml');
      expect(check.ok).toBe(true);
      expect(check.uint64Key).toBeUndefined();
    },
  );

  it('tagged keys are the keys Go makes of them, in the documents, the key paths and the tree (go-yaml v2 decode.go scalar)', () => {
    // resolve.go resolve(tag, text) then sigs.k8s.io/yaml convertToJSONableObject: an int in decimal, a
    // float (also an int read with !!float) as float32 'g' text, a bool as true/false, !!binary decoded;
    // !!str and local tags keep the text.
    const text = 'k:\n  !!int 0x10: a\n  !!bool yes: b\n  !!float 1e7: c\n  !!binary aGk=: d\n  !!str 1.0: e\n  !foo 010: f\n  !!float 123456789: g\n  !!int "1_0": h\n';
    const keys = ['16', 'true', '1e+07', 'hi', '1.0', '010', '1.2345679e+08', '10'];
    const check = checkYamlText(text, 'values.yaml');
    expect(check.ok).toBe(true);
    expect(Object.keys((check.documents[0] as { k: object }).k).sort()).toEqual([...keys].sort());
    expect([...check.keyPositions.keys()].slice(1)).toEqual(keys.map((key) => formatPath(['k', key])));
    const root = parseYamlTree(text).root as YMap;
    expect((root.entries[0]?.value as YMap).entries.map((e) => e.key)).toEqual(keys);
  });

  it('a tagged !!int key past int64 is a uint64 key too', () => {
    expect(checkYamlText('a:\n  !!int 9223372036854775808: x\n', 'values.yaml').uint64Key).toEqual({ path: 'a["9223372036854775808"]', line: 2, column: 9 });
  });
});

describe('null keys (go-yaml reads a nil key; sigs.k8s.io/yaml: "unsupported map key of type: <nil>")', () => {
  it.each([
    ['a:\n  ~: 1\n', 'a["~"]', 2, 3],
    ['null: x\n', 'null', 1, 1],
    ['a: {~: 1}\n', 'a["~"]', 1, 5],
    ['a:\n  ? !!null ~\n  : 1\n', 'a["~"]', 2, 12],
    ['a:\n  : 1\n', 'a[""]', 2, 3],
  ])('%j: an error by default, recorded with nullKeys: record', (text, path, line, column) => {
    const strict = checkYamlText(text, 'values.yaml');
    expect(strict.ok).toBe(false);
    expect(strict.findings).toEqual([expect.objectContaining({ severity: 'error', rule: 'yaml-syntax', message: expect.stringContaining('unsupported map key of type: <nil>') })]);
    const recorded = checkYamlText(text, 'values.yaml', { nullKeys: 'record' });
    expect(recorded.ok).toBe(true);
    expect(recorded.findings).toEqual([]);
    expect(recorded.nullKey).toEqual({ path, line, column });
  });

  it('a null key in a document after the first is never read by Helm: no error, nothing recorded', () => {
    const check = checkYamlText('a: 1\n---\n~: 2\n', 'values.yaml', { nullKeys: 'record' });
    expect(check.ok).toBe(true);
    expect(check.nullKey).toBeUndefined();
    expect(checkYamlText('a: 1\n---\n~: 2\n', 'values.yaml').findings).toEqual([]);
  });
});

// A chart's values.yaml starting with --- pasted, indented, under charts.<name> (packify's awk, pack-central's docs).
describe('an indented --- before a syntax error', () => {
  const NOTE = 'is an indented "---", which YAML reads as the text "---", not as the start of a document (that is "---" at column 1 only): remove it';
  const messageOf = (text: string): string => checkYamlText(text, 'values.yaml').findings.map((f) => `${f.line}: ${f.message}`).join('\n');

  it('names that line, also across comment and blank lines', () => {
    expect(messageOf('charts:\n  db:\n\n    ---\n    mongodb:\n      type: ReplicaSet\n')).toContain(`line 4 ${NOTE}`);
    expect(messageOf('charts:\n  db:\n    ---\n    # comment\n\n    postgresVersion: 18\n')).toContain(`line 3 ${NOTE}`);
  });

  it('says nothing of a --- the error does not follow', () => {
    const text = 'charts:\n  db:\n    note: |\n      ---\n    image: x\n  web: [1\n';
    expect(messageOf(text)).toMatch(/^6: not valid YAML.*: the \[ here is never closed/);
    expect(messageOf(text)).not.toContain('indented "---"');
    expect(checkYamlText('charts:\n  db:\n    ---\n', 'values.yaml').findings).toEqual([]);
  });
});
