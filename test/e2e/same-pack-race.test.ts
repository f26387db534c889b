import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { OciLayoutStore } from '../../src/targets/oci-layout.js';
import { GenericRegistryStore } from '../../src/targets/registry-store.js';
import { expectRun, runBin, runCli, type CliRun } from '../support/cli.js';
import { startHostileRegistry } from '../support/hostile-registry.js';
import { writePack } from '../support/packs.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';

/*
 * review s21 F1: two runs publishing the same pack at the same moment (a re-triggered pipeline, a retried job
 * overlapping its first attempt). Their manifests differ only in org.opencontainers.image.created, over the same
 * layer; a re-run calls such a version "unchanged" (exit 0). The run that lost the race ended CONFLICT, exit 1,
 * "was replaced by another publisher", though the version holds its very pack. The other publisher here is a
 * process of its own (or, for the read-back, a write straight to the registry) whose manifest is made at
 * another time (`-a org.opencontainers.image.created=...`, which keeps the layer). A publisher of other content
 * stays a conflict.
 */

const OTHER_TIME = ['-a', 'org.opencontainers.image.created=2020-01-01T00:00:00Z'];

describe('two runs publishing the same pack at once', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir();
    const hostile = stack.add(await startHostileRegistry({}));
    const pack = await writePack(join(root, 'twin'), { name: 'twin', version: '1.0.0' });
    const other = await writePack(join(root, 'other'), { name: 'twin', version: '1.0.0', files: { 'README.md': 'other content\n' } });
    return { root, hostile, pack, other };
  });
  afterEach(() => vi.restoreAllMocks());

  const registry = (base: string) => ['--registry', `${w.hostile.host}/${base}`, '--retry-attempts', '1'];
  /** The other publisher, run when this run's `method` is first called for the version: its result. */
  const interleave = <T extends object>(proto: T, method: keyof T & string, args: string[]): { other: () => CliRun | undefined } => {
    let other: CliRun | undefined;
    const original = proto[method] as (...a: unknown[]) => Promise<unknown>;
    vi.spyOn(proto, method as never).mockImplementation((async function (this: unknown, ...a: unknown[]) {
      if (a[1] === '1.0.0' && other === undefined) other = await runBin(args);
      return original.apply(this, a);
    }) as never);
    return { other: () => other };
  };

  type Manifest = { annotations: Record<string, string>; layers: Array<{ digest: string }> };
  /**
   * Another publisher of this pack, which checked before this run wrote: once this run's write of `after` is
   * accepted, it writes `writes(its manifest)` (tag -> manifest) straight into the registry under `base`. Its
   * manifest is this run's with another created time: the same layer.
   */
  const rewriteAfter = (base: string, after: string, writes: (theirs: Manifest) => Record<string, Manifest>) => {
    const original = GenericRegistryStore.prototype.pushManifest;
    vi.spyOn(GenericRegistryStore.prototype, 'pushManifest').mockImplementation(async function (this: GenericRegistryStore, ...a) {
      const digest = await original.apply(this, a);
      if (a[1] === after) {
        const theirs = JSON.parse(a[2].toString('utf8')) as Manifest;
        theirs.annotations['org.opencontainers.image.created'] = '2020-01-01T00:00:00Z';
        for (const [tag, manifest] of Object.entries(writes(theirs))) w.hostile.putManifest(`${base}/spectro-packs/archive/twin`, tag, Buffer.from(JSON.stringify(manifest)), a[3]);
      }
      return digest;
    });
  };

  it('on a registry, another run of it published between the uploads and the write: unchanged, exit 0 (was: CONFLICT, exit 1)', async () => {
    const race = interleave(GenericRegistryStore.prototype, 'headManifest', ['push', w.pack, ...registry('b1'), ...OTHER_TIME]);
    const run = await runCli(['push', w.pack, ...registry('b1')]);
    expectRun(race.other() as CliRun, { code: 0, stdout: ['published twin:1.0.0'] });
    expectRun(run, { code: 0, stdout: ['unchanged twin:1.0.0', '1 unchanged'] });
    expect(run.stderr).not.toContain('CONFLICT');
  });

  it('on an OCI layout, another run of it wrote the tag under the lock first: unchanged, exit 0 (was: "created by another publisher", exit 1)', async () => {
    const layout = join(w.root, 'layout');
    const race = interleave(OciLayoutStore.prototype, 'pushManifest', ['push', w.pack, '--oci-layout', layout, ...OTHER_TIME]);
    const run = await runCli(['push', w.pack, '--oci-layout', layout]);
    expectRun(race.other() as CliRun, { code: 0, stdout: ['published twin:1.0.0'] });
    expectRun(run, { code: 0, stdout: ['unchanged twin:1.0.0'] });
    const held = await layoutHoldings(layout);
    expect(held.problems).toEqual([]);
    expect(held.tags.size).toBe(1);
  });

  it('the version rewritten after this run wrote it, with this pack under another manifest: the read-back says unchanged (was: CONFLICT "replaced")', async () => {
    rewriteAfter('b3', '1.0.0', (theirs) => ({ '1.0.0': theirs }));
    const run = await runCli(['push', w.pack, ...registry('b3'), '--json']);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { results: Array<{ status: string; digest: string }> };
    expect(report.results.map((r) => r.status)).toEqual(['unchanged']);
    // The digest reported is the one the version holds.
    const held = JSON.parse((await runCli(['inspect', 'twin:1.0.0', ...registry('b3'), '--json'])).stdout) as { manifest: { digest: string; created: string } };
    expect(held.manifest.digest).toBe(report.results[0]?.digest);
    expect(held.manifest.created).toBe('2020-01-01T00:00:00Z');
  });

  it('the same with --tag latest: the other publisher rewrote the version and latest after this run: unchanged (was: CONFLICT "replaced")', async () => {
    rewriteAfter('b5', 'latest', (theirs) => ({ '1.0.0': theirs, latest: theirs }));
    const run = await runCli(['push', w.pack, ...registry('b5'), '--tag', 'latest', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { results: Array<{ status: string; digest: string }> };
    expect(report.results.map((r) => r.status)).toEqual(['unchanged']);
    for (const ref of ['twin:1.0.0', 'twin:latest']) {
      const held = JSON.parse((await runCli(['inspect', ref, ...registry('b5'), '--json'])).stdout) as { manifest: { digest: string } };
      expect(held.manifest.digest).toBe(report.results[0]?.digest);
    }
  });

  it('the version rewritten with this pack, but latest moved to other content after this run: still a conflict, exit 1', async () => {
    // latest: a third manifest, of another layer (other content).
    const other = (m: Manifest): Manifest => ({ ...m, annotations: { ...m.annotations, 'org.opencontainers.image.created': '2021-01-01T00:00:00Z' }, layers: [{ ...m.layers[0], digest: `sha256:${'e'.repeat(64)}` }] });
    rewriteAfter('b6', 'latest', (theirs) => ({ '1.0.0': theirs, latest: other(theirs) }));
    const run = await runCli(['push', w.pack, ...registry('b6'), '--tag', 'latest']);
    expectRun(run, { code: 1, stderr: ['CONFLICT twin:1.0.0', 'was replaced by another publisher during this run'] });
  });

  it('another run of OTHER content under the version stays a conflict, exit 1, its content kept', async () => {
    const race = interleave(GenericRegistryStore.prototype, 'headManifest', ['push', w.other, ...registry('b4')]);
    const run = await runCli(['push', w.pack, ...registry('b4')]);
    expectRun(race.other() as CliRun, { code: 0, stdout: ['published twin:1.0.0'] });
    expectRun(run, { code: 1, stderr: ['CONFLICT twin:1.0.0', 'was replaced by another publisher during this run'] });
    // The other run's content stays: its README, not this pack's.
    const pulled = await runCli(['pull', 'twin:1.0.0', ...registry('b4'), '-o', join(w.root, 'pulled-b4')]);
    expectRun(pulled, { code: 0 });
    expect(await readFile(join(w.root, 'pulled-b4', 'README.md'), 'utf8')).toBe('other content\n');
  });
});
