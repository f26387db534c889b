import { PERCENTILES, type Counts, type Quantiles } from './pack-central-stats.js';
import type { Prng } from '../test/support/prng.js';

/** Drawing numbers that follow the measured pack-central distributions (pack-central-stats.ts). */

/** The value at percentile `u` (0 to 100), interpolated between the measured points on a log(1 + x) scale. */
export function atPercentile(q: Quantiles, u: number): number {
  const p = Math.min(100, Math.max(0, u));
  let i = 0;
  while (i < PERCENTILES.length - 2 && p > (PERCENTILES[i + 1] ?? 100)) i++;
  const lo = PERCENTILES[i] ?? 0;
  const hi = PERCENTILES[i + 1] ?? 100;
  const t = hi === lo ? 0 : (p - lo) / (hi - lo);
  const a = Math.log1p(q[i] ?? 0);
  const b = Math.log1p(q[i + 1] ?? 0);
  return Math.expm1(a + (b - a) * t);
}

/**
 * Draws from a measured distribution, stratified: each run of `block` draws takes one value from each of
 * `block` equal slices of the percentile range, in random order, so a few hundred draws already match the
 * measured quantiles, tails included (independent draws of a heavy tail would make totals swing by tens of
 * percent between seeds).
 */
export class Stratified {
  private queue: number[] = [];

  constructor(
    private readonly rng: Prng,
    private readonly quantiles: Quantiles,
    private readonly block = 100,
  ) {}

  next(): number {
    if (this.queue.length === 0) this.queue = shuffle(this.rng, Array.from({ length: this.block }, (_, i) => i));
    const slice = this.queue.pop() as number;
    return Math.round(atPercentile(this.quantiles, ((slice + this.rng.float()) / this.block) * 100));
  }
}

export function shuffle<T>(rng: Prng, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    const tmp = items[i] as T;
    items[i] = items[j] as T;
    items[j] = tmp;
  }
  return items;
}

/** `n` whole numbers that occur as often as in `counts` (scaled by largest remainder), in random order. */
export function countsList(rng: Prng, counts: Counts, n: number): number[] {
  const total = counts.reduce((s, [, times]) => s + times, 0);
  const shares = counts.map(([value, times]) => ({ value, exact: (times * n) / total }));
  const out: number[] = [];
  for (const s of shares) for (let i = 0; i < Math.floor(s.exact); i++) out.push(s.value);
  const byRemainder = [...shares].sort((a, b) => (b.exact % 1) - (a.exact % 1));
  for (let i = 0; out.length < n; i++) out.push((byRemainder[i % byRemainder.length] as (typeof shares)[number]).value);
  return shuffle(rng, out);
}

/** One of the keys, with probability proportional to its weight. */
export function pickWeighted<K extends string>(rng: Prng, weights: Readonly<Record<K, number>>): K {
  const entries = Object.entries(weights) as Array<[K, number]>;
  const total = entries.reduce((s, [, w]) => s + w, 0);
  let r = rng.float() * total;
  for (const [key, w] of entries) {
    r -= w;
    if (r < 0) return key;
  }
  return (entries[entries.length - 1] as [K, number])[0];
}
