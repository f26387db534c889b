import { inflateSync, crc32 } from 'node:zlib';
import fc from 'fast-check';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { isPackpubError } from '../../../src/errors.js';
import { encodePngRgb, placeholderLogo } from '../../../src/pack/logo.js';
import { displayNameFor, indentChartValues, kubernetesName, packJsonText, valuesYamlText, yamlKey, yamlString } from '../../../src/pack/scaffold.js';

const CHART_VALUES = `---
# Default values for demo.
# This is a YAML-formatted file.

replicaCount: 1   # how many

image:
  repository: nginx
  # Overrides the image tag whose default is the chart appVersion.
  tag: ""

config: |
  line one
    indented line

  after a blank line
folded: >-
  a folded
  text
list:
- a
-   b: 1
    c: [1, 2]
flow: {a: 1, b: [x, y]}
empty: {}
`;

describe('indentChartValues', () => {
  it('nests a chart values file under a key keeping every comment and the same values', () => {
    const { text, empty } = indentChartValues(CHART_VALUES, 4);
    expect(empty).toBe(false);
    const doc = `charts:\n  demo:\n${text}\n`;
    expect((load(doc) as { charts: { demo: unknown } }).charts.demo).toEqual(load(CHART_VALUES));
    for (const comment of ['# Default values for demo.', '# This is a YAML-formatted file.', '# how many', '# Overrides the image tag whose default is the chart appVersion.']) {
      expect(doc).toContain(comment);
    }
    expect(doc).not.toContain('---');
    expect(text.split('\n').filter((l) => l.trim() !== '').every((l) => l.startsWith('    '))).toBe(true);
  });

  it('keeps any mapping of plain keys and string values equal when nested', () => {
    const key = fc.stringMatching(/^[a-z][a-zA-Z0-9_-]{0,10}$/);
    const tree: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, fc.string(), fc.integer(), fc.boolean(), fc.dictionary(key, tie('node'), { maxKeys: 4 }), fc.array(tie('node'), { maxLength: 3 })),
    })).node;
    fc.assert(
      fc.property(fc.dictionary(key, tree, { minKeys: 1, maxKeys: 5 }), (values) => {
        const source = Object.entries(values)
          .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
          .join('\n');
        const { text } = indentChartValues(source, 4);
        expect((load(`charts:\n  x:\n${text}\n`) as { charts: { x: unknown } }).charts.x).toEqual(load(source));
      }),
      { numRuns: 200 },
    );
  });

  it('keeps blanks at the end of lines and blank-only lines, which a | block holds as its value', () => {
    const source = 'conf: |\n  On \n   \n  5\t\nnext: 1\n';
    const { text } = indentChartValues(source, 4);
    expect(text).toBe('    conf: |\n      On \n       \n      5\t\n    next: 1');
    expect((load(`charts:\n  x:\n${text}\n`) as { charts: { x: unknown } }).charts.x).toEqual(load(source));
  });

  it('keeps the blank lines a block with keep chomping (|+) ends the file with, and drops them otherwise', () => {
    for (const source of ['a: |+\n  x\n\n\n', 'a: >+2\n   x\n\n', 'a: |+ # kept\n  x\n\n# comment\n\n']) {
      const { text } = indentChartValues(source, 4);
      expect((load(`charts:\n  x:\n${text}\n`) as { charts: { x: unknown } }).charts.x).toEqual(load(source));
    }
    expect(indentChartValues('a: |\n  x\n\n\n', 4).text).toBe('    a: |\n      x');
  });

  it('reports a values file with only comments as empty, and refuses a second YAML document', () => {
    expect(indentChartValues('# nothing to set\n\n', 4)).toEqual({ text: '    # nothing to set', empty: true });
    const err = (() => {
      try {
        indentChartValues('a: 1\n---\nb: 2\n', 4);
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    expect(isPackpubError(err, 'PACK_FILE')).toBe(true);
  });
});

describe('YAML text helpers', () => {
  it('writes strings that read back unchanged', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        expect((load(`k: ${yamlString(s)}`) as { k: unknown }).k).toBe(s);
        expect(Object.keys(load(`${yamlKey(s)}: 1`) as object)).toEqual([s]);
      }),
      { numRuns: 500 },
    );
    for (const s of ['1.0', '.5', 'true', 'yes', 'Off', 'null', '~', '0x10', '1:20', 'ghcr.io/x/y:1.2', 'a:', '#x', '- a', "it's"]) {
      expect((load(`k: ${yamlString(s)}`) as { k: unknown }).k).toBe(s);
    }
    expect(yamlString('ghcr.io/org/app:1.2.3')).toBe('ghcr.io/org/app:1.2.3');
  });

  it('derives display and Kubernetes names', () => {
    expect(displayNameFor('hello-universe')).toBe('Hello Universe');
    expect(displayNameFor('my_pack.v2')).toBe('My Pack V2');
    expect(kubernetesName('my_pack.v2')).toBe('my-pack-v2');
  });

  it('writes pack.json with the identity first and a trailing newline', () => {
    const text = packJsonText({ name: 'demo', version: '1.0.0', displayName: 'Demo', layer: 'addon', addonType: 'monitoring', charts: ['charts/demo-1.0.0.tgz'] });
    expect(text.endsWith('}\n')).toBe(true);
    expect(Object.keys(JSON.parse(text))).toEqual(['name', 'displayName', 'version', 'layer', 'addonType', 'cloudTypes', 'charts']);
  });

  it('writes values.yaml with the pack section, images to review as comments, and the chart values nested', () => {
    const text = valuesYamlText({
      displayName: 'Demo',
      version: '1.0.0',
      namespace: 'demo',
      images: [{ image: 'example/a:1' }, { image: 'example/b:{{ .Values.tag }}', review: 'the tag is templated' }],
      chart: { key: 'demo', valuesText: '# keep me\nreplicas: 1\n', source: 'chart demo 1.0.0' },
    });
    expect(load(text)).toEqual({
      pack: { namespace: 'demo', content: { images: [{ image: 'example/a:1' }, { image: 'example/b:{{ .Values.tag }}' }] } },
      charts: { demo: { replicas: 1 } },
    });
    expect(text).toContain('  # review: the tag is templated\n');
    expect(text).toContain('    # keep me\n    replicas: 1\n');
    expect(text).not.toMatch(/\t/);
  });
});

/** Chunks of a PNG file: type, data, and whether the CRC matches. */
function chunks(png: Buffer): Array<{ type: string; data: Buffer; crcOk: boolean }> {
  const out = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    out.push({ type, data, crcOk: png.readUInt32BE(at + 8 + length) === crc32(png.subarray(at + 4, at + 8 + length)) });
    at += 12 + length;
  }
  return out;
}

describe('placeholder logo', () => {
  it('is a valid 128x128 RGB PNG whose pixels decode to the picture', () => {
    const png = placeholderLogo('demo');
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const parts = chunks(png);
    expect(parts.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    expect(parts.every((c) => c.crcOk)).toBe(true);
    const ihdr = parts[0]?.data as Buffer;
    expect([ihdr.readUInt32BE(0), ihdr.readUInt32BE(4), ihdr[8], ihdr[9]]).toEqual([128, 128, 8, 2]);
    const raw = inflateSync(parts[1]?.data as Buffer);
    expect(raw.length).toBe(128 * (1 + 128 * 3));
    const pixel = (x: number, y: number) => [...raw.subarray(y * 385 + 1 + x * 3, y * 385 + 4 + x * 3)];
    expect(pixel(64, 64)).toEqual([255, 255, 255]); // the hexagon
    expect(pixel(0, 0)).not.toEqual([255, 255, 255]); // the background
  });

  it('is the same for the same name and differs between names', () => {
    expect(placeholderLogo('demo').equals(placeholderLogo('demo'))).toBe(true);
    expect(placeholderLogo('demo').equals(placeholderLogo('other'))).toBe(false);
  });

  it('refuses pixel data that does not fit the size', () => {
    expect(() => encodePngRgb(2, 2, new Uint8Array(11))).toThrow(RangeError);
    const tiny = encodePngRgb(1, 1, new Uint8Array([1, 2, 3]));
    expect(inflateSync(chunks(tiny)[1]?.data as Buffer)).toEqual(Buffer.from([0, 1, 2, 3]));
  });
});
