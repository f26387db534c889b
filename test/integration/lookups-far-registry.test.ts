import { createServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openTarget, pushPacks } from '../../src/index.js';
import { LOOKUPS_AT_FIRST, LOOKUPS_AT_MOST } from '../../src/operations/lookup-pace.js';
import { generatePacks } from '../support/packs.js';
import { settledPastRacyMargin } from '../support/push-setup.js';
import { sharedRegistry } from '../support/registry.js';
import { stage } from '../support/stage.js';

/*
 * A re-run looks every remembered pack up before checking its folder (push.ts), a few at a time while the
 * registry answers at once (lookup-pace.ts). A registry far away must still get as many at once as before:
 * here every byte between packpub and the registry takes DELAY_MS each way, and the re-run must confirm every
 * pack (exit-0 rule: each looked up on the registry) over more than the few connections it starts with.
 */

const stack = stage();
/** One-way delay of the forwarder in front of the registry: a round trip of 2 x DELAY_MS, a registry over a WAN. */
const DELAY_MS = 20;
const PACKS = 40;

/** A TCP forwarder to `port` that holds every chunk DELAY_MS each way (order kept) and counts connections open at once. */
async function farAway(port: number): Promise<{ host: string; mostAtOnce: () => number }> {
  let open = 0;
  let most = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    open++;
    most = Math.max(most, open);
    const upstream = connect(port, '127.0.0.1');
    for (const s of [client, upstream]) sockets.add(s);
    const relay = (from: Socket, to: Socket) => {
      from.on('data', (chunk) => setTimeout(() => to.write(chunk), DELAY_MS));
      from.on('end', () => setTimeout(() => to.end(), DELAY_MS));
      from.on('error', () => to.destroy());
    };
    relay(client, upstream);
    relay(upstream, client);
    client.on('close', () => {
      open--;
      upstream.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stack.defer(() => {
    for (const s of sockets) s.destroy();
    return new Promise((resolve) => server.close(resolve));
  });
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, mostAtOnce: () => most };
}

describe('the early look-ups of a re-run against a registry far away', () => {
  it('confirms every unchanged pack with more look-ups in flight than it starts with', async () => {
    const root = await stack.tempDir('packpub-far-lookups-');
    const packs = await generatePacks(join(root, 'packs'), PACKS, { prefix: 'far', payloadBytes: [100, 400] });
    await settledPastRacyMargin(join(root, 'packs'));
    const cacheDir = join(root, 'cache');
    const registry = await sharedRegistry();
    const push = async (host: string) => {
      const target = await openTarget({ registry: `${host}/${registry.base}`, env: {} });
      try {
        return await pushPacks(target, { packs: packs.map((p) => p.dir), cacheDir, env: {} });
      } finally {
        await target.store.close();
      }
    };
    expect(new Set((await push(registry.host)).results.map((r) => r.status))).toEqual(new Set(['published']));

    const far = await farAway(Number(registry.host.split(':')[1]));
    const again = await push(far.host);
    expect(again.results.map((r) => [r.name, r.status])).toEqual(packs.map((p) => [p.name, 'unchanged']));
    // A look-up in flight holds a connection of its own. Kept to the first few, a run opened 11-14 here (a
    // connection is handed back a moment after its answer); widened, one per look-up up to the most.
    expect(far.mostAtOnce()).toBeGreaterThan(2 * LOOKUPS_AT_FIRST);
    expect(far.mostAtOnce()).toBeLessThanOrEqual(LOOKUPS_AT_MOST + 1);
  });
});
