import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

interface V8Flags {
  runFlags(validating: boolean, v8?: string): { flags: string[]; undo: string[] };
  startFlags(validating: boolean): string[];
  workerFlags(v8?: string): string[];
}
const { runFlags, startFlags, workerFlags } = createRequire(import.meta.url)('../../../bin/v8-flags.cjs') as V8Flags;

/*
 * bin/v8-flags.cjs: V8 prints "Error: unrecognized flag" for a flag it does not have (and ignores the rest of that
 * string), so each flag is set only on a V8 that has it. Which V8 has which flag was read from `node --v8-options`
 * of Node 20.20 (V8 11.3), 21.7 (11.8), 22.23 (12.4), 24.22 (13.6) and 26.12 (14.6);
 * test/e2e/node-releases.test.ts runs the CLI on 22, 24 and 26 and asserts an empty standard error.
 */
describe('the V8 flags of a run, by the V8 of the Node running it', () => {
  it("Node 20's V8 (11.3), where they were measured: the tuning flags, set back to V8's defaults by one string", () => {
    expect(runFlags(false, '11.3.244.8-node.38')).toEqual({
      flags: ['--liftoff-only', '--interrupt-budget=270336', '--semi-space-growth-factor=1'],
      undo: ['--no-liftoff-only --wasm-tier-up --wasm-dynamic-tiering --interrupt-budget=67584 --semi-space-growth-factor=2'],
    });
    expect(runFlags(true, '11.3.244.8-node.38')).toEqual({
      flags: ['--liftoff-only', '--interrupt-budget=540672', '--semi-space-growth-factor=1', '--no-use-osr'],
      undo: ['--no-liftoff-only --wasm-tier-up --wasm-dynamic-tiering --interrupt-budget=67584 --semi-space-growth-factor=2 --use-osr'],
    });
    expect(workerFlags('11.3.244.8-node.23')).toEqual(['--liftoff-only', '--interrupt-budget=540672']);
  });

  it.each(['11.8.172.17-node.20', '12.4.254.21-node.57', '13.6.233.17-node.63', '14.6.202.34-node.40'])('V8 %s (no --interrupt-budget): --liftoff-only alone', (v8) => {
    for (const validating of [false, true]) expect(runFlags(validating, v8)).toEqual({ flags: ['--liftoff-only'], undo: ['--no-liftoff-only --wasm-tier-up --wasm-dynamic-tiering'] });
    expect(workerFlags(v8)).toEqual(['--liftoff-only']);
  });

  it("before validate's first worker starts, on every V8 (each has the flag): its workers compile hot functions on their own thread; a push sets none", () => {
    expect(startFlags(true)).toEqual(['--no-concurrent-recompilation']);
    expect(startFlags(false)).toEqual([]);
  });
});
