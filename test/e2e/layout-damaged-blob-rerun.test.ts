import { randomBytes } from 'node:crypto';
import { readFile, truncate, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';

/*
 * chaos s22 F9: an OCI layout whose blob is there under its name but not whole: emptied by a host crash before its
 * data reached the disk (nothing is fsynced), or cut short by a copy of the layout killed mid-file (`cp -r` to a USB
 * disk for an air gap). A re-run of push or copy, the way to repair it, said `unchanged`, exit 0, and pull then
 * refused the tag ("blob ... is 0 bytes, its descriptor says ..."). Now a blob of another size than its descriptor
 * counts as missing: it is written again and the layout is whole after the re-run.
 */

const REPO = 'spectro-packs/archive/dmgblob';

describe('a re-run over an OCI layout blob that is emptied or cut short', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir();
    const pack = await writePack(join(root, 'pack'), { name: 'dmgblob', version: '1.0.0', files: { 'payload.bin': randomBytes(50_000) } });
    return { root, pack, env: { PACKPUB_CACHE_DIR: join(root, 'cache'), SOURCE_DATE_EPOCH: '1700000000' } };
  });

  /** The layer blob of the version in `layout`. */
  async function layerOf(layout: string): Promise<string> {
    const index = JSON.parse(await readFile(join(layout, REPO, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
    const manifest = JSON.parse(await readFile(join(layout, REPO, 'blobs', 'sha256', index.manifests[0]!.digest.slice(7)), 'utf8')) as { layers: Array<{ digest: string }> };
    return join(layout, REPO, 'blobs', 'sha256', manifest.layers[0]!.digest.slice(7));
  }

  const damages: Array<[string, (path: string) => Promise<void>]> = [
    ['emptied (a host crash)', (path) => writeFile(path, '')],
    ['cut short (a copy killed mid-file)', (path) => truncate(path, 1000)],
  ];

  it.each(damages.map(([what], i) => [what, i] as const))('push: %s: the re-run writes it again, exit 0, the layout whole', async (what, i) => {
    const layout = join(w.root, `push-${i}`);
    expectRun(await runCli(['push', w.pack, '--oci-layout', layout], { env: w.env }), { code: 0 });
    await damages[i]![1](await layerOf(layout));
    expect((await layoutHoldings(layout)).problems).not.toEqual([]);
    expectRun(await runCli(['push', w.pack, '--oci-layout', layout], { env: w.env }), { code: 0 });
    // Was: "unchanged", the blob left as it was.
    expect((await layoutHoldings(layout)).problems, what).toEqual([]);
    expectRun(await runCli(['pull', `oci:${layout}/${REPO}:1.0.0`, '-o', join(w.root, `pulled-${i}`)], { env: w.env }), { code: 0 });
  });

  it.each(damages.map(([what], i) => [what, i] as const))('pull: %s: refused, the hint names the layout file and the way to repair it', async (_what, i) => {
    const layout = join(w.root, `pull-${i}`);
    expectRun(await runCli(['push', w.pack, '--oci-layout', layout], { env: w.env }), { code: 0 });
    const layer = await layerOf(layout);
    await damages[i]![1](layer);
    const out = join(w.root, `pulled-damaged-${i}`);
    // Was: "the registry or something between served other content", for a file of this disk.
    expectRun(await runCli(['pull', `oci:${layout}/${REPO}:1.0.0`, '-o', out], { env: w.env }), {
      code: 1,
      stderr: [`hint: the layout's file ${layer} is damaged (a crash, or a copy of the layout cut short): remove it, then push or copy the version into the layout again`],
    });
    expect(existsSync(out)).toBe(false);
  });

  it.each(damages.map(([what], i) => [what, i] as const))('copy: %s: the re-run copies it again from the source, exit 0, the layout whole', async (what, i) => {
    const source = join(w.root, `source-${i}`);
    const layout = join(w.root, `copy-${i}`);
    expectRun(await runCli(['push', w.pack, '--oci-layout', source], { env: w.env }), { code: 0 });
    const copy = ['copy', 'dmgblob:1.0.0', '--from', `oci:${source}`, '--to', `oci:${layout}`];
    expectRun(await runCli(copy, { env: w.env }), { code: 0 });
    await damages[i]![1](await layerOf(layout));
    const again = await runCli(copy, { env: w.env });
    // Was: "unchanged", exit 0, the blob left as it was (a removed blob was already copied again).
    expectRun(again, { code: 0, stderr: ['was missing from the layout: written again from the source'] });
    expect((await layoutHoldings(layout)).problems, what).toEqual([]);
  });
});
