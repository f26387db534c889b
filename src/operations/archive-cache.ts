import { closeSync, constants, fstatSync, openSync, readFileSync, realpathSync, statSync, type BigIntStats } from 'node:fs';
import { systemHome } from '../util/home.js';
import type { Finding } from '../pack/findings.js';
import { isAbsolute, join, sep } from 'node:path';
import { ARCHIVE_FORMAT_VERSION } from '../archive/format.js';
import { folderCheck, statTreeHolds, type CheckedFolder, type StatTree } from '../archive/stat-tree.js';
import { isDigest, type Digest } from '../oci/digest.js';
import type { FetchedManifest } from '../oci/manifest.js';
import { isDeadTempName, makeDirs, realViaParent, removeOldFiles, writeFileAtomic } from '../util/fs.js';
import { VERSION } from '../version.js';

export interface CachedArchive {
  digest: Digest;
  size: number;
  /**
   * Layers a registry held under this content key's version that another build of zlib compressed from this very tar
   * (push compared them byte for byte, operations/held-layer.ts): such a layer is this pack, known without a read.
   */
  held?: Digest[];
}

/** Held layers remembered per content key (CachedArchive.held): the newest few. */
const MAX_HELD = 4;

/** A pack folder as remembered, not yet checked (ArchiveCache.remembered). */
export interface RememberedFolder {
  /** The folder's real path. */
  root: string;
  /** The content key of its last build, true only when `holds()`. */
  key: string;
  /** Whether every file and folder still has the stat signature it had then. */
  holds: () => boolean;
  /**
   * Whether `holds()` will answer from a check made earlier in this run (FolderChecksAhead) rather than check
   * the folder now: that check's own start (`checkedAhead`, or the answer that the folder changed) stands for it.
   */
  answeredAhead: () => boolean;
  /**
   * Set when `holds()` answered from a check made earlier in this run (FolderChecksAhead): when that check
   * began and the folder the path named then. What is built for this folder must be what was checked then.
   */
  checkedAhead?: CheckedFolder;
}

/** A remembered folder's check made ahead of the run's own (operations/precheck.ts), for the record it checked. */
export interface FolderCheckAhead {
  /** The record checked (recordId): an answer about another record of the same folder is not used. */
  id: string;
  held: boolean;
  since: CheckedFolder;
}

/** Where `remembered()` finds checks made ahead, by folder (real path). */
export interface FolderChecksAhead {
  answer(root: string): FolderCheckAhead | undefined;
  /** Undefined when `root` has its answer or none will come; otherwise settles when it may have come (ask again). */
  wait?(root: string): Promise<void> | undefined;
  /** The run asks no more: checks still to be made ahead are not needed. */
  done?(): void;
}

/** A pack that passed validation, remembered by content key. */
export interface CachedVerdict {
  name: string;
  version: string;
  warnings: number;
  /** The warnings themselves, so a run that skips validation still shows them. */
  findings?: Finding[];
}

/** A pack folder as last built here: its stat tree and the content key of what it held. */
interface FolderRecord {
  /** Archive entry mtime (ms) the key was computed with: SOURCE_DATE_EPOCH changes the archive. */
  mtime: number;
  digest: string;
  key: string;
  /** The length of its paths text. */
  n: number;
  /** The stat tree's paths, front-coded (encodePaths); read from the index: undefined until asked (`pathsLine`). */
  paths?: string;
  /** Its line of the index file (a JSON string), parsed only when the paths are asked for (pathsOf). */
  pathsLine?: string;
}

/**
 * A manifest as a registry last held it under a tag (published or read by a run here): its bytes as text,
 * the media type it was served with, and the digest they hash to.
 */
interface ManifestRecord {
  digest: string;
  mediaType: string;
  text: string;
}

/** Larger manifests are not remembered (a pack manifest is under 1 KiB). */
const MAX_MANIFEST_TEXT = 16 * 1024;

/** Entries kept of each kind (oldest dropped); a folder record is about 25 bytes per file of the pack. */
const MAX_ENTRIES = 20_000;
const INDEX_FILE = 'index.json';
/** How long a dead run's temp copy of the index stays (a run of another PID namespace may still be writing one under a pid gone here). */
const DEAD_TEMP_MS = 10 * 60_000;
// 3: stat tree digests hash the signatures as numbers (archive/signature.ts). 4: paths front-coded.
// 5: one JSON text per line (INDEX_LINES). An older index is one line: ignored without being parsed.
const INDEX_VERSION = 5;

/*
 * The index file: one JSON text per line (JSON.stringify writes no line break), so that each thread parses
 * only what it reads (issue 16: the 220-pack bench tree's index is ~500 KB, half of it the folders' paths,
 * a third the manifests): the check-ahead worker (operations/precheck.ts) the folders and their paths, the
 * run the folders without their paths (unless it checks a folder itself), the archives, verdicts and
 * manifests. Lines: the header (IndexHeader), then the maps in the order of INDEX_LINES, then one line per
 * folder record: its paths text as a JSON string (the record's `line` counts from the first of them).
 */
const INDEX_LINES = ['folders', 'archives', 'verdicts', 'manifests'] as const;
const FIRST_PATHS_LINE = 1 + INDEX_LINES.length;

/*
 * A stat tree's paths, stored as one string per folder: per path, how many leading characters it shares
 * with the path before it, `:`, then the rest; one line per path. The walk lists a folder's entries right
 * after it, so most lines are a number and a file name. Every run reads the whole index before its first
 * check: as JSON arrays, the paths of a 220-pack tree (12,000 strings, 80 % of the file) cost the parse,
 * and the copying of the garbage collector, more than the rest of the index.
 */

/** `paths` front-coded; undefined when a path holds a line break (its folder is not remembered: read next run). */
export function encodePaths(paths: readonly string[]): string | undefined {
  const lines: string[] = [];
  let previous = '';
  for (const path of paths) {
    if (path.includes('\n')) return undefined;
    const most = Math.min(previous.length, path.length);
    let shared = 0;
    while (shared < most && previous.charCodeAt(shared) === path.charCodeAt(shared)) shared++;
    lines.push(`${shared}:${path.slice(shared)}`);
    previous = path;
  }
  return lines.length === 0 ? undefined : lines.join('\n');
}

/** The paths of encodePaths' text; undefined when it is not such a text (a damaged index: the folder is read again). */
export function decodePaths(text: string): string[] | undefined {
  const paths: string[] = [];
  let previous = '';
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 1 || colon > 9) return undefined;
    let shared = 0;
    for (let i = 0; i < colon; i++) {
      const digit = line.charCodeAt(i) - 48;
      if (digit < 0 || digit > 9) return undefined;
      shared = shared * 10 + digit;
    }
    if (shared > previous.length) return undefined;
    previous = previous.slice(0, shared) + line.slice(colon + 1);
    paths.push(previous);
  }
  return paths;
}

/**
 * Everything in one file, read once per run and written once at its end. It is only valid for the packpub
 * build, archive format and zlib that wrote it (content keys and verdicts depend on them): any other is
 * ignored and replaced.
 */
interface IndexHeader {
  version: number;
  packpub: string;
  format: number;
  zlib: string | undefined;
}

/** What an index file holds, all of it parsed (indexDocument; a run parses only what it reads). */
export interface IndexDocument extends IndexHeader {
  folders: Record<string, { mtime: number; digest: string; key: string; paths: string }>;
  archives: Record<string, CachedArchive>;
  verdicts: Record<string, CachedVerdict>;
  manifests: Record<string, ManifestRecord>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Only well-formed entries of a map read from disk (a damaged or foreign file costs speed, never a wrong answer). */
function entries<T>(value: unknown, valid: (v: Record<string, unknown>) => boolean): Map<string, T> {
  const out = new Map<string, T>();
  if (!isRecord(value)) return out;
  for (const [k, v] of Object.entries(value)) if (isRecord(v) && valid(v)) out.set(k, v as T);
  return out;
}

// The paths are read, decoded (and checked) only for the folders a run asks about.
const validFolder = (v: Record<string, unknown>) =>
  typeof v['mtime'] === 'number' && typeof v['digest'] === 'string' && typeof v['key'] === 'string' && Number.isSafeInteger(v['n']) && Number.isSafeInteger(v['line']) && (v['line'] as number) >= 0;
const validArchive = (v: Record<string, unknown>) =>
  typeof v['digest'] === 'string' &&
  isDigest(v['digest']) &&
  Number.isSafeInteger(v['size']) &&
  (v['size'] as number) >= 0 &&
  (v['held'] === undefined || (Array.isArray(v['held']) && v['held'].every((d) => typeof d === 'string' && isDigest(d))));
const validManifest = (v: Record<string, unknown>) => typeof v['digest'] === 'string' && isDigest(v['digest']) && typeof v['mediaType'] === 'string' && typeof v['text'] === 'string';
const SEVERITIES: ReadonlySet<unknown> = new Set(['error', 'warning', 'info']);
const optional = (value: unknown, type: 'string' | 'number') => value === undefined || typeof value === type;
/** A finding as pack/findings.ts defines it: a run shows and reports it as it is. */
const validFinding = (f: unknown) =>
  isRecord(f) &&
  SEVERITIES.has(f['severity']) &&
  typeof f['rule'] === 'string' &&
  typeof f['file'] === 'string' &&
  typeof f['message'] === 'string' &&
  optional(f['path'], 'string') &&
  optional(f['line'], 'number') &&
  optional(f['column'], 'number');
// A verdict that counts warnings but kept no text is validated again.
const validVerdict = (v: Record<string, unknown>) =>
  typeof v['name'] === 'string' &&
  typeof v['version'] === 'string' &&
  Number.isSafeInteger(v['warnings']) &&
  (v['warnings'] as number) >= 0 &&
  (Array.isArray(v['findings']) ? v['findings'].every(validFinding) : v['warnings'] === 0);

/** What identifies a folder record: a check of it says nothing about another record of the same folder. */
function recordId(record: FolderRecord): string {
  return `${record.mtime}:${record.key}:${record.digest}:${record.n}`;
}

/** A record's paths text; undefined when its line is not the JSON string of that length (a damaged index). */
function pathsOf(record: FolderRecord): string | undefined {
  if (record.paths === undefined && record.pathsLine !== undefined) {
    let text: unknown;
    try {
      text = JSON.parse(record.pathsLine);
    } catch {
      text = undefined;
    }
    if (typeof text === 'string' && text.length === record.n) record.paths = text;
    record.pathsLine = undefined;
  }
  return record.paths;
}

/** Whether the record's paths still have their stat signatures (one lstat per path). */
function recordHolds(root: string, record: FolderRecord): boolean {
  const text = pathsOf(record);
  const paths = text === undefined ? undefined : decodePaths(text);
  return paths !== undefined && statTreeHolds({ root, paths, digest: record.digest });
}

interface Maps {
  folders: Map<string, FolderRecord>;
  archives: Map<string, CachedArchive>;
  verdicts: Map<string, CachedVerdict>;
  manifests: Map<string, ManifestRecord>;
}

const VALID: { [K in keyof Maps]: (v: Record<string, unknown>) => boolean } = { folders: validFolder, archives: validArchive, verdicts: validVerdict, manifests: validManifest };

/** An index file as read: each map parsed when first asked for (`get`). */
class Index {
  private readonly parsed: Partial<Maps> = {};

  /**
   * `lines`: the file's lines, undefined when there is no current index (none, damaged, another build's).
   * `identity`: the file's as read (fileIdentity), when it is known; a save while it still has it need not read it again.
   */
  constructor(
    private readonly lines?: readonly string[],
    readonly identity?: string,
  ) {}

  get<K extends keyof Maps>(kind: K): Maps[K] {
    return (this.parsed[kind] ??= this.parse(kind));
  }

  private parse<K extends keyof Maps>(kind: K): Maps[K] {
    const line = this.lines?.[1 + INDEX_LINES.indexOf(kind)];
    let doc: unknown;
    try {
      doc = line === undefined ? undefined : JSON.parse(line);
    } catch {
      doc = undefined;
    }
    const map = entries(doc, VALID[kind]);
    if (kind === 'folders') {
      for (const [root, record] of map as Map<string, FolderRecord & { line: number }>) {
        const pathsLine = this.lines?.[FIRST_PATHS_LINE + record.line];
        if (pathsLine === undefined) map.delete(root);
        else map.set(root, { mtime: record.mtime, digest: record.digest, key: record.key, n: record.n, pathsLine });
      }
    }
    return map as Maps[K];
  }
}

/** No index file at all (fileIdentity). */
const NO_FILE = 'none';

/**
 * What tells one index file from another: device, inode, size and change times (ns). Every save replaces the file
 * by rename (a new inode), and any edit in place changes its ctime: the same identity means the same bytes.
 */
function fileIdentity(st: BigIntStats | undefined): string {
  return st === undefined ? NO_FILE : `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

function readIndex(path: string): Index {
  let text: string;
  let fd: number | undefined;
  let identity: string;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    const st = fstatSync(fd, { bigint: true });
    identity = fileIdentity(st);
    // Only this user's own index, which no one else may write, is believed: another local user who could write it
    // (a cache folder made under umask 000, a shared folder) could make a changed pack read "unchanged". Such an
    // index is read as none, and the next save replaces it with this user's own (mode 0600).
    if (!st.isFile() || (typeof process.getuid === 'function' && (Number(st.uid) !== process.getuid() || (Number(st.mode) & 0o022) !== 0))) return new Index(undefined, identity);
    text = readFileSync(fd, 'utf8');
  } catch (err) {
    return new Index(undefined, (err as NodeJS.ErrnoException).code === 'ENOENT' ? NO_FILE : undefined);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return new Index(currentLines(text), identity);
}

/** The identity of the index file now (fileIdentity); undefined when it cannot be told. */
function identityNow(path: string): string | undefined {
  try {
    return fileIdentity(statSync(path, { bigint: true, throwIfNoEntry: false }));
  } catch {
    return undefined;
  }
}

/** The lines of an index file this build wrote (its header says so); undefined for any other text. */
function currentLines(text: string): string[] | undefined {
  const end = text.indexOf('\n');
  if (end < 0) return undefined; // an index of version 4 or older is one line, not parsed
  let header: unknown;
  try {
    header = JSON.parse(text.slice(0, end));
  } catch {
    return undefined;
  }
  const current = isRecord(header) && header['version'] === INDEX_VERSION && header['packpub'] === VERSION && header['format'] === ARCHIVE_FORMAT_VERSION && header['zlib'] === process.versions.zlib;
  return current ? text.split('\n') : undefined;
}

/** The index file's text for these maps (the newest MAX_ENTRIES of each kind). */
function indexText(maps: Maps): string {
  const header: IndexHeader = { version: INDEX_VERSION, packpub: VERSION, format: ARCHIVE_FORMAT_VERSION, zlib: process.versions.zlib };
  const pathLines: string[] = [];
  const folders: Array<[string, { mtime: number; digest: string; key: string; n: number; line: number }]> = [];
  for (const [root, record] of newest(maps.folders)) {
    const paths = pathsOf(record);
    if (paths === undefined) continue;
    folders.push([root, { mtime: record.mtime, digest: record.digest, key: record.key, n: paths.length, line: pathLines.length }]);
    pathLines.push(JSON.stringify(paths));
  }
  const sections = { folders: Object.fromEntries(folders), archives: Object.fromEntries(newest(maps.archives)), verdicts: Object.fromEntries(newest(maps.verdicts)), manifests: Object.fromEntries(newest(maps.manifests)) };
  return [JSON.stringify(header), ...INDEX_LINES.map((kind) => JSON.stringify(sections[kind])), ...pathLines, ''].join('\n');
}

/** An index file's text, all of it parsed; undefined when this build would not read it (tests, tools). */
export function indexDocument(text: string): IndexDocument | undefined {
  const lines = currentLines(text);
  if (lines === undefined) return undefined;
  const index = new Index(lines);
  const folders: IndexDocument['folders'] = {};
  for (const [root, record] of index.get('folders')) {
    const paths = pathsOf(record);
    if (paths !== undefined) folders[root] = { mtime: record.mtime, digest: record.digest, key: record.key, paths };
  }
  return {
    ...(JSON.parse(lines[0] ?? '') as IndexHeader),
    folders,
    archives: Object.fromEntries(index.get('archives')),
    verdicts: Object.fromEntries(index.get('verdicts')),
    manifests: Object.fromEntries(index.get('manifests')),
  };
}

/** The text of an index file holding `doc` (with `doc`'s header: tests write other builds' indexes with it). */
export function indexDocumentText(doc: IndexDocument): string {
  const folders = new Map(Object.entries(doc.folders).map(([root, f]) => [root, { ...f, n: f.paths.length }] as const));
  const text = indexText({ folders, archives: new Map(Object.entries(doc.archives)), verdicts: new Map(Object.entries(doc.verdicts)), manifests: new Map(Object.entries(doc.manifests)) });
  const header: IndexHeader = { version: doc.version, packpub: doc.packpub, format: doc.format, zlib: doc.zlib };
  return JSON.stringify(header) + text.slice(text.indexOf('\n'));
}

/** The repository of a manifests key (`repository:tag`; repository paths and tags hold no ':'). */
function repositoryOf(key: string): string {
  return key.slice(0, key.lastIndexOf(':'));
}

/** Set, moving the key to the newest end (Map order is the age order used when trimming). */
function touch<T>(map: Map<string, T>, key: string, value: T): void {
  map.delete(key);
  map.set(key, value);
}

function newest<T>(map: Map<string, T>): Array<[string, T]> {
  return [...map].slice(Math.max(0, map.size - MAX_ENTRIES));
}

/**
 * What lets a re-run on an unchanged tree skip work, never trusted blindly:
 * - per pack folder, the stat tree of its last build (archive/stat-tree.ts) and the content key it gave, so
 *   an unchanged folder is recognised from stat calls alone (no folder listing, no file read);
 * - the archive digest a content key produced, so an unchanged pack is recognised without compressing
 *   (and still checked against what each target holds);
 * - the validation verdict of a content key, so an unchanged pack is not validated again. Only passing
 *   verdicts are kept;
 * - per repository tag, the manifest a registry last held under it, so a re-run asks the registry only whether the tag still
 *   holds that digest (a conditional read answered without the manifest) rather than reading it again.
 * All of it lives in one file (`index.json`), read once and written once per run: with several runs at
 * once, each adds what it learned to what is there when it saves.
 */
export class ArchiveCache {
  private index: Index | undefined;
  /** The repositories of the manifests map's keys, made when knowsRepositoryNotTag is first asked. */
  private repositories: Set<string> | undefined;
  /** The real paths of the folders holding the pack folders asked about (realFolder). */
  private readonly realParents = new Map<string, string>();
  /** What this run learned, written over what is on disk at save(). */
  private readonly learned: Maps = { folders: new Map(), archives: new Map(), verdicts: new Map(), manifests: new Map() };

  /** `ahead`: checks of remembered folders made earlier in this run, which `remembered()`'s `holds()` then answers from. */
  constructor(
    private readonly dir: string,
    private readonly ahead?: FolderChecksAhead,
  ) {}

  private get indexPath(): string {
    return join(this.dir, INDEX_FILE);
  }

  /** The index as read at the first question (each of its maps parsed when first asked for). */
  private loaded(): Index {
    this.index ??= readIndex(this.indexPath);
    return this.index;
  }

  private learn<K extends keyof Maps>(kind: K, key: string, value: Maps[K] extends Map<string, infer T> ? T : never): void {
    touch(this.loaded().get(kind) as Map<string, typeof value>, key, value);
    touch(this.learned[kind] as Map<string, typeof value>, key, value);
  }

  /**
   * The content key of a pack folder whose files and folders all still have the stat signatures of its last
   * build here with the same archive mtime; undefined otherwise. Costs one lstat per file and folder.
   */
  folderKey(dir: string, mtime: Date): { root: string; key: string; checkedAhead?: CheckedFolder } | undefined {
    const folder = this.remembered(dir, mtime);
    if (folder === undefined || !folder.holds()) return undefined;
    return { root: folder.root, key: folder.key, ...(folder.checkedAhead === undefined ? {} : { checkedAhead: folder.checkedAhead }) };
  }

  /**
   * What folderKey(dir, mtime) answers if the folder is unchanged, before any check: its real path and the
   * content key of its last build here with this mtime; `holds()` is folderKey's check (one lstat per file
   * and folder), and only a folder that holds has that key. Undefined when nothing is remembered.
   */
  remembered(dir: string, mtime: Date): RememberedFolder | undefined {
    let root: string;
    try {
      root = this.realFolder(dir); // as the walk resolves it (fs.realpath)
    } catch {
      return undefined;
    }
    const record = this.loaded().get('folders').get(root);
    if (record === undefined || record.mtime !== mtime.getTime()) return undefined;
    // Asked when needed, not when remembered: the check ahead may have answered meanwhile. Only an answer about
    // the record read here counts.
    const aheadAnswer = (): FolderCheckAhead | undefined => {
      const ahead = this.ahead?.answer(root);
      return ahead === undefined || ahead.id !== recordId(record) ? undefined : ahead;
    };
    const folder: RememberedFolder = {
      root,
      key: record.key,
      holds: () => {
        const ahead = aheadAnswer();
        if (ahead === undefined) return recordHolds(root, record);
        if (ahead.held) folder.checkedAhead = ahead.since;
        return ahead.held;
      },
      answeredAhead: () => aheadAnswer() !== undefined,
    };
    return folder;
  }

  /**
   * `dir`'s real path, as realpathSync.native gives it (the JS version lstats every path component). A folder
   * that is no symbolic link is its parent's real path and its name, and a run's packs share a few parents: one
   * lstat per pack instead of one call per path component (~3 ms of the bench tree's re-run, issue 16).
   */
  private realFolder(dir: string): string {
    return realViaParent(dir, this.realParents, (st) => st.isDirectory()) ?? realpathSync.native(dir);
  }

  /**
   * Check now every remembered folder at or below one of `roots` (real paths) last built with this mtime,
   * as `remembered(dir).holds()` would: what operations/precheck.ts does on a worker thread while the run
   * starts. `answer` gets each folder's check, with when it began and the folder it named. In path order,
   * the order push checks its packs in (discovery sorts them): ahead of the run, the answers are there when
   * it asks; behind it (the run checks a folder itself when its answer is not there yet), checking the last
   * folders first met the run in the middle, but made it check the first ones itself when this check was
   * ahead, as it mostly is (issue 16). `planned` gets the folders to be checked, before the first check;
   * `stopped` is asked before each folder: once it says so, the check ends (the run asks no more).
   */
  checkFoldersBelow(
    roots: readonly string[],
    mtime: Date,
    answer: (root: string, check: FolderCheckAhead) => void,
    { planned, stopped = () => false }: { planned?: (folders: string[]) => void; stopped?: () => boolean } = {},
  ): void {
    const below = (path: string) => roots.some((r) => path === r || path.startsWith(r.endsWith(sep) ? r : r + sep));
    const folders = [...this.loaded().get('folders')].filter(([root, record]) => record.mtime === mtime.getTime() && below(root));
    folders.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    planned?.(folders.map(([root]) => root));
    for (const [root, record] of folders) {
      if (stopped()) return;
      const since = folderCheck(root);
      answer(root, { id: recordId(record), held: since.folder !== undefined && recordHolds(root, record), since });
    }
  }

  /** Remember what a folder held when it was built (buildArchive's `tree` and `contentKey`). */
  rememberFolder(tree: StatTree, mtime: Date, key: string): void {
    const paths = encodePaths(tree.paths);
    if (paths !== undefined) this.learn('folders', tree.root, { mtime: mtime.getTime(), digest: tree.digest, key, n: paths.length, paths });
  }

  get(key: string): CachedArchive | undefined {
    return this.loaded().get('archives').get(key);
  }

  set(key: string, value: CachedArchive): void {
    // The same archive built again keeps the held layers known to hold its tar.
    const held = this.get(key)?.digest === value.digest ? this.get(key)?.held : undefined;
    this.learn('archives', key, { digest: value.digest, size: value.size, ...(held === undefined ? {} : { held }) });
  }

  /** Remember that `layer` (of another zlib's compression) holds the tar of `key`, whose archive is remembered (CachedArchive.held). */
  rememberHeld(key: string, layer: Digest): void {
    const archive = this.get(key);
    if (archive === undefined || archive.held?.includes(layer) === true) return;
    this.learn('archives', key, { digest: archive.digest, size: archive.size, held: [...(archive.held ?? []), layer].slice(-MAX_HELD) });
  }

  /**
   * Whether `digest` is an archive a build remembered here made of some content key: such a layer inflates to that
   * key's tar, so a version holding it under another key's build holds other content, known without reading it
   * (push's comparison of a held layer with this build's tar, operations/held-layer.ts). One pass over the archives.
   */
  builtHere(digest: Digest): boolean {
    for (const archive of this.loaded().get('archives').values()) if (archive.digest === digest) return true;
    return false;
  }

  getVerdict(key: string, strict: boolean): CachedVerdict | undefined {
    return this.loaded().get('verdicts').get(`${key}-${strict ? 'strict' : 'lax'}`);
  }

  setVerdict(key: string, strict: boolean, verdict: CachedVerdict): void {
    this.learn('verdicts', `${key}-${strict ? 'strict' : 'lax'}`, verdict);
  }

  /**
   * The manifest last seen under `tag` of `repository` (on any registry: a run pushing to several targets
   * publishes the same bytes to each): what a re-run offers the registry (getManifest `known`), which then
   * only confirms that the tag still holds it. Never an answer by itself, and not checked here: getManifest
   * offers only bytes that hash to their digest (a damaged entry is read from the registry as usual).
   */
  manifest(repository: string, tag: string): FetchedManifest | undefined {
    const record = this.loaded().get('manifests').get(`${repository}:${tag}`);
    if (record === undefined) return undefined;
    const bytes = Buffer.from(record.text, 'utf8');
    return { descriptor: { mediaType: record.mediaType, digest: record.digest as Digest, size: bytes.length }, bytes };
  }

  /**
   * Whether a manifest was seen under some tag of `repository` (on any registry), though none under `tag`: the
   * next version of a pack published from here, most likely not on the registry yet. A guess about where the
   * work is, never an answer: push then looks the tag up once, right before its write, instead of before its
   * uploads too (publishTo); a tag that is there after all is found then, as it would have been before.
   */
  knowsRepositoryNotTag(repository: string, tag: string): boolean {
    const manifests = this.loaded().get('manifests');
    if (manifests.has(`${repository}:${tag}`)) return false;
    this.repositories ??= new Set([...manifests.keys()].map(repositoryOf));
    return this.repositories.has(repository);
  }

  /**
   * Remember the manifest a registry holds under a tag (one it answered, or this run published); only UTF-8
   * text that round-trips, and only of a pack manifest's size (a few hundred bytes; MAX_MANIFEST_TEXT).
   */
  rememberManifest(repository: string, tag: string, manifest: FetchedManifest): void {
    const key = `${repository}:${tag}`;
    if (manifest.bytes.length > MAX_MANIFEST_TEXT || this.loaded().get('manifests').get(key)?.digest === manifest.descriptor.digest) return;
    const text = manifest.bytes.toString('utf8');
    if (!Buffer.from(text, 'utf8').equals(manifest.bytes)) return;
    this.learn('manifests', key, { digest: manifest.descriptor.digest, mediaType: manifest.descriptor.mediaType, text });
    this.repositories?.add(repository);
  }

  /** Add what this run learned to the index on disk (atomically; a cache that cannot be written only costs speed). */
  async save(): Promise<void> {
    const { folders, archives, verdicts, manifests } = this.learned;
    if (folders.size + archives.size + verdicts.size + manifests.size === 0) return;
    // Another run may have saved since this one loaded: its index is read again and what this run learned added to it.
    // When the file is still the one this run read (and every save replaces it), what the run holds is that file with
    // what it learned added (learn): not read and parsed a second time (~16 us of CPU per entry, issue 16).
    const loaded = this.index;
    const unchanged = loaded?.identity !== undefined && identityNow(this.indexPath) === loaded.identity;
    const onDisk = unchanged ? loaded : readIndex(this.indexPath);
    if (!unchanged) {
      for (const kind of INDEX_LINES) {
        for (const [k, v] of this.learned[kind]) touch(onDisk.get(kind) as Map<string, unknown>, k, v);
      }
    }
    const text = indexText({ folders: onDisk.get('folders'), archives: onDisk.get('archives'), verdicts: onDisk.get('verdicts'), manifests: onDisk.get('manifests') });
    await makeDirs(this.dir, { mode: 0o700 }).catch(() => undefined);
    // ownFile: whatever is at its name (a named pipe there made the save wait for a reader for ever) is replaced.
    await writeFileAtomic(this.indexPath, text, { mode: 0o600, ownFile: true }).catch(() => undefined);
    // What a run killed while saving left (SIGKILL, a CI runner's hard stop): its temp copy of the index, whole or
    // not, is nobody's once its process is gone; without this each such kill left one in the folder for good.
    await removeOldFiles(this.dir, DEAD_TEMP_MS, (name) => name.startsWith(`${INDEX_FILE}.tmp-`) && isDeadTempName(name));
    for (const map of [folders, archives, verdicts, manifests]) map.clear();
  }
}

/**
 * `PACKPUB_CACHE_DIR`, else `$XDG_CACHE_HOME/packpub`, else `~/.cache/packpub`; undefined (no cache) when none is set
 * and there is no home folder (util/home.ts systemHome). A relative XDG_CACHE_HOME is ignored, as the XDG Base
 * Directory spec says ("must be absolute ... consider the path invalid and ignore it"; Go's os.UserCacheDir refuses
 * it): it was used relative to the working folder, a cache in each folder a run started from, inside a pack when
 * run from one.
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env['PACKPUB_CACHE_DIR']) return env['PACKPUB_CACHE_DIR'];
  const xdg = env['XDG_CACHE_HOME'];
  if (xdg && isAbsolute(xdg)) return join(xdg, 'packpub');
  const home = env['HOME'] || systemHome();
  return home === undefined ? undefined : join(home, '.cache', 'packpub');
}
