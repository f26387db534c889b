import { createHash } from 'node:crypto';
import { lstat, mkdir, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, spawnCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';
import { makeFifo } from '../support/files.js';

/*
 * An OCI layout packpub did not write (an artifact downloaded in CI, a folder another tool or person made) is
 * input like a registry's answers: the digests its index and manifests name become paths under blobs/sha256/.
 * One that is no digest ("sha256:../../x") must never lead a command to read, or delete, a file elsewhere.
 */

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const w = setup(async (stack) => ({ root: await stack.tempDir('packpub-hostile-layout-') }));

let n = 0;
/** A layout holding evil:1.0.0, a manifest whose config names `configDigest`; the layout's root. */
async function layoutNaming(configDigest: string): Promise<string> {
  const root = join(w.root, `layout-${n++}`);
  const repo = join(root, 'spectro-packs/archive/evil');
  await mkdir(join(repo, 'blobs/sha256'), { recursive: true });
  await writeFile(join(repo, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST, config: { mediaType: 'application/vnd.unknown.config.v1+json', digest: configDigest, size: 2 }, layers: [] }));
  await writeFile(join(repo, 'blobs/sha256', sha256(manifest)), manifest);
  const entry = { mediaType: MANIFEST, digest: `sha256:${sha256(manifest)}`, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': '1.0.0' } };
  await writeFile(join(repo, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [entry] }));
  return root;
}

describe('a layout naming blobs by something that is not a digest', () => {
  it('delete removes the tag and its manifest, never a file outside the layout (was: the file the config "digest" led to was deleted, exit 0)', async () => {
    const victim = join(w.root, `victim-${n++}`);
    await writeFile(victim, 'precious');
    const root = await layoutNaming(`sha256:${'../'.repeat(30)}${victim.slice(1)}`);
    const run = await runCli(['delete', 'evil:1.0.0', '--oci-layout', root, '--force']);
    expect(run.code, run.stderr).toBe(0);
    expect(stackLines(run.stderr)).toEqual([]);
    expect(await readFile(victim, 'utf8')).toBe('precious');
    const repo = join(root, 'spectro-packs/archive/evil');
    expect((JSON.parse(await readFile(join(repo, 'index.json'), 'utf8')) as { manifests: unknown[] }).manifests).toEqual([]);
    expect(await readdir(join(repo, 'blobs/sha256'))).toEqual([]);
  });
});

describe('a layout index with entries no OCI tool writes', () => {
  /** A layout where hl:1.0.0 was pushed, its index.json then changed by `edit`; the layout's root. */
  async function pushedThenEdited(edit: (index: { manifests: unknown[] }, entry: Record<string, unknown>) => void): Promise<string> {
    const root = join(w.root, `layout-${n++}`);
    const pack = await writePack(join(w.root, `hl-${n++}`), { name: 'hl', version: '1.0.0' });
    expect((await runCli(['push', pack, '--oci-layout', root])).code).toBe(0);
    const path = join(root, 'spectro-packs/archive/hl/index.json');
    const index = JSON.parse(await readFile(path, 'utf8')) as { manifests: Array<Record<string, unknown>> };
    edit(index, index.manifests[0] ?? {});
    await writeFile(path, JSON.stringify(index));
    return root;
  }

  it('an entry that is not an object: the index is refused as invalid (was: "Cannot read properties of null", a crash)', async () => {
    const root = await pushedThenEdited((index) => index.manifests.push(null));
    for (const argv of [['list', '--oci-layout', root], ['pull', 'hl:1.0.0', '--oci-layout', root, '-o', join(w.root, `pulled-${n++}`)], ['copy', 'hl', '--all', '--from', `oci:${root}`, '--to', `oci:${join(w.root, `copy-${n++}`)}`]]) {
      const run = await runCli(argv);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toContain('spectro-packs/archive/hl/index.json is not a valid OCI index');
      expect(run.stderr).not.toContain('a bug in packpub');
    }
  });

  // Go's JSON reader (skopeo's, ORAS's) refuses such an index whole: the entry was left out, list and copy --all exit 0.
  it.each<[string, (entry: Record<string, unknown>) => Record<string, unknown>, string]>([
    ['a tag that is a number (was: list crashed, "c.padEnd is not a function"; then left out, exit 0)', (entry) => ({ ...entry, annotations: { 'org.opencontainers.image.ref.name': 5 } }), 'manifests[1].annotations "org.opencontainers.image.ref.name" is not a string'],
    ['annotations that are a number (was: left out, exit 0: "no packs")', (entry) => ({ ...entry, annotations: 5 }), 'manifests[1].annotations is not an object'],
    ['a size that is a string', (entry) => ({ ...entry, size: 'x' }), 'manifests[1].size is not a number'],
  ])('an entry with %s: the index is refused as invalid, as skopeo refuses it', async (_what, make, says) => {
    const root = await pushedThenEdited((index, entry) => index.manifests.push(make(entry)));
    const dest = join(w.root, `copy-${n++}`);
    for (const argv of [['list', '--oci-layout', root], ['copy', 'hl', '--all', '--from', `oci:${root}`, '--to', `oci:${dest}`]]) {
      const run = await runCli(argv);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toContain(`spectro-packs/archive/hl/index.json is not a valid OCI index: ${says}, which Go's JSON reader (skopeo's, ORAS's) refuses`);
      expect(run.stderr).not.toContain('a bug in packpub');
    }
    await expect(readFile(join(dest, 'spectro-packs/archive/hl/index.json'))).rejects.toThrow();
  });

  it('an entry with "annotations" given twice (Go keeps the tag of the first, JSON.parse only the second): the index is refused as invalid (was: the version left out, exit 0)', async () => {
    const root = await pushedThenEdited(() => undefined);
    const path = join(root, 'spectro-packs/archive/hl/index.json');
    const text = await readFile(path, 'utf8');
    const tagged = '"annotations":{"org.opencontainers.image.ref.name":"1.0.0"}';
    expect(text).toContain(tagged);
    await writeFile(path, text.replace(tagged, `${tagged},"annotations":{"x":"y"}`));
    const dest = join(w.root, `copy-${n++}`);
    for (const argv of [['list', '--oci-layout', root], ['copy', 'hl', '--all', '--from', `oci:${root}`, '--to', `oci:${dest}`]]) {
      const run = await runCli(argv);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toContain(`spectro-packs/archive/hl/index.json is not a valid OCI index: manifests[0] has the key "annotations" twice, which Go's JSON reader (skopeo's, ORAS's) merges where packpub keeps the last`);
    }
    await expect(readFile(join(dest, 'spectro-packs/archive/hl/index.json'))).rejects.toThrow();
  });

  it('an oci-layout file naming another layout version: list, pull and push refuse it, as ORAS does, and write nothing (was: read as 1.0.0, and written into, exit 0)', async () => {
    const root = await pushedThenEdited(() => undefined);
    const repo = join(root, 'spectro-packs/archive/hl');
    await writeFile(join(repo, 'oci-layout'), '{"imageLayoutVersion":"2.0.0"}');
    const index = await readFile(join(repo, 'index.json'));
    const blobs = await readdir(join(repo, 'blobs/sha256'));
    const says = `${repo}/oci-layout says the layout is of version "2.0.0": packpub reads and writes OCI layouts of version 1.0.0 only, as ORAS does`;
    const pack = await writePack(join(w.root, `hl-${n++}`), { name: 'hl', version: '2.0.0' });
    for (const argv of [['list', '--oci-layout', root], ['pull', 'hl:1.0.0', '--oci-layout', root, '-o', join(w.root, `pulled-${n++}`)], ['push', pack, '--oci-layout', root]]) {
      const run = await runCli(argv);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stdout + run.stderr).toContain(says);
      expect(stackLines(run.stderr)).toEqual([]);
    }
    expect(await readFile(join(repo, 'index.json'))).toEqual(index);
    expect(await readdir(join(repo, 'blobs/sha256'))).toEqual(blobs);
  });

  it('a tag named for two manifests: list notes it, pull and copy refuse it (was: the first entry taken, exit 0, where ORAS takes the last)', async () => {
    const other = `sha256:${'0'.repeat(64)}`;
    const root = await pushedThenEdited((index, entry) => index.manifests.push({ ...entry, digest: other }));
    const first = (JSON.parse(await readFile(join(root, 'spectro-packs/archive/hl/index.json'), 'utf8')) as { manifests: Array<{ digest: string }> }).manifests[0]?.digest ?? '';
    const says = `spectro-packs/archive/hl/index.json names the tag 1.0.0 twice, for ${first} and ${other}: skopeo reads the first, ORAS the last, so packpub reads neither`;
    const list = await runCli(['list', '--oci-layout', root, '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as { packs: Array<{ versions: Array<{ version: string; notPack?: string; digest?: string }> }> }).packs[0]?.versions).toEqual([
      expect.objectContaining({ version: '1.0.0', notPack: "a tag the layout's index.json names for more than one manifest: skopeo reads the first, ORAS the last" }),
    ]);
    const out = join(w.root, `pulled-${n++}`);
    const pull = await runCli(['pull', 'hl:1.0.0', '--oci-layout', root, '-o', out]);
    expect(pull.code, pull.stderr).toBe(1);
    expect(pull.stderr).toContain(says);
    await expect(readdir(out)).rejects.toThrow();
    const dest = join(w.root, `copy-${n++}`);
    const copy = await runCli(['copy', 'hl', '--all', '--from', `oci:${root}`, '--to', `oci:${dest}`]);
    expect(copy.code, copy.stderr).toBe(1);
    expect(copy.stdout + copy.stderr).toContain(says);
    await expect(readFile(join(dest, 'spectro-packs/archive/hl/index.json'))).rejects.toThrow();
  });

  it('tags that are no valid tag, or named twice: listed and copied once each, valid ones only (was: copy wrote ESC [2J into its output and the copy)', async () => {
    const root = await pushedThenEdited((index, entry) => {
      for (const name of ['1.0.0', '2.0.0\u001b[2J', '../x']) index.manifests.push({ ...entry, annotations: { 'org.opencontainers.image.ref.name': name } });
    });
    const list = await runCli(['list', '--oci-layout', root]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout.match(/1\.0\.0/g)).toHaveLength(1);
    expect(list.stdout).not.toMatch(/\u001b|2\.0\.0|\.\.\/x|hl +5/);
    const dest = join(w.root, `copy-${n++}`);
    const copy = await runCli(['copy', 'hl', '--all', '--from', `oci:${root}`, '--to', `oci:${dest}`]);
    expect(copy.code, copy.stderr).toBe(0);
    expect(copy.stdout).toContain('1 copied');
    expect(`${copy.stdout}${copy.stderr}`).not.toContain('\u001b');
    const copied = JSON.parse(await readFile(join(dest, 'spectro-packs/archive/hl/index.json'), 'utf8')) as { manifests: Array<{ annotations: Record<string, string> }> };
    expect(copied.manifests.map((m) => m.annotations['org.opencontainers.image.ref.name'])).toEqual(['1.0.0']);
  });
});

describe('a layout file that is a named pipe', () => {
  /** `packpub <args>` as a child process, killed if it has not ended within 20 s (a read waiting on a pipe never ends). */
  async function bounded(args: string[]): Promise<{ code: number; stderr: string; killed: boolean }> {
    const run = spawnCli(args);
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      run.child.kill('SIGKILL');
    }, 20_000);
    const { code, stderr } = await run.done;
    clearTimeout(timer);
    return { code, stderr, killed };
  }

  it.each([
    ['the manifest blob', (repo: string, digest: string) => join(repo, 'blobs/sha256', digest.slice('sha256:'.length))],
    ['index.json', (repo: string) => join(repo, 'index.json')],
  ])('%s: pull, list and copy end with an error naming it (was: they waited on the pipe for ever)', async (_what, fileOf) => {
    const root = join(w.root, `layout-${n++}`);
    const pack = await writePack(join(w.root, `fifo-${n++}`), { name: 'ff', version: '1.0.0' });
    expect((await runCli(['push', pack, '--oci-layout', root])).code).toBe(0);
    const repo = join(root, 'spectro-packs/archive/ff');
    const index = JSON.parse(await readFile(join(repo, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
    const path = fileOf(repo, index.manifests[0]?.digest ?? '');
    await rm(path);
    await makeFifo(path);
    for (const args of [['pull', 'ff:1.0.0', '--oci-layout', root, '-o', join(w.root, `pulled-${n++}`)], ['list', '--oci-layout', root], ['copy', 'ff:1.0.0', '--from', `oci:${root}`, '--to', `oci:${join(w.root, `copy-${n++}`)}`]]) {
      const run = await bounded(args);
      expect(run.killed, `${args[0]} waited on the pipe`).toBe(false);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toContain(`${path} is not a regular file`);
    }
  });
});

describe('a layout whose own files are symbolic links to files elsewhere', () => {
  // index.json (and a manifest's blob file) linked to a file outside the layout, as a hostile or careless layout may
  // hold: push wrote through the link (writeFileAtomic follows links to files, as for a --junit path), replacing the
  // file elsewhere, exit 0. The layout's file is replaced now; the file elsewhere stays as it was.
  it('push replaces the link in the layout and leaves the file it pointed at alone, exit 0', async () => {
    const layout = join(w.root, `linked-${n++}`);
    const pack = await writePack(join(w.root, `linked-pack-${n++}`), { name: 'linked', version: '1.0.0' });
    expect((await runCli(['push', pack, '--oci-layout', layout])).code).toBe(0);
    const repo = join(layout, 'spectro-packs/archive/linked');
    const victim = join(w.root, `victim-index-${n++}`);
    await writeFile(victim, await readFile(join(repo, 'index.json')));
    const before = await readFile(victim);
    await rm(join(repo, 'index.json'));
    await symlink(victim, join(repo, 'index.json'));
    const v2 = await writePack(join(w.root, `linked-pack-${n++}`), { name: 'linked', version: '2.0.0' });
    const run = await runCli(['push', v2, '--oci-layout', layout]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('published linked:2.0.0');
    expect((await readFile(victim)).equals(before)).toBe(true);
    expect((await lstat(join(repo, 'index.json'))).isSymbolicLink()).toBe(false);
    const tags = (JSON.parse(await readFile(join(repo, 'index.json'), 'utf8')) as { manifests: Array<{ annotations?: Record<string, string> }> }).manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name']);
    expect(tags.sort()).toEqual(['1.0.0', '2.0.0']);
    expect((await runCli(['list', 'linked', '--oci-layout', layout])).stdout).toMatch(/2\.0\.0[\s\S]*1\.0\.0|1\.0\.0[\s\S]*2\.0\.0/);
  });
});

