import { describe, expect, it } from 'vitest';
import { mapConcurrent } from '../../../src/util/concurrency.js';

describe('mapConcurrent', () => {
  it('starts no item after one threw (was: every worker went on through the list, its answers thrown away)', async () => {
    const started: number[] = [];
    const run = mapConcurrent(Array.from({ length: 200 }, (_, i) => i), 8, async (i) => {
      started.push(i);
      await new Promise((resolve) => setImmediate(resolve));
      if (i === 0) throw new Error('first fails');
      return i;
    });
    await expect(run).rejects.toThrow('first fails');
    // Let any worker still looping start what it would.
    for (let n = 0; n < 50; n++) await new Promise((resolve) => setImmediate(resolve));
    expect(started.length).toBeLessThanOrEqual(16);
  });

  it('keeps the input order of results', async () => {
    expect(await mapConcurrent([30, 10, 20], 2, async (ms) => ms * 2)).toEqual([60, 20, 40]);
  });
});
