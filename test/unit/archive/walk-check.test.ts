import { mkdir, realpath, symlink } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PackFileRefusal, checkPackWalk, listPackEntries, type WalkOptions } from '../../../src/archive/index.js';
import { useRawLstat } from '../../../src/archive/stat-tree.js';
import { SMALL_PACK } from './fixtures.js';
import { makeFifo, writeFiles } from '../../support/files.js';
import { stage } from '../../support/stage.js';

/*
 * checkPackWalk (what `validate` applies) is the archive walk itself without the entry list: for every
 * case, it must refuse with the very error listPackEntries (push) refuses with, naming the same path, or
 * accept what the walk accepts. listPackEntries with blocking calls (a validation worker's) must do the same
 * as without, entries included.
 */

const temp = stage();

async function newPack(extra: Record<string, string> = {}): Promise<string> {
  const dir = join(await temp.tempDir(), 'pack');
  await writeFiles(dir, { ...SMALL_PACK, ...extra });
  return dir;
}

/** What a walk ends with: `ok`, or the refusal's path, message and hint. */
async function outcome(walk: Promise<unknown>): Promise<string | { path: string; message: string; hint: string | undefined }> {
  try {
    await walk;
    return 'ok';
  } catch (err) {
    expect(err).toBeInstanceOf(PackFileRefusal);
    const refusal = err as PackFileRefusal;
    expect(refusal.code).toBe('PACK_FILE');
    return { path: refusal.path, message: refusal.message, hint: refusal.hint };
  }
}

const cases: Array<{ name: string; make: (dir: string) => Promise<unknown>; extra?: Record<string, string>; options?: WalkOptions; want: string | RegExp }> = [
  { name: 'a symlink to /dev/null in an unpacked chart folder', make: async (dir) => { await mkdir(join(dir, 'charts/web'), { recursive: true }); await symlink('/dev/null', join(dir, 'charts/web/null')); }, want: 'charts/web/null is a symlink to /dev/null, outside the pack folder' },
  { name: 'a relative symlink climbing out', make: (dir) => symlink('../..', join(dir, 'manifests/up')), want: /^manifests\/up is a symlink to .*, outside the pack folder$/ },
  { name: 'a dangling symlink', make: (dir) => symlink('missing.yaml', join(dir, 'manifests/gone.yaml')), want: 'manifests/gone.yaml is a dangling symlink (its target does not exist)' },
  { name: 'a symlink loop', make: async (dir) => { await symlink('b', join(dir, 'a')); await symlink('a', join(dir, 'b')); }, want: 'a is a symlink loop' },
  { name: 'a folder symlink to its parent', make: (dir) => symlink('..', join(dir, 'manifests/parent')), want: 'manifests/parent is a symlink loop (it points back to a folder that contains it)' },
  { name: 'a fifo', make: (dir) => makeFifo(join(dir, 'manifests/pipe')), want: 'manifests/pipe is a named pipe (fifo), which cannot be stored in a pack' },
  { name: 'a backslash in a name', make: async () => undefined, extra: { 'manifests/a\\b.yaml': 'x: 1\n' }, want: 'manifests/a\\b.yaml: the file name contains a backslash, which Windows tools and packpub pull read as a folder separator' },
  { name: 'nesting deeper than maxDepth', make: async () => undefined, extra: { 'd0/d1/d2/f.yaml': 'x: 1\n' }, options: { maxDepth: 2 }, want: 'd0/d1/d2 is nested deeper than 2 folders' },
  { name: 'more entries than maxEntries', make: async () => undefined, options: { maxEntries: 5 }, want: /^the pack has more than 5 files and folders \(at / },
  { name: 'a path longer than maxPathBytes', make: async () => undefined, options: { maxPathBytes: 30 }, want: /: the path is longer than 30 bytes$/ },
  { name: 'a file over maxFileBytes', make: async () => undefined, extra: { 'manifests/big.yaml': 'x'.repeat(64) }, options: { maxFileBytes: 50 }, want: 'manifests/big.yaml is 64 bytes, over the 50-byte limit for one file' },
  { name: 'a pack over maxTotalBytes', make: async () => undefined, options: { maxTotalBytes: 10 }, want: /^the pack is over 10 bytes \(at [^)]+\)$/ },
  { name: 'a symlink outside listed in .packignore', make: (dir) => symlink('/dev/null', join(dir, 'manifests/null')), extra: { '.packignore': 'manifests/null\n' }, want: 'ok' },
  { name: 'a fifo listed in .packignore', make: (dir) => makeFifo(join(dir, 'manifests/x.pipe')), extra: { '.packignore': '*.pipe\n' }, want: 'ok' },
  { name: 'a symlink inside the pack', make: (dir) => symlink('manifests', join(dir, 'alias')), want: 'ok' },
  // Folders are walked in UTF-8 byte order: U+FFFF (ef bf bf) before U+1D4B3 (f0 9d 92 b3), unlike JavaScript's string order.
  { name: 'two fifos, at U+FFFF and above it: the first in UTF-8 bytes named', make: async (dir) => { await makeFifo(join(dir, 'manifests/\u{1D4B3}')); await makeFifo(join(dir, 'manifests/\uFFFF')); }, want: 'manifests/\uFFFF is a named pipe (fifo), which cannot be stored in a pack' },
  { name: 'a name holding U+FFFD (valid UTF-8)', make: async () => undefined, extra: { 'manifests/\uFFFD.yaml': 'x: 1\n' }, want: 'ok' },
];

describe('checkPackWalk applies the archive walk\'s rules, with the walk\'s own errors', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const dir = await newPack(c.extra);
      await c.make(dir);
      const pushes = await outcome(listPackEntries(dir, { ...c.options, topFolder: 'hello-1.0.0' }));
      const checks = await outcome(checkPackWalk(dir, { ...c.options, topFolder: 'hello-1.0.0' }));
      expect(checks).toEqual(pushes);
      // Given the folder's real path (as validation does): the same, without resolving it again.
      expect(await outcome(checkPackWalk(await realpath(dir), { ...c.options, topFolder: 'hello-1.0.0' }, true))).toEqual(pushes);
      // Without Node's fs binding (stat-tree.ts rawLstat: the check stats plain files through it where it may), the same.
      useRawLstat(false);
      try {
        expect(await outcome(checkPackWalk(await realpath(dir), { ...c.options, topFolder: 'hello-1.0.0' }, true))).toEqual(pushes);
      } finally {
        useRawLstat(undefined);
      }
      // A validation worker lists with blocking calls: the same refusal, or the same entries.
      const listOptions = { ...c.options, topFolder: 'hello-1.0.0', statCutoffMs: Date.now() + 60_000 };
      expect(await outcome(listPackEntries(dir, listOptions, true))).toEqual(pushes);
      if (pushes === 'ok') expect(await listPackEntries(dir, listOptions, true)).toEqual(await listPackEntries(dir, listOptions));
      if (c.want === 'ok') expect(checks).toBe('ok');
      else if (typeof c.want === 'string') expect(checks).toMatchObject({ message: c.want });
      else expect(checks).toMatchObject({ message: expect.stringMatching(c.want) });
    });
  }

  it('a socket', async () => {
    const dir = await newPack();
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(join(dir, 'sock'), resolve));
    try {
      const checks = await outcome(checkPackWalk(dir));
      expect(checks).toEqual(await outcome(listPackEntries(dir)));
      expect(checks).toMatchObject({ path: 'sock', message: 'sock is a socket, which cannot be stored in a pack', hint: 'delete it, or list it in .packignore' });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
