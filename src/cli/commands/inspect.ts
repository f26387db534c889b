import type { CommandSpec } from '../context.js';
import { EXIT_OK, writeLine } from '../io.js';
import { formatBytes } from '../render.js';
import { targetCommandFlags, withPackTarget } from '../target-command.js';

export const inspectCommand: CommandSpec = {
  command: 'inspect <ref>',
  describe: 'Show a published pack: manifest, digest, layer, and the pack.json inside its archive',
  builder: (y) => targetCommandFlags(y, { ref: true, json: true }),
  run: (args, ctx) =>
    withPackTarget(args, ctx, async (target, ref) => {
      const { inspectPack } = await import('../../operations/inspect.js');
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
    }),
};
