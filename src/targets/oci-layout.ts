import { createHash } from 'node:crypto';
import { closeSync, constants, createWriteStream, fstatSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { open, readdir, rm, type FileHandle } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PackpubError } from '../errors.js';
import { DigestStream, digestStream, isDigest, sha256Digest, verified, type Digest } from '../oci/digest.js';
import { goTypeFault, manifestMediaType, MAX_MANIFEST_BYTES, type Descriptor } from '../oci/manifest.js';
import { jsonTextFacts, shownPath } from '../oci/json-text.js';
import { ANNOTATION_REF_NAME, MEDIA_TYPE_OCI_INDEX } from '../oci/media-types.js';
import { isValidTag, shown, validateRepositoryPath } from '../oci/reference.js';
import { ambiguousTag, DELETE_RACE_HINT, TAG_RACE_HINT, type ArtifactStore, type DeleteTagRequest, type FetchedManifest, type PushBlobOptions, type PushManifestOptions } from './artifact-store.js';
import { isDeadTempName, localWriteError, makeDirs, readWhole, removeOldFiles, tempPathFor, trackTemp, writeFileAtomic } from '../util/fs.js';
import { withLockFile, type HeldLock } from '../util/lock-file.js';

/*
 * OCI image layout (image-spec v1.0 image-layout.md): `oci-layout`, `index.json`, `blobs/sha256/<hex>`.
 * One layout per repository at `<root>/<repository>/`, tags as `org.opencontainers.image.ref.name`,
 * which is what `skopeo ... oci:<root>/<repository>:<tag>` reads.
 * Every write is temp file + rename, and blobs are in place before index.json names them, so an
 * interrupted run never leaves a tag pointing at a missing blob.
 */

const LAYOUT_FILE = 'oci-layout';
const LAYOUT_CONTENT = '{"imageLayoutVersion":"1.0.0"}';
const LOCK_STALE_MS = 30_000;
/**
 * A temp file left this long by a process that is gone is removed (a live writer on another host keeps touching its
 * own); so is a blob no tag references, by a delete (removeOrphanBlobs).
 */
const TEMP_LEFT_MS = 60 * 60_000;

interface IndexFile {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  [key: string]: unknown;
}


/*
 * The layout's metadata calls (stat, a small file's open, read and close, rename) are made on this thread: each
 * through the thread pool cost ~25-110 µs of CPU (a hand-off to a pool thread and back), ~5 µs here, and a push of
 * one pack made ~40 of them (issue 16). Blob contents stream through the pool as before; index.json is written and
 * flushed through it (writeFileAtomic durable).
 */

/** A blob of the layout written whole by one call on this thread (pushBlob); a larger one streams through the thread pool. */
export const SMALL_BLOB_BYTES = 1024 * 1024;

/**
 * An index.json entry naming its manifest by a sha512 digest, the image spec's other registered algorithm (descriptor.md;
 * a layout another tool wrote), whose blob is `blobs/sha512/<hex>`. One such entry failed `list` of the whole layout
 * (exit 1, "not a sha256 digest ... not written by packpub or another OCI tool"). Its manifest is read, checked by that
 * digest, and named by its sha256, as a registry serves those bytes (a manifest naming its layer by sha512 is no pack's).
 */
const SHA512_DIGEST = /^sha512:([a-f0-9]{128})$/;

/** DIGEST_MISMATCH when what was read is not the blob `descriptor` names. */
function blobMatches(descriptor: Descriptor, digest: Digest, size: number): void {
  if (digest !== descriptor.digest || size !== descriptor.size) {
    throw new PackpubError('DIGEST_MISMATCH', `blob content does not match its descriptor: expected ${descriptor.digest} (${descriptor.size} bytes), got ${digest} (${size} bytes)`);
  }
}

/** statSync, or undefined on any error (as a rejected stat was read). An absent path throws nothing (throwIfNoEntry): the error's stack trace was most of the call's CPU. */
function statOrNone(path: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/**
 * Whether a blob file is there whole: a regular file, of `size` bytes when given. A host crash before the data
 * reached the disk (blobs are not fsynced; index.json is) leaves a blob renamed into place but empty; a copy of the layout killed
 * mid-file (`cp -r`) leaves one cut short under its final name: both were "there", and a re-run said `unchanged`
 * over a tag pull then refused (chaos s22 F9). One stat, as before; the content is checked when it is read.
 */
async function held(path: string, size?: number): Promise<boolean> {
  const info = statOrNone(path);
  return info !== undefined && info.isFile() && (size === undefined || info.size === size);
}

/** Whether the regular file at `path` holds exactly `bytes` (a manifest: small). */
async function holdsBytes(path: string, bytes: Buffer): Promise<boolean> {
  if (!(await held(path, bytes.length))) return false;
  return (await readRegular(path).catch(() => undefined))?.equals(bytes) === true;
}

/**
 * What to do with a layout file that does not hold what its name says (emptied by a host crash, cut short by a copy
 * of the layout killed mid-file, or damaged at its size, which a re-run cannot tell from whole without reading it).
 */
function damagedHint(path: string): string {
  return `the layout's file ${path} is damaged (a crash, or a copy of the layout cut short): remove it, then push or copy the version into the layout again, which writes it anew`;
}

/** Whether `folder` (absolute) is `top` or inside it. */
function isWithin(top: string, folder: string): boolean {
  return folder === top || folder.startsWith(top.endsWith(sep) ? top : top + sep);
}

function exists(path: string): boolean {
  return statOrNone(path) !== undefined;
}

/**
 * A layout file opened for reading, if it is a regular file. Opened without waiting (O_NONBLOCK): a named pipe
 * under a blob's or index.json's name made every command that read it wait for ever, a device read without end.
 */
async function openRegular(path: string): Promise<FileHandle> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    if ((await handle.stat()).isFile()) return handle;
  } catch (err) {
    await handle.close();
    throw err;
  }
  await handle.close();
  throw notRegular(path);
}

function notRegular(path: string): PackpubError {
  return new PackpubError('REGISTRY', `${path} is not a regular file`, {
    hint: 'a layout holds its index and blobs as regular files; a named pipe, device or socket there is never read: restore the layout from where it came',
  });
}

/**
 * A layout path the system refuses to follow (a symbolic link loop) or to take (too long): said as such, as makeDirs
 * says it for a folder to create (util/fs.ts). Each pack failed with a bare "ELOOP: too many symbolic links
 * encountered, stat .../index.json" or ENAMETOOLONG, as INTERNAL.
 */
function unusablePath(path: string, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ELOOP') {
    return new PackpubError('LOCAL_WRITE', `cannot use ${path}: a symbolic link on its way leads back to itself (ELOOP)`, { hint: 'fix or remove that link, or give another folder (--oci-layout, copy\'s oci:DIR)', cause: err });
  }
  if (code === 'ENAMETOOLONG') {
    return new PackpubError('LOCAL_WRITE', `cannot use ${path}: the path is longer than this system allows (ENAMETOOLONG)`, { hint: 'give a folder with a shorter path (--oci-layout, copy\'s oci:DIR)', cause: err });
  }
  return err;
}


/**
 * The bytes of a layout file that is a regular file, opened as openRegular opens one (a small file: read on this thread).
 * `manifest`: what it is named as a manifest, refused as a registry's answer is past 4 MiB (registry/errors.ts
 * oversizedManifest: `list` shows such a tag as no pack): a tag naming a layer of GiBs was read whole, `list` of the
 * whole layout failing "File size ... is greater than 2 GiB", a bug in packpub.
 */
async function readRegular(path: string, manifest?: string): Promise<Buffer> {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) throw notRegular(path);
    if (manifest !== undefined && info.size > MAX_MANIFEST_BYTES) {
      throw (await import('../registry/errors.js')).oversizedManifest(`manifest ${manifest} is ${info.size} bytes, more than the 4 MiB limit`);
    }
    return readWhole(fd, info.size);
  } finally {
    closeSync(fd);
  }
}

export class OciLayoutStore implements ArtifactStore {
  readonly kind = 'oci-layout' as const;
  /** A tag is an index entry: removing it keeps the manifest under its other tags. */
  readonly deleteScope = 'tag' as const;
  readonly location: string;
  /** Serializes index.json updates within this process; a lock file covers other processes. */
  private indexQueue = new Map<string, Promise<unknown>>();
  /**
   * The last index.json each repository's lookups read (its file identity, bytes and parse): `list` looks up
   * every version, and reading and parsing a large index again per version made it quadratic. Each lookup
   * still stats the file: writers replace it by rename (a new inode) and any edit changes its size, mtime or
   * ctime, so an unchanged identity means unchanged bytes and the index is never stale.
   */
  private lookups = new Map<string, { identity: string; bytes: Buffer; index: IndexFile }>();
  /** Repositories whose temp files of dead runs this store has looked for (once per repository it writes). */
  private swept = new Set<string>();
  /** Repositories whose `oci-layout` file was read (checkLayoutVersion). */
  private versionChecked = new Set<string>();

  constructor(root: string) {
    this.location = root;
  }

  reference(repository: string, tag?: string): string {
    const base = `oci:${join(this.location, repository)}`;
    // A digest is written `@sha256:...`, as for a registry and as inspect, pull and tag read it back.
    if (tag !== undefined && isDigest(tag)) return `${base}@${tag}`;
    return tag === undefined ? base : `${base}:${tag}`;
  }

  private dir(repository: string): string {
    validateRepositoryPath(repository);
    return join(this.location, repository);
  }

  /**
   * Where a blob lives. The digest may come from an index.json or a manifest packpub did not write: one that is
   * not a digest ("sha256:../../x") would lead outside the layout, where delete removed what it named.
   */
  private blobPath(repository: string, digest: Digest): string {
    if (!isDigest(digest)) {
      throw new PackpubError('REGISTRY', `${this.dir(repository)} names a blob by "${shown(String(digest).slice(0, 100))}", which is not a sha256 digest`, {
        hint: 'the layout was not written by packpub or another OCI tool; check where it came from',
      });
    }
    return join(this.dir(repository), 'blobs', 'sha256', digest.slice('sha256:'.length));
  }

  /**
   * A repository folder whose `oci-layout` file names another layout version than 1.0.0 (the one image-spec defines,
   * which packpub writes) is refused for reads and writes, as ORAS refuses it (ErrUnsupportedVersion): packpub read
   * it as 1.0.0 and wrote its 1.0.0 files into it, exit 0. Read once a run per repository; a file that is no JSON
   * object naming a version is left to the rest of the checks (packpub writes it whole, with a rename).
   */
  private checkLayoutVersion(repository: string): void {
    if (this.versionChecked.has(repository)) return;
    const path = join(this.dir(repository), LAYOUT_FILE);
    let version: unknown;
    const info = statOrNone(path);
    if (info?.isFile() === true && info.size <= 64 * 1024) {
      try {
        version = (JSON.parse(readFileSync(path, 'utf8')) as { imageLayoutVersion?: unknown } | null)?.imageLayoutVersion;
      } catch {
        version = undefined;
      }
    }
    if (typeof version === 'string' && version !== '1.0.0') {
      throw new PackpubError('REGISTRY', `${path} says the layout is of version ${JSON.stringify(shown(version.slice(0, 100)))}: packpub reads and writes OCI layouts of version 1.0.0 only, as ORAS does`, {
        hint: 'give packpub another folder (--oci-layout, oci:DIR): a layout of another version is for the tool that wrote it',
      });
    }
    this.versionChecked.add(repository);
  }

  /** `lookup`: the caller only reads the result, so an unchanged file's earlier parse may be returned. */
  private async readIndex(repository: string, lookup = false): Promise<IndexFile | undefined> {
    this.checkLayoutVersion(repository);
    const path = join(this.dir(repository), 'index.json');
    const earlier = lookup ? this.lookups.get(repository) : undefined;
    let identity = '';
    let bytes: Buffer;
    try {
      if (lookup) {
        // Taken before the read: a file replaced in between is only read again at the next lookup.
        const st = statSync(path, { bigint: true, throwIfNoEntry: false });
        if (st === undefined) return undefined; // no index.json, as an ENOENT below
        identity = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
        if (earlier?.identity === identity) return earlier.index;
      }
      bytes = await readRegular(path);
    } catch (err) {
      // ENOTDIR: the layout's folder, or one on its way, is a file: no index there either (a write says why).
      if (['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '')) return undefined;
      throw unusablePath(path, err);
    }
    if (earlier?.bytes.equals(bytes) === true) {
      this.lookups.set(repository, { ...earlier, identity });
      return earlier.index;
    }
    try {
      const index = JSON.parse(bytes.toString('utf8')) as IndexFile;
      if (!Array.isArray(index.manifests)) throw new Error('no "manifests" array');
      // Each entry is read as a descriptor (its digest, its annotations): one that is no object was a crash.
      const odd = index.manifests.findIndex((m) => typeof m !== 'object' || m === null || Array.isArray(m));
      if (odd >= 0) throw new Error(`manifests[${odd}] is not an object`);
      // An entry Go's JSON reader (skopeo's, ORAS's) refuses the index for (annotations that are a number, a size of
      // 467.0 or "x"): the entry was read as untagged, list said nothing of it (exit 0) where skopeo refuses the layout.
      const faults = index.manifests.map((m) => goTypeFault(m as unknown as Record<string, unknown>, true));
      const wrong = faults.findIndex((f) => f !== undefined);
      if (wrong >= 0) throw new Error(`manifests[${wrong}].${faults[wrong] ?? ''}, which Go's JSON reader (skopeo's, ORAS's) refuses`);
      const facts = jsonTextFacts(bytes.toString('utf8'));
      const size = facts.nonIntegers.find((f) => f.path.length === 3 && f.path[0] === 'manifests' && f.path[2] === 'size');
      if (size !== undefined) throw new Error(`${shownPath(size.path)} is ${size.literal.slice(0, 40)}, not an integer, which Go's JSON reader (skopeo's, ORAS's) refuses`);
      // A key given twice in the index or an entry (`"annotations":{tag},"annotations":{...}`): Go merges the two (the
      // tag kept), JSON.parse keeps the last (no tag): the version was left out, exit 0, where skopeo and ORAS read it.
      const twice = facts.duplicates.find((d) => d.path.length === 0 || (d.path.length === 2 && d.path[0] === 'manifests'));
      if (twice !== undefined) throw new Error(`${twice.path.length === 0 ? 'the index' : shownPath(twice.path)} has the key ${JSON.stringify(twice.key.slice(0, 100))} twice, which Go's JSON reader (skopeo's, ORAS's) merges where packpub keeps the last`);
      if (lookup) this.lookups.set(repository, { identity, bytes, index });
      return index;
    } catch (err) {
      // The tags live only here; the blobs are still there (chaos s22 F10: a host crash, or a copy of the layout killed
      // mid-file, empties or cuts it short): say how to go on, not only what is wrong.
      throw new PackpubError('REGISTRY', `${path} is not a valid OCI index: ${err instanceof Error ? err.message.slice(0, 200) : String(err)}`, {
        cause: err,
        hint: `the layout's index is damaged (a crash, or a copy of the layout cut short?) and its tags with it: restore it from where the layout came from, or move it aside and push or copy the versions again (the blobs already there are not written twice)`,
      });
    }
  }

  private async ensureLayout(repository: string): Promise<void> {
    const dir = this.dir(repository);
    let made: string | undefined;
    try {
      made = await makeDirs(join(dir, 'blobs', 'sha256'));
      if (!exists(join(dir, LAYOUT_FILE))) await writeFileAtomic(join(dir, LAYOUT_FILE), LAYOUT_CONTENT, { ownFile: true });
    } catch (err) {
      throw localWriteError(err, dir);
    }
    this.checkLayoutVersion(repository);
    // A repository's folder this call made holds no temp file of a dead run: nothing to look for (two folder reads).
    if (made !== undefined && isWithin(made, resolve(dir))) this.swept.add(repository);
    if (!this.swept.has(repository)) {
      this.swept.add(repository);
      await this.removeDeadTempFiles(dir);
    }
  }

  /**
   * A run abandoned or killed mid-write leaves its temp file (a layer of hundreds of MB) in the layout for good: the
   * next run writes under another name (review s21 L6). Removed once its process is gone on this host and it has not
   * been written for an hour; any doubt (another owner, an error) keeps it.
   */
  private async removeDeadTempFiles(dir: string): Promise<void> {
    for (const folder of [dir, join(dir, 'blobs', 'sha256')]) await removeOldFiles(folder, TEMP_LEFT_MS, isDeadTempName);
  }

  private findEntry(index: IndexFile | undefined, reference: string): Descriptor | undefined {
    if (index === undefined) return undefined;
    if (isDigest(reference)) return index.manifests.find((m) => m.digest === reference);
    return index.manifests.find((m) => m.annotations?.[ANNOTATION_REF_NAME] === reference);
  }

  /**
   * findEntry for a read: a tag named by several entries of other manifests (a hand-edited index; no tool writes one)
   * is refused, as skopeo reads the first and ORAS the last (its tag map): packpub read the first, exit 0, where an
   * `oras cp` of the layout sends the other.
   */
  private readEntry(index: IndexFile | undefined, repository: string, reference: string): Descriptor | undefined {
    const entry = this.findEntry(index, reference);
    if (entry === undefined || isDigest(reference) || index === undefined) return entry;
    const other = index.manifests.find((m) => m.annotations?.[ANNOTATION_REF_NAME] === reference && m.digest !== entry.digest);
    if (other === undefined) return entry;
    throw ambiguousTag(new PackpubError('REGISTRY', `${this.dir(repository)}/index.json names the tag ${reference} twice, for ${entry.digest} and ${other.digest}: skopeo reads the first, ORAS the last, so packpub reads neither`, {
      hint: "remove the wrong entry from that index.json (the one that does not name the manifest you published): packpub reads, writes and deletes nothing of this tag until then",
    }));
  }

  async headManifest(repository: string, reference: string): Promise<Descriptor | undefined> {
    const entry = this.readEntry(await this.readIndex(repository, true), repository, reference);
    if (entry === undefined) return undefined;
    if (SHA512_DIGEST.test(String(entry.digest))) return (await this.sha512Manifest(repository, entry))?.descriptor;
    if (!(await held(this.blobPath(repository, entry.digest), entry.size))) return undefined;
    return { mediaType: entry.mediaType, digest: entry.digest, size: entry.size };
  }

  /** The manifest of an entry named by a sha512 digest (SHA512_DIGEST), by its sha256; undefined when its blob is not there. */
  private async sha512Manifest(repository: string, entry: Descriptor): Promise<FetchedManifest | undefined> {
    const hex = String(entry.digest).slice('sha512:'.length);
    const path = join(this.dir(repository), 'blobs', 'sha512', hex);
    let bytes: Buffer;
    try {
      bytes = await readRegular(path, this.reference(repository, String(entry.digest)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    if (createHash('sha512').update(bytes).digest('hex') !== hex) {
      throw new PackpubError('DIGEST_MISMATCH', `manifest blob ${String(entry.digest).slice(0, 19)}... in ${this.dir(repository)} does not match its digest`, { hint: damagedHint(path) });
    }
    return { descriptor: { mediaType: manifestMediaType(bytes, entry.mediaType), digest: sha256Digest(bytes), size: bytes.length }, bytes };
  }

  /** The digest, as packpub names it (sha256), of the manifest `entry` names; undefined when none is there. */
  private async heldDigest(repository: string, entry: Descriptor): Promise<Digest | undefined> {
    if (SHA512_DIGEST.test(String(entry.digest))) return (await this.sha512Manifest(repository, entry))?.descriptor.digest;
    return isDigest(entry.digest) && !exists(this.blobPath(repository, entry.digest)) ? undefined : entry.digest;
  }

  async getManifest(repository: string, reference: string): Promise<FetchedManifest | undefined> {
    const entry = this.readEntry(await this.readIndex(repository, true), repository, reference);
    if (entry === undefined) return undefined;
    if (SHA512_DIGEST.test(String(entry.digest))) return this.sha512Manifest(repository, entry);
    let bytes: Buffer;
    try {
      bytes = await readRegular(this.blobPath(repository, entry.digest), this.reference(repository, reference));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    if (sha256Digest(bytes) !== entry.digest) {
      throw new PackpubError('DIGEST_MISMATCH', `manifest blob ${entry.digest} in ${this.dir(repository)} does not match its digest`, { hint: damagedHint(this.blobPath(repository, entry.digest)) });
    }
    // The bytes' own type: an index entry naming another is written again under it by copy (manifest.ts manifestMediaType).
    return { descriptor: { mediaType: manifestMediaType(bytes, entry.mediaType), digest: entry.digest, size: bytes.length }, bytes };
  }

  async pushManifest(repository: string, reference: string, bytes: Buffer, mediaType: string, options: PushManifestOptions = {}): Promise<Digest> {
    const digest = sha256Digest(bytes);
    await this.ensureLayout(repository);
    const path = this.blobPath(repository, digest);
    // Compared whole (a manifest is small): one damaged on the disk at the same size is written again too.
    const place = async () => {
      if (!(await holdsBytes(path, bytes))) await writeFileAtomic(path, bytes, { ownFile: true }).catch((err: unknown) => Promise.reject(localWriteError(err, path)));
    };
    await place();
    await this.updateIndex(repository, async (index) => {
      // Under the lock, where a delete removes the blobs no tag references any more (the `{}` config every version
      // shares among them): what this manifest names must still be there when the tag is written, not only when
      // the uploads found it (review s21 F3: a delete of another version in between left the tag over a removed config).
      await place();
      const gone = await this.missingBlobs(repository, bytes);
      if (gone !== undefined) {
        throw new PackpubError('REGISTRY', `blob ${gone} of ${this.reference(repository, reference)} was removed by another run (a delete) while this one wrote it; nothing was tagged`, {
          hint: 'run again: the next run writes the blob again',
        });
      }
      const descriptor: Descriptor = { mediaType, digest, size: bytes.length };
      if (isDigest(reference)) {
        if (!index.manifests.some((m) => m.digest === digest)) index.manifests.push(descriptor);
        return;
      }
      // Checked under the index lock: no other process can write this tag between the check and the write. An entry
      // whose manifest file is gone holds nothing, as getManifest reads it (a damaged one removed by hand, as its hint
      // says): the version is written again (was: push called it "created by another publisher during this run").
      const entry = this.findEntry(index, reference);
      const current = (entry === undefined ? undefined : await this.heldDigest(repository, entry)) ?? null;
      if (options.ifTagHolds !== undefined && current !== options.ifTagHolds && current !== digest) {
        throw new PackpubError(
          'CONFLICT',
          `${this.reference(repository, reference)} was ${options.ifTagHolds === null ? 'created' : 'changed'} by another publisher during this run (it holds ${current ?? 'nothing'})`,
          { hint: TAG_RACE_HINT },
        );
      }
      index.manifests = index.manifests.filter((m) => m.annotations?.[ANNOTATION_REF_NAME] !== reference);
      index.manifests.push({ ...descriptor, annotations: { [ANNOTATION_REF_NAME]: reference } });
    });
    return digest;
  }

  async hasBlob(repository: string, digest: Digest, size?: number): Promise<boolean> {
    return held(this.blobPath(repository, digest), size);
  }

  async blobIntact(repository: string, descriptor: Descriptor): Promise<boolean> {
    let handle: FileHandle;
    try {
      handle = await openRegular(this.blobPath(repository, descriptor.digest));
    } catch {
      return false;
    }
    try {
      const found = await digestStream(handle.createReadStream());
      return found.digest === descriptor.digest && found.size === descriptor.size;
    } catch {
      return false;
    }
  }

  async pushBlob(repository: string, descriptor: Descriptor, openStream: () => Readable, options?: PushBlobOptions): Promise<void> {
    await this.ensureLayout(repository);
    const path = this.blobPath(repository, descriptor.digest);
    // One of another size (cut short, emptied by a crash) is written again: the rename replaces it; so is one
    // blobIntact found damaged at its size (`replace`).
    if (options?.replace !== true && (await held(path, descriptor.size))) return;
    if (descriptor.size <= SMALL_BLOB_BYTES) return this.pushSmallBlob(path, descriptor, openStream);
    const tmp = tempPathFor(path);
    const hasher = new DigestStream();
    const written = trackTemp(tmp);
    try {
      await pipeline(openStream(), hasher, createWriteStream(tmp));
      blobMatches(descriptor, hasher.digest, hasher.size);
      renameSync(tmp, path);
    } catch (err) {
      // Through the pool, as the temp file's open may still be there (a source that failed before its first byte).
      await rm(tmp, { force: true });
      throw localWriteError(err, path);
    } finally {
      written();
    }
  }

  /**
   * A blob of at most SMALL_BLOB_BYTES (a pack's config, most pack archives, manifests): read whole, checked, then
   * written and renamed into place with one call each on this thread. A write stream cost three round trips through
   * the thread pool (open, write, close) and the stream machinery, ~1 ms of CPU a blob (issue 16). Nothing is
   * written when the bytes do not match; a source longer than said is hashed to its end, not held.
   */
  private async pushSmallBlob(path: string, descriptor: Descriptor, openStream: () => Readable): Promise<void> {
    const hash = createHash('sha256');
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of openStream() as AsyncIterable<Buffer | string>) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        hash.update(bytes);
        size += bytes.length;
        if (size <= descriptor.size) chunks.push(bytes);
      }
      blobMatches(descriptor, `sha256:${hash.digest('hex')}`, size);
    } catch (err) {
      throw localWriteError(err, path);
    }
    const tmp = tempPathFor(path);
    try {
      writeFileSync(tmp, Buffer.concat(chunks, size));
      renameSync(tmp, path);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw localWriteError(err, path);
    }
  }

  async fetchBlob(repository: string, descriptor: Descriptor): Promise<Readable> {
    const path = this.blobPath(repository, descriptor.digest);
    let handle: FileHandle;
    try {
      handle = await openRegular(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new PackpubError('NOT_FOUND', `blob ${descriptor.digest} is missing from ${this.dir(repository)}`);
      throw err;
    }
    // A file of the layout that does not hold what its name says: damaged on this disk (a host crash, a copy of the
    // layout killed mid-file), not served by anyone.
    const hint = damagedHint(path);
    return verified(handle.createReadStream(), descriptor, { hint });
  }

  async listTags(repository: string): Promise<string[]> {
    const index = await this.readIndex(repository);
    if (index === undefined) return [];
    // As a registry's listing is read (client.ts paged): each tag once, and only names a tag may have (a number
    // crashed list; a name with control characters went to the terminal and into a copy).
    const tags = new Set<string>();
    for (const m of index.manifests) {
      const tag: unknown = m.annotations?.[ANNOTATION_REF_NAME];
      if (typeof tag === 'string' && isValidTag(tag)) tags.add(tag);
    }
    return [...tags];
  }

  async listRepositories(prefix: string): Promise<string[]> {
    const found: string[] = [];
    const walk = async (repo: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(join(this.location, repo), { withFileTypes: true });
      } catch {
        return;
      }
      // Its `oci-layout` file, or its index.json alone (a layout whose `oci-layout` file was lost, or another tool's
      // that leaves it out: pull, inspect and skopeo read it; list left the pack out, exit 0, copy --all said "nothing to copy").
      const isRepository = entries.some((e) => e.isFile() && (e.name === LAYOUT_FILE || e.name === 'index.json'));
      if (repo !== prefix && isRepository) found.push(repo);
      for (const e of entries) {
        // Only a repository's own `blobs` folder holds no repository: a pack named `blobs` is one (it was left out
        // of list and copy --all, exit 0).
        if (e.isDirectory() && !(isRepository && e.name === 'blobs')) await walk(`${repo}/${e.name}`);
        // A link to a repository's folder (a layout put together with links: push, pull and inspect follow them) is
        // one too; copy --all left it out, exit 0. Never walked into: a link may lead anywhere, up to `/`.
        else if (e.isSymbolicLink() && ((await held(join(this.location, repo, e.name, LAYOUT_FILE))) || (await held(join(this.location, repo, e.name, 'index.json'))))) found.push(`${repo}/${e.name}`);
      }
    };
    await walk(prefix);
    return found.sort();
  }

  /**
   * Drop the tag's entry from index.json (under the index lock; CONFLICT when it moved since the caller
   * looked), then remove the blobs of its manifest that no remaining entry references. index.json is
   * written first (temp file + rename), so an interrupted delete leaves at most unreferenced blobs, never
   * a tag pointing at a missing one.
   */
  async deleteTag({ repository, tag, digest }: DeleteTagRequest): Promise<void> {
    let candidates: Digest[] = [];
    let kept: Set<Digest> | undefined;
    await this.updateIndex(
      repository,
      async (index) => {
        const entry = this.findEntry(index, tag);
        if (entry === undefined) throw new PackpubError('NOT_FOUND', `${this.reference(repository, tag)} does not exist`);
        if (entry.digest !== digest && (await this.heldDigest(repository, entry)) !== digest) {
          throw new PackpubError('CONFLICT', `${this.reference(repository, tag)} was changed by another publisher during this run (it holds ${entry.digest})`, { hint: DELETE_RACE_HINT });
        }
        index.manifests = index.manifests.filter((m) => m !== entry);
        const keep = await this.referencedBlobs(repository, index.manifests);
        kept = keep;
        candidates = keep === undefined ? [] : [digest, ...((await this.referencedBlobs(repository, [entry])) ?? [])].filter((d) => !keep.has(d));
      },
      async () => {
        for (const d of new Set(candidates)) await rm(this.blobPath(repository, d), { force: true });
        if (kept !== undefined) await this.removeOrphanBlobs(repository, kept);
      },
    );
  }

  /**
   * Blobs no entry of the index references, left by a delete killed between its index.json write and its blob
   * removals (chaos s22 F4: a layer of hundreds of MB, for good). Under the index lock, during a delete, and only
   * those unchanged for an hour: a push writes its blobs before it takes the lock to tag them, so a fresh
   * unreferenced blob may be a live push's.
   */
  private async removeOrphanBlobs(repository: string, kept: ReadonlySet<Digest>): Promise<void> {
    const orphan = (name: string) => /^[0-9a-f]{64}$/.test(name) && !kept.has(`sha256:${name}` as Digest);
    await removeOldFiles(join(this.dir(repository), 'blobs', 'sha256'), TEMP_LEFT_MS, orphan);
  }

  /** The first blob (config, layer, or manifest of an index) that `manifest` names and the layout lacks; undefined when none. */
  private async missingBlobs(repository: string, manifest: Buffer): Promise<Digest | undefined> {
    let doc: { config?: Descriptor; layers?: Descriptor[]; manifests?: Descriptor[] };
    try {
      doc = JSON.parse(manifest.toString('utf8')) as typeof doc;
    } catch {
      return undefined;
    }
    for (const d of [...(doc.config === undefined ? [] : [doc.config]), ...(doc.layers ?? []), ...(doc.manifests ?? [])]) {
      if (typeof d?.digest === 'string' && isDigest(d.digest) && !(await held(this.blobPath(repository, d.digest), typeof d.size === 'number' ? d.size : undefined))) return d.digest;
    }
    return undefined;
  }

  /**
   * Every blob the entries reference (their manifests, configs, layers, and the manifests of an index);
   * undefined when one of them cannot be read, so the caller removes nothing rather than guess.
   */
  private async referencedBlobs(repository: string, entries: readonly Descriptor[]): Promise<Set<Digest> | undefined> {
    const found = new Set<Digest>();
    const queue = [...entries];
    for (let entry = queue.pop(); entry !== undefined; entry = queue.pop()) {
      if (found.has(entry.digest)) continue;
      found.add(entry.digest);
      let doc: { config?: Descriptor; layers?: Descriptor[]; manifests?: Descriptor[] };
      try {
        doc = JSON.parse((await readRegular(this.blobPath(repository, entry.digest))).toString('utf8')) as typeof doc;
      } catch {
        return undefined;
      }
      for (const d of [...(doc.config === undefined ? [] : [doc.config]), ...(doc.layers ?? [])]) {
        if (typeof d?.digest !== 'string' || !isDigest(d.digest)) return undefined; // names no blob of this layout: remove nothing on its word
        found.add(d.digest);
      }
      queue.push(...(doc.manifests ?? []));
    }
    return found;
  }

  async prepareRepository(): Promise<void> {}

  async close(): Promise<void> {}

  /** Change index.json under the lock; `afterWrite` runs once it is written, still under the lock. */
  private async updateIndex(repository: string, change: (index: IndexFile) => void | Promise<void>, afterWrite?: () => Promise<void>): Promise<void> {
    const previous = this.indexQueue.get(repository) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.withLock(repository, async (lock) => {
      const index: IndexFile = (await this.readIndex(repository)) ?? { schemaVersion: 2, manifests: [] };
      index.mediaType ??= MEDIA_TYPE_OCI_INDEX;
      await change(index);
      const indexPath = join(this.dir(repository), 'index.json');
      // A run of another host or PID namespace takes the lock of one stalled past LOCK_STALE_MS (a paused VM, a hung
      // disk) and writes its tags; this run's index, read before, would drop them, both runs saying published.
      const stillHeld = async () => {
        if (!(await lock.held())) throw this.lockTakenOver(repository);
      };
      await writeFileAtomic(indexPath, JSON.stringify(index), { beforeRename: stillHeld, durable: true, ownFile: true }).catch((err: unknown) => Promise.reject(localWriteError(err, indexPath)));
      // The taker may have tagged what this run's view would remove (a delete's blobs): nothing more is done then.
      if (afterWrite !== undefined && (await lock.held())) await afterWrite();
    }));
    this.indexQueue.set(repository, next);
    try {
      await next;
    } finally {
      if (this.indexQueue.get(repository) === next) this.indexQueue.delete(repository);
    }
  }

  /**
   * A lock file next to index.json so concurrent packpub processes do not lose each other's tags. It
   * holds the owner's pid and host: a lock whose process is gone (a killed run) is taken over at once.
   */
  private lockTakenOver(repository: string): PackpubError {
    const lock = join(this.dir(repository), 'index.json.lock');
    return new PackpubError('CONFLICT', `${lock} was taken over by another run while this one held it (it stalled for more than ${LOCK_STALE_MS / 1000} s): ${this.reference(repository)} was not changed by this run`, {
      hint: 'run again: the other run\'s tags are kept, and this run\'s blobs already there are not written twice',
    });
  }

  private async withLock<T>(repository: string, fn: (lock: HeldLock) => Promise<T>): Promise<T> {
    const lock = join(this.dir(repository), 'index.json.lock');
    const busy = () => new PackpubError('REGISTRY', `${lock} is held by another process`, { hint: `remove ${lock} if no packpub is running` });
    return withLockFile(lock, { staleMs: LOCK_STALE_MS, waitMs: LOCK_STALE_MS * 2, busy, cannotLock: (err) => localWriteError(err, lock) }, fn);
  }

}
