import { existsSync, fstatSync, readlinkSync } from 'node:fs';
import { basename, join, resolve, sep } from 'node:path';
import { firstPlaceInPacks, type PlaceInPack } from '../operations/place-in-pack.js';

/**
 * Files packpub itself keeps that can lie in a pack folder being packed: its cache folder (HOME, XDG_CACHE_HOME or
 * PACKPUB_CACHE_DIR the checkout that is the pack, as in a container), the Docker config its `login` writes
 * (DOCKER_CONFIG or HOME there) and the AWS shared files it reads for ECR (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE
 * or HOME there), and what it writes in the temp folder (`temp`). The walk packs every file of the folder: the cache's index (other packs' folders and
 * digests) and compiled code, and the Docker config's credentials, were published inside the pack, exit 0. Refused
 * before anything runs, unless the pack's .packignore leaves them out. `cache`: the folder is written by this run
 * (bin/packpub.js keeps packpub's compiled code there), so it is refused even before it exists; the folders packpub
 * uses under other settings (HOME's, XDG_CACHE_HOME's) are refused while they exist.
 */
export async function refuseOwnFilesInPacks(
  packs: readonly string[],
  place: { cwd: string; env: NodeJS.ProcessEnv; registryConfigs?: readonly string[]; io?: { stdout: unknown }; temp?: string },
  cache: { dir: string | undefined; written: boolean },
  verb: 'push' | 'build',
): Promise<void> {
  const home = place.env['HOME'];
  const dockerConfig = place.env['DOCKER_CONFIG'];
  const files: Array<PlaceInPack & { when: 'always' | 'exists' }> = [];
  // The credentials first: of the two, the one to name when both are there.
  const defaultConfig = dockerConfig !== undefined && dockerConfig !== '' ? join(dockerConfig, 'config.json') : home !== undefined && home !== '' ? join(home, '.docker', 'config.json') : undefined;
  for (const config of [...(defaultConfig === undefined ? [] : [defaultConfig]), ...(place.registryConfigs ?? [])]) {
    files.push({ path: resolve(place.cwd, config), what: 'the Docker config (credentials)', fix: 'move it out of the pack (DOCKER_CONFIG or --registry-config), and log in again there', when: 'exists', file: true });
  }
  // The AWS shared files packpub reads for ECR, where the SDK finds them (`aws configure` with HOME the pack wrote its
  // keys there): published inside the pack, exit 0.
  for (const [variable, base] of [['AWS_SHARED_CREDENTIALS_FILE', 'credentials'], ['AWS_CONFIG_FILE', 'config']] as const) {
    const set = place.env[variable];
    const file = set !== undefined && set !== '' ? set : home !== undefined && home !== '' ? join(home, '.aws', base) : undefined;
    if (file !== undefined) files.push({ path: resolve(place.cwd, file), what: `the AWS ${base} file`, fix: `move it out of the pack (${variable}, or HOME elsewhere)`, when: 'exists', file: true });
  }
  // Where this run writes in the temp folder (push's work folder, build's archive on its way to a pipe): TMPDIR in the
  // pack (`TMPDIR=$PWD/tmp`, the pack the checkout) changed the folder while it was packed, and every run failed saying
  // something else wrote into it (a small pack's archive, built in memory, held the work folder: exit 0).
  if (place.temp !== undefined) {
    files.push({ path: resolve(place.cwd, place.temp), what: verb === 'push' ? "packpub's work folder (TMPDIR's packpub-work, where push builds archives)" : 'the temp folder (TMPDIR, where build writes an archive for a pipe first)', fix: 'set TMPDIR to a folder outside the pack', when: 'always' });
  }
  if (cache.dir !== undefined) {
    files.push({ path: resolve(place.cwd, cache.dir), what: "packpub's cache folder", fix: 'set PACKPUB_CACHE_DIR to a folder outside the pack, and remove that folder from the pack if it is there', when: cache.written ? 'always' : 'exists' });
  }
  // The cache folders packpub uses under other settings (without PACKPUB_CACHE_DIR, without XDG_CACHE_HOME): one an
  // earlier run left in the pack (the built CLI writes compiled code to it before any command decides, so even the
  // refused run above leaves it) would be archived by the run that followed the hint and set PACKPUB_CACHE_DIR.
  // A relative XDG_CACHE_HOME is ignored (defaultCacheDir), but a packpub before that used it in the working folder.
  const xdg = place.env['XDG_CACHE_HOME'];
  for (const other of [xdg ? join(xdg, 'packpub') : undefined, home ? join(home, '.cache', 'packpub') : undefined]) {
    if (other === undefined || files.some((file) => file.path === resolve(place.cwd, other))) continue;
    files.push({ path: resolve(place.cwd, other), what: "packpub's cache folder", fix: 'remove that folder from the pack (an earlier run with other cache settings left it there; set PACKPUB_CACHE_DIR to a folder outside the pack)', when: 'exists' });
  }
  const found = await firstPlaceInPacks(packs, [...files.filter((f) => f.when === 'always' || existsSync(f.path)), ...redirectedOutputs(place.io)], verb);
  if (found !== undefined) throw found.refusal;
}

/**
 * The files this process's standard output and standard error are sent to, where they are regular files: `cd pack &&
 * packpub push . --json > report.json` (the composite action's report beside a pack at the repository's root): the shell
 * makes the file before packpub runs, so the walk packed it (empty) into the pack's archive, exit 0, as review11 found for
 * --json; a log (`2> push.log`) the same. Read through Linux's /proc/self/fd (elsewhere: none found); none for a program
 * embedding main() with streams of its own.
 */
export function redirectedOutputs(io: { stdout: unknown } | undefined): PlaceInPack[] {
  if (io === undefined || io.stdout !== process.stdout) return [];
  const places: PlaceInPack[] = [];
  for (const [fd, name] of [
    [1, 'standard output'],
    [2, 'standard error'],
  ] as const) {
    try {
      if (!fstatSync(fd).isFile()) continue;
      const path = readlinkSync(`/proc/self/fd/${fd}`);
      if (!path.startsWith(sep) || path.endsWith(' (deleted)') || places.some((p) => p.path === path)) continue;
      places.push({ path, what: `${name}'s file`, fix: `send ${name} to a file outside the pack (e.g. ${fd === 1 ? '>' : '2>'} ../${basename(path)}) and remove that file from the pack`, file: true });
    } catch {
      // not a file, or no /proc: nothing to check
    }
  }
  return places;
}

// The refusal itself lives with the operations, which a library caller's push runs too (operations/checked.ts).
export { firstPlaceInPacks, type PlaceInPack } from '../operations/place-in-pack.js';
