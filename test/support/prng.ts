/**
 * A small seeded PRNG for tests and benchmarks (xorshift128, Marsaglia 2003, "Xorshift RNGs"), so the corpus is the same bytes on
 * every machine and every run. Not for anything security related.
 */
export class Prng {
  private x: number;
  private y: number;
  private z: number;
  private w: number;
  private readonly seed: number;

  constructor(seed: number) {
    this.seed = seed >>> 0;
    // Spread the seed over the four words with splitmix32-style mixing: an all-zero state would stick.
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 16), 0x85ebca6b);
      t = Math.imul(t ^ (t >>> 13), 0xc2b2ae35);
      return (t ^ (t >>> 16)) >>> 0;
    };
    this.x = next();
    this.y = next();
    this.z = next();
    this.w = next() | 1;
  }

  /** A uniformly distributed 32-bit unsigned integer. */
  u32(): number {
    const t = this.x ^ (this.x << 11);
    this.x = this.y;
    this.y = this.z;
    this.z = this.w;
    this.w = (this.w ^ (this.w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    return this.w;
  }

  /** [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.float() * items.length)];
    if (item === undefined) throw new RangeError('pick from an empty list');
    return item;
  }

  hex(chars: number): string {
    let out = '';
    while (out.length < chars) out += this.u32().toString(16).padStart(8, '0');
    return out.slice(0, chars);
  }

  /** Fill a buffer with pseudo-random bytes (incompressible for gzip). */
  fill(buf: Buffer): Buffer {
    const words = Math.floor(buf.length / 4);
    if (buf.byteOffset % 4 === 0) {
      const view = new Uint32Array(buf.buffer, buf.byteOffset, words);
      for (let i = 0; i < words; i++) view[i] = this.u32();
    } else {
      for (let i = 0; i < words; i++) buf.writeUInt32LE(this.u32(), i * 4);
    }
    for (let i = words * 4; i < buf.length; i++) buf[i] = this.u32() & 0xff;
    return buf;
  }

  /** An independent generator derived from this one's seed and a label (adding a pack does not shift the others). */
  fork(label: string): Prng {
    let h = (this.seed ^ 0x811c9dc5) >>> 0;
    for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
    return new Prng(h >>> 0);
  }
}
