import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { PackpubError } from '../errors.js';

export interface DiscoverOptions {
  /** Search directories without pack.json for packs below them. */
  recursive?: boolean;
  /** `I/N`: keep only this shard (1-based) of the sorted packs. */
  shard?: string;
  /** push's --tag values: with a shard, one on two versions of a pack anywhere in the tree is refused. */
  extraTags?: readonly string[];
  cwd?: string;
}

const SKIP_DIRS = new Set(['node_modules', '.git', 'oci-packs']);
const GLOB_CHARS = /[*?[]/;

/*
 * The pack search uses blocking calls: a tree is a few hundred stat and readdir calls, one after the other,
 * and each non-blocking call would cost a round trip through libuv's thread pool (a re-run of an unchanged
 * 220-pack tree spent more CPU finding its packs that way than the calls themselves take).
 */

/** Expand `*`, `?`, `[...]` and `**` against the file system (directories only). */
function expandGlob(pattern: string, cwd: string): string[] {
  const absolute = resolve(cwd, pattern);
  const parts = absolute.split(sep);
  const firstGlob = parts.findIndex((p) => GLOB_CHARS.test(p));
  const root = parts.slice(0, firstGlob).join(sep) || sep;
  const rest = parts.slice(firstGlob);
  const toRegex = globSegmentRegex;
  const out: string[] = [];
  const walk = (dir: string, segs: string[]): void => {
    if (segs.length === 0) {
      out.push(dir);
      return;
    }
    const [seg, ...tail] = segs as [string, ...string[]];
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    if (seg === '**') {
      walk(dir, tail);
      for (const e of entries) if (e.isDirectory() && !SKIP_DIRS.has(e.name)) walk(join(dir, e.name), segs);
      return;
    }
    const re = toRegex(seg);
    for (const e of entries) {
      // A symbolic link to a folder matches as it does in the shell (`packs/*` unquoted names it): quoted, as the
      // composite action and packpub.yaml pass a glob, such a pack was left out, exit 0. `**` follows none (bash's
      // globstar neither), so no link loop is walked.
      if ((e.isDirectory() || (e.isSymbolicLink() && isFolder(join(dir, e.name)))) && re.test(e.name) && !(e.name.startsWith('.') && !seg.startsWith('.'))) {
        walk(join(dir, e.name), tail);
      }
    }
  };
  walk(root, rest);
  return out;
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false; // a link to nothing, or a loop
  }
}

/**
 * One path segment of a glob as the shell reads it: `*`, `?`, and a bracket expression `[...]` whose `!` or `^` first
 * negates it (`packs/[!h]*`: every folder not starting with h). The `!` was a member (and `^` an escaped one), so such a
 * glob published exactly the packs it left out, exit 0. A `[` without its `]` is itself.
 */
export function globSegmentRegex(seg: string): RegExp {
  const literal = (c: string) => c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  let out = '^';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i] as string;
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const negated = seg[i + 1] === '!' || seg[i + 1] === '^';
      const first = i + (negated ? 2 : 1);
      // A ']' right after the opening (or its negation) is a member, as in the shell.
      const close = seg.indexOf(']', first + 1);
      if (close < 0) {
        out += '\\[';
        continue;
      }
      const members = seg.slice(first, close);
      // Ranges (a-z) stay ranges; every other character is itself.
      let set = '';
      for (let j = 0; j < members.length; j++) {
        const m = members[j] as string;
        set += m === '-' && j > 0 && j < members.length - 1 ? '-' : literal(m);
      }
      out += `[${negated ? '^/' : ''}${set}]`;
      i = close;
    } else out += literal(c);
  }
  try {
    return new RegExp(`${out}$`);
  } catch {
    // A range out of order (`[z-a]`): the shell matches nothing with it (was: "Invalid regular expression ... this is a
    // bug in packpub", exit 1); the caller says the glob matches no directory.
    return /(?!)/;
  }
}

function hasPackJson(dir: string): boolean {
  try {
    return statSync(join(dir, 'pack.json')).isFile();
  } catch {
    return false;
  }
}

/** A pack folder found, and its real path when known without asking (a folder below a root whose real path is known). */
interface Found {
  dir: string;
  real?: string;
}

/**
 * The packs at or below `dir`, whose real path is `real`. A directory entry readdir types as a directory is no
 * symbolic link (a link is typed as one, and not followed here), so a folder below is its parent's real path
 * and its name: one realpath per root instead of one per pack (a call per path component each; issue 16).
 */
function findPacksBelow(dir: string, real: string, found: Found[]): void {
  if (hasPackJson(dir)) {
    found.push({ dir, real });
    return; // a pack's own folders (charts/, manifests/) hold no packs
  }
  const entries = readdirSync(dir, { withFileTypes: true });
  const parent = real.endsWith(sep) ? real : real + sep;
  for (const e of entries) {
    if (e.isDirectory() && !SKIP_DIRS.has(e.name) && !e.name.startsWith('.')) findPacksBelow(join(dir, e.name), parent + e.name, found);
  }
}

/**
 * `relative(cwd, dir)` for each found folder, without its two resolve() calls in the usual case: every found
 * folder is a normalised absolute path (resolve() or join() made it), so one below a normalised absolute
 * `cwd` is relative to it as the rest of its path.
 */
function relativeTo(cwd: string): (dir: string) => string {
  const prefix = cwd !== sep && isAbsolute(cwd) && normalize(cwd) === cwd ? cwd + sep : undefined;
  return (dir) => (prefix !== undefined && dir.startsWith(prefix) ? dir.slice(prefix.length) : relative(cwd, dir));
}

/**
 * A pack argument that is no folder. One holding blanks or line breaks (`push "$PACKS"` of a list, `"$(cat packs.txt)"`)
 * printed as it was, a line break splitting the message in two and a trailing blank unseen: quoted then, and when its
 * parts are folders, said to be several arguments in one.
 */
function missingFolder(arg: string, cwd: string): PackpubError {
  if (!/\s/.test(arg)) return new PackpubError('USAGE', `${arg}: no such directory`);
  const parts = arg.split(/\s+/).filter((part) => part !== '');
  const several = parts.length > 1 && parts.every((part) => isFolder(resolve(cwd, part)));
  return new PackpubError('USAGE', `${JSON.stringify(arg)}: no such directory`, {
    hint: several
      ? `it holds ${parts.length} folders in one argument: give each as an argument of its own (an unquoted $VARIABLE, or one per line in the composite action's packs input)`
      : 'check the blanks or line breaks in it (a variable holding more than the folder\'s name?)',
  });
}

export function parseShard(spec: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(spec);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (m === null || count < 1 || index < 1 || index > count) {
    throw new PackpubError('USAGE', `--shard "${spec}" is not I/N with 1 <= I <= N`, { hint: 'e.g. --shard 2/3 for the second of three jobs' });
  }
  return { index, count };
}

/** Two pack folders that are one name:version: a run pushes each name and version once. */
export function samePackTwice(first: string, second: string, key: string): PackpubError {
  return new PackpubError('USAGE', `${first} and ${second} are both ${key}`, {
    hint: 'each pack name and version may be pushed once per run: remove one folder or change its pack.json version',
  });
}

/**
 * A --tag (a label such as stable, a parent tag such as 1.x) on two versions of one pack in a run, or in a sharded
 * tree: one tag holds one version, and it held whichever version's write came last, every run saying exit 0.
 */
export function tagOnTwoVersions(tags: readonly string[], name: string, first: { dir: string; version: string }, second: { dir: string; version: string }, where: 'run' | 'sharded tree' = 'run'): PackpubError {
  return new PackpubError('USAGE', `--tag "${tags[0] ?? ''}" would go on two versions of ${name} pushed in this ${where}, ${first.dir} (${name}:${first.version}) and ${second.dir} (${name}:${second.version}): a tag holds one version, whichever was written last`, {
    hint: `nothing was written; push the version the tag is for with --tag and the other in a run without it, or tag it afterwards (packpub tag ${name}:<version> ${tags.join(' ')})`,
  });
}

/**
 * Before a shard is picked, the refusal push gives two folders of one name:version: each shard holding one of
 * them published its own (review s21 F5; exit 0 for both under --force, the version holding whichever came
 * last). A pack.json that does not read as an object with a name and a version is left to validation.
 */
function refuseSamePackTwice(packs: readonly string[], tags: readonly string[]): void {
  const seen = new Map<string, string>();
  const tagged = new Map<string, { dir: string; version: string }>();
  for (const dir of packs) {
    let json: { name?: unknown; version?: unknown } | undefined;
    try {
      json = JSON.parse(readFileSync(join(dir, 'pack.json'), 'utf8')) as typeof json;
    } catch {
      continue;
    }
    if (typeof json?.name !== 'string' || typeof json.version !== 'string') continue;
    const key = `${json.name}:${json.version}`;
    const other = seen.get(key);
    if (other !== undefined) throw samePackTwice(other, dir, key);
    seen.set(key, dir);
    // Across shards too: each shard's job tagged its own version, the last to end keeping the tag.
    const sibling = tags.length === 0 ? undefined : tagged.get(json.name);
    if (sibling !== undefined && sibling.version !== json.version) throw tagOnTwoVersions(tags, json.name, sibling, { dir, version: json.version }, 'sharded tree');
    tagged.set(json.name, { dir, version: json.version });
  }
}

/**
 * Turn command-line arguments (pack folders, globs, roots with --recursive) into a sorted, de-duplicated
 * list of pack folders, optionally one shard of it. Sorting by path makes shards the same on every machine.
 */
export async function discoverPacks(args: string[], options: DiscoverOptions = {}): Promise<string[]> {
  const cwd = options.cwd ?? process.cwd();
  const found: Found[] = [];
  for (const arg of args) {
    const candidates = GLOB_CHARS.test(arg) ? expandGlob(arg, cwd) : [resolve(cwd, arg)];
    if (candidates.length === 0) throw new PackpubError('USAGE', `"${arg}" matches no directory`);
    const foundBefore = found.length;
    for (const dir of candidates) {
      let info;
      try {
        info = statSync(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw new PackpubError('USAGE', `${arg} is a symlink loop`);
        throw missingFolder(arg, cwd);
      }
      if (!info.isDirectory()) throw new PackpubError('USAGE', `${arg} is not a directory`, { hint: 'give the pack folder (the one holding pack.json)' });
      if (hasPackJson(dir)) found.push({ dir });
      else if (options.recursive === true || GLOB_CHARS.test(arg)) {
        const before = found.length;
        if (options.recursive === true) findPacksBelow(dir, realpathSync.native(dir), found);
        if (found.length === before && !GLOB_CHARS.test(arg)) throw new PackpubError('USAGE', `no pack.json found in or below ${arg}`);
      } else {
        throw new PackpubError('USAGE', `${arg} has no pack.json`, { hint: 'pass --recursive to publish every pack below it' });
      }
    }
    // A glob whose folders hold no pack (`packs/*` where the packs sit a level deeper): nothing was published, exit 0.
    if (GLOB_CHARS.test(arg) && found.length === foundBefore) {
      const shown = candidates.slice(0, 3).map((dir) => relative(cwd, dir) || '.');
      throw new PackpubError('USAGE', `"${arg}" matches no pack folder: ${shown.join(', ')}${candidates.length > 3 ? ` and ${candidates.length - 3} more` : ''} ${candidates.length === 1 ? 'holds' : 'hold'} no pack.json${options.recursive === true ? ', nor any folder below' : ''}`, {
        hint: options.recursive === true ? 'name the folders that hold the packs' : 'pass --recursive to search below them, or name the folders that hold pack.json',
      });
    }
  }
  const unique = new Map<string, string>();
  for (const { dir, real = realpathSync.native(dir) } of found) {
    if (!unique.has(real)) unique.set(real, dir);
  }
  // Each folder's sort key is computed once, not in every comparison (a 220-pack tree made ~3,400
  // relative() calls: ~11 M instructions of a re-run).
  const rel = relativeTo(cwd);
  const byRelative = [...unique.values()].map((dir) => ({ dir, rel: rel(dir) }));
  byRelative.sort((a, b) => (a.rel < b.rel ? -1 : 1));
  let packs = byRelative.map(({ dir }) => dir);
  if (options.shard !== undefined) {
    const { index, count } = parseShard(options.shard);
    refuseSamePackTwice(packs, options.extraTags ?? []);
    packs = packs.filter((_, i) => i % count === index - 1);
  }
  return packs;
}
