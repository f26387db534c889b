import { describe, expect, it } from 'vitest';
import { foreignTemplateField } from '../../../src/pack/template-refs.js';

/*
 * A manifest holding another engine's Go templates (Istio's sidecar injector, which pack-central's kubeflow
 * packs ship inside a ConfigMap): it reads fields of its data that Palette's (`.Values`, `.Spectro`) lacks.
 */
describe('foreignTemplateField', () => {
  it("finds Istio's injector data fields beside its .Values", () => {
    const text = [
      'data:',
      '  sidecar: |',
      '    {{- range $index, $container := .Spec.Containers }}{{ $container.Name }}{{- end }}',
      '    {{- if .Values.istio_cni.enabled }}',
      '    interceptionMode: "{{ annotation .ObjectMeta `sidecar.istio.io/interceptionMode` .ProxyConfig.InterceptionMode }}"',
      '    {{- end }}',
    ].join('\n');
    expect(foreignTemplateField(text)).toBe('Spec');
  });

  it("takes Palette's own data as Palette's: .Values, .Spectro", () => {
    expect(foreignTemplateField('name: {{ .Values.namespace | default "x" }}\ncluster: {{ .Spectro.cluster | quote }}\n{{- if hasPrefix "https://" .Spectro.apiServer }}x{{ end }}')).toBeUndefined();
  });

  it('reads no field where dot is a with or range value, a define argument, but the block action itself and its else', () => {
    const inner = '{{ range .Values.users }}{{ .Name }}{{ end }}{{ with .Values.image }}{{ .Tag }}{{ end }}{{ define "x" }}{{ .Chart }}{{ end }}';
    expect(foreignTemplateField(inner)).toBeUndefined();
    expect(foreignTemplateField('{{ with .Values.a }}{{ .B }}{{ else }}{{ .ObjectMeta.Name }}{{ end }}')).toBe('ObjectMeta');
    expect(foreignTemplateField('{{ with .Spec }}{{ .X }}{{ end }}')).toBe('Spec');
    expect(foreignTemplateField('{{ if .Values.a }}{{ .Release.Name }}{{ end }}')).toBe('Release');
  });

  it('skips comments, lower-case names (map keys, functions) and fields of something else', () => {
    expect(foreignTemplateField('{{/* .Spec */}}{{- /* .Spec */ -}}{{ .Values.a.Spec }}{{ $x.Spec }}{{ (f).Spec }}{{ .values }}')).toBeUndefined();
  });
});
