import { PackpubError } from '../../errors.js';
import type { Args, CommandSpec } from '../context.js';
import type { DeleteReport, DeleteResult } from '../../operations/delete.js';
import { EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, printable, writeLine } from '../io.js';
import { argsForPack, parsePackArgument } from '../pack-ref.js';
import { confirm, stdinIsTty } from '../prompt.js';
import { targetCommandFlags, withTarget, type Opening } from '../target-command.js';
import type { OwnFlags } from '../target-flags.js';

/** The flags, env and config of the command, with the target the references name (all of them the same one). */
function argsForRefs(args: Args): { args: Args; refs: ReturnType<typeof parsePackArgument>['ref'][] } {
  const packs = (args['refs'] as unknown[]).map((r) => parsePackArgument(String(r)));
  // A full reference names its target; a second one naming another target is refused by argsForPack.
  return { args: packs.reduce((a, pack) => argsForPack(a, pack), args), refs: packs.map((p) => p.ref) };
}

const DELETE_FLAGS: OwnFlags = {
  positionals: { refs: { type: 'string', array: true, describe: '<name>:<version> (several allowed), or the full reference push prints (or its spectro-packs/archive/<name>:<version> part)' } },
  options: {
    force: { type: 'boolean', default: false, describe: 'Delete without asking (needed when standard input is not a terminal)' },
    'dry-run': { type: 'boolean', default: false, describe: 'Say what would be deleted (digest, tags), or what the registry would refuse (Harbor: read-only mode, an immutable tag rule, no delete permission), and change nothing' },
    'ignore-missing': { type: 'boolean', default: false, describe: 'A version that does not exist is not an error' },
  },
  examples: [
    ['$0 delete hello:1.0.0 --dry-run', 'Show what deleting hello 1.0.0 would remove'],
    ['$0 delete hello:1.0.0 hello:1.0.x --force', 'Delete a version and its parent tag without asking (CI)'],
  ],
};

export const deleteCommand: CommandSpec = {
  command: 'delete <refs...>',
  describe: 'Delete published pack versions (asks first; Palette caches digests: prefer publishing a new version)',
  builder: (y) => targetCommandFlags(y, { json: true, own: DELETE_FLAGS }),
  run: async (args, ctx) => {
    const { PALETTE_DELETE_WARNING, abandonedDeleteReport, applyDelete, cancelled, checkRefs, deleteSucceeded, planDelete, deleteReportOf, unplannedDeleteReport } = await import('../../operations/delete.js');
    const dryRun = args['dryRun'] === true;
    const force = args['force'] === true;
    const { args: targetArgs, refs } = argsForRefs(args);
    // A digest where a version belongs: refused before the registry is probed (it was refused after).
    checkRefs(refs);
    // Refused before any request: in a pipeline nobody can answer, and a delete cannot be undone.
    if (!dryRun && !force && !stdinIsTty(ctx.io)) {
      throw new PackpubError('USAGE', 'delete asks for confirmation and standard input is not a terminal: pass --force to delete without asking', {
        hint: `${PALETTE_DELETE_WARNING}. See what would go with --dry-run`,
      });
    }
    const json = args['json'] === true;
    const ignoreMissing = args['ignoreMissing'] === true;
    const started = Date.now();
    const [{ deleteReportJson }, { describeDeleteResult, isDeleteProblem, namedInDelete, renderDeleteReport, renderDeleteResult }, { stopAtOnce, withInterrupt }] = await Promise.all([
      import('../report.js'),
      import('../render.js'),
      import('../signals.js'),
    ]);
    // What stdout and the annotations say of a run (finished, or abandoned after an interrupt).
    const reportOut = async (report: DeleteReport) => {
      if (json) {
        writeLine(ctx.io.stdout, JSON.stringify(deleteReportJson(report), null, 2));
        // stdout is the document; a failing step's log still says why.
        for (const r of report.results) {
          if (isDeleteProblem(r, ignoreMissing) && r.status !== 'cancelled') writeLine(ctx.io.stderr, `error: ${r.name}:${r.version}: ${printable(r.error?.message ?? r.status)}`);
        }
      }
      // In GitHub Actions, a version not deleted is an annotation, as push's and copy's failures are (the log alone had it).
      if (ctx.io.env['GITHUB_ACTIONS'] === 'true') {
        const { deleteAnnotations } = await import('../ci-output/github.js');
        for (const line of deleteAnnotations(report, ignoreMissing)) writeLine(ctx.io.stderr, line);
      }
    };
    // The registry probed and the versions looked up (reads only; the grace refused before them, not after the user
    // said yes): an interrupt there ends the run at once, every version cancelled, exit 130. It said "SIGINT:
    // interrupted" alone, with no --json report.
    const unplanned = (target: Parameters<typeof unplannedDeleteReport>[0]) => reportOut(unplannedDeleteReport(target, refs, { ignoreMissing, started }));
    const beforePlan = { abandonNote: 'nothing was deleted' };
    const opening: Opening = async (options, open) => {
      const [{ DEFAULT_OCI_LAYOUT, targetDisplay }, { parseRegistryLocation, formatReference }, { join }] = await Promise.all([import('../../targets/open.js'), import('../../oci/reference.js'), import('node:path')]);
      const location = options.registry === undefined ? undefined : parseRegistryLocation(options.registry);
      const target = {
        display: targetDisplay(options),
        basePath: location?.basePath ?? '',
        reference: (repository: string, version: string) => (location === undefined ? `oci:${join(options.ociLayout ?? DEFAULT_OCI_LAYOUT, repository)}:${version}` : formatReference(location.host, repository, version)),
      };
      return stopAtOnce(ctx, 'while the target was opened', open, { ...beforePlan, onAbandon: () => unplanned(target) });
    };
    return withTarget(targetArgs, ctx, async (target) => {
      const plan = await stopAtOnce(ctx, 'while the versions to delete were looked up', () => planDelete(target, refs, { ignoreMissing }), {
        ...beforePlan,
        onAbandon: () => unplanned({ display: target.display, basePath: target.basePath, reference: (repository, version) => target.store.reference(repository, version) }),
      });
      const planned = deleteReportOf(plan);
      // Each version's line as soon as it is done, so an interrupted run has said what is gone.
      const shown = new Set<DeleteResult>();
      const onResult = (r: DeleteResult) => {
        if (json) return;
        shown.add(r);
        renderDeleteResult(ctx.io, r, false, ignoreMissing);
      };
      const apply = () =>
        withInterrupt(ctx, (signal) => applyDelete(target, plan, { signal, onResult }), {
          abandonNote: 'the versions listed above as deleted are gone, the one being deleted perhaps too, the others were not deleted',
          // Abandoned after the grace period: --json and the annotations still say what was and was not deleted.
          onAbandon: () => reportOut(abandonedDeleteReport(plan)),
        });
      let report;
      if (dryRun) report = deleteReportOf(plan, undefined, true);
      else if (!plan.ready || force || planned.summary.planned === 0) report = await apply();
      else {
        // On a terminal: show exactly what goes, say why it matters, and take only an explicit yes.
        for (const r of planned.results) writeLine(ctx.io.stderr, describeDeleteResult(r, false, namedInDelete(planned.results)));
        writeLine(ctx.io.stderr, `warning: ${PALETTE_DELETE_WARNING}.`);
        const yes = await confirm(ctx.io, `Delete ${planned.summary.planned} version(s) from ${target.display}?`);
        report = yes ? await apply() : deleteReportOf(plan, (r) => (r.status === 'planned' ? cancelled(r, 'not confirmed') : r));
      }
      if (!json) renderDeleteReport(ctx.io, report, shown);
      await reportOut(report);
      // Interrupted, yet every version done (the signal came during the last one): exit 0 as `ok` says, as push does.
      if (ctx.interrupted === true && !deleteSucceeded(report)) return EXIT_INTERRUPTED;
      return deleteSucceeded(report) ? EXIT_OK : EXIT_FAILURE;
    }, opening);
  },
};
