import fs from 'node:fs';
import { readFile } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { updateDockerConfig } from '../../../src/credentials/docker-config.js';
import { sha256Digest } from '../../../src/oci/digest.js';
import { OciLayoutStore } from '../../../src/targets/oci-layout.js';
import { setup } from '../../support/stage.js';

/*
 * chaos s22 F7: index.json of an OCI layout (the only place its tags live) and the Docker config (every login) were
 * written to a temp file and renamed over the old one with no fsync: after a host crash (power loss, VM reset) the
 * rename can be on the disk before the data, leaving an empty file under the name: every tag of the repository, or
 * every saved credential, gone. Now the temp file is flushed (fsync) before its rename. A crash cannot be made in a
 * test: what is checked is the order of the calls the code makes to node:fs (flush, then rename).
 */

const calls: string[] = [];

// Replaced on Node's own module object and pushed to every module's imports of it (syncBuiltinESMExports), so the
// product's modules, already loaded in this shared worker, call these; afterAll puts the real ones back. Both
// ways of writing are watched (a file handle of node:fs/promises, or a descriptor of node:fs), so the test holds
// whichever the code uses: only the order of flush and rename counts.
const fsp = fs.promises;
const real = { open: fsp.open, rename: fsp.rename, openSync: fs.openSync, renameSync: fs.renameSync, fsync: fs.fsync, fsyncSync: fs.fsyncSync, fdatasync: fs.fdatasync, fdatasyncSync: fs.fdatasyncSync };
/** The path each descriptor opened through fs.openSync was opened for. */
const opened = new Map<number, string>();
fsp.open = async (...args: Parameters<typeof real.open>) => {
  const handle = await real.open(...args);
  const path = String(args[0]);
  for (const method of ['sync', 'datasync'] as const) {
    const flush = handle[method].bind(handle);
    handle[method] = async () => {
      calls.push(`sync ${path}`);
      return flush();
    };
  }
  return handle;
};
fsp.rename = async (from, to) => {
  calls.push(`rename ${String(from)} ${String(to)}`);
  return real.rename(from, to);
};
fs.openSync = (...args: Parameters<typeof fs.openSync>) => {
  const fd = real.openSync(...args);
  opened.set(fd, String(args[0]));
  return fd;
};
fs.renameSync = (from, to) => {
  calls.push(`rename ${String(from)} ${String(to)}`);
  real.renameSync(from, to);
};
const flushOf = (fd: number) => calls.push(`sync ${opened.get(fd) ?? `fd ${fd}`}`);
fs.fsync = ((fd: number, callback: fs.NoParamCallback) => {
  flushOf(fd);
  real.fsync(fd, callback);
}) as typeof fs.fsync;
fs.fdatasync = ((fd: number, callback: fs.NoParamCallback) => {
  flushOf(fd);
  real.fdatasync(fd, callback);
}) as typeof fs.fdatasync;
fs.fsyncSync = (fd) => {
  flushOf(fd);
  real.fsyncSync(fd);
};
fs.fdatasyncSync = (fd) => {
  flushOf(fd);
  real.fdatasyncSync(fd);
};
syncBuiltinESMExports();
afterAll(() => {
  Object.assign(fsp, { open: real.open, rename: real.rename });
  Object.assign(fs, { openSync: real.openSync, renameSync: real.renameSync, fsync: real.fsync, fsyncSync: real.fsyncSync, fdatasync: real.fdatasync, fdatasyncSync: real.fdatasyncSync });
  syncBuiltinESMExports();
});

/** The calls on `file` and its temp files: each rename onto it must come after a sync of the file renamed. */
function unsyncedRenames(file: string): string[] {
  const synced = new Set<string>();
  const bad: string[] = [];
  for (const call of calls) {
    const [verb, from, to] = call.split(' ');
    if (verb === 'sync' && from !== undefined) synced.add(from);
    if (verb === 'rename' && to === file && from !== undefined && !synced.has(from)) bad.push(call);
  }
  return bad;
}

describe('the files that alone hold tags or logins are on the disk before they replace the old ones', () => {
  const w = setup(async (stack) => ({ root: await stack.tempDir() }));

  it("an OCI layout's index.json: its temp file is flushed before the rename (was: never)", async () => {
    calls.length = 0;
    const store = new OciLayoutStore(join(w.root, 'layout'));
    const layer = Buffer.from('layer');
    const config = Buffer.from('{}');
    for (const blob of [layer, config]) {
      await store.pushBlob('r', { mediaType: 'application/octet-stream', digest: sha256Digest(blob), size: blob.length }, () => Readable.from([blob]));
    }
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256Digest(config), size: config.length },
        layers: [{ mediaType: 'application/octet-stream', digest: sha256Digest(layer), size: layer.length }],
      }),
    );
    await store.pushManifest('r', '1.0.0', manifest, 'application/vnd.oci.image.manifest.v1+json');
    const index = join(w.root, 'layout', 'r', 'index.json');
    expect(calls.filter((c) => c.startsWith('rename ') && c.endsWith(` ${index}`))).toHaveLength(1);
    expect(unsyncedRenames(index)).toEqual([]);
    expect(JSON.parse(await readFile(index, 'utf8')).manifests).toHaveLength(1);
  });

  it('the Docker config: its temp file is flushed before the rename (was: never)', async () => {
    calls.length = 0;
    const path = join(w.root, 'docker', 'config.json');
    await updateDockerConfig(path, (config) => {
      config.auths = { 'r.example': { auth: Buffer.from('u:p').toString('base64') } };
    });
    expect(calls.filter((c) => c.startsWith('rename ') && c.endsWith(` ${path}`))).toHaveLength(1);
    expect(unsyncedRenames(path)).toEqual([]);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ auths: { 'r.example': { auth: 'dTpw' } } });
  });
});
