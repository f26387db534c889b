import semver from 'semver';
import { PackpubError } from '../errors.js';

/*
 * Palette lists every tag of spectro-packs/archive/<name> as a version of the pack: a tag that reads as another
 * version than the pack.json's publishes the pack as a version it is not. `tag` and `push --tag` refuse such a tag
 * unless --allow-other-version (loaded only when there are tags to judge: semver is a few dozen modules).
 */

/** Whether a tag reads as a pack version (semver, loosely, as list orders versions and pull compares them). */
export function isVersionTag(tag: string): boolean {
  return semver.valid(tag, { loose: true }) !== null;
}

/**
 * The tags among `tags` that read as a version other than `version` (a pack.json version): Palette lists the
 * tags of spectro-packs/archive/<name> as that pack's versions, so such a tag publishes the pack as a version
 * it is not. `v1.2.0` names 1.2.0; a parent tag (`1.2.x`, `1.2`) or a label (`stable`, `lts`) is no version.
 */
export function otherVersionTags(tags: readonly string[], version: string): string[] {
  const own = isVersionTag(version);
  return tags.filter((tag) => tag !== version && isVersionTag(tag) && !(own && semver.eq(tag, version, { loose: true })));
}

/** The refusal of tags that read as another version than the pack's `version` (see otherVersionTags). */
export function otherVersionRefusal(reference: string, version: string, tags: readonly string[], flag: string, word = 'tag'): PackpubError {
  const parsed = semver.parse(version, { loose: true });
  const parent = parsed === null ? '' : `a parent tag (${parsed.major}.${parsed.minor}.x), `;
  const listed = tags.map((tag) => JSON.stringify(tag)).join(', ');
  const one = tags.length === 1;
  // pack.json's words, cut short: a version of megabytes is no message.
  const shown = JSON.stringify(version.length > 128 ? `${version.slice(0, 128)}...` : version);
  return new PackpubError('USAGE', `${word}${one || word.startsWith('-') ? '' : 's'} ${listed} name${one ? 's' : ''} another version than the pack.json of ${reference} (version ${shown}): Palette would list the pack as ${one ? 'that version' : 'those versions'} too`, {
    hint: `nothing was written; ${parent}a label (stable, lts) or the pack's own version names it; pass ${flag} to tag it so anyway`,
  });
}
