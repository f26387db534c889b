import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createWriteStream, existsSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack as tarPack } from 'tar-stream';
import { fileURLToPath } from 'node:url';

/** A valid 1x1 PNG. */
export const TINY_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

export interface PackSpec {
  name: string;
  version: string;
  /** Extra or replacing files, relative path -> content. */
  files?: Record<string, string | Buffer>;
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
  const files: Record<string, string | Buffer> = {
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
  for (const [rel, content] of Object.entries(files)) {
    const path = join(dir, rel);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
  }
  return dir;
}

/** A temp dir removed by the returned cleanup. */
export async function tempDir(prefix = 'packpub-test-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** ../shared/corpus/packs beside the repository, when present (a user's fresh clone has none). */
export const CORPUS_DIR = fileURLToPath(new URL('../../../shared/corpus/packs', import.meta.url));
export const HAVE_CORPUS = existsSync(CORPUS_DIR);
if (!HAVE_CORPUS) console.warn(`skipping corpus tests: ${CORPUS_DIR} is absent`);

export const EXAMPLES_DIR = fileURLToPath(new URL('../../examples', import.meta.url));

/** Every file below `dir` (relative path -> base64 content): two trees are equal when these are. */
export async function treeOf(dir: string, prefix = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix === '' ? e.name : `${prefix}/${e.name}`;
    if (e.isDirectory()) Object.assign(out, await treeOf(join(dir, e.name), rel));
    else out[rel] = (await readFile(join(dir, e.name))).toString('base64');
  }
  return out;
}

/** Write files (relative path -> content) below `dir`, creating folders. */
export async function writeFiles(dir: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [rel, data] of Object.entries(files)) {
    await mkdir(dirname(join(dir, rel)), { recursive: true });
    await writeFile(join(dir, rel), data);
  }
}

/** A gzip'd tar of `files` (paths as given, e.g. `foo/Chart.yaml`), as `helm package` would write it. */
export async function writeTgz(out: string, files: Record<string, string | Buffer>): Promise<void> {
  await mkdir(dirname(out), { recursive: true });
  const pack = tarPack();
  const done = pipeline(pack, createGzip(), createWriteStream(out));
  // A name ending in "/" is a directory entry, as tar writes them.
  for (const [name, data] of Object.entries(files)) {
    if (name.endsWith('/')) pack.entry({ name, type: 'directory', mode: 0o755 });
    else pack.entry({ name, mode: 0o644 }, data);
  }
  pack.finalize();
  await done;
}
