import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { createGzip, crc32, deflateSync } from 'node:zlib';
import tar from 'tar-stream';

/** A real 2x2 RGB PNG, encoded here so the fixtures need no binary files. */
export function tinyPng(): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, 'latin1');
    data.copy(out, 8);
    out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(2, 0);
  ihdr.writeUInt32BE(2, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const rows = Buffer.from([0, 255, 0, 0, 0, 255, 0, 0, 0, 0, 255, 255, 255, 255]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A gzip'd tar of the given files (directories implied), like `helm package` output. */
export async function tgz(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  const out = buffer(pack.pipe(createGzip()));
  for (const [name, content] of Object.entries(files)) {
    await new Promise<void>((resolve, reject) => {
      pack.entry({ name, mode: 0o644, mtime: new Date(0) }, content, (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  return out;
}

/** A gzip'd tar with one entry of `size` zero bytes: a small file that inflates hugely. */
export async function zeroBombTgz(size: number): Promise<Buffer> {
  const pack = tar.pack();
  const out = buffer(pack.pipe(createGzip({ level: 1 })));
  const entry = pack.entry({ name: 'bomb/zeros.bin', size, mode: 0o644, mtime: new Date(0) });
  const block = Buffer.alloc(1024 * 1024);
  await new Promise<void>((resolve, reject) => {
    let left = size;
    Readable.from(
      (function* () {
        while (left > 0) {
          const n = Math.min(left, block.length);
          left -= n;
          yield n === block.length ? block : block.subarray(0, n);
        }
      })(),
    )
      .pipe(entry)
      .on('finish', resolve)
      .on('error', reject);
  });
  pack.finalize();
  return out;
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

/**
 * Write a pack that passes `validate --strict` with both a chart and a manifest, so each broken-pack
 * case can break one thing.
 */
export async function writeValidPack(dir: string): Promise<string> {
  const files: Record<string, string | Buffer> = {
    'pack.json': `${JSON.stringify(VALID_PACK_JSON, null, 2)}\n`,
    'values.yaml': VALID_VALUES,
    'logo.png': tinyPng(),
    'README.md': '# Web\n\nA pack for tests.\n',
    'charts/web-1.0.0.tgz': await tgz(CHART_FILES),
    'manifests/extra.yaml': 'kind: ConfigMap\ndata:\n  message: "{{ .Values.message }}"\n',
  };
  for (const [rel, content] of Object.entries(files)) await put(dir, rel, content);
  return dir;
}

export async function put(dir: string, rel: string, content: string | Buffer): Promise<void> {
  const path = join(dir, rel);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
}

/** pack.json text with `edit` applied to a copy of the valid one. */
export function packJsonWith(edit: (json: Record<string, unknown>) => void): string {
  const json = structuredClone(VALID_PACK_JSON) as Record<string, unknown>;
  edit(json);
  return `${JSON.stringify(json, null, 2)}\n`;
}
