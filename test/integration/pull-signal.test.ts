import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { staticProvider } from '../../src/credentials/chain.js';
import { isPackpubError } from '../../src/errors.js';
import { parsePackRef } from '../../src/oci/reference.js';
import { pullPack } from '../../src/operations/pull.js';
import { openTarget } from '../../src/targets/open.js';
import { runCli } from '../support/cli.js';
import { startHostileRegistry } from '../support/hostile-registry.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * A pull given up through its signal (a library caller's, palette sync's values check bound by --palette-timeout)
 * ends at once, whatever request is in flight: the manifest read or the blob download whose answer never comes,
 * or a blob body that stalls. Before, the signal reached only the extraction: a request waiting for its answer
 * went on until --request-timeout (60 s by default), and only then did the pull end.
 */

const REQUEST_TIMEOUT_MS = 30_000;

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-pull-signal-');
  const hostile = stack.add(await startHostileRegistry());
  const pack = await writePack(join(root, 'hello'), { name: 'hello', version: '1.0.0' });
  const pushed = await runCli(['push', pack, '--registry', `${hostile.host}/base`, '--no-cache']);
  if (pushed.code !== 0) throw new Error(pushed.stderr);
  return { root, hostile };
});

let n = 0;
/** Pull hello:1.0.0 while the hostile registry holds the request `held` picks; aborted once it arrived. */
async function pullAbortedDuring(held: (method: string, path: string) => boolean, partial?: Buffer): Promise<{ ms: number; error: unknown; out: string }> {
  const out = join(w.root, `out-${n++}`);
  const controller = new AbortController();
  w.hostile.behaviour = {
    answer: (r) => {
      if (!held(r.method, r.path)) return undefined;
      setImmediate(() => controller.abort());
      return { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: (res) => void (partial === undefined ? res.flushHeaders() : res.write(partial)) };
    },
  };
  const target = await openTarget({ registry: `${w.hostile.host}/base`, credentials: staticProvider('none', undefined), retry: { requestTimeoutMs: REQUEST_TIMEOUT_MS } });
  try {
    const started = Date.now();
    const error = await pullPack(target, parsePackRef('hello:1.0.0'), { outDir: out, signal: controller.signal }).then(
      () => undefined,
      (err: unknown) => err,
    );
    return { ms: Date.now() - started, error, out };
  } finally {
    w.hostile.behaviour = {};
    await target.store.close();
  }
}

function expectGivenUp(run: { ms: number; error: unknown; out: string }): void {
  expect(isPackpubError(run.error, 'ABORTED'), String(run.error)).toBe(true);
  expect(run.ms).toBeLessThan(5_000);
  expect(existsSync(run.out)).toBe(false);
  expect(readdirSync(w.root).filter((f) => f.includes('packpub-'))).toEqual([]);
}

describe('pullPack with a signal already aborted', () => {
  it('places nothing, from a registry or an OCI layout (was: the layout\'s pull completed and placed the pack)', async () => {
    const layout = join(w.root, 'layout');
    const pack = await writePack(join(w.root, 'for-layout'), { name: 'hello', version: '1.0.0' });
    const pushed = await runCli(['push', pack, '--oci-layout', layout, '--no-cache']);
    expect(pushed.code, pushed.stderr).toBe(0);
    for (const options of [{ ociLayout: layout }, { registry: `${w.hostile.host}/base` }]) {
      const target = await openTarget({ ...options, credentials: staticProvider('none', undefined) });
      try {
        const out = join(w.root, `out-${n++}`);
        const error = await pullPack(target, parsePackRef('hello:1.0.0'), { outDir: out, signal: AbortSignal.abort() }).then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(isPackpubError(error, 'ABORTED'), String(error)).toBe(true);
        expect(existsSync(out)).toBe(false);
      } finally {
        await target.store.close();
      }
    }
    expect(readdirSync(w.root).filter((f) => f.includes('packpub-'))).toEqual([]);
  });
});

describe('pullPack with a signal', () => {
  it('ends at once when aborted while the manifest read waits for its answer', async () => {
    expectGivenUp(await pullAbortedDuring((m, p) => m === 'GET' && p.includes('/manifests/')));
  }, 60_000);

  it('ends at once when aborted while the blob download waits for its answer', async () => {
    expectGivenUp(await pullAbortedDuring((m, p) => m === 'GET' && p.includes('/blobs/')));
  }, 60_000);

  it('ends at once when aborted while the blob body stalls', async () => {
    expectGivenUp(await pullAbortedDuring((m, p) => m === 'GET' && p.includes('/blobs/'), Buffer.from([0x1f, 0x8b, 0x08])));
  }, 60_000);
});
