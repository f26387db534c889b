import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PackpubError, errorMessage } from '../errors.js';
import { makeDirs } from '../util/fs.js';
import { isGone } from '../util/pid.js';

/*
 * Where push builds its archives: <tmpdir>/packpub-work/<pid>-<random>. A run removes its own folder when
 * it ends (even through process.exit), but a SIGKILLed run cannot; the owner's pid in the name lets the
 * next run remove folders whose owner is no longer alive.
 */

export function workParent(): string {
  return join(tmpdir(), 'packpub-work');
}

/** Remove work folders left by runs that are gone; folders of live runs (and anything else) stay. */
export async function removeStaleWorkDirs(parent = workParent()): Promise<void> {
  const names = await readdir(parent).catch(() => [] as string[]);
  await Promise.all(
    names.map(async (name) => {
      const owner = /^(\d+)-/.exec(name);
      if (owner === null) return;
      const pid = Number(owner[1]);
      if (pid === process.pid || !isGone(pid)) return;
      await rm(join(parent, name), { recursive: true, force: true }).catch(() => undefined);
    }),
  );
}

/** A fresh work folder owned by this process, after removing stale ones; CONFIG when the temp folder cannot hold one. */
export async function createWorkDir(parent = workParent()): Promise<string> {
  try {
    await makeDirs(parent);
    await removeStaleWorkDirs(parent);
    return await mkdtemp(join(parent, `${process.pid}-`));
  } catch (err) {
    throw new PackpubError('CONFIG', `cannot create packpub's work folder in ${tmpdir()}: ${errorMessage(err)}`, {
      hint: 'set TMPDIR to a writable folder with room for the archives being built',
      cause: err,
    });
  }
}
