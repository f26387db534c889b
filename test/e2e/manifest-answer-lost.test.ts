import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { sharedRegistry } from '../support/registry.js';
import { RegistryReader } from '../support/registry-reader.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';
import { answerBytes, startWireProxy } from '../support/wire-proxy.js';

/*
 * A manifest write the registry carries out while every answer to it is lost on the way: a gateway in front
 * answering 500 (or 502/504) after the registry stored it, on each attempt. push, tag and copy ended "answered 500
 * ... after N attempts", exit 1, with the registry holding exactly what they were asked to write. A reference that
 * now serves those very bytes is a write carried out. A real registry sits behind the proxy.
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-manifest-lost-');
  const registry = await sharedRegistry();
  const proxy = stack.add(await startWireProxy(registry.host));
  return { root, registry, proxy, reader: new RegistryReader(registry.url) };
});

const GATEWAY = Buffer.from('{"errors":[{"code":"UNKNOWN","message":"upstream timed out"}]}');
const LIMITS = ['--retry-attempts', '2', '--retry-delay', '0'];

describe('manifest writes whose every answer is lost after the registry stored them', () => {
  it('push, tag and copy: exit 0, the registry holding each (was: "answered 500 ... after 2 attempts", exit 1)', async () => {
    const dir = await writePack(join(w.root, 'lost'), { name: 'lost-answer', version: '1.0.0' });
    const R = `${w.proxy.host}/${w.registry.base}`;
    w.proxy.onRequest = (r) => (r.method === 'PUT' && r.path.includes('/manifests/') ? { after: (a) => ({ raw: answerBytes(a, { status: 500, body: GATEWAY }) }) } : 'pass');
    const runs = [];
    try {
      runs.push(await runCli(['push', dir, '--registry', R, '--no-cache', ...LIMITS]));
      runs.push(await runCli(['tag', 'lost-answer:1.0.0', 'stable', '--registry', R, ...LIMITS]));
      runs.push(await runCli(['copy', 'lost-answer:1.0.0', '--from', R, '--to', `${R}/copied`, ...LIMITS]));
    } finally {
      w.proxy.onRequest = undefined;
    }
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(0);
      expect(stackLines(run.stderr)).toEqual([]);
    }
    const held = await w.reader.holdings(w.registry.base);
    expect(held.problems).toEqual([]);
    const at = (ref: string) => held.tags.get(`${w.registry.base}/${ref}`);
    const digest = at('spectro-packs/archive/lost-answer:1.0.0');
    expect(digest).toMatch(/^sha256:/);
    expect(at('spectro-packs/archive/lost-answer:stable')).toBe(digest);
    expect(at('copied/spectro-packs/archive/lost-answer:1.0.0')).toBe(digest);
  });

  it('a write the gateway refused before the registry saw it is still a failure, nothing tagged', async () => {
    const dir = await writePack(join(w.root, 'refused'), { name: 'refused-write', version: '1.0.0' });
    w.proxy.onRequest = (r) => (r.method === 'PUT' && r.path.includes('/manifests/') ? { raw: answerBytes({ status: 500, headers: { 'content-type': 'application/json' }, body: GATEWAY }) } : 'pass');
    let run;
    try {
      run = await runCli(['push', dir, '--registry', `${w.proxy.host}/${w.registry.base}`, '--no-cache', ...LIMITS]);
    } finally {
      w.proxy.onRequest = undefined;
    }
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain('answered 500 UNKNOWN: upstream timed out after 2 attempts');
    expect(await w.reader.tags(`${w.registry.base}/spectro-packs/archive/refused-write`)).toEqual([]);
  });
});
