import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { RegistryReader } from '../support/registry-reader.js';
import { startRegistry } from '../support/registry.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';

/*
 * A registry in read-only mode (distribution's storage.maintenance.readonly, set for a migration or a storage
 * repair) answers every write `405 Method Not Allowed`, `Allow: GET, HEAD`, with no OCI error. A push said
 * "answered 405 (POST ...)", hint "does not allow this operation": neither the mode nor what to do.
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-read-only-');
  const registry = stack.add(await startRegistry({ readOnly: true }));
  return { root, registry, reader: new RegistryReader(registry.url) };
});

describe('a registry in read-only mode', () => {
  it('push: exit 1 naming the 405 and the methods it takes, hint read-only mode or a mirror; nothing written, reads still answer', async () => {
    const dir = await writePack(join(w.root, 'ro'), { name: 'ro', version: '1.0.0' });
    const run = await runCli(['push', dir, '--registry', `${w.registry.host}/base`, '--no-cache']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`FAILED ro:1.0.0: ${w.registry.host} answered 405 (POST http://${w.registry.host}/v2/base/spectro-packs/archive/blobs/uploads/)\n`);
    expect(run.stderr).toContain(`  hint: ${w.registry.host} takes only GET, HEAD there: a registry in read-only mode (distribution: storage.maintenance.readonly), or a mirror (pull-through cache) or proxy that takes no pushes; push to a registry that takes writes, or ask its owner to end the read-only mode\n`);
    expect(stackLines(run.stderr)).toEqual([]);
    expect(await w.reader.tags('base/spectro-packs/archive/ro')).toEqual([]);
    const list = await runCli(['list', 'ro', '--registry', `${w.registry.host}/base`]);
    expect(list.code, list.stderr).toBe(0);
  });
});
