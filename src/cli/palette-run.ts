import { isPackpubError } from '../errors.js';
import type { PalettePackRef, PaletteRunStatus, PaletteSyncReport } from '../operations/palette.js';
import type { PushReport } from '../operations/push-report.js';
import type { PackTarget } from '../targets/open.js';
import type { Args, CliContext } from './context.js';
import { writeLine } from './io.js';
import { paletteClient, paletteRunSettings, type PaletteTarget } from './palette-options.js';
import { withInterrupt } from './signals.js';

/** One target's sync: which packs to confirm and whether a version was replaced. */
export interface PaletteRunItem {
  target: PaletteTarget;
  packs: PalettePackRef[];
  force: boolean;
}

/** What `palette sync --json` prints and `push --json` adds as `palette` (docs/report.md). */
export interface PaletteRunJson {
  /** `published-not-visible` when any pack of any target is not listed by Palette (exit 3). */
  status: PaletteRunStatus;
  targets: ({ target: string } & PaletteSyncReport)[];
}

/**
 * Sync every item's Palette registry and confirm its packs; progress on stderr, one result line per pack
 * on stdout unless `quiet` (JSON modes). API errors (key rejected, no registry) are thrown.
 */
export async function runPaletteSyncs(args: Args, ctx: CliContext, items: PaletteRunItem[], quiet: boolean): Promise<PaletteRunJson> {
  const { syncPaletteRegistry } = await import('../operations/palette.js');
  const out: PaletteRunJson = { status: 'visible', targets: [] };
  for (const item of items) {
    const where = `${item.target.ref.host}/${item.target.ref.basePath}`;
    const client = await paletteClient(args, ctx, item.target.config, true, item.target.where);
    if (client === undefined) continue;
    try {
      const settings = paletteRunSettings(args, item.target.config);
      const report = await withInterrupt(ctx, (signal) =>
        syncPaletteRegistry(client, item.target.ref, {
          packs: item.packs,
          force: item.force,
          ...settings,
          signal,
          onEvent: (e) => {
            if (e.type === 'palette-registry') writeLine(ctx.io.stderr, `palette: ${where} is served by Palette registry ${e.registry.name} (${e.registry.uid}) at ${client.host}`);
            else if (e.type === 'palette-sync-started') writeLine(ctx.io.stderr, `palette: sync started${e.forced ? ' with forceSync (a version was replaced)' : ''}`);
            else if (e.type === 'palette-sync-status') writeLine(ctx.io.stderr, `palette: sync status ${e.status === '' ? '(none)' : e.status}${e.message === undefined ? '' : `: ${e.message}`}`);
            else if (!quiet) {
              const p = e.pack;
              writeLine(
                ctx.io.stdout,
                p.status === 'visible'
                  ? `visible in Palette ${p.name}:${p.version} (packUid ${p.packUid ?? 'unknown'})`
                  : `NOT VISIBLE in Palette ${p.name}:${p.version}: ${p.reason ?? 'unknown reason'}`,
              );
            }
          },
        }),
      );
      out.targets.push({ target: where, ...report });
      if (report.status !== 'visible') out.status = 'published-not-visible';
    } finally {
      await client.close();
    }
  }
  if (!quiet && out.status !== 'visible') {
    writeLine(ctx.io.stderr, 'error: published, but not visible in Palette (exit 3)');
    writeLine(ctx.io.stderr, 'hint: the reasons are above; packpub palette doctor checks the registry settings, packpub palette sync retries');
  }
  return out;
}

/** What `push --palette-sync` adds to its report: the sync results, or the error that stopped them. */
export interface PushPaletteOutcome {
  json?: PaletteRunJson | { status: 'error'; error: { code: string; message: string; hint?: string } };
  error?: unknown;
  notVisible: boolean;
}

/** After a push: sync each target's Palette registry for the versions the target now holds. */
export async function paletteAfterPush(
  args: Args,
  ctx: CliContext,
  targets: PackTarget[],
  paletteTargets: PaletteTarget[],
  report: PushReport,
  quiet: boolean,
): Promise<PushPaletteOutcome> {
  const { palettePacksFromPush } = await import('../operations/palette.js');
  const items: PaletteRunItem[] = [];
  targets.forEach((t, i) => {
    const wanted = palettePacksFromPush(report, targets.length > 1 ? t.display : undefined);
    const target = paletteTargets[i];
    if (target !== undefined && wanted.packs.length > 0) items.push({ target, ...wanted });
  });
  if (items.length === 0) return { notVisible: false };
  try {
    const json = await runPaletteSyncs(args, ctx, items, quiet);
    return { json, notVisible: json.status !== 'visible' };
  } catch (err) {
    const error = isPackpubError(err) ? { code: err.code, message: err.message, ...(err.hint === undefined ? {} : { hint: err.hint }) } : { code: 'INTERNAL', message: String(err) };
    return { json: { status: 'error', error }, error: err, notVisible: false };
  }
}
