import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GRACE_ENV, GRACE_MS, MAX_GRACE_S, interruptGraceMs } from '../../src/cli/signals.js';
import { expectRun, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { stage } from '../support/stage.js';

/*
 * PACKPUB_INTERRUPT_GRACE: the seconds packs in flight may finish in after SIGINT/SIGTERM (default 5), shorter
 * where a runner kills the step soon after its SIGTERM (Jenkins: 5 s), so that the reports are written first
 * (the signalled run itself: ci-examples-signals.test.ts). A value that is no such number is refused before
 * anything is done, as an unset CI variable must not silently mean the default.
 */

const stack = stage();

describe('PACKPUB_INTERRUPT_GRACE', () => {
  it('reads seconds from 0 to 300, fractions allowed; unset is the default 5 s', () => {
    expect(interruptGraceMs({})).toBe(GRACE_MS);
    expect(GRACE_MS).toBe(5_000);
    expect(interruptGraceMs({ [GRACE_ENV]: '2' })).toBe(2_000);
    expect(interruptGraceMs({ [GRACE_ENV]: ' 2.5\n' })).toBe(2_500);
    expect(interruptGraceMs({ [GRACE_ENV]: '0' })).toBe(0);
    expect(interruptGraceMs({ [GRACE_ENV]: String(MAX_GRACE_S) })).toBe(MAX_GRACE_S * 1000);
    for (const bad of ['', ' ', '5s', '-1', '301', '1e2', 'Infinity', '0x10', '.5']) {
      expect(() => interruptGraceMs({ [GRACE_ENV]: bad }), bad).toThrow(`PACKPUB_INTERRUPT_GRACE must be a number of seconds from 0 to 300, got "${bad}"`);
    }
  });

  it('packpub --help names it (the variables packpub reads are in --help)', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout.replace(/\s+/g, ' ')).toContain(`After SIGINT, SIGTERM or SIGHUP, work in flight may finish for ${GRACE_MS / 1000} s (${GRACE_ENV}=SECONDS: another grace`);
  });

  it.each([
    ['push', (w: { pack: string; layout: string }) => ['push', w.pack, '--oci-layout', w.layout]],
    ['delete --force', (w: { pack: string; layout: string }) => ['delete', `oci:${w.layout}/spectro-packs/archive/grace-refused:1.0.0`, '--force']],
  ])('%s with a value that is no number of seconds: exit 2 naming it, nothing published or deleted', async (_, line) => {
    const root = await stack.tempDir('packpub-grace-');
    const w = { pack: await writePack(join(root, 'pack'), { name: 'grace-refused', version: '1.0.0' }), layout: join(root, 'layout') };
    const env = { PACKPUB_CACHE_DIR: join(root, 'cache') };
    if (line(w)[0] === 'delete') expectRun(await runCli(['push', w.pack, '--oci-layout', w.layout], { env }), { code: 0 });
    const before = await readdir(join(w.layout, 'spectro-packs/archive/grace-refused')).catch(() => []);
    const run = await runCli(line(w), { env: { ...env, PACKPUB_INTERRUPT_GRACE: '5s' } });
    expectRun(run, {
      code: 2,
      stdout: '',
      stderr: ['error: PACKPUB_INTERRUPT_GRACE must be a number of seconds from 0 to 300, got "5s"', 'hint: give the seconds packs in flight may finish in after SIGINT, SIGTERM or SIGHUP (default 5), or unset PACKPUB_INTERRUPT_GRACE'],
    });
    expect(await readdir(join(w.layout, 'spectro-packs/archive/grace-refused')).catch(() => [])).toEqual(before);
  });
});
