import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';

/*
 * An OCI layout file damaged at its own size (a bit flipped on the disk, a region zeroed by a host crash): a re-run
 * cannot tell it from whole by its size. The hint of the refusal said "push or copy the version into it again, which
 * rewrites it": that re-run said `unchanged`, exit 0, and left the file as it was. A damaged manifest file had no hint
 * at all, and once removed by hand, push called the version "created by another publisher during this run", exit 1.
 * Now the hint says to remove the file, then push or copy again, and doing so repairs the layout: exit 0, pull works.
 */

const REPO = 'spectro-packs/archive/samesize';

const w = setup(async (stack) => {
  const root = await stack.tempDir();
  const pack = await writePack(join(root, 'pack'), { name: 'samesize', version: '1.0.0', files: { 'payload.bin': randomBytes(20_000) } });
  return { root, pack, env: { PACKPUB_CACHE_DIR: join(root, 'cache'), SOURCE_DATE_EPOCH: '1700000000' } };
});

/** The manifest's and the layer's files of the version in `layout`. */
async function filesOf(layout: string): Promise<{ manifest: string; layer: string }> {
  const blob = (digest: string) => join(layout, REPO, 'blobs', 'sha256', digest.slice('sha256:'.length));
  const index = JSON.parse(await readFile(join(layout, REPO, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
  const manifest = blob(index.manifests[0]!.digest);
  const layers = (JSON.parse(await readFile(manifest, 'utf8')) as { layers: Array<{ digest: string }> }).layers;
  return { manifest, layer: blob(layers[0]!.digest) };
}

/** One byte changed, the size kept. */
async function flipByte(path: string, at: number): Promise<void> {
  const bytes = await readFile(path);
  bytes[at] = (bytes[at] ?? 0) ^ 0x20;
  await writeFile(path, bytes);
}

describe('an OCI layout file damaged at its own size', () => {
  it.each([
    ['the layer', 'layer', 100, 'does not match its digest'],
    ['the manifest', 'manifest', 10, 'does not match its digest'],
  ] as const)('%s: pull is refused with the way to repair it; following it, push repairs the layout', async (_what, which, at, words) => {
    const layout = join(w.root, `layout-${which}`);
    expectRun(await runCli(['push', w.pack, '--oci-layout', layout], { env: w.env }), { code: 0 });
    const file = (await filesOf(layout))[which];
    await flipByte(file, at);
    const out = join(w.root, `pulled-${which}`);
    expectRun(await runCli(['pull', `oci:${layout}/${REPO}:1.0.0`, '-o', out], { env: w.env }), {
      code: 1,
      stderr: [words, `hint: the layout's file ${file} is damaged (a crash, or a copy of the layout cut short): remove it, then push or copy the version into the layout again, which writes it anew`],
    });
    await rm(file);
    // Was, for the manifest: CONFLICT "created by another publisher during this run", exit 1.
    expectRun(await runCli(['push', w.pack, '--oci-layout', layout, '--no-cache'], { env: w.env }), { code: 0 });
    expect((await layoutHoldings(layout)).problems).toEqual([]);
    expectRun(await runCli(['pull', `oci:${layout}/${REPO}:1.0.0`, '-o', out], { env: w.env }), { code: 0 });
    expect(await readFile(join(out, 'payload.bin'))).toEqual(await readFile(join(w.pack, 'payload.bin')));
  });

  it('the manifest, removed: copy writes it again from the source, exit 0', async () => {
    const source = join(w.root, 'source');
    const layout = join(w.root, 'copied');
    expectRun(await runCli(['push', w.pack, '--oci-layout', source], { env: w.env }), { code: 0 });
    const copy = ['copy', 'samesize:1.0.0', '--from', `oci:${source}`, '--to', `oci:${layout}`];
    expectRun(await runCli(copy, { env: w.env }), { code: 0 });
    const { manifest } = await filesOf(layout);
    await flipByte(manifest, 10);
    expectRun(await runCli(copy, { env: w.env }), { code: 1, stderr: [`hint: the layout's file ${manifest} is damaged`] });
    await rm(manifest);
    expectRun(await runCli(copy, { env: w.env }), { code: 0 });
    expect((await layoutHoldings(layout)).problems).toEqual([]);
  });

  // Was: copy took a blob file of the right size as held, `copied` (exit 0) over a layer pull refused, and its re-run
  // said `unchanged`. The file is read now: the copy writes it anew, and a re-run repairs one damaged since.
  it('the layer, at the destination of copy: copy writes it anew, and its re-run repairs it', async () => {
    const source = join(w.root, 'source-layer');
    const layout = join(w.root, 'copied-layer');
    expectRun(await runCli(['push', w.pack, '--oci-layout', source], { env: w.env }), { code: 0 });
    const { layer: sourceLayer } = await filesOf(source);
    const layer = join(layout, REPO, 'blobs', 'sha256', sourceLayer.slice(sourceLayer.lastIndexOf('/') + 1));
    await mkdir(dirname(layer), { recursive: true });
    await writeFile(layer, Buffer.alloc((await stat(sourceLayer)).size));
    const copy = ['copy', 'samesize:1.0.0', '--from', `oci:${source}`, '--to', `oci:${layout}`];
    const first = await runCli(copy, { env: w.env });
    expectRun(first, { code: 0, stdout: ['copied samesize:1.0.0'] });
    expect(await readFile(layer)).toEqual(await readFile(sourceLayer));
    expect((await layoutHoldings(layout)).problems).toEqual([]);
    await flipByte(layer, 100);
    const digest = `sha256:${sourceLayer.slice(sourceLayer.lastIndexOf('/') + 1)}`;
    expectRun(await runCli([...copy, '--dry-run'], { env: w.env }), { code: 0, stdout: ['plan unchanged samesize:1.0.0', 'KiB to copy'] });
    expectRun(await runCli(copy, { env: w.env }), { code: 0, stdout: ['unchanged samesize:1.0.0'], stderr: [`but ${digest} was damaged in the layout (its file does not match its digest): written again from the source`] });
    expect(await readFile(layer)).toEqual(await readFile(sourceLayer));
    expect((await layoutHoldings(layout)).problems).toEqual([]);
    const out = join(w.root, 'pulled-copied-layer');
    expectRun(await runCli(['pull', `oci:${layout}/${REPO}:1.0.0`, '-o', out], { env: w.env }), { code: 0 });
    expect(await readFile(join(out, 'payload.bin'))).toEqual(await readFile(join(w.pack, 'payload.bin')));
  });
});
