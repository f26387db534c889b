import { resolve } from 'node:path';
import type { CliContext, CommandSpec } from '../context.js';
import { defaultPullFolder } from '../pack-ref.js';
import { EXIT_OK, printable, userPath, writeLine } from '../io.js';
import { formatBytes } from '../render.js';
import { targetCommandFlags, withPackTarget, type Opening } from '../target-command.js';
import { numberFlag, refuseEmptyFlag } from '../target-flags.js';
import { PackpubError } from '../../errors.js';

export const pullCommand: CommandSpec = {
  command: 'pull <ref>',
  describe: 'Download a published pack, verify its digests and extract it safely into a folder',
  builder: (y) =>
    targetCommandFlags(y, {
      ref: true,
      json: true,
      own: {
        options: {
          output: { alias: 'o', type: 'string', describe: 'Folder to create for the pack (default ./<name>-<version>, or ./<name>-<12 digest digits>; must not exist or be empty)' },
          'max-size': numberFlag('Refuse archives expanding beyond this many MiB (default 2048)'),
        },
      },
    }),
  run: async (args, ctx) => {
    // `-o ""` (an unset CI variable) was the working directory: filled with the pack when empty, exit 0.
    refuseEmptyFlag('output', args['output']);
    // `-o -` made a folder named "-" (build's `-o -` is standard output; a pull writes a folder).
    if (args['output'] === '-') {
      throw new PackpubError('USAGE', 'pull -o - names standard output, and a pull writes a folder', { hint: 'give the folder to create (./- for one named "-"), or use packpub build -o - for an archive on standard output' });
    }
    return withPackTarget(args, ctx, async (target, ref) => {
      const [{ pullPack }, { withInterrupt }] = await Promise.all([import('../../operations/pull.js'), import('../signals.js')]);
      const result = await withInterrupt(ctx, (signal) =>
        pullPack(target, ref, {
          // `-o=~/x` (the shell leaves a `~` after `=` alone): the home folder's, as every path flag (userPath).
          outDir: resolve(ctx.io.cwd, args['output'] === undefined ? defaultPullFolder(ref) : userPath(ctx.io, args['output'] as string)),
          ...(args['maxSize'] === undefined ? {} : { maxBytes: (args['maxSize'] as number) * 1024 * 1024 }),
          signal,
        }),
        // Pull writes no tag: its truth on abandoning is pullPack's (a staging folder, taken away on exit).
        {
          abandonNote: 'nothing was written: the pack folder appears only once all of it is verified',
          // pullPack gives its download up at once (its signal reaches the requests): no grace to promise.
          stopsAtOnce: 'stopping the pull now',
        },
      );
      if (args['json'] === true) writeLine(ctx.io.stdout, JSON.stringify(result, null, 2));
      else writeLine(ctx.io.stdout, printable(`pulled ${result.reference} (${result.digest}) into ${result.path}: ${result.entries} entries, ${formatBytes(result.bytes)}`));
      return EXIT_OK;
    }, openingOf(ctx));
  },
};

/** The target opened under stopAtOnce (signals.ts openingAtOnce): an interrupt while it is probed says nothing was written. */
function openingOf(ctx: CliContext): Opening {
  return async (options, open) => (await import('../signals.js')).openingAtOnce(ctx, 'nothing was written')(options, open);
}
