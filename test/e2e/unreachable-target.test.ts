import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { tempDir, writePack } from '../support/packs.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';

describe('a target that cannot be reached', () => {
  let registry: RunningRegistry;
  let root: string;
  let cleanup: () => Promise<void>;
  let packs: string[];

  beforeAll(async () => {
    registry = await startRegistry();
    ({ dir: root, cleanup } = await tempDir());
    packs = [];
    for (let i = 0; i < 12; i++) packs.push(await writePack(join(root, `p${i}`), { name: `down-${i}`, version: '1.0.0' }));
  });
  afterAll(async () => {
    await registry?.stop();
    await cleanup?.();
  });

  it('fails the remaining packs at once with one explanation, instead of retrying each', async () => {
    const run = await runCli(['push', ...packs, '--registry', '127.0.0.1:1/base', '--concurrency', '2']);
    expect(run.code).toBe(1);
    const failed = run.stderr.split('\n').filter((l) => l.startsWith('FAILED '));
    expect(failed).toHaveLength(12);
    expect(failed.filter((l) => l.includes('connection refused by 127.0.0.1:1')).length).toBeGreaterThanOrEqual(1);
    expect(failed.filter((l) => l.includes('not attempted: registry 127.0.0.1:1/base failed earlier in this run')).length).toBeGreaterThanOrEqual(9);
  });

  it('does not hold back the other targets of the same run', async () => {
    const run = await runCli(['push', ...packs.slice(0, 3), '--registry', `${registry.host}/good`, '--registry', '127.0.0.1:1/down', '--json']);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as { results: Array<{ target: string; status: string }> };
    const byTarget = (t: string) => report.results.filter((r) => r.target.includes(t)).map((r) => r.status);
    expect(byTarget('/good')).toEqual(['published', 'published', 'published']);
    expect(byTarget('/down')).toEqual(['failed', 'failed', 'failed']);
  });
});
