import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * FORCE_COLOR=0 (or false) turns colours off for Node's own tty.getColorDepth and for chalk; on a terminal packpub
 * still painted its verdicts. Now it reads as NO_COLOR does: plain text, no escape codes.
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-force-color-');
  return { pack: await writePack(join(root, 'pack'), { name: 'plain', version: '1.0.0' }) };
});

describe('FORCE_COLOR on a terminal', () => {
  it('unset: the verdict is painted; 0 or false: no escape code at all', async () => {
    const painted = await runCli(['validate', w.pack], { tty: true });
    expect(painted.code, painted.stderr).toBe(0);
    expect(painted.stdout).toContain(': plain:1.0.0 \u001b[32mOK\u001b[0m\n');
    for (const off of ['0', 'false']) {
      const plain = await runCli(['validate', w.pack], { tty: true, env: { FORCE_COLOR: off } });
      expect(plain.code, plain.stderr).toBe(0);
      expect(plain.stdout).toContain(': plain:1.0.0 OK\n');
      expect(plain.stdout + plain.stderr).not.toContain('\u001b');
    }
  });
});
