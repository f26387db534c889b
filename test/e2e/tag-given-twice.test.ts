import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { setup } from '../support/stage.js';
import { publishedRegistry } from '../support/published.js';

/* `packpub tag hello:1.0.0 stable stable`: the tag was written twice and "tagged as stable" printed twice. */

const REPO = () => `${w.src}/spectro-packs/archive/hello`;
const w = setup((stack) => publishedRegistry(stack, 'packpub-tag-twice-', [{ name: 'hello', version: '1.0.0' }]));

describe('tag with a tag given twice', () => {
  it('writes it once and says it once', async () => {
    w.proxy.clear();
    const run = await runCli(['tag', 'hello:1.0.0', 'stable', 'stable', '1.0', 'stable', '--registry', w.P]);
    expect(run.code, run.stderr).toBe(0);
    const ref = `${w.P}/spectro-packs/archive/hello:1.0.0`;
    expect(run.stdout.split('\n').filter(Boolean).map((l) => l.replace(/ \(sha256:[0-9a-f]{64}\)/, ''))).toEqual([`${ref}: tagged as stable`, `${ref}: tagged as 1.0`]);
    expect(run.stderr).toBe('');
    expect(w.proxy.count((r) => r.kind === 'manifest-put' && r.path.endsWith('/manifests/stable'))).toBe(1);
    expect((await w.reader.tags(REPO())).sort()).toEqual(['1.0', '1.0.0', 'stable']);
  });
});
