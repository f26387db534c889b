import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { setup } from '../support/stage.js';

/*
 * review5 (s24): `build` of an invalid pack said only "<dir> is not a valid pack (1 error(s), 0 warning(s))": a CI log
 * (and its ::error in GitHub) did not say why, a second command (validate) had to. Now the message names the first
 * finding that fails the pack, where it is, and how many more; nothing is written.
 */

describe('build of an invalid pack', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir();
    await cp('examples/hello-manifests', join(root, 'bad'), { recursive: true });
    const packJson = join(root, 'bad', 'pack.json');
    const doc = JSON.parse(await readFile(packJson, 'utf8')) as Record<string, unknown>;
    await writeFile(packJson, JSON.stringify({ ...doc, layer: 'bogus' }, null, 2));
    return { root };
  });

  it('exit 1 naming the finding at its file:line:col (was: counts only), in the ::error too; no archive', async () => {
    const run = await runCli(['build', 'bad', '-o', 'out.tar.gz'], { cwd: w.root, env: { GITHUB_ACTIONS: 'true' } });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: bad is not a valid pack \(1 error\(s\), \d+ warning\(s\)\): pack\.json:\d+:\d+ layer: must be one of [^\n]*\(found "bogus"\)$/m);
    expect(run.stderr).toMatch(/^::error title=packpub::bad is not a valid pack \(1 error\(s\), \d+ warning\(s\)\): pack\.json:\d+:\d+ layer: must be one of /m);
    expect(await readdir(w.root)).toEqual(['bad']);
  });

  it('in GitHub Actions, each finding is also an annotation at its file, line and column, as validate places it', async () => {
    const run = await runCli(['build', 'bad', '-o', 'out.tar.gz', '--strict'], { cwd: w.root, env: { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: w.root } });
    expect(run.code).toBe(1);
    const validate = await runCli(['validate', 'bad', '--strict'], { cwd: w.root, env: { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: w.root } });
    const placed = (text: string) => text.split('\n').filter((l) => l.startsWith('::') && l.includes(' file='.slice(1)));
    expect(placed(validate.stderr)).toContainEqual(expect.stringMatching(/^::error file=bad\/pack\.json,line=\d+,col=\d+,title=packpub pack-json-schema::hello-manifests:1\.0\.0: layer: must be one of /));
    expect(placed(run.stderr)).toEqual(placed(validate.stderr));
    expect(await readdir(w.root)).toEqual(['bad']);
  });
});
