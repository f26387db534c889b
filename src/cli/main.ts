import type { MessagePort } from 'node:worker_threads';
import { PackpubError } from '../errors.js';
import { COMMAND_MODULES, loadCommands } from './commands/index.js';
import type { Argv } from 'yargs';
import { runCommand, toYargs, type Args, type CliContext, type CommandSpec } from './context.js';
import { EXIT_FAILURE, EXIT_INTERRUPTED, INTERRUPT_SIGNALS, closeHungUpTerminalAtExit, outputLost, processIo, renderError, ttyOff, withUserEnv, writeLine, type CliIo } from './io.js';
import { commandTable, quickArgs, type FlagTables } from './quick-args.js';
import { usageError } from './suggest.js';
import { joinDashValues, refuseFlagLookalikeEnv, refuseRepeatedValues, refuseSwitchValues } from './target-flags.js';

import { VERSION } from '../version.js';

export { VERSION };

/** What a program running main() as its whole process may add (bin/packpub.js). */
export interface MainOptions {
  /**
   * Called once the named command's module is loaded (and yargs, when the line is left to it: quick-args.ts),
   * before the arguments are checked and the command runs: bin/packpub.js sets its V8 flags here. Node compiles a built-in module
   * that loads after a V8 flag changed from its source instead of its code cache, so flags set at start
   * made every built-in the parser and the command load cost more (issue 16).
   */
  beforeCommand?: () => void;
  /**
   * Called by push once it found its packs, before its first request or worker thread. bin/packpub.js sets its
   * V8 flags for a push there instead of in beforeCommand: it waits for the check-ahead worker (`checksAhead`)
   * to load its built-ins first, which by then it has, rather than idling while the worker loads (issue 16).
   */
  beforeNetwork?: () => void;
  /**
   * The port of a worker bin/packpub.js started for `push` before loading the program, checking the archive
   * cache's remembered folders ahead (operations/precheck.ts); push takes its answers unless --no-cache.
   */
  checksAhead?: MessagePort;
  /**
   * The process ends once main() settles (bin/packpub.js: runAsProcess): push then leaves its registry
   * connections open for the process's end to close, rather than closing them one by one before it (issue 16).
   */
  endsProcess?: boolean;
}

/** Run the CLI; returns the exit code. Only this function and command handlers touch argv, env and output. */
export async function main(given: string[], io: CliIo = processIo(), options: MainOptions = {}): Promise<number> {
  // Fast path: version checks in scripts should not pay for loading the argument parser.
  if (given.length === 1 && given[0] === '--version') {
    io.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const argv = given.includes('-') ? joinDashValues(given) : given;
  const started = new Date();
  // --no-tty (as ORAS; or --tty=false): behave as if no terminal were attached: no live progress, no colours, no prompts.
  // Paths in io.env (DOCKER_CONFIG, PACKPUB_CACHE_DIR, ...) are relative to io.cwd, as the flags' are.
  const ctx: CliContext = {
    io: withUserEnv(ttyOff(argv) ? { ...io, noTty: true } : io),
    exitCode: 0,
    ...(options.checksAhead === undefined ? {} : { checksAhead: options.checksAhead }),
    ...(options.beforeNetwork === undefined ? {} : { beforeNetwork: options.beforeNetwork }),
    ...(options.endsProcess === true ? { endsProcess: true } : {}),
  };
  const debug = argv.includes('--debug');
  const solo = await soloCommand(argv);
  // An ordinary command line is read without loading yargs (quick-args.ts: the same reading, checked against
  // yargs' by a test); help, mistakes and anything unusual go to yargs, as does a line naming no command.
  const table = solo === undefined ? undefined : commandTable(solo);
  const quick = table === undefined ? undefined : quickArgs(argv, table);
  if (solo !== undefined && quick !== undefined) {
    options.beforeCommand?.();
    try {
      checkFlags(argv, io, quick.args, quick.tables);
      await runCommand(solo, quick.args, ctx);
    } catch (err) {
      await reportUnreadLine(argv, ctx.io, err, started);
      return withLostOutput(io, renderError(io, err, debug), argv);
    }
    return withLostOutput(io, ctx.exitCode, argv);
  }
  const [{ default: yargs }, commands] = await Promise.all([import('yargs'), solo === undefined ? loadCommands() : [solo]]);
  const parser = newParser(yargs, argv, ctx, commands);
  options.beforeCommand?.();
  try {
    // With a parse callback yargs hands its own output (--help, --version) to the caller instead of printing
    // it with console.log, so it goes to this run's stdout: a program embedding main() captures it too.
    await parser.parseAsync(argv, {}, (_err, _argv, output) => {
      if (output !== '') io.stdout.write(`${output}\n`);
    });
  } catch (err) {
    await reportUnreadLine(argv, ctx.io, err, started);
    return withLostOutput(io, renderError(io, err, debug), argv);
  }
  return withLostOutput(io, ctx.exitCode, argv);
}

/**
 * A push, validate or palette sync line refused before its command could read it (an unknown flag, a bad value, contradicting
 * flags): the --junit file it names gets the refused run's report, as a refusal inside the command does
 * (reportRefusal: one error case; nothing when the command already wrote its report). Without it a CI job keeping
 * its workspace read an earlier run's file as this run's. The file is taken from the line as typed, when it names
 * exactly one (`--junit FILE` or `--junit=FILE`, before any `--`) that is no flag.
 */
async function reportUnreadLine(argv: readonly string[], io: CliIo, err: unknown, started: Date): Promise<void> {
  const command = argv[0] === 'palette' && argv[1] === 'sync' ? 'palette sync' : argv[0];
  if (command !== 'push' && command !== 'validate' && command !== 'palette sync') return;
  const end = argv.indexOf('--');
  const line = end === -1 ? argv : argv.slice(0, end);
  const named = line.flatMap((a, i) => (a === '--junit' ? [line[i + 1] ?? ''] : a.startsWith('--junit=') ? [a.slice('--junit='.length)] : []));
  const file = named.length === 1 ? named[0] : undefined;
  if (file === undefined || file === '' || file.startsWith('-')) return;
  await (await import('./ci-output/index.js')).reportRefusal(io, command, file, err, started);
}

/**
 * Before yargs' own checks and the command: the parser reads `--dry-run=yes` as false, and a repeated
 * one-value flag as a list; PACKPUB_DRY_RUN=1 would be ignored. `tables` are the parser's flag tables.
 */
export function checkFlags(argv: readonly string[], io: CliIo, args: Args, tables: FlagTables): void {
  refuseSwitchValues(argv, tables.boolean, tables.alias, Object.keys(tables.key));
  refuseRepeatedValues(args, tables.string, tables.array, tables.alias);
  refuseFlagLookalikeEnv(io.env, Object.keys(tables.key));
}

/**
 * The yargs parser of a run, with these commands (exported for test/unit/cli/quick-args.test.ts, which
 * compares quickArgs' reading with it).
 */
export function newParser(yargs: typeof import('yargs').default, argv: string[], ctx: CliContext, commands: CommandSpec[]): Argv<unknown> {
  const parser = yargs(argv)
    .scriptName('packpub')
    .usage('packpub <command> [options]\n\nPublish Spectro Cloud Palette packs to OCI registries.')
    .version(VERSION)
    // yargs' own words (headings, its errors) in English whatever LANG says, as everything else packpub
    // prints: a translated "Unknown argument" would also stop explainUnknownInput from naming the flag meant.
    .detectLocale(false)
    .option('debug', { type: 'boolean', default: false, describe: 'Print redacted request traces and stack traces' })
    .option('tty', { type: 'boolean', default: true, describe: 'Terminal output: --no-tty draws no live progress or colours and asks no questions, as in a pipe' })
    .strict()
    .demandCommand(1, 'Name a command (see packpub --help).')
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .exitProcess(false)
    .fail((message: string | undefined, err: Error | undefined, usage: unknown) => {
      // Throwing here stops yargs before the command runs: a misspelled flag must never publish.
      if (err !== undefined) throw err;
      const lines = commands.map((c) => (Array.isArray(c.command) ? c.command[0] : c.command) ?? '');
      const names = lines.map((line) => line.split(' ')[0] ?? '');
      // yargs passes its usage object here (typed as Argv): its descriptions are the command's flags
      const flags = Object.keys((usage as { getDescriptions?: () => Record<string, unknown> }).getDescriptions?.() ?? {});
      throw usageError(message ?? '', { argv, commands: names, flags, usages: new Map(lines.map((line, i) => [names[i] ?? '', line])) });
    })
    .epilogue(
      'Exit codes: 0 success (published or unchanged), 1 some pack failed, 2 usage or configuration error, 3 published but not visible in Palette, 130 interrupted.\n' +
        'After SIGINT, SIGTERM or SIGHUP, work in flight may finish for 5 s (PACKPUB_INTERRUPT_GRACE=SECONDS: another grace, e.g. 2 where the runner kills 5 s after its SIGTERM).\n' +
        'A forward proxy is taken from HTTPS_PROXY / HTTP_PROXY / NO_PROXY, as Go\'s clients read them (docs/configuration.md, "Proxies").\n' +
        'Docs: README.md',
    );
  const checkSwitches = (args: unknown, y: unknown): void => checkFlags(argv, ctx.io, args as Args, (y as { getOptions(): FlagTables }).getOptions());
  parser.middleware(checkSwitches as Parameters<typeof parser.middleware>[0], true);
  for (const spec of commands) parser.command(toYargs(spec, ctx));
  skipHelpCache(parser);
  return parser;
}

/**
 * Run main() as this process: its exit code becomes the process's (bin/packpub.js). If the event loop
 * empties while the run has not finished, an operation was waiting for something that can never happen (a
 * bug, such as a stream that reports an error without ending a pending write): Node would then exit 0
 * after doing part of the work, and print nothing. The run fails instead, saying so (exit 1, INTERNAL).
 */
export function runAsProcess(run: Promise<number>, io: CliIo = processIo()): void {
  let finished = false;
  const unfinished = (): void => {
    if (finished) return;
    finished = true;
    process.exitCode = renderError(
      io,
      new PackpubError('INTERNAL', 'packpub stopped before the run finished: an operation never completed, so nothing after the last line printed is confirmed', {
        hint: 'this is a bug in packpub; run again with --debug and report the output',
      }),
      false,
    );
  };
  process.on('beforeExit', unfinished);
  closeHungUpTerminalAtExit();
  interruptedAsDocumented(io);
  run.then(
    (code) => {
      finished = true;
      process.off('beforeExit', unfinished);
      process.exitCode = code;
      exitOnceWritten();
    },
    (err: unknown) => {
      finished = true;
      process.off('beforeExit', unfinished);
      throw err;
    },
  );
}

/**
 * SIGINT, SIGTERM or SIGHUP (INTERRUPT_SIGNALS) to a command that does not handle it itself (validate, login, ...; push, copy, pull, tag,
 * delete and palette sync stop their work through withInterrupt or stopAtOnce, list and inspect through
 * readingAtOnce, whose handler is then also listening) ends the process with exit 130, as docs/report.md says of an interrupted run, instead of Node's
 * default death by the signal (SIGTERM, a cancelled CI job: 143, and nothing said). What those commands write
 * (login's Docker config, build's archive, init's files) goes to a temporary name and is renamed: no file is left
 * half-written.
 */
function interruptedAsDocumented(io: CliIo): void {
  const onSignal = (sig: NodeJS.Signals): void => {
    if (process.listenerCount(sig) > 1) return;
    writeLine(io.stderr, `${sig}: interrupted`);
    process.exit(EXIT_INTERRUPTED);
  };
  for (const sig of INTERRUPT_SIGNALS) process.on(sig, onSignal);
}

/**
 * End the finished run's process as soon as its standard output and error are written, through process.exit
 * ('exit' listeners run: the work folder's removal, the code cache's saves), instead of letting Node free
 * its environment and heap handle by handle once the event loop is empty: that took ~30 ms of an unchanged
 * re-run's ~60 ms between the run's end and the process's (issue 16). Nothing the run started is cut short:
 * it has awaited all of it; what is left open (idle keep-alive connections, a worker that has ended its work)
 * is closed with the process. Output not yet written (a pipe whose reader is slow: asynchronous except on
 * Linux) is waited for; if it never drains, Node ends the process as before, once the loop is empty.
 */
function exitOnceWritten(): void {
  const pending = [process.stdout, process.stderr].filter((stream) => stream.writableLength > 0 && !stream.destroyed);
  let left = pending.length;
  const written = (): void => {
    if (--left <= 0) process.exit();
  };
  if (left === 0) process.exit();
  for (const stream of pending) {
    let once = false;
    const done = (): void => {
      if (once) return;
      once = true;
      written();
    };
    stream.once('drain', done).once('close', done);
  }
}

/**
 * A run whose standard output could not be written (a full disk under `--json > report.json`) did not do
 * what was asked, whatever it published: say so on stderr and fail. Write errors surface a tick after the
 * write, so wait one turn of the event loop first. Only a run that publishes (push, copy) is told what its re-run
 * shows (`list > /dev/full`, `validate`, `--help` were told "a re-run reports what is already published as unchanged").
 */
async function withLostOutput(io: CliIo, code: number, argv: readonly string[]): Promise<number> {
  await new Promise((resolve) => setImmediate(resolve));
  const lost = outputLost(io.stdout);
  if (lost === undefined) return code;
  writeLine(io.stderr, `error: cannot write to standard output: ${lost.message} (what it should have shown of this run is lost)`);
  const publishes = argv[0] === 'push' || argv[0] === 'copy';
  writeLine(io.stderr, `hint: free space where standard output goes, or send it elsewhere, then run again${publishes ? ' (a re-run reports what is already published as unchanged)' : ''}`);
  return code === 0 ? EXIT_FAILURE : code;
}

/**
 * The command named first, its module alone loaded (commands/index.ts): checking or publishing one pack should
 * not pay for importing every other command (issue 16). Registered alone with yargs, its help, its errors
 * and its flag suggestions read the same (they never list the other commands). Undefined for anything else
 * (no command, a misspelled one, only flags): yargs then gets them all.
 */
async function soloCommand(argv: string[]): Promise<CommandSpec | undefined> {
  const solo = argv[0] === undefined ? undefined : COMMAND_MODULES.find(([name]) => name === argv[0]);
  return solo === undefined ? undefined : solo[1]();
}

/**
 * yargs renders the whole help text of a command before running it, to print it should the command fail
 * (issue 16's profile: a tenth of an unchanged re-push went to cliui and string-width). Failures here are
 * rendered by renderError, never with yargs' help, so that work is skipped. `--help` is unaffected: it
 * renders the help when asked. Reached through yargs' internal methods, so it is a no-op if they change.
 */
export function skipHelpCache(parser: unknown): void {
  type Usage = { cacheHelpMessage?: unknown };
  const internal = (parser as { getInternalMethods?: () => { getUsageInstance?: () => Usage } }).getInternalMethods?.();
  const usage = internal?.getUsageInstance?.();
  if (usage !== undefined && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => undefined;
}
