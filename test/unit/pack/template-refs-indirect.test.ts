import { describe, expect, it } from 'vitest';
import { eachValuesReferencePath, valuesReferencePaths } from '../../../src/pack/template-refs.js';

/*
 * What a chart's template reads from its values beyond `.Values.a.b` (Go text/template and sprig semantics):
 * the keys packpub then knows the chart reads, so it does not call them "not a value of the chart".
 */
function chartReads(text: string, limit?: number, partial = false): string[] {
  const paths: string[] = [];
  eachValuesReferencePath(text, (dotted) => paths.push(dotted), limit, partial);
  return paths;
}

describe('eachValuesReferencePath (what a chart template reads)', () => {
  it('reads through a variable set to .Values, as NVIDIA charts do ($topValues := .Values)', () => {
    const text = '{{- $topValues := .Values }}\n{{- if $topValues.extraPodVolumeMounts }}\n{{- toYaml $topValues.extraPodVolumeMounts | nindent 10 }}\n{{- end }}\n';
    expect(chartReads(text)).toEqual(['extraPodVolumeMounts', 'extraPodVolumeMounts']);
  });

  it('reads $.Values and $x.Values set to a variable, with = as with :=, closed by -}} or )', () => {
    const text = '{{ $a := $.Values -}}{{ $b = $root.Values }}{{ include "x" (list ($c := .Values)) }}{{ $a.one }}{{ $b.two.three }}{{ $c.four }}';
    expect(chartReads(text)).toEqual(['one', 'two.three', 'four']);
  });

  it('reads $root.Values.x, $ctx.Values.x: any variable holding the top context', () => {
    expect(chartReads('{{- $root := . }}{{ $root.Values.fromRoot }} {{ $ctx.Values.a.b | quote }}')).toEqual(['fromRoot', 'a.b']);
  });

  it('reads keys named in index, get and hasKey on .Values or a values variable, dashes included', () => {
    const text = '{{ index .Values "dash-key" "inner" }} {{ get $.Values "getKey" }} {{ if hasKey $root.Values "has" }}{{ end }} {{- $v := .Values }}{{ index $v "via-var" }}';
    expect(chartReads(text)).toEqual(['dash-key.inner', 'getKey', 'has', 'via-var']);
  });

  it('leaves out what it cannot follow: a key in a variable, a key with a dot, index on another map', () => {
    const text = '{{ index .Values $key }} {{ index .Values "a.b" }} {{ get $annotations "x" }} {{ index .Values.sub "k" }}';
    // `.Values.sub` is a plain reference (anything below it is the chart's); the rest adds nothing.
    expect(chartReads(text)).toEqual(['sub']);
  });

  it('does not take $topKey for $top, nor a sub-map set to a variable for .Values', () => {
    const text = '{{ $top := .Values }}{{ $topKey.x }}{{ $img := .Values.image }}{{ $img.tag }}';
    expect(chartReads(text)).toEqual(['image']);
  });

  it('hands on at most `limit` paths in all', () => {
    const text = '{{ .Values.a }}{{ .Values.b }}{{ $r.Values.c }}{{ $r.Values.d }}';
    expect(chartReads(text, 3)).toEqual(['a', 'b', 'c']);
    expect(chartReads(text, 2)).toEqual(['a', 'b']);
  });

  it('leaves valuesReferencePaths (the `.Values.a.b` references alone) as it was', () => {
    const text = '{{ .Values.a }}{{ $root.Values.b }}{{- $t := .Values }}{{ $t.c }}{{ index .Values "d" }}';
    expect(valuesReferencePaths(text)).toEqual(['a']);
    // In text order, then what is read through variables.
    expect(chartReads(text)).toEqual(['a', 'b', 'd', 'c']);
  });

  it('in a partial (`_deployment.yaml`: Helm renders none) reads only inside define and block bodies', () => {
    const text = [
      'nodeSelector: {{ toYaml .Values.nodeSelector }}',
      '{{- $top := .Values }}{{ $top.outside }} {{ $root.Values.alsoOutside }} {{ index .Values "out" }}',
      '{{- define "web.labels" -}}',
      '{{- if .Values.labels.enabled }}{{ with .Values.labels.extra }}{{ . }}{{ end }}{{ end }}',
      '{{- $v := .Values }}{{ $v.inside }} {{ $root.Values.rootInside }} {{ get .Values "in" }}',
      '{{- end }}',
      'after: {{ .Values.after }}',
      '{{ block "web.more" . }}{{ .Values.inBlock }}{{ end }}',
    ].join('\n');
    expect(chartReads(text, undefined, true)).toEqual(['labels.enabled', 'labels.extra', 'inBlock', 'rootInside', 'in', 'inside']);
    expect(chartReads(text)).toContain('nodeSelector');
    expect(chartReads('x: {{ .Values.a }}', undefined, true)).toEqual([]);
  });
});
