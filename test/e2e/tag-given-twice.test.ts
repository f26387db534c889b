import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { startRecordingProxy } from '../support/recording-proxy.js';
import { RegistryReader } from '../support/registry-reader.js';
import { startRegistry } from '../support/registry.js';
import { setup } from '../support/stage.js';

/* `packpub tag hello:1.0.0 stable stable`: the tag was written twice and "tagged as stable" printed twice. */

const REPO = 'src/spectro-packs/archive/hello';
const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-tag-twice-');
  const registry = stack.add(await startRegistry());
  const proxy = stack.add(await startRecordingProxy(registry.host));
  const push = await runCli(['push', await writePack(join(root, 'hello'), { name: 'hello', version: '1.0.0' }), '--registry', `${registry.host}/src`]);
  if (push.code !== 0) throw new Error(push.stderr);
  return { proxy, reader: new RegistryReader(registry.url), P: `${proxy.host}/src` };
});

describe('tag with a tag given twice', () => {
  it('writes it once and says it once', async () => {
    w.proxy.clear();
    const run = await runCli(['tag', 'hello:1.0.0', 'stable', 'stable', '1.0', 'stable', '--registry', w.P]);
    expect(run.code, run.stderr).toBe(0);
    const ref = `${w.P}/spectro-packs/archive/hello:1.0.0`;
    expect(run.stdout.split('\n').filter(Boolean).map((l) => l.replace(/ \(sha256:[0-9a-f]{64}\)/, ''))).toEqual([`${ref}: tagged as stable`, `${ref}: tagged as 1.0`]);
    expect(run.stderr).toBe('');
    expect(w.proxy.count((r) => r.kind === 'manifest-put' && r.path.endsWith('/manifests/stable'))).toBe(1);
    expect((await w.reader.tags(REPO)).sort()).toEqual(['1.0', '1.0.0', 'stable']);
  });
});
