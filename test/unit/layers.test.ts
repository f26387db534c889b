import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/*
 * The layer rule of docs/architecture.md, checked over the import graph of src/: every import (static or
 * dynamic, type-only included) points to the same part or a lower layer, and the registry protocol takes
 * nothing from credentials/ but the CredentialProvider model. A wrong import fails here, naming the file.
 */

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Lowest first. A part may import its own layer's other parts only where listed in SAME_LAYER_OK. */
const LAYERS: string[][] = [
  ['errors', 'version', 'util'],
  ['oci', 'net'],
  ['pack', 'aws'],
  ['archive', 'credentials'],
  ['registry'],
  ['targets', 'palette'],
  ['config', 'operations'],
  ['cli'],
  ['index'],
];
const SAME_LAYER_OK = new Set(['archive->pack', 'credentials->aws', 'util->errors']);

function layerOf(part: string): number {
  const i = LAYERS.findIndex((l) => l.includes(part));
  if (i < 0) throw new Error(`src/${part} is in no layer: add it to LAYERS in this test and to docs/architecture.md`);
  return i;
}

function partOf(file: string): string {
  const rel = relative(SRC, file).split(/[\\/]/);
  return rel.length === 1 ? rel[0]!.replace(/\.ts$/, '') : rel[0]!;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
  /** `import('...')`: loaded on use, so it cannot close a cycle while modules load. */
  dynamic: boolean;
}

function importsOf(file: string): Edge[] {
  const text = readFileSync(file, 'utf8');
  const edges: Edge[] = [];
  const pattern = /(?:^|\n)\s*(import|export)(\s+type)?\b[^'";]*?\bfrom\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;
  for (const m of text.matchAll(pattern)) {
    const spec = m[3] ?? m[4]!;
    edges.push({ from: file, to: resolve(dirname(file), spec.replace(/\.js$/, '.ts')), typeOnly: m[2] !== undefined, dynamic: m[4] !== undefined });
  }
  return edges;
}

const edges = sources(SRC).flatMap(importsOf);
const show = (f: string) => `src/${relative(SRC, f)}`;

describe('import layers of src/', () => {
  it('sees the import graph', () => {
    expect(edges.length).toBeGreaterThan(200);
  });

  it('has no import that runs back up a layer', () => {
    const wrong = edges
      .filter((e) => {
        const a = partOf(e.from);
        const b = partOf(e.to);
        if (a === b) return false;
        const la = layerOf(a);
        const lb = layerOf(b);
        return lb > la || (lb === la && !SAME_LAYER_OK.has(`${a}->${b}`));
      })
      .map((e) => `${show(e.from)} -> ${show(e.to)}`);
    expect(wrong).toEqual([]);
  });

  it('keeps the registry protocol free of credential sources: only the CredentialProvider model', () => {
    const wrong = edges
      .filter((e) => partOf(e.from) === 'registry' && partOf(e.to) === 'credentials' && show(e.to) !== 'src/credentials/types.ts')
      .map((e) => `${show(e.from)} -> ${show(e.to)}`);
    expect(wrong).toEqual([]);
  });

  it('keeps credentials/ free of HTTP', () => {
    const wrong = edges.filter((e) => partOf(e.from) === 'credentials' && partOf(e.to) === 'registry').map((e) => `${show(e.from)} -> ${show(e.to)}`);
    expect(wrong).toEqual([]);
  });

  it('has no import cycle between files (type-only and on-use dynamic imports aside)', () => {
    const graph = new Map<string, string[]>();
    for (const e of edges) if (!e.typeOnly && !e.dynamic) graph.set(e.from, [...(graph.get(e.from) ?? []), e.to]);
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (file: string, path: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...path.slice(path.indexOf(file)), file].map(show).join(' -> '));
        return;
      }
      state.set(file, 'open');
      for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    expect(cycles).toEqual([]);
  });
});
