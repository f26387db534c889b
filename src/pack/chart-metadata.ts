/*
 * Chart.yaml (and requirements.yaml) as Helm decodes them: sigs.k8s.io/yaml turns the YAML into JSON,
 * then Go's encoding/json fills Helm's Metadata struct (helm/helm pkg/chart/v2/metadata.go, dependency.go).
 * So a key matches its field in any case (`Name:` is `name`, an exact match winning), numbers and booleans
 * become the text of string fields (yaml-json-text.ts: `version: 1.10` is "1.1", `version: 20240101.1` is
 * "2.0240102e+07", `name: yes` is "true"), and a value of
 * the wrong kind (`keywords: kubernetes`, a maintainer given as a plain string, a list for `tags`) makes
 * Helm refuse the chart: "cannot load Chart.yaml: error unmarshaling JSON: while decoding JSON: json:
 * cannot unmarshal string into Go struct field Metadata.keywords of type []string". Keys Helm does not
 * know are kept as they are, but a `.inf` or `.nan` among them cannot become JSON ("json: unsupported
 * value: +Inf").
 */

import { GoScalar } from './yaml-json-text.js';

type GoType =
  | { kind: 'string' | 'bool' | 'any' | 'time' }
  | { kind: 'slice'; of: GoType; name: string }
  | { kind: 'map'; of: GoType; name: string }
  | { kind: 'struct'; name: string; fields: Record<string, GoType> };

const STRING: GoType = { kind: 'string' };
const BOOL: GoType = { kind: 'bool' };
const STRINGS: GoType = { kind: 'slice', of: STRING, name: '[]string' };

const MAINTAINER: GoType = { kind: 'struct', name: 'Maintainer', fields: { name: STRING, email: STRING, url: STRING } };
const DEPENDENCY: GoType = {
  kind: 'struct',
  name: 'Dependency',
  fields: {
    name: STRING,
    version: STRING,
    repository: STRING,
    condition: STRING,
    tags: STRINGS,
    enabled: BOOL,
    'import-values': { kind: 'slice', of: { kind: 'any' }, name: '[]interface {}' },
    alias: STRING,
  },
};
const METADATA: GoType & { kind: 'struct' } = {
  kind: 'struct',
  name: 'Metadata',
  fields: {
    name: STRING,
    home: STRING,
    sources: STRINGS,
    version: STRING,
    description: STRING,
    keywords: STRINGS,
    maintainers: { kind: 'slice', of: MAINTAINER, name: '[]*Maintainer' },
    icon: STRING,
    apiVersion: STRING,
    condition: STRING,
    tags: STRING,
    appVersion: STRING,
    deprecated: BOOL,
    annotations: { kind: 'map', of: STRING, name: 'map[string]string' },
    kubeVersion: STRING,
    dependencies: { kind: 'slice', of: DEPENDENCY, name: '[]*Dependency' },
    type: STRING,
  },
};

/** Helm's Lock struct (Chart.lock, requirements.lock): `generated` is a time.Time. */
const LOCK: GoType & { kind: 'struct' } = {
  kind: 'struct',
  name: 'Lock',
  fields: {
    generated: { kind: 'time' },
    digest: STRING,
    dependencies: { kind: 'slice', of: DEPENDENCY, name: '[]*Dependency' },
  },
};

class Refused extends Error {}

function daysIn(month: number, year: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * Whether Go's time.Time UnmarshalJSON reads `text`: time.Parse with time.RFC3339
 * ("2006-01-02T15:04:05Z07:00"; its stricter checks are disabled, go.dev/issue/54580): a 4-digit year,
 * 2-digit month, day, minute and second, an hour of 1 or 2 digits, an optional fraction after `.` or
 * `,`, then `Z` or an offset `+hh:mm` / `-hh:mm` (hours up to 24, minutes up to 60); the day must exist.
 */
export function goRfc3339(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{1,2}):(\d{2}):(\d{2})(?:[.,]\d+)?(?:Z|[+-](\d{2}):(\d{2}))$/.exec(text);
  if (m === null) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || second > 59) return false;
  return m[7] === undefined || (Number(m[7]) <= 24 && Number(m[8]) <= 60);
}

/** encoding/json's word for what a value is, as in "cannot unmarshal <kind> into". */
function jsonKind(value: unknown): string {
  if (value instanceof GoScalar) return value.kind === 'bool' ? 'bool' : 'number';
  if (typeof value === 'string' || value instanceof Uint8Array) return 'string';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'bool';
  return Array.isArray(value) ? 'array' : 'object';
}

function typeName(type: GoType): string {
  return type.kind === 'any' ? 'interface {}' : type.kind === 'time' ? 'time.Time' : type.kind === 'struct' || type.kind === 'slice' || type.kind === 'map' ? type.name : type.kind;
}

class Unconvertible extends Error {}

/**
 * A value decoded into interface{} (a key Helm does not know, `import-values`): GoScalars become the
 * numbers and booleans JSON holds, and a number JSON cannot hold is refused.
 */
function jsonValue(value: unknown): unknown {
  if (value instanceof GoScalar) return jsonValue(value.json);
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new Unconvertible(`json: unsupported value: ${Number.isNaN(value) ? 'NaN' : value > 0 ? '+Inf' : '-Inf'}`);
  }
  if (Array.isArray(value)) return value.map(jsonValue);
  if (typeof value === 'object' && value !== null && !(value instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = jsonValue(v);
    return out;
  }
  return value;
}

/** A number or boolean Helm read as text into a string field: where (`version`, `dependencies[0].version`), as written, as read. */
export interface ReadAsText {
  at: string;
  kind: 'number' | 'boolean';
  written: string;
  read: string;
}

/** The struct field a key fills: the exact name, else one equal to it but for case. */
function fieldOf(fields: Record<string, GoType>, key: string): string | undefined {
  if (Object.hasOwn(fields, key)) return key;
  const folded = key.toLowerCase();
  return Object.keys(fields).find((f) => f.toLowerCase() === folded);
}

/**
 * `value` decoded into `type`, with struct keys renamed to their field names. `struct` and `path` name
 * the place as encoding/json does: the innermost struct and the field path ("Dependency.dependencies.tags");
 * `at` names it for people (`dependencies[1].version`). Numbers and booleans that become text are listed in `texts`.
 */
function decode(value: unknown, type: GoType, struct: string, path: string[], at: string, texts: ReadAsText[]): unknown {
  if (value === null || value === undefined) return value;
  const kind = jsonKind(value);
  const refuse = (): never => {
    throw new Refused(`json: cannot unmarshal ${kind} into Go struct field ${struct}.${path.join('.')} of type ${typeName(type)}`);
  };
  switch (type.kind) {
    case 'any':
      return jsonValue(value);
    case 'string':
      // sigs.k8s.io/yaml writes numbers and booleans bound for a string field as their text.
      if (value instanceof GoScalar) {
        texts.push({ at, kind: value.kind === 'bool' ? 'boolean' : 'number', written: value.written, read: value.text });
        return value.text;
      }
      return kind === 'array' || kind === 'object' ? refuse() : typeof value === 'string' || value instanceof Uint8Array ? value : String(value);
    case 'bool':
      return kind !== 'bool' ? refuse() : value instanceof GoScalar ? value.value : value;
    case 'time':
      if (kind !== 'string') throw new Refused('Time.UnmarshalJSON: input is not a JSON string');
      if (!goRfc3339(String(value))) throw new Refused(`parsing time ${JSON.stringify(value)} as "2006-01-02T15:04:05Z07:00": not an RFC 3339 time (such as 2024-01-31T12:00:00Z)`);
      return value;
    case 'slice':
      return Array.isArray(value) ? value.map((item, i) => decode(item, type.of, struct, path, `${at}[${i}]`, texts)) : refuse();
    case 'map': {
      if (kind !== 'object') refuse();
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = decode(v, type.of, struct, path, `${at}.${k}`, texts);
      return out;
    }
    case 'struct': {
      if (kind !== 'object') refuse();
      const out: Record<string, unknown> = {};
      // encoding/json fills a field from every key matching it, in the key order of sigs.k8s.io/yaml's
      // JSON (sorted): an exact key sorts after its other-case forms, so it wins over them.
      const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      for (const [k, v] of entries) {
        const field = fieldOf(type.fields, k);
        if (field === undefined) out[k] = jsonValue(v);
        else out[field] = decode(v, type.fields[field] as GoType, type.name, [...path, field], at === '' ? k : `${at}.${k}`, texts);
      }
      return out;
    }
  }
}

/**
 * A parsed Chart.yaml or requirements.yaml mapping as Helm's Metadata struct receives it (keys renamed
 * to their fields, unknown keys kept), with the numbers and booleans it read as text (`texts`), or
 * Helm's words for why it cannot load the file. Numbers and booleans given as GoScalars
 * (yaml-json-text.ts) become text as Helm makes it; plain ones as JavaScript writes them.
 */
export function decodeChartMetadata(parsed: Record<string, unknown>): { metadata: Record<string, unknown>; texts: ReadAsText[] } | { refused: string } {
  const texts: ReadAsText[] = [];
  const decoded = decodeAs(parsed, METADATA, texts);
  return 'value' in decoded ? { metadata: decoded.value, texts } : decoded;
}

function decodeAs(parsed: Record<string, unknown>, type: GoType & { kind: 'struct' }, texts: ReadAsText[] = []): { value: Record<string, unknown> } | { refused: string } {
  try {
    return { value: decode(parsed, type, type.name, [], '', texts) as Record<string, unknown> };
  } catch (err) {
    if (err instanceof Refused) return { refused: `error unmarshaling JSON: while decoding JSON: ${err.message}` };
    if (err instanceof Unconvertible) return { refused: `error converting YAML to JSON: ${err.message}` };
    throw err;
  }
}

/**
 * A parsed Chart.lock or requirements.lock mapping as Helm's Lock struct receives it, or Helm's words
 * for why it cannot load the file (a `generated` that is not an RFC 3339 time, a value of the wrong kind).
 */
export function decodeChartLock(parsed: Record<string, unknown>): { lock: Record<string, unknown> } | { refused: string } {
  const decoded = decodeAs(parsed, LOCK);
  return 'value' in decoded ? { lock: decoded.value } : decoded;
}

/** Go's unicode.IsSpace: ASCII and Latin-1 blanks, then the White_Space property. */
const GO_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;
/** Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
const GO_PRINT = /[\p{L}\p{M}\p{N}\p{P}\p{S} ]/u;

/**
 * Helm's sanitizeString (metadata.go): every white-space character becomes a space, and characters that
 * are not printable (controls, format characters such as U+200B, private use) are dropped.
 */
export function helmSanitized(text: string): string {
  let out = '';
  for (const c of text) out += GO_SPACE.test(c) ? ' ' : GO_PRINT.test(c) ? c : '';
  return out;
}

const sanitizedText = (value: unknown): unknown => (typeof value === 'string' ? helmSanitized(value) : value);
const sanitizedList = (value: unknown): unknown => (Array.isArray(value) ? value.map(sanitizedText) : value);

function sanitizedFields(item: unknown, fields: readonly string[], lists: readonly string[] = []): unknown {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return item;
  const out: Record<string, unknown> = { ...(item as Record<string, unknown>) };
  for (const f of fields) if (f in out) out[f] = sanitizedText(out[f]);
  for (const f of lists) if (f in out) out[f] = sanitizedList(out[f]);
  return out;
}

/**
 * Decoded metadata as Helm holds it once its loader validated it (Metadata.Validate, Maintainer.Validate,
 * Dependency.Validate sanitize before they check): name, appVersion and the other text fields, each
 * maintainer's and dependency's, with white space made spaces and unprintable characters dropped. So
 * `name: "web\t"` is the chart "web ", and a name of only a zero-width space is no name at all. The
 * chart's `version` is checked as written.
 */
export function helmSanitizedMetadata(metadata: Record<string, unknown>): Record<string, unknown> {
  const out = sanitizedFields(metadata, ['name', 'description', 'home', 'icon', 'condition', 'tags', 'appVersion', 'kubeVersion'], ['sources', 'keywords']) as Record<string, unknown>;
  if (Array.isArray(out['maintainers'])) out['maintainers'] = out['maintainers'].map((m: unknown) => sanitizedFields(m, ['name', 'email', 'url']));
  if (Array.isArray(out['dependencies'])) out['dependencies'] = out['dependencies'].map((d: unknown) => sanitizedFields(d, ['name', 'version', 'repository', 'condition'], ['tags']));
  return out;
}

/**
 * The path (`a.b[2]`) of the first `.inf` or `.nan` in a YAML value, or undefined when there is none:
 * sigs.k8s.io/yaml cannot turn them into JSON ("json: unsupported value: +Inf"), so Helm refuses values
 * holding one. Quoted (`".inf"`) they are strings and fine.
 */
export function nonFinitePath(value: unknown, path = ''): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : path === '' ? '(the document)' : path;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = nonFinitePath(item, `${path}[${i}]`);
      if (found !== undefined) return found;
    }
  } else if (typeof value === 'object' && value !== null && !(value instanceof Uint8Array)) {
    for (const [k, v] of Object.entries(value)) {
      const found = nonFinitePath(v, path === '' ? k : `${path}.${k}`);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** Whether a YAML text may hold a `.inf` or `.nan` (a cheap test before looking at its values). */
export function mayHoldNonFinite(text: string): boolean {
  return /\.(?:inf|Inf|INF|nan|NaN|NAN)\b/.test(text);
}
