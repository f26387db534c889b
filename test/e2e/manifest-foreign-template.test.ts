import { join } from 'node:path';
import { describe, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * pack-central's kubeflow-*-1.5.0 packs (published since 2023, values.yaml empty) ship Istio's sidecar injector
 * template inside a ConfigMap: `{{ if .Values.istio_cni.enabled }}`, `{{ annotation .ObjectMeta ... }}`. Those
 * .Values are Istio's, read by istiod per pod; packpub told the author to add `manifests: > base_manifests:`
 * with Istio's keys, which Palette would then pass in. A manifest reading fields Palette's data lacks is left
 * alone; one reading only Palette's (.Values, .Spectro) is still checked.
 */
const VALUES = ['pack:', '  namespace: inject', '  content:', '    images:', '      - image: ghcr.io/example/app:1.0.0', ''].join('\n');
const ISTIO = [
  'apiVersion: v1',
  'kind: ConfigMap',
  'metadata:',
  '  name: istio-sidecar-injector',
  'data:',
  '  config: |',
  '    templates:',
  '      sidecar: |',
  '        {{- range $index, $container := .Spec.Containers }}{{ $container.Name }}{{- end }}',
  '        {{- if .Values.istio_cni.enabled }}',
  '        mode: "{{ annotation .ObjectMeta `sidecar.istio.io/interceptionMode` .ProxyConfig.InterceptionMode }}"',
  '        {{- end }}',
  '',
].join('\n');

describe("a manifest holding another engine's templates", () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-e2e-foreign-');
    const files = (manifest: string) => ({ 'values.yaml': VALUES, 'manifests/app.yaml': manifest });
    return {
      istio: await writePack(join(root, 'istio'), { name: 'inject', version: '1.0.0', files: files(ISTIO) }),
      palette: await writePack(join(root, 'palette'), { name: 'inject', version: '1.0.0', files: files('kind: ConfigMap\ndata:\n  replicas: "{{ .Values.replicas }}"\n  cluster: "{{ .Spectro.cluster }}"\n') }),
    };
  });

  it("validate exits 0 without asking for Istio's values under manifests.app", async () => {
    expectRun(await runCli(['validate', w.istio], { env: { NO_COLOR: '1' } }), { code: 0, stdout: [`${w.istio}: inject:1.0.0 OK\n`, '1 passed, 0 failed (0 errors, 0 warnings)'] });
  });

  it("still asks for the values of a manifest that reads only Palette's data", async () => {
    expectRun(await runCli(['validate', w.palette], { env: { NO_COLOR: '1' } }), {
      code: 0,
      stdout: ['warning values.yaml manifests.app: values.yaml has no manifests.app for manifests/app.yaml; Palette passes that entry to the manifest as .Values: add `manifests:` > `app:` with the values it uses (replicas)', '(0 errors, 1 warning)'],
    });
  });
});
