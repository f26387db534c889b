import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startHostileRegistry, type HostileAnswer } from '../support/hostile-registry.js';
import { runCli, type CliRun } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';

/*
 * A 201 to the POST that starts an upload says the repository holds the blob now: the mount of the {} config from
 * the base repository worked, or (off the distribution-spec, which gives a POST without `digest=` a 202 only) the
 * registry had it. Taken at its word, nothing was sent: a registry that answered so without holding the blob, and
 * took a manifest naming it, was left with a pack whose layer or config it lacks, and push said "published", exit 0.
 * Now a 201 that does not name the blob (no Docker-Content-Digest) to a mount, and any 201 to an upload start, is
 * checked (HEAD): a mount that did not take is made an upload instead; an upload start that did not is an error.
 */

const BASE = 'evil/spectro-packs/archive';

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-upload-starts-');
  const hostile = stack.add(await startHostileRegistry({}));
  return { root, hostile, R: `${hostile.host}/evil` };
});

type Req = { method: string; path: string; query: URLSearchParams };
let n = 0;
/** Push a new pack hello-<n>:1.0.0 while `answer` may answer a request instead of the stand-in. */
async function pushWith(answer: (r: Req, name: string) => HostileAnswer | undefined): Promise<{ run: CliRun; name: string; since: number }> {
  const name = `hello-${n++}`;
  const dir = await writePack(join(w.root, name), { name, version: '1.0.0' });
  const since = w.hostile.requests.length;
  w.hostile.behaviour = { answer: (r) => answer(r, name) };
  try {
    return { run: await runCli(['push', dir, '--registry', w.R, '--no-cache']), name, since };
  } finally {
    w.hostile.behaviour = {};
  }
}

/** What hello-<n>:1.0.0 holds on the stand-in: its tag's status, and the status of a HEAD of each blob it names. */
async function held(name: string): Promise<{ tag: number; blobs: number[] }> {
  const url = `${w.hostile.url}/v2/${BASE}/${name}`;
  const res = await fetch(`${url}/manifests/1.0.0`);
  if (res.status !== 200) return { tag: res.status, blobs: [] };
  const manifest = (await res.json()) as { config: { digest: string }; layers: { digest: string }[] };
  const blobs: number[] = [];
  for (const d of [manifest.config, ...manifest.layers]) blobs.push((await fetch(`${url}/blobs/${d.digest}`, { method: 'HEAD' })).status);
  return { tag: 200, blobs };
}

const isStart = (r: Req, name: string) => r.method === 'POST' && r.path === `/v2/${BASE}/${name}/blobs/uploads/`;

describe('a 201 to the start of an upload', () => {
  it('to a mount, naming no digest, for a blob the repository does not hold: uploaded instead, exit 0 (was: exit 0 without the config)', async () => {
    const { run, name, since } = await pushWith((r, name) => (isStart(r, name) && r.query.has('mount') ? { status: 201 } : undefined));
    expect(run.code, run.stderr).toBe(0);
    expect(stackLines(run.stderr)).toEqual([]);
    expect(await held(name)).toEqual({ tag: 200, blobs: [200, 200] });
    const starts = w.hostile.requests.slice(since).filter((r) => r.method === 'POST' && r.path.startsWith(`/v2/${BASE}/${name}/blobs/uploads/`));
    // the mount (201, not taken), then an upload of the config and one of the layer
    expect(starts.map((r) => [r.path.includes('mount=') ? 'mount' : 'upload', r.status])).toEqual([
      ['mount', 201],
      ['upload', 202],
      ['upload', 202],
    ]);
  });

  it('to a mount, naming no digest, for a blob the repository holds: taken, nothing uploaded for it', async () => {
    const { run, name, since } = await pushWith((r, name) => {
      if (!isStart(r, name) || !r.query.has('mount')) return undefined;
      w.hostile.putBlob(`${BASE}/${name}`, Buffer.from('{}')); // the mount did take; only the header is missing
      return { status: 201 };
    });
    expect(run.code, run.stderr).toBe(0);
    expect(await held(name)).toEqual({ tag: 200, blobs: [200, 200] });
    const uploads = w.hostile.requests.slice(since).filter((r) => r.method === 'POST' && r.path === `/v2/${BASE}/${name}/blobs/uploads/`);
    expect(uploads).toHaveLength(1); // the layer's only
  });

  it('to an upload start (no mount, no digest sent) for a blob the registry does not hold: exit 1 naming it, untagged (was: exit 0 without the layer)', async () => {
    const { run, name } = await pushWith((r, name) => (isStart(r, name) && !r.query.has('mount') ? { status: 201 } : undefined));
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(`^FAILED ${name}:1\\.0\\.0: ${w.hostile.host} answered 201 to the start of an upload of blob sha256:[0-9a-f]{64} to ${BASE}/${name}, but does not hold that blob`, 'm'),
    );
    expect(stackLines(run.stderr)).toEqual([]);
    expect((await held(name)).tag).toBe(404);
  });
});

