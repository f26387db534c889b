import { PackpubError } from '../../errors.js';
import type { CommandSpec } from '../context.js';
import { EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, writeLine } from '../io.js';
import { targetFlags } from '../target-flags.js';

export const pushCommand: CommandSpec = {
  command: 'push <packs...>',
  describe: 'Validate, build and publish packs (default target: the local OCI layout ./oci-packs)',
  builder: (y) =>
    targetFlags(y)
      .positional('packs', { type: 'string', array: true, describe: 'Pack folders, globs, or roots searched with --recursive' })
      .option('recursive', { type: 'boolean', default: false, describe: 'Publish every folder holding a pack.json below the given roots' })
      .option('force', { type: 'boolean', default: false, describe: 'Replace a version that holds different content (Palette caches digests: avoid)' })
      .option('skip-existing', { type: 'boolean', default: false, describe: 'Keep a version that holds different content and report it as skipped' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'Print the plan (new / unchanged / conflict, bytes to upload); write nothing' })
      .option('strict', { type: 'boolean', default: false, describe: 'Validation warnings fail too' })
      .option('continue-on-error', { type: 'boolean', default: false, describe: 'Push the valid packs even when others are invalid' })
      .option('fail-fast', { type: 'boolean', default: false, describe: 'Stop starting new packs after the first failure' })
      .option('concurrency', { type: 'number', describe: 'Packs built and uploaded at once (default: the number of cores, 2 to 8)' })
      .option('shard', { type: 'string', describe: 'I/N: publish only shard I of N of the sorted packs (CI matrices)' })
      .option('tag', { type: 'string', array: true, describe: 'Extra tag for every pushed pack, besides its version (repeatable)' })
      .option('cache', {
        type: 'boolean',
        default: true,
        describe: 'Remember archive digests so unchanged packs skip compression (--no-cache to turn off; dir: PACKPUB_CACHE_DIR, else ~/.cache/packpub)',
      })
      .option('json', { type: 'boolean', default: false, describe: 'Print one JSON report on stdout' })
      .option('json-lines', { type: 'boolean', default: false, describe: 'Print one JSON line per pack result, then a summary line' })
      .example('$0 push examples/hello-manifests', 'Publish to ./oci-packs')
      .example('$0 push packs/ --recursive --registry harbor.example.com/spectro-oci-registry -u "robot\\$proj+ci" --password-stdin', 'Publish a tree to Harbor'),
  run: async (args, ctx) => {
    const [{ defaultCacheDir }, { discoverPacks }, { pushPacks }, { pushSucceeded }, { openTarget }, { PushRenderer }, { reportJson }, { targetOptionsFromArgs }, { withInterrupt }] =
      await Promise.all([
        import('../../operations/archive-cache.js'),
        import('../../operations/discover.js'),
        import('../../operations/push.js'),
        import('../../operations/types.js'),
        import('../../targets/open.js'),
        import('../render.js'),
        import('../report.js'),
        import('../target-flags.js'),
        import('../signals.js'),
      ]);
    if (args['force'] === true && args['skipExisting'] === true) {
      throw new PackpubError('USAGE', '--force and --skip-existing contradict each other: choose one');
    }
    const packs = await discoverPacks(args['packs'] as string[], {
      recursive: args['recursive'] === true,
      ...(args['shard'] === undefined ? {} : { shard: args['shard'] as string }),
      cwd: ctx.io.cwd,
    });
    const target = await openTarget(await targetOptionsFromArgs(args, ctx));
    const json = args['json'] === true;
    const jsonLines = args['jsonLines'] === true;
    if (json && jsonLines) throw new PackpubError('USAGE', '--json and --json-lines contradict each other: choose one');
    const renderer = json || jsonLines ? undefined : new PushRenderer(ctx.io, packs.length);
    try {
      if (packs.length === 0) {
        writeLine(ctx.io.stderr, `nothing to push${args['shard'] === undefined ? '' : ` in shard ${String(args['shard'])}`}`);
        return EXIT_OK;
      }
      const report = await withInterrupt(ctx, (signal) =>
        pushPacks(target, {
          packs,
          force: args['force'] === true,
          skipExisting: args['skipExisting'] === true,
          dryRun: args['dryRun'] === true,
          strict: args['strict'] === true,
          continueOnError: args['continueOnError'] === true,
          failFast: args['failFast'] === true,
          ...(args['concurrency'] === undefined ? {} : { concurrency: args['concurrency'] as number }),
          ...(args['tag'] === undefined ? {} : { extraTags: args['tag'] as string[] }),
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
        for (const r of report.results) if (r.status === 'invalid' || (r.status === 'failed' && r.durationMs === 0)) writeLine(ctx.io.stdout, JSON.stringify({ type: 'result', ...r }));
        writeLine(ctx.io.stdout, JSON.stringify({ type: 'summary', target: report.target, summary: report.summary, durationMs: report.durationMs, aborted: report.aborted }));
      } else renderer?.finish(report);
      if (report.aborted && ctx.interrupted) return EXIT_INTERRUPTED;
      return pushSucceeded(report) ? EXIT_OK : EXIT_FAILURE;
    } finally {
      await target.store.close();
    }
  },
};
