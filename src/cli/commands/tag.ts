import type { CommandSpec } from '../context.js';
import { argsForPack, parsePackArgument } from '../pack-ref.js';
import { EXIT_OK, writeLine } from '../io.js';
import { declareFlags, READ_GROUPS } from '../target-flags.js';

export const tagCommand: CommandSpec = {
  command: 'tag <ref> <tags...>',
  describe: 'Add tags to a published pack version (e.g. a 1.2.x parent tag)',
  builder: (y) =>
    declareFlags(y, READ_GROUPS)
      .positional('ref', { type: 'string', describe: '<name>:<version>, <name>@sha256:<digest>, or the full reference push prints' })
      .positional('tags', { type: 'string', array: true, describe: 'New tags' })
      .option('force', { type: 'boolean', describe: 'Move a tag that already points at another version (Palette caches digests: avoid)' }),
  run: async (args, ctx) => {
    const [{ tagPack }, { openTarget }, { resolveOneTarget }] = await Promise.all([
      import('../../operations/tag.js'),
      import('../../targets/open.js'),
      import('../target-options.js'),
    ]);
    const pack = parsePackArgument(args['ref'] as string);
    const { ref } = pack;
    const target = await openTarget(await resolveOneTarget(argsForPack(args, pack), ctx));
    try {
      const result = await tagPack(target, ref, (args['tags'] as string[]).map(String), { force: args['force'] === true });
      for (const t of result.tags) {
        const what =
          t.status === 'already' ? `${t.tag} already tagged` : t.status === 'moved' ? `tagged as ${t.tag} (moved from ${t.previous ?? '?'})` : `tagged as ${t.tag}`;
        writeLine(ctx.io.stdout, `${result.reference} (${result.digest}): ${what}`);
      }
      return EXIT_OK;
    } finally {
      await target.store.close();
    }
  },
};
