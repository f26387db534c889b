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

  // One Node process loads the built package both ways, each way's outcome on a line of its own: loading it costs
  // ~0.4 CPU-s a process. require() first (synchronously), then import(), which resolves the "import" condition
  // on its own (a wrong path there fails it) and finds the module require() loaded.
  let loaded: Promise<string> | undefined;
  const loadedBothWays = () =>
    (loaded ??= runChildText(
      process.execPath,
      [
        '-e',
        [
          "try { const m = require('packpub'); console.log('require', typeof m.pushPacks, typeof m.openTarget); } catch (err) { console.log('require', 'failed', err.code); }",
          "import('packpub').then((m) => console.log('import', typeof m.pushPacks, typeof m.openTarget), (err) => console.log('import', 'failed', err.code));",
        ].join(' '), // one line: the script is what the CPU meter (support/cpu-meter.ts) names the process by
      ],
      { cwd: join(import.meta.dirname, '../..') },
    ).then(({ stdout }) => stdout));
  const lineOf = async (way: string) => (await loadedBothWays()).split('\n').find((l) => l.startsWith(`${way} `));

  it('is importable by its package name from the built output', async () => {
    expect(await lineOf('import')).toBe('import function function');
  });

  it('is loadable by require() from a CommonJS program (Node 20.19+ and 22.12+ load an ES module that way)', async () => {
    // Before, `exports` named only the "import" condition: require('packpub') failed with ERR_PACKAGE_PATH_NOT_EXPORTED
    // on every Node, so a CommonJS script (a Jenkins step, a TypeScript project compiled to CommonJS) could not use it.
    expect(await lineOf('require')).toBe('require function function');
  });
});
