import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openTarget, pushPacks, type PushEvent } from '../../src/index.js';
import { workParent } from '../../src/operations/work-dir.js';
import { writePack } from '../support/packs.js';
import { startRecordingProxy } from '../support/recording-proxy.js';
import { sharedRegistry } from '../support/registry.js';
import { stage } from '../support/stage.js';

/*
 * A run stopped as the last verdict comes must touch no registry, report every pack as not started, and leave
 * no archive behind (the first pack's, 8 MiB that do not compress, would go to a file in the run's work folder).
 * push builds archives only once every pack has its verdict (push.ts); until 2026-12-07 it built packs that
 * passed while the others were still being checked, and a build still running then had to end before the
 * work folder was removed.
 */

const stack = stage();

describe('a push stopped while packs are built ahead of the verdicts', () => {
  it('touches no registry, reports every pack as not started, and leaves no work folder', async () => {
    const root = await stack.tempDir('packpub-ahead-abort-');
    const dirs = Array.from({ length: 6 }, (_, i) => join(root, 'packs', `p${i}`));
    for (const [i, dir] of dirs.entries()) {
      await writePack(dir, { name: `ahead-${i}`, version: '1.0.0', ...(i === 0 ? { files: { 'manifests/blob.bin': randomBytes(8 * 1024 * 1024) } } : {}) });
    }
    const registry = await sharedRegistry();
    const proxy = stack.add(await startRecordingProxy(registry.url));
    const target = await openTarget({ registry: `${proxy.host}/${registry.base}`, env: {} });
    const stop = new AbortController();
    const validated: string[] = [];
    let report;
    try {
      report = await pushPacks(target, {
        packs: dirs,
        env: {},
        signal: stop.signal,
        // The first pack is still being built when the last verdict comes: stop then.
        onEvent: (e: PushEvent) => {
          if (e.type !== 'validated') return;
          validated.push(e.dir);
          if (validated.length === dirs.length) stop.abort();
        },
      });
    } finally {
      await target.store.close();
    }
    expect(report.aborted).toBe(true);
    expect(report.results.map((r) => [r.name, r.status, r.error?.code])).toEqual(dirs.map((_, i) => [`ahead-${i}`, 'failed', 'ABORTED']));
    expect(proxy.requests.filter((r) => r.path.startsWith('/v2/'))).toEqual([]);
    // No work folder of this process is left (the run removed its own, archives included).
    const left = (await readdir(workParent()).catch(() => [] as string[])).filter((name) => name.startsWith(`${process.pid}-`));
    expect(left).toEqual([]);
  });
});
