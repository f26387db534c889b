import { isPackpubError, PackpubError } from '../errors.js';
import type { PackValuesKind, PalettePackRef, PaletteRunStatus, PaletteSyncReport, PaletteTargetRef, ResolveOptions, ResolvedPaletteRegistry } from '../operations/palette.js';
import type { PaletteClient } from '../palette/client.js';
import type { PushReport } from '../operations/push-report.js';
import type { PackTarget } from '../targets/open.js';
import type { Args, CliContext } from './context.js';
import { printable, writeLine } from './io.js';
import { paletteClient, paletteRunSettings, type PaletteTarget } from './palette-options.js';
import { withInterrupt } from './signals.js';

/** What is true when a Palette wait is interrupted. */
const INTERRUPTED_NOTE = 'nothing was written to the registry; a sync Palette has started goes on without packpub, and the packs not reported above are not confirmed';

/** One target's sync: which packs to confirm and whether a version was replaced. */
export interface PaletteRunItem {
  target: PaletteTarget;
  packs: PalettePackRef[];
  force: boolean;
  /** Versions of `packs` the registry refuses to serve (a project policy), and why (PaletteSyncOptions.unreadable). */
  unreadable?: ReadonlyMap<string, string>;
  /** What each version's published values.yaml holds, asked when Palette shows it with empty values (PaletteSyncOptions.publishedValues). */
  publishedValues?: (ref: PalettePackRef, signal: AbortSignal) => Promise<PackValuesKind | undefined>;
  /** Versions of `packs` published as new to the registry by this run (PaletteSyncOptions.newVersions). */
  newVersions?: ReadonlySet<string>;
  /** Versions of `packs` this run replaced in the registry (PaletteSyncOptions.replacedVersions). */
  replacedVersions?: ReadonlySet<string>;
}

/** What `palette sync --json` prints and `push --json` adds as `palette` (docs/report.md). */
export interface PaletteRunJson {
  /** `published-not-visible` when any pack of any target is not listed by Palette (exit 3). */
  status: PaletteRunStatus;
  targets: ({ target: string } & PaletteSyncReport)[];
}

/**
 * Sync every item's Palette registry and confirm its packs; progress on stderr, one result line per pack
 * on stdout unless `quiet` (JSON modes). API errors (key rejected, no registry) are thrown. `dry-run`:
 * only read (find the registry, read its sync status) and say what a real run would sync. `after-publish`
 * (push): a wrong --palette-project leaves the packs not visible, saying why, instead of a usage error. `targets`: where
 * each target's report goes as it is done, also one a Palette error stopped (PaletteSyncStopped), which the caller
 * keeps when the error is thrown.
 */
export async function runPaletteSyncs(
  args: Args,
  ctx: CliContext,
  items: PaletteRunItem[],
  quiet: boolean,
  mode: 'sync' | 'dry-run' | 'after-publish' = 'sync',
  targets: PaletteRunJson['targets'] = [],
): Promise<PaletteRunJson> {
  const dryRun = mode === 'dry-run';
  const { syncPaletteRegistry, planPaletteSync, isNotVisible, syncNotDone, PaletteSyncStopped } = await import('../operations/palette.js');
  const out: PaletteRunJson = { status: dryRun ? 'dry-run' : 'visible', targets };
  // Every target not visible is so only because its sync failed, while Palette lists each of its packs.
  let syncFailedOnly = true;
  // Every target's Palette settings are checked before the first sync: a refusal of the second (exit 2) came after
  // the first target's sync was triggered.
  for (const item of items) await (await paletteClient(args, ctx, item.target.config, true, item.target.where))?.close();
  // palette sync of several targets: every target's Palette registry is found, and its project checked, before the first
  // sync, as push's pre-flight does before publishing. A target no registry serves (or several), or whose project cannot
  // show its packs, ended the run after the targets before it were synced.
  if (mode === 'sync' && items.length > 1) {
    const { paletteRegistryBeforeSync } = await import('../operations/palette.js');
    const found = await registriesFirst(args, ctx, items.map((item) => item.target), true, paletteRegistryBeforeSync, nothingSynced);
    items = items.map((item, i) => ({ ...item, target: found[i] ?? item.target }));
  }
  for (const item of items) {
    const where = `${item.target.ref.host}/${item.target.ref.basePath}`;
    // The registry push's pre-flight found is used as it is (not looked up again), and the key it had accepted.
    const found = item.target.registry;
    const client = await paletteClient(args, ctx, item.target.config, true, item.target.where, found !== undefined);
    if (client === undefined) continue;
    try {
      const settings = paletteRunSettings(args, item.target.config);
      const report = await withInterrupt(ctx, (signal) =>
        (dryRun ? planPaletteSync : syncPaletteRegistry)(client, item.target.ref, {
          packs: item.packs,
          force: item.force,
          ...(item.unreadable === undefined ? {} : { unreadable: item.unreadable }),
          ...(item.publishedValues === undefined ? {} : { publishedValues: item.publishedValues }),
          ...(item.newVersions === undefined ? {} : { newVersions: item.newVersions }),
          ...(item.replacedVersions === undefined ? {} : { replacedVersions: item.replacedVersions }),
          afterPublish: mode === 'after-publish',
          ...settings,
          ...(found === undefined ? {} : { registry: found }),
          signal,
          onEvent: (e) => {
            if (e.type === 'palette-registry') writeLine(ctx.io.stderr, `palette: ${where} is served by Palette registry ${printable(e.registry.name)} (${printable(e.registry.uid)}) at ${client.host}`);
            else if (e.type === 'palette-sync-started') {
              const how = e.forced ? ` with forceSync (${e.why === undefined ? 'a version was replaced' : printable(e.why)})` : '';
              writeLine(ctx.io.stderr, e.again === true ? `palette: sync asked for again${how}: the sync running when it was asked for ended, and none started after it` : `palette: sync started${how}`);
            }
            else if (e.type === 'palette-sync-waiting') writeLine(ctx.io.stderr, `palette: ${printable(e.reason)}`);
            else if (e.type === 'palette-sync-status') writeLine(ctx.io.stderr, `palette: sync status ${e.status === '' ? '(none)' : printable(e.status)}${e.message === undefined || e.message === '' ? '' : `: ${printable(e.message)}`}`);
            else if (!quiet && e.type === 'palette-pack') {
              const p = e.pack;
              writeLine(
                ctx.io.stdout,
                p.status === 'visible'
                  ? `visible in Palette ${p.name}:${p.version} (packUid ${printable(p.packUid ?? 'unknown')})`
                  : `NOT VISIBLE in Palette ${p.name}:${p.version}: ${printable(p.reason ?? 'unknown reason')}`,
              );
            }
          },
        }),
        // It writes nothing to the registry (push --palette-sync has published before it starts); what runs on is
        // Palette's: a sync it has started.
        // The wait ends on the first signal (PaletteClient.whileNotAborted gives up the call in flight): not the grace line.
        { abandonNote: INTERRUPTED_NOTE, stopsAtOnce: 'giving up the wait for Palette now, the request in flight included' },
      ).catch((err: unknown) => {
        // Stopped by a Palette error after the sync was asked for: what was confirmed by then stays in the report.
        if (err instanceof PaletteSyncStopped) out.targets.push({ target: where, ...err.report });
        // Stopped by the interrupt within its grace (a wait between polls, a values read given up): said as an
        // abandoned run is, not as "cancelled".
        if (ctx.interrupted === true && isPackpubError(err, 'ABORTED')) {
          // After a push, as its abandoned run says it (push.ts): the packs are published, their visibility not confirmed.
          throw mode === 'after-publish'
            ? new PackpubError('ABORTED', 'interrupted while Palette was asked: the packs above are published, their visibility in Palette not confirmed', { hint: 'run packpub palette sync for them' })
            : new PackpubError('ABORTED', `interrupted while Palette was asked; ${INTERRUPTED_NOTE}`, { hint: 'run packpub palette sync to confirm them' });
        }
        throw err;
      });
      out.targets.push({ target: where, ...report });
      if (dryRun) {
        const versions = report.packs.map((p) => `${p.name}:${p.version}`).join(', ');
        if (isNotVisible(report.status)) {
          out.status = 'would-not-be-visible';
          for (const p of report.packs) if (!quiet) writeLine(ctx.io.stdout, `WOULD NOT BE VISIBLE in Palette ${p.name}:${p.version}: ${printable(p.reason ?? 'unknown reason')}`);
          writeLine(ctx.io.stderr, `palette: dry run: sync is off for Palette registry ${printable(report.registry.name)}: nothing was synced`);
        } else {
          writeLine(
            ctx.io.stderr,
            `palette: dry run: would sync Palette registry ${printable(report.registry.name)}${report.forced ? ' with forceSync (a version would be replaced)' : ''} and confirm ${report.packs.length === 0 ? 'no version' : versions}; nothing was synced`,
          );
        }
      } else if (report.status !== 'visible') {
        out.status = 'published-not-visible';
        // No pack line says why: the base path holds no version, and the sync itself did not succeed.
        if (report.packs.length === 0) {
          syncFailedOnly = false;
          writeLine(ctx.io.stderr, `palette: no pack version under ${where} to confirm, and ${printable(syncNotDone(report))}`);
        } else if (report.sync.outcome === 'failed') {
          // Which of the packs Palette lists with the content published: all of them, the failure is not theirs.
          const listed = report.packs.filter((p) => p.status === 'visible').length;
          const all = listed === report.packs.length;
          if (!all) syncFailedOnly = false;
          const which = all
            ? `it lists every version asked for (${listed}) with the content published, so what failed is another pack of the registry or the registry itself`
            : listed === 0
              ? 'it lists none of the versions asked for with the content published'
              : `it lists ${listed} of the ${report.packs.length} versions asked for with the content published (above)`;
          writeLine(ctx.io.stderr, `palette: ${printable(syncNotDone(report))}; ${which}`);
        } else syncFailedOnly = false;
      } else if (report.packs.length === 0) {
        // Exit 0 with no pack line: say that the sync ran and there was nothing to confirm (a base path left empty).
        writeLine(ctx.io.stderr, `palette: no pack version under ${where} to confirm; Palette's sync of ${printable(report.registry.name)} succeeded`);
      }
    } finally {
      await client.close();
    }
  }
  if (!quiet && out.status === 'would-not-be-visible') {
    writeLine(ctx.io.stderr, 'error: would be published, but not visible in Palette (exit 3)');
    writeLine(ctx.io.stderr, 'hint: turn sync on for the Palette registry; packpub palette doctor checks its settings');
  } else if (!quiet && out.status === 'published-not-visible' && syncFailedOnly) {
    writeLine(ctx.io.stderr, "error: published, and Palette lists every version, but its sync failed (exit 3)");
    writeLine(ctx.io.stderr, "hint: the sync's message is above: fix what it names (another pack of the registry, or the registry), then packpub palette sync");
  } else if (!quiet && out.status !== 'visible' && out.status !== 'dry-run') {
    writeLine(ctx.io.stderr, 'error: published, but not visible in Palette (exit 3)');
    writeLine(ctx.io.stderr, 'hint: the reasons are above; packpub palette doctor checks the registry settings, packpub palette sync retries');
  }
  return out;
}

/**
 * push --palette-sync (its dry run too), before anything is written: each target's Palette registry is found with
 * reads only, which also shows Palette accepts the key. No Pack registry serving a target, several, a key Palette
 * refuses (401/403), Palette not answering after its retries, or the registry's sync off (exit 2): the run ends here,
 * its error (and exit code) saying nothing was published and how to go on. Before, these came after the packs were
 * published (sync off: exit 3). The targets come back
 * with the registry found (PaletteTarget.registry), which the sync uses without a second look-up. `read` false (an
 * empty shard, nothing to publish or sync): only the key's presence is checked, as before, and Palette is not asked.
 */
export async function palettePreflight(args: Args, ctx: CliContext, targets: PaletteTarget[], read: boolean): Promise<PaletteTarget[]> {
  const { paletteRegistryBeforePublish } = await import('../operations/palette.js');
  return registriesFirst(args, ctx, targets, read, paletteRegistryBeforePublish, nothingPublished);
}

/**
 * Each target's Palette registry, found before any of them is synced or published to (`find`), each target coming back
 * with it (PaletteTarget.registry); an error ends the run, as `wrap` says it. A target whose registry is known already
 * is not looked up again; `read` false: only the key's presence is checked.
 */
async function registriesFirst(
  args: Args,
  ctx: CliContext,
  targets: PaletteTarget[],
  read: boolean,
  find: (client: PaletteClient, target: PaletteTargetRef, options: ResolveOptions) => Promise<ResolvedPaletteRegistry>,
  wrap: (err: unknown) => unknown,
): Promise<PaletteTarget[]> {
  const out: PaletteTarget[] = [];
  for (const target of targets) {
    const client = target.registry === undefined ? await paletteClient(args, ctx, target.config, true, target.where) : undefined;
    if (client === undefined || !read) {
      await client?.close();
      out.push(target);
      continue;
    }
    try {
      const [{ DEFAULT_PALETTE_TIMEOUT_MS }, { currentRetryClock }] = await Promise.all([import('../palette/endpoint.js'), import('../registry/retry.js')]);
      const settings = paletteRunSettings(args, target.config);
      const deadline = currentRetryClock().now() + (settings.timeoutMs ?? DEFAULT_PALETTE_TIMEOUT_MS);
      const registry = await find(client, target.ref, { deadline, ...(settings.registry === undefined ? {} : { registry: settings.registry }) });
      out.push({ ...target, registry });
    } catch (err) {
      throw wrap(err);
    } finally {
      await client.close();
    }
  }
  return out;
}

/** palette sync of several targets: an error finding a target's registry, saying that no target was synced. */
function nothingSynced(err: unknown): unknown {
  if (!isPackpubError(err) || err.code === 'ABORTED') return err;
  return new PackpubError(err.code, `${err.message}; nothing was synced (palette sync finds the Palette registry of every target first)`, {
    ...(err.hint === undefined ? {} : { hint: err.hint }),
    cause: err,
  });
}

/** A pre-flight error as the run ends with it: its code kept (so its exit code), saying nothing was published and how to go on. */
function nothingPublished(err: unknown): unknown {
  if (!isPackpubError(err) || err.code === 'ABORTED') return err;
  const without = 'or drop --palette-sync to publish without confirming the packs in Palette';
  return new PackpubError(err.code, `${err.message}; nothing was published (push --palette-sync checks Palette first)`, {
    hint: err.hint === undefined ? without : `${err.hint}; ${without}`,
    cause: err,
  });
}

/** What `push --palette-sync` adds to its report: the sync results, or the error that stopped them. */
export interface PushPaletteOutcome {
  json?: PaletteRunJson | PaletteErrorJson;
  error?: unknown;
  notVisible: boolean;
}

/**
 * After a push: sync each target's Palette registry for the versions the target now holds. After a dry
 * run: check Palette with reads only (key, registry, sync on) and say what would be synced.
 */
export async function paletteAfterPush(
  args: Args,
  ctx: CliContext,
  targets: PackTarget[],
  paletteTargets: PaletteTarget[],
  report: PushReport,
  quiet: boolean,
  dryRun = false,
): Promise<PushPaletteOutcome> {
  const { paletteSyncOptionsFromPush, isNotVisible } = await import('../operations/palette.js');
  const items: PaletteRunItem[] = [];
  targets.forEach((t, i) => {
    const wanted = paletteSyncOptionsFromPush(report, targets.length > 1 ? t.display : undefined);
    const target = paletteTargets[i];
    if (target === undefined) return;
    // A dry run checks Palette even when every version is a planned conflict: that is what it is for.
    if (wanted.packs.length > 0 || dryRun) items.push({ target, ...wanted });
    // Never silent: nothing landed on this target (every pack failed), so there is nothing to sync.
    else writeLine(ctx.io.stderr, `palette: no version was published to ${target.ref.host}/${target.ref.basePath}: Palette was not synced`);
  });
  if (items.length === 0) return { notVisible: false };
  // The targets done (or stopped by a Palette error) before an error ends the step: kept beside it.
  const done: PaletteRunJson['targets'] = [];
  try {
    const json = await runPaletteSyncs(args, ctx, items, quiet, dryRun ? 'dry-run' : 'after-publish', done);
    return { json, notVisible: isNotVisible(json.status) };
  } catch (err) {
    return { json: paletteErrorJson(err, done), error: err, notVisible: false };
  }
}

/** The Palette step's JSON when `err` ended it: the error, and the targets done (or stopped) before it, when any. */
export function paletteErrorJson(err: unknown, done: PaletteRunJson['targets']): PaletteErrorJson {
  const error = isPackpubError(err) ? { code: err.code, message: err.message, ...(err.hint === undefined ? {} : { hint: err.hint }) } : { code: 'INTERNAL', message: String(err) };
  return { status: 'error', error, ...(done.length === 0 ? {} : { targets: done }) };
}

/** `palette` when an error ended the Palette step (docs/report.md). */
export interface PaletteErrorJson {
  status: 'error';
  error: { code: string; message: string; hint?: string };
  targets?: PaletteRunJson['targets'];
}
