import type { CommandSpec } from '../context.js';
import { argsForPack, parsePackArgument } from '../pack-ref.js';
import { EXIT_OK, writeLine } from '../io.js';
import { formatBytes } from '../render.js';
import { declareFlags, READ_GROUPS } from '../target-flags.js';

export const inspectCommand: CommandSpec = {
  command: 'inspect <ref>',
  describe: 'Show a published pack: manifest, digest, layer, and the pack.json inside its archive',
  builder: (y) =>
    declareFlags(y, READ_GROUPS)
      .positional('ref', { type: 'string', describe: '<name>:<version>, <name>@sha256:<digest>, or the full reference push prints' })
      .option('json', { type: 'boolean', default: false, group: 'Output:', describe: 'Print JSON' }),
  run: async (args, ctx) => {
    const [{ inspectPack }, { openTarget }, { resolveOneTarget }] = await Promise.all([
      import('../../operations/inspect.js'),
      import('../../targets/open.js'),
      import('../target-options.js'),
    ]);
    const pack = parsePackArgument(args['ref'] as string);
    const { ref } = pack;
    const target = await openTarget(await resolveOneTarget(argsForPack(args, pack), ctx));
    try {
      const result = await inspectPack(target, ref);
      if (args['json'] === true) {
        writeLine(ctx.io.stdout, JSON.stringify(result, null, 2));
        return EXIT_OK;
      }
      const out = ctx.io.stdout;
      writeLine(out, result.reference);
      writeLine(out, `  manifest  ${result.manifest.digest} (${result.manifest.size} bytes, ${result.manifest.mediaType})`);
      writeLine(out, `  created   ${result.manifest.created ?? '-'}`);
      writeLine(out, `  layer     ${result.layer.digest} (${formatBytes(result.layer.size)}) ${result.layer.title ?? ''}`.trimEnd());
      writeLine(out, `  folder    ${result.folder ?? '-'}`);
      writeLine(out, '  pack.json');
      for (const line of JSON.stringify(result.packJson ?? null, null, 2).split('\n')) writeLine(out, `    ${line}`);
      return EXIT_OK;
    } finally {
      await target.store.close();
    }
  },
};
