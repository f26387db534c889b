import { afterEach, describe, expect, it, vi } from 'vitest';
import { readChart } from '../../../src/pack/chart.js';
import { eachValuesReferencePath, eachValuesReferencePathOfAscii } from '../../../src/pack/template-refs.js';
import { tempDir, writeTgz } from '../../support/files.js';
import { Prng } from '../../support/prng.js';

/*
 * A large ASCII template of a chart archive is made a string a piece at a time (issue 16): what packpub then
 * knows the chart reads (the keys it does not call "not a value of the chart") must be exactly what the scan
 * of the whole string finds, in the same order.
 */
function reads(text: string, limit?: number, partial = false): string[] {
  const paths: string[] = [];
  eachValuesReferencePath(text, (dotted) => paths.push(dotted), limit, partial);
  return paths;
}

function readsInPieces(text: string, pieceBytes: number, limit?: number, partial = false): string[] {
  const paths: string[] = [];
  eachValuesReferencePathOfAscii(Buffer.from(text, 'latin1'), (dotted) => paths.push(dotted), limit, partial, pieceBytes);
  return paths;
}

/** Pieces templates are made of: actions reading values every way the scan knows, comments, defines, stray braces. */
const PIECES = [
  '{{ .Values.a.b }}', '{{- $.Values.c_d -}}', '{{ if.Values.e }}', '{{ else }}', '{{ end }}', '{{ with .Values.f }}{{ .g }}{{ end }}',
  '{{/* .Values.hidden */}}', '{{- /* .Values.hidden2 */ -}}', '{{ $root := . }}{{ $root.Values.r.s }}', '{{- $v := .Values }}', '{{ $v.t.u }}',
  '{{ index .Values "dash-key" "in" }}', '{{ get $.Values "g" }}', '{{ hasKey $v "h" }}', '{{ index $v "k" }}', '{{ not.Values.x }}',
  '{{ .ValuesX.y }}', '{{ x.Values.z }}', '{{ (.Values.p).q }}', '{{ include "t" .Values.inc }}', '{{ define "t" }}{{ .Values.inDefine }}{{ end }}',
  '{{ block "b" . }}{{ .Values.inBlock }}{{ end }}', '{{ range .Values.list }}{{ . }}{{ end }}', '.Values.outside', '}}', '{{', '}}}', '{{{',
  '{ {', '} }', 'kind: ConfigMap\n', 'data:\n  key: value\n', '  ', '\n', '\t', '-', '$', '.', 'Values', '.Values', '"', '\\', 'if', 'end',
];

function template(prng: Prng, pieces: number, from = PIECES): string {
  let text = '';
  for (let i = 0; i < pieces; i++) text += prng.pick(from);
  return text;
}

describe('eachValuesReferencePathOfAscii (a template made a string a piece at a time)', () => {
  it('finds exactly what the scan of the whole string finds, in order, whatever the pieces, partial or not, any limit', () => {
    // 6,400 comparisons: the whole string is scanned once per text, limit and mode, and the differences are
    // collected (one expect() per comparison cost as much as both scans). 400 texts: of 18 mutants of the piece
    // cutting, the limits and the partials' way (src/pack/template-refs.ts), the 8 that 1,500 texts caught were each
    // caught by text 2; in every arm (mode, limit, piece size) that caught one, by text 53, but one: 8-byte pieces
    // cut a byte after the `}}`, by text 233.
    const prng = new Prng(16);
    const differ: string[] = [];
    for (let n = 0; n < 400; n++) {
      const text = template(prng, prng.int(0, 80));
      for (const partial of [false, true]) {
        for (const limit of [undefined, 3]) {
          const whole = JSON.stringify(reads(text, limit, partial));
          for (const pieceBytes of [8, 24, 64, 200]) {
            const pieces = JSON.stringify(readsInPieces(text, pieceBytes, limit, partial));
            if (pieces !== whole) differ.push(`pieces of ${pieceBytes} bytes, limit ${limit}, partial ${partial}: ${pieces}, not ${whole}, in ${JSON.stringify(text)}`);
          }
        }
      }
    }
    expect(differ).toEqual([]);
  });

  it('finds the same in long templates cut into 64 KiB pieces', () => {
    // Four (two of each kind): every mutant above that a long template catches is caught by each of them.
    const prng = new Prng(64);
    for (let n = 0; n < 4; n++) {
      // Half of them without a variable set to .Values: those are never made one string.
      const text = template(prng, 30_000, n % 2 === 0 ? PIECES : PIECES.filter((p) => !p.includes('$v')));
      expect(readsInPieces(text, 64 * 1024)).toEqual(reads(text));
      expect(readsInPieces(text, 64 * 1024, 500)).toEqual(reads(text, 500));
    }
  });
});

describe('a chart archive with a large ASCII template', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    vi.restoreAllMocks();
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('has the references its string holds, and no string of the whole template is made', async () => {
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    // ~200 KB of actions and text, no variable set to .Values (which would make the string for its regular expressions),
    // and none that Go's template parser refuses (a stray `{{`, an `{{end}}` alone): a top chart's template it refuses refuses the chart.
    const unparsed = new Set(['{{', '{{{', '{ {', '{{ else }}', '{{ end }}', '{{ if.Values.e }}', '{{ x.Values.z }}']);
    const text = template(new Prng(7), 12_000, PIECES.filter((p) => !p.includes('$v') && !unparsed.has(p)));
    expect(text.length).toBeGreaterThan(150 * 1024);
    const archive = `${dir}/big-1.0.0.tgz`;
    await writeTgz(archive, {
      'big/Chart.yaml': 'apiVersion: v2\nname: big\nversion: 1.0.0\n',
      'big/values.yaml': 'a:\n  b: 1\n',
      'big/templates/big.yaml': text,
    });
    const made: number[] = [];
    const toString = Buffer.prototype.toString;
    vi.spyOn(Buffer.prototype as { toString(...args: unknown[]): string }, 'toString').mockImplementation(function (this: Buffer, ...args: unknown[]) {
      const made1 = toString.apply(this, args as Parameters<Buffer['toString']>);
      if (args[0] === 'latin1') made.push(made1.length);
      return made1;
    });
    const chart = await readChart(archive);
    const found = chart.templateValuePaths.map((path) => path.join('.'));
    expect(found.sort()).toEqual([...new Set(reads(text))].sort());
    expect(found.length).toBeGreaterThan(10);
    expect(Math.max(0, ...made)).toBeLessThan(128 * 1024);
  });
});
