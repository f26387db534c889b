import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * review4 (s23): with --strict, a pack failing on its warnings alone (exit 1) had only ::warning annotations in
 * GitHub Actions: the failed job showed no error where its annotations are read. Now such warnings are ::error
 * annotations, saying they fail with --strict; without --strict they stay warnings.
 */

describe('--strict in GitHub Actions', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir();
    // Add-ons without addonType: a warning each (validate passes them without --strict).
    const warned = async (folder: string, name: string) => {
      const dir = await writePack(join(root, folder), { name, version: '1.0.0' });
      const packJson = JSON.parse(await readFile(join(dir, 'pack.json'), 'utf8')) as Record<string, unknown>;
      delete packJson['addonType'];
      await writeFile(join(dir, 'pack.json'), JSON.stringify(packJson, null, 2));
    };
    await warned('packs/warned', 'warned');
    for (let i = 0; i < 11; i++) await warned(`many/w${i}`, `w${i}`);
    return { root };
  });
  const env = () => ({ GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: w.root });
  const commands = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('::'));

  it.each([
    ['push', ['push', 'packs/warned', '--oci-layout', 'layout', '--strict']],
    ['validate', ['validate', 'packs/warned', '--strict']],
  ])('%s --strict: exit 1 and the warning that failed it is an ::error (was: ::warning only)', async (_name, argv) => {
    const run = await runCli(argv, { cwd: w.root, env: env() });
    expectRun(run, { code: 1 });
    const lines = commands(run.stderr);
    expect(lines.filter((l) => l.startsWith('::warning'))).toEqual([]);
    expect(lines.filter((l) => l.startsWith('::error'))).toEqual([expect.stringMatching(/^::error file=packs\/warned\/pack\.json,line=\d+,col=\d+,title=packpub addon-type-missing::warned:1\.0\.0: .*\(a warning, which fails with --strict\)$/)]);
  });

  it('validate without --strict: exit 0, the warning stays a ::warning', async () => {
    const run = await runCli(['validate', 'packs/warned'], { cwd: w.root, env: env() });
    expectRun(run, { code: 0 });
    expect(commands(run.stderr)).toEqual([expect.stringMatching(/^::warning file=packs\/warned\/pack\.json,.*title=packpub addon-type-missing::/)]);
  });

  it('past 10 warnings, the last annotation says the others are in the log (was: "and in the job summary", which lists no warning)', async () => {
    const run = await runCli(['validate', ...Array.from({ length: 11 }, (_, i) => `many/w${i}`)], { cwd: w.root, env: env() });
    expectRun(run, { code: 0 });
    const lines = commands(run.stderr);
    expect(lines).toHaveLength(10);
    expect(lines.at(-1)).toBe('::warning title=packpub validate::2 more warnings are not annotated (GitHub shows 10 per step): they are in the log above');
  });
});
