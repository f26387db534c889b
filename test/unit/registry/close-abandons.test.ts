import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { staticProvider } from '../../../src/credentials/chain.js';
import { RegistryClient } from '../../../src/registry/client.js';
import { startHostileRegistry, type HostileRegistry } from '../../support/hostile-registry.js';
import { stage } from '../../support/stage.js';

/*
 * Closing a registry client (a store) while a request is still in flight: the transport waits a short grace for
 * it, then gives it up, so whoever gives up on a run (Palette's values check bound by --palette-timeout, a copy
 * or tag abandoned after a signal) is not held until the --request-timeout. Before, undici's Agent forgot its
 * connection pools when the graceful close began, so the destroy that followed the grace reached none: the
 * request went on until its own timeout (60 s by default), close() having returned long before.
 */

const REQUEST_TIMEOUT_MS = 30_000;
const env = stage();

/** A client of `registry` whose requests time out only after REQUEST_TIMEOUT_MS. */
function clientOf(registry: HostileRegistry): RegistryClient {
  return RegistryClient.create({ host: registry.host, credentials: staticProvider('none', undefined), retry: { requestTimeoutMs: REQUEST_TIMEOUT_MS } });
}

/** Resolves when the hostile registry got a request matching `is` (its answer is the test's). */
function arrival(registry: HostileRegistry, is: (method: string, path: string) => boolean, body: (res: import('node:http').ServerResponse) => void): Promise<void> {
  return new Promise((arrived) => {
    registry.behaviour = {
      answer: (r) => {
        if (!is(r.method, r.path)) return undefined;
        arrived();
        return { status: 200, headers: { 'content-length': '5', 'content-type': 'application/octet-stream' }, body };
      },
    };
  });
}

/**
 * `client` closed while `pending` (a request of it) is in flight: the close returns, and `pending` fails, within
 * 10 s (the close grace), not at the request timeout.
 */
async function expectGivenUpOnClose(client: RegistryClient, pending: Promise<unknown>): Promise<void> {
  const closing = Date.now();
  await client.close();
  const closeMs = Date.now() - closing;
  const error = await pending.then(
    () => undefined,
    (err: unknown) => err ?? new Error('rejected without a reason'),
  );
  const ms = Date.now() - closing;
  expect(error).toBeDefined();
  expect(closeMs).toBeLessThan(10_000);
  expect(ms).toBeLessThan(10_000);
}

describe.concurrent('closing a registry client with a request in flight (each on a stand-in of its own, side by side)', () => {
  it('gives up a GET whose answer never comes within the close grace, not at --request-timeout', async () => {
    const registry = env.add(await startHostileRegistry());
    const digest = registry.putBlob('a/b', Buffer.from('hello')) as `sha256:${string}`;
    const held = arrival(registry, (m, p) => m === 'GET' && p.includes('/blobs/'), () => undefined); // headers never sent
    const client = clientOf(registry);
    const pending = client.fetchBlob('a/b', { digest, size: 5 });
    await held;
    await expectGivenUpOnClose(client, pending);
    expect(registry.openConnections()).toBe(0);
  }, 60_000);

  it('gives up a blob body that stalls after its first bytes (the stream errors), not at --request-timeout', async () => {
    const registry = env.add(await startHostileRegistry());
    const digest = registry.putBlob('a/b', Buffer.from('hello')) as `sha256:${string}`;
    const held = arrival(registry, (m, p) => m === 'GET' && p.includes('/blobs/'), (res) => void res.write('he')); // never ends
    const client = clientOf(registry);
    const stream: Readable = await client.fetchBlob('a/b', { digest, size: 5 });
    await held;
    const reading = (async () => {
      for await (const chunk of stream) void chunk;
    })();
    await expectGivenUpOnClose(client, reading);
  }, 60_000);

  it('gives up a manifest PUT whose answer never comes (a push or tag given up)', async () => {
    const registry = env.add(await startHostileRegistry());
    const held = arrival(registry, (m, p) => m === 'PUT' && p.includes('/manifests/'), () => undefined);
    const client = clientOf(registry);
    const pending = client.putManifest('a/b', '1.0.0', Buffer.from('{"schemaVersion":2}'), 'application/vnd.oci.image.manifest.v1+json');
    await held;
    await expectGivenUpOnClose(client, pending);
  }, 60_000);
});
