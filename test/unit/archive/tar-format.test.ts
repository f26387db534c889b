import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pack as tarPack } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ARCHIVE_MTIME, listPackEntries, tarBytes, type PackEntry } from '../../../src/archive/index.js';
import { writeFiles } from '../../support/files.js';
import { stage } from '../../support/stage.js';
import { tarChunksHere } from '../../../src/archive/tar.js';
import { run } from './fixtures.js';

/*
 * The archive format was fixed (ARCHIVE_FORMAT_VERSION 3) with tar-stream's writer; packpub now writes the
 * tar itself. Its bytes must stay exactly those, or every published digest would change: here both write
 * the same entries, including the names ustar cannot hold as they are (split into prefix and name, pax
 * records for the longest and for non-ASCII ones).
 */

const temp = stage();

/** The tar tar-stream writes for the same entries and headers (what format 3 was fixed with). */
async function tarStreamBytes(entries: readonly PackEntry[], mtime: Date, read: (e: PackEntry) => Buffer): Promise<Buffer> {
  const pack = tarPack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const e of entries) {
    const header = { name: e.archivePath, type: e.type, mode: e.mode, uid: 0, gid: 0, uname: '', gname: '', size: e.size, mtime };
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null) => (err ? reject(err) : resolve());
      if (e.type === 'directory') pack.entry(header, done);
      else pack.entry(header, read(e), done);
    });
  }
  pack.finalize();
  await collected;
  return Buffer.concat(chunks);
}

async function ours(entries: readonly PackEntry[], mtime: Date): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of tarBytes(entries, { mtime })) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** tarChunksHere's bytes (each chunk copied before the next is asked for, as it must be) and the file hashes it reported. */
function oursHere(entries: readonly PackEntry[], mtime: Date): { bytes: Buffer; hashes: Map<string, string> } {
  const chunks: Buffer[] = [];
  const hashes = new Map<string, string>();
  for (const chunk of tarChunksHere(entries, { mtime, onFileHash: (e, sha256) => hashes.set(e.relativePath, sha256) })) chunks.push(Buffer.from(chunk));
  return { bytes: Buffer.concat(chunks), hashes };
}

describe('the tar writer', () => {
  it('writes the bytes tar-stream wrote for ustar names, split long names, pax names and every size class', async () => {
    const segment = 'd'.repeat(60);
    const files: Record<string, string | Buffer> = {
      'pack.json': '{"name":"x"}\n',
      'empty.txt': '',
      'exact-block.bin': Buffer.alloc(512, 7),
      'one-over.bin': Buffer.alloc(513, 8),
      'mid.bin': Buffer.alloc(200 * 1024, 9), // read ahead on the threadpool
      'large.bin': Buffer.alloc(700 * 1024 + 3, 10), // streamed
      // 100 bytes of name and more: ustar prefix + name
      [`${segment}/${segment}/file.yaml`]: 'a: 1\n',
      // no split fits ustar: a pax path record
      [`${'e'.repeat(120)}/${'f'.repeat(110)}.yaml`]: 'b: 2\n',
      [`${segment}/${segment}/${segment}/${segment}/deep.yaml`]: 'c: 3\n',
      // not ASCII: a pax path record too
      'charts/café/values.yaml': 'd: 4\n',
    };
    const dir = join(await temp.tempDir(), 'p');
    await writeFiles(dir, files);
    const entries = await listPackEntries(dir, { topFolder: 'format-check-1.0.0' });
    expect(entries.filter((e) => e.type === 'directory').length).toBeGreaterThan(3);
    for (const mtime of [DEFAULT_ARCHIVE_MTIME, new Date('2031-05-06T07:08:09Z')]) {
      const mine = await ours(entries, mtime);
      const theirs = await tarStreamBytes(entries, mtime, (e) => files[e.relativePath] === undefined ? Buffer.alloc(0) : Buffer.from(files[e.relativePath] as string | Buffer));
      expect(mine.length).toBe(theirs.length);
      expect(mine.equals(theirs)).toBe(true);
      // The writer of a build on a validation worker (one reused buffer, files read straight into it).
      const here = oursHere(entries, mtime);
      expect(here.bytes.equals(theirs)).toBe(true);
      const fileEntries = entries.filter((e) => e.type === 'file');
      expect([...here.hashes.keys()].sort()).toEqual(fileEntries.map((e) => e.relativePath).sort());
      for (const e of fileEntries) expect(here.hashes.get(e.relativePath), e.relativePath).toBe(createHash('sha256').update(files[e.relativePath] ?? '').digest('hex'));
    }
    // And GNU tar reads every name back (printed as they are: in a C or POSIX locale, tar's default quoting
    // would print café as caf\303\251).
    const tarFile = join(await temp.tempDir(), 'a.tar');
    await writeFile(tarFile, await ours(entries, DEFAULT_ARCHIVE_MTIME));
    const listing = await run('tar', ['--quoting-style=literal', '-tf', tarFile]);
    expect(listing.code, listing.stderr).toBe(0);
    const listed = listing.stdout.split('\n').filter((l) => l !== '');
    expect(listed.sort()).toEqual(entries.map((e) => e.archivePath).sort());
  });
});
