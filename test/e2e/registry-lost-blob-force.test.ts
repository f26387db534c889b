import { randomBytes } from 'node:crypto';
import { truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { skopeoInspectRaw, skopeoSyncManifests, startRegistry } from '../support/registry.js';
import { setup } from '../support/stage.js';

/*
 * A registry that lost a blob of a published version (garbage collection run while a push was between its upload and
 * its manifest, a blob deleted by hand, storage restored from an older backup): the tag still resolves, pull fails
 * "blob ... not found". A re-run of push finds the version unchanged (one request per pack: its blobs are not asked
 * for), and so did `push --force`, exit 0 with the registry still lacking the layer; the only repair was delete and
 * push again, which moves the version to a new digest (Palette caches digests). `push --force` now asks for each blob
 * of a version it finds unchanged and sends the ones the registry lacks: exit 0, the tag keeps its digest, pullable.
 */

const NAME = 'lostblob';

describe('a version the registry holds broken: blobs lost, or a manifest naming this layer with another size', () => {
  const w = setup(async (stack) => {
    const registry = stack.add(await startRegistry({ storage: 'filesystem' }));
    const root = await stack.tempDir();
    const pack = await writePack(join(root, 'pack'), { name: NAME, version: '1.0.0', files: { 'payload.bin': randomBytes(20_000) } });
    return { registry, root, pack, env: { PACKPUB_CACHE_DIR: join(root, 'cache'), SOURCE_DATE_EPOCH: '1700000000' } };
  });

  it('push --force onto the unchanged version whose blobs were lost sends the layer and config again, exit 0, the same manifest digest, every blob served', async () => {
    const base = `${w.registry.host}/lost`;
    const repo = `lost/spectro-packs/archive/${NAME}`;
    const push = (...extra: string[]) => runCli(['push', w.pack, '--registry', base, '--json', ...extra], { env: w.env });
    expectRun(await push(), { code: 0 });
    const manifestBytes = await skopeoInspectRaw(`${w.registry.host}/${repo}:1.0.0`);
    const manifest = JSON.parse(manifestBytes.toString('utf8')) as { config: { digest: string; size: number }; layers: Array<{ digest: string; size: number }> };
    const layer = manifest.layers[0]!;
    for (const blob of [manifest.config, layer]) {
      const deleted = await fetch(`${w.registry.url}/v2/${repo}/blobs/${blob.digest}`, { method: 'DELETE' });
      expect(deleted.status).toBe(202);
    }
    const pulled = await runCli(['pull', `${NAME}:1.0.0`, '--registry', base, '-o', join(w.root, 'pulled-before')], { env: w.env });
    expectRun(pulled, { code: 1, stderr: [`not found in ${repo}`, 'push it again with --force'] });

    // A plain re-run still trusts the tag (documented: one request per pack).
    const rerun = await push();
    expectRun(rerun, { code: 0 });
    expect((JSON.parse(rerun.stdout) as { results: Array<{ status: string }> }).results[0]?.status).toBe('unchanged');

    // Its plan says what the real run sends (was: 0 B to upload), and writes nothing.
    const plan = await push('--force', '--dry-run');
    expectRun(plan, { code: 0 });
    expect((JSON.parse(plan.stdout) as { results: Array<{ plan: string; bytesToUpload: number }> }).results[0]).toMatchObject({ plan: 'unchanged', bytesToUpload: layer.size + manifest.config.size });
    expect((await fetch(`${w.registry.url}/v2/${repo}/blobs/${layer.digest}`, { method: 'HEAD' })).status).toBe(404);

    const forced = await push('--force');
    // Was: exit 0, "unchanged", uploadedBytes 0, the registry still without the layer.
    expectRun(forced, { code: 0 });
    const result = (JSON.parse(forced.stdout) as { results: Array<{ status: string; digest: string; uploadedBytes: number }> }).results[0];
    expect(result?.status).toBe('unchanged');
    expect(result?.uploadedBytes).toBe(layer.size + manifest.config.size);
    expect((await skopeoInspectRaw(`${w.registry.host}/${repo}:1.0.0`)).equals(manifestBytes)).toBe(true);
    const synced = await skopeoSyncManifests(w.registry.host, [{ repo, tag: '1.0.0' }], w.root);
    expect(synced.get(`${repo}:1.0.0`)?.equals(manifestBytes)).toBe(true);
    expectRun(await runCli(['pull', `${NAME}:1.0.0`, '--registry', base, '-o', join(w.root, 'pulled-after')], { env: w.env }), { code: 0 });

    // Once whole, --force sends nothing more.
    const again = await push('--force');
    expectRun(again, { code: 0 });
    expect((JSON.parse(again.stdout) as { results: Array<{ uploadedBytes: number }> }).results[0]?.uploadedBytes).toBe(0);
  });

  /*
   * A manifest naming this build's layer digest with another size in its descriptor (a tool that wrote it wrong; a registry
   * takes it, docker-registry does): pull refuses it ("its descriptor says"), and Palette reads the size from it. push took
   * the version as unchanged, exit 0 (the layer digest alone was compared); now it is other content than this build's.
   */
  it('a manifest naming this layer with another size: a conflict saying so, exit 1, kept; --force replaces it, pullable (was: unchanged, exit 0)', async () => {
    const base = `${w.registry.host}/sized`;
    const repo = `sized/spectro-packs/archive/${NAME}`;
    const push = (...extra: string[]) => runCli(['push', w.pack, '--registry', base, ...extra], { env: w.env });
    expectRun(await push(), { code: 0 });
    const manifest = JSON.parse((await skopeoInspectRaw(`${w.registry.host}/${repo}:1.0.0`)).toString('utf8')) as { layers: Array<{ digest: string; size: number }> };
    const layer = { ...manifest.layers[0]! };
    manifest.layers[0]!.size += 5;
    const wrong = Buffer.from(JSON.stringify(manifest));
    const put = await fetch(`${w.registry.url}/v2/${repo}/manifests/1.0.0`, { method: 'PUT', headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: wrong });
    expect(put.status).toBe(201);

    expectRun(await push(), {
      code: 1,
      stderr: [`CONFLICT ${NAME}:1.0.0`, `published layer ${layer.digest}, whose descriptor says ${layer.size + 5} bytes where the layer is ${layer.size}: pull refuses it`, 'pass --force to replace it'],
    });
    expect((await skopeoInspectRaw(`${w.registry.host}/${repo}:1.0.0`)).equals(wrong)).toBe(true);

    expectRun(await push('--force'), { code: 0, stdout: [`overwritten ${NAME}:1.0.0`] });
    const synced = (await skopeoSyncManifests(w.registry.host, [{ repo, tag: '1.0.0' }], w.root)).get(`${repo}:1.0.0`);
    expect((JSON.parse(synced?.toString('utf8') ?? '{}') as { layers: unknown[] }).layers).toEqual([expect.objectContaining(layer)]);
    expectRun(await runCli(['pull', `${NAME}:1.0.0`, '--registry', base, '-o', join(w.root, 'pulled-sized')], { env: w.env }), { code: 0 });
    expectRun(await push(), { code: 0, stdout: [`unchanged ${NAME}:1.0.0`] });
  });

  /*
   * A blob the registry holds damaged (its storage's file cut short by a crash): a HEAD still answers 200, with the short
   * length. push --force took the version as unchanged, exit 0, over a layer pull refuses. It now reads each blob of the
   * version whole: exit 1, naming the blob and its length. Sending it again would not mend it (distribution keeps a blob
   * whose file is there), so the version is left as it is and the hint sends the user to the registry's owner.
   */
  it('push --force onto the unchanged version whose layer the registry holds cut short: exit 1 naming it, the version kept (was: unchanged, exit 0)', async () => {
    const base = `${w.registry.host}/cut`;
    const repo = `cut/spectro-packs/archive/${NAME}`;
    expectRun(await runCli(['push', w.pack, '--registry', base], { env: w.env }), { code: 0 });
    const manifestBytes = await skopeoInspectRaw(`${w.registry.host}/${repo}:1.0.0`);
    const layer = (JSON.parse(manifestBytes.toString('utf8')) as { layers: Array<{ digest: string; size: number }> }).layers[0]!;
    const hex = layer.digest.slice('sha256:'.length);
    await truncate(join(w.registry.storageDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data'), 1000);

    expectRun(await runCli(['push', w.pack, '--registry', base, '--force'], { env: w.env }), {
      code: 1,
      // docker-registry's blob descriptor cache still announces the length the file had: the body ends short.
      stderr: [`FAILED ${NAME}:1.0.0: ${base}/spectro-packs/archive/${NAME}:1.0.0 names blob ${layer.digest}, which could not be read whole (push --force reads each blob of a version it finds unchanged): connection to ${w.registry.host} was closed unexpectedly`],
    });
    expect((await skopeoInspectRaw(`${w.registry.host}/${repo}:1.0.0`)).equals(manifestBytes)).toBe(true);
  });
});
