import { lstatSync, mkdtempSync, readdirSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PackpubError, errorMessage } from '../errors.js';
import { makeDirs } from '../util/fs.js';
import { isGone, pidNamespace } from '../util/pid.js';

/*
 * Where push builds its archives: <tmpdir>/packpub-work/<pid>-ns<id>-<random> (packpub-work-<uid> when another user
 * owns packpub-work: ownWorkParent). A run removes its own folder
 * when it ends (even through process.exit), but a SIGKILLed run cannot; the owner's pid in the name lets the
 * next run remove folders whose owner is no longer alive. A pid means something only in its PID namespace
 * (`ns<id>`: the inode of /proc/self/ns/pid): containers sharing a bind-mounted /tmp each have their own, and a
 * live run of another one was taken for dead by its pid alone and its folder removed under it (review s21 L3).
 * A folder of another namespace is removed only once nothing changed in it for STALE_FOREIGN_MS.
 */

/** A work folder of another PID namespace (its pid cannot be asked about) untouched this long is a dead run's. */
export const STALE_FOREIGN_MS = 24 * 3_600_000;

/**
 * The temp folder of `env`: os.tmpdir() for the process's own environment (and on Windows); for another (a library
 * caller's `env`, an embedded run's), read from it as Node reads the process's on POSIX: TMPDIR, else TMP, else TEMP,
 * else /tmp, a trailing slash dropped.
 */
export function tempFolder(env: NodeJS.ProcessEnv = process.env): string {
  if (env === process.env || process.platform === 'win32') return tmpdir();
  const path = env['TMPDIR'] || env['TMP'] || env['TEMP'] || '/tmp';
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

export function workParent(env: NodeJS.ProcessEnv = process.env): string {
  return join(tempFolder(env), 'packpub-work');
}

/**
 * The parent this user's work folders go in: workParent() when this user owns it (or makes it now); when another
 * user does (a run as root, `sudo packpub push` once, a container step sharing /tmp, left it mode 0755), or it is
 * a link, `packpub-work-<uid>` beside it, which must be this user's own folder. Without this, every later push by
 * another user failed with "cannot create packpub's work folder" (EACCES) until someone removed it.
 */
async function ownWorkParent(env: NodeJS.ProcessEnv): Promise<string> {
  const uid = process.getuid?.();
  const shared = workParent(env);
  if (uid === undefined) {
    await makeDirs(shared);
    return shared;
  }
  await makeDirs(shared).catch(() => undefined);
  if (await ownFolder(shared, uid)) return shared;
  const own = `${shared}-${uid}`;
  await makeDirs(own, { mode: 0o700 });
  if (await ownFolder(own, uid)) return own;
  throw new Error(`${own} is not a folder of this user (uid ${uid}): another user made it`);
}

/** `path` is a folder (not a link to one) owned by `uid`. (The work folder's calls are made on this thread: each through the thread pool cost ~25-110 µs of CPU in hand-offs, ~5 µs here; issue 16.) */
async function ownFolder(path: string, uid: number): Promise<boolean> {
  let found;
  try {
    found = lstatSync(path);
  } catch {
    return false;
  }
  return found.isDirectory() && found.uid === uid;
}

/** This run's part of the name of what it leaves while it works (work folders, pull's staging): `<pid>-ns<id>-`, or `<pid>-` without /proc. */
export function ownerTag(): string {
  const ns = pidNamespace();
  return `${process.pid}-${ns === null ? '' : `ns${ns}-`}`;
}

/**
 * Whether `path`, whose name goes on with `rest` after its fixed part (`<pid>-ns<id>-...`, ownerTag), was left by a
 * run that is gone: its pid gone in this PID namespace, or of another namespace and unchanged for a day. A name
 * without a namespace (an older packpub's, or no /proc) is judged by its pid alone, as it was; any other name is kept.
 */
export async function leftByGoneRun(path: string, rest: string, now = Date.now()): Promise<boolean> {
  const owner = /^(\d+)-(?:ns(\d+)-)?/.exec(rest);
  if (owner === null) return false;
  const pid = Number(owner[1]);
  const ns = owner[2];
  if (ns === undefined || ns === pidNamespace()) return pid !== process.pid && isGone(pid);
  const changed = await stat(path).then((s) => s.mtimeMs, () => now);
  return now - changed > STALE_FOREIGN_MS;
}

/**
 * Whether the run a name's fixed part names (`<pid>-ns<id>-...`, ownerTag) is alive in this PID namespace; false when
 * it is gone, or cannot be told (another namespace, a name without an owner).
 */
export function runningHere(rest: string): boolean {
  const owner = /^(\d+)-(?:ns(\d+)-)?/.exec(rest);
  if (owner === null || (owner[2] !== undefined && owner[2] !== pidNamespace())) return false;
  return !isGone(Number(owner[1]));
}

/** Remove work folders left by runs that are gone; folders of live runs (and anything else) stay. */
export async function removeStaleWorkDirs(parent = workParent(), now = Date.now()): Promise<void> {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  await Promise.all(
    names.map(async (name) => {
      if (!(await leftByGoneRun(join(parent, name), name, now))) return;
      await rm(join(parent, name), { recursive: true, force: true }).catch(() => undefined);
    }),
  );
}

/** A fresh work folder owned by this process, after removing stale ones; CONFIG when the temp folder cannot hold one. */
export async function createWorkDir(given?: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  try {
    // ownWorkParent's answer is a folder already (one stat less a run).
    const parent = given ?? (await ownWorkParent(env));
    if (given !== undefined) await makeDirs(parent);
    await removeStaleWorkDirs(parent);
    return mkdtempSync(join(parent, ownerTag()));
  } catch (err) {
    throw new PackpubError('CONFIG', `cannot create packpub's work folder in ${tempFolder(env)} (the temp folder, TMPDIR): ${errorMessage(err)}`, {
      hint: 'set TMPDIR to a writable folder with room for the archives being built',
      cause: err,
    });
  }
}

/**
 * The refusal of a push whose work folder could not be made (`made`: createWorkDir's error), when a pack of it needs
 * one: undefined when every pack's archive stays within `inMemoryBytes`, kept in memory from its build to its upload
 * (most packs), so the run goes on without a temp folder. Known from the size the cache remembers for the pack's
 * content (`knownSize`), else certain from a bound on its files' sizes (tar headers, pax records and padding,
 * deflate's worst case of stored blocks, each gzip member's framing), else measured: the archive compressed as push
 * would build it (`mtime`), in memory and given up as soon as it passes `inMemoryBytes`, nothing written (a Helm pack
 * of a thousand small files is far over the bound, and far under the limit once compressed). Asked only when the
 * temp folder is unusable: a run that has one never walks or compresses for it.
 */
export async function workDirRefusal(
  made: unknown,
  packs: ReadonlyArray<{ dir: string; name: string; version: string; knownSize?: number | undefined }>,
  inMemoryBytes: number,
  mtime: Date,
): Promise<PackpubError | undefined> {
  const needing: string[] = [];
  for (const pack of packs) {
    const fits = pack.knownSize !== undefined ? pack.knownSize <= inMemoryBytes : await archiveFits(pack.dir, pack.name, pack.version, inMemoryBytes, mtime);
    if (!fits) needing.push(`${pack.dir} (${pack.name}:${pack.version})`);
  }
  if (needing.length === 0) return undefined;
  const reason = made instanceof PackpubError ? made.message : `cannot create packpub's work folder in ${tmpdir()} (the temp folder, TMPDIR): ${errorMessage(made)}`;
  const mib = Math.round((inMemoryBytes / 1024 / 1024) * 10) / 10;
  return new PackpubError('CONFIG', `${reason}; ${needing.length === 1 ? `${needing[0]} needs it: its archive is` : `${needing.length} packs need it (${needing.join(', ')}): their archives are`} larger than the ${mib} MiB push keeps in memory`, {
    hint: `set TMPDIR to a writable folder with room for the archives being built (packs whose archives stay within ${mib} MiB are built in memory and need none); nothing was published`,
    cause: made,
  });
}

/** Whether the archive of the pack in `dir` takes at most `limit` bytes (false when its walk or build fails: validation or the build would say why). */
async function archiveFits(dir: string, name: string, version: string, limit: number, mtime: Date): Promise<boolean> {
  const [{ listPackEntries }, { buildArchive }] = await Promise.all([import('../archive/walk.js'), import('../archive/build.js')]);
  try {
    const entries = await listPackEntries(dir, { topFolder: `${name}-${version}` });
    let tar = 1024 + 10_240; // the end-of-archive blocks, and room for padding to a record
    for (const entry of entries) tar += 512 + Math.ceil(entry.size / 512) * 512 + 512 + Math.ceil((Buffer.byteLength(entry.archivePath) + 32) / 512) * 512;
    // zlib's deflateBound for stored blocks, and a gzip member's header and trailer per 1 MiB block.
    if (tar + (tar >> 12) + (tar >> 14) + (tar >> 25) + 64 * (Math.ceil(tar / (1024 * 1024)) + 1) <= limit) return true;
    const over = new AbortController();
    const built = await buildArchive(dir, join(workParent(), 'unwritten'), {
      name,
      version,
      mtime,
      entries,
      // Held in memory (never written), and given up once past the limit: at most the limit and one member held.
      inMemoryUpTo: Number.POSITIVE_INFINITY,
      signal: over.signal,
      onProgress: ({ writtenBytes }) => {
        if (writtenBytes > limit) over.abort();
      },
    });
    return built.size <= limit;
  } catch {
    return false;
  }
}

/** A work folder's name for a run that could not make one (workDirRefusal): nothing is written there, and nothing is there to remove. */
export function unmadeWorkDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(workParent(env), `${ownerTag()}unmade-${process.hrtime.bigint()}`);
}
