import fc from 'fast-check';
import { PassThrough, Readable } from 'node:stream';
import yargs from 'yargs';
import { describe, expect, it } from 'vitest';
import { COMMAND_MODULES } from '../../../src/cli/commands/index.js';
import type { Args, CliContext, CommandSpec } from '../../../src/cli/context.js';
import { prepareArgs } from '../../../src/cli/target-flags.js';
import type { CliIo } from '../../../src/cli/io.js';
import { checkFlags, newParser } from '../../../src/cli/main.js';
import { commandTable, quickArgs, type CommandTable, type FlagTables } from '../../../src/cli/quick-args.js';

/*
 * main() reads an ordinary command line without yargs (src/cli/quick-args.ts). Whatever it reads must be
 * exactly what yargs hands the command: the same arguments, the same refusals by main()'s checks and
 * prepareArgs, the same flag tables. Checked here against main()'s own yargs parser, over command lines
 * generated from each command's flags (every shape: long, short, --no-, =, repeated, values that start
 * with a dash or look like numbers, positionals, help, unknown flags).
 */

function quietIo(): CliIo {
  return { stdout: new PassThrough(), stderr: new PassThrough(), stdin: Readable.from([]), env: {}, cwd: '/' };
}

type Outcome = { error: string } | { args: unknown };

/** What yargs (main()'s parser) hands the command for `argv`, after main()'s checks and prepareArgs. */
async function yargsReading(spec: CommandSpec, argv: string[]): Promise<Outcome & { tables?: FlagTables }> {
  let seen: Outcome | undefined;
  const capture: CommandSpec = {
    ...spec,
    run: async (args) => {
      seen = { args: JSON.parse(JSON.stringify(args)) as unknown };
      return 0;
    },
  };
  const ctx: CliContext = { io: quietIo(), exitCode: 0 };
  let tables: FlagTables | undefined;
  const parser = newParser(yargs, argv, ctx, [capture]);
  parser.middleware(((_args: unknown, y: { getOptions(): FlagTables }) => {
    tables = y.getOptions();
  }) as unknown as Parameters<typeof parser.middleware>[0]);
  try {
    await parser.parseAsync(argv, {}, () => undefined);
  } catch (err) {
    return { error: (err as Error).message };
  }
  if (seen === undefined) throw new Error(`yargs ran no command for ${JSON.stringify(argv)}`);
  return { ...seen, ...(tables === undefined ? {} : { tables }) };
}

/** The same through quickArgs; undefined when it leaves the line to yargs. */
function quickReading(table: CommandTable, argv: string[]): (Outcome & { tables: FlagTables }) | undefined {
  const quick = quickArgs(argv, table);
  if (quick === undefined) return undefined;
  try {
    checkFlags(argv, quietIo(), quick.args, quick.tables);
    prepareArgs(quick.args as Args);
  } catch (err) {
    return { error: (err as Error).message, tables: quick.tables };
  }
  return { args: JSON.parse(JSON.stringify(quick.args)) as unknown, tables: quick.tables };
}

const sorted = (names: string[]): string[] => [...new Set(names)].sort();

function expectSameTables(quick: FlagTables, yargsTables: FlagTables): void {
  expect(Object.keys(quick.key)).toEqual(Object.keys(yargsTables.key));
  expect(sorted(quick.boolean)).toEqual(sorted(yargsTables.boolean));
  expect(sorted(quick.string)).toEqual(sorted(yargsTables.string));
  expect(sorted(quick.array)).toEqual(sorted(yargsTables.array));
  expect(quick.alias).toEqual(yargsTables.alias);
}

const VALUES = ['x', 'help', 'version', 'completion', 'a b', 'generic', 'ecr', 'MUTABLE', 'KMS', 'bash', 'fish', 'doctor', 'sync', '/abs/dir', './rel', 'k=v', 'a:1', 'true', 'false', '1', '0', '64', '0.5', '-1', '.5', '0x1', '', '"q"', "'q'", '-x', '--x', 'hub.example.com/base', 'x=1,y=2'];
const EXTRA = [['--'], ['--help'], ['-h'], ['--version'], ['--bogus'], ['-z'], ['--dryRun'], ['--debug'], ['--no-tty'], ['--tty=false'], ['--no-debug']];

/** Command lines for a command: its flags in every shape, values, positionals and stray tokens. */
function lines(spec: CommandSpec): fc.Arbitrary<string[]> {
  const table = commandTable(spec);
  const name = (Array.isArray(spec.command) ? spec.command[0] : spec.command)?.split(' ')[0] ?? '';
  const flags = (table?.declared ?? []).filter((d) => !(table?.positionals ?? []).some((p) => p.decl === d));
  // The command's own name too: yargs could take it as the command again.
  const value = fc.constantFrom(...VALUES, name);
  const flag = fc.constantFrom(...flags).chain((d) =>
    fc.oneof(
      fc.constant([`--${d.name}`]),
      fc.constant([`--no-${d.name}`]),
      value.map((v) => [`--${d.name}`, v]),
      // A switch followed by true or false, which yargs reads as the switch's value.
      fc.constantFrom('true', 'false').map((v) => [`--${d.name}`, v]),
      value.map((v) => [`--${d.name}=${v}`]),
      fc.array(value, { minLength: 2, maxLength: 3 }).map((vs) => [`--${d.name}`, ...vs]),
      ...(d.alias === undefined ? [] : [value.map((v) => [`-${d.alias}`, v])]),
    ),
  );
  const token = fc.oneof({ weight: 6, arbitrary: flag }, { weight: 3, arbitrary: value.map((v) => [v]) }, { weight: 1, arbitrary: fc.constantFrom(...EXTRA) });
  // Half the lines start with the positionals and flags the command demands (a choice where it offers some).
  const demanded = (table?.positionals ?? []).filter((p) => p.demanded).map((p) => fc.constantFrom(...(p.decl.choices ?? ['p1', '/abs/p2'])).map((v) => [v]));
  const demandedFlags = flags.filter((d) => d.demanded === true).map((d) => fc.constantFrom('h.example/a', 'oci:/abs/l').map((v) => [`--${d.name}`, v]));
  const start = fc.oneof(fc.constant<string[]>([]), fc.tuple(...demanded, ...demandedFlags).map((parts) => parts.flat()));
  return fc.tuple(start, fc.array(token, { maxLength: 7 })).map(([first, groups]) => [name, ...first, ...groups.flat()]);
}

describe('quickArgs reads a command line as yargs does', () => {
  it('the bench and everyday lines of push and validate are read without yargs, and as yargs reads them', async () => {
    const specs = new Map(await Promise.all(COMMAND_MODULES.map(async ([name, load]) => [name, await load()] as const)));
    const cases: string[][] = [
      ['push', '/tmp/tree', '--recursive', '--registry', '127.0.0.1:5000/bench', '--plain-http'],
      ['push', 'a', 'b', '--registry', 'r/x', '--no-cache', '--concurrency', '3', '--tag', 't1', '--header', 'A: b', '-u', 'me', '--json'],
      ['push', '--target', 'prod', 'ecr', '--dry-run'],
      ['push', 'p', '-r', 'h/a', '-r', 'h/b', '--json-lines'],
      ['validate', '/tmp/pack', '--strict', '--json'],
      ['validate', 'a', 'b', '--check-images'],
    ];
    for (const argv of cases) {
      const spec = specs.get(argv[0] ?? '');
      const table = spec === undefined ? undefined : commandTable(spec);
      expect(table, argv[0]).toBeDefined();
      const quick = quickReading(table as CommandTable, argv);
      expect(quick, argv.join(' ')).toBeDefined();
      const { tables, ...reading } = await yargsReading(spec as CommandSpec, argv);
      const { tables: quickTables, ...quickOutcome } = quick as Outcome & { tables: FlagTables };
      expect(quickOutcome, argv.join(' ')).toEqual(reading);
      if (tables !== undefined) expectSameTables(quickTables, tables);
    }
  });

  for (const [name, load] of COMMAND_MODULES) {
    it(`${name}: any line it reads, yargs reads the same (or the command is always left to yargs)`, async () => {
      const spec = await load();
      const table = commandTable(spec);
      if (table === undefined) return;
      await fc.assert(
        fc.asyncProperty(lines(spec), async (argv) => {
          const quick = quickReading(table, argv);
          // Only the lines it reads count as runs: a line left to yargs is skipped, and fast-check fails the
          // property when it skips too many (no command with a quick reading goes untested by chance).
          fc.pre(quick !== undefined);
          const { tables, ...reading } = await yargsReading(spec, argv);
          const { tables: quickTables, ...quickOutcome } = quick;
          expect(quickOutcome, JSON.stringify(argv)).toEqual(reading);
          if (tables !== undefined) expectSameTables(quickTables, tables);
        }),
        { numRuns: Number(process.env['QUICK_ARGS_RUNS'] ?? 30) },
      );
    });
  }
});
