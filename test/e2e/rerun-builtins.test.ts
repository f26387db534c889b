import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectRun, runBin, runCli } from '../support/cli.js';
import { writeValidPack } from '../support/packs.js';
import { pushStatuses, rerunTree } from '../support/push-setup.js';
import { setup, stage } from '../support/stage.js';

/*
 * Node compiles a built-in module that loads after a V8 flag changed from its source instead of its code cache
 * (bin/packpub.js sets its flags just before a push's first request): each such module costs a re-run of an
 * unchanged tree CPU it need not spend (issue 16). The built CLI, as users and the bench run it, records
 * through NODE_OPTIONS (as a user could give it) which built-ins its main thread loaded after the first flag.
 */

/** Records which built-ins the main thread loaded after the first V8 flag (given through NODE_OPTIONS). */
const PRELOAD = fileURLToPath(new URL('../fixtures/node-options/builtins-after-flags.cjs', import.meta.url));

const world = setup((stack) => rerunTree(stack, 2, { seed: 23, prefix: 'rerun-builtins' }));

describe('a re-run of an unchanged tree', () => {
  it('loads every built-in module of its main thread before the V8 flags are set, and pushes nothing', async () => {
    const { work } = world;
    const args = world.pushArgs();
    // The first push fills the cache the re-run reads; the re-run is the process under test (in-process, the
    // same code without a process start).
    const first = await runCli(args, { env: work.env });
    expectRun(first, { code: 0 });
    expect(pushStatuses(first.stdout)).toEqual(['published', 'published']);

    const log = join(work.root, 'builtins.jsonl');
    const again = await runBin(args, { env: { ...work.env, NODE_OPTIONS: `--require=${JSON.stringify(PRELOAD)}`, PACKPUB_TEST_BUILTINS_LOG: log } });
    expectRun(again, { code: 0 });
    const report = JSON.parse(again.stdout) as { summary: { unchanged: number; uploadedBytes: number }; results: Array<{ status: string }> };
    expect(report.results.map((r) => r.status)).toEqual(['unchanged', 'unchanged']);
    expect(report.summary.uploadedBytes).toBe(0);
    const recorded = JSON.parse((await readFile(log, 'utf8')).trim()) as { flagged: boolean; after: string[] };
    // The flags were set (the check below would hold trivially without them), and nothing loaded afterwards:
    // not Node's HTTP modules (undici's), nor the recursive remover of the run's empty work folder.
    expect(recorded.flagged).toBe(true);
    expect(recorded.after).toEqual([]);
  });

  it('with deprecations pending (NODE_OPTIONS), still unchanged and quiet: the check does not use the deprecated process.binding then', async () => {
    const { work } = world;
    const args = world.pushArgs();
    const first = await runCli(args, { env: work.env });
    expectRun(first, { code: 0 });
    // --pending-deprecation makes process.binding warn (DEP0111) on stderr.
    const again = await runBin(args, { env: { ...work.env, NODE_OPTIONS: '--pending-deprecation' } });
    expectRun(again, { code: 0, stderr: '' });
    expect(pushStatuses(again.stdout)).toEqual(['unchanged', 'unchanged']);
  });
});

describe('a one-pack validate and build', () => {
  const stack = stage();
  it('load every built-in module of their main thread before the V8 flags are set (validate: crypto, fs/promises, zlib)', async () => {
    const root = await stack.tempDir('packpub-builtins-');
    const pack = await writeValidPack(join(root, 'web'));
    const log = join(root, 'builtins.jsonl');
    const env = { NODE_OPTIONS: `--require=${JSON.stringify(PRELOAD)}`, PACKPUB_TEST_BUILTINS_LOG: log };
    expectRun(await runBin(['validate', pack], { env }), { code: 0, stdout: ['web', 'passed'] });
    const archive = join(root, 'web.tgz');
    expectRun(await runBin(['build', pack, '-o', archive], { env }), { code: 0 });
    expect((await readFile(archive)).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    const recorded = (await readFile(log, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { flagged: boolean; after: string[] });
    expect(recorded).toEqual([
      { flagged: true, after: [] },
      { flagged: true, after: [] },
    ]);
  });

  it('nor do a list and an inspect of an OCI layout (bin/packpub.js loads their fs/promises and zlib first)', async () => {
    const root = await stack.tempDir('packpub-builtins-');
    const pack = await writeValidPack(join(root, 'web'));
    const layout = join(root, 'layout');
    expectRun(await runCli(['push', pack, '--oci-layout', layout]), { code: 0 });
    const log = join(root, 'builtins.jsonl');
    const env = { NODE_OPTIONS: `--require=${JSON.stringify(PRELOAD)}`, PACKPUB_TEST_BUILTINS_LOG: log };
    expectRun(await runBin(['list', '--oci-layout', layout], { env }), { code: 0, stdout: ['web', '1.0.0'] });
    expectRun(await runBin(['inspect', 'web:1.0.0', '--oci-layout', layout], { env }), { code: 0, stdout: ['web', 'pack.json'] });
    const recorded = (await readFile(log, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { flagged: boolean; after: string[] });
    expect(recorded).toEqual([
      { flagged: true, after: [] },
      { flagged: true, after: [] },
    ]);
  });
});
