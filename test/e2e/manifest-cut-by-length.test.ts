import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { sharedRegistry } from '../support/registry.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';
import { answerBytes, startWireProxy } from '../support/wire-proxy.js';

/*
 * A manifest answer whose Content-Length is shorter than the manifest (a proxy that rewrote the body, or lies about
 * it): the client reads the announced bytes, which are no JSON. The answer is the registry's (its Content-Type names
 * a manifest type), cut on the way, yet packpub failed at once and asked whether the host is an OCI registry at all.
 * Now it reads the manifest once more, as it does bytes that do not match their digest, and says what happened when
 * the second read is cut too. A real registry sits behind a proxy that cuts the Content-Length.
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-manifest-cut-');
  const registry = await sharedRegistry();
  const proxy = stack.add(await startWireProxy(registry.host));
  const dir = await writePack(join(root, 'pack'), { name: 'cut-manifest', version: '1.0.0' });
  const pushed = await runCli(['push', dir, '--registry', `${registry.host}/${registry.base}`, '--no-cache']);
  if (pushed.code !== 0) throw new Error(pushed.stderr);
  return { root, registry, proxy, R: `${proxy.host}/${registry.base}` };
});

/** Manifest GETs (the first `times` of them) announce 10 bytes less than they hold. */
function cutManifests(times: number): void {
  let left = times;
  w.proxy.onRequest = (r) =>
    r.method === 'GET' && r.path.includes('/manifests/') && left-- > 0 ? { after: (a) => ({ raw: answerBytes(a, { headers: { 'content-length': String(a.body.length - 10) } }), end: true }) } : 'pass';
}

describe('a manifest answer cut short by its Content-Length', () => {
  it('once: read again, and pull writes the pack (was: "not JSON", "is <host> an OCI registry?", exit 1)', async () => {
    cutManifests(1);
    const out = join(w.root, 'pulled');
    let run;
    try {
      run = await runCli(['pull', 'cut-manifest:1.0.0', '--registry', w.R, '-o', out]);
    } finally {
      w.proxy.onRequest = undefined;
    }
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('pulled');
  });

  it('every time: exit 1 saying it was cut short twice, not asking whether this is a registry', async () => {
    cutManifests(Infinity);
    let run;
    try {
      run = await runCli(['inspect', 'cut-manifest:1.0.0', '--registry', w.R]);
    } finally {
      w.proxy.onRequest = undefined;
    }
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain('with something that is not JSON instead of manifest 1.0.0');
    expect(run.stderr).toContain('cut short or changed on the way (twice in a row)');
    expect(run.stderr).not.toContain('an OCI registry, and not a web page');
    expect(stackLines(run.stderr)).toEqual([]);
  });
});
