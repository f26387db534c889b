import { describe, expect, it } from 'vitest';
import { spawnCli, waitFor } from '../support/cli.js';
import { publishedRegistry, silentServer } from '../support/published.js';
import type { RequestKind } from '../support/recording-proxy.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';

/*
 * hostile7 (s27; review8's left item): list and inspect interrupted while a registry that does not answer was probed,
 * or while they read (a registry slow to answer its tag list, a manifest or the archive), said `SIGINT: interrupted`
 * alone: not what they were doing. Now they stop at once saying it, `nothing was printed` (stdout stays empty, with
 * --json too: their documents are printed only on exit 0, so a partial listing never reads as the whole), exit 130.
 * PACKPUB_INTERRUPT_GRACE is not theirs: a bad one is still not refused.
 */

const GRACE_ENV = { PACKPUB_INTERRUPT_GRACE: 'soon' };

describe.concurrent('list and inspect interrupted', () => {
  const w = setup(async (stack) => ({
    reg: await publishedRegistry(stack, 'packpub-list-inspect-interrupted-', [{ name: 'hello', version: '1.0.0' }]),
    listProbe: await silentServer(stack),
    inspectProbe: await silentServer(stack),
  }));

  it('list --json: SIGINT while the registry is probed: exit 130 at once, saying so; stdout empty', async () => {
    const probe = w.listProbe;
    const result = await signalledWhen(['list', '--registry', `${probe.silent.host}/x`, '--plain-http', '--json'], () => probe.asked.length > 0, 'SIGINT');
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toContain('SIGINT: interrupted while the target was opened; nothing was printed\n');
    expect(result.stdout).toBe('');
    expect(stackLines(result.stderr)).toEqual([]);
  });

  it('inspect: SIGTERM while the registry is probed: exit 130 at once, saying so', async () => {
    const probe = w.inspectProbe;
    const result = await signalledWhen(['inspect', 'hello:1.0.0', '--registry', `${probe.silent.host}/x`, '--plain-http'], () => probe.asked.length > 0, 'SIGTERM');
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toContain('SIGTERM: interrupted while the target was opened; nothing was printed\n');
    expect(result.stdout).toBe('');
  });

  // One after the other: they share the proxy's hook.
  it.sequential.each([
    ['list', 'tags', ['list', 'hello'], 'SIGTERM: interrupted while the versions of hello were listed; nothing was printed\n'],
    ['list', 'catalog', ['list'], 'SIGTERM: interrupted while the packs were listed; nothing was printed\n'],
    ['inspect', 'blob-get', ['inspect', 'hello:1.0.0'], 'SIGTERM: interrupted while hello:1.0.0 was read; nothing was printed\n'],
  ] as const)('%s --json: SIGTERM while its %s answer is held: exit 130 at once, saying what it read; stdout empty', async (_command, kind: RequestKind, args, said) => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let holding = 0;
    const hold = (req: { kind: RequestKind }) => (req.kind === kind ? (holding++, { holdAnswer: held }) : ('pass' as const));
    w.reg.proxy.onRequest = hold;
    try {
      const result = await signalledWhen([...args, '--registry', w.reg.P, '--json'], () => holding > 0, 'SIGTERM', GRACE_ENV);
      expect(result.code, result.stderr).toBe(130);
      expect(result.stderr).toContain(said);
      expect(result.stdout).toBe('');
      expect(stackLines(result.stderr)).toEqual([]);
    } finally {
      release();
    }
  });
});

/** Run the CLI with `args` and send `signal` once `ready()` holds: the finished run. */
async function signalledWhen(args: string[], ready: () => boolean, signal: NodeJS.Signals, env: NodeJS.ProcessEnv = {}) {
  const run = spawnCli(args, { env });
  try {
    await waitFor(ready, `${args[0] ?? ''} to reach the point to interrupt`);
    run.child.kill(signal);
    return await run.done;
  } finally {
    run.child.kill('SIGKILL');
  }
}
