import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticProvider } from '../../src/credentials/chain.js';
import { isPackpubError } from '../../src/errors.js';
import { sha256Digest } from '../../src/oci/digest.js';
import { openGenericRegistryStore } from '../../src/targets/registry-store.js';
import { FaultPlan, startRecordingProxy } from '../support/recording-proxy.js';
import { startTokenServer } from '../support/token-server.js';
import { runCli } from '../support/cli.js';
import { treeOf } from '../support/files.js';
import { packTree, proxiedRegistry } from '../support/push-setup.js';
import { setup } from '../support/stage.js';
import { skipWaits } from '../support/clock.js';

/*
 * Faults with token auth (the Harbor-like flow) and on the way back: push, list, inspect and pull through a
 * proxy that resets, throttles, fails and truncates answers, including blob downloads cut off half way.
 */

const USER = 'robot-ci';
const PASSWORD = 'faulty-net-pass-7f3a';

// The retries' waits (backoff, the 429s' Retry-After: ~40 waits, ~20 s asked a run) take no real time: what is
// checked is what each command ends with, not when.
skipWaits();

describe('token auth, list, inspect and pull through a faulty network', () => {
  const w = setup(async (stack) => {
    const tokens = stack.add(await startTokenServer({ users: { [USER]: PASSWORD } }));
    // The token service gets a faulty proxy of its own: the registry names the proxy as its realm.
    const tokenProxy = stack.add(await startRecordingProxy(new URL(tokens.realm).host));
    const { proxy } = await proxiedRegistry(stack, { auth: 'token', token: { ...tokens, realm: `${tokenProxy.url}/service/token` } });
    const { root, packs } = await packTree(stack, 6, { seed: 11, payloadBytes: [50_000, 400_000] });
    const env = { SOURCE_DATE_EPOCH: '1700000000', PACKPUB_USERNAME: USER, PACKPUB_PASSWORD: PASSWORD, DOCKER_CONFIG: join(root, 'docker') };
    const registryArg = `${proxy.host}/harbor-like`;
    return { tokens, tokenProxy, proxy, root, packs, env, registryArg };
  });

  it('pushes with token auth through ~15 % faults, and 40 % at the token service', async () => {
    w.proxy.faults = new FaultPlan({ rate: 0.15, seed: 31 });
    w.tokenProxy.faults = new FaultPlan({ rate: 0.4, seed: 32, kinds: ['reset', 'status-503', 'status-429', 'truncate'] });
    const run = await runCli(['push', ...w.packs.map((p) => p.dir), '--registry', w.registryArg], { env: w.env });
    w.proxy.faults = undefined;
    w.tokenProxy.faults = undefined;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`${w.packs.length} published`);
    expect(w.proxy.count((r) => r.fault !== undefined)).toBeGreaterThan(0);
    expect(w.tokenProxy.count((r) => r.fault !== undefined)).toBeGreaterThan(0);
  });

  it('says in one clear line when the token service keeps failing', async () => {
    w.tokenProxy.faults = new FaultPlan({ rate: 1, seed: 33, kinds: ['truncate'] });
    const run = await runCli(['list', '--registry', w.registryArg, '--retry-attempts', '2'], { env: w.env });
    w.tokenProxy.faults = undefined;
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: connection to 127\.0\.0\.1:\d+ was closed unexpectedly\nhint: /);
  });

  it('lists and inspects through faults', async () => {
    w.proxy.faults = new FaultPlan({ rate: 0.3, seed: 5, kinds: ['reset', 'status-503', 'status-429', 'truncate'], only: ['tags', 'manifest-get', 'blob-get', 'catalog'] });
    const list = await runCli(['list', '--registry', w.registryArg, '--json'], { env: w.env });
    expect(list.code, list.stderr).toBe(0);
    const listed = JSON.parse(list.stdout) as { packs: Array<{ name: string; versions: Array<{ version: string }> }> };
    expect(listed.packs.map((p) => `${p.name}:${p.versions.map((v) => v.version).join(',')}`).sort()).toEqual(
      w.packs.map((p) => `${p.name}:${p.version}`).sort(),
    );
    for (const p of w.packs.slice(0, 3)) {
      const inspect = await runCli(['inspect', `${p.name}:${p.version}`, '--registry', w.registryArg, '--json'], { env: w.env });
      expect(inspect.code, inspect.stderr).toBe(0);
      expect((JSON.parse(inspect.stdout) as { packJson: { name: string } }).packJson.name).toBe(p.name);
    }
    w.proxy.faults = undefined;
  });

  it('pulls every pack byte for byte while half the blob downloads are cut off or refused', async () => {
    w.proxy.faults = new FaultPlan({ rate: 0.5, seed: 8, kinds: ['truncate', 'reset', 'status-502'], only: ['blob-get', 'manifest-get'] });
    w.proxy.clear();
    for (const p of w.packs) {
      const out = join(w.root, 'pulled', p.name);
      const run = await runCli(['pull', `${p.name}:${p.version}`, '--registry', w.registryArg, '-o', out], { env: w.env });
      expect(run.code, run.stderr).toBe(0);
      expect(await treeOf(out)).toEqual(await treeOf(p.dir));
    }
    w.proxy.faults = undefined;
    // Downloads were cut half way, and resumed where they stopped (206 Partial Content).
    expect(w.proxy.count((r) => r.kind === 'blob-get' && r.fault === 'truncate')).toBeGreaterThan(0);
    expect(w.proxy.count((r) => r.kind === 'blob-get' && r.status === 206)).toBeGreaterThan(0);
  });
});

describe('a blob download cut off half way', () => {
  const BLOB = randomBytes(256 * 1024);
  const DIGEST = sha256Digest(BLOB);
  const seen: IncomingHttpHeaders[] = [];
  /** What the server does with the n-th GET (0-based). */
  let behaviour: (n: number, headers: IncomingHttpHeaders) => 'cut' | 'full' | 'bad-range' | 'unavailable' = () => 'full';
  let server: Server;
  let host = '';

  beforeAll(async () => {
    server = createServer((req, res) => {
      const n = seen.push(req.headers) - 1;
      const what = behaviour(n, req.headers);
      if (what === 'bad-range') {
        res.writeHead(206, { 'content-length': String(BLOB.length - 10), 'content-range': `bytes 10-${BLOB.length - 1}/${BLOB.length}` }).end(BLOB.subarray(10));
        return;
      }
      if (what === 'unavailable') {
        res.writeHead(503, { 'content-length': '0' }).end();
        return;
      }
      res.writeHead(200, { 'content-length': String(BLOB.length), 'content-type': 'application/octet-stream' });
      if (what === 'full') res.end(BLOB);
      else res.write(BLOB.subarray(0, 100_000), () => setTimeout(() => res.destroy(), 30));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function download(): Promise<Buffer> {
    seen.length = 0;
    const store = await openGenericRegistryStore({ host, credentials: staticProvider('none', undefined), retry: { attempts: 3 } });
    try {
      const stream: Readable = await store.client.fetchBlob('r', { digest: DIGEST, size: BLOB.length });
      const chunks: Buffer[] = [];
      for await (const c of stream) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    } finally {
      await store.close();
    }
  }

  it('is resumed from a server that ignores Range, skipping what already arrived', async () => {
    behaviour = (n) => (n === 0 ? 'cut' : 'full');
    expect((await download()).equals(BLOB)).toBe(true);
    expect(seen.map((h) => h.range)).toEqual([undefined, 'bytes=100000-']);
  });

  it('fails as a network error, in one line, when every attempt is cut off', async () => {
    behaviour = () => 'cut';
    const err = await download().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isPackpubError(err, 'NETWORK')).toBe(true);
    expect((err as Error).message).toBe(`connection to ${host} was closed unexpectedly`);
    expect(seen).toHaveLength(3);
  });

  it('counts refused requests and cut-off bodies against one budget of attempts, not attempts x attempts', async () => {
    // After the first cut (100 000 bytes arrived), resumes meet a 503, then a body cut before any new byte.
    behaviour = (n) => (n === 0 ? 'cut' : n % 2 === 1 ? 'unavailable' : 'cut');
    const err = await download().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isPackpubError(err, 'NETWORK')).toBe(true);
    expect((err as Error).message).toBe(`connection to ${host} was closed unexpectedly`);
    // --retry-attempts 3: the cut after progress, the 503, the cut without progress. Two nested loops made it 5.
    expect(seen.map((h) => h.range)).toEqual([undefined, 'bytes=100000-', 'bytes=100000-']);

    // Within the same budget, a resume that answers after a 503 completes the blob.
    behaviour = (n) => (n === 0 ? 'cut' : n === 1 ? 'unavailable' : 'full');
    expect((await download()).equals(BLOB)).toBe(true);
    expect(seen).toHaveLength(3);
  });

  it('refuses a resumed answer for the wrong range', async () => {
    behaviour = (n) => (n === 0 ? 'cut' : 'bad-range');
    const err = await download().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isPackpubError(err, 'DIGEST_MISMATCH')).toBe(true);
    expect((err as Error).message).toContain('wrong range bytes 10-');
  });
});
