import { resolve } from 'node:path';
import { isPackpubError, PackpubError } from '../../errors.js';
import type { PackResult } from '../../operations/push-report.js';
import type { Finding } from '../../pack/findings.js';
import type { OpenTargetOptions, PackTarget } from '../../targets/open.js';
import { DEFAULT_OCI_LAYOUT } from '../../targets/options.js';
import type { Args, CliContext, CommandSpec } from '../context.js';
import type { PushRenderer } from '../render.js';
import type { RunLedger as Ledger } from '../signals.js';
import { ANNOTATED, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_NOT_VISIBLE, EXIT_OK, renderError, userPath, writeLine } from '../io.js';
import { PALETTE_GROUP, paletteFlags, refusePaletteFlagsWithoutSync } from '../palette-flags.js';
import { declareFlags, declareOwnFlags, numberFlag, PUSH_GROUPS, type OwnFlags } from '../target-flags.js';

const PUSH_FLAGS: OwnFlags = {
  positionals: {
    packs: {
      type: 'string',
      array: true,
      describe: 'Pack folders, globs, or roots searched with --recursive (default: `packs` of packpub.yaml)',
    },
  },
  options: {
    recursive: { type: 'boolean', describe: 'Publish every folder holding a pack.json below the given roots (symbolic links to folders are not followed; node_modules, oci-packs and folders whose name starts with "." are not searched)' },
    force: { type: 'boolean', describe: 'Replace a version that holds different content (Palette caches digests: avoid); of a version found unchanged, send again the blobs the registry lost and read the others whole' },
    'skip-existing': { type: 'boolean', describe: 'Keep a version that holds different content and report it as skipped' },
    'dry-run': { type: 'boolean', default: false, describe: 'Print the plan (new / unchanged / conflict, bytes to upload), with the refusals the real run would meet (Harbor read-only mode or no push permission, an immutable tag, ECR settings); write nothing to the target' },
    strict: { type: 'boolean', describe: 'Validation warnings fail too' },
    'continue-on-error': {
      type: 'boolean',
      describe: 'Publish the packs that pass even when others are invalid or (--check-images) name a missing image; the exit code is still 1',
    },
    'fail-fast': { type: 'boolean', describe: 'Stop starting new packs after the first failure' },
    concurrency: numberFlag('Packs built and uploaded at once, 1 to 64 (default: four per core, 4 to 16)'),
    shard: { type: 'string', describe: 'I/N: publish only shard I of N of the sorted packs (CI matrices); two folders of one name:version stop every shard, an invalid pack only its own (the others publish: validate the tree first)' },
    tag: { type: 'string', array: true, describe: 'Extra tag for every pushed pack, besides its version (repeatable); one that reads as another version is refused, and so is a run (or a sharded tree) holding two versions of one pack' },
    'allow-other-version': {
      type: 'boolean',
      describe: "Let a --tag read as a version other than a pack's pack.json version (e.g. 1.0.0-ci.7 on 1.0.0): Palette lists it as that version; one already holding other content moves only with --force",
    },
    annotation: {
      alias: 'a',
      type: 'string',
      array: true,
      describe: 'Manifest annotation KEY=VALUE for every pack published (repeatable), e.g. org.opencontainers.image.revision=$GITHUB_SHA',
    },
    'annotation-file': { type: 'string', describe: 'JSON file of manifest annotations, as ORAS: {"$manifest": {"KEY": "VALUE"}}' },
    cache: {
      type: 'boolean',
      default: true,
      describe:
        'Remember archive digests, validation verdicts and the manifest each tag held, so unchanged packs skip validation and compression and the registry only confirms their manifests; the folder also keeps the compiled code of packpub itself (--no-cache: the folder is neither read nor written; dir: PACKPUB_CACHE_DIR, else $XDG_CACHE_HOME/packpub when absolute, else ~/.cache/packpub)',
    },
    'palette-sync': {
      type: 'boolean',
      group: PALETTE_GROUP,
      describe:
        'After publishing, sync the Palette registry serving each target and wait until Palette lists every pack (exit 3 when one stays invisible); that registry is found before anything is published (none, several, a key refused, its sync off or a --palette-project that cannot show its packs: nothing is published); with --dry-run, only check the key, the registry, that its sync is on and the project (nothing is synced)',
    },
    junit: { type: 'string', describe: 'Also write a JUnit XML report to FILE (one test case per pack and target; a run refused or stopped before its report: one error case saying why). Its folder must exist' },
  },
  examples: [
    ['$0 push examples/hello-manifests', 'Publish to ./oci-packs'],
    ['$0 push packs/ --recursive --registry harbor.example.com/spectro-oci-registry -u \'robot$proj+ci\' --password-stdin', 'Publish a tree to Harbor'],
    ['$0 push --target prod --target ecr', 'Publish the packs named in packpub.yaml to two targets'],
    ['$0 push packs/ --recursive --target prod --palette-sync', 'Publish, then wait until Palette lists every pack (SPECTROCLOUD_APIKEY)'],
  ],
};

export const pushCommand: CommandSpec = {
  command: 'push [packs...]',
  describe: 'Validate, build and publish packs (default target: the local OCI layout ./oci-packs)',
  // The Palette group before push's own --palette-sync.
  builder: (y) => declareOwnFlags(paletteFlags(declareFlags(y, PUSH_GROUPS, {}, true)), PUSH_FLAGS),
  run: async (args, ctx) => {
    const json = args['json'] === true;
    const jsonLines = args['jsonLines'] === true;
    // --force with --skip-existing and --json with --json-lines were refused on the raw flags (prepareArgs):
    // configuredRunDefaults lets --force beat a file's skipExisting.
    // On a terminal, progress shows from the first moment (finding packs, probing the registry,
    // validating, building, uploading), before the heavier modules are even loaded.
    const { PushRenderer } = await import('../render.js');
    const renderer = json || jsonLines ? undefined : new PushRenderer(ctx.io);
    renderer?.phase('starting');
    const started = new Date();
    try {
      return await runPush(args, ctx, renderer);
    } catch (err) {
      renderer?.stop();
      // A run refused (exit 2) or ended by an error before its reports: --junit and the job summary say why.
      await (await import('../ci-output/index.js')).reportRefusal(ctx.io, 'push', err instanceof Error && JUNIT_IN_PACK.has(err) ? undefined : args['junit'], err, started);
      throw err;
    }
  },
};

/** Refusals of a --junit file inside a pack folder being pushed, which get no JUnit report there. */
const JUNIT_IN_PACK = new WeakSet<object>();

/**
 * An OCI layout target inside a pack folder being pushed (`cd pack && packpub push .` with the default ./oci-packs):
 * the walk archived it, so the next push of the unchanged pack was a conflict and --force published the layout
 * inside the pack, one more level each time (review s21 F7). Refused before anything runs, unless the pack's
 * .packignore leaves the folder out.
 */
async function refuseLayoutInPack(packs: readonly string[], targetOptions: readonly OpenTargetOptions[], cwd: string, junit: string | undefined): Promise<void> {
  const layouts = targetOptions.filter((o) => o.registry === undefined).map((o) => ({ path: resolve(cwd, o.ociLayout ?? DEFAULT_OCI_LAYOUT), what: 'the OCI layout', fix: 'give --oci-layout a folder outside the pack (or run from the folder above it)' }));
  // --junit in the pack folder (`cd pack && packpub push . --junit junit.xml`): its placeholder, written before the
  // packs are built, was published inside the pack (exit 0), and the next push of the unchanged pack was a CONFLICT.
  const report = junit === undefined ? [] : [{ path: resolve(cwd, junit), what: 'the JUnit report', fix: 'give --junit a path outside the pack (e.g. ../junit.xml)', file: true }];
  const found = await (await import('../own-files.js')).firstPlaceInPacks(packs, [...layouts, ...report], 'push');
  if (found === undefined) return;
  if (found.place.file === true) {
    // Its refusal is not written there either, and the placeholder checkJunitPath put there is taken back: the
    // next push would archive either.
    JUNIT_IN_PACK.add(found.refusal);
    const { readFile, rm } = await import('node:fs/promises');
    if ((await readFile(found.place.path, 'utf8').catch(() => '')).includes('type="UNFINISHED"')) await rm(found.place.path, { force: true });
  }
  throw found.refusal;
}

async function runPush(args: Args, ctx: CliContext, renderer: PushRenderer | undefined): Promise<number> {
  const [
    { defaultCacheDir },
    { discoverPacks },
    { pushPacks },
    { pushSucceeded, summarize },
    { openTarget, targetDisplay },
    { reportJson },
    { configuredPackRoots, configuredRunDefaults, resolveTargetOptions },
    { withInterrupt, withAbandonReports, stopAtOnce, RunLedger },
    { writeCiOutputs, checkJunitPath, abandonedReport },
    { PortChecksAhead },
    { useBlockingReads },
  ] = await Promise.all([
    import('../../operations/archive-cache.js'),
    import('../../operations/discover.js'),
    import('../../operations/push.js'),
    import('../../operations/push-report.js'),
    import('../../targets/open.js'),
    import('../report.js'),
    import('../target-options.js'),
    import('../signals.js'),
    import('../ci-output/index.js'),
    import('../../operations/precheck.js'),
    import('../../pack/read-flavour.js'),
  ]);
  // Packs too little work for the validation workers (validate-pool.ts) are validated and built on this thread: their
  // files read with blocking calls, as validate's and the workers' are, at far less CPU than thread-pool round trips
  // (~20 awaited calls a small pack; a small push into an OCI layout ~9.2 -> ~7.9 ms of CPU). Packs worth workers are
  // read there, and this thread's uploads wait on no read longer than a small pack's files.
  useBlockingReads();
  const started = new Date();
  const json = args['json'] === true;
  const jsonLines = args['jsonLines'] === true;
  const junit = args['junit'] === undefined ? undefined : String(args['junit']);
  if (junit !== undefined) await checkJunitPath(ctx.io, junit);
  renderer?.phase('finding packs');
  const run = await configuredRunDefaults(args, ctx);
  const { parseAnnotations } = await import('../annotations.js');
  const annotations = await parseAnnotations(args['annotation'], args['annotationFile'], ctx.io);
  const roots = await configuredPackRoots(args, ctx);
  if (roots.packs.length === 0) {
    throw new PackpubError('USAGE', 'no packs given', { hint: 'name pack folders (or roots with --recursive), or list them under `packs:` in packpub.yaml' });
  }
  const packs = await discoverPacks(roots.packs, {
    recursive: roots.recursive,
    ...(args['shard'] === undefined ? {} : { shard: args['shard'] as string }),
    ...(args['tag'] === undefined ? {} : { extraTags: (args['tag'] as string[]).map(String) }),
    cwd: ctx.io.cwd,
  });
  // A push to a registry needs perf_hooks, whose event-loop idle time paces the early look-ups
  // (operations/lookup-pace.ts), and node:net (undici's connections): loaded now, before bin/packpub.js sets its
  // V8 flags, they come from Node's code cache; loaded after, they and the modules they load were compiled from
  // their source (issue 16). (Node's HTTP module is not loaded at all: scripts/build-cli.mjs, registry/http.ts
  // defaultHeaderLimit.)
  if (ctx.beforeNetwork !== undefined && args['ociLayout'] === undefined) for (const id of ['node:perf_hooks', 'node:net'] as const) process.getBuiltinModule(id);
  ctx.beforeNetwork?.();
  // With --dry-run, --palette-sync still checks Palette (reads only) and says it did not sync.
  const paletteSync = args['paletteSync'] === true;
  refusePaletteFlagsWithoutSync(args);
  const palette = paletteSync ? await import('../palette-options.js') : undefined;
  const targetOptions = await resolveTargetOptions(args, ctx);
  await refuseLayoutInPack(packs, targetOptions, ctx.io.cwd, junit === undefined ? undefined : userPath(ctx.io, junit));
  // packpub's own cache folder and Docker config inside a pack folder (HOME the checkout that is the pack).
  const registryConfigs = targetOptions.flatMap((o) => (o.registryConfig === undefined ? [] : [o.registryConfig]));
  const temp = (await import('../../operations/work-dir.js')).workParent(ctx.io.env);
  await (await import('../own-files.js')).refuseOwnFilesInPacks(packs, { cwd: ctx.io.cwd, env: ctx.io.env, registryConfigs, io: ctx.io, temp }, { dir: defaultCacheDir(ctx.io.env), written: args['cache'] !== false }, 'push');
  // --json-lines: the packs and targets a result line was printed for as it finished (dir NUL target).
  const linesPrinted = new Set<string>();
  // An abandoned run's reports (--json, --json-lines, the CI outputs), saying interrupted: `ledger`'s packs as it saw
  // them, after `before` (the packs --check-images refused).
  const reportAbandoned = (ledger: Ledger<PackResult>, before: PackResult[], shown: (r: PackResult) => PackResult, targetNames: string[], lines: string[]): Promise<void> => {
    const abandoned = abandonedReport(ledger.state(), started);
    const results = [...before, ...abandoned.results].map(shown);
    const report = { ...abandoned, results, summary: summarize(results) };
    if (json) writeLine(ctx.io.stdout, JSON.stringify(reportJson(report), null, 2));
    else if (jsonLines) {
      for (const r of results) if (!linesPrinted.has(`${r.dir}\0${r.target}`)) writeLine(ctx.io.stdout, JSON.stringify({ type: 'result', ...r }));
      writeLine(ctx.io.stdout, JSON.stringify({ type: 'summary', target: report.target, summary: report.summary, durationMs: report.durationMs, aborted: true }));
    }
    return writeCiOutputs(ctx.io, report, { machine: json || jsonLines, ...(junit === undefined ? {} : { junit }), targets: targetNames, started, interrupted: lines, abandoned: true });
  };
  // Until the first pack starts (Palette's key checked, the targets opened: a registry that does not answer is
  // probed up to --retry-deadline; --check-images), a signal ends the run at once, every pack reported not started.
  const waiting = new RunLedger<PackResult>();
  const targetNames = targetOptions.map(targetDisplay);
  waiting.expect(packs, targetNames);
  const beforeFirstPack = <T>(fn: () => Promise<T>): Promise<T> =>
    stopAtOnce(ctx, 'before the first pack started', fn, {
      ledger: waiting,
      abandonNote: 'nothing was published',
      clearStatus: () => renderer?.stop(),
      onAbandon: (lines) => reportAbandoned(waiting, [], (r) => r, targetNames, lines),
    });
  // Checked before anything is published: registry targets with a base path, a Palette API key, and (reads only) the
  // one Palette registry serving each target, which the sync then uses (palette-run.ts, palettePreflight).
  const paletteTargets =
    palette === undefined
      ? []
      : await beforeFirstPack(async () =>
          (await import('../palette-run.js')).palettePreflight(args, ctx, await palette.paletteTargetsOf(args, ctx, targetOptions), packs.length > 0),
        );
  const targets: PackTarget[] = [];
  try {
    await beforeFirstPack(async () => {
      for (const options of targetOptions) {
        renderer?.phase(options.registry === undefined ? 'opening the OCI layout' : `probing ${options.registry}`);
        targets.push(await openTarget(options));
      }
    });
    const display = targets.map((t) => t.display).join(', ');
    const ciOutputs = { machine: json || jsonLines, ...(junit === undefined ? {} : { junit }), targets: targets.map((t) => t.display), started };
    if (packs.length === 0) {
      // An empty shard is not an error: a matrix may have more jobs than packs.
      const empty = { target: display, results: [], summary: summarize([]), durationMs: 0, aborted: false };
      renderer?.phase('');
      if (json) writeLine(ctx.io.stdout, JSON.stringify(reportJson(empty), null, 2));
      else if (jsonLines) writeLine(ctx.io.stdout, JSON.stringify({ type: 'summary', target: display, summary: empty.summary, durationMs: 0, aborted: false }));
      else writeLine(ctx.io.stderr, `nothing to push${args['shard'] === undefined ? '' : ` in shard ${String(args['shard'])}`}`);
      await writeCiOutputs(ctx.io, empty, ciOutputs);
      return EXIT_OK;
    }
    // --check-images: each pack's image findings, for the report (the `info` notes of a run that goes on).
    const imageFindings = new Map<string, Finding[]>();
    let withImages = (r: PackResult): PackResult => r;
    // --continue-on-error with --check-images: the packs naming a missing image, refused; the others go on.
    let imageRefused: PackResult[] = [];
    let toPush = packs;
    if (args['checkImages'] === true) {
      // Before anything is published: a pack naming an image that does not exist is refused.
      renderer?.phase('checking images');
      const { ImageChecker, imageRefusalReport, targetRegistries, withImageFindings } = await import('../../operations/check-images.js');
      const { formatFinding } = await import('./validate.js');
      // Images on a target's own registry are checked with that target's credentials (and only there).
      const checker = new ImageChecker({ env: ctx.io.env, registries: targetRegistries(targetOptions) });
      let missing = 0;
      await beforeFirstPack(async () => {
        try {
          for (const pack of packs) {
            const found = await checker.findings(pack);
            if (found.length === 0) continue;
            imageFindings.set(pack, found);
            renderer?.phase('');
            writeLine(ctx.io.stderr, `${pack}:`);
            for (const f of found) writeLine(ctx.io.stderr, formatFinding(f));
            missing += found.filter((f) => f.severity === 'error').length;
          }
        } finally {
          await checker.close();
        }
      });
      const culprits = packs.filter((dir) => imageFindings.get(dir)?.some((f) => f.severity === 'error') === true);
      if (missing > 0 && run.continueOnError && culprits.length < packs.length) {
        // What --continue-on-error promises: the packs that pass are published, the others are reported failed.
        toPush = packs.filter((dir) => !culprits.includes(dir));
        imageRefused = (await imageRefusalReport(culprits, imageFindings, targets, 0)).results;
        renderer?.phase('');
        writeLine(
          ctx.io.stderr,
          `packpub: ${missing} image${missing === 1 ? '' : 's'} not found; ${culprits.length} pack${culprits.length === 1 ? '' : 's'} naming ${missing === 1 ? 'it' : 'them'} not published (--continue-on-error: publishing the other ${toPush.length})`,
        );
      } else if (missing > 0) {
        renderer?.stop();
        writeLine(ctx.io.stderr, `packpub: ${missing} image${missing === 1 ? '' : 's'} not found; nothing was published`);
        // The machine outputs say so too: every pack failed with IMAGE_NOT_FOUND and its findings.
        const refused = await imageRefusalReport(packs, imageFindings, targets, Date.now() - started.getTime());
        if (json) writeLine(ctx.io.stdout, JSON.stringify(reportJson(refused), null, 2));
        else if (jsonLines) {
          for (const r of refused.results) writeLine(ctx.io.stdout, JSON.stringify({ type: 'result', ...r }));
          writeLine(ctx.io.stdout, JSON.stringify({ type: 'summary', target: refused.target, summary: refused.summary, durationMs: refused.durationMs, aborted: false }));
        }
        await writeCiOutputs(ctx.io, refused, ciOutputs);
        return EXIT_FAILURE;
      }
      if (imageFindings.size > 0) withImages = (r) => withImageFindings(r, imageFindings);
    }
    renderer?.expect(toPush.length, targets.length);
    renderer?.phase(`validating ${toPush.length} pack${toPush.length === 1 ? '' : 's'}`);
    const ledger = new RunLedger<PackResult>();
    ledger.expect(toPush, targets.map((t) => t.display));
    const pushed = await withInterrupt(
      ctx,
      (signal) =>
      pushPacks(targets, {
        packs: toPush,
        force: args['force'] === true,
        skipExisting: run.skipExisting,
        dryRun: args['dryRun'] === true,
        strict: run.strict,
        continueOnError: run.continueOnError,
        failFast: run.failFast,
        ...(run.concurrency === undefined ? {} : { concurrency: run.concurrency }),
        ...(args['tag'] === undefined ? {} : { extraTags: (args['tag'] as string[]).map(String) }),
        ...(args['allowOtherVersion'] === true ? { allowOtherVersion: true } : {}),
        ...(annotations === undefined ? {} : { annotations }),
        env: ctx.io.env,
        ...(args['cache'] === false ? {} : { cacheDir: defaultCacheDir(ctx.io.env) }),
        ...(args['cache'] === false || ctx.checksAhead === undefined ? {} : { checksAhead: new PortChecksAhead(ctx.checksAhead) }),
        signal,
        onEvent: (event) => {
          ledger.onEvent(event);
          renderer?.onEvent(event);
          if (jsonLines && event.type === 'pack-done') {
            linesPrinted.add(`${event.result.dir}\0${event.result.target}`);
            writeLine(ctx.io.stdout, JSON.stringify({ type: 'result', ...withImages(event.result) }));
          }
        },
      }),
      {
        ledger,
        clearStatus: () => renderer?.stop(),
        // Abandoned after the grace period: the reports still say what happened, as interrupted (`ok` false).
        onAbandon: (lines) => reportAbandoned(ledger, imageRefused, withImages, ciOutputs.targets, lines),
      },
    );
    // The packs --check-images refused are part of the run's outcome: in every report, and in the exit code.
    const report = imageRefused.length === 0 ? pushed : { ...pushed, results: [...imageRefused, ...pushed.results], summary: summarize([...imageRefused, ...pushed.results]) };
    // What machines read (report, lines, annotations, JUnit) also carries the image notes stderr showed.
    const reported = imageFindings.size === 0 ? report : { ...report, results: report.results.map(withImages) };
    // Abandoned while Palette is waited for (up to --palette-timeout): the packs are published, and the reports say
    // so, with the Palette step interrupted (its JSON `palette` an error ABORTED; never ok).
    const abandonedInPalette = (lines: string[]): Promise<void> => {
      const palette = { status: 'error' as const, error: { code: 'ABORTED', message: 'interrupted while Palette was asked: the packs above are published, their visibility in Palette not confirmed', hint: 'run packpub palette sync for them' } };
      if (json) writeLine(ctx.io.stdout, JSON.stringify({ ...reportJson(reported), palette, ok: false }, null, 2));
      else if (jsonLines) {
        writeLine(ctx.io.stdout, JSON.stringify({ type: 'palette', ...palette }));
        writeLine(ctx.io.stdout, JSON.stringify({ type: 'summary', target: report.target, summary: report.summary, durationMs: report.durationMs, aborted: true }));
      }
      return writeCiOutputs(ctx.io, reported, { ...ciOutputs, palette, interrupted: lines, abandoned: true });
    };
    // The Palette steps' module is loaded by a run with --palette-sync only (issue 16).
    const afterPush = async () =>
      paletteSync && !report.aborted
        ? withAbandonReports(ctx, abandonedInPalette, async () => (await import('../palette-run.js')).paletteAfterPush(args, ctx, targets, paletteTargets, report, json || jsonLines, args['dryRun'] === true))
        : { notVisible: false };
    // Palette's checks before publishing and its wait after are part of the run (`durationMs`: "wall time of the whole
    // run"; JUnit's `time`): a push of 20 ms and a 3 s wait for Palette said 20 ms.
    let ended: number | undefined;
    const timedAfterPush = async (): Promise<Awaited<ReturnType<typeof afterPush>>> => {
      try {
        return await afterPush();
      } finally {
        if (paletteSync) ended = Date.now();
      }
    };
    const whole = (): typeof reported => (ended === undefined ? reported : { ...reported, durationMs: Math.max(reported.durationMs, ended - started.getTime()) });
    let synced: Awaited<ReturnType<typeof afterPush>>;
    // --json: printed once the JUnit report is written, whose loss (a full disk) makes the exit code 1.
    let jsonDoc: Record<string, unknown> | undefined;
    if (json) {
      synced = await timedAfterPush();
      const doc = reportJson(whole());
      // `ok` is true exactly when the exit code is 0 (docs/report.md).
      const palette = 'json' in synced ? { palette: synced.json, ok: doc['ok'] === true && (synced.json?.status === 'visible' || synced.json?.status === 'dry-run') } : {};
      jsonDoc = { ...doc, ...palette };
    } else if (jsonLines) {
      // Packs that never started (invalid, or held back) had no pack-done event. One that failed at once (a
      // look-up of a remembered pack refused: durationMs 0 too) had one, and gets no second line.
      for (const r of reported.results) if (!linesPrinted.has(`${r.dir}\0${r.target}`)) writeLine(ctx.io.stdout, JSON.stringify({ type: 'result', ...r }));
      synced = await timedAfterPush();
      if ('json' in synced) writeLine(ctx.io.stdout, JSON.stringify({ type: 'palette', ...synced.json }));
      writeLine(ctx.io.stdout, JSON.stringify({ type: 'summary', target: report.target, summary: report.summary, durationMs: whole().durationMs, aborted: report.aborted }));
    } else {
      renderer?.finish(report);
      synced = await timedAfterPush();
    }
    // The push is done: a report file that cannot be written now (a full disk) fails the run (exit 1, not
    // exit 2's "nothing was attempted"), after the outcome above was told in full.
    // With --palette-sync, what Palette lists is part of the outcome (exit code 3): the CI outputs say it too.
    const palette = 'json' in synced && synced.json !== undefined ? { palette: synced.json } : {};
    // Interrupted in time (the packs in flight finished): the job summary and JUnit say interrupted too, not "failed"
    // (and never a success, also when every pack that started was published).
    // So is a Palette step the interrupt ended within its grace (palette-run.ts): the packs are published, not confirmed.
    const paletteStopped = ctx.interrupted === true && 'error' in synced && isPackpubError(synced.error, 'ABORTED');
    const interrupted =
      report.aborted && ctx.interrupted === true
        ? { interrupted: ['interrupted by SIGINT, SIGTERM or SIGHUP: the packs in flight finished, the others were not started; run again to finish'] }
        : paletteStopped
          ? { interrupted: ['interrupted by SIGINT, SIGTERM or SIGHUP while Palette was asked: the packs above are published, their visibility in Palette not confirmed; run packpub palette sync for them'] }
          : {};
    const reportLost = await writeCiOutputs(ctx.io, whole(), { ...ciOutputs, ...palette, ...interrupted }).then(
      () => false,
      (err: unknown) => {
        renderError(ctx.io, err, false);
        return true;
      },
    );
    if (jsonDoc !== undefined) writeLine(ctx.io.stdout, JSON.stringify(reportLost ? { ...jsonDoc, ok: false } : jsonDoc, null, 2));
    if ('error' in synced && synced.error !== undefined) {
      // Annotated by writeCiOutputs (paletteProblems: "Palette sync stopped: ..."), once is enough.
      if (typeof synced.error === 'object' && synced.error !== null) ANNOTATED.add(synced.error);
      throw synced.error;
    }
    if (report.aborted && ctx.interrupted === true) return EXIT_INTERRUPTED;
    if (!pushSucceeded(report) || reportLost) return EXIT_FAILURE;
    return synced.notVisible ? EXIT_NOT_VISIBLE : EXIT_OK;
  } finally {
    // A run that ends its process (bin/packpub.js) leaves the idle connections to the process's end: closing
    // a pool of them one by one came between the report and the end (issue 16). A store holds nothing else.
    if (ctx.endsProcess !== true) for (const target of targets) await target.store.close();
  }
}
