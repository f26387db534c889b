import { isScalar, visit, type Document, type Scalar } from 'yaml';
import { parseGoYaml } from './yaml-go.js';
import { goNumber } from './yaml-tags.js';

/*
 * What a YAML number or boolean becomes when Helm reads it into a string field of a Go struct (Chart.yaml's
 * `version`, `appVersion`, `name`, a dependency's `version`): sigs.k8s.io/yaml (yaml.go
 * convertToJSONableObject, the same from v1.2.0 to v1.6.0) turns the value go-yaml v2 read into text
 * before encoding/json fills the field: an int or uint64 in decimal (`0x10` is "16", `010` is "8",
 * `1_000` is "1000"), a bool as "true" or "false" (`yes` is "true"), and a float64 with
 * strconv.FormatFloat(v, 'g', -1, 32): rounded to a float32, in the fewest digits that read back as that
 * float32, with an exponent when it is below -4 or at least 6. So `1.10` is "1.1", `1.0` is "1", `1e3` is
 * "1000", and `20240101.1` is "2.0240102e+07", which is no semantic version.
 */

/** A scalar Go reads as a number or a bool, kept with the text written, for a decoder that knows the field's Go type. */
export class GoScalar {
  constructor(
    /** What Go holds before the JSON step: an int (int, int64), a uint64, a float64 or a bool. */
    readonly kind: 'int' | 'uint' | 'float' | 'bool',
    readonly value: bigint | number | boolean,
    /** The scalar as written in the file (`20240101.1`). */
    readonly written: string,
  ) {}

  /** The text sigs.k8s.io/yaml hands to a string field. */
  get text(): string {
    if (typeof this.value === 'boolean') return this.value ? 'true' : 'false';
    return typeof this.value === 'bigint' ? this.value.toString() : goFloat32Text(this.value);
  }

  /** The value as encoding/json gives it to an interface{} field (a float64, or a bool). */
  get json(): number | boolean {
    return typeof this.value === 'bigint' ? Number(this.value) : this.value;
  }
}

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

/** Whether a YAML value holds a number or a boolean anywhere (a cheap test before reading the text again). */
export function holdsNumberOrBool(value: unknown): boolean {
  if (typeof value === 'number' || typeof value === 'boolean') return true;
  if (Array.isArray(value)) return value.some(holdsNumberOrBool);
  if (typeof value === 'object' && value !== null && !(value instanceof Uint8Array)) return Object.values(value).some(holdsNumberOrBool);
  return false;
}

/**
 * The first document of `text` (which Go's reader reads without error) as values, with every number and
 * boolean that is a value (not a mapping key) a GoScalar: what it is to Go and how it was written.
 */
export function valuesWithGoScalars(text: string, isContent: (doc: Document.Parsed) => boolean): unknown {
  const doc = parseGoYaml(text).documents.find(isContent);
  if (doc === undefined) return undefined;
  visit(doc, {
    Scalar(key, node: Scalar) {
      if (key === 'key' || !isScalar(node)) return;
      const written = String(node.source ?? node.value ?? '');
      if (typeof node.value === 'boolean') {
        node.value = new GoScalar('bool', node.value, written);
        return;
      }
      if (typeof node.value !== 'number') return;
      const number = goNumber(written, node.tag);
      if (number !== undefined) node.value = new GoScalar(number.kind, number.value, written);
    },
  });
  return doc.toJS({ maxAliasCount: -1 });
}
