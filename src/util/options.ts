import { PackpubError } from '../errors.js';
import { nearest } from './nearest.js';

/**
 * What a library option may hold, checked when a JavaScript program calls an operation (TypeScript's types are gone
 * at run time): `any` is not checked here (the operation checks it, or anything is right).
 */
export type OptionKind = 'boolean' | 'number' | 'string' | 'strings' | 'function' | 'signal' | 'date' | 'object' | 'any';

/** Every option of `T` with its kind: a key `T` gains or loses and the shape does not is a type error. */
export type OptionShape<T> = { readonly [K in keyof Required<T>]: OptionKind };

const WANTED: Record<Exclude<OptionKind, 'any'>, string> = {
  boolean: 'true or false',
  number: 'a number',
  string: 'a string',
  strings: 'an array of strings',
  function: 'a function',
  signal: 'an AbortSignal',
  date: 'a valid Date',
  object: 'an object',
};

function holds(kind: OptionKind, value: unknown): boolean {
  switch (kind) {
    case 'any':
      return true;
    case 'strings':
      return Array.isArray(value) && value.every((v) => typeof v === 'string');
    case 'signal':
      // As the operations use it (another realm's AbortSignal, or a polyfill's, is one too).
      return typeof value === 'object' && value !== null && typeof (value as AbortSignal).aborted === 'boolean' && typeof (value as AbortSignal).addEventListener === 'function';
    case 'date':
      return value instanceof Date && !Number.isNaN(value.getTime());
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    default:
      return typeof value === kind;
  }
}

/**
 * How a wrong value is named in a message: its type, and the value itself (short, not an object) only where `echo`
 * says it cannot be a secret: given for a switch, a number, a function or a list (`force: 'false'`), not for an
 * option that is text or an object (`password: 1234`, `login: 'alice:pw'`, `headers: 'Authorization: ...'`), nor as
 * the options or the target, which were quoted whole.
 */
function described(value: unknown, echo = false): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'an invalid Date';
  if (!echo && (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')) return `a ${typeof value}`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `the ${typeof value} ${String(value)}`;
  return `a${typeof value === 'object' || typeof value === 'undefined' ? 'n' : ''} ${typeof value}`;
}

/**
 * Refuses, as a USAGE PackpubError before any work, an options argument a JavaScript program got wrong: not an object,
 * an option the operation does not know (a misspelt `dryrun: true` was ignored and the push published), a value of
 * the wrong type (`force: 'false'` read as true; `packs: 'dir'` failed with "options.packs.map is not a function"),
 * or a `required` one missing. An option given as undefined is left out, as the types allow.
 */
export function checkOptions<T>(operation: string, options: unknown, shape: OptionShape<T>, required: ReadonlyArray<keyof T & string> = []): void {
  if (options === undefined && required.length === 0) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new PackpubError('USAGE', `${operation}: its options must be an object, not ${options === undefined ? 'undefined' : described(options)}`, {
      hint: required.length > 0 ? `give at least { ${required.map((k) => `${k}: ...`).join(', ')} }` : 'give an object of options, or leave them out',
    });
  }
  const kinds = shape as Readonly<Record<string, OptionKind>>;
  const known = Object.keys(kinds);
  for (const [key, value] of Object.entries(options)) {
    const kind = kinds[key];
    if (kind === undefined) {
      const near = nearest(key, known);
      throw new PackpubError('USAGE', `${operation}: unknown option "${key}"`, {
        hint: near !== undefined ? `did you mean "${near}"?` : `the options it takes: ${known.join(', ')}`,
      });
    }
    if (value !== undefined && !holds(kind, value)) {
      throw new PackpubError('USAGE', `${operation}: option ${key} must be ${WANTED[kind as Exclude<OptionKind, 'any'>]}, not ${described(value, kind !== 'object' && kind !== 'any' && kind !== 'string')}`);
    }
  }
  for (const key of required) {
    if ((options as Record<string, unknown>)[key] === undefined) throw new PackpubError('USAGE', `${operation}: option ${key} is required`);
  }
}

/** Refuses an argument that is not what openTarget returns (an object with a store), as USAGE, before any work. */
export function checkTarget(operation: string, what: string, target: unknown): void {
  const store = typeof target === 'object' && target !== null ? (target as { store?: unknown }).store : undefined;
  if (typeof store !== 'object' || store === null) {
    throw new PackpubError('USAGE', `${operation}: ${what} must be a target that openTarget returned, not ${target === undefined ? 'undefined' : described(target)}`);
  }
}
