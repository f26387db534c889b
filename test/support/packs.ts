import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TINY_PNG, putFile, tgz, writeFiles } from './files.js';
import { Prng } from './prng.js';
import type { Stage } from './stage.js';

/*
 * Packs for tests: one writer of a small valid pack (a manifest pack by default; `writeValidPack` is the
 * chart + manifest one the validator tests break piece by piece), seeded generation of many, and the corpus.
 */

export interface PackSpec {
  name: string;
  version: string;
  /** Extra or replacing files, relative path -> content; null leaves a default file out. */
  files?: Record<string, string | Buffer | null>;
  packJson?: Record<string, unknown>;
}

/** Write a small manifest pack that passes `validate --strict`; returns its folder. */
export async function writePack(dir: string, spec: PackSpec): Promise<string> {
  const packJson = {
    name: spec.name,
    displayName: spec.name,
    version: spec.version,
    layer: 'addon',
    addonType: 'app services',
    cloudTypes: ['all'],
    kubeManifests: ['manifests/app.yaml'],
    ...spec.packJson,
  };
  const files: Record<string, string | Buffer | null> = {
    'pack.json': `${JSON.stringify(packJson, null, 2)}\n`,
    'values.yaml': [
      'pack:',
      `  namespace: ${spec.name}`,
      '  content:',
      '    images:',
      '      - image: ghcr.io/example/app:1.0.0',
      'manifests:',
      '  app:',
      '    replicas: 1',
      '',
    ].join('\n'),
    'logo.png': TINY_PNG,
    'README.md': `# ${spec.name}\n\nA test pack.\n`,
    'manifests/app.yaml': [
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata:',
      `  name: ${spec.name}`,
      'data:',
      '  replicas: "{{ .Values.replicas }}"',
      '',
    ].join('\n'),
    ...spec.files,
  };
  const kept: Record<string, string | Buffer> = {};
  for (const [rel, content] of Object.entries(files)) if (content !== null) kept[rel] = content;
  await writeFiles(dir, kept);
  return dir;
}

/**
 * Several packs written by `writePack` into folders of `root`, one per key of `refs` (`name:version` each, as
 * push reports them): their folders, by the same keys.
 */
export async function writePacks<K extends string>(root: string, refs: Record<K, string>): Promise<Record<K, string>> {
  const dirs = {} as Record<K, string>;
  for (const [key, ref] of Object.entries(refs) as Array<[K, string]>) {
    const [name = '', version = ''] = ref.split(':');
    dirs[key] = await writePack(join(root, key), { name, version });
  }
  return dirs;
}

/** A new temp folder, removed when `stack` closes, holding `writePack(spec)` in its folder `pack`: both paths. */
export async function tempPack(stack: Stage, spec: PackSpec): Promise<{ root: string; pack: string }> {
  const root = await stack.tempDir(`packpub-${spec.name}-`);
  return { root, pack: await writePack(join(root, 'pack'), spec) };
}

export const VALID_PACK_JSON = {
  addonType: 'app services',
  annotations: { source: 'community', contributor: 'packpub-tests' },
  cloudTypes: ['all'],
  charts: ['charts/web-1.0.0.tgz'],
  kubeManifests: ['manifests/extra.yaml'],
  displayName: 'Web',
  layer: 'addon',
  name: 'web',
  version: '1.0.0',
  constraints: {
    dependencies: [{ packName: 'kubernetes', layer: 'k8s', minVersion: '1.28', maxVersion: '', type: 'optional' }],
    resources: [{ type: 'cpu', minLimit: 100, components: [{ scheduleType: 'worker' }] }],
  },
};

export const VALID_VALUES = [
  'pack:',
  '  namespace: web',
  '  content:',
  '    images:',
  '      - image: ghcr.io/example/web:1.0.0',
  '',
  'charts:',
  '  web:',
  '    replicas: 1',
  '',
  'manifests:',
  '  extra:',
  '    message: hello',
  '',
].join('\n');

export const CHART_FILES = {
  'web/Chart.yaml': 'apiVersion: v2\nname: web\nversion: 1.0.0\n',
  'web/values.yaml': 'replicas: 1\n',
  'web/templates/deployment.yaml': 'kind: Deployment\n',
};

/** pack.json text with `edit` applied to a copy of the valid one. */
export function packJsonWith(edit: (json: Record<string, unknown>) => void): string {
  const json = structuredClone(VALID_PACK_JSON) as Record<string, unknown>;
  edit(json);
  return `${JSON.stringify(json, null, 2)}\n`;
}

let validChart: Promise<Buffer> | undefined;
/** The chart archive of every valid pack (CHART_FILES): the same bytes each time, gzip'd once per worker. */
const validChartTgz = (): Promise<Buffer> => (validChart ??= tgz(CHART_FILES));

/**
 * Write the pack "web" that passes `validate --strict` with both a chart and a manifest, so each
 * broken-pack case can break one thing.
 */
export async function writeValidPack(dir: string): Promise<string> {
  return writePack(dir, {
    name: 'web',
    version: '1.0.0',
    files: {
      'pack.json': packJsonWith(() => undefined),
      'values.yaml': VALID_VALUES,
      'README.md': '# Web\n\nA pack for tests.\n',
      'charts/web-1.0.0.tgz': await validChartTgz(),
      'manifests/app.yaml': null,
      'manifests/extra.yaml': 'kind: ConfigMap\ndata:\n  message: "{{ .Values.message }}"\n',
    },
  });
}

/** One valid pack (writeValidPack) per case, in `<root>/case-<index>`, each then changed by `change`. */
export async function writeValidPackPerCase<C>(root: string, cases: readonly C[], change: (dir: string, c: C) => Promise<void>): Promise<void> {
  for (const [i, c] of cases.entries()) {
    const dir = join(root, `case-${i}`);
    await writeValidPack(dir);
    await change(dir, c);
  }
}

/** VALID_VALUES with `lines` (indented to sit under charts.web) after charts.web's `replicas: 1`. */
export const valuesUnderWeb = (lines: string): string => VALID_VALUES.replace('    replicas: 1\n', `    replicas: 1\n${lines}`);

/**
 * One valid pack per case (writeValidPackPerCase), its charts/web-1.0.0.tgz CHART_FILES with `chart(c)` over them,
 * and for a case with `values` those lines under charts.web in the pack's values.yaml (valuesUnderWeb).
 */
export async function writeWebChartPerCase<C extends { name: string; values?: string }>(root: string, cases: readonly C[], chart: (c: C) => Record<string, string | Buffer>): Promise<void> {
  await writeValidPackPerCase(root, cases, async (dir, c) => {
    await putFile(dir, 'charts/web-1.0.0.tgz', await tgz({ ...CHART_FILES, ...chart(c) }));
    if (c.values !== undefined) await putFile(dir, 'values.yaml', valuesUnderWeb(c.values));
  });
}

export interface GeneratedPack {
  dir: string;
  name: string;
  version: string;
}

export interface GenerateOptions {
  /** Names are `<prefix>-<n>` (default "gen"). */
  prefix?: string;
  seed?: number;
  /** Size range of each pack's incompressible payload file, in bytes (default 200..20 000). */
  payloadBytes?: [number, number];
}

/** `count` small valid packs under `root`, the same bytes for the same seed on every run. */
export async function generatePacks(root: string, count: number, options: GenerateOptions = {}): Promise<GeneratedPack[]> {
  const prefix = options.prefix ?? 'gen';
  const [min, max] = options.payloadBytes ?? [200, 20_000];
  const prng = new Prng(options.seed ?? 42);
  const packs: GeneratedPack[] = [];
  for (let i = 0; i < count; i++) {
    const name = `${prefix}-${String(i).padStart(3, '0')}`;
    const version = `1.${i % 7}.${i}`;
    const own = prng.fork(name);
    const dir = await writePack(join(root, `${name}-${version}`), {
      name,
      version,
      files: { 'payload.bin': own.fill(Buffer.alloc(own.int(min, max))) },
    });
    packs.push({ dir, name, version });
  }
  return packs;
}

/**
 * ../shared/corpus/packs beside the repository. A user's fresh clone has none: the tests that need it are
 * skipped then, and say so (CI checks it out beside the repository).
 */
export const CORPUS_DIR = fileURLToPath(new URL('../../../shared/corpus/packs', import.meta.url));
export const HAVE_CORPUS = existsSync(CORPUS_DIR);
if (!HAVE_CORPUS) console.warn(`skipping corpus tests: ${CORPUS_DIR} is absent`);
/**
 * Corpus packs the archive and push round trips leave out (issue 11): nvidia-nvsentinel (4.8 MB, 352 files,
 * ~1 CPU-s a file) takes the path appdynamics-collector (1.9 MB, 249 files) takes: a chart archive beside its
 * unpacked folder of subchart folders, more than one 1 MiB gzip member.
 */
export const CORPUS_SAME_PATH = new Set(['nvidia-nvsentinel-v1.1.0']);

export const EXAMPLES_DIR = fileURLToPath(new URL('../../examples', import.meta.url));
