import { lstatSync, type Stats } from 'node:fs';
import { join } from 'node:path';

/*
 * Stat signatures (see walk.ts PackEntry.signature and stat-tree.ts): a module of its own, so checking an
 * unchanged pack folder does not load the walk and its dependencies.
 */

export const PACKIGNORE_FILE = '.packignore';

/**
 * What a file's or folder's metadata says about its content. A file: size, mtime, ctime, inode, device
 * (a rewrite, truncation, chmod or replacement changes at least one). A folder: mtime, ctime, inode,
 * device: creating, deleting or renaming anything in it changes its mtime. Anything else is just its kind.
 */
export function statSignature(st: Stats): string {
  if (st.isFile()) return `${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}:${st.dev}`;
  if (st.isDirectory()) return `d:${st.mtimeMs}:${st.ctimeMs}:${st.ino}:${st.dev}`;
  return st.isSymbolicLink() ? 'l' : 'x';
}

/** The pack folder's signature: the folder's own and its .packignore's (editing it changes no folder time). */
export function rootSignature(root: string): string {
  let ignoreFile: string;
  try {
    ignoreFile = statSignature(lstatSync(join(root, PACKIGNORE_FILE)));
  } catch {
    ignoreFile = '-';
  }
  return `${statSignature(lstatSync(root))};${ignoreFile}`;
}

/*
 * The same signatures as numbers, for the stat tree's digest (stat-tree.ts): SIGNATURE_SLOTS doubles per
 * path (kind, size, mtimeMs, ctimeMs, ino, dev; a folder has size 0, a symlink or special file only its
 * kind), the pack folder twice as many (its .packignore after it, kind 0 when there is none). Hashing
 * these bytes costs far less than formatting 12,000 signatures as text on every re-run, and says the
 * same: they are the very numbers the text holds (a number's text reads back as the same number).
 */
export const SIGNATURE_SLOTS = 6;
const KIND = { none: 0, file: 1, directory: 2, symlink: 3, other: 4 } as const;

/** Write the signature of `st` at `at` (SIGNATURE_SLOTS doubles). */
export function putStatSignature(st: Stats, out: Float64Array, at: number): void {
  if (st.isFile()) {
    out[at] = KIND.file;
    out[at + 1] = st.size;
  } else if (st.isDirectory()) {
    out[at] = KIND.directory;
  } else {
    out[at] = st.isSymbolicLink() ? KIND.symlink : KIND.other;
    return;
  }
  out[at + 2] = st.mtimeMs;
  out[at + 3] = st.ctimeMs;
  out[at + 4] = st.ino;
  out[at + 5] = st.dev;
}

/** Write the pack folder's signature at `at` (2 x SIGNATURE_SLOTS doubles: the folder, then its .packignore). */
export function putRootSignature(root: string, out: Float64Array, at: number): void {
  putStatSignature(lstatSync(root), out, at);
  const ignore = lstatSync(join(root, PACKIGNORE_FILE), { throwIfNoEntry: false });
  if (ignore !== undefined) putStatSignature(ignore, out, at + SIGNATURE_SLOTS);
}

/** Write a signature given as text (statSignature, or rootSignature for the pack folder) at `at`, as putStatSignature would. */
export function putSignatureText(text: string, out: Float64Array, at: number): void {
  const [own, ignore] = text.split(';');
  putOne(own ?? '', out, at);
  if (ignore !== undefined && ignore !== '-') putOne(ignore, out, at + SIGNATURE_SLOTS);
}

function putOne(text: string, out: Float64Array, at: number): void {
  if (text === 'l' || text === 'x') {
    out[at] = text === 'l' ? KIND.symlink : KIND.other;
    return;
  }
  const parts = text.split(':');
  const directory = parts[0] === 'd';
  out[at] = directory ? KIND.directory : KIND.file;
  if (!directory) out[at + 1] = Number(parts[0]);
  for (let i = 1; i <= 4; i++) out[at + 1 + i] = Number(parts[i]);
}
