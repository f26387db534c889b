import { isAbsolute, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pathWithin } from '../../../src/util/fs.js';
import { Prng } from '../../support/prng.js';

/** pathWithin as path.relative defines it (what it was before its canonical-path shortcut). */
function byRelative(folder: string, path: string): string | undefined {
  const rel = relative(folder, path);
  return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel) ? undefined : rel;
}

describe('pathWithin', () => {
  it.each([
    ['/a/b', '/a/b', ''],
    ['/a/b', '/a/b/c/d', 'c/d'],
    ['/a/b', '/a/bc', undefined],
    ['/a/b', '/a', undefined],
    ['/', '/a/b', 'a/b'],
    ['/', '/', ''],
    ['/a/b/', '/a/b/c', 'c'],
    ['/a/./b', '/a/b/c', 'c'],
    ['/a/b', '/a/b/../c', undefined],
    ['/a//b', '/a/b/c', 'c'],
  ])('%s holds %s: %s', (folder, path, within) => {
    expect(pathWithin(folder, path)).toBe(within);
  });

  it('answers as path.relative does, canonical paths or not', () => {
    const random = new Prng(16);
    const segments = ['a', 'b', 'ab', '.', '..', '', 'a.b', '..a', '.a'];
    const pathOf = () => {
      const n = random.u32() % 5;
      const parts = Array.from({ length: n }, () => segments[random.u32() % segments.length] ?? 'a');
      return `/${parts.join('/')}${random.u32() % 6 === 0 ? '/' : ''}`;
    };
    const differ: string[] = [];
    for (let i = 0; i < 5_000; i++) {
      const folder = pathOf();
      const path = random.u32() % 3 === 0 ? `${folder}/${pathOf().slice(1)}` : pathOf();
      if (pathWithin(folder, path) !== byRelative(folder, path)) differ.push(`${folder} ${path}`);
    }
    expect(differ).toEqual([]);
  });
});
