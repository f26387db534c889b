import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { extractArchive } from '../archive/index.js';
import { PackpubError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import type { PackRef } from '../oci/reference.js';
import type { ReadableTarget } from '../targets/open.js';
import { resolvePack } from './resolve-pack.js';

export interface PullOptions {
  /** Directory that becomes the pack folder (default `./<name>-<version>`). Must not exist or be empty. */
  outDir?: string;
  /** Refuse archives that expand beyond this many bytes (decompression-bomb guard). */
  maxBytes?: number;
  signal?: AbortSignal;
}

export interface PullResult {
  reference: string;
  digest: Digest;
  layerDigest: Digest;
  path: string;
  entries: number;
  bytes: number;
}

function outputTaken(outDir: string): PackpubError {
  return new PackpubError('USAGE', `${outDir} already exists and is not empty`, { hint: 'pass -o with a new directory' });
}

/**
 * Move the extracted folder to `outDir`, which may only be missing or an empty folder: files that appeared
 * there while the pull downloaded (another process) are never deleted to make room.
 */
async function placeOutput(source: string, outDir: string): Promise<void> {
  const taken = (err: unknown): never => {
    const code = (err as NodeJS.ErrnoException).code;
    throw code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR' ? outputTaken(outDir) : err;
  };
  await rmdir(outDir).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') taken(err);
  });
  await rename(source, outDir).catch(taken);
}

async function isEmptyOrMissing(dir: string): Promise<boolean> {
  try {
    const info = await stat(dir);
    if (!info.isDirectory()) return false;
    return (await readdir(dir)).length === 0;
  } catch {
    return true;
  }
}

/**
 * Download a pack, verify every digest, and extract it safely into a folder of its own.
 * Extraction happens in a temp folder beside the target and is renamed into place at the end,
 * so a refused or interrupted pull leaves nothing half-written at the target.
 */
export async function pullPack(target: ReadableTarget, ref: PackRef, options: PullOptions = {}): Promise<PullResult> {
  const outDir = resolve(options.outDir ?? `${ref.name}-${ref.version}`);
  if (!(await isEmptyOrMissing(outDir))) {
    throw outputTaken(outDir);
  }
  const resolved = await resolvePack(target, ref);
  await mkdir(dirname(outDir), { recursive: true });
  const staging = await mkdtemp(join(dirname(outDir), `.${basename(outDir)}.packpub-`));
  // An interrupted pull exits through process.exit (cli/signals.ts): still leave nothing beside the target.
  const removeStaging = () => rmSync(staging, { recursive: true, force: true });
  process.once('exit', removeStaging);
  try {
    const tree = join(staging, 'tree');
    // One pass: the blob streams through the digest check into the extractor, which places nothing
    // until the whole archive was read and its digest matched. The store resumes a connection lost
    // mid-body itself, within the retry deadline (no second loop here: it would multiply the deadline).
    // fetchBlob verifies the digest while the blob flows (the store's stream errors on a mismatch).
    const blob = await target.store.fetchBlob(resolved.repository, resolved.layer);
    const extracted = await extractArchive(blob, tree, {
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
    });
    // The archive holds the pack folder as its single top-level directory: that folder becomes outDir.
    const top = extracted.topLevel.length === 1 ? join(tree, extracted.topLevel[0] as string) : tree;
    const source = (await stat(top)).isDirectory() ? top : tree;
    await placeOutput(source, outDir);
    return {
      reference: resolved.reference,
      digest: resolved.fetched.descriptor.digest,
      layerDigest: resolved.layer.digest,
      path: outDir,
      entries: extracted.entries,
      bytes: extracted.bytes,
    };
  } finally {
    process.off('exit', removeStaging);
    await rm(staging, { recursive: true, force: true });
  }
}
