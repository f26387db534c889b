import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { type CliRun, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { startRegistry } from '../support/registry.js';
import { RegistryReader } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';

/*
 * What a new user meets following README.md, docs/ and --help against a real registry (htpasswd): each case is a
 * statement of the docs or a message found untrue or misleading on that walk, with the run's exit code, its
 * words and what the registry holds afterwards.
 */

const USER = 'journey';
const PASSWORD = `pw-${Math.random().toString(36).slice(2)}-journey`;

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-journey-');
  const registry = stack.add(await startRegistry({ auth: 'htpasswd', users: { [USER]: PASSWORD } }));
  const pack = await writePack(join(root, 'pack'), { name: 'journey', version: '1.0.0' });
  return { root, registry, pack, reader: new RegistryReader(registry.url, { username: USER, password: PASSWORD }) };
});

describe('push --json-lines', () => {
  it('prints one result line for a pack that failed within a millisecond (docs/report.md: a result line as each pack finishes)', async () => {
    // A remembered pack whose look-up is refused fails in under a millisecond (durationMs 0), which the end of
    // the run took for a pack that never started, and printed again. A clock standing still makes every
    // failure that fast.
    const now = Date.now();
    const clock = vi.spyOn(Date, 'now').mockReturnValue(now);
    let run: CliRun;
    try {
      run = await runCli(['push', w.pack, '--registry', `${w.registry.host}/lines`, '--json-lines'], { env: { DOCKER_CONFIG: join(w.root, 'no-docker') } });
    } finally {
      clock.mockRestore();
    }
    expect(run.code).toBe(1);
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; status?: string; durationMs: number; error?: { code: string } });
    expect(lines.map((l) => `${l.type} ${l.status ?? ''}`)).toEqual(['result failed', 'summary ']);
    expect(lines[0]?.durationMs).toBe(0);
    expect(lines[0]?.error?.code).toBe('AUTH');
    expect(run.stderr).toContain(`authentication required by ${w.registry.host}`);
    expect((await w.reader.catalog()).filter((r) => r.startsWith('lines/'))).toEqual([]);
  });
});
