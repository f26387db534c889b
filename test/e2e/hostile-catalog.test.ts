import { describe, expect, it } from 'vitest';
import { NOT_SERVED, listPacks, type ListedPack } from '../../src/operations/list.js';
import { openTarget } from '../../src/index.js';
import { startHostileRegistry, type HostileAnswer } from '../support/hostile-registry.js';
import { runCli } from '../support/cli.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';

/*
 * `list` without a name against a catalog too big to read in one go: a request per repository, then per
 * version. Before, 5001 pack repositories cost 5001 tag lists and 5001 manifest reads (exit 0, minutes on a
 * remote registry), and 8 signed packs of 1000 tags 8000 manifest reads; now list refuses past 5000 repositories (or 100000
 * versions) with a message that says how to narrow it, and reads at most 5000 manifests, saying which
 * versions it shows without details. The catalog's own paging is bounded by the client (pages, names, loops).
 */

const BASE = 'evil/spectro-packs/archive';
const json = (body: unknown): HostileAnswer => ({ status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('list against a huge catalog', () => {
  const w = setup(async (stack) => ({ hostile: stack.add(await startHostileRegistry({})) }));

  /** A catalog of `packs` pack repositories, each with `versions` tags whose manifests are not served (404). */
  function catalog(packs: number, versions: number, signed = false): void {
    const names = Array.from({ length: packs }, (_, i) => `${BASE}/p${String(i).padStart(5, '0')}`);
    const tags = Array.from({ length: versions }, (_, i) => (signed && i % 2 === 1 ? `sha256-${String(i).padStart(64, '0')}.sig` : `1.0.${i}`));
    w.hostile.behaviour = {
      answer: (r) => (r.path === '/v2/_catalog' ? json({ repositories: names }) : r.path.endsWith('/tags/list') ? json({ name: r.path.slice(4, -10), tags }) : undefined),
    };
  }
  const manifestReads = (since: number) => w.hostile.requests.slice(since).filter((r) => r.path.includes('/manifests/')).length;

  it('5001 pack repositories: refused after the catalog, before any tag list (was: 10002 requests, exit 0)', async () => {
    catalog(5001, 1);
    const since = w.hostile.requests.length;
    const run = await runCli(['list', '--registry', `${w.hostile.host}/evil`]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`error: ${w.hostile.host}/${BASE} holds 5001 repositories; listing every pack reads at most 5000 (a tag list each)`);
    expect(run.stderr).toContain('hint: name the pack (packpub list <name>), or give a base path deeper down');
    expect(stackLines(run.stderr)).toEqual([]);
    expect(run.stdout).toBe('');
    expect(w.hostile.requests.slice(since).filter((r) => r.path.endsWith('/tags/list'))).toEqual([]);
    // Named, one pack is listed as before.
    const one = await runCli(['list', 'p00001', '--registry', `${w.hostile.host}/evil`, '--json']);
    expect(one.code, one.stderr).toBe(0);
    expect((JSON.parse(one.stdout) as { packs: Array<{ versions: unknown[] }> }).packs[0]?.versions).toHaveLength(1);
  });

  it('copy --all of 5001 pack repositories: refused the same way, before any tag list (was: 10002 requests, then 5001 failures)', async () => {
    catalog(5001, 1);
    const since = w.hostile.requests.length;
    const run = await runCli(['copy', '--all', '--from', `${w.hostile.host}/evil`, '--to', `${w.hostile.host}/other`]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`error: ${w.hostile.host}/${BASE} holds 5001 repositories; copy --all reads at most 5000 (a tag list each)`);
    expect(run.stderr).toContain('hint: copy packs by name (<name> --all), or give --from a base path deeper down');
    expect(stackLines(run.stderr)).toEqual([]);
    expect(run.stdout).toBe('');
    expect(w.hostile.requests.slice(since).filter((r) => r.path.endsWith('/tags/list'))).toEqual([]);
  });

  it("8 signed packs of 5 versions and 5 signatures, at a run's budget of 48 manifests: 48 read (was: every tag), 5 of those answering 404 once more, the same number for every pack, versions before signatures (was: the signatures, sorted last, took the budget)", async () => {
    // The budget at a hundredth of its default (ListOptions.limits), the tags at a hundredth of what the default needs:
    // the same split (each pack its share, its versions first) as at the default.
    catalog(8, 10, true);
    const since = w.hostile.requests.length;
    const target = await openTarget({ registry: `${w.hostile.host}/evil`, env: {} });
    let packs: ListedPack[];
    try {
      await expect(listPacks(target, { limits: { detailsPerRun: -1 } })).rejects.toThrow('listPacks: limits.detailsPerRun must be a whole number of 0 or more, not -1');
      // A bound given as undefined is its default (a caller passing an unset option through), not a usage error.
      await expect(listPacks(target, { limits: { packs: undefined, versions: 0 } })).rejects.toThrow('more than 0 versions together');
      packs = await listPacks(target, { limits: { detailsPerRun: 48, rereads: 5 }, rereadDelayMs: 1 } /* the pause before the rereads is not what this is about */);
    } finally {
      await target.store.close();
    }
    const reads = w.hostile.requests.slice(since).filter((r) => r.path.includes('/manifests/'));
    // Every listed version answers 404 here: 5 of them (the rereads bound) are read once more, no more.
    expect(reads).toHaveLength(48 + 5);
    expect(new Set(reads.map((r) => r.path)).size).toBe(48);
    // 6 a pack: its 5 versions, then 1 of its signatures.
    expect(reads.filter((r) => r.path.endsWith('.sig'))).toHaveLength(8 * 1);
    expect(packs).toHaveLength(8);
    for (const p of packs) {
      expect(p.versions).toHaveLength(10);
      expect(p.detailsOmitted).toBe(4);
      // The oldest version was read (listed, not served here), as every version.
      expect(p.versions.filter((v) => !v.version.endsWith('.sig')).every((v) => v.notPack === NOT_SERVED)).toBe(true);
    }
  });

  it('more than 100000 versions in all: refused (was: kept in memory, 2000 reads, exit 0)', async () => {
    const names = [`${BASE}/a`, `${BASE}/b`];
    // 100002 in all: past the bound by 2 (two pages of 60000 made, sent and parsed 20000 more tags each run).
    w.hostile.behaviour = { tagCount: 50_001, answer: (r) => (r.path === '/v2/_catalog' ? json({ repositories: names }) : undefined) };
    const run = await runCli(['list', '--registry', `${w.hostile.host}/evil`]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`error: the packs under ${w.hostile.host}/${BASE} have more than 100000 versions together; list keeps at most that many`);
    expect(stackLines(run.stderr)).toEqual([]);
    expect(run.stdout).toBe('');
  });
});
