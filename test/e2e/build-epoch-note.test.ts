import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * build says when its manifest digest holds the current time. SOURCE_DATE_EPOCH set but empty (a CI variable that
 * was not set, passed on as "") stamps the current time as unset does, and build said nothing: two builds of the
 * same pack then printed different manifest digests with no word why.
 */

const NOTE = '  note: the manifest digest includes the current time; set SOURCE_DATE_EPOCH for a reproducible one\n';

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-build-epoch-');
  return { root, pack: await writePack(join(root, 'pack'), { name: 'epoch', version: '1.0.0' }) };
});

describe('build and SOURCE_DATE_EPOCH', () => {
  it.each([
    ['unset: the note on the current time', undefined, true],
    ['set but empty: the note on the current time (was: none)', '', true],
    ['a timestamp: no note', '946684800', false],
  ] as const)('%s', async (_what, epoch, noted) => {
    const out = join(w.root, `out-${String(epoch)}.tar.gz`);
    const run = await runCli(['build', w.pack, '-o', out], { env: epoch === undefined ? {} : { SOURCE_DATE_EPOCH: epoch } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.startsWith(`built ${out}\n`)).toBe(true);
    expect(run.stdout.endsWith(NOTE)).toBe(noted);
  });
});
