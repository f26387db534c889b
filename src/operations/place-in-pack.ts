import { sep } from 'node:path';
import { PackpubError } from '../errors.js';

/** A path that must not lie in a pack folder being packed, what it is, and how to move it. */
export interface PlaceInPack {
  path: string;
  what: string;
  fix: string;
  /** A file, left out by a .packignore line of its own name (a folder's line ends in "/"). */
  file?: boolean;
}

/**
 * The first of `places` that lies in one of `packs` (the pack folder itself included) and is not left out by that
 * pack's .packignore, with the refusal to throw (`USAGE`, exit 2: the walk would pack it); undefined when none does.
 * Shared by push's own targets and reports in the pack (cli/commands/push.ts), packpub's own files (cli/own-files.ts) and
 * a library caller's push (operations/checked.ts).
 */
export async function firstPlaceInPacks(packs: readonly string[], places: readonly PlaceInPack[], verb: 'push' | 'build'): Promise<{ place: PlaceInPack; refusal: PackpubError } | undefined> {
  if (places.length === 0) return undefined;
  const { pathWithin, realAsFarAsItExists, realPathsAsFarAsTheyExist } = await import('../util/fs.js');
  // Each side with its links resolved: a pack named through a link (`push current` with current -> packs/app, a glob's
  // link to a folder) held a report, log or layout given by its real path (or the other way round), and it was packed.
  const realPacks = realPathsAsFarAsTheyExist(packs);
  for (const place of places) {
    const real = await realAsFarAsItExists(place.path);
    for (const [i, pack] of packs.entries()) {
      const rel = pathWithin(realPacks[i] ?? pack, real);
      if (rel === undefined) continue;
      if (rel !== '') {
        const { packignoreLeavesOut } = await import('../archive/walk.js');
        if (await packignoreLeavesOut(pack, rel)) continue;
      }
      const [first = '<folder>'] = rel === '' ? [] : rel.split(sep);
      const refusal = new PackpubError('USAGE', `${place.what} ${place.path} is inside the pack folder ${pack}: every ${verb} would put it into the pack's archive`, {
        hint: `${place.fix}, or leave it out of the pack with a line "${place.file === true && first === rel ? first : `${first}/`}" in its .packignore`,
      });
      return { place, refusal };
    }
  }
  return undefined;
}
