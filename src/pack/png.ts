import { readHead } from './files.js';

/** The 8-byte PNG signature (PNG spec, section 5.2). */
export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Raster formats browsers show whatever the file is called: a logo.png holding one still displays. */
export type ShowableFormat = 'JPEG' | 'GIF' | 'WebP';

export type PngCheck = { ok: true; width: number; height: number } | { ok: false; reason: string; showable?: ShowableFormat };

/**
 * Check that a file is a PNG: the signature, then an IHDR chunk first (PNG spec 5.6), whose width and
 * height we return. Reads 24 bytes, whatever the file's size.
 */
export async function checkPng(realPath: string): Promise<PngCheck> {
  const head = await readHead(realPath, 24);
  if (head.length === 0) return { ok: false, reason: 'it is empty' };
  if (head.length < 8 || !head.subarray(0, 8).equals(PNG_SIGNATURE)) {
    const showable = showableFormat(head);
    return { ok: false, reason: `it does not start with the PNG signature (${sniff(head)})`, ...(showable === undefined ? {} : { showable }) };
  }
  if (head.length < 24 || head.toString('latin1', 12, 16) !== 'IHDR') return { ok: false, reason: 'the PNG header chunk (IHDR) is missing: the file is truncated or damaged' };
  return { ok: true, width: head.readUInt32BE(16), height: head.readUInt32BE(20) };
}

function showableFormat(head: Buffer): ShowableFormat | undefined {
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'JPEG';
  if (head.toString('latin1', 0, 4) === 'GIF8') return 'GIF';
  if (head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP') return 'WebP';
  return undefined;
}

/** A guess at what the file really is, for the message. */
function sniff(head: Buffer): string {
  const showable = showableFormat(head);
  if (showable !== undefined) return `it is a ${showable}`;
  if (/^\s*<(\?xml|svg)/i.test(head.toString('latin1'))) return 'it looks like an SVG';
  return 'it is not an image Palette can show';
}
