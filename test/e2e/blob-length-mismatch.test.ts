import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { proxiedSharedRegistry } from '../support/proxied-writes.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';
import { answerBytes } from '../support/wire-proxy.js';

/*
 * A blob answer of another length than the blob's descriptor says (a cache or a proxy on the way answering with a
 * stale or cut object, its Content-Length saying so): pull failed at once ("is <n> bytes on <host>, its descriptor
 * says <m>"), though a GET is safe to repeat and a manifest read that way is read again. Now the blob is asked for
 * once more; the same answer twice still fails, nothing written. A real registry sits behind the proxy.
 */

const w = setup(async (stack) => {
  const world = await proxiedSharedRegistry(stack, 'packpub-blob-length-');
  const dir = await writePack(join(world.root, 'pack'), { name: 'blob-length', version: '1.0.0' });
  const pushed = await runCli(['push', dir, '--registry', `${world.registry.host}/${world.registry.base}`, '--no-cache']);
  if (pushed.code !== 0) throw new Error(pushed.stderr);
  return world;
});

/** Blob GETs (the first `times` of them) come 10 bytes short, their Content-Length saying so. */
function shortBlobs(times: number): void {
  let left = times;
  w.proxy.onRequest = (r) =>
    r.method === 'GET' && /\/blobs\/sha256:/.test(r.path) && left-- > 0 ? { after: (a) => ({ raw: answerBytes(a, { body: a.body.subarray(0, a.body.length - 10) }) }) } : 'pass';
}

async function pull(out: string) {
  try {
    return await runCli(['pull', 'blob-length:1.0.0', '--registry', w.R, '-o', out]);
  } finally {
    w.proxy.onRequest = undefined;
  }
}

describe('a blob answer of another length than its descriptor', () => {
  it('once: asked for again, and pull writes the pack (was: exit 1 at once)', async () => {
    shortBlobs(1);
    const run = await pull(join(w.root, 'once'));
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(join(w.root, 'once', 'pack.json'))).toBe(true);
  });

  it('every time: exit 1 naming both lengths, nothing written', async () => {
    shortBlobs(Infinity);
    const out = join(w.root, 'always');
    const run = await pull(out);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/blob sha256:[0-9a-f]{64} is \d+ bytes on .*, its descriptor says \d+/);
    expect(stackLines(run.stderr)).toEqual([]);
    expect(existsSync(out)).toBe(false);
  });
});
