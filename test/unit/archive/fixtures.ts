import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract, type Header } from 'tar-stream';
import { join } from 'node:path';
import { buildArchive, type StatTree } from '../../../src/archive/index.js';
import { writeFiles, type TreeSpec } from '../../support/files.js';
import type { Stage } from '../../support/stage.js';
import { type ChildFailure, runChildText } from '../../support/spawner.js';

/**
 * Walk options for a test that builds a pack it has just written and expects its stat signatures to count:
 * every change is trusted, however recent (by default the walk leaves out changes within RACY_MARGIN_MS of
 * its start, see walk.ts).
 */
export const TRUST_RECENT = { statCutoffMs: Number.POSITIVE_INFINITY };

/** A small valid-looking pack, with an executable script (archive tests check modes). */
export const SMALL_PACK: TreeSpec = {
  'pack.json': '{"name":"hello","displayName":"Hello","version":"1.0.0","layer":"addon","addonType":"system app"}\n',
  'values.yaml': 'pack:\n  namespace: hello\n',
  'README.md': '# Hello\n',
  'logo.png': Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'),
  'manifests/hello.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: hello\n',
  'manifests/nested/deep.yaml': 'kind: ConfigMap\n',
  'scripts/run.sh': { content: '#!/bin/sh\necho hi\n', mode: 0o755 },
};

export async function run(cmd: string, args: string[], options: { cwd?: string; input?: Buffer } = {}): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await runChildText(cmd, args, { cwd: options.cwd, maxBuffer: 64 * 1024 * 1024, ...(options.input === undefined ? {} : { input: options.input }) });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const failed = err as ChildFailure;
    return { stdout: failed.stdout.toString('utf8'), stderr: failed.stderr.toString('utf8'), code: typeof failed.code === 'number' ? failed.code : 1 };
  }
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

/**
 * `files` written as a pack folder (`dir`, in a temp folder of `temp`), `prepare`d, then built once as hello 1.0.0
 * trusting every stat (TRUST_RECENT): its stat tree and content key.
 */
export async function builtWithStatTree(temp: Stage, files: TreeSpec, prepare?: (dir: string) => Promise<void>): Promise<{ dir: string; tree: StatTree; key: string }> {
  const dir = join(await temp.tempDir(), 'hello-pack');
  await writeFiles(dir, files);
  await prepare?.(dir);
  const archive = await buildArchive(dir, join(await temp.tempDir(), 'out.tar.gz'), { name: 'hello', version: '1.0.0', walk: TRUST_RECENT });
  if (archive.tree === undefined) throw new Error('no stat tree');
  return { dir, tree: archive.tree, key: archive.contentKey };
}
