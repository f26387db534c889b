import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * `push --annotation-file=~/annotations.json` and `--junit=~/junit.xml` (the shell leaves a ~ after = alone)
 * looked for a folder named ~ under the working directory: "cannot be read as JSON: ENOENT" and "folder .../~
 * does not exist", exit 2. Now ~/ is the home folder's, as for the other path flags.
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-annotation-home-');
  await writePack(join(root, 'hello'), { name: 'hello', version: '1.0.0' });
  await mkdir(join(root, 'home'));
  await writeFile(join(root, 'home/annotations.json'), JSON.stringify({ $manifest: { 'org.opencontainers.image.source': 'https://example.com/packs' } }));
  return { root };
});

describe('--annotation-file=~/... and --junit=~/...', () => {
  it('reads the annotations and writes the JUnit report in the home folder', async () => {
    const run = await runCli(['push', 'hello', '--oci-layout', 'layout', '--annotation-file=~/annotations.json', '--junit=~/junit.xml'], { cwd: w.root, env: { HOME: join(w.root, 'home') } });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(existsSync(join(w.root, '~'))).toBe(false);
    expect(await readFile(join(w.root, 'home/junit.xml'), 'utf8')).toContain('<testcase name="hello:1.0.0"');
    const inspect = await runCli(['inspect', 'hello:1.0.0', '--oci-layout', 'layout', '--json'], { cwd: w.root });
    const manifest = (JSON.parse(inspect.stdout) as { manifest: { content: { annotations?: Record<string, string> } } }).manifest.content;
    expect(manifest.annotations?.['org.opencontainers.image.source']).toBe('https://example.com/packs');
  });
});
