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
