import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * A pack named by its repository path without a location (`spectro-packs/archive/hello:1.0.0`, as a registry's
 * web page lists it) was looked up as a pack named "spectro-packs/archive/hello": "does not exist", exit 1,
 * though the target holds it. Now it is the pack of the target the flags name.
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-pack-ref-ns-');
  await writePack(join(root, 'hello'), { name: 'hello', version: '1.0.0' });
  const push = await runCli(['push', 'hello', '--oci-layout', 'layout'], { cwd: root });
  expect(push.code, push.stderr).toBe(0);
  return { root };
});

describe('spectro-packs/archive/<name>:<version> names the pack', () => {
  it('inspect and pull find it in the target the flags name', async () => {
    const inspect = await runCli(['inspect', 'spectro-packs/archive/hello:1.0.0', '--oci-layout', 'layout'], { cwd: w.root });
    expect(inspect.stderr).toBe('');
    expect(inspect.code).toBe(0);
    expect(inspect.stdout.split('\n')[0]).toMatch(/^oci:\S*layout\/spectro-packs\/archive\/hello:1\.0\.0$/);
    const pull = await runCli(['pull', 'spectro-packs/archive/hello:1.0.0', '--oci-layout', 'layout', '-o', 'out'], { cwd: w.root });
    expect(pull.code, pull.stderr).toBe(0);
    expect((await runCli(['validate', 'out'], { cwd: w.root })).code).toBe(0);
  });
});
