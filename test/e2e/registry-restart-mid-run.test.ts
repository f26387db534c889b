import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { useRetryClock, systemClock } from '../../src/registry/retry.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { startRecordingProxy } from '../support/recording-proxy.js';
import { RegistryReader } from '../support/registry-reader.js';
import { startRegistry } from '../support/registry.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';

/*
 * chaos s22 F6: a registry restarted mid-run (a rolling update; down for a moment, then up on the same address)
 * refuses connections meanwhile. A refused connection was never retried, so the run failed every pack left
 * ("connection refused ... (stopped N packs)", exit 1). Now a host that answered earlier in this run is retried
 * when it refuses (nothing was sent: safe), within --retry-attempts and --retry-deadline; one that never
 * answered still fails at once (a wrong host or port).
 *
 * The address packpub uses is a TCP relay (here) in front of a recording proxy in front of the registry. The proxy
 * drops the connection of one request (a reset) and the relay stops listening at that moment, as a registry
 * process that died; the registry comes back while packpub waits before its next attempt (the retry clock's
 * sleep listens again): a point the run itself reaches, not a time.
 */

/** A TCP relay on 127.0.0.1 that can stop listening (connections refused) and listen again on the same port. */
async function relay(to: number): Promise<{ port: number; down: () => void; up: () => Promise<void>; isDown: () => boolean; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  let down = false;
  const listen = async () => {
    server = createServer((client) => {
      const upstream = connect(to, '127.0.0.1');
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server?.listen(port, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
    down = false;
  };
  await listen();
  return {
    port,
    down: () => {
      down = true;
      server?.close();
      for (const s of sockets) s.destroy();
    },
    up: listen,
    isDown: () => down,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => (server?.listening === true ? server.close(() => resolve()) : resolve()));
    },
  };
}

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-restart-');
  const registry = stack.add(await startRegistry());
  const proxy = stack.add(await startRecordingProxy(registry.host));
  const link = await relay(Number(proxy.host.split(':')[1]));
  stack.add({ close: link.close });
  const packs = await Promise.all(['aa', 'bb', 'cc'].map((name) => writePack(join(root, name), { name, version: '1.0.0' })));
  return { root, registry, proxy, link, packs, reader: new RegistryReader(registry.url), R: `127.0.0.1:${link.port}/src` };
});

// The registry comes back while packpub waits after its first refused attempt: the wait after the dropped
// connection passes with the address still refusing, so the next attempt is refused.
let waitsWhileDown = 0;
let waits = 0;
const undo = useRetryClock({
  ...systemClock,
  sleep: async (_ms, signal) => {
    waits++;
    if (w.link.isDown() && ++waitsWhileDown === 2) await w.link.up();
    await systemClock.sleep(0, signal);
  },
});
afterAll(() => undo());

describe('a registry that goes away mid-run and comes back', () => {
  it('push: the packs after it are published, exit 0 (was: "connection refused ... (stopped N packs)", exit 1)', async () => {
    // bb's manifest PUT: the registry dies as it arrives (the connection dropped, the address refusing).
    let fired = false;
    w.proxy.onRequest = (r) => {
      if (fired || r.kind !== 'manifest-put' || !r.path.includes('/archive/bb/')) return 'pass';
      fired = true;
      waitsWhileDown = 0;
      w.link.down();
      return 'reset';
    };
    const run = await runCli(['push', ...w.packs, '--registry', w.R, '--concurrency', '1']);
    expect(fired).toBe(true);
    expect(waitsWhileDown).toBe(2); // after the drop, then after the refused attempt
    expect(run.code, `${run.stdout}${run.stderr}`).toBe(0);
    expect(stackLines(run.stderr)).toEqual([]);
    expect(run.stdout).toContain('3 published');
    for (const name of ['aa', 'bb', 'cc']) expect(await w.reader.tags(`src/spectro-packs/archive/${name}`)).toEqual(['1.0.0']);
  });

  it('a registry that never answered in this run: refused at once, not retried', async () => {
    w.proxy.onRequest = undefined;
    w.link.down();
    waits = 0;
    try {
      const run = await runCli(['list', '--registry', w.R]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`connection refused by 127.0.0.1:${w.link.port}\n`);
      expect(waits).toBe(0); // not retried
    } finally {
      await w.link.up();
    }
  });
});
