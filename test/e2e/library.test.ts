import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { discoverPacks, listPacks, openTarget, pushPacks, type PushEvent } from '../../src/index.js';
import { tempDir } from '../support/files.js';
import { writePack } from '../support/packs.js';
import { runChildText } from '../support/spawner.js';

describe('the library API', () => {
  it('publishes a tree of packs without the CLI, emitting progress events', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await writePack(join(dir, 'packs/a'), { name: 'lib-a', version: '1.0.0' });
      await writePack(join(dir, 'packs/nested/b'), { name: 'lib-b', version: '0.2.0' });
      const target = await openTarget({ ociLayout: join(dir, 'store') });
      const events: PushEvent['type'][] = [];
      const packs = await discoverPacks(['packs'], { recursive: true, cwd: dir });
      const report = await pushPacks(target, { packs, onEvent: (e) => events.push(e.type) });
      expect(report.summary.published).toBe(2);
      expect(events).toContain('archive-built');
      expect(events.filter((e) => e === 'pack-done')).toHaveLength(2);
      const listed = await listPacks(target);
      expect(listed.map((p) => `${p.name}:${p.versions.map((v) => v.version).join(',')}`)).toEqual(['lib-a:1.0.0', 'lib-b:0.2.0']);
      await target.store.close();
    } finally {
      await cleanup();
    }
  });

  it('is importable by its package name from the built output', async () => {
    const { stdout } = await runChildText(process.execPath, ['--input-type=module', '-e', "import('packpub').then((m) => console.log(typeof m.pushPacks, typeof m.openTarget))"], {
      cwd: join(import.meta.dirname, '../..'),
    });
    expect(stdout.trim()).toBe('function function');
  });

  it('is loadable by require() from a CommonJS program (Node 20.19+ and 22.12+ load an ES module that way)', async () => {
    // Before, `exports` named only the "import" condition: require('packpub') failed with ERR_PACKAGE_PATH_NOT_EXPORTED
    // on every Node, so a CommonJS script (a Jenkins step, a TypeScript project compiled to CommonJS) could not use it.
    const { stdout } = await runChildText(process.execPath, ['-e', "const m = require('packpub'); console.log(typeof m.pushPacks, typeof m.openTarget)"], {
      cwd: join(import.meta.dirname, '../..'),
    });
    expect(stdout.trim()).toBe('function function');
  });
});
