import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, readdir, realpath, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, sep } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import * as tar from 'tar-stream';
import { PackpubError, errorMessage } from '../errors.js';
import { ChartError, folderEntered, MAX_CHART_ENTRIES, readChart, readOptionalText } from '../pack/chart.js';
import { parseHelmIgnore } from '../pack/helmignore.js';

/* Packing a chart directory into a deterministic .tgz, as `helm package` lays it out. */

/** The gzip level of a packed chart: `helm package`'s (Go's DefaultCompression, level 6). */
const CHART_GZIP_LEVEL = 6;

/** 1980-01-01T00:00:00Z: a fixed, plausible mtime when SOURCE_DATE_EPOCH is not set. */
const DEFAULT_MTIME_SECONDS = 315_532_800;

export interface PackChartOptions {
  /** Seconds since the epoch for every entry (reproducible-builds.org SOURCE_DATE_EPOCH). */
  sourceDateEpoch?: number;
}

export interface PackedChart {
  file: string;
  size: number;
  entries: number;
  /** Symbolic links of the chart folder that lead out of it, whose content was packed (as `helm package` packs it). */
  outsideLinks: OutsideLink[];
}

/** A link in a chart folder to a file or folder outside it: its path in the chart, and the real path it leads to. */
export interface OutsideLink {
  rel: string;
  target: string;
}

/**
 * RFC 1952: byte 9 of the gzip header is the OS that wrote it, which zlib sets per platform;
 * pin it to 3 (Unix) so the same chart gives the same bytes on every machine.
 */
export class GzipOsByte extends Transform {
  private offset = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.offset <= 9 && this.offset + chunk.length > 9) {
      chunk = Buffer.from(chunk);
      chunk[9 - this.offset] = 3;
    }
    this.offset += chunk.length;
    done(null, chunk);
  }
}

interface ChartFileEntry {
  rel: string;
  path: string;
  size: number;
  mode: number;
}

/**
 * The files of a chart directory in byte order of their paths, `.helmignore` honoured as Helm's loader
 * honours it (pack/helmignore.ts; what it lists is left out before any other check), symlinks followed, as
 * Helm's loader follows them (internal/sympath Walk), wherever they lead: what a link holds is stored under
 * the link's path, a folder reached through two links under both paths. A link out of the chart folder is
 * told in `outsideLinks` (Helm logs each link it follows: "found symbolic link in path ... Contents of linked
 * file included and used"); a link back to a folder it sits in is refused (Helm's walk of it never ends),
 * and so is a link to nothing or to what is not a regular file or folder (Helm refuses both).
 */
export async function listChartFiles(root: string, outsideLinks: OutsideLink[] = []): Promise<ChartFileEntry[]> {
  const rootReal = await realpath(root);
  // readChart, which packChartDirectory calls first, has refused a .helmignore Helm refuses.
  const ig = parseHelmIgnore(await readOptionalText(join(root, '.helmignore'), 1024 * 1024));
  const out: ChartFileEntry[] = [];
  let entries = 0;
  const walk = async (dir: string, rel: string, chain: readonly string[], outside = false): Promise<void> => {
    const names = (await readdir(dir)).sort((a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : a === b ? 0 : 1));
    entries += names.length;
    if (entries > MAX_CHART_ENTRIES) {
      throw new ChartError('PACK_FILE', 'too-many-entries', false, `${dir}: more than ${MAX_CHART_ENTRIES} files and folders in the chart folder (symlinks followed)`, {
        hint: 'real charts have a few hundred files; check the symlinks in the chart folder, or list what Helm should not load in .helmignore',
      });
    }
    for (const name of names) {
      const path = join(dir, name);
      const childRel = rel === '' ? name : `${rel}/${name}`;
      let info = await lstat(path);
      let into = outside;
      const followed = info.isSymbolicLink() ? await stat(path).catch(() => undefined) : info;
      if (ig.ignores(childRel, followed?.isDirectory() === true)) continue;
      if (info.isSymbolicLink()) {
        const target = await realpath(path).catch(() => undefined);
        // readChart, which packChartDirectory calls first, has refused a link to itself or to nothing.
        if (target === undefined || followed === undefined) throw new ChartError('PACK_FILE', 'unsafe-file', false, `${path} is a symlink that cannot be followed`, { hint: 'replace the symlink with what it should point to, or remove it' });
        // Told once, where the walk leaves the chart folder (not again for links inside what it reaches).
        const leaves = target !== rootReal && !target.startsWith(rootReal + sep);
        if (leaves && !outside) outsideLinks.push({ rel: childRel, target });
        into = outside || leaves;
        info = followed;
      }
      if (info.isDirectory()) {
        await walk(path, childRel, await folderEntered(path, chain, false), into);
      } else if (info.isFile()) {
        out.push({ rel: childRel, path, size: info.size, mode: info.mode & 0o111 ? 0o755 : 0o644 });
      } else {
        throw new ChartError('PACK_FILE', 'unsafe-file', false, `${path} is not a regular file or directory`, { hint: 'remove it from the chart, or list it in .helmignore' });
      }
    }
  };
  await walk(root, '', [rootReal]);
  return out;
}

/**
 * Pack a chart directory as `helm package` lays it out (one top folder named after Chart.yaml's `name`,
 * files only, .helmignore honoured), but deterministically: sorted entries, uid/gid 0 without owner
 * names, normalised modes, a fixed mtime, and a gzip header without name or time. Files are streamed.
 * The archive is written to a temporary name and renamed into place.
 */
export async function packChartDirectory(dir: string, outFile: string, options: PackChartOptions = {}): Promise<PackedChart> {
  const chart = await readChart(dir, { templates: false });
  const mtime = new Date((options.sourceDateEpoch ?? DEFAULT_MTIME_SECONDS) * 1000);
  const outsideLinks: OutsideLink[] = [];
  const files = await listChartFiles(dir, outsideLinks);
  const tmp = join(dirname(outFile), `.${basename(outFile)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const pack = tar.pack();
  // Level 6, as `helm package` compresses (Helm's chartutil.Save: Go's gzip.NewWriter, DefaultCompression, which
  // compress/flate runs as level 6): level 9 took 2-3x the CPU for archives 1-2 % smaller.
  const writing = pipeline(pack, createGzip({ level: CHART_GZIP_LEVEL }), new GzipOsByte(), createWriteStream(tmp));
  writing.catch(() => undefined);
  try {
    for (const f of files) {
      const entry = pack.entry({
        name: `${chart.name}/${f.rel}`,
        size: f.size,
        mode: f.mode,
        mtime,
        uid: 0,
        gid: 0,
        uname: '',
        gname: '',
        type: 'file',
      });
      await pipeline(createReadStream(f.path), entry);
    }
    pack.finalize();
    await writing;
    await rename(tmp, outFile);
  } catch (err) {
    pack.destroy();
    await writing.catch(() => undefined);
    await rm(tmp, { force: true });
    if (err instanceof PackpubError) throw err;
    throw new PackpubError('PACK_FILE', `cannot pack chart ${dir}: ${errorMessage(err)}`, { cause: err });
  }
  const { size } = await stat(outFile);
  return { file: outFile, size, entries: files.length, outsideLinks };
}
