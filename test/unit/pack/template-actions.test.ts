import { describe, expect, it } from 'vitest';
import { goTemplateRead } from '../../../src/pack/go-template.js';
import { eachValuesReferencePath, eachValuesReferencePathOfAscii, requiredScan } from '../../../src/pack/template-refs.js';
import { Prng } from '../../support/prng.js';

/*
 * The Go-template check hands the action positions it read to the .Values and required scans (issue 16): what they
 * find with them must be exactly what they find without, and none are handed on when an action holds a `}}` in a
 * string or comment (Go ends it later than the scans do).
 */
const PIECES = [
  '{{ .Values.a.b }}', '{{- $.Values.c_d -}}', '{{ if.Values.e }}', '{{ else }}', '{{ end }}', '{{ with .Values.f }}{{ .g }}{{ end }}',
  '{{/* .Values.hidden */}}', '{{- /* .Values.hidden2 */ -}}', '{{/* }} .Values.h3 */}}', '{{ "}}" }}', '{{ `x}}y` }}', "{{ '}' }}",
  '{{ $root := . }}{{ $root.Values.r.s }}', '{{- $v := .Values }}', '{{ $v.t.u }}', '{{ index .Values "dash-key" "in" }}',
  '{{ include "t" .Values.inc }}', '{{ include "t" . }}', '{{ template "u" $ }}', '{{ required "set x" .Values.x.y }}',
  '{{ .Values.z | required "z!" }}', '{{ and (required "q" .Values.q) 1 }}', '{{ define "t" }}{{ required "in t" .Values.it }}{{ end }}',
  '{{ range .Values.list }}{{ . }}{{ end }}', '{{-  /* */ .Values.w }}', '.Values.outside', '}}', '}}}', 'kind: ConfigMap\n', '\n', ' ',
];

function reads(text: string, actions?: Int32Array, partial = false, pieceBytes?: number): string[] {
  const paths: string[] = [];
  if (pieceBytes === undefined) eachValuesReferencePath(text, (dotted) => paths.push(dotted), undefined, partial, actions);
  else eachValuesReferencePathOfAscii(Buffer.from(text, 'latin1'), (dotted) => paths.push(dotted), undefined, partial, pieceBytes, actions);
  return paths;
}

describe('the action positions goTemplateRead hands to the scans', () => {
  it('are where its actions and comments are, and none when a string or comment holds a `}}`', () => {
    expect([...(goTemplateRead('a {{ .Values.x }} b {{/* c */ -}}\n', true).actions ?? [])]).toEqual([2, 15, 20, 31]);
    expect(goTemplateRead('{{ .Values.x }}', false).actions).toBeUndefined();
    for (const text of ['{{ "}}" }}', '{{ `}}` }}', "{{ printf \"%s\" '}' }}{{ \"a}}\" }}", '{{/* }} */}}', '{{ .Values.x'])
      expect(goTemplateRead(text, true).actions, text).toBeUndefined();
  });

  it('leave what the scans find as it is', () => {
    const prng = new Prng(33);
    const differ: string[] = [];
    let handed = 0;
    for (let n = 0; n < 3000; n++) {
      let text = '';
      for (let i = prng.int(0, 16); i > 0; i--) text += prng.pick(PIECES);
      const actions = goTemplateRead(text, true).actions;
      if (actions === undefined) continue;
      handed++;
      for (const partial of [false, true]) {
        const without = JSON.stringify(reads(text, undefined, partial));
        if (JSON.stringify(reads(text, actions, partial)) !== without) differ.push(`partial ${partial}: ${JSON.stringify(text)}`);
        if (JSON.stringify(reads(text, actions, partial, 48)) !== without) differ.push(`pieces, partial ${partial}: ${JSON.stringify(text)}`);
      }
      const scan = (a?: Int32Array) => {
        const s = requiredScan(text, a);
        return JSON.stringify([s.top, s.includes, [...s.defines]]);
      };
      if (scan(actions) !== scan()) differ.push(`requiredScan: ${JSON.stringify(text)}`);
    }
    expect(differ).toEqual([]);
    expect(handed).toBeGreaterThan(500);
  });
});
