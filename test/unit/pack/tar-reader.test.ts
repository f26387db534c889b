import { describe, expect, it } from 'vitest';
import { ByteReader, readTar } from '../../../src/pack/chart-archive.js';
import { Prng } from '../../support/prng.js';

/*
 * packpub's tar reader (readTar), what it does for speed (issue 16) pinned to what it did before:
 * - a tar header's checksum, as Go's archive/tar (Helm) checks it: the sum of the header's 512 bytes with the
 *   checksum field read as eight spaces, either unsigned or with every byte signed (old tars wrote the signed
 *   sum), computed in a function of its own.
 */

/** A ustar header of a regular file `a.yaml` of 0 bytes, `fill` written over its free-text fields (link name, user and group names). */
function header(fill: (block: Buffer) => void): Buffer {
  const block = Buffer.alloc(512);
  block.write('a.yaml', 0, 'latin1');
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

