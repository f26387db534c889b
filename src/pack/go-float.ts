/*
 * A float as Go's strconv.FormatFloat(x, 'g', -1, 32) writes it: how sigs.k8s.io/yaml turns a YAML float
 * (a value read into a string field, or a mapping key) into text.
 */

/** The float32 `a` (positive) as m * 2^e exactly. */
function float32Parts(a: number): { m: bigint; e: number } {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, a);
  const bits = view.getUint32(0);
  const biased = bits >>> 23;
  const fraction = bits & 0x7fffff;
  return biased === 0 ? { m: BigInt(fraction), e: -149 } : { m: BigInt(fraction | 0x800000), e: biased - 150 };
}

/** |c * 10^scale - m * 2^e|, all scaled by the same power of 2 and of 10 (exact, for comparing candidates of one scale). */
function scaledGap(c: bigint, scale: number, { m, e }: { m: bigint; e: number }): bigint {
  const tens = 10n ** BigInt(Math.abs(scale));
  const twos = 2n ** BigInt(Math.abs(e));
  const decimal = (scale >= 0 ? c * tens : c) * (e < 0 ? twos : 1n);
  const binary = (e >= 0 ? m * twos : m) * (scale < 0 ? tens : 1n);
  return decimal > binary ? decimal - binary : binary - decimal;
}

/** The shortest digits (no leading or trailing zeros) and decimal point position of a positive float32 `a`. */
function shortestFloat32(a: number): { digits: string; point: number } {
  const exact = float32Parts(a);
  for (let p = 1; p <= 9; p++) {
    const [mantissa, exponent] = a.toExponential(p - 1).split('e') as [string, string];
    const n = BigInt(mantissa.replace('.', ''));
    const scale = Number(exponent) - (p - 1);
    // The nearest p-digit decimal, or a neighbour when a power of two makes the interval lopsided; Go
    // takes the one closest to the value among those that read back as it, the even one when two are as
    // close (ftoaryu.go rounds the last digit half to even; toExponential rounds half up).
    let best: { n: bigint; gap: bigint } | undefined;
    for (const c of [n, n - 1n, n + 1n]) {
      if (c <= 0n || Math.fround(Number(`${c}e${scale}`)) !== a) continue;
      const gap = scaledGap(c, scale, exact);
      if (best === undefined || gap < best.gap || (gap === best.gap && c % 2n === 0n)) best = { n: c, gap };
    }
    if (best !== undefined) {
      const digits = best.n.toString();
      const trimmed = digits.replace(/0+$/, '');
      return { digits: trimmed, point: digits.length + scale };
    }
  }
  throw new Error(`unreachable: no 9-digit form of the float32 ${a}`);
}

/** Go's strconv.FormatFloat(x, 'g', -1, 32): how sigs.k8s.io/yaml writes a YAML float into a string field. */
export function goFloat32Text(x: number): string {
  const f = Math.fround(x);
  if (Number.isNaN(f)) return 'NaN';
  if (f === Number.POSITIVE_INFINITY) return '+Inf';
  if (f === Number.NEGATIVE_INFINITY) return '-Inf';
  const sign = f < 0 || Object.is(f, -0) ? '-' : '';
  if (f === 0) return `${sign}0`;
  const { digits, point } = shortestFloat32(Math.abs(f));
  const exp = point - 1;
  if (exp < -4 || exp >= 6) {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp);
    return `${sign}${mantissa}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
  }
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}
