import { existsSync, lstatSync } from 'node:fs';
import { chmod, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildArchive, listPackEntries } from '../../../src/archive/index.js';
import { changedSince, folderCheck, useRawLstat } from '../../../src/archive/stat-tree.js';
import { failure } from '../../support/errors.js';
import { writeFiles } from '../../support/files.js';
import { stage } from '../../support/stage.js';
import { SMALL_PACK, TRUST_RECENT } from './fixtures.js';

/*
 * changedSince (the check after a build that nothing archived changed since its validation) reads ctimes
 * from Node's fs binding where stat-tree.ts may call it, else from lstatSync: both ways must name the same
 * entry for every moment of the check.
 */

const temp = stage();

function bothWays<T>(check: () => T): { raw: T; stats: T } {
  useRawLstat(undefined);
  const raw = check();
  useRawLstat(false);
  try {
    return { raw, stats: check() };
  } finally {
    useRawLstat(undefined);
  }
}

async function pack(): Promise<string> {
  const dir = join(await temp.tempDir(), 'hello-pack');
  await writeFiles(dir, SMALL_PACK);
  return dir;
}

describe('changedSince', () => {
  it('names the same first changed entry with the fs binding as with lstatSync, for a check begun at any of its ctimes', async () => {
    const dir = await pack();
    const entries = await listPackEntries(dir, { ...TRUST_RECENT, topFolder: 'hello-1.0.0' });
    const ctimes = [...new Set(entries.map((e) => lstatSync(e.source).ctimeMs))].sort((a, b) => a - b);
    const moments = [...new Set(ctimes.flatMap((c) => [Math.floor(c) - 2, Math.floor(c) - 1, Math.floor(c), Math.ceil(c) + 1]))];
    const folder = folderCheck(dir).folder;
    for (const since of moments) {
      const { raw, stats } = bothWays(() => changedSince(entries, since, folder));
      expect(raw, `a check begun at ${since}`).toBe(stats);
    }
    // Begun after every change: nothing changed. Begun before them all: the pack folder is the first entry.
    expect(bothWays(() => changedSince(entries, Math.ceil(ctimes.at(-1) ?? 0) + 1, folder))).toEqual({ raw: undefined, stats: undefined });
    expect(bothWays(() => changedSince(entries, Math.floor(ctimes[0] ?? 0) - 2, folder))).toEqual({ raw: '', stats: '' });
  });

  it('names a file deleted after the check, and a rewritten .packignore, both ways', async () => {
    const dir = await pack();
    await writeFile(join(dir, '.packignore'), 'ignored/\n');
    const entries = await listPackEntries(dir, { ...TRUST_RECENT, topFolder: 'hello-1.0.0' });
    const { folder } = folderCheck(dir);
    const after = Math.ceil(Math.max(...entries.map((e) => lstatSync(e.source).ctimeMs))) + 1;
    // A file gone since the check (its folder comes before it in walk order: only the file is asked here).
    await rm(join(dir, 'manifests', 'nested', 'deep.yaml'));
    const file = entries.filter((e) => e.relativePath === 'manifests/nested/deep.yaml');
    expect(file).toHaveLength(1);
    expect(bothWays(() => changedSince(file, after))).toEqual({ raw: 'manifests/nested/deep.yaml', stats: 'manifests/nested/deep.yaml' });
    // The pack folder's .packignore rewritten (the folder itself unchanged): rewritten until its ctime is past
    // the folder's, which the file system's clock may take a tick to show.
    const root = entries.filter((e) => e.relativePath === '');
    const since = Math.ceil(lstatSync(dir).ctimeMs);
    let ignoreCtime = 0;
    for (let i = 0; i < 100_000 && ignoreCtime < since + 1; i++) {
      await writeFile(join(dir, '.packignore'), `ignored/\n# ${i}\n`);
      ignoreCtime = lstatSync(join(dir, '.packignore')).ctimeMs;
    }
    expect(ignoreCtime).toBeGreaterThanOrEqual(since + 1);
    expect(bothWays(() => changedSince(root, since, folder))).toEqual({ raw: '.packignore', stats: '.packignore' });
  });

  it('reads the change time, not the modification time: a chmod after the check counts, both ways', async () => {
    const dir = await pack();
    const entries = await listPackEntries(dir, { ...TRUST_RECENT, topFolder: 'hello-1.0.0' });
    const file = entries.filter((e) => e.relativePath === 'values.yaml');
    const since = Math.ceil(lstatSync(join(dir, 'values.yaml')).mtimeMs);
    let st = lstatSync(join(dir, 'values.yaml'));
    for (let i = 0; i < 100_000 && st.ctimeMs < since + 1; i++) {
      await chmod(join(dir, 'values.yaml'), i % 2 === 0 ? 0o600 : 0o644);
      st = lstatSync(join(dir, 'values.yaml'));
    }
    expect(st.mtimeMs).toBeLessThan(since + 1);
    expect(st.ctimeMs).toBeGreaterThanOrEqual(since + 1);
    expect(bothWays(() => changedSince(file, since))).toEqual({ raw: 'values.yaml', stats: 'values.yaml' });
  });

  it('names a file rewritten after the walk whose change the file system stamped before the check began, both ways; the build refuses it', async () => {
    // The kernel stamps a change with its clock's last tick, up to a few ms behind Date.now(): a write during a quick
    // build can carry a ctime before the check's start. Simulated here by a check begun after every ctime there is.
    const dir = await pack();
    const entries = await listPackEntries(dir, { ...TRUST_RECENT, topFolder: 'hello-1.0.0' });
    const values = join(dir, 'values.yaml');
    const walked = lstatSync(values).ctimeMs;
    // Rewritten with as many bytes (the tar header's size still holds) until the file system's clock shows it.
    let now = walked;
    for (let i = 0; i < 100_000 && now === walked; i++) {
      await writeFile(values, `pack:\n  namespace: hola${i % 2}\n`);
      now = lstatSync(values).ctimeMs;
    }
    expect(now).not.toBe(walked);
    const since = Math.ceil(Math.max(...entries.map((e) => lstatSync(e.source).ctimeMs))) + 1;
    const { folder } = folderCheck(dir);
    expect(bothWays(() => changedSince(entries, since, folder))).toEqual({ raw: 'values.yaml', stats: 'values.yaml' });
    const out = join(await temp.tempDir(), 'hello-1.0.0.tar.gz');
    const err = await failure(buildArchive(dir, out, { name: 'hello', version: '1.0.0', entries, checked: { sinceMs: since, folder } }));
    expect(err.code).toBe('PACK_FILE');
    expect(err.message).toBe('values.yaml changed while packpub was packing hello-1.0.0');
    expect(existsSync(out)).toBe(false);
  });
});
