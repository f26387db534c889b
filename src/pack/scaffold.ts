import { PackpubError } from '../errors.js';
import type { PackLayer } from './model.js';

/*
 * The text of a new pack's files. Pure functions: src/operations/init.ts decides what to write where.
 * values.yaml is written as text, never through a YAML dumper, so a chart's comments survive and the
 * layout follows pack-central's rules (2-space indentation, no tabs).
 */

export interface ScaffoldPackJson {
  name: string;
  version: string;
  displayName: string;
  layer: PackLayer;
  addonType?: string;
  cloudTypes?: string[];
  charts?: string[];
  kubeManifests?: string[];
}

/** pack.json with the keys in the order pack authors read them. */
export function packJsonText(meta: ScaffoldPackJson): string {
  const json: Record<string, unknown> = {
    name: meta.name,
    displayName: meta.displayName,
    version: meta.version,
    layer: meta.layer,
  };
  if (meta.addonType !== undefined) json['addonType'] = meta.addonType;
  json['cloudTypes'] = meta.cloudTypes ?? ['all'];
  if (meta.charts !== undefined) json['charts'] = meta.charts;
  if (meta.kubeManifests !== undefined) json['kubeManifests'] = meta.kubeManifests;
  return `${JSON.stringify(json, null, 2)}\n`;
}

/** `hello-universe` -> `Hello Universe`. */
export function displayNameFor(name: string): string {
  return name
    .split(/[-_.]+/)
    .filter((w) => w !== '')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join(' ');
}

/** A Kubernetes object name (RFC 1123 label) from a pack name: `my_pack.x` -> `my-pack-x`. */
export function kubernetesName(name: string): string {
  const cleaned = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return cleaned === '' ? 'pack' : cleaned;
}

/** Words YAML 1.1 readers (go-yaml, which Helm uses) take for booleans or null. */
const YAML_WORDS = /^(?:true|false|null|yes|no|on|off|y|n|~)$/i;

/** A mapping key, quoted only when YAML would misread it plain. */
export function yamlKey(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_./-]*$/.test(key) && !YAML_WORDS.test(key) ? key : JSON.stringify(key);
}

/**
 * A string scalar: plain when it starts with a letter or `/` and holds only characters that cannot
 * start YAML syntax or make a number, else double-quoted (a JSON string is valid YAML).
 */
export function yamlString(value: string): string {
  const plainSafe = /^[A-Za-z/][A-Za-z0-9_./:@-]*$/.test(value) && !value.endsWith(':') && !YAML_WORDS.test(value);
  return plainSafe ? value : JSON.stringify(value);
}

export interface ChartValuesBlock {
  /** The key under `charts:` (Chart.yaml name). */
  key: string;
  /** The chart's values.yaml text as shipped. */
  valuesText: string;
  /** Where it came from, for the comment. */
  source: string;
}

/**
 * Indent a chart's values.yaml under `charts.<key>` by adding the same prefix to every non-empty line.
 * A uniform prefix keeps block scalars, comments and flow collections meaning what they meant. Blanks at a
 * line's end are kept: in a `|` block they are part of the value (aws-for-fluent-bit's `Health_Check On `).
 * A leading `---` (and `%` directives) are dropped; a second document is refused, as Helm reads one.
 */
export function indentChartValues(text: string, spaces: number): { text: string; empty: boolean } {
  const lines = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n').split('\n');
  const out: string[] = [];
  let seenContent = false;
  let empty = true;
  const pad = ' '.repeat(spaces);
  for (const line of lines) {
    if (/^---(?:\s|$)/.test(line) || /^\.\.\.(?:\s|$)/.test(line)) {
      if (seenContent) {
        throw new PackpubError('PACK_FILE', 'the chart values.yaml holds more than one YAML document', {
          hint: 'Helm reads only one document from values.yaml: remove the extra `---` sections from the chart',
        });
      }
      const rest = line.slice(3).trim();
      if (rest !== '' && !rest.startsWith('#')) {
        out.push(pad + rest);
        seenContent = true;
        empty = false;
      }
      continue;
    }
    if (!seenContent && line.startsWith('%')) continue;
    const trimmed = line.trim();
    if (trimmed !== '' && !trimmed.startsWith('#')) {
      seenContent = true;
      empty = false;
    }
    out.push(line === '' ? '' : pad + line);
  }
  // A block that keeps its trailing line breaks (`|+`, `>+`) holds the blank lines at the end: kept then.
  const keeps = /(?:^|[\s:-])[|>](?:[1-9]?\+|\+[1-9])[ \t]*(?:#.*)?$/m.test(text);
  if (keeps && out[out.length - 1] === '') out.pop(); // the file's last line break ends its last line
  while (!keeps && out.length > 0 && out[out.length - 1]!.trim() === '') out.pop();
  while (out.length > 0 && out[0]!.trim() === '') out.shift();
  return { text: out.join('\n'), empty };
}

export interface ImageLine {
  image: string;
  review?: string;
}

export interface ValuesYamlOptions {
  displayName: string;
  version: string;
  namespace: string;
  images: ImageLine[];
  chart?: ChartValuesBlock;
  /** Manifest values key (the example manifest's basename). */
  manifestKey?: string;
  /** Manifest file the key belongs to, for the comment. */
  manifestFile?: string;
}

/** values.yaml for a new pack (palette-packs.md, "values.yaml shape"). */
export function valuesYamlText(o: ValuesYamlOptions): string {
  const lines: string[] = [
    `# Values of the ${o.displayName} ${o.version} pack. Palette shows them in the cluster profile, where users can change them.`,
    'pack:',
    '  # The namespace (on the target cluster) the pack installs into; Palette creates it when missing.',
    `  namespace: ${yamlString(o.namespace)}`,
    '  content:',
    '    # Every container image the pack deploys, so Palette can list, mirror and scan them.',
  ];
  if (o.images.length === 0) lines.push('    images: []');
  else {
    lines.push('    images:');
    for (const i of o.images) lines.push(`      - image: ${yamlString(i.image)}${i.review === undefined ? '' : `  # review: ${i.review.replace(/\s+/g, ' ')}`}`);
  }
  if (o.chart !== undefined) {
    const { text, empty } = indentChartValues(o.chart.valuesText, 4);
    lines.push('', 'charts:', `  # The default values of ${o.chart.source}, nested as the chart expects them.`);
    if (empty) lines.push(`  ${yamlKey(o.chart.key)}: {}`);
    else lines.push(`  ${yamlKey(o.chart.key)}:`);
    if (text !== '') lines.push(text);
  }
  if (o.manifestKey !== undefined) {
    lines.push(
      '',
      'manifests:',
      `  # Passed to ${o.manifestFile ?? `manifests/${o.manifestKey}.yaml`} as .Values (Palette renders manifests as Go templates).`,
      `  ${yamlKey(o.manifestKey)}:`,
      '    # Read in the manifest as {{ .Values.message }}.',
      `    message: ${yamlString(`Hello from ${o.displayName}`)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The example manifest, wired to `manifests.<key>.message`. Valid YAML before and after rendering. */
export function exampleManifestText(name: string, key: string): string {
  return [
    `# An example manifest. Palette renders it as a Go template with .Values set to manifests.${key} in values.yaml.`,
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    `  name: ${kubernetesName(name)}-example`,
    'data:',
    '  message: "{{ .Values.message }}"',
    '',
  ].join('\n');
}

export interface ReadmeOptions {
  name: string;
  displayName: string;
  version: string;
  layer: PackLayer;
  chart?: { name: string; version?: string; appVersion?: string; key: string; archive: string };
  manifest?: { file: string; key: string };
}

/** README.md from a short template (pack-central requires one). */
export function readmeText(o: ReadmeOptions): string {
  const out: string[] = [`# ${o.displayName}`, ''];
  if (o.chart !== undefined) {
    const app = o.chart.appVersion === undefined ? '' : ` (app version ${o.chart.appVersion})`;
    out.push(`This pack installs the Helm chart **${o.chart.name}** ${o.chart.version ?? ''}${app} with Spectro Cloud Palette.`.replace(/ +/g, ' '), '');
  } else {
    out.push(`This ${o.layer === 'addon' ? 'add-on' : o.layer} pack deploys the Kubernetes manifests in \`manifests/\` with Spectro Cloud Palette.`, '');
  }
  out.push('## Parameters', '', '| Parameter | Description |', '| --- | --- |', '| `pack.namespace` | The namespace the pack installs into. |');
  if (o.chart !== undefined) out.push(`| \`charts.${o.chart.key}.*\` | The chart's values; see the chart's documentation. |`);
  if (o.manifest !== undefined) out.push(`| \`manifests.${o.manifest.key}.message\` | An example value, read in \`${o.manifest.file}\`. |`);
  out.push(
    '',
    '## Usage',
    '',
    `Add the ${o.displayName} pack (version ${o.version}) to a cluster profile and adjust its values there.`,
    '',
    '## Publishing',
    '',
    '```shell',
    'packpub validate . --strict',
    'packpub push .',
    '```',
    '',
  );
  return out.join('\n');
}
