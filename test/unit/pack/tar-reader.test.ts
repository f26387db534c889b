import { describe, expect, it } from 'vitest';
import { ByteReader, readTar } from '../../../src/pack/chart-archive.js';
import { Prng } from '../../support/prng.js';

/*
 * packpub's tar reader (readTar), two things it does for speed (issue 16) pinned to what it did before:
 * - a tar header's checksum, as Go's archive/tar (Helm) checks it: the sum of the header's 512 bytes with the
 *   checksum field read as eight spaces, either unsigned or with every byte signed (old tars wrote the signed
 *   sum), computed in a function of its own;
 * - headers, data and padding that sit in the current chunk are taken without a promise (ByteReader.readNow,
 *   skipNow), the rest as before: the same entries and bytes whatever the chunks.
 */

/** A ustar header of a regular file `a.yaml` of 0 bytes, `fill` written over its free-text fields (link name, user and group names). */
function header(fill: (block: Buffer) => void, name = 'a.yaml'): Buffer {
  const block = Buffer.alloc(512);
  block.write(name, 0, 'latin1');
  block.write('0000644\0', 100, 'latin1');
  block.write('0000000\0', 108, 'latin1');
  block.write('0000000\0', 116, 'latin1');
  block.write('00000000000\0', 124, 'latin1');
  block.write('00000000000\0', 136, 'latin1');
  block[156] = 0x30;
  block.write('ustar\u000000', 257, 'latin1');
  block.write('0000000\0', 329, 'latin1');
  block.write('0000000\0', 337, 'latin1');
  fill(block);
  return block;
}

/** The two sums Go accepts, computed the plain way (field 148-155 as spaces). */
function sums(block: Buffer): { unsigned: number; signed: number } {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const c = i >= 148 && i < 156 ? 0x20 : (block[i] as number);
    unsigned += c;
    signed += c >= 0x80 ? c - 256 : c;
  }
  return { unsigned, signed };
}

function withChecksum(block: Buffer, sum: number): Buffer {
  const out = Buffer.from(block);
  out.write(`${(sum >>> 0).toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return out;
}

/** `tar` in chunks of `size` bytes. */
function chunked(tar: Buffer, size: number): ByteReader {
  let at = 0;
  return new ByteReader(async () => {
    if (at >= tar.length) return undefined;
    const chunk = tar.subarray(at, at + size);
    at += chunk.length;
    return chunk;
  });
}

/** What readTar hands over for `tar` read in chunks of `size`: each entry's name, size and (when `read`) data; or its error. */
async function entriesOf(tar: Buffer, size: number, read: (name: string) => boolean): Promise<string[]> {
  const seen: string[] = [];
  try {
    await readTar(chunked(tar, size), async (entry, data) => {
      seen.push(read(entry.name) ? `${entry.name} ${entry.size} ${(await data.bytes()).toString('latin1')}` : `${entry.name} ${entry.size} -`);
    });
  } catch (err) {
    seen.push(`error: ${(err as Error).message}`);
  }
  return seen;
}

/** The names readTar visits in `tar` (a header, then the end-of-archive blocks), or its error message. */
async function namesOf(block: Buffer): Promise<string[] | string> {
  const tar = Buffer.concat([block, Buffer.alloc(1024)]);
  let given = false;
  const reader = new ByteReader(async () => {
    if (given) return undefined;
    given = true;
    return tar;
  });
  const names: string[] = [];
  try {
    await readTar(reader, (entry) => {
      names.push(entry.name);
    });
  } catch (err) {
    return (err as Error).message;
  }
  return names;
}

describe('tar header checksum', () => {
  const highBytes = (block: Buffer): void => {
    block.fill(0xe9, 157, 200); // link name
    block.fill(0xff, 265, 290); // user name
  };

  it('accepts the unsigned sum and the signed sum of a header with bytes of 0x80 and more', async () => {
    const block = header(highBytes);
    const { unsigned, signed } = sums(block);
    expect(signed).toBeLessThan(unsigned);
    expect(await namesOf(withChecksum(block, unsigned))).toEqual(['a.yaml']);
    expect(await namesOf(withChecksum(block, signed))).toEqual(['a.yaml']);
  });

  it('refuses a checksum one off either sum', async () => {
    const block = header(highBytes);
    const { unsigned, signed } = sums(block);
    for (const wrong of [unsigned + 1, unsigned - 1, signed + 1, signed - 1]) {
      expect(await namesOf(withChecksum(block, wrong))).toBe('invalid tar header');
    }
  });

  it('agrees with the plain sums on random free-text bytes', async () => {
    const prng = new Prng(16);
    for (let round = 0; round < 50; round++) {
      const block = header((b) => {
        for (let i = 157; i < 257; i++) b[i] = prng.int(0, 255);
        for (let i = 265; i < 329; i++) b[i] = prng.int(0, 255);
      });
      const { unsigned, signed } = sums(block);
      expect(await namesOf(withChecksum(block, unsigned))).toEqual(['a.yaml']);
      expect(await namesOf(withChecksum(block, signed))).toEqual(['a.yaml']);
      if (unsigned !== signed) expect(await namesOf(withChecksum(block, unsigned + 256))).toBe('invalid tar header');
    }
  });
});

/** A file entry: header (checksum set), data, padding. */
function fileEntry(name: string, data: string): Buffer {
  const block = header((b) => b.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1'), name);
  const padded = Buffer.alloc(Math.ceil(data.length / 512) * 512);
  padded.write(data, 'latin1');
  return Buffer.concat([withChecksum(block, sums(block).unsigned), padded]);
}

describe('tar entries across chunks', () => {
  const files: Array<[string, string]> = [
    ['empty.txt', ''],
    ['one.txt', 'x'],
    ['block.txt', 'b'.repeat(512)],
    ['odd.txt', 'o'.repeat(1000)],
    ['big.txt', Array.from({ length: 3000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('')],
    ['last.txt', 'end'],
  ];
  const tar = Buffer.concat([...files.map(([name, data]) => fileEntry(name, data)), Buffer.alloc(1024)]);

  it('hands over the same entries and bytes, read or skipped, whatever the chunk size', async () => {
    const whole = await entriesOf(tar, tar.length, () => true);
    expect(whole).toEqual(files.map(([name, data]) => `${name} ${data.length} ${data}`));
    const every = (name: string): boolean => name !== 'odd.txt';
    const wholeSkipping = await entriesOf(tar, tar.length, every);
    for (const size of [1, 7, 100, 511, 512, 513, 1024, 1500, 4096]) {
      expect(await entriesOf(tar, size, () => true)).toEqual(whole);
      expect(await entriesOf(tar, size, every)).toEqual(wholeSkipping);
    }
  });

  it('still finds an archive cut inside data or padding, whatever the chunk size', async () => {
    // In block.txt's data, in odd.txt's data: Go's "unexpected EOF"; in last.txt's padding: the end (Go stops there).
    const outcomes: Array<[number, string]> = [
      [512 * 4 + 3, 'error: unexpected end of data'],
      [512 * 6 + 100, 'error: unexpected end of data'],
      [tar.length - 1024 - 300, 'last.txt 3 -'],
    ];
    for (const [cut, last] of outcomes) {
      const short = tar.subarray(0, cut);
      const whole = await entriesOf(short, short.length, () => false);
      expect(whole.at(-1)).toBe(last);
      for (const size of [1, 7, 511, 512, 513, 4096]) expect(await entriesOf(short, size, () => false)).toEqual(whole);
    }
  });
});

/** A ustar entry of type `flag` (a character) holding `data`, its link name `link`. */
function typedEntry(name: string, flag: string, data: string, link = ''): Buffer {
  const block = header((b) => {
    b.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
    b[156] = flag.charCodeAt(0);
    b.write(link, 157, 'latin1');
  }, name);
  const padded = Buffer.alloc(Math.ceil(data.length / 512) * 512);
  padded.write(data, 'latin1');
  return Buffer.concat([withChecksum(block, sums(block).unsigned), padded]);
}

describe('link entries', () => {
  it('names what a hard or symbolic link points to (ustar field, pax linkpath, GNU long link) and hands over no data, as Go does', async () => {
    const long = `../${'d/'.repeat(60)}values.yaml`;
    const pax = `${(`linkpath=${long}\n`.length + 4).toString()} linkpath=${long}\n`;
    const tar = Buffer.concat([
      fileEntry('c/values.yaml', 'replicas: 1\n'),
      typedEntry('c/copy.yaml', '1', '', 'c/values.yaml'),
      typedEntry('c/templates/a.yaml', '2', '', '../files/a.yaml'),
      typedEntry('././@PaxHeader', 'x', pax),
      typedEntry('c/templates/b.yaml', '2', '', 'short'),
      typedEntry('././@LongLink', 'K', `${long}\0`),
      typedEntry('c/templates/c.yaml', '2', '', 'short'),
      typedEntry('c/templates/', '5', ''),
      Buffer.alloc(1024),
    ]);
    const seen: string[] = [];
    await readTar(chunked(tar, tar.length), async (entry, data) => {
      seen.push(`${entry.name} ${entry.size} ${entry.link === undefined ? '-' : `${entry.link.hard ? 'hard' : 'symlink'}:${entry.link.target}`} [${(await data.bytes()).toString('latin1')}]`);
    });
    expect(seen).toEqual([
      'c/values.yaml 12 - [replicas: 1\n]',
      'c/copy.yaml 0 hard:c/values.yaml []',
      'c/templates/a.yaml 0 symlink:../files/a.yaml []',
      `c/templates/b.yaml 0 symlink:${long} []`,
      `c/templates/c.yaml 0 symlink:${long} []`,
      'c/templates/ 0 - []',
    ]);
  });
});
