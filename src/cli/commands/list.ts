import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import type { ListedPack } from '../../operations/list.js';
import type { CliContext, CommandSpec } from '../context.js';
import { EXIT_OK, printable, writeLine } from '../io.js';
import { formatBytes, renderTable, shortDigest } from '../render.js';
import { targetCommandFlags, withTarget, type Opening } from '../target-command.js';
import { retryDelayRereadHelp } from '../target-flags.js';

/** Why a layout path shows no packs, when it is not a layout's top folder ('' when it is one, or may be). */
function layoutNote(location: string): string {
  let info;
  try {
    info = statSync(location, { throwIfNoEntry: false });
  } catch (err) {
    // A symbolic link loop on the way (a -> b -> a): ended "this is a bug in packpub", where push and copy name it.
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') return ' (a symbolic link on its way leads back to itself)';
    throw err;
  }
  if (info === undefined) return ' (no such folder)';
  if (!info.isDirectory()) return ' (not a folder)';
  // One repository's layout (skopeo's or oras' oci:DIR, or a pack's folder inside packpub's), or a folder on the way to them.
  const inside = existsSync(join(location, 'oci-layout')) || /(^|[\\/])spectro-packs([\\/]archive)?[\\/]*$/.test(location);
  return inside ? ': it is inside an OCI layout of packs, or one repository\'s layout; give the folder that holds spectro-packs/' : '';
}

export const listCommand: CommandSpec = {
  command: 'list [name]',
  describe: 'List the packs under the base path and their versions (semver order), with digest, size and created time',
  builder: (y) =>
    targetCommandFlags(y, {
      json: true,
      own: { positionals: { name: { type: 'string', describe: 'Only this pack (without it, at most 5000 packs and 100000 versions under the base path)' } } },
      describe: { 'retry-delay': retryDelayRereadHelp('list') },
    }),
  run: (args, ctx) =>
    withTarget(args, ctx, async (target) => {
      const [{ listPacks, cosignAttachment, tagsNotServedNote, MAX_DETAILS, MAX_DETAILS_PER_RUN, NOT_SERVED }, { retryFlags }, { readingAtOnce, NOTHING_PRINTED }] = await Promise.all([
        import('../../operations/list.js'),
        import('../target-options.js'),
        import('../signals.js'),
      ]);
      const delay = retryFlags(args)?.initialDelayMs;
      // Interrupted while reading (a registry slow to answer): said at once, exit 130 (was: "SIGINT: interrupted" alone).
      const when = args['name'] === undefined ? 'while the packs were listed' : `while the versions of ${printable(String(args['name']))} were listed`;
      const packs = await readingAtOnce(
        ctx,
        when,
        () => listPacks(target, { ...(args['name'] === undefined ? {} : { name: args['name'] as string }), ...(delay === undefined ? {} : { rereadDelayMs: delay }) }),
        { abandonNote: NOTHING_PRINTED },
      );
      // A repository the catalog names whose tag list answers 404: said, not left out unseen (also with --json).
      const notServed = () => {
        for (const p of packs) if (p.tagsNotServed === true) writeLine(ctx.io.stderr, tagsNotServedNote(p.name, target.store.location, 'list'));
      };
      const none = packs.length === 0 || packs.every((p) => p.versions.length === 0);
      // A layout folder that is not there (a typo in --oci-layout?), or not the top of a layout, is said, not only "no packs".
      const noneLine = () => {
        const missing = target.store.kind === 'oci-layout' ? layoutNote(target.store.location) : '';
        return args['name'] === undefined ? `no packs in ${target.display}${missing}` : `no pack ${printable(String(args['name']))} in ${target.display}${missing}`;
      };
      if (args['json'] === true) {
        writeLine(ctx.io.stdout, JSON.stringify({ target: target.display, packs }, null, 2));
        // stdout is the document (packs: []); the job log says why it is empty when the layout folder is not one (was: nothing).
        if (none && target.store.kind === 'oci-layout' && layoutNote(target.store.location) !== '') writeLine(ctx.io.stderr, noneLine());
        // The report says it per pack (detailsOmitted); the job log should say it too.
        budgetNote(packs, ctx.io.stderr, MAX_DETAILS, MAX_DETAILS_PER_RUN);
        notServed();
        return EXIT_OK;
      }
      if (none) {
        writeLine(ctx.io.stderr, noneLine());
        notServed();
        return EXIT_OK;
      }
      const rows = packs.flatMap((p) =>
        p.versions.map((v) => [p.name, v.version, shortDigest(v.digest), formatBytes(v.size), v.created === undefined ? '-' : printable(v.created)]),
      );
      for (const line of renderTable(['PACK', 'VERSION', 'DIGEST', 'SIZE', 'CREATED'], rows)) writeLine(ctx.io.stdout, line);
      for (const p of packs) {
        for (const v of p.versions) {
          if (v.notPack === undefined) continue;
          if (v.notPack === NOT_SERVED) {
            // Not "not a pack": nothing was read to say what it holds (404, also when read again after a pause: listPacks).
            writeLine(ctx.io.stderr, `note: ${p.name}:${v.version} is listed, but ${target.store.location} serves no manifest for it; pull, inspect, tag and copy fail on it`);
            continue;
          }
          // cosign's tags of a version: copy takes them verbatim (copy.ts), as skopeo sync does.
          // A cosign tag listed without a digest: the registry refused reading its manifest (listPacks), so copy
          // cannot read it there either.
          const cosign = cosignAttachment(v.version) === v.notPack;
          const refused = !cosign ? 'pull, inspect, tag and copy refuse it' : v.digest === undefined ? 'the registry refuses to serve its manifest, so copy fails it too; pull, inspect and tag refuse it' : 'copy takes it as it is; pull, inspect and tag refuse it';
          writeLine(ctx.io.stderr, `note: ${p.name}:${v.version} is not a pack (${v.notPack}); ${refused}`);
        }
        if (p.detailsOmitted !== undefined && p.versions.length - p.detailsOmitted === MAX_DETAILS) {
          writeLine(ctx.io.stderr, `note: ${p.name} has ${p.versions.length} versions; digest, size and created time are shown for the newest ${MAX_DETAILS} only`);
        }
      }
      budgetNote(packs, ctx.io.stderr, MAX_DETAILS, MAX_DETAILS_PER_RUN);
      notServed();
      return EXIT_OK;
    }, openingOf(ctx)),
};

/** The target opened under readingAtOnce (signals.ts readingOpening): an interrupt while it is probed says nothing was printed. */
function openingOf(ctx: CliContext): Opening {
  return async (options, open) => (await import('../signals.js')).readingOpening(ctx)(options, open);
}

/** Past the run's budget every pack gets the same number of newest versions read: one line for all, not one per pack. */
function budgetNote(packs: ListedPack[], stderr: Writable, perPack: number, perRun: number): void {
  const short = packs.filter((p) => p.detailsOmitted !== undefined && p.versions.length - p.detailsOmitted < perPack);
  const [first] = short;
  if (first === undefined) return;
  const omitted = short.reduce((n, p) => n + (p.detailsOmitted ?? 0), 0);
  writeLine(
    stderr,
    `note: digest, size and created time are shown for ${first.versions.length - (first.detailsOmitted ?? 0)} tag(s) of each pack only, the newest versions first (list reads at most ${perRun} manifests); ${omitted} other tag(s) of ${short.length} pack(s) are listed without them: packpub list <name> shows one pack's`,
  );
}
