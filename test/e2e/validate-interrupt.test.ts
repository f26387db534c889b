import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, spawnCli, waitFor } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * `packpub validate` interrupted while it checks packs: the main thread reads pack files with blocking calls,
 * so its checks never let the event loop turn, and the CLI's SIGINT/SIGTERM handler (exit 130, src/cli/main.ts)
 * ran only once every pack was checked and printed (pack-central's 220 packs: 15 s after the signal). Through
 * the built CLI, with a module loaded first (--require) that holds the main thread at the first pack.json it
 * opens until the test has sent the signal, so the signal always arrives while packs are being checked.
 */

const world = setup(async (stack) => {
  const root = await stack.tempDir('packpub-validate-interrupt-');
  const dirs: string[] = [];
  for (let i = 0; i < 6; i++) dirs.push(await writePack(join(root, `p${i}`), { name: `stop-${i}`, version: '1.0.0' }));
  const logger = join(root, 'hold-first-pack.cjs');
  await writeFile(
    logger,
    `const fs = require('node:fs');
const { isMainThread } = require('node:worker_threads');
const open = fs.openSync;
let held = false;
fs.openSync = function (path, ...rest) {
  if (isMainThread && !held && typeof path === 'string' && path.endsWith('/pack.json')) {
    held = true;
    fs.appendFileSync(process.env.PACKPUB_TEST_LOG, 'opened\\n');
    // Held (up to 20 s) until the test says it has sent the signal.
    const pause = new Int32Array(new SharedArrayBuffer(4));
    const until = Date.now() + 20000;
    while (Date.now() < until && !fs.existsSync(process.env.PACKPUB_TEST_SENT)) Atomics.wait(pause, 0, 0, 5);
  }
  return open.call(this, path, ...rest);
};
`,
  );
  return { root, dirs, logger };
});

describe('packpub validate interrupted', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('%s while packs are checked: exit 130 after the pack being checked, no results printed (was: every pack checked and printed first)', async (sig) => {
    const log = join(world.root, `log-${sig}.txt`);
    const sent = join(world.root, `sent-${sig}`);
    await writeFile(log, '');
    const run = spawnCli(['validate', ...world.dirs], { nodeArgs: ['--require', world.logger], env: { PACKPUB_TEST_LOG: log, PACKPUB_TEST_SENT: sent } });
    await waitFor(async () => (await readFile(log, 'utf8')).includes('opened'), 'validate to open its first pack.json');
    run.child.kill(sig);
    await writeFile(sent, '');
    const done = await run.done;
    expect(done.signal, done.stderr).toBe(null);
    expectRun(done, { code: 130, stdout: '', stderr: [`${sig}: interrupted`] });
  });
});
