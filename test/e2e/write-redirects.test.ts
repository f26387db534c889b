import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { startHostileRegistry } from '../support/hostile-registry.js';
import { writePack } from '../support/packs.js';
import { proxiedSharedRegistry, pushTagCopyLand } from '../support/proxied-writes.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';
import { rawAnswer, type WireRequest } from '../support/wire-proxy.js';

/*
 * A registry may redirect any request, writes included (distribution-spec 1.1, "HTTP redirects": the statuses it
 * names are those after redirects were followed; Authorization never crosses to another host). GHCR redirects the
 * POST that starts an upload; a registry on object storage may send the PUT there. ORAS (Go's HTTP client) follows a
 * 307 or 308 with the same method and body. Before, packpub said "<host> answered 307 to PUT ..., a status a registry
 * does not give to this request", exit 1, nothing published. A real registry sits behind the proxy.
 */

const w = setup(async (stack) => ({ ...(await proxiedSharedRegistry(stack, 'packpub-write-redirects-')), hostile: stack.add(await startHostileRegistry({})), other: stack.add(await startHostileRegistry({})) }));

/** A 307 or 308 to the same path and query on the registry itself: another origin than the proxy packpub talks to. */
const toRegistry = (status: 307 | 308) => (req: WireRequest) =>
  ({ raw: rawAnswer(status, status === 307 ? 'Temporary Redirect' : 'Permanent Redirect', { location: `${w.registry.url}${req.path}`, 'content-length': 0 }) }) as const;
const isUploadStart = (r: WireRequest) => r.method === 'POST' && /\/blobs\/uploads\/(\?|$)/.test(r.path);
const isUploadPut = (r: WireRequest) => r.method === 'PUT' && r.path.includes('/blobs/uploads/');
const isManifestWrite = (r: WireRequest) => (r.method === 'PUT' || r.method === 'DELETE') && r.path.includes('/manifests/');

describe('a write answered with a redirect', () => {
  it('307 to the upload start, 308 to the upload PUT, 307 to the manifest PUT: push, tag and copy land, as ORAS\'s do (was: exit 1 "answered 307 ...")', async () => {
    await pushTagCopyLand(w, 'redirected', (r) => (isUploadStart(r) ? toRegistry(307)(r) : isUploadPut(r) ? toRegistry(308)(r) : isManifestWrite(r) ? toRegistry(307)(r) : 'pass'));
  });

  it('delete answered 307: the version is deleted, exit 0 (was: exit 1, nothing deleted)', async () => {
    const dir = await writePack(join(w.root, 'gone'), { name: 'redirected-delete', version: '1.0.0' });
    expect((await runCli(['push', dir, '--registry', `${w.registry.host}/${w.registry.base}`, '--no-cache'])).code).toBe(0);
    w.proxy.onRequest = (r) => (r.method === 'DELETE' ? toRegistry(307)(r) : 'pass');
    try {
      const run = await runCli(['delete', 'redirected-delete:1.0.0', '--registry', w.R, '--force']);
      expect(run.code, run.stderr).toBe(0);
      expect(stackLines(run.stderr)).toEqual([]);
    } finally {
      w.proxy.onRequest = undefined;
    }
    expect(await w.reader.tags(`${w.registry.base}/spectro-packs/archive/redirected-delete`)).toEqual([]);
  });

  it('an upload PUT redirected to another server goes there without credentials, and the registry is asked whether it holds the blob', async () => {
    const dir = await writePack(join(w.root, 'elsewhere'), { name: 'elsewhere', version: '1.0.0' });
    const repo = 'evil/spectro-packs/archive/elsewhere';
    const sessions: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${w.other.url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
      sessions.push(new URL(res.headers.get('location') ?? '', w.other.url).href);
    }
    const since = w.other.requests.length;
    w.hostile.behaviour = {
      users: { robot: 'pw-redirect-7' },
      answer: (r) => {
        if (r.method !== 'PUT' || !r.path.startsWith(`/v2/${repo}/blobs/uploads/`)) return undefined;
        return { status: 307, headers: { location: `${sessions.shift() ?? ''}?digest=${encodeURIComponent(r.query.get('digest') ?? '')}` } };
      },
    };
    try {
      const run = await runCli(['push', dir, '--registry', `${w.hostile.host}/evil`, '--no-cache', '--retry-attempts', '1', '--username', 'robot', '--password-stdin'], { stdin: 'pw-redirect-7' });
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(new RegExp(`${w.hostile.host} sent the upload of blob sha256:[0-9a-f]{64} to another server \\(${w.other.url}\\), which accepted it, but ${w.hostile.host} does not hold it`));
      expect(stackLines(run.stderr)).toEqual([]);
    } finally {
      w.hostile.behaviour = {};
    }
    const there = w.other.requests.slice(since);
    expect(there.filter((r) => r.method === 'PUT' && r.status === 201).length).toBeGreaterThan(0);
    expect(there.map((r) => r.authorization)).toEqual(there.map(() => undefined));
    expect((await fetch(`${w.hostile.url}/v2/${repo}/manifests/1.0.0`, { method: 'HEAD', headers: { authorization: `Basic ${Buffer.from('robot:pw-redirect-7').toString('base64')}` } })).status).toBe(404);
  });

  it('a 301, 302 or 303 to a write is still refused (it would make the write a GET), nothing tagged (held)', async () => {
    for (const status of [301, 302, 303]) {
      const name = `moved-${status}`;
      const dir = await writePack(join(w.root, name), { name, version: '1.0.0' });
      w.proxy.onRequest = (r) => (isManifestWrite(r) ? { raw: rawAnswer(status, 'Moved', { location: `${w.registry.url}${r.path}`, 'content-length': 0 }) } : 'pass');
      try {
        const run = await runCli(['push', dir, '--registry', w.R, '--no-cache']);
        expect(run.code, run.stderr).toBe(1);
        // The same path on another origin: the registry answers there (4d425943), which is the address to give.
        expect(run.stderr).toContain(`${w.proxy.host} answered ${status} to PUT of manifest 1.0.0, redirecting its registry API to ${w.registry.url}/: a write does not follow a ${status} (it would be sent on as a GET)\n`);
        expect(run.stderr).toContain(`hint: the registry answers at ${w.registry.host}: give that address instead of ${w.proxy.host} (its credentials then go there)\n`);
        // Sent once: a 301 to a write is not followed, nor retried.
        expect(w.proxy.requests.filter((r) => r.method === 'PUT' && r.path.includes(`/${name}/manifests/`))).toHaveLength(1);
        expect(stackLines(run.stderr)).toEqual([]);
      } finally {
        w.proxy.onRequest = undefined;
      }
      expect(await w.reader.tags(`${w.registry.base}/spectro-packs/archive/${name}`)).toEqual([]);
    }
  });
});
