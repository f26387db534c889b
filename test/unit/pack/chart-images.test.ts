import { describe, expect, it } from 'vitest';
import { findImages } from '../../../src/pack/chart-images.js';
import { parseYamlTree } from '../../../src/pack/yaml-tree.js';

const find = (yaml: string, appVersion?: string) => findImages(parseYamlTree(yaml), appVersion === undefined ? {} : { appVersion });

describe('findImages', () => {
  it('composes registry/repository:tag maps and reads plain image strings, in document order', () => {
    const images = find(`
image:
  registry: docker.io
  repository: bitnami/redis
  tag: 7.2.4
sidecar:
  image: ghcr.io/org/sidecar:1.0.0
metrics:
  exporter:
    image:
      repository: quay.io/prom/exporter
      tag: v0.15.0
      digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
workers:
  - name: a
    image: registry.k8s.io/pause:3.9
description: "see docs/image:1"
`);
    expect(images).toEqual([
      { image: 'docker.io/bitnami/redis:7.2.4', path: 'image' },
      { image: 'ghcr.io/org/sidecar:1.0.0', path: 'sidecar.image' },
      { image: 'quay.io/prom/exporter:v0.15.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', path: 'metrics.exporter.image' },
      { image: 'registry.k8s.io/pause:3.9', path: 'workers[0].image' },
    ]);
  });

  it('flags images whose tag is empty, missing, templated or latest', () => {
    const images = find(
      `
app:
  image:
    repository: example/app
    tag: ""
tool:
  image:
    repository: example/tool
    pullPolicy: Always
job:
  image:
    repository: example/job
    tag: "{{ .Chart.AppVersion }}"
debug:
  image: busybox:latest
init:
  initImage: example/init
`,
      '2.0.0',
    );
    expect(images.map((i) => [i.image, i.review])).toEqual([
      ['example/app:2.0.0', "the chart leaves the tag empty; packpub assumed the chart's appVersion (2.0.0), which most charts default to"],
      ['example/tool:2.0.0', "the chart leaves the tag empty; packpub assumed the chart's appVersion (2.0.0), which most charts default to"],
      ['example/job:{{ .Chart.AppVersion }}', 'the tag is templated; write the version it renders to'],
      ['busybox:latest', '"latest" is not a fixed version; pin a tag'],
      ['example/init', 'no tag: pin the version the chart deploys'],
    ]);
    expect(find('image:\n  repository: example/x\n  tag: ""\n')[0]?.review).toBe('the chart does not set a tag; pin the version the chart deploys');
  });

  it('lists an image once, and leaves aliases and non-image values alone', () => {
    const images = find(`
a:
  image: &img
    repository: example/a
    tag: "1"
b:
  image: *img
c:
  image: example/a:1
d:
  repository: not-an-image-without-tag-or-image-key
e:
  image: "http://example.com/not/an/image"
`);
    expect(images.map((i) => i.image)).toEqual(['example/a:1']);
  });
});
