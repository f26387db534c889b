import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { templatePathTree } from '../../../src/pack/deep-checks.js';
import { valuesReferencePaths, valuesReferences } from '../../../src/pack/template-refs.js';
import { compareToScope, editDistance, lookupDotted, pathAllowed, type RefRoot } from '../../../src/pack/values-paths.js';
import { parseYamlTree, type YMap, type YNode } from '../../../src/pack/yaml-tree.js';

const root = (yaml: string): RefRoot => {
  const tree = parseYamlTree(yaml);
  if (tree.root === undefined) throw new Error('empty');
  return { node: tree.root, anchors: tree.anchors };
};

describe('parseYamlTree', () => {
  it('keeps lines, finds every duplicate key, and leaves aliases unexpanded', () => {
    const tree = parseYamlTree('a: &x\n  b: 1\n  b: 2\nlist:\n  - k: 1\n    k: 2\nc: *x\n');
    expect(tree.duplicates).toEqual([
      { parent: ['a'], key: 'b', line: 3, column: 3, firstLine: 2 },
      { parent: ['list', 0], key: 'k', line: 6, column: 5, firstLine: 5 },
    ]);
    const map = tree.root as YMap;
    expect(map.entries.map((e) => [e.key, e.keyLine, e.value.kind])).toEqual([
      ['a', 1, 'map'],
      ['list', 4, 'seq'],
      ['c', 7, 'alias'],
    ]);
  });

  it('stops at the node cap and says so', () => {
    const tree = parseYamlTree(Array.from({ length: 100 }, (_, i) => `k${i}: ${i}`).join('\n'), { maxNodes: 50 });
    expect(tree.truncated).toBe(true);
    expect((tree.root as YMap).entries.length).toBeLessThan(50);
  });

  it('throws the parser error, with its position, for broken YAML', () => {
    let mark: { line?: number } | undefined;
    try {
      parseYamlTree('a: 1\nb: [1,\n');
    } catch (err) {
      mark = (err as { mark?: { line?: number } }).mark;
    }
    expect(mark?.line).toBe(1); // 0-based: the line where the unclosed list opens
  });
});

describe('value paths', () => {
  it('looks up dotted paths whose keys contain dots', () => {
    const r = root('pack:\n  spectrocloud.com/install-priority: "1"\nmanifests:\n  app:\n    x: 1\n');
    expect(lookupDotted(r, 'pack.spectrocloud.com/install-priority')).toBeDefined();
    expect(lookupDotted(r, 'manifests.app.x')).toBeDefined();
    expect(lookupDotted(r, 'manifests.app.y')).toBeUndefined();
  });

  it('allows anything below empty maps, lists and nulls, and nothing below plain values', () => {
    const r = root('a: {}\nb: []\nc:\nd: 1\ne:\n  f: 2\n');
    expect([['a', 'x', 'y'], ['b', 'x'], ['c', 'x'], ['d', 'x'], ['e', 'f'], ['e', 'g']].map((p) => pathAllowed([r], p))).toEqual([true, true, true, false, true, false]);
  });

  it("follows merge keys in the chart's values, as Helm does", () => {
    const chart = root('base: &base\n  port: 80\nservice:\n  <<: *base\n  type: ClusterIP\n');
    const user = parseYamlTree('service:\n  port: 8080\n  type: NodePort\n  nope: 1\n');
    const { mismatches } = compareToScope(user.root as YMap, user.anchors, { roots: [chart], children: new Map() });
    expect(mismatches.map((m) => m.path)).toEqual([['service', 'nope']]);
  });

  it('measures edit distance for "did you mean"', () => {
    expect(editDistance('crossplane', 'crossplan')).toBe(1);
    expect(editDistance('foo', 'bar')).toBe(3);
  });
});

describe('valuesReferences', () => {
  it('finds .Values and $.Values field chains in actions, with positions, skipping comments', () => {
    const text = 'a: {{ .Values.one }}\nb: {{- if and .Values.two.three $.Values.four -}}\n{{/* .Values.hidden */}}\nc: {{ index .Values "dash-key" }} {{ .Values.x-y }}\n';
    expect(valuesReferences(text)).toEqual([
      { path: ['one'], line: 1, column: 7 },
      { path: ['two', 'three'], line: 2, column: 15 },
      { path: ['four'], line: 2, column: 33 },
      { path: ['x'], line: 4, column: 38 },
    ]);
  });

  const positions = [
    {
      name: "finds a reference written right after a keyword, as Go's lexer reads {{if.Values.x}} (pack-central's piraeus chart)",
      text: '{{ if.Values.rbac.create }}\n{{- with.Values.sa }}{{ range.Values.list }}{{ else if.Values.other }}\n{{ not.Values.chained }} {{ $root.Values.var }}\n',
      found: [['rbac.create', 1, 6], ['sa', 2, 9], ['list', 2, 30], ['other', 2, 55]],
    },
    {
      name: 'looks only at actions holding .Values, and finds the same actions as a scan from the start',
      // `.Values` outside actions, a stray `}}` and `}}}` before actions, `{{{`, two references in one action,
      // a `.Values` inside an action that opened before another `{{`, an action closing right before one.
      text: '.Values.out }} x }}} {{{ .Values.a }}}\n{{ x {{ .Values.b .Values.c }}.Values.d {{/* .Values.e */}}{{.Values.f}}',
      found: [['a', 1, 26], ['b', 2, 9], ['c', 2, 19], ['f', 2, 62]],
    },
  ];
  for (const { name, text, found } of positions) {
    it(name, () => {
      expect(valuesReferences(text).map((r) => [r.path.join('.'), r.line, r.column])).toEqual(found);
    });
  }

  it('stops at an unclosed action and at the limit', () => {
    expect(valuesReferences('{{ .Values.a }} {{ .Values.b')).toEqual([{ path: ['a'], line: 1, column: 4 }]);
    expect(valuesReferences('{{ .Values.a }}{{ .Values.b }}{{ .Values.c }}', 2)).toHaveLength(2);
  });

  it('valuesReferencePaths (the charts\' templates, no positions) finds exactly the same paths', () => {
    const piece = fc.constantFrom('{{', '}}', '{{/*', '*/}}', '{{-', ' .Values', '$.Values', '.Values.', 'a', '.b_2', '.c', 'x.Values.d', 'if', ' else', ')', ' ', '\n', '-');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }).map((p) => p.join('')), fc.integer({ min: 1, max: 6 }), (text, limit) => {
        expect(valuesReferencePaths(text, limit)).toEqual(valuesReferences(text, limit).map((r) => r.path.join('.')));
      }),
      { numRuns: 1000 },
    );
  });

  it('finds exactly what the reference regular expression finds in each action, at the same offsets', () => {
    // The definition template-refs.ts checks character by character: run over each action's body.
    const oracle = (text: string, limit: number): string[] => {
      const field = /(^|[^\w$.)\]]|\b(?:if|with|range|else))\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g;
      const out: string[] = [];
      for (let open = text.indexOf('{{'); open !== -1 && out.length < limit; ) {
        const close = text.indexOf('}}', open + 2);
        if (close === -1) break;
        const body = text.slice(open + 2, close);
        if (!/^-?\s*\/\*/.test(body)) {
          for (let f = field.exec(body); f !== null && out.length < limit; f = field.exec(body)) out.push(`${(f[2] ?? '').slice(1)}@${open + 2 + f.index + (f[1] ?? '').length}`);
        }
        field.lastIndex = 0;
        open = text.indexOf('{{', close + 2);
      }
      return out;
    };
    const piece = fc.constantFrom('{{', '}}', '{{/*', '{{- /*', '{{-', '.Values', ' .Values', '$.Values', '$', '.', 'a', '.b_2', '._', '.1', '_x', 'if', 'xif', 'with', 'range', 'else', ' ', '\u00a0', '\n', '\t', '\u3000', '\u2028', '/*', '-', '(', ')', ']', 'é');
    const found = (text: string, limit: number): string[] => {
      const lines = text.split('\n');
      const offset = (line: number, column: number): number => lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0) + column - 1;
      return valuesReferences(text, limit).map((r) => `${r.path.join('.')}@${offset(r.line, r.column)}`);
    };
    const cases = [
      '{{if.Values.a}}{{with$.Values.b}}{{range.Values.c}}{{else.Values.d}}{{xif.Values.e}}',
      '{{.Values.a.Values.b$.Values.c}}',
      '{{.Values.a-if.Values.b .Values.if$.Values.c}}',
      '{{ .Values.a.1if.Values.b }}',
      // Comments after any space JavaScript's \s knows; a dash only right after {{.
      '{{\u00a0/* .Values.a */}}{{-\u3000\t/* .Values.b */}}{{\u2028/*.Values.c*/}}{{ -/* .Values.d */}}',
    ];
    expect(cases.map((c) => found(c, 10))).toEqual([['a@4', 'b@21', 'c@40', 'd@57'], ['a.Values.b@2'], ['a@2', 'b@14', 'if@24'], ['a@3'], ['d@67']]);
    for (const c of cases) expect(found(c, 10)).toEqual(oracle(c, 10));
    const action = fc.array(piece, { maxLength: 8 }).map((p) => `{{${p.join('')}}}`);
    fc.assert(
      fc.property(fc.array(fc.oneof(piece, action), { maxLength: 12 }).map((p) => p.join('')), fc.integer({ min: 1, max: 6 }), (text, limit) => {
        const lines = text.split('\n');
        const offset = (line: number, column: number): number => lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0) + column - 1;
        expect(valuesReferences(text, limit).map((r) => `${r.path.join('.')}@${offset(r.line, r.column)}`)).toEqual(oracle(text, limit));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('templatePathTree', () => {
  /** The tree as plain data: each key with its open leaf ('open') or its keys below, in order. */
  type Shape = Array<[string, 'open' | Shape]>;
  const shape = (map: YMap): Shape =>
    map.entries.map((e): [string, 'open' | Shape] => {
      const v: YNode = e.value;
      if (v.kind === 'map') return [e.key, shape(v)];
      expect(v).toMatchObject({ kind: 'scalar', value: '', plain: true });
      return [e.key, 'open'];
    });
  /** The same tree made one path at a time: keys in the order they first appear, an open leaf wins over anything below it. */
  const expected = (dotted: readonly string[]): Shape => {
    const root: Shape = [['global', 'open']];
    for (const path of dotted) {
      let level = root;
      const keys = path.split('.');
      for (const [i, key] of keys.entries()) {
        const found = level.find((e) => e[0] === key);
        if (found?.[1] === 'open') break;
        if (i === keys.length - 1) {
          if (found === undefined) level.push([key, 'open']);
          else found[1] = 'open';
          break;
        }
        if (found === undefined) {
          const below: Shape = [];
          level.push([key, below]);
          level = below;
        } else level = found[1] as Shape;
      }
    }
    return root;
  };

  it('holds global and every template path, open at its end, keys in the order they first appear', () => {
    const tree = templatePathTree(['image.tag', 'image.repository', 'resources', 'image', 'global.x', 'a.b.c', 'a.b.c.d', 'a.e']);
    expect(shape(tree)).toEqual([
      ['global', 'open'],
      ['image', 'open'],
      ['resources', 'open'],
      ['a', [['b', [['c', 'open']]], ['e', 'open']]],
    ]);
  });

  it('makes the same tree as adding the paths one at a time, whatever their order', () => {
    const key = fc.constantFrom('a', 'b', 'c', 'global', 'ab');
    const path = fc.array(key, { minLength: 1, maxLength: 4 }).map((keys) => keys.join('.'));
    fc.assert(
      fc.property(fc.array(path, { maxLength: 40 }), (dotted) => {
        expect(shape(templatePathTree(dotted))).toEqual(expected(dotted));
      }),
      { numRuns: 500 },
    );
  });
});
