import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * pack.json's name and version are the repository's text (a pull request from a fork): validate's verdict line and
 * push's INVALID line printed them raw, so a version holding a line break or a carriage return (the GitHub runner
 * ends a line at either: StreamReader.ReadLine) and then "::warning ...::" made a line the runner took as a workflow
 * command (an annotation of the attacker's text; ::stop-commands:: would silence packpub's own). And the job
 * summary kept a lone CR, which ends a Markdown line: the table row was cut, its rest a paragraph below it.
 * Now they are shown as printable() shows a folder name (a CR as U+000D; the ":" after a line break as U+003A), and the
 * summary cell turns a CR into <br> as it does LF.
 */

const VERSIONS = ['1.0.0\r::warning title=pwned::injected', '1.0.0\n::warning title=pwned::injected'];

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-pack-json-commands-');
  const packs: string[] = [];
  for (const [i, version] of VERSIONS.entries()) {
    const dir = join(root, `pack${i}`);
    await writePack(dir, { name: 'vf', version: '1.0.0' });
    const json = JSON.parse(await readFile(join(dir, 'pack.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(dir, 'pack.json'), JSON.stringify({ ...json, version }, null, 2));
    packs.push(dir);
  }
  return { root, packs };
});

/** The lines as the GitHub runner reads them (a line ends at CR, LF or CRLF) that it would take as a workflow command. */
function commands(run: CliRun): string[] {
  return `${run.stdout}\n${run.stderr}`.split(/\r\n|\r|\n/).filter((l) => /^\s*::/.test(l) && !l.includes('title=packpub'));
}

describe("pack.json's name and version never become a workflow command", () => {
  it('validate: the verdict line shows a CR as U+000D, the ":" after a line break as U+003A; exit 1; the summary row stays one line', async () => {
    const summary = join(w.root, 'validate-summary.md');
    const env = { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: w.root, GITHUB_STEP_SUMMARY: summary };
    const run = await runCli(['validate', ...w.packs], { cwd: w.root, env });
    expect(run.code, run.stderr).toBe(1);
    expect(commands(run)).toEqual([]);
    expect(run.stdout).toContain(`${w.packs[0]}: vf:1.0.0U+000D::warning title=pwned::injected FAILED\n`);
    expect(run.stdout).toContain(`${w.packs[1]}: vf:1.0.0\nU+003A:warning title=pwned::injected FAILED\n`);
    const text = await readFile(summary, 'utf8');
    expect(text).not.toContain('\r');
    expect(text).toContain('| vf | 1.0.0<br>::warning title=pwned::injected | failed |');
  });

  it('push: the INVALID line likewise; exit 1, nothing written to the layout', async () => {
    const summary = join(w.root, 'push-summary.md');
    const layout = join(w.root, 'layout');
    const env = { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: w.root, GITHUB_STEP_SUMMARY: summary };
    const run = await runCli(['push', ...w.packs, '--oci-layout', layout, '--continue-on-error', '--no-tty'], { cwd: w.root, env });
    expect(run.code, run.stderr).toBe(1);
    expect(commands(run)).toEqual([]);
    const all = `${run.stdout}${run.stderr}`;
    expect(all).toContain('INVALID vf:1.0.0U+000D::warning title=pwned::injected: ');
    expect(all).toContain('INVALID vf:1.0.0\nU+003A:warning title=pwned::injected: ');
    expect(await readFile(summary, 'utf8')).not.toContain('\r');
    expect(await readdir(layout).catch(() => [])).not.toContain('index.json');
  });
});

describe('an image entry of values.yaml that is no image reference', () => {
  // pack.content.images is the list Palette mirrors for air-gapped installs: an entry holding a line break, spaces or
  // a table row passed validate without a finding, even --strict (was). Now a warning naming it, quoted as JSON (a CR
  // shown as \r, so no workflow command either); --strict fails it.
  it('validate warns (exit 0), --strict fails it (exit 1), and the entry is quoted, never a workflow command', async () => {
    const dir = join(w.root, 'image-entry');
    await writePack(dir, { name: 'imgs', version: '1.0.0' });
    const values = (await readFile(join(dir, 'values.yaml'), 'utf8')).replace(
      '      - image: ghcr.io/example/app:1.0.0\n',
      '      - image: ghcr.io/example/app:1.0.0\n      - image: "ghcr.io/x/y:1\\r::warning title=pwned::injected | col"\n',
    );
    await writeFile(join(dir, 'values.yaml'), values);
    const env = { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: w.root };
    const warned = await runCli(['validate', dir], { cwd: w.root, env });
    expect(warned.code, warned.stderr).toBe(0);
    expect(commands(warned)).toEqual([]);
    const finding = 'pack.content.images[1]: entry 1 image "ghcr.io/x/y:1\\r::warning title=pwned::injected | col" is no container image reference';
    expect(warned.stdout).toContain(`warning values.yaml:4:5 ${finding}`);
    const strict = await runCli(['validate', '--strict', dir], { cwd: w.root, env });
    expect(strict.code, strict.stderr).toBe(1);
    expect(strict.stdout).toContain(`${dir}: imgs:1.0.0 FAILED\n`);
    expect(strict.stdout).toContain(finding);
  });
});
