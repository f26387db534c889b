import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startRecordingProxy } from '../support/recording-proxy.js';
import { startRegistry } from '../support/registry.js';
import { runCli } from '../support/cli.js';
import { CORPUS_DIR, HAVE_CORPUS, writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/**
 * A tree of generated packs in 5 team folders (12: four for each of three shards), with a real pack of the corpus
 * beside it (a second root): each pack more costs a real registry about 8 requests a run and adds no case. Every corpus pack to a registry,
 * published, read back by skopeo and unchanged on a re-run, is test/integration/faults-push.test.ts's (through
 * faults): the whole corpus here too repeated it (~0.6 CPU-s).
 */
const GENERATED = 12;

/** Every file under the registry's storage with its size: what a --dry-run must leave untouched. */
async function storageState(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(`${relative(dir, p)} ${(await stat(p)).size}`);
    }
  };
  await walk(dir);
  return out.sort();
}

describe('a release job over a tree of packs', () => {
  const env = { SOURCE_DATE_EPOCH: '946684800' };
  const uploads = () => w.proxy.count((r) => r.method === 'POST' && r.path.includes('/blobs/uploads/'));

  const w = setup(async (stack) => {
    const registry = stack.add(await startRegistry({ storage: 'filesystem' }));
    const proxy = stack.add(await startRecordingProxy(registry.url));
    const registryArg = `${proxy.host}/release`;
    const root = await stack.tempDir();
    const tree = join(root, 'packs');
    for (let i = 0; i < GENERATED; i++) {
      const group = `team-${i % 5}`;
      await writePack(join(tree, group, `gen-${i}`), {
        name: `gen-${String(i).padStart(2, '0')}`,
        version: `1.${i % 3}.${i}`,
        files: { [`manifests/extra-${i}.txt`]: `payload ${i} `.repeat(200 + i * 10) },
      });
    }
    return { registry, proxy, root, tree, registryArg };
  });
  const corpusArgs = () => (HAVE_CORPUS ? [join(CORPUS_DIR, 'hello-universe-pack'), '--recursive'] : ['--recursive']);
  const expected = () => GENERATED + (HAVE_CORPUS ? 1 : 0);

  // The generated tree alone: a plan is the same for any pack, and a real pack is planned, built and published
  // by the run below (the whole corpus by faults-push's).
  it('--dry-run plans every pack as new and writes nothing', async () => {
    const before = await storageState(w.registry.storageDir).catch(() => []);
    const run = await runCli(['push', w.tree, '--recursive', '--registry', w.registryArg, '--dry-run', '--json'], { env });
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.results).toHaveLength(GENERATED);
    expect(new Set(report.results.map((r: { plan: string }) => r.plan))).toEqual(new Set(['new']));
    expect(report.results.every((r: { bytesToUpload: number }) => r.bytesToUpload > 0)).toBe(true);
    expect(await storageState(w.registry.storageDir).catch(() => [])).toEqual(before);
  });

  it('publishes the generated tree and a corpus pack in one run; a second run uploads nothing', async () => {
    const first = await runCli(['push', w.tree, ...corpusArgs(), '--registry', w.registryArg, '--json'], { env });
    expect(first.code, first.stderr).toBe(0);
    const report = JSON.parse(first.stdout);
    expect(report.summary.published).toBe(expected());

    w.proxy.clear();
    const second = await runCli(['push', w.tree, ...corpusArgs(), '--registry', w.registryArg, '--json'], { env });
    expect(second.code).toBe(0);
    const again = JSON.parse(second.stdout);
    expect(again.summary.unchanged).toBe(expected());
    expect(uploads()).toBe(0);
    expect(w.proxy.count((r) => r.method === 'PUT' || r.method === 'PATCH' || r.method === 'DELETE')).toBe(0);
    // Without the local cache the same holds: unchanged packs are recognised against the registry.
    w.proxy.clear();
    const uncached = await runCli(['push', w.tree, '--recursive', '--registry', w.registryArg, '--no-cache'], { env });
    expect(uncached.code).toBe(0);
    expect(uncached.stdout).toContain(`${GENERATED} unchanged`);
    expect(uploads()).toBe(0);
  });

  it('reports a changed pack as a conflict (exit 1) and publishes nothing for it', async () => {
    const changed = join(w.root, 'changed');
    await writePack(changed, { name: 'gen-07', version: '1.1.7', files: { 'README.md': '# edited after release\n' } });
    w.proxy.clear();
    const run = await runCli(['push', changed, '--registry', w.registryArg], { env });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('CONFLICT gen-07:1.1.7');
    expect(uploads()).toBe(0);
    const fine = await runCli(['push', changed, '--registry', w.registryArg, '--skip-existing'], { env });
    expect(fine.code).toBe(0);
    expect(fine.stdout).toContain('skipped gen-07:1.1.7');
  });

  it('--shard I/3 splits the tree with no overlap and no gap', async () => {
    const seen: string[] = [];
    for (let i = 1; i <= 3; i++) {
      const run = await runCli(['push', w.tree, '--recursive', '--registry', w.registryArg, '--shard', `${i}/3`, '--dry-run', '--json'], { env });
      expect(run.code).toBe(0);
      const names = JSON.parse(run.stdout).results.map((r: { name: string }) => r.name) as string[];
      expect(names.length).toBeGreaterThanOrEqual(Math.floor(GENERATED / 3));
      seen.push(...names);
    }
    expect(seen).toHaveLength(GENERATED);
    expect(new Set(seen).size).toBe(GENERATED);
    const bad = await runCli(['push', w.tree, '--recursive', '--shard', '4/3']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--shard');
  });

  it('refuses two folders with the same name and version before pushing anything', async () => {
    const dupRoot = join(w.root, 'dups');
    await writePack(join(dupRoot, 'a'), { name: 'twin', version: '1.0.0' });
    await writePack(join(dupRoot, 'b'), { name: 'twin', version: '1.0.0' });
    w.proxy.clear();
    const run = await runCli(['push', dupRoot, '--recursive', '--registry', w.registryArg], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('are both twin:1.0.0');
    expect(w.proxy.count((r) => r.path.startsWith('/v2/'))).toBe(0);
  });

  it('pushes nothing while any pack is invalid, unless --continue-on-error', async () => {
    const mixed = join(w.root, 'mixed');
    await writePack(join(mixed, 'good'), { name: 'good-one', version: '1.0.0' });
    await writePack(join(mixed, 'bad'), { name: 'bad-one', version: '1.0.0', packJson: { layer: 'nope' } });
    const blocked = await runCli(['push', mixed, '--recursive', '--registry', w.registryArg, '--json'], { env });
    expect(blocked.code).toBe(1);
    const report = JSON.parse(blocked.stdout);
    expect(report.summary.invalid).toBe(1);
    expect(report.summary.published).toBe(0);
    const goodBlocked = report.results.find((r: { name: string }) => r.name === 'good-one');
    expect(goodBlocked.error.message).toContain('other packs are invalid');
    const cont = await runCli(['push', mixed, '--recursive', '--registry', w.registryArg, '--continue-on-error'], { env });
    expect(cont.code).toBe(1);
    expect(cont.stdout).toContain('published good-one:1.0.0');
    expect(cont.stderr).toContain('INVALID bad-one');
  });
});
