import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract, type Header } from 'tar-stream';

/** Temp folders made by a test file; remove them all in afterAll. */
export class TempDirs {
  private readonly dirs: string[] = [];

  async make(prefix = 'packpub-archive-'): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.dirs.map((d) => rm(d, { recursive: true, force: true })));
  }
}

export type TreeSpec = Record<string, string | Buffer | { content: string | Buffer; mode: number }>;

/** Writes files (parents created) in the order given. */
export async function writeTree(root: string, files: TreeSpec): Promise<void> {
  for (const [rel, spec] of Object.entries(files)) {
    const path = join(root, rel);
    await mkdir(dirname(path), { recursive: true });
    if (typeof spec === 'string' || Buffer.isBuffer(spec)) {
      await writeFile(path, spec);
    } else {
      await writeFile(path, spec.content);
      await chmod(path, spec.mode);
    }
  }
}

/** A small valid-looking pack. */
export const SMALL_PACK: TreeSpec = {
  'pack.json': '{"name":"hello","displayName":"Hello","version":"1.0.0","layer":"addon","addonType":"system app"}\n',
  'values.yaml': 'pack:\n  namespace: hello\n',
  'README.md': '# Hello\n',
  'logo.png': Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'),
  'manifests/hello.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: hello\n',
  'manifests/nested/deep.yaml': 'kind: ConfigMap\n',
  'scripts/run.sh': { content: '#!/bin/sh\necho hi\n', mode: 0o755 },
};

export interface TreeItem {
  type: 'file' | 'directory' | 'other';
  mode: number;
  sha256?: string;
}

/** Every path below root (posix separators) with type, permission bits and content hash. */
export async function readTree(root: string): Promise<Map<string, TreeItem>> {
  const out = new Map<string, TreeItem>();
  async function walk(dir: string, rel: string): Promise<void> {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      const r = rel === '' ? name : `${rel}/${name}`;
      const st = await lstat(path);
      if (st.isDirectory()) {
        out.set(r, { type: 'directory', mode: st.mode & 0o7777 });
        await walk(path, r);
      } else if (st.isFile()) {
        out.set(r, { type: 'file', mode: st.mode & 0o7777, sha256: createHash('sha256').update(await readFile(path)).digest('hex') });
      } else {
        out.set(r, { type: 'other', mode: st.mode & 0o7777 });
      }
    }
  }
  await walk(root, '');
  return out;
}

export function run(cmd: string, args: string[], options: { cwd?: string; input?: Buffer } = {}): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { cwd: options.cwd, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1;
      resolve({ stdout, stderr, code });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** The tar headers of a .tar.gz, read with Node's gunzip and tar-stream. */
export async function listWithNode(file: string): Promise<Header[]> {
  const headers: Header[] = [];
  const extract = tarExtract();
  const done = (async () => {
    for await (const entry of extract) {
      headers.push(entry.header);
      for await (const _ of entry) {
        // drain
      }
    }
  })();
  await pipeline(createReadStream(file), createGunzip(), async function (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      if (!extract.write(chunk)) await new Promise<void>((r) => extract.once('drain', () => r()));
    }
    extract.end(undefined);
  });
  await done;
  return headers;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
