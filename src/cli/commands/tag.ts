import type { CliContext, CommandSpec } from '../context.js';
import { EXIT_OK, writeLine } from '../io.js';
import { targetCommandFlags, withPackTarget, type Opening } from '../target-command.js';

export const tagCommand: CommandSpec = {
  command: 'tag <ref> <tags...>',
  describe: 'Add tags to a published pack version (e.g. a 1.2.x parent tag)',
  builder: (y) =>
    targetCommandFlags(y, {
      ref: true,
      own: {
        positionals: { tags: { type: 'string', array: true, describe: 'New tags' } },
        options: {
          force: { type: 'boolean', describe: "Move a tag that already holds other content (Palette caches digests: avoid); one that reads as another version than the pack.json's also needs --allow-other-version; one the registry keeps immutable (an immutable ECR repository, a Harbor immutable tag rule) is refused before any tag is written" },
          'allow-other-version': {
            type: 'boolean',
            describe: "Put a tag that reads as a version other than the pack.json's (e.g. 1.2.0 on 1.1.0): Palette lists it as that version",
          },
        },
      },
    }),
  run: (args, ctx) =>
    withPackTarget(args, ctx, async (target, ref) => {
      const [{ tagPack }, { withInterrupt }] = await Promise.all([import('../../operations/tag.js'), import('../signals.js')]);
      // Each tag's line as soon as it is written, and an interrupt stops before the next one (was: Node's own
      // exit on SIGINT/SIGTERM, 130 or 143, with nothing said of the tags already written).
      await withInterrupt(
        ctx,
        (signal) =>
          tagPack(target, ref, (args['tags'] as string[]).map(String), {
            force: args['force'] === true,
            allowOtherVersion: args['allowOtherVersion'] === true,
            signal,
            onTag: (t, reference, digest) => {
              const what = t.status === 'already' ? `${t.tag} already tagged` : t.status === 'moved' ? `tagged as ${t.tag} (moved from ${t.previous ?? '?'})` : `tagged as ${t.tag}`;
              writeLine(ctx.io.stdout, `${reference} (${digest}): ${what}`);
            },
          }),
        { abandonNote: 'the tags printed above were written, and the one being written may have landed; the others were not: run tag again (tags already written answer "already tagged")' },
      );
      return EXIT_OK;
    }, openingOf(ctx)),
};

/** The target opened under stopAtOnce (signals.ts openingAtOnce): an interrupt while it is probed says no tag was written. */
function openingOf(ctx: CliContext): Opening {
  return async (options, open) => (await import('../signals.js')).openingAtOnce(ctx, 'no tag was written')(options, open);
}
