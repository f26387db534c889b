import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256Digest } from '../../src/oci/digest.js';
import { runCli } from '../support/cli.js';
import { listenOnLoopback, readBody } from '../support/loopback.js';
import { writePack } from '../support/packs.js';
import { sharedRegistry } from '../support/registry.js';
import { RegistryReader } from '../support/registry-reader.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';

/*
 * An HTTP cache between packpub and the registry (a caching reverse proxy kept for pulls) that keeps answers to
 * GET and HEAD and serves them again, but asks the registry when the request says `Cache-Control: no-cache` (RFC
 * 9111 5.2.1.4). Writes pass through without touching what it keeps, as nginx's proxy_cache does. Before, only
 * packpub's conditional manifest read said no-cache: a push found a version "unchanged" from the manifest the cache
 * kept though the registry held other content (exit 0), and list showed the versions the cache had seen. Now every
 * manifest read and tag page asks for the registry's own answer.
 */

type Kept = { status: number; headers: IncomingHttpHeaders; body: Buffer };

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-http-cache-');
  const registry = await sharedRegistry();
  const upstream = new URL(registry.url);
  const kept = new Map<string, Kept>();
  const served: string[] = [];
  const forward = (method: string, path: string, headers: IncomingHttpHeaders, body: Buffer): Promise<Kept> =>
    new Promise((resolve, reject) => {
      const req = httpRequest({ host: upstream.hostname, port: upstream.port, method, path, headers: { ...headers, host: upstream.host } }, (res) => {
        readBody(res).then((b) => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: b }), reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  const server = createServer((req, res) => {
    void (async () => {
      const method = req.method ?? 'GET';
      const path = req.url ?? '/';
      const body = await readBody(req);
      const key = `${method} ${path} ${req.headers.accept ?? ''}`;
      const cacheable = method === 'GET' || method === 'HEAD';
      const askOrigin = /(^|,)\s*no-cache\s*(,|$)/i.test(String(req.headers['cache-control'] ?? ''));
      let answer = cacheable && !askOrigin ? kept.get(key) : undefined;
      if (answer !== undefined) served.push(key);
      else {
        answer = await forward(method, path, req.headers, body);
        if (cacheable && answer.status === 200) kept.set(key, answer);
      }
      const headers = { ...answer.headers };
      delete headers['transfer-encoding'];
      delete headers['connection'];
      res.writeHead(answer.status, headers);
      res.end(method === 'HEAD' ? undefined : answer.body);
    })().catch(() => res.destroy());
  });
  const cache = stack.add(await listenOnLoopback(server));
  return { root, registry, cache, served, reader: new RegistryReader(registry.url), direct: `${registry.host}/${registry.base}`, cached: `${cache.host}/${registry.base}` };
});

/** A pack folder `name`:`version` whose content differs by `salt`. */
async function packOf(name: string, version: string, salt: string): Promise<string> {
  const dir = await writePack(join(w.root, `${name}-${version}-${salt}`), { name, version });
  await writeFile(join(dir, 'README.md'), `salt ${salt}\n`);
  return dir;
}

const digestOf = async (name: string, version: string) => {
  const bytes = await w.reader.manifest(`${w.registry.base}/spectro-packs/archive/${name}`, version);
  return bytes === undefined ? undefined : sha256Digest(bytes);
};

describe('an HTTP cache between packpub and the registry', () => {
  it('push reads the version from the registry: other content published meanwhile is a conflict, not "unchanged" (was: exit 0)', async () => {
    const a = await packOf('cached', '1.0.0', 'a');
    expect((await runCli(['push', a, '--registry', w.direct, '--no-cache'])).code).toBe(0);
    const inspected = await runCli(['inspect', 'cached:1.0.0', '--registry', w.cached]); // the cache keeps A's manifest
    expect(inspected.code, inspected.stderr).toBe(0);
    const b = await packOf('cached', '1.0.0', 'b');
    expect((await runCli(['push', b, '--registry', w.direct, '--no-cache', '--force'])).code).toBe(0);
    const held = await digestOf('cached', '1.0.0');
    const run = await runCli(['push', a, '--registry', w.cached, '--no-cache']);
    expect(run.stdout).not.toMatch(/^unchanged cached:1\.0\.0/m);
    expect(run.code, run.stdout + run.stderr).not.toBe(0);
    expect(stackLines(run.stderr)).toEqual([]);
    expect(await digestOf('cached', '1.0.0')).toBe(held);
  });

  it('list shows the versions the registry holds, not the tag page the cache kept (was: the new version missing, exit 0)', async () => {
    expect((await runCli(['push', await packOf('listed', '1.0.0', 'a'), '--registry', w.direct, '--no-cache'])).code).toBe(0);
    const first = await runCli(['list', 'listed', '--registry', w.cached]);
    expect(first.code, first.stderr).toBe(0);
    expect((await runCli(['push', await packOf('listed', '1.1.0', 'a'), '--registry', w.direct, '--no-cache'])).code).toBe(0);
    const run = await runCli(['list', 'listed', '--registry', w.cached]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('1.1.0');
  });
});
