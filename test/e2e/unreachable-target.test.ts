import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedRegistry } from '../support/registry.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';
import { hurryRetries } from '../support/clock.js';

hurryRetries();

describe('a target that cannot be reached', () => {
  const w = setup(async (stack) => {
    const registry = await sharedRegistry();
    const root = await stack.tempDir();
    const packs = [];
    for (let i = 0; i < 12; i++) packs.push(await writePack(join(root, `p${i}`), { name: `down-${i}`, version: '1.0.0' }));
    return { registry, root, packs };
  });

  it('fails the remaining packs at once, and says so once with the number of packs it stopped', async () => {
    const run = await runCli(['push', ...w.packs, '--registry', '127.0.0.1:1/base', '--concurrency', '2']);
    expect(run.code).toBe(1);
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^FAILED registry 127\.0\.0\.1:1\/base: connection refused by 127\.0\.0\.1:1.* \(stopped 12 packs: down-0:1\.0\.0, down-1:1\.0\.0, down-10:1\.0\.0 and 9 more\)$/);
    expect(lines[1]).toMatch(/^ {2}hint: /);
    expect(run.stdout).toContain('12 pack(s) to registry 127.0.0.1:1/base: 12 failed');

    // The report still tells each pack's story: the one pack whose lookup found the target down (after its
    // retries), then the eleven failed at once: lookups started meanwhile wait for that first answer.
    const json = await runCli(['push', ...w.packs, '--registry', '127.0.0.1:1/base', '--concurrency', '2', '--json']);
    const results = (JSON.parse(json.stdout) as { results: Array<{ error: { message: string } }> }).results;
    expect(results.filter((r) => r.error.message.includes('not attempted: registry 127.0.0.1:1/base failed earlier in this run')).length).toBe(11);
    expect(json.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('does not hold back the other targets of the same run', async () => {
    const run = await runCli(['push', ...w.packs.slice(0, 3), '--registry', `${w.registry.host}/${w.registry.base}/good`, '--registry', '127.0.0.1:1/down', '--json']);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as { results: Array<{ target: string; status: string }> };
    const byTarget = (t: string) => report.results.filter((r) => r.target.includes(t)).map((r) => r.status);
    expect(byTarget('/good')).toEqual(['published', 'published', 'published']);
    expect(byTarget('/down')).toEqual(['failed', 'failed', 'failed']);
  });
});
