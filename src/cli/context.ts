import type { MessagePort } from 'node:worker_threads';
import type { Argv, ArgumentsCamelCase, CommandModule } from 'yargs';
import type { CliIo } from './io.js';
import { prepareArgs } from './target-flags.js';

export interface CliContext {
  io: CliIo;
  /** Set by a command handler; main() returns it. */
  exitCode: number;
  /** Set when an interrupt (io.ts INTERRUPT_SIGNALS) arrived during the command. */
  interrupted?: boolean;
  /** Where a worker started with the process posts the checks it made ahead (MainOptions `checksAhead`). */
  checksAhead?: MessagePort;
  /** Called by push before its first request or worker thread (MainOptions `beforeNetwork`). */
  beforeNetwork?: () => void;
  /** The process ends once main() settles (MainOptions `endsProcess`). */
  endsProcess?: boolean;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Args = ArgumentsCamelCase<Record<string, any>>;

/** Every command file exports one of these: flags in `builder`, a few lines calling the library in `run`. */
export interface CommandSpec {
  command: string | string[];
  describe: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  builder: (y: Argv<any>) => Argv<any>;
  /** Returns the exit code. Throw PackpubError for failures; main() renders it. */
  run: (args: Args, ctx: CliContext) => Promise<number>;
}

/** Run a command on its parsed arguments: the checks that need no I/O (prepareArgs), then the command. */
export async function runCommand(spec: CommandSpec, args: Args, ctx: CliContext): Promise<void> {
  prepareArgs(args);
  ctx.exitCode = await spec.run(args, ctx);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function toYargs(spec: CommandSpec, ctx: CliContext): CommandModule<any, any> {
  return {
    command: spec.command,
    describe: spec.describe,
    builder: spec.builder,
    handler: (args: Args) => runCommand(spec, args, ctx),
  };
}
