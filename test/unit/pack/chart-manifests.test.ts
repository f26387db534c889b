import { describe, expect, it } from 'vitest';
import type { NextChunk } from '../../../src/pack/chart-archive.js';
import { helmYamlFile, helmYamlRefusal, helmYamlRefusalOfChunks, type HelmYamlFile } from '../../../src/pack/chart-manifests.js';

/** `bytes` handed over in chunks of `size` bytes. */
function chunked(bytes: Buffer, size: number): NextChunk {
  let at = 0;
  return async () => {
    if (at >= bytes.length) return undefined;
    const chunk = bytes.subarray(at, at + size);
    at += size;
    return chunk;
  };
}

describe('the files a chart install parses as YAML', () => {
  it('are the rendered templates (not partials, not NOTES.txt) and the CRD files', () => {
    const kinds = Object.fromEntries(
      ['templates/a.yaml', 'templates/x/b.tpl', 'templates/._a.yaml', 'templates/_h.tpl', 'templates/x/_h.yaml', 'templates/NOTES.txt', 'templates/x/NOTES.txt', 'crds/a.yaml', 'crds/x/b.YML', 'crds/c.Json', 'crds/README.md', 'files/a.yaml', 'values.yaml'].map((f) => [f, helmYamlFile(f)]),
    );
    expect(kinds).toEqual({
      'templates/a.yaml': 'template',
      'templates/x/b.tpl': 'template',
      'templates/._a.yaml': 'template',
      'templates/_h.tpl': undefined,
      'templates/x/_h.yaml': undefined,
      'templates/NOTES.txt': undefined,
      'templates/x/NOTES.txt': undefined,
      'crds/a.yaml': 'crd',
      'crds/x/b.YML': 'crd',
      'crds/c.Json': 'crd',
      'crds/README.md': undefined,
      'files/a.yaml': undefined,
      'values.yaml': undefined,
    });
  });

  const cases: Array<[string, Buffer, HelmYamlFile, string | undefined]> = [
    ['AppleDouble', Buffer.from([0, 5, 0x16, 7, 0, 2, 0, 0, 0x4d, 0x61, 0x63]), 'template', 'control characters are not allowed (U+0000)'],
    ['a NUL after the first {{', Buffer.from('kind: A\n{{ .Values.a }}\x00\n'), 'template', undefined],
    ['the same in a CRD file', Buffer.from('kind: A\n{{ .Values.a }}\x00\n'), 'crd', 'control characters are not allowed (U+0000)'],
    ['a single { before the control character', Buffer.from('kind: A\nx: {a: 1}\x1b\n{{ .Values.a }}'), 'template', 'control characters are not allowed (U+001B)'],
    ['{ and { apart', Buffer.from('kind: A\nx: {\x00{'), 'template', 'control characters are not allowed (U+0000)'],
    ['UTF-8 text, then a control character', Buffer.from('kind: A\nname: café ☕ 𝄞\n\x7f\n'), 'crd', 'control characters are not allowed (U+007F)'],
    ['UTF-8 text, C1 controls but NEL', Buffer.from('kind: A\nname: caf\u00e9\u0085\u0086\n'), 'crd', 'control characters are not allowed (U+0086)'],
    // Past the first non-ASCII character, found in the bytes (C2 80-9F but C2 85, EF BF BE/BF), not in decoded text.
    ['UTF-8 text, then U+FFFF', Buffer.from('kind: A\nname: caf\u00e9 \u00a0\u00bf\ufeff\ufffd\u4e2d\uffff\ufffe\n'), 'crd', 'control characters are not allowed (U+FFFF)'],
    ['UTF-8 text, then U+FFFE', Buffer.from('kind: A\nname: \u2019\ufffe\n'), 'crd', 'control characters are not allowed (U+FFFE)'],
    ['UTF-8 text, then U+0080', Buffer.from('kind: A\nname: \u00e9\u00a0\u0080\n'), 'crd', 'control characters are not allowed (U+0080)'],
    ['UTF-8 text, then an ASCII control character', Buffer.from('kind: A\nname: \u2019\ufeff\u{1d11e}\x1f\n'), 'crd', 'control characters are not allowed (U+001F)'],
    ['UTF-8 text Go reads', Buffer.from('kind: A\nname: \u00e9\u0085\u00a0\ud7ff\ue000\ufeff\ufffd\u{10ffff}\t\r\n'), 'crd', undefined],
    ['Latin-1 text', Buffer.from('kind: A\nname: caf\xe9\n', 'latin1'), 'crd', 'bytes that are not UTF-8 text'],
    ['a control character before Latin-1 text', Buffer.from('kind: A\n\x01name: caf\xe9\n', 'latin1'), 'crd', 'control characters are not allowed (U+0001)'],
    ['Latin-1 text after the first {{', Buffer.from('kind: A\n{{ "caf\xe9" }}\n', 'latin1'), 'template', undefined],
    ['spaces Go trims', Buffer.from('\f\nkind: A\n\v\n'), 'crd', undefined],
    ['UTF-16 with a byte order mark', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('kind: A\n', 'utf16le')]), 'crd', undefined],
    ['UTF-16 big-endian with a byte order mark', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('kind: A\n', 'utf16le').swap16()]), 'template', undefined],
    ['a UTF-8 byte order mark', Buffer.from('\ufeffkind: A\n'), 'crd', undefined],
    ['one byte', Buffer.from([0]), 'crd', 'control characters are not allowed (U+0000)'],
    ['empty', Buffer.alloc(0), 'crd', undefined],
  ];

  it('a control character anywhere in a longer ASCII file is found, wherever the file starts in memory (read four bytes at a time)', () => {
    const text = 'kind: CustomResourceDefinition\nmetadata:\n  name: a.example.com\n\tdescription: "~x"\r\n\v\f';
    for (const lead of [0, 1, 2, 3]) {
      // Buffer.alloc gives an ArrayBuffer of its own: the file then starts `lead` bytes into it.
      const placed = (bytes: Buffer): Buffer => {
        const at = Buffer.alloc(lead + bytes.length).subarray(lead);
        bytes.copy(at);
        return at;
      };
      expect([lead, helmYamlRefusal(placed(Buffer.from(text, 'latin1')), 'crd')]).toEqual([lead, undefined]);
      for (let at = 0; at < text.length; at++) {
        for (const c of [0x00, 0x08, 0x0e, 0x1f, 0x7f]) {
          const bytes = Buffer.from(text, 'latin1');
          bytes[at] = c;
          const expected = `control characters are not allowed (U+${c.toString(16).toUpperCase().padStart(4, '0')})`;
          expect([lead, at, helmYamlRefusal(placed(bytes), 'crd')]).toEqual([lead, at, expected]);
        }
      }
    }
  });

  it.each(cases)("%s: Go's YAML reader's first complaint, whatever the chunks", async (_name, bytes, kind, expected) => {
    expect(helmYamlRefusal(bytes, kind)).toBe(expected);
    for (let size = 1; size <= bytes.length + 1; size++) {
      expect([size, await helmYamlRefusalOfChunks(chunked(bytes, size), kind)]).toEqual([size, expected]);
    }
  });
});
