import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONFIG_SCHEMA } from '../../../src/config/schema.js';

/*
 * docs/configuration.md's key tables against the schema packpub.yaml is validated with: every key the schema
 * takes has a row (a key added in the code must be documented), and every row names a key the schema takes (a
 * key renamed or removed fails here until the page follows). Rows name keys in their first column, in
 * backticks, dotted below a target (`auth.username`), several to a row where they go together.
 */

const MD = readFileSync(fileURLToPath(new URL('../../../docs/configuration.md', import.meta.url)), 'utf8');

type Node = { properties?: Record<string, Node>; additionalProperties?: unknown };

/** Dotted paths of the schema's keys below `node`: an object with properties gives its children, not itself. */
function keyPaths(node: Node, prefix = ''): string[] {
  return Object.entries(node.properties ?? {}).flatMap(([key, child]) => {
    const path = `${prefix}${key}`;
    return child.properties === undefined ? [path] : keyPaths(child, `${path}.`);
  });
}

/** The backticked keys of the first column of the table under `### <heading>`. */
function documented(heading: string): string[] {
  const start = MD.indexOf(`\n### ${heading}\n`);
  expect(start, `docs/configuration.md has a "### ${heading}" section`).toBeGreaterThan(0);
  const end = MD.indexOf('\n#', start + 1);
  const section = MD.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/^\| ([^|]+) \|/gm)].flatMap((row) => [...row[1]!.matchAll(/`([A-Za-z.]+)`/g)].map((m) => m[1]!)).filter((key) => key !== 'key');
}

describe('docs/configuration.md', () => {
  const schema = CONFIG_SCHEMA as unknown as Node;
  const top = schema.properties!;

  it('has a row for every top-level key, and none for a key the file cannot hold', () => {
    expect(documented('Top level').sort()).toEqual(Object.keys(top).sort());
  });

  it('has a row for every key of `defaults`, and none for a key the file cannot hold', () => {
    expect(documented('`defaults`').sort()).toEqual(keyPaths(top['defaults']!).sort());
  });

  it("has a row for every key of a target (dotted below auth, tls, ecr, harbor, palette), and none for a key the file cannot hold", () => {
    const target = top['targets']!.additionalProperties as Node;
    const paths = keyPaths(target);
    expect(paths.length).toBeGreaterThan(25);
    expect(documented('A target').sort()).toEqual(paths.sort());
  });
});
