import { isScalar, visit, type Document, type Scalar } from 'yaml';
import { parseGoYaml } from './yaml-go.js';
import { goFloat32Text } from './go-float.js';
import { goNumber } from './yaml-tags.js';

export { goFloat32Text };

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
