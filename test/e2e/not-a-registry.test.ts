import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { listenOnLoopback } from '../support/loopback.js';
import { writePack } from '../support/packs.js';
import { sharedRegistry } from '../support/registry.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';
import { rawAnswer, startWireProxy } from '../support/wire-proxy.js';

/*
 * A 404 is "no such repository / version" only from a registry. A web server (a wrong host, a reverse proxy
 * that does not pass /v2/ on) answers 404 to everything: `list NAME` said "no pack NAME", exit 0, and pull,
 * inspect, tag and delete said the version "does not exist". A 404 naming no OCI error now has packpub ask
 * `GET /v2/` once: a registry answers it (200, or 401), a web server does not.
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-not-a-registry-');
  const seen: string[] = [];
  const web = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(404, { 'content-type': 'text/html' });
    res.end('<html><body><h1>Not Found</h1></body></html>');
  });
  const site = stack.add(await listenOnLoopback(web));
  const registry = await sharedRegistry();
  const proxy = stack.add(await startWireProxy(registry.host));
  return { root, site, seen, registry, proxy };
});

const NOT_A_REGISTRY = (host: string) => `${host} is not an OCI registry: it answered 404 to GET /v2/, as to GET`;

describe('a web server that answers 404 to everything', () => {
  it('list NAME, pull, inspect, tag and delete --ignore-missing: exit 1 saying it is no registry (was: "no pack", exit 0; "does not exist")', async () => {
    const R = ['--registry', `${w.site.host}/x`];
    const out = join(w.root, 'pulled');
    const runs = {
      list: await runCli(['list', 'hello', ...R]),
      pull: await runCli(['pull', 'hello:1.0.0', '-o', out, ...R]),
      inspect: await runCli(['inspect', 'hello:1.0.0', ...R]),
      tag: await runCli(['tag', 'hello:1.0.0', 'stable', ...R]),
      delete: await runCli(['delete', 'hello:1.0.0', '--force', '--ignore-missing', ...R]),
    };
    for (const [command, run] of Object.entries(runs)) {
      expect(run.code, `${command}: ${run.stderr}`).toBe(1);
      expect(run.stderr, command).toContain(NOT_A_REGISTRY(w.site.host));
      expect(run.stderr, command).toContain('a registry answers GET /v2/ with 200 or 401');
      expect(run.stderr, command).not.toContain('does not exist');
      expect(stackLines(run.stderr), command).toEqual([]);
    }
    expect(existsSync(out)).toBe(false);
    // One look at /v2/ per run, only after the 404.
    expect(w.seen.filter((r) => r === 'GET /v2/')).toHaveLength(Object.keys(runs).length);
  });
});

describe('a registry', () => {
  it('a version or pack it does not hold is still "not there", also when its 404 names no OCI error', async () => {
    const registry = `${w.proxy.host}/${w.registry.base}`;
    const pack = await writePack(join(w.root, 'present'), { name: 'present', version: '1.0.0' });
    expect((await runCli(['push', pack, '--registry', registry, '--no-cache'])).code).toBe(0);
    const listed = await runCli(['list', 'absent', '--registry', registry]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stderr).toContain(`no pack absent in registry ${registry}`);
    // A registry (or a proxy in front of it) answering its 404s without a body: /v2/ says it is one.
    w.proxy.onRequest = (r) => (r.method === 'GET' && (r.path.includes('/tags/list') || r.path.includes('/manifests/')) ? { raw: rawAnswer(404, 'Not Found', { 'content-length': 0 }), end: false } : 'pass');
    try {
      const bare = await runCli(['list', 'absent', '--registry', registry]);
      expect(bare.code, bare.stderr).toBe(0);
      expect(bare.stderr).toContain(`no pack absent in registry ${registry}`);
      const pulled = await runCli(['pull', 'present:2.0.0', '-o', join(w.root, 'pulled-2'), '--registry', registry]);
      expect(pulled.code, pulled.stderr).toBe(1);
      expect(pulled.stderr).toContain(`${registry}/spectro-packs/archive/present:2.0.0 does not exist`);
    } finally {
      w.proxy.onRequest = undefined;
    }
  });
});
