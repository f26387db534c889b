import { describe, expect, it } from 'vitest';
import { findImages } from '../../../src/pack/chart-images.js';
import { mapEntry, mapKeys, parseYamlTree, resolveAlias, type YMap } from '../../../src/pack/yaml-tree.js';

/*
 * `<<` merge keys as Helm reads values (sigs.k8s.io/yaml over go-yaml v2): a mapping's entries apply in the
 * order written, so the last writer of a key wins. Each expected value came from a throwaway Go program
 * decoding the same text with go-yaml v2.4.0 (which also agreed on 15,000 lookups in 5,000 random
 * documents of anchors, aliases, merge sequences and duplicate keys; not committed).
 */

/** The value text of `zz.<key>` as the deep checks read it. */
function valueOf(yaml: string, key: string): string | undefined {
  const tree = parseYamlTree(yaml);
  const zz = resolveAlias(mapEntry(tree.root as YMap, 'zz', tree.anchors)?.value, tree.anchors) as YMap;
  const entry = mapEntry(zz, key, tree.anchors);
  return entry === undefined ? undefined : (resolveAlias(entry.value, tree.anchors) as { value: string }).value;
}

describe('merge-key precedence (go-yaml v2, as Helm)', () => {
  it.each([
    ['a key written after a merge wins over the merged one', 's: &s {a: 2, b: 2}\nzz:\n  <<: *s\n  a: 1\n', { a: '1', b: '2' }],
    ['a merge written after a key wins over it (go-yaml v3 would keep 1)', 's: &s {a: 2, b: 2}\nzz:\n  a: 1\n  <<: *s\n', { a: '2', b: '2' }],
    ['in a merge sequence, the earlier mapping wins', 's1: &s1 {a: 1}\ns2: &s2 {a: 2, b: 2}\nzz:\n  <<: [*s1, *s2]\n', { a: '1', b: '2' }],
    ['of two merge keys, the later wins', 's1: &s1 {a: 1}\ns2: &s2 {a: 2, b: 2}\nzz:\n  <<: *s1\n  <<: *s2\n', { a: '2', b: '2' }],
    ["a merged mapping's own merge applies in its order", 's1: &s1 {a: 1, <<: {c: 5}}\nzz:\n  c: 9\n  <<: *s1\n', { a: '1', c: '5' }],
    ['of duplicate keys, the last wins', 'zz: {a: 1, a: 2}\n', { a: '2' }],
    ['a quoted "<<" is an ordinary key, not a merge', 'zz: {"<<": {a: 1}}\n', { a: undefined }],
  ] as const)('%s', (_name, yaml, expected) => {
    for (const [key, value] of Object.entries(expected)) expect(valueOf(yaml, key), key).toBe(value);
  });

  it('lists merged keys once, explicit keys first', () => {
    const tree = parseYamlTree('s1: &s1 {c: 1, a: 1}\nzz:\n  b: 1\n  <<: *s1\n  <<: {d: 1}\n  a: 2\n');
    const zz = resolveAlias(mapEntry(tree.root as YMap, 'zz', tree.anchors)?.value, tree.anchors) as YMap;
    expect(mapKeys(zz, tree.anchors)).toEqual(['b', 'a', 'c', 'd']);
  });

  it("a chart's image read through a merge written after its keys is the merged one, as Helm renders it", () => {
    const values = 'base: &b\n  repository: docker.io/library/nginx\n  tag: "1.27"\nimage:\n  repository: docker.io/library/old\n  <<: *b\n';
    expect(findImages(parseYamlTree(values), {}).map((i) => i.image)).toEqual(['docker.io/library/nginx:1.27']);
  });
});
