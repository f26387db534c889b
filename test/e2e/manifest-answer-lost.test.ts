import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { proxiedSharedRegistry, pushTagCopyLand } from '../support/proxied-writes.js';
import { setup } from '../support/stage.js';
import { answerBytes } from '../support/wire-proxy.js';

/*
 * A manifest write the registry carries out while every answer to it is lost on the way: a gateway in front
 * answering 500 (or 502/504) after the registry stored it, on each attempt. push, tag and copy ended "answered 500
 * ... after N attempts", exit 1, with the registry holding exactly what they were asked to write. A reference that
 * now serves those very bytes is a write carried out. A real registry sits behind the proxy.
 */

const w = setup((stack) => proxiedSharedRegistry(stack, 'packpub-manifest-lost-'));

const GATEWAY = Buffer.from('{"errors":[{"code":"UNKNOWN","message":"upstream timed out"}]}');
const LIMITS = ['--retry-attempts', '2', '--retry-delay', '0'];

/** Push a new pack `name`:1.0.0 whose manifest PUTs (the pack's own repository's, base repository's too) the proxy answers `raw`, unforwarded. */
async function pushAnswered(name: string, raw: Buffer) {
  const dir = await writePack(join(w.root, name), { name, version: '1.0.0' });
  w.proxy.onRequest = (r) => (r.method === 'PUT' && r.path.includes('/manifests/') ? { raw } : 'pass');
  try {
    return await runCli(['push', dir, '--registry', w.R, '--no-cache', ...LIMITS]);
  } finally {
    w.proxy.onRequest = undefined;
  }
}

describe('manifest writes whose every answer is lost after the registry stored them', () => {
  it('push, tag and copy: exit 0, the registry holding each (was: "answered 500 ... after 2 attempts", exit 1)', () =>
    pushTagCopyLand(w, 'lost-answer', (r) => (r.method === 'PUT' && r.path.includes('/manifests/') ? { after: (a) => ({ raw: answerBytes(a, { status: 500, body: GATEWAY }) }) } : 'pass'), LIMITS));

  it('a write the gateway refused before the registry saw it is still a failure, nothing tagged', async () => {
    const run = await pushAnswered('refused-write', answerBytes({ status: 500, headers: { 'content-type': 'application/json' }, body: GATEWAY }));
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain('answered 500 UNKNOWN: upstream timed out after 2 attempts');
    expect(await w.reader.tags(`${w.registry.base}/spectro-packs/archive/refused-write`)).toEqual([]);
  });

  it('a 201 whose Docker-Content-Digest a proxy changed, the registry holding these very bytes: push, tag and copy exit 0 (was: "stored the manifest ... as <other>", exit 1, with the version published)', () =>
    pushTagCopyLand(w, 'digest-rewritten', (r) => (r.method === 'PUT' && r.path.includes('/manifests/') ? { after: (a) => ({ raw: answerBytes(a, { headers: { 'docker-content-digest': `sha256:${'a'.repeat(64)}` } }) }) } : 'pass'), LIMITS));

  it('a 201 naming another digest for a manifest the registry did not keep as sent is still the error, nothing tagged', async () => {
    const other = `sha256:${'b'.repeat(64)}`;
    const run = await pushAnswered('not-kept', answerBytes({ status: 201, headers: { 'docker-content-digest': other }, body: Buffer.alloc(0) }));
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`stored the manifest for \\S+ as ${other}, expected sha256:[0-9a-f]{64}`));
    expect(await w.reader.tags(`${w.registry.base}/spectro-packs/archive/not-kept`)).toEqual([]);
  });
});
