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

describe('manifest writes whose every answer is lost after the registry stored them', () => {
  it('push, tag and copy: exit 0, the registry holding each (was: "answered 500 ... after 2 attempts", exit 1)', () =>
    pushTagCopyLand(w, 'lost-answer', (r) => (r.method === 'PUT' && r.path.includes('/manifests/') ? { after: (a) => ({ raw: answerBytes(a, { status: 500, body: GATEWAY }) }) } : 'pass'), LIMITS));

  it('a write the gateway refused before the registry saw it is still a failure, nothing tagged', async () => {
    const dir = await writePack(join(w.root, 'refused'), { name: 'refused-write', version: '1.0.0' });
    w.proxy.onRequest = (r) => (r.method === 'PUT' && r.path.includes('/manifests/') ? { raw: answerBytes({ status: 500, headers: { 'content-type': 'application/json' }, body: GATEWAY }) } : 'pass');
    let run;
    try {
      run = await runCli(['push', dir, '--registry', w.R, '--no-cache', ...LIMITS]);
    } finally {
      w.proxy.onRequest = undefined;
    }
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain('answered 500 UNKNOWN: upstream timed out after 2 attempts');
    expect(await w.reader.tags(`${w.registry.base}/spectro-packs/archive/refused-write`)).toEqual([]);
  });
});
