import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { skipWaits } from '../support/clock.js';
import { startPaletteStandin } from '../support/palette-standin.js';
import { sharedRegistry } from '../support/registry.js';
import { runCli, type CliRun } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { holdVersions } from '../support/registry-admin.js';
import { setup } from '../support/stage.js';
import { runChildText } from '../support/spawner.js';

/*
 * push --palette-sync exits 3 when Palette does not list a published pack. The job summary said "succeeded",
 * the JUnit report held no failure and no annotation named the pack, while the job failed with exit code 3.
 */

const XSD = fileURLToPath(new URL('../fixtures/junit-jenkins.xsd', import.meta.url));
const KEY = `apikey-${Math.random().toString(36).slice(2)}-tenant-admin`;
const clock = skipWaits();
const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-palette-ci-');
  const pack = await writePack(join(root, 'packs/beta'), { name: 'ci-beta', version: '0.3.1' });
  // The worker's registry; this file's packs under `ci`, a path below the base path it hands the file.
  const registry = await sharedRegistry();
  const palette = stack.add(await startPaletteStandin({ keys: { [KEY]: { role: 'tenant-admin' } }, labs: { [registry.host]: { url: registry.url } }, startDelayPolls: 1, clock }));
  const ci = `${registry.host}/${registry.base}/ci`;
  const env = { HOME: join(root, 'home'), SPECTROCLOUD_HOST: palette.url, SPECTROCLOUD_APIKEY: KEY };
  const at = ['--registry', ci];
  // The file's registry registered in Palette once, as a user does before the first push --palette-sync.
  const register = await runCli(['palette', 'register', ...at], { env });
  expect(register.code, register.stderr).toBe(0);
  return { registry, palette, root, pack, ci, env, at };
});

/**
 * `push <pack> --palette-sync` to the file's registry as a GitHub Actions step (a job summary file and a JUnit report
 * named after `name`): the run, the summary's text (read when asked) and the report's path.
 */
async function pushInActions(pack: string, name: string, env: NodeJS.ProcessEnv, at: string[]): Promise<{ run: CliRun; summary: () => Promise<string>; junit: string }> {
  const summary = join(w.root, `summary${name}.md`);
  await writeFile(summary, '');
  const junit = join(w.root, `junit${name}.xml`);
  const run = await runCli(['push', pack, ...at, '--palette-sync', '--palette-poll-interval', '0.02', '--junit', junit], {
    env: { ...env, GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary, GITHUB_WORKSPACE: w.root },
  });
  return { run, summary: () => readFile(summary, 'utf8'), junit };
}

describe('push --palette-sync in the CI outputs', () => {
  it('a pack Palette does not list (exit 3): the summary, an annotation and the JUnit report say so', async () => {
    const { env, at } = w;
    w.palette.failSyncs = 'failed to pull ci-beta:0.3.1: manifest unknown';
    const { run, summary, junit } = await pushInActions(w.pack, '', env, at);
    expect(run.code).toBe(3);
    // palette register names the Palette registry after the host and path it serves.
    const why = `not visible in Palette: Palette's sync of 127-0-0-1-${w.registry.base}-ci failed: failed to pull ci-beta:0.3.1: manifest unknown`;
    expect(run.stderr.split('\n').filter((l) => l.startsWith('::'))).toEqual([`::error title=packpub palette::ci-beta:0.3.1 (${w.ci}): ${why}`]);
    const md = await summary();
    expect(md.split('\n')[0]).toBe('### packpub push: published, not visible in Palette');
    expect(md).toContain(`| ci-beta | 0.3.1 | registry ${w.ci} | published |`);
    expect(md).toContain(`**Palette:** not every pack is visible\n- ci-beta:0.3.1 (${w.ci}): ${why}\n`);
    const xml = await readFile(junit, 'utf8');
    expect(xml).toMatch(/<testsuites name="packpub push" tests="2" failures="1" errors="0"/);
    expect(xml).toContain(`<testcase name="ci-beta:0.3.1" classname="palette ${w.ci}" time="0.000">\n      <failure message="${why.replace(/'/g, '&apos;')}" type="PALETTE_NOT_VISIBLE">`);
    await runChildText('xmllint', ['--noout', '--schema', XSD, junit]);
  });

  it('a sync that fails on something else while Palette lists the pack (exit 3): the outputs say the pack is there and the sync failed', async () => {
    const { env, at } = w;
    w.palette.failSyncs = undefined;
    w.palette.failSyncsAfterIndexing = 'failed to pull other-team:2.0.0: manifest unknown';
    const pack = await writePack(join(w.root, 'packs/gamma'), { name: 'ci-gamma', version: '1.0.0' });
    const { run, summary, junit } = await pushInActions(pack, '-listed', env, at);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stdout).toContain('visible in Palette ci-gamma:1.0.0');
    const why = `Palette lists every version asked for (1) with the content published, but its sync of 127-0-0-1-${w.registry.base}-ci failed: failed to pull other-team:2.0.0: manifest unknown; what failed is another pack of the registry or the registry itself`;
    expect(run.stderr.split('\n').filter((l) => l.startsWith('::'))).toEqual([
      `::error title=packpub palette::(${w.ci}): ${why}%0Ahint: fix what the sync's message names, then packpub palette sync`,
    ]);
    expect(run.stderr).not.toContain('not visible in Palette:');
    const md = await summary();
    expect(md.split('\n')[0]).toBe('### packpub push: published, Palette lists every pack, but its sync failed');
    expect(md).toContain(`**Palette:** every pack is visible, but the sync failed\n- (${w.ci}): ${why}`);
    const xml = await readFile(junit, 'utf8');
    expect(xml).toContain(`<testcase name="ci-gamma:1.0.0" classname="palette ${w.ci}" time="0.000">\n      <system-out>visible in Palette`);
    expect(xml).toContain(`<failure message="${why.replace(/'/g, '&apos;')}" type="PALETTE_NOT_VISIBLE">`);
    await runChildText('xmllint', ['--noout', '--schema', XSD, junit]);
  });

  it('palette sync of packs Palette does not list (exit 3): one annotation per pack, at most 10 (was: none)', async () => {
    const { env, at } = w;
    w.palette.failSyncsAfterIndexing = undefined;
    w.palette.failSyncs = 'cannot reach the registry';
    try {
      const gha = { ...env, GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: w.root };
      const why = `not visible in Palette: Palette's sync of 127-0-0-1-${w.registry.base}-ci failed: cannot reach the registry`;
      const delta = await writePack(join(w.root, 'packs/delta'), { name: 'ci-delta', version: '1.0.0' });
      expect((await runCli(['push', delta, ...at], { env })).code).toBe(0);
      const run = await runCli(['palette', 'sync', 'ci-delta:1.0.0', ...at, '--palette-poll-interval', '0.02', '--json'], { env: gha });
      expect(run.code, run.stderr).toBe(3);
      expect(JSON.parse(run.stdout)).toMatchObject({ status: 'published-not-visible' });
      expect(run.stderr.split('\n').filter((l) => l.startsWith('::'))).toEqual([`::error title=packpub palette::ci-delta:1.0.0 (${w.ci}): ${why}`]);
      // Every version under the base path, more than GitHub shows: 9 named, the 10th says how many more.
      // Held without a push (no archive is read: each sync fails).
      await holdVersions(w.registry, Array.from({ length: 11 }, (_, i) => ({ repository: `${w.registry.base}/ci/spectro-packs/archive/ci-many-${i}`, tag: '1.0.0' })));
      // failSyncs fails the next sync of each registry: set again for each run.
      w.palette.failSyncs = 'cannot reach the registry';
      const all = await runCli(['palette', 'sync', ...at, '--palette-poll-interval', '0.02'], { env: gha });
      expect(all.code, all.stderr).toBe(3);
      const lines = all.stderr.split('\n').filter((l) => l.startsWith('::'));
      expect(lines).toHaveLength(10);
      expect(lines.slice(0, 9).every((l) => l.startsWith('::error title=packpub palette::ci-'))).toBe(true);
      const notVisible = all.stdout.split('\n').filter((l) => l.startsWith('NOT VISIBLE in Palette ')).length;
      expect(notVisible).toBeGreaterThanOrEqual(11);
      expect(lines[9]).toBe(`::error title=packpub palette::${notVisible - 9} more errors are not annotated (GitHub shows 10 per step): they are in the log above`);
      // --junit: the Palette suite, as push --palette-sync writes it, valid against Jenkins' schema.
      w.palette.failSyncs = 'cannot reach the registry';
      const junit = join(w.root, 'sync-junit.xml');
      const reported = await runCli(['palette', 'sync', 'ci-delta:1.0.0', ...at, '--palette-poll-interval', '0.02', '--junit', junit], { env });
      expect(reported.code, reported.stderr).toBe(3);
      const xml = await readFile(junit, 'utf8');
      expect(xml).toMatch(/<testsuites name="packpub palette sync" tests="1" failures="1" errors="0"/);
      expect(xml).toContain(`<testcase name="ci-delta:1.0.0" classname="palette ${w.ci}" time="0.000">\n      <failure message="${why.replace(/'/g, '&apos;')}" type="PALETTE_NOT_VISIBLE">`);
      await runChildText('xmllint', ['--noout', '--schema', XSD, junit]);
      // Refused before any sync (a version the target does not hold): one error case, suite `stopped`.
      const missing = await runCli(['palette', 'sync', 'ci-delta:9.9.9', ...at, '--junit', junit], { env });
      expect(missing.code).toBe(1);
      const refusal = await readFile(junit, 'utf8');
      expect(refusal).toContain('<testsuite name="stopped" tests="1" failures="0" errors="1"');
      expect(refusal).toMatch(/<error message="stopped: [^"]*ci-delta:9\.9\.9 does not exist: nothing was synced" type="NOT_FOUND">/);
      await runChildText('xmllint', ['--noout', '--schema', XSD, junit]);
      // Refused before anything is read (a base path Palette cannot use): the refusal case, suite `refused`.
      const refused = await runCli(['palette', 'sync', '--registry', `${w.registry.host}/${w.registry.base}/ci/spectro-packs/archive`, '--junit', junit], { env });
      expect(refused.code).toBe(2);
      const refusedXml = await readFile(junit, 'utf8');
      expect(refusedXml).toContain('<testsuite name="refused" tests="1" failures="0" errors="1"');
      expect(refusedXml).toMatch(/<error message="refused: the base path [^"]* ends with spectro-packs\/archive, which packpub and Palette add themselves" type="USAGE">/);
      // Outside GitHub Actions: none.
      w.palette.failSyncs = 'cannot reach the registry';
      const plain = await runCli(['palette', 'sync', 'ci-delta:1.0.0', ...at, '--palette-poll-interval', '0.02'], { env });
      expect(plain.code).toBe(3);
      expect(plain.stderr).not.toContain('::error');
    } finally {
      w.palette.failSyncs = undefined;
    }
  });
});
