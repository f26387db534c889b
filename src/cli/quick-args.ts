import type { Args, CommandSpec } from './context.js';

/*
 * The arguments of an ordinary command line read without yargs (issues 11 and 16): loading yargs, declaring
 * a command's flags on it and running its parser cost a run of `packpub push` a tenth of its main-thread CPU,
 * and every in-process run in the tests several milliseconds. A command's flags are read from its builder
 * (run against a recorder instead of yargs), and a command line is read here only when every token is one
 * of a few plain shapes whose reading by yargs is known: `--flag`, `--no-flag`, `--name value`,
 * `--name=value`, `-x value`, and positionals. Anything else (help, a flag the command lacks, a value that
 * starts with a dash or a quote, a number where yargs would convert it, a choice not offered, a missing or
 * extra positional, a `help` word, `--`, ...) returns undefined, and main() lets yargs read the whole line as before, with
 * its errors and help. test/unit/cli/quick-args.test.ts checks, over generated command lines of every
 * command, that whatever is read here equals what yargs hands the command, flag tables included.
 */

type Kind = 'boolean' | 'string' | 'array' | 'number';

interface Declared {
  name: string;
  kind: Kind;
  alias?: string;
  choices?: readonly string[];
  default?: unknown;
  camel?: string;
  /** `demandOption`: yargs refuses a line without it (then yargs reads the line). */
  demanded?: boolean;
}

interface Positional {
  decl: Declared;
  demanded: boolean;
  variadic: boolean;
}

/** A command's flags and positionals as yargs is told them by its builder. */
export interface CommandTable {
  name: string;
  /** In declaration order, the global flags first (as main() declares them). */
  declared: Declared[];
  positionals: Positional[];
}

/** The flag tables yargs keeps (its getOptions()), as far as main()'s checks read them. */
export interface FlagTables {
  key: Record<string, boolean>;
  boolean: string[];
  string: string[];
  array: string[];
  alias: Record<string, string[]>;
}

/** main()'s own flags, declared before any command's. */
const GLOBAL: readonly Declared[] = [
  { name: 'debug', kind: 'boolean', default: false },
  { name: 'tty', kind: 'boolean', default: true },
];

const OPTION_KEYS = new Set(['type', 'alias', 'array', 'choices', 'default', 'group', 'describe', 'requiresArg', 'demandOption', 'number']);
const POSITIONAL_KEYS = new Set(['type', 'array', 'choices', 'describe']);

/** yargs-parser's camelCase for a lower-case kebab name; undefined for any other name (then no quick reading). */
function camelOf(name: string): string | undefined {
  if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(name)) return undefined;
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

class Unsupported extends Error {}

function declared(name: string, options: Record<string, unknown>, allowed: ReadonlySet<string>, positional: boolean): Declared {
  const camel = camelOf(name);
  if (camel === undefined || Object.keys(options).some((k) => !allowed.has(k))) throw new Unsupported();
  const { type, alias, array, choices, demandOption } = options;
  if (demandOption !== undefined && demandOption !== true) throw new Unsupported();
  if (type !== 'string' && type !== 'boolean' && type !== 'number') throw new Unsupported();
  // `number` beside type string: the label of --help only (numberFlag); yargs' parser keeps the text, as for a string.
  if (options['number'] !== undefined && (options['number'] !== true || type !== 'string')) throw new Unsupported();
  // One-letter aliases only (-u, -H): yargs gives them no camelCase twin, and they are never long flags.
  if (alias !== undefined && (typeof alias !== 'string' || !/^[A-Za-z]$/.test(alias))) throw new Unsupported();
  if (choices !== undefined && (!Array.isArray(choices) || choices.some((c) => typeof c !== 'string'))) throw new Unsupported();
  if (array === true && type !== 'string') throw new Unsupported();
  const decl: Declared = { name, kind: array === true && !positional ? 'array' : (type as Kind) };
  if (camel !== name) decl.camel = camel;
  if (typeof alias === 'string') decl.alias = alias;
  if (choices !== undefined) decl.choices = choices as string[];
  if ('default' in options) decl.default = options['default'];
  if (demandOption === true) decl.demanded = true;
  return decl;
}

const tables = new WeakMap<CommandSpec, CommandTable | null>();

/**
 * The command's table, read from its builder run against a recorder of `option`, `positional` and `example`
 * (computed once per command). Undefined when the builder asks yargs for anything else or declares a flag
 * in a way this reader does not follow: the command is then always read by yargs.
 */
export function commandTable(spec: CommandSpec): CommandTable | undefined {
  let table = tables.get(spec);
  if (table === undefined) {
    table = readTable(spec) ?? null;
    tables.set(spec, table);
  }
  return table ?? undefined;
}

function readTable(spec: CommandSpec): CommandTable | undefined {
  if (typeof spec.command !== 'string') return undefined;
  const [name = '', ...words] = spec.command.split(' ');
  const shapes: Array<{ name: string; demanded: boolean; variadic: boolean }> = [];
  for (const word of words) {
    const m = /^(<|\[)([a-z][a-z0-9-]*)(\.\.\.)?(>|\])$/.exec(word);
    if (m === null || (m[1] === '<') !== (m[4] === '>')) return undefined;
    shapes.push({ name: m[2] ?? '', demanded: m[1] === '<', variadic: m[3] !== undefined });
  }
  // yargs: demanded positionals before optional ones, a variadic one last.
  if (shapes.some((s, i) => (s.variadic && i !== shapes.length - 1) || (s.demanded && i > 0 && shapes[i - 1]?.demanded === false))) return undefined;
  const decls: Declared[] = [...GLOBAL];
  const positionals: Positional[] = [];
  const recorder = {
    option(key: string, options: Record<string, unknown>) {
      decls.push(declared(key, options, OPTION_KEYS, false));
      return recorder;
    },
    positional(key: string, options: Record<string, unknown>) {
      const shape = shapes.find((s) => s.name === key);
      if (shape === undefined || positionals.some((p) => p.decl.name === key) || options['type'] !== 'string') throw new Unsupported();
      const decl = declared(key, options, POSITIONAL_KEYS, true);
      if (decl.alias !== undefined) throw new Unsupported();
      if (shape.variadic) decl.default = [];
      decls.push(decl);
      positionals.push({ decl, demanded: shape.demanded, variadic: shape.variadic });
      return recorder;
    },
    example() {
      return recorder;
    },
  };
  try {
    spec.builder(recorder as unknown as Parameters<CommandSpec['builder']>[0]);
  } catch (err) {
    if (err instanceof Unsupported || err instanceof TypeError) return undefined;
    throw err;
  }
  // Every positional declared, in the command's order; every name and alias once.
  if (positionals.length !== shapes.length || positionals.some((p, i) => p.decl.name !== shapes[i]?.name)) return undefined;
  const names = decls.flatMap((d) => [d.name, ...(d.alias === undefined ? [] : [d.alias]), ...(d.camel === undefined ? [] : [d.camel])]);
  if (new Set(names).size !== names.length || names.some((n) => n === 'help' || n === 'version')) return undefined;
  positionals.sort((a, b) => shapes.findIndex((s) => s.name === a.decl.name) - shapes.findIndex((s) => s.name === b.decl.name));
  return { name, declared: decls, positionals };
}

/** A value yargs takes as typed: not empty, no leading dash (a flag, or a negative number), no quotes it would strip. */
function plain(value: string | undefined): value is string {
  return value !== undefined && value !== '' && !value.startsWith('-') && !/^["']|["']$/.test(value);
}

/** A positional yargs keeps as typed: plain, and nothing it could read as a number. */
function plainPositional(value: string): boolean {
  return plain(value) && !/^[+-]?(\d|\.\d)/.test(value);
}

/**
 * `argv` read as yargs reads it for this command (the arguments its handler gets, and the flag tables main()'s
 * checks read), or undefined when the line is not one of the plain shapes above.
 */
export function quickArgs(argv: readonly string[], table: CommandTable): { args: Args; tables: FlagTables } | undefined {
  // yargs prints the help when the last positional is `help`: any `help` token is left to yargs.
  if (argv[0] !== table.name || argv.includes('help')) return undefined;
  const byName = new Map<string, Declared>();
  for (const d of table.declared) {
    if (table.positionals.some((p) => p.decl === d)) continue;
    byName.set(d.name, d);
    if (d.alias !== undefined) byName.set(d.alias, d);
  }
  const given = new Map<Declared, Array<string | boolean>>();
  const positional: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const token = argv[i] ?? '';
    if (!token.startsWith('-')) {
      if (!plainPositional(token)) return undefined;
      positional.push(token);
      continue;
    }
    const long = token.startsWith('--');
    const body = token.slice(long ? 2 : 1);
    const eq = long ? body.indexOf('=') : -1;
    const name = eq === -1 ? body : body.slice(0, eq);
    const inline = eq === -1 ? undefined : body.slice(eq + 1);
    // A one-dash token is one letter (-u); a two-dash one a long name (--username).
    if (long ? name.length < 2 : name.length !== 1) return undefined;
    let decl = byName.get(name);
    let negated = false;
    if (decl === undefined && long && name.startsWith('no-')) {
      decl = byName.get(name.slice(3));
      negated = true;
    }
    if (decl === undefined || (given.has(decl) && decl.kind === 'boolean')) return undefined;
    if (decl.kind === 'boolean') {
      // yargs reads `--flag true` as the flag's value, and `--flag=VALUE` its own way.
      const next = argv[i + 1];
      if (inline !== undefined || next === 'true' || next === 'false') return undefined;
      given.set(decl, [!negated]);
      continue;
    }
    if (negated || decl.kind === 'number') return undefined;
    const values: string[] = [];
    if (inline !== undefined) {
      if (!plain(inline)) return undefined;
      values.push(inline);
    } else {
      const next = argv[i + 1];
      if (!plain(next)) return undefined;
      values.push(next);
      i++;
    }
    // An array flag takes every token up to the next one that starts with a dash.
    if (decl.kind === 'array') {
      for (let next = argv[i + 1]; next !== undefined && !next.startsWith('-'); next = argv[i + 1]) {
        if (!plain(next)) return undefined;
        values.push(next);
        i++;
      }
    }
    const choices = decl.choices;
    if (choices !== undefined && values.some((v) => !choices.includes(v))) return undefined;
    given.set(decl, [...(given.get(decl) ?? []), ...values]);
  }

  if (table.declared.some((d) => d.demanded === true && !given.has(d))) return undefined;
  const args: Record<string, unknown> = { _: [table.name] };
  const set = (d: Declared, value: unknown): void => {
    args[d.name] = value;
    if (d.alias !== undefined) args[d.alias] = value;
    if (d.camel !== undefined) args[d.camel] = value;
  };
  for (const [d, values] of given) set(d, d.kind === 'boolean' ? values[0] : d.kind === 'array' || values.length > 1 ? values : values[0]);
  const demanded = table.positionals.filter((p) => p.demanded).length;
  const variadic = table.positionals.some((p) => p.variadic);
  if (positional.length < demanded || (!variadic && positional.length > table.positionals.length)) return undefined;
  for (const p of table.positionals) {
    if (positional.length === 0) break;
    const values = p.variadic ? positional.splice(0) : positional.splice(0, 1);
    const choices = p.decl.choices;
    if (choices !== undefined && values.some((v) => !choices.includes(v))) return undefined;
    set(p.decl, p.variadic ? values : values[0]);
  }
  for (const d of table.declared) if (d.default !== undefined && !(d.name in args)) set(d, d.default);
  args['$0'] = 'packpub';
  return { args: args as Args, tables: flagTables(table) };
}

function flagTables(table: CommandTable): FlagTables {
  const out: FlagTables = { key: { help: true, version: true }, boolean: ['help', 'version'], string: [], array: [], alias: {} };
  const positional = new Set(table.positionals.map((p) => p.decl));
  for (const d of table.declared) {
    const names = d.alias === undefined ? [d.name] : [d.name, d.alias];
    for (const n of names) out.key[n] = true;
    if (d.kind === 'boolean') out.boolean.push(...names);
    if (d.kind === 'string' || d.kind === 'array') out.string.push(...names);
    if (d.kind === 'array' || (positional.has(d) && Array.isArray(d.default))) out.array.push(...names);
    if (d.alias !== undefined) out.alias[d.name] = [d.alias];
    else if (positional.has(d)) out.alias[d.name] = [];
  }
  return out;
}
