import { createReadStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { checkPng } from '../../../src/pack/png.js';
import { validatePack } from '../../../src/pack/validate.js';

const EXAMPLES = fileURLToPath(new URL('../../../examples', import.meta.url));

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(relative(dir, join(entry.parentPath, entry.name)));
  }
  return out.sort();
}

async function tgzFiles(path: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const extract = tar.extract();
  createReadStream(path).pipe(createGunzip()).pipe(extract);
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    if (entry.header.type === 'file') files.set(entry.header.name, Buffer.concat(chunks).toString('utf8'));
  }
  return files;
}

describe('example packs', () => {
  it.each(['hello-manifests', 'hello-helm'])('%s passes validate --strict with no findings', async (name) => {
    const report = await validatePack(join(EXAMPLES, name), { strict: true });
    expect(report.findings).toEqual([]);
    expect(report).toMatchObject({ pack: { name, version: '1.0.0' }, passed: true });
  });

  it.each(['hello-manifests', 'hello-helm'])('%s has a real 64x64 PNG logo', async (name) => {
    expect(await checkPng(join(EXAMPLES, name, 'logo.png'))).toEqual({ ok: true, width: 64, height: 64 });
  });

  it('hello-helm ships the same chart in its archive as in charts/hello-web/', async () => {
    const chartDir = join(EXAMPLES, 'hello-helm/charts/hello-web');
    const archived = await tgzFiles(join(EXAMPLES, 'hello-helm/charts/hello-web-0.1.0.tgz'));
    const onDisk = await filesUnder(chartDir);
    expect([...archived.keys()].sort()).toEqual(onDisk.map((f) => `hello-web/${f}`));
    for (const f of onDisk) expect(archived.get(`hello-web/${f}`), f).toBe(await readFile(join(chartDir, f), 'utf8'));
  });
});
