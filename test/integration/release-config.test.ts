import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { configTargetOptions, defaultTargetNames } from '../../src/config/targets.js';
import { copyPacks } from '../../src/operations/copy.js';
import { discoverPacks } from '../../src/operations/discover.js';
import { pushPacks } from '../../src/operations/push.js';
import { openTarget, type PackTarget } from '../../src/targets/open.js';
import { skopeoSyncManifests } from '../support/registry.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';
import { harborAndBasic } from '../support/push-setup.js';

/*
 * A release job as packpub.yaml describes it: one tree of packs, two registries (a Harbor-like one with
 * token auth and a robot account, and a Basic-auth one), credentials only from environment variables the
 * file names. Built once, pushed to both: identical digests; a re-run uploads nothing; promotion with
 * copy finds nothing to do.
 */

const ROBOT = 'robot$release+ci';
const ROBOT_SECRET = 'robot-secret-from-ci-1';
const BASIC_USER = 'publisher';
const BASIC_SECRET = 'basic-secret-from-ci-2';
/** Two packs in each of three group folders: more than the file's concurrency (3) for each registry. */
const PACKS = 6;

describe('a configured release to two registries', () => {
  const env: NodeJS.ProcessEnv = { HARBOR_ROBOT_SECRET: ROBOT_SECRET, BASIC_SECRET, SOURCE_DATE_EPOCH: '1700000000' };

  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-release-');
    const { tokens, harbor, basic, proxy } = await harborAndBasic(stack, { [ROBOT]: ROBOT_SECRET }, { [BASIC_USER]: BASIC_SECRET });
    for (let i = 0; i < PACKS; i++) await writePack(join(root, 'packs', `group-${i % 3}`, `pack${i}-1.${i}.0`), { name: `pack${i}`, version: `1.${i}.0` });
    await writeFile(
      join(root, 'packpub.yaml'),
      [
        'packs: [packs/]',
        'recursive: true',
        'defaults:',
        '  target: [harbor, mirror]',
        '  concurrency: 3',
        'targets:',
        '  harbor:',
        `    registry: ${harbor.host}/release`,
        '    auth:',
        `      username: ${ROBOT}`,
        '      passwordEnv: HARBOR_ROBOT_SECRET',
        '  mirror:',
        `    registry: ${proxy.host}/${basic.base}/mirror`,
        '    auth:',
        `      username: ${BASIC_USER}`,
        '      passwordEnv: BASIC_SECRET',
        '',
      ].join('\n'),
    );
    const loaded = await loadConfig({ cwd: root, env });
    return { root, tokens, harbor, basic, proxy, loaded };
  });

  async function openConfigured(): Promise<PackTarget[]> {
    return Promise.all(defaultTargetNames(w.loaded.config).map((name) => openTarget(configTargetOptions(w.loaded, name, env))));
  }

  async function closeAll(targets: PackTarget[]): Promise<void> {
    for (const t of targets) await t.store.close();
  }

  it('builds once and publishes identical digests to both registries; a re-run uploads nothing', async () => {
    const packs = await discoverPacks(w.loaded.config?.packs ?? [], { recursive: w.loaded.config?.recursive === true, cwd: w.root });
    expect(packs).toHaveLength(PACKS);
    const targets = await openConfigured();
    try {
      const first = await pushPacks(targets, { packs, env, concurrency: w.loaded.config?.defaults?.concurrency ?? 2 });
      expect(first.summary).toMatchObject({ total: PACKS * 2, published: PACKS * 2, failed: 0 });
      // skopeo reads every tag of each registry (one process per registry): the same manifest bytes in both.
      const tags = Array.from({ length: PACKS }, (_, i) => ({ repo: `spectro-packs/archive/pack${i}`, tag: `1.${i}.0` }));
      const images = (base: string) => tags.map((t) => ({ ...t, repo: `${base}/${t.repo}` }));
      const a = await skopeoSyncManifests(w.harbor.host, images('release'), await mkdtemp(join(w.root, 'skopeo-')), { creds: { username: ROBOT, password: ROBOT_SECRET } });
      const b = await skopeoSyncManifests(w.basic.host, images(`${w.basic.base}/mirror`), await mkdtemp(join(w.root, 'skopeo-')), { creds: { username: BASIC_USER, password: BASIC_SECRET } });
      expect(a.size).toBe(PACKS);
      for (const { repo, tag } of tags) {
        const fromHarbor = a.get(`release/${repo}:${tag}`);
        expect(fromHarbor, `${repo}:${tag}`).toBeDefined();
        expect(b.get(`${w.basic.base}/mirror/${repo}:${tag}`)?.equals(fromHarbor ?? Buffer.alloc(0)), `${repo}:${tag}`).toBe(true);
      }

      w.proxy.clear();
      const again = await pushPacks(targets, { packs, env });
      expect(again.summary).toMatchObject({ total: PACKS * 2, unchanged: PACKS * 2, uploadedBytes: 0 });
      expect(w.proxy.count((r) => r.method === 'POST' || r.method === 'PUT' || r.method === 'PATCH')).toBe(0);
    } finally {
      await closeAll(targets);
    }
  });

  it('promoting between the two registries finds every version already identical', async () => {
    const [from, to] = await openConfigured();
    if (from === undefined || to === undefined) throw new Error('two targets expected');
    try {
      w.proxy.clear();
      const report = await copyPacks(from, to, { all: true });
      expect(report.summary).toMatchObject({ total: PACKS, unchanged: PACKS, copiedBytes: 0 });
      expect(w.proxy.count((r) => r.method === 'POST' || r.method === 'PUT')).toBe(0);
    } finally {
      await closeAll([from, to]);
    }
  });

  it('the CLI copies between the configured targets by name, with credentials from the named variables', async () => {
    const result = await runCli(['copy', 'pack3:1.3.0', '--from', 'harbor', '--to', 'mirror', '--json'], { cwd: w.root, env });
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { results: Array<{ status: string }> };
    expect(report.results.map((r) => r.status)).toEqual(['unchanged']);
    for (const secret of [ROBOT_SECRET, BASIC_SECRET, ...w.tokens.issuedTokens]) expect(result.stdout + result.stderr).not.toContain(secret);
  });
});
