import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { listPackEntries } from '../../../src/archive/index.js';
import { COARSE_RACY_MARGIN_MS, RACY_MARGIN_MS, settledBefore } from '../../../src/archive/walk.js';
import { SMALL_PACK } from './fixtures.js';
import { writeFiles } from '../../support/files.js';
import { stage } from '../../support/stage.js';

/*
 * The racy-clean rule on file systems that keep whole seconds (src/archive/walk.ts settledBefore). FAT stamps a
 * file with the start of its 2 s tick: a file written at 10.1 s reads 10 s. With one margin of 1 s for every file
 * system, a walk at 11.5 s (cutoff 10.5 s) recorded its signature; a same-size rewrite at 11.8 s (a version's last
 * digit) still reads 10 s, ctime too, and the next run took the pack as unchanged: exit 0, the old content left
 * published. An entry whose mtime and ctime are both whole seconds now needs 3 s; fine times keep 1 s (the wait a
 * re-run test makes, and what an edit just before a run costs, stay as they were).
 */

const temp = stage();
afterEach(() => vi.useRealTimers());

describe('settledBefore', () => {
  const walkAt = 1_700_000_011_500; // 11.5 s into a minute: 1.5 s into a FAT tick that began at 10 s
  const cutoff = walkAt - RACY_MARGIN_MS;

  it('whole-second times (FAT, ext3, HFS+): a change stamped within 3 s of the walk has no signature (was: recorded after 1 s)', () => {
    const fat = { mtimeMs: 1_700_000_010_000, ctimeMs: 1_700_000_010_000 };
    expect(Math.max(fat.mtimeMs, fat.ctimeMs) < cutoff).toBe(true); // what the one 1 s margin took as settled
    expect(settledBefore(fat, cutoff)).toBe(false);
    expect(settledBefore(fat, fat.mtimeMs + COARSE_RACY_MARGIN_MS - RACY_MARGIN_MS)).toBe(false);
    expect(settledBefore(fat, fat.mtimeMs + COARSE_RACY_MARGIN_MS - RACY_MARGIN_MS + 1)).toBe(true);
  });

  it('fine times (ext4, tmpfs): 1 s, as before; a whole-second mtime with a fine ctime (touch -d, tar -x) counts as fine', () => {
    expect(settledBefore({ mtimeMs: 1_700_000_010_123.4, ctimeMs: 1_700_000_010_123.4 }, cutoff)).toBe(true);
    expect(settledBefore({ mtimeMs: 1_700_000_010_000, ctimeMs: 1_700_000_010_250.5 }, cutoff)).toBe(true);
    expect(settledBefore({ mtimeMs: 1_700_000_010_600.5, ctimeMs: 1_700_000_010_600.5 }, cutoff)).toBe(false);
  });

  it('a time in the future (a file server ahead of this clock) is never settled', () => {
    expect(settledBefore({ mtimeMs: walkAt + 60_000, ctimeMs: walkAt + 60_000 }, cutoff)).toBe(false);
  });
});

describe('the walk on this machine (fine times)', () => {
  it('records a signature for a file changed 1.2 s before the walk, none at 0.8 s', async () => {
    const dir = join(await temp.tempDir(), 'hello-pack');
    await writeFiles(dir, SMALL_PACK);
    const changed = (await stat(join(dir, 'values.yaml'))).ctimeMs;
    expect(changed % 1000).not.toBe(0);
    vi.useFakeTimers({ toFake: ['Date'] });
    const signed = async (afterMs: number) => {
      vi.setSystemTime(Math.ceil(changed) + afterMs);
      const entries = await listPackEntries(dir);
      return entries.find((e) => e.relativePath === 'values.yaml')?.signature !== undefined;
    };
    expect(await signed(1200)).toBe(true);
    expect(await signed(800)).toBe(false);
  });
});
