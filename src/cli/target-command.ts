import type { Argv } from 'yargs';
import type { PackRef } from '../oci/reference.js';
import type { OpenTargetOptions, PackTarget } from '../targets/open.js';
import type { Args, CliContext } from './context.js';
import { argsForPack, parsePackArgument } from './pack-ref.js';
import { declareFlags, declareOwnFlags, READ_GROUPS, type FlagGroup, type OwnFlags } from './target-flags.js';

/*
 * The skeleton of a command that opens one target and runs one operation on it (list, inspect, pull, tag,
 * delete). Such a command is two pieces:
 *
 *   builder: (y) => targetCommandFlags(y, { ref: true, json: true, own: { options: { ...its own flags } } }),
 *   run: (args, ctx) => withPackTarget(args, ctx, async (target, ref) => { ...call the operation, print; return EXIT_OK }),
 *
 * The target is chosen like every other command's (flags, environment, packpub.yaml `--config`/`--target`,
 * or the location a full reference names), opened once, and closed whatever happens. Errors are not caught:
 * they reach main(), which renders them and picks the exit code.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Y = Argv<any>;

export interface TargetCommandShape {
  /** Declare the `<ref>` positional (the pack argument `withPackTarget` reads). */
  ref?: boolean;
  /** Declare `--json` (the table's output group). */
  json?: boolean;
  /** Flag groups to declare; default READ_GROUPS (target, config, credentials, network, ecr). */
  groups?: readonly FlagGroup[];
  /** The command's own arguments and flags, declared after `<ref>`. */
  own?: OwnFlags;
  /** A shared flag's help worded for this command (by flag name), where it does more with it than the others. */
  describe?: Readonly<Record<string, string>>;
}

/** The flags of a one-target command: its groups and `--json` when asked for, then `<ref>` when asked for, then its own. */
export function targetCommandFlags(y: Y, shape: TargetCommandShape = {}): Y {
  const groups = shape.groups ?? READ_GROUPS;
  let out = declareFlags(y, shape.json === true ? [...groups, 'output'] : groups, {}, false, shape.describe);
  if (shape.ref === true) {
    out = out.positional('ref', { type: 'string', describe: '<name>:<version>, <name>@sha256:<digest>, or the full reference push prints (or its spectro-packs/archive/<name>:<version> part)' });
  }
  return declareOwnFlags(out, shape.own ?? {});
}

/**
 * How a command opens its target, given the options resolved and the opening itself: e.g. under stopAtOnce, so that
 * an interrupt while a registry that does not answer is probed ends the run with the command's own words and report.
 */
export type Opening = (options: OpenTargetOptions, open: () => Promise<PackTarget>) => Promise<PackTarget>;

/**
 * Open the one target the command's flags name (through `resolveOneTarget`, so `--config`, `--target` and the
 * environment apply), run `fn` on it, and close the target afterwards, also when `fn` throws. Returns what `fn`
 * returns (a command's exit code).
 */
export async function withTarget<T>(args: Args, ctx: CliContext, fn: (target: PackTarget) => Promise<T>, opening?: Opening): Promise<T> {
  // Imported when a command runs, so that `--help` and completion stay fast.
  const [{ openTarget }, { resolveOneTarget, hintFlags }] = await Promise.all([import('../targets/open.js'), import('./target-options.js')]);
  const options = await resolveOneTarget(args, ctx);
  const target = await (opening === undefined ? openTarget(options) : opening(options, () => openTarget(options)));
  target.flags = hintFlags(args);
  try {
    return await fn(target);
  } finally {
    await target.store.close();
  }
}

/**
 * `withTarget` for a command with a `<ref>` pack argument: the argument is parsed first (a usage error opens
 * nothing), and a full reference (`host/base/spectro-packs/archive/name:version`, `oci:DIR/...`) chooses the
 * target itself; a flag naming another target is refused (`argsForPack`).
 */
export async function withPackTarget<T>(args: Args, ctx: CliContext, fn: (target: PackTarget, ref: PackRef) => Promise<T>, opening?: Opening): Promise<T> {
  const pack = parsePackArgument(args['ref'] as string);
  return withTarget(argsForPack(args, pack), ctx, (target) => fn(target, pack.ref), opening);
}
