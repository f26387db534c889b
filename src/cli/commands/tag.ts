import { parsePackRef } from '../../oci/reference.js';
import type { CommandSpec } from '../context.js';
import { EXIT_OK, writeLine } from '../io.js';
import { targetFlags } from '../target-flags.js';

export const tagCommand: CommandSpec = {
  command: 'tag <ref> <tags...>',
  describe: 'Add tags to a published pack version (e.g. a 1.2.x parent tag)',
  builder: (y) =>
    targetFlags(y)
      .positional('ref', { type: 'string', describe: '<name>:<version>' })
      .positional('tags', { type: 'string', array: true, describe: 'New tags' }),
  run: async (args, ctx) => {
    const [{ tagPack }, { openTarget }, { targetOptionsFromArgs }] = await Promise.all([
      import('../../operations/tag.js'),
      import('../../targets/open.js'),
      import('../target-flags.js'),
    ]);
    const ref = parsePackRef(args['ref'] as string);
    const target = await openTarget(await targetOptionsFromArgs(args, ctx));
    try {
      const result = await tagPack(target, ref, (args['tags'] as string[]).map(String));
      writeLine(ctx.io.stdout, `tagged ${result.reference} (${result.digest}) as ${result.tags.join(', ')}`);
      return EXIT_OK;
    } finally {
      await target.store.close();
    }
  },
};
