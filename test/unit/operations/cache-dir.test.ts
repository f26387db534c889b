import { describe, expect, it } from 'vitest';
import { defaultCacheDir } from '../../../src/operations/archive-cache.js';
// @ts-expect-error bin/ is plain JavaScript without declarations
import { cacheDir } from '../../../bin/code-cache.cjs';

describe("the code cache's folder is the archive cache's (bin/code-cache.cjs cannot import src/)", () => {
  const envs: Array<Record<string, string>> = [
    { PACKPUB_CACHE_DIR: '/c/packpub', XDG_CACHE_HOME: '/x', HOME: '/h' },
    { PACKPUB_CACHE_DIR: '', XDG_CACHE_HOME: '/x', HOME: '/h' },
    { XDG_CACHE_HOME: '', HOME: '/h' },
    { HOME: '/h' },
    {},
  ];
  for (const env of envs) {
    it(`the same folder for ${JSON.stringify(env)}`, () => {
      expect((cacheDir as (env: Record<string, string>) => string)(env)).toBe(defaultCacheDir(env));
    });
  }
});
