import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { hurryRetries } from '../support/clock.js';
import { runCli, type CliRun } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { expectReportValid } from '../support/report-schema.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';
import { publishedRegistry } from '../support/published.js';

/*
 * `list` and `copy --all` without a name take the pack repositories from the registry's catalog, then read
 * each one's tag list. distribution lists in its catalog a repository holding blobs and no manifest (a first
 * push that stopped before its manifest: made here for real, the proxy refusing ghost's manifest PUT), and
 * answers its tag list 404 NAME_UNKNOWN; distribution 3 answers so too once every tag was deleted, and a
 * replica behind the catalog may for a moment. Such a pack was left out unseen: copy --all said "2 copied",
 * exit 0, ghost never mentioned. Now the tag list is read once more after a pause (as a listed tag's
 * manifest is), and a 404 that stays is named: a note on stderr, `tagsNotServed` in --json. copy --all still
 * ends 0: on distribution a 404 there is what a repository with no version answers (failing would fail every
 * promotion after an interrupted first push), and nothing of it can be copied.
 */

const TAGS_404 = { status: 404, headers: { 'content-type': 'application/json' }, body: '{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}' };

const w = setup(async (stack) => {
  const { root, registry, proxy, reader, under, src, P } = await publishedRegistry(stack, 'packpub-tags-not-served-', ['aa', 'cc'].map((name) => ({ name, version: '1.0.0' })));
  // ghost's first push stops after its blobs: the registry refuses its manifest.
  // So does solo's, the only pack under the base path `lone`.
  proxy.onRequest = (r) =>
    r.kind === 'manifest-put' && /\/archive\/(ghost|solo)\//.test(r.path) ? { status: 400, headers: { 'content-type': 'application/json' }, body: '{"errors":[{"code":"MANIFEST_INVALID","message":"refused"}]}' } : 'pass';
  for (const [name, base] of [['ghost', src], ['solo', under('lone')]] as const) {
    const push = await runCli(['push', await writePack(join(root, name), { name, version: '1.0.0' }), '--registry', `${proxy.host}/${base}`]);
    if (push.code !== 1) throw new Error(`${name}'s push: ${push.code} ${push.stderr}`);
  }
  proxy.onRequest = undefined;
  return { root, registry, proxy, reader, under, src, R: `${registry.host}/${src}`, P };
});
const clock = hurryRetries();

afterEach(() => {
  w.proxy.onRequest = undefined;
});

const GHOST = () => `${w.src}/spectro-packs/archive/ghost`;
const tagReads = (repo: string) => w.proxy.count((r) => r.kind === 'tags' && r.path.startsWith(`/v2/${repo}/tags/list`));
function expectClean(run: CliRun, code: number): void {
  expect(run.code, `${run.stdout}${run.stderr}`).toBe(code);
  expect(stackLines(run.stderr)).toEqual([]);
}
const note = (command: 'listed' | 'copied') =>
  `note: ${w.proxy.host} lists the repository of ghost, but answers 404 for its tag list, also when asked again: no version of it ${command === 'listed' ? 'is listed' : 'was copied'}`;

describe('a repository the catalog lists whose tag list answers 404', () => {
  it('the real registry does so for a first push that stopped before its manifest', async () => {
    expect(await w.reader.catalog()).toContain(GHOST());
    const tags = await request(`${w.registry.url}/v2/${GHOST()}/tags/list`);
    expect(tags.statusCode).toBe(404);
    expect(await tags.body.text()).toContain('NAME_UNKNOWN');
  });

  it('list names it on stderr and in --json (was: left out unseen), read twice after a pause; the others listed', async () => {
    w.proxy.clear();
    const slept = clock.slept.length;
    const list = await runCli(['list', '--registry', w.P, '--retry-delay', '2']);
    expectClean(list, 0);
    expect(list.stdout).toMatch(/aa +1\.0\.0 +sha256:/);
    expect(list.stdout).toMatch(/cc +1\.0\.0 +sha256:/);
    expect(list.stdout).not.toContain('ghost');
    expect(list.stderr).toBe(`${note('listed')} (a first push that stopped before its manifest, every version deleted, or a replica behind the catalog?)\n`);
    expect(tagReads(GHOST())).toBe(2);
    expect(tagReads(`${w.src}/spectro-packs/archive/aa`)).toBe(1);
    expect(clock.slept.slice(slept)).toEqual([expect.closeTo(2000, -3)]);

    const json = await runCli(['list', '--registry', w.P, '--json']);
    expectClean(json, 0);
    const doc = JSON.parse(json.stdout) as { packs: Array<Record<string, unknown>> };
    expectReportValid(doc, '#/$defs/listOutput');
    expect(doc.packs.map((p) => p['name'])).toEqual(['aa', 'cc', 'ghost']);
    expect(doc.packs[2]).toEqual({ name: 'ghost', repository: GHOST(), versions: [], tagsNotServed: true });
    expect(json.stderr).toContain(note('listed'));
  });

  it('list: a 404 that passes (a replica behind) is read again and the pack listed, without a note', async () => {
    let left = 1;
    w.proxy.onRequest = (r) => (r.kind === 'tags' && r.path.startsWith(`/v2/${w.src}/spectro-packs/archive/aa/`) && left-- > 0 ? TAGS_404 : 'pass');
    w.proxy.clear();
    const list = await runCli(['list', '--registry', w.P]);
    expectClean(list, 0);
    expect(list.stdout).toMatch(/aa +1\.0\.0 +sha256:/);
    expect(list.stderr).toBe(`${note('listed')} (a first push that stopped before its manifest, every version deleted, or a replica behind the catalog?)\n`);
    expect(tagReads(`${w.src}/spectro-packs/archive/aa`)).toBe(2);
  });

  it('list <name> of such a pack: no pack, as before (a named pack the registry does not know)', async () => {
    const list = await runCli(['list', 'ghost', '--registry', w.P]);
    expectClean(list, 0);
    expect(list.stderr).toBe(`no pack ghost in registry ${w.P}\n`);
  });

  it('copy --all names it on stderr and in --json / --json-lines, copies the others, exit 0 (was: "2 copied", ghost never mentioned)', async () => {
    const copy = await runCli(['copy', '--all', '--from', w.P, '--to', `${w.registry.host}/${w.under('dst')}`]);
    expectClean(copy, 0);
    expect(copy.stdout).toContain('2 copied');
    expect(copy.stderr).toContain(note('copied'));
    expect(await w.reader.tags(w.under('dst/spectro-packs/archive/aa'))).toEqual(['1.0.0']);
    expect(await w.reader.tags(w.under('dst/spectro-packs/archive/cc'))).toEqual(['1.0.0']);
    expect(await w.reader.catalog()).not.toContain(w.under('dst/spectro-packs/archive/ghost'));

    const json = await runCli(['copy', '--all', '--from', w.P, '--to', `${w.registry.host}/${w.under('dst')}`, '--json'], { env: { GITHUB_ACTIONS: 'true' } });
    expectClean(json, 0);
    // review5 (s24): in GitHub Actions a ::warning too (was: the note in the log only, the step green).
    expect(json.stderr).toContain(`::warning title=packpub copy::ghost: the source lists ${w.P}/spectro-packs/archive/ghost, but answers 404 for its tag list: no version of it was copied`);
    const report = JSON.parse(json.stdout) as Record<string, unknown>;
    expectReportValid(report);
    expect(report['tagsNotServed']).toEqual([{ name: 'ghost', source: `${w.P}/spectro-packs/archive/ghost` }]);
    expect(report['summary']).toMatchObject({ total: 2, unchanged: 2 });
    expect(json.stderr).toContain(note('copied'));

    const lines = await runCli(['copy', '--all', '--from', w.P, '--to', `${w.registry.host}/${w.under('dst')}`, '--json-lines']);
    expectClean(lines, 0);
    const summary = JSON.parse(lines.stdout.trim().split('\n').at(-1) ?? '') as Record<string, unknown>;
    expectReportValid(summary, '#/$defs/jsonLine');
    expect(summary['tagsNotServed']).toEqual([{ name: 'ghost', source: `${w.P}/spectro-packs/archive/ghost` }]);
  });

  it('copy --all where it is the only pack: nothing to copy, exit 1, naming it (was: "no packs under", not why)', async () => {
    const copy = await runCli(['copy', '--all', '--from', `${w.proxy.host}/${w.under('lone')}`, '--to', `oci:${join(w.root, 'none')}`]);
    expectClean(copy, 1);
    expect(copy.stderr).toContain(`nothing to copy: no packs under ${w.proxy.host}/${w.under('lone')}/spectro-packs/archive (${w.proxy.host} lists the repositories of solo, but answers 404 for their tag lists)`);
    expect(await w.reader.catalog()).toContain(w.under('lone/spectro-packs/archive/solo'));
  });
});
