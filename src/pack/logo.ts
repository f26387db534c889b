import { createHash } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib';

/*
 * A placeholder logo for scaffolded packs: a real PNG (Palette and pack-central CI require logo.png),
 * drawn and encoded here so `packpub init` needs no image files or libraries.
 * PNG layout: W3C PNG spec (signature 5.2, chunks 5.3, IHDR 11.2.2, IDAT 11.2.4, IEND 11.2.5).
 */

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  // The CRC covers the chunk type and data, not the length (spec 5.3).
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** Encode 8-bit RGB pixels (`width * height * 3` bytes, row by row) as a PNG. */
export function encodePngRgb(width: number, height: number, rgb: Uint8Array): Buffer {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || rgb.length !== width * height * 3) {
    throw new RangeError(`encodePngRgb: ${width}x${height} needs ${width * height * 3} bytes, got ${rgb.length}`);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: truecolour
  header[10] = 0; // compression: deflate
  header[11] = 0; // filter method 0
  header[12] = 0; // no interlace
  const stride = width * 3;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0; // filter type None for every scanline
    raw.set(rgb.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  }
  return Buffer.concat([SIGNATURE, chunk('IHDR', header), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

function hslToRgb(h: number, s: number, l: number): [number, number, number] {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number): number => {
    const k = (n + h / 30) % 12;
    return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [f(0), f(8), f(4)];
}

export const LOGO_SIZE = 128;

/**
 * A 128x128 placeholder: a solid background in a colour derived from the pack name (so packs differ
 * and the same name always gives the same bytes) with a white hexagon in the middle.
 */
export function placeholderLogo(name: string): Buffer {
  const size = LOGO_SIZE;
  const hue = createHash('sha256').update(name).digest().readUInt16BE(0) % 360;
  const [br, bg, bb] = hslToRgb(hue, 0.55, 0.42);
  const rgb = new Uint8Array(size * size * 3);
  const c = (size - 1) / 2;
  const r = size * 0.32;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      // A flat-topped regular hexagon: |dy| <= r*sqrt(3)/2 and the slanted edges.
      const dx = Math.abs(x - c);
      const dy = Math.abs(y - c);
      const inside = dy <= (r * Math.sqrt(3)) / 2 && Math.sqrt(3) * dx + dy <= Math.sqrt(3) * r;
      const i = (y * size + x) * 3;
      rgb[i] = inside ? 255 : br;
      rgb[i + 1] = inside ? 255 : bg;
      rgb[i + 2] = inside ? 255 : bb;
    }
  }
  return encodePngRgb(size, size, rgb);
}
