import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { startRecordingProxy, type RecordingProxy } from '../support/recording-proxy.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { spawnCli, waitFor } from '../support/cli.js';
import { type GeneratedPack, generatePacks } from '../support/packs.js';
import { RegistryReader } from '../support/registry-reader.js';
import { stackLines } from '../support/secrets.js';
import { stage } from '../support/stage.js';

/*
 * issue 6: on SIGINT (or SIGTERM) the CLI starts no new packs, lets the ones in flight finish, prints what
 * was and was not published and exits 130; a second signal abandons at once. Uploads go through a proxy
 * that slows them, so the run is still busy when the signal comes.
 */

describe('push interrupted by a signal', () => {
  const stack = stage();
  let registry: RunningRegistry;
  let proxy: RecordingProxy;
  let reader: RegistryReader;
  let root: string;
  let packs: GeneratedPack[];
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    root = await stack.tempDir('packpub-sigint-');
    registry = stack.add(await startRegistry());
    proxy = stack.add(await startRecordingProxy(registry.host));
    proxy.onRequest = (req) => (req.kind === 'upload-put' ? { delayMs: 400 } : 'pass');
    reader = new RegistryReader(registry.url);
    packs = await generatePacks(join(root, 'tree'), 10, { seed: 12, prefix: 'sig' });
    env = { SOURCE_DATE_EPOCH: '1700000000', PACKPUB_CACHE_DIR: join(root, 'cache') };
  });

  const push = (base: string) =>
    spawnCli(['push', join(root, 'tree'), '--recursive', '--registry', `${proxy.host}/${base}`, '--concurrency', '2'], { env });

  it.each(['SIGINT', 'SIGTERM'] as const)('on %s: finishes the packs in flight, says what was and was not published, exits 130', async (signal) => {
    const base = signal.toLowerCase();
    const run = push(base);
    await waitFor(() => run.stdout().includes('published '), 'the first published pack');
    run.child.kill(signal);
    const result = await run.done;

    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toContain(`${signal}: starting no new work; what is in flight may finish`);
    expect(stackLines(result.stderr)).toEqual([]);
    const published = packs.filter((p) => result.stdout.includes(`published ${p.name}:${p.version} -> `));
    const notStarted = packs.filter((p) => result.stderr.includes(`FAILED ${p.name}:${p.version}: not started: the run was stopped`));
    expect(published.length).toBeGreaterThan(0);
    expect(notStarted.length).toBeGreaterThan(0);
    expect(published.length + notStarted.length).toBe(packs.length); // every pack accounted for, once
    expect(result.stdout).toContain(`${packs.length} pack(s) to registry ${proxy.host}/${base}: ${published.length} published, ${notStarted.length} failed`);

    // The registry holds exactly what was reported published, intact.
    const holdings = await reader.holdings(base);
    expect(holdings.problems).toEqual([]);
    expect([...holdings.tags.keys()].sort()).toEqual(published.map((p) => `${base}/spectro-packs/archive/${p.name}:${p.version}`).sort());

    // The next run completes the work.
    const again = await push(base).done;
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`${published.length} unchanged`);
    expect((await reader.holdings(base)).tags.size).toBe(packs.length);
  });

  it('on a second SIGINT: abandons the requests in flight at once, exits 130, leaves no broken tag', async () => {
    const run = push('twice');
    await waitFor(() => proxy.count((r) => r.kind === 'upload-put' && r.path.includes('/twice/')) > 0, 'the first upload');
    run.child.kill('SIGINT');
    await waitFor(() => run.stderr().includes('SIGINT: starting no new work'), 'the first signal to be seen');
    run.child.kill('SIGINT');
    const result = await run.done;
    expect(result.code).toBe(130);
    expect(result.stderr).toContain('SIGINT again: abandoning requests in flight; no tag was written for unfinished packs');
    const holdings = await reader.holdings('twice');
    expect(holdings.problems).toEqual([]);
    expect(holdings.tags.size).toBeLessThan(packs.length);
  });
});
