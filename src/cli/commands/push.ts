import { PackpubError } from '../../errors.js';
import type { PackTarget } from '../../targets/open.js';
import { configFlags } from '../config-flags.js';
import type { CommandSpec } from '../context.js';
import { EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, writeLine } from '../io.js';
import { targetFlags } from '../target-flags.js';

export const pushCommand: CommandSpec = {
  command: 'push [packs...]',
  describe: 'Validate, build and publish packs (default target: the local OCI layout ./oci-packs)',
  builder: (y) =>
    configFlags(targetFlags(y))
      .positional('packs', {
        type: 'string',
        array: true,
        describe: 'Pack folders, globs, or roots searched with --recursive (default: `packs` of packpub.yaml)',
      })
      .option('recursive', { type: 'boolean', describe: 'Publish every folder holding a pack.json below the given roots' })
      .option('force', { type: 'boolean', describe: 'Replace a version that holds different content (Palette caches digests: avoid)' })
      .option('skip-existing', { type: 'boolean', describe: 'Keep a version that holds different content and report it as skipped' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'Print the plan (new / unchanged / conflict, bytes to upload); write nothing' })
      .option('strict', { type: 'boolean', describe: 'Validation warnings fail too' })
      .option('continue-on-error', { type: 'boolean', describe: 'Push the valid packs even when others are invalid' })
      .option('fail-fast', { type: 'boolean', describe: 'Stop starting new packs after the first failure' })
      .option('concurrency', { type: 'number', describe: 'Packs built and uploaded at once (default: four per core, 4 to 16)' })
      .option('shard', { type: 'string', describe: 'I/N: publish only shard I of N of the sorted packs (CI matrices)' })
      .option('tag', { type: 'string', array: true, describe: 'Extra tag for every pushed pack, besides its version (repeatable)' })
      .option('cache', {
        type: 'boolean',
        default: true,
        describe: 'Remember archive digests so unchanged packs skip compression (--no-cache to turn off; dir: PACKPUB_CACHE_DIR, else ~/.cache/packpub)',
      })
      .option('json', { type: 'boolean', describe: 'Print one JSON report on stdout (docs/report.md)' })
      .option('json-lines', { type: 'boolean', describe: 'Print one JSON line per pack result, then a summary line' })
      .example('$0 push examples/hello-manifests', 'Publish to ./oci-packs')
      .example(
        '$0 push packs/ --recursive --registry harbor.example.com/spectro-oci-registry -u \'robot$proj+ci\' --password-stdin',
        'Publish a tree to Harbor',
      )
      .example('$0 push --target prod --target ecr', 'Publish the packs named in packpub.yaml to two targets'),
  run: async (args, ctx) => {
    const [
      { defaultCacheDir },
      { discoverPacks },
      { pushPacks },
      { pushSucceeded, summarize },
      { openTarget },
      { PushRenderer },
      { reportJson },
      { configuredPackRoots, configuredRunDefaults, resolveTargetOptions },
      { withInterrupt },
    ] = await Promise.all([
      import('../../operations/archive-cache.js'),
      import('../../operations/discover.js'),
      import('../../operations/push.js'),
      import('../../operations/push-report.js'),
      import('../../targets/open.js'),
      import('../render.js'),
      import('../report.js'),
      import('../target-options.js'),
      import('../signals.js'),
    ]);
    const json = args['json'] === true;
    const jsonLines = args['jsonLines'] === true;
    if (json && jsonLines) throw new PackpubError('USAGE', '--json and --json-lines contradict each other: choose one');
    // Checked on the raw flags: configuredRunDefaults lets --force beat a file's skipExisting.
    if (args['force'] === true && args['skipExisting'] === true) {
      throw new PackpubError('USAGE', '--force and --skip-existing contradict each other: choose one');
    }
    const run = await configuredRunDefaults(args, ctx);
    const roots = await configuredPackRoots(args, ctx);
    if (roots.packs.length === 0) {
      throw new PackpubError('USAGE', 'no packs given', { hint: 'name pack folders (or roots with --recursive), or list them under `packs:` in packpub.yaml' });
    }
    const packs = await discoverPacks(roots.packs, {
      recursive: roots.recursive,
      ...(args['shard'] === undefined ? {} : { shard: args['shard'] as string }),
      cwd: ctx.io.cwd,
    });
    const targetOptions = await resolveTargetOptions(args, ctx);
    const targets: PackTarget[] = [];
    try {
      for (const options of targetOptions) targets.push(await openTarget(options));
      const display = targets.map((t) => t.display).join(', ');
      if (packs.length === 0) {
        // An empty shard is not an error: a matrix may have more jobs than packs.
        const empty = { target: display, results: [], summary: summarize([]), durationMs: 0, aborted: false };
        if (json) writeLine(ctx.io.stdout, JSON.stringify(reportJson(empty), null, 2));
        else if (jsonLines) writeLine(ctx.io.stdout, JSON.stringify({ type: 'summary', target: display, summary: empty.summary, durationMs: 0, aborted: false }));
        else writeLine(ctx.io.stderr, `nothing to push${args['shard'] === undefined ? '' : ` in shard ${String(args['shard'])}`}`);
        return EXIT_OK;
      }
      const renderer = json || jsonLines ? undefined : new PushRenderer(ctx.io, packs.length * targets.length);
      const report = await withInterrupt(ctx, (signal) =>
        pushPacks(targets, {
          packs,
          force: args['force'] === true,
          skipExisting: run.skipExisting,
          dryRun: args['dryRun'] === true,
          strict: run.strict,
          continueOnError: run.continueOnError,
          failFast: run.failFast,
          ...(run.concurrency === undefined ? {} : { concurrency: run.concurrency }),
          ...(args['tag'] === undefined ? {} : { extraTags: (args['tag'] as string[]).map(String) }),
          env: ctx.io.env,
          ...(args['cache'] === false ? {} : { cacheDir: defaultCacheDir(ctx.io.env) }),
          signal,
          onEvent: (event) => {
            renderer?.onEvent(event);
            if (jsonLines && event.type === 'pack-done') writeLine(ctx.io.stdout, JSON.stringify({ type: 'result', ...event.result }));
          },
        }),
      );
      if (json) writeLine(ctx.io.stdout, JSON.stringify(reportJson(report), null, 2));
      else if (jsonLines) {
        // Packs that never started (invalid, or held back) had no pack-done event.
        for (const r of report.results) if (r.durationMs === 0 && (r.status === 'invalid' || r.status === 'failed')) writeLine(ctx.io.stdout, JSON.stringify({ type: 'result', ...r }));
        writeLine(ctx.io.stdout, JSON.stringify({ type: 'summary', target: report.target, summary: report.summary, durationMs: report.durationMs, aborted: report.aborted }));
      } else renderer?.finish(report);
      if (report.aborted && ctx.interrupted === true) return EXIT_INTERRUPTED;
      return pushSucceeded(report) ? EXIT_OK : EXIT_FAILURE;
    } finally {
      for (const target of targets) await target.store.close();
    }
  },
};
