import { ANNOTATION_CREATED } from '../../oci/media-types.js';
import type { CommandSpec } from '../context.js';
import { EXIT_OK, printable, writeLine } from '../io.js';
import { formatBytes } from '../render.js';
import { targetCommandFlags, withPackTarget } from '../target-command.js';

export const inspectCommand: CommandSpec = {
  command: 'inspect <ref>',
  describe: 'Show a published pack: manifest, digest, layer, annotations, and the pack.json inside its archive',
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
      // What the registry and the archive say is shown, never obeyed: control characters as U+XXXX.
      writeLine(out, `  manifest  ${result.manifest.digest} (${result.manifest.size} bytes, ${printable(result.manifest.mediaType)})`);
      writeLine(out, `  created   ${printable(result.manifest.created ?? '-')}`);
      writeLine(out, `  layer     ${result.layer.digest} (${formatBytes(result.layer.size)}) ${printable(result.layer.title ?? '')}`.trimEnd());
      writeLine(out, `  folder    ${printable(result.folder ?? '-')}`);
      // The manifest's own annotations (push --annotation: the source, the revision), as --json has them; `created` is above.
      // A registry may serve anything there: an object that is no map shows none, a value that is no string as JSON.
      const held: unknown = result.manifest.content.annotations;
      const annotations = Object.entries(typeof held === 'object' && held !== null && !Array.isArray(held) ? held : {}).filter(([key]) => key !== ANNOTATION_CREATED);
      writeLine(out, `  annotations${annotations.length === 0 ? ' -' : ''}`);
      // One line each: a line break in a key or value shows as U+000A too.
      const oneLine = (s: string) => printable(s).replace(/\n/g, 'U+000A');
      for (const [key, value] of annotations) writeLine(out, `    ${oneLine(key)}=${oneLine(typeof value === 'string' ? value : JSON.stringify(value))}`);
      writeLine(out, '  pack.json');
      for (const line of JSON.stringify(result.packJson ?? null, null, 2).split('\n')) writeLine(out, `    ${line}`);
      return EXIT_OK;
    }),
};
