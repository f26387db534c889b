/*
 * Explicitly tagged scalars (`!!int 12`, `!!bool yes`, `!!binary aGk=`) resolved as go-yaml v2 resolves
 * them (resolve.go resolve, decode.go scalar), the reader Helm 3 loads charts with (sigs.k8s.io/yaml).
 * Go refuses a value its tag cannot hold ("cannot decode !!str `abc` as a !!int", "!!binary value
 * contains invalid base64 data"), so Helm cannot load the file; the `yaml` package only warns and keeps
 * the text. Go reads numbers with strconv (ParseInt/ParseUint with base 0 after dropping every `_`, so
 * `0o17`, `0x_1` and `0B1` are integers), which differs from YAML 1.1's own rules: this follows Go's.
 */

import type { ScalarTag, Tags } from 'yaml';
import { goFloat32Text } from './go-float.js';

const LONG = 'tag:yaml.org,2002:';

/** Values resolveMap (resolve.go) gives by their exact text. */
const RESOLVE_MAP = new Map<string, [string, unknown]>();
for (const [tag, value, words] of [
  ['bool', true, ['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']],
  ['bool', false, ['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']],
  ['null', null, ['', '~', 'null', 'Null', 'NULL']],
  ['float', Number.NaN, ['.nan', '.NaN', '.NAN']],
  ['float', Number.POSITIVE_INFINITY, ['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF']],
  ['float', Number.NEGATIVE_INFINITY, ['-.inf', '-.Inf', '-.INF']],
] as const) {
  for (const word of words) RESOLVE_MAP.set(word, [tag, value]);
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** strconv.ParseInt(s, 0, 64) (signed) or ParseUint(s, 0, 64) (no sign): the value, or undefined. */
function parseGoInt(s: string, signed: boolean): bigint | undefined {
  const m = /^([+-]?)(?:0[xX]([0-9a-fA-F]+)|0[oO]([0-7]+)|0[bB]([01]+)|0([0-7]*)|([1-9][0-9]*))$/.exec(s);
  if (m === null || (!signed && m[1] !== '')) return undefined;
  const [, sign, hex, oct, bin, leadingZero, dec] = m;
  const magnitude =
    hex !== undefined ? BigInt(`0x${hex}`) : oct !== undefined ? BigInt(`0o${oct}`) : bin !== undefined ? BigInt(`0b${bin}`) : leadingZero !== undefined ? (leadingZero === '' ? 0n : BigInt(`0o${leadingZero}`)) : BigInt(dec as string);
  const value = sign === '-' ? -magnitude : magnitude;
  if (signed ? value < INT64_MIN || value > INT64_MAX : value > UINT64_MAX) return undefined;
  return value;
}

/** strconv.ParseFloat(s, 64) for the decimal forms resolve.go lets through: the value, or undefined when out of range. */
function parseGoFloat(s: string): number | undefined {
  const value = Number(s);
  return Number.isFinite(value) ? value : undefined;
}

const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;

const DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** resolve.go parseTimestamp: the formats it tries with time.Parse. */
function isGoTimestamp(s: string): boolean {
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:(?:[Tt](\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))|(?: (\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.\d+)?))?$/.exec(s);
  if (m === null) return false;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  if (month < 1 || month > 12 || day < 1 || day > (month === 2 && !leap ? 28 : (DAYS[month - 1] as number))) return false;
  const hour = Number(m[4] ?? m[7] ?? 0);
  const minute = Number(m[5] ?? m[8] ?? 0);
  const second = Number(m[6] ?? m[9] ?? 0);
  return hour < 24 && minute < 60 && second < 60;
}

/** resolve.go resolve(tag, in) without its final check: the tag Go finds for `text`, and the value (an int or uint as a bigint). */
function resolve(tag: string, text: string): [string, unknown] {
  if (tag === 'str') return ['str', text];
  const hint = text === '' ? 'N' : /^[+-]/.test(text) ? 'S' : /^[0-9]/.test(text) ? 'D' : /^[yYnNtTfFoO~]/.test(text) ? 'M' : text[0] === '.' ? '.' : '';
  if (hint === '') return ['str', text];
  const known = RESOLVE_MAP.get(text);
  if (known !== undefined) return known;
  if (hint === '.') {
    const value = /^\.[0-9]+([eE][-+]?[0-9]+)?$/.test(text) ? parseGoFloat(text) : undefined;
    if (value !== undefined) return ['float', value];
  } else if (hint === 'D' || hint === 'S') {
    if (tag === 'timestamp' && isGoTimestamp(text)) return ['timestamp', text];
    const plain = text.replaceAll('_', '');
    const int = parseGoInt(plain, true);
    if (int !== undefined) return ['int', int];
    // Past int64: a uint64, which the !!float check below does not convert (resolve.go: int and int64 only).
    const uint = parseGoInt(plain, false);
    if (uint !== undefined) return ['uint', uint];
    if (YAML_STYLE_FLOAT.test(plain)) {
      const value = parseGoFloat(plain);
      if (value !== undefined) return ['float', value];
    }
    // The "0b"/"-0b" branches of resolve.go read what ParseInt with base 0 already read above.
  }
  return ['str', text];
}

/** Plain key texts Go may read as something other than a string: the first character of a bool, null or number. */
const NOT_PLAIN_TEXT = /^[-+.0-9yYnNtTfFoO~]/;

/** A float key as sigs.k8s.io/yaml writes it (strconv.FormatFloat(f, 'g', -1, 32); infinities and NaN as YAML writes them). */
function goFloatKeyText(value: number): string {
  const text = goFloat32Text(value);
  return text === '+Inf' ? '.inf' : text === '-Inf' ? '-.inf' : text === 'NaN' ? '.nan' : text;
}

/**
 * A mapping key as Helm holds it (sigs.k8s.io/yaml convertToJSONableObject over go-yaml v2): a plain key
 * Go reads as a bool is "true" or "false" (`on`, `yes`, `N`), an int its decimal text (`0x1F` is "31",
 * `010` is "8"), a float its float32 text (`1.10` is "1.1"; `.inf` stays); anything else, quoted keys and
 * timestamps included, as written. A key with an explicit tag (`tag`, as the `yaml` package resolved it)
 * is read as go-yaml's decode.go scalar reads it with that tag: `!!int 0x10` is "16", `!!bool yes`
 * "true", `!!float 1e7` "1e+07", `!!binary aGk=` the decoded "hi"; `!!str`, `!!timestamp` and local
 * tags (`!foo`, `!`) keep the text. (A null key and a uint64 key, refused by Helm, stay as written: the
 * YAML check reports them, yaml-source.ts.)
 */
export function goKeyText(written: string, plain: boolean, tag?: string): string {
  if (tag !== undefined) return goTaggedKey(tag, written) ?? written;
  if (!plain || !NOT_PLAIN_TEXT.test(written)) return written;
  const [rtag, value] = resolve('', written);
  if (rtag === 'bool') return value === true ? 'true' : 'false';
  if (rtag === 'int' || rtag === 'uint') return String(value);
  return rtag === 'float' && typeof value === 'number' ? goFloatKeyText(value) : written;
}

/**
 * The key Go reads from a scalar key written `text` with the explicit tag `fullTag`, or undefined for a
 * null key (`!!null ~`) or a uint64 one (`!!int 9223372036854775808`), which sigs.k8s.io/yaml cannot make
 * a JSON key. A tag Go refuses for the text (`!!int abc`) is refused before (goTaggedScalar).
 */
function goTaggedKey(fullTag: string, text: string): string | undefined {
  if (!fullTag.startsWith(LONG)) return text;
  const tag = fullTag.slice(LONG.length);
  if (tag === 'binary') return goBase64(text) ?? text;
  if (tag !== 'bool' && tag !== 'int' && tag !== 'float' && tag !== 'null') return text;
  const [rtag, value] = resolve(tag, text);
  if (rtag === 'bool') return value === true ? 'true' : 'false';
  // Go turns an int read with !!float into a float64 (resolve.go); one past int64 is refused there.
  if (rtag === 'int') return tag === 'float' ? goFloatKeyText(Number(value)) : String(value);
  if (rtag === 'float' && typeof value === 'number') return goFloatKeyText(value);
  return rtag === 'null' || rtag === 'uint' ? undefined : text;
}

/**
 * Whether go-yaml v2 reads a key written `written` as a uint64 (an integer past the int64 range, up to
 * 2^64-1: `9223372036854775808`, `0xFFFFFFFFFFFFFFFF`, plain or tagged `!!int`), which sigs.k8s.io/yaml
 * cannot turn into a JSON key ("unsupported map key of type: uint64"): Helm refuses the file. (Past
 * 2^64-1 Go reads a float.) `tag`: the key's explicit tag, if it has one.
 */
export function goUint64Key(written: string, tag?: string): boolean {
  if (tag !== undefined) return tag === `${LONG}int` && resolve('int', written)[0] === 'uint';
  return written.length >= 18 && /^[0-9]/.test(written) && resolve('', written)[0] === 'uint';
}

/** base64.StdEncoding.DecodeString: padded standard alphabet; CR and LF are skipped, nothing else. */
function goBase64(text: string): string | undefined {
  const s = text.replace(/[\r\n]/g, '');
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) return undefined;
  // Go keeps the bytes in a string; Helm's JSON step turns bytes that are not UTF-8 into U+FFFD, as here.
  return Buffer.from(s, 'base64').toString('utf8');
}

export interface GoTagged {
  /** Set when Go refuses the scalar: its words. */
  error?: string;
  /** The value Go reads, when Go reads it (a !!binary value is its decoded bytes as UTF-8 text). */
  value?: unknown;
}

/**
 * A scalar with an explicit tag (as the `yaml` package resolved it: `tag:yaml.org,2002:int`, or a local
 * `!foo`), whose text (quotes and escapes read) is `text`, as go-yaml v2 reads it.
 */
export function goTaggedScalar(fullTag: string, text: string): GoTagged {
  if (!fullTag.startsWith(LONG)) return {};
  const tag = fullTag.slice(LONG.length);
  if (tag === 'binary') {
    const value = goBase64(text);
    return value === undefined ? { error: '!!binary value contains invalid base64 data' } : { value };
  }
  if (!['str', 'bool', 'int', 'float', 'null', 'timestamp'].includes(tag)) return {};
  const [resolved, value] = resolve(tag, text);
  const rtag = resolved === 'uint' ? 'int' : resolved;
  if (tag === rtag || tag === 'str') return { value: typeof value === 'bigint' ? Number(value) : value };
  if (tag === 'float' && resolved === 'int') return { value: Number(value) };
  return { error: `cannot decode !!${rtag} \`${text}\` as a !!${tag}` };
}

/** The Go type go-yaml v2 gives a number (decode.go into interface{}: int or int64, uint64, float64), with its value. */
export type GoNumber = { kind: 'int' | 'uint'; value: bigint } | { kind: 'float'; value: number };

/**
 * The number go-yaml v2 reads from a scalar written `text`, plain (`tag` undefined) or tagged `!!int` /
 * `!!float` (a full tag), or undefined when Go reads no number there: `0x10` and `010` are the ints 16
 * and 8, `1_000` is 1000, `1e3` and `1.10` are floats, `!!float 1` is a float.
 */
export function goNumber(text: string, tag?: string): GoNumber | undefined {
  const short = tag === undefined ? '' : tag.startsWith(LONG) ? tag.slice(LONG.length) : undefined;
  if (short !== '' && short !== 'int' && short !== 'float') return undefined;
  const [resolved, value] = resolve(short, text);
  if (resolved === 'int' || resolved === 'uint') return short === 'float' ? { kind: 'float', value: Number(value) } : { kind: resolved, value: value as bigint };
  return resolved === 'float' ? { kind: 'float', value: value as number } : undefined;
}

/**
 * Plain (untagged, unquoted) scalars that start like a number (`-`, `+`, `.`, a digit or `e`) read as go-yaml
 * v2 reads them, ahead of the `yaml` package's YAML 1.1 int and float tags, which differ: they read `.`,
 * `-.`, `e5`, `0_` and `0x_` as NaN and `1e999` as Infinity (Go: the strings `.`, `-.`, ... and the
 * number 0 for `0_`; Helm refused none of them, packpub did: "json: unsupported value: NaN"), `1:20` as
 * 80 (sexagesimal; Go: the string), and `0o17` or `0B1` as strings (Go: 15 and 1). Values Go gives by
 * their exact text (`.nan`, `-.inf`) stay non-finite. Never used to write YAML (identify is false).
 */
const GO_PLAIN_NUMBER: ScalarTag = {
  tag: 'tag:packpub,2026:go-plain',
  default: true,
  // Every text the YAML 1.1 int and float tags can match (`e5` too); Go reads those that start with a letter as strings.
  test: /^[-+.0-9eE]/,
  identify: () => false,
  resolve: (text: string) => {
    const value = resolve('', text)[1];
    return typeof value === 'bigint' ? Number(value) : value;
  },
};

/**
 * YAML 1.1 tags go-yaml v2 (and v3) do not read: a timestamp decodes into a string, and a collection's tag
 * is never looked at (decode.go mapping and sequence), so `!!omap` and `!!pairs` lists stay lists (duplicate
 * keys allowed) and a `!!set` map stays a map, whatever its values (the `yaml` package makes a Map or a Set
 * of them, and refuses duplicates or values).
 */
const NOT_GO_TAGS = new Set([`${LONG}timestamp`, `${LONG}omap`, `${LONG}pairs`, `${LONG}set`]);

/** The YAML 1.1 tags packpub reads with (yaml-go.ts, yaml-fast.ts): those go-yaml reads, Go's plain numbers first. */
export function goSchemaTags(tags: Tags): Tags {
  return [GO_PLAIN_NUMBER, ...tags.filter((t) => typeof t === 'string' || !NOT_GO_TAGS.has(t.tag))];
}
