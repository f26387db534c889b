import { declareCopyFlags, declareOwnFlags, numberFlag, type OwnFlags } from '../target-flags.js';
import { PackpubError } from '../../errors.js';
import type { CopyResult } from '../../operations/copy-report.js';
import type { CommandSpec } from '../context.js';
import { EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, printable, writeLine } from '../io.js';

function parseRefArg(ref: string | undefined, all: boolean): { name?: string; version?: string } {
  if (ref === undefined || ref === '') return {};
  // A digest names no version to write at the destination (was: "pack name "x@sha256" has an invalid path component").
  const at = ref.indexOf('@');
  if (at !== -1) {
    const name = ref.slice(0, at);
    throw new PackpubError('USAGE', `"${printable(ref)}" names a digest: copy takes <name>:<version>, the tag it writes at the destination`, {
      hint: `find the version holding that content with packpub list ${printable(name.split(':')[0] ?? name)} --registry <source>, then copy <name>:<version>`,
    });
  }
  const colon = ref.lastIndexOf(':');
  if (colon === -1) {
    if (!all) {
      throw new PackpubError('USAGE', `"${ref}" names no version`, { hint: `write ${ref}:<version>, or add --all for every version of ${ref}` });
    }
    return { name: ref };
  }
  if (colon === 0 || colon === ref.length - 1) {
    throw new PackpubError('USAGE', `"${ref}" is not a pack reference`, { hint: 'write it as <name>:<version>, e.g. hello-universe:1.2.0' });
  }
  return { name: ref.slice(0, colon), version: ref.slice(colon + 1) };
}

/** copy's own flags, declared before the per-side rows of the table (declareCopyFlags). */
const COPY_FLAGS: OwnFlags = {
  positionals: { ref: { type: 'string', describe: '<name>:<version>, or <name> with --all; leave out with --all to copy every pack' } },
  options: {
    from: {
      type: 'string',
      demandOption: true,
      describe: 'Source: HOST[:PORT]/BASE-PATH, oci:DIR for an OCI layout, or a target named in packpub.yaml',
    },
    to: {
      type: 'string',
      demandOption: true,
      describe: 'Destination: HOST[:PORT]/BASE-PATH, oci:DIR for an OCI layout, or a target named in packpub.yaml',
    },
    all: { type: 'boolean', default: false, describe: "Every version of <name>, or without a name every pack under the source base path (cosign's .sig/.att/.sbom tags as they are; other tags holding no pack, or an archive pull refuses, are left out and named; a version holding either, or a tag whose archive the source fails to serve, fails the run; without a name at most 5000 packs, and a pack whose tag list answers 404 is named in a note, not copied)" },
    force: { type: 'boolean', describe: 'Replace a version that holds a different manifest (Palette caches digests: avoid)' },
    'skip-existing': { type: 'boolean', describe: 'Keep a version that holds a different manifest and report it as skipped' },
    'dry-run': { type: 'boolean', default: false, describe: 'Print the plan (new / unchanged / conflict, bytes to copy), with the refusals the real run would meet (Harbor read-only mode or no push permission, an immutable tag, ECR settings); write nothing' },
    'fail-fast': { type: 'boolean', default: false, describe: 'Stop starting new versions after the first failure' },
    concurrency: numberFlag('Versions copied at once, 1 to 64 (default: four per core, 4 to 16)'),
  },
  examples: [
    ['$0 copy hello-universe:1.2.0 --from staging.example.com/packs --to prod.example.com/packs', 'Promote one version'],
    ['$0 copy --all --from staging --to prod', 'Every pack, between two targets named in packpub.yaml'],
    ['$0 copy hello-universe --all --from oci:./oci-packs --to harbor.example.com/spectro-oci-registry', 'Every version, from a local layout'],
  ],
};

export const copyCommand: CommandSpec = {
  command: 'copy [ref]',
  describe: 'Promote published packs between registries (or OCI layouts) by digest, without rebuilding',
  builder: (y) => declareCopyFlags(declareOwnFlags(y, COPY_FLAGS)),
  run: async (args, ctx) => {
    const [{ copyPacks, copySucceeded }, { tagsNotServedNote }, { openTarget }, { CopyRenderer, copyFailureLine, copyNotPackLine, resultWarningLines }, { abandonedCopyReport, copyReportJson }, { resolveSideOptions, sideHintFlags }, { withInterrupt, stopAtOnce, RunLedger }] = await Promise.all([
      import('../../operations/copy.js'),
      import('../../operations/list.js'),
      import('../../targets/open.js'),
      import('../render.js'),
      import('../report.js'),
      import('../target-options.js'),
      import('../signals.js'),
    ]);
  const all = args['all'] === true;
  const { name, version } = parseRefArg(args['ref'] as string | undefined, all);
  if (name === undefined && !all) {
    throw new PackpubError('USAGE', 'name what to copy: <name>:<version>, <name> --all, or --all for every pack');
  }
  const fromOptions = await resolveSideOptions(args, ctx, 'from');
  const toOptions = await resolveSideOptions(args, ctx, 'to');
  const json = args['json'] === true;
  const jsonLines = args['jsonLines'] === true;
  const renderer = json || jsonLines ? undefined : new CopyRenderer(ctx.io);
  let from: Awaited<ReturnType<typeof openTarget>> | undefined;
  let to: Awaited<ReturnType<typeof openTarget>> | undefined;
  const ledger = new RunLedger<CopyResult>('manifest-start');
  const startedAt = Date.now();
  let selected: Array<Pick<CopyResult, 'name' | 'version' | 'source' | 'destination'>> = [];
  // --json-lines: the versions a result line was printed for as they finished.
  const linesPrinted = new Set<string>();
  // An abandoned run's report and annotations (never ok): the versions selected so far, as the ledger saw them.
  const reportAbandoned = async (sides: { from: string; to: string }): Promise<void> => {
    const abandoned = abandonedCopyReport(ledger.state(), selected, sides, startedAt);
    if (json) writeLine(ctx.io.stdout, JSON.stringify(copyReportJson(abandoned), null, 2));
    else if (jsonLines) {
      for (const r of abandoned.results) if (!linesPrinted.has(`${r.name}:${r.version}`)) writeLine(ctx.io.stdout, JSON.stringify({ type: 'result', ...r }));
      writeLine(ctx.io.stdout, JSON.stringify({ type: 'summary', operation: 'copy', from: abandoned.from, to: abandoned.to, summary: abandoned.summary, durationMs: abandoned.durationMs, aborted: true }));
    }
    if (ctx.io.env['GITHUB_ACTIONS'] === 'true') {
      const { copyAnnotations } = await import('../ci-output/github.js');
      for (const line of copyAnnotations(abandoned)) writeLine(ctx.io.stderr, line);
    }
  };
  try {
    // Opening the sides (a registry that does not answer is probed up to --retry-deadline) writes nothing: a signal
    // ends the run at once, with its report (no version selected yet); it said "SIGINT: interrupted" alone.
    const { targetDisplay } = await import('../../targets/open.js');
    const sides = { from: targetDisplay(fromOptions), to: targetDisplay(toOptions) };
    const [source, destination] = await stopAtOnce(
      ctx,
      'while the source and destination were opened',
      async () => {
        const opened = (from = await openTarget(fromOptions));
        opened.flags = await sideHintFlags(args, ctx, 'from');
        return [opened, (to = await openTarget(toOptions))] as const;
      },
      { abandonNote: 'nothing was copied', clearStatus: () => renderer?.stop(), onAbandon: () => reportAbandoned(sides) },
    );
    const report = await withInterrupt(
      ctx,
      (signal) =>
      copyPacks(source, destination, {
        ...(name === undefined ? {} : { name }),
        ...(version === undefined ? {} : { version }),
        all,
        force: args['force'] === true,
        skipExisting: args['skipExisting'] === true,
        dryRun: args['dryRun'] === true,
        failFast: args['failFast'] === true,
        ...(args['concurrency'] === undefined ? {} : { concurrency: args['concurrency'] as number }),
        ...(fromOptions.retry?.initialDelayMs === undefined ? {} : { rereadDelayMs: fromOptions.retry.initialDelayMs }),
        signal,
        onEvent: (event) => {
          if (event.type === 'selected') {
            ledger.total = event.total;
            selected = event.versions;
          }
          ledger.onEvent(event);
          renderer?.onEvent(event);
          if (jsonLines && event.type === 'pack-done') {
            linesPrinted.add(`${event.result.name}:${event.result.version}`);
            writeLine(ctx.io.stdout, JSON.stringify({ type: 'result', ...event.result }));
          }
        },
      }),
      {
        ledger,
        clearStatus: () => renderer?.stop(),
        // Abandoned after the grace period: the machine report and the annotations still say what happened (never ok).
        onAbandon: () => reportAbandoned({ from: source.display, to: destination.display }),
      },
    );
    // --all: packs whose repository the source lists but whose tag list answers 404 (none of their versions copied).
    const notServed = report.tagsNotServed === undefined ? {} : { tagsNotServed: report.tagsNotServed };
    if (json) writeLine(ctx.io.stdout, JSON.stringify({ ...copyReportJson(report), ...notServed }, null, 2));
    else if (jsonLines) {
      writeLine(
        ctx.io.stdout,
        JSON.stringify({ type: 'summary', operation: 'copy', from: report.from, to: report.to, summary: report.summary, durationMs: report.durationMs, aborted: report.aborted, ...notServed }),
      );
    } else renderer?.finish(report);
    for (const p of report.tagsNotServed ?? []) writeLine(ctx.io.stderr, tagsNotServedNote(p.name, source.store.location, 'copy'));
    // The machine formats carry them in each result; a person reading the job log sees them too.
    if (renderer === undefined) {
      for (const r of report.results) {
        const failure = copyFailureLine(r) ?? copyNotPackLine(r);
        if (failure !== undefined) writeLine(ctx.io.stderr, failure);
        for (const line of resultWarningLines(`${r.name}:${r.version}`, r.destination, r.warnings)) writeLine(ctx.io.stderr, line);
      }
    }
    // In GitHub Actions, what failed is an annotation, as push's failures are (the log alone had it).
    if (ctx.io.env['GITHUB_ACTIONS'] === 'true') {
      const { copyAnnotations } = await import('../ci-output/github.js');
      for (const line of copyAnnotations(report)) writeLine(ctx.io.stderr, line);
    }
    if (report.aborted && ctx.interrupted === true) return EXIT_INTERRUPTED;
    return copySucceeded(report) ? EXIT_OK : EXIT_FAILURE;
  } finally {
    await from?.store.close();
    await to?.store.close();
  }
  },
};
