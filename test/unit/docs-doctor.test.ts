import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/*
 * docs/errors.md lists the findings `palette doctor` reports (its paragraph "`palette doctor` reports its
 * findings (...)"): the list is exactly the checks src/operations/palette-doctor.ts makes, so a check added,
 * renamed or removed there fails here until the page follows.
 */

const read = (path: string): string => readFileSync(fileURLToPath(new URL(`../../${path}`, import.meta.url)), 'utf8');

describe('docs/errors.md on palette doctor', () => {
  it("names exactly the checks palette doctor reports", () => {
    const code = [...read('src/operations/palette-doctor.ts').matchAll(/\bcheck: '([a-z-]+)'/g)].map((m) => m[1]!);
    expect(code.length).toBeGreaterThan(10);
    const paragraph = /`palette doctor` reports its findings \(([^)]*)\)/.exec(read('docs/errors.md'))?.[1];
    expect(paragraph, 'the paragraph listing the findings').toBeDefined();
    const listed = [...paragraph!.matchAll(/`([a-z-]+)`/g)].map((m) => m[1]!);
    expect([...new Set(listed)].sort()).toEqual([...new Set(code)].sort());
  });
});
