import { ANNOTATION_CREATED } from '../../oci/media-types.js';
import type { CliContext, CommandSpec } from '../context.js';
import { EXIT_OK, printable, writeLine } from '../io.js';
import { formatBytes } from '../render.js';
import { targetCommandFlags, withPackTarget, type Opening } from '../target-command.js';

export const inspectCommand: CommandSpec = {
  command: 'inspect <ref>',
  describe: 'Show a published pack: manifest, digest, layer, annotations, and the pack.json inside its archive',
  builder: (y) => targetCommandFlags(y, { ref: true, json: true }),
  run: (args, ctx) =>
    withPackTarget(args, ctx, async (target, ref) => {
      const [{ inspectPack }, { readingAtOnce, NOTHING_PRINTED }] = await Promise.all([import('../../operations/inspect.js'), import('../signals.js')]);
      // Interrupted while reading (a registry slow to answer): said at once, exit 130 (was: "SIGINT: interrupted" alone).
      const shownRef = `${printable(ref.name)}${ref.version.startsWith('sha256:') ? '@' : ':'}${printable(ref.version)}`;
      const result = await readingAtOnce(ctx, `while ${shownRef} was read`, () => inspectPack(target, ref), { abandonNote: NOTHING_PRINTED });
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
    }, openingOf(ctx)),
};

/** The target opened under readingAtOnce (signals.ts readingOpening): an interrupt while it is probed says nothing was printed. */
function openingOf(ctx: CliContext): Opening {
  return async (options, open) => (await import('../signals.js')).readingOpening(ctx)(options, open);
}
