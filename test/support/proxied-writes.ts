import { join } from 'node:path';
import { expect } from 'vitest';
import { runCli } from './cli.js';
import { writePack } from './packs.js';
import { sharedRegistry, type SharedRegistry } from './registry.js';
import { RegistryReader } from './registry-reader.js';
import { stackLines } from './secrets.js';
import type { Stage } from './stage.js';
import { startWireProxy, type WireProxy } from './wire-proxy.js';

/*
 * The worker's shared registry behind a wire proxy (wire-proxy.ts), for tests of how packpub takes answers changed on
 * the way, and the check that push, tag and copy through the proxy all landed, read straight from the registry.
 */

export interface ProxiedWrites {
  root: string;
  registry: SharedRegistry;
  proxy: WireProxy;
  /** Reads the registry itself, never through the proxy. */
  reader: RegistryReader;
  /** `<proxy host>/<base>`: the registry as packpub sees it. */
  R: string;
}

export async function proxiedSharedRegistry(stack: Stage, prefix: string): Promise<ProxiedWrites> {
  const root = await stack.tempDir(prefix);
  const registry = await sharedRegistry();
  const proxy = stack.add(await startWireProxy(registry.host));
  return { root, registry, proxy, reader: new RegistryReader(registry.url), R: `${proxy.host}/${registry.base}` };
}

/**
 * Push a new pack `name`:1.0.0 through the proxy, tag it `stable` and copy it to `<base>/copied`, with the proxy's
 * hook in place for all three; each must end exit 0 without a stack, and the registry must hold the three tags on one
 * digest, with no problem (every blob there).
 */
export async function pushTagCopyLand(w: ProxiedWrites, name: string, hook: WireProxy['onRequest'], flags: readonly string[] = []): Promise<void> {
  const dir = await writePack(join(w.root, name), { name, version: '1.0.0' });
  w.proxy.onRequest = hook;
  const runs = [];
  try {
    runs.push(await runCli(['push', dir, '--registry', w.R, '--no-cache', ...flags]));
    runs.push(await runCli(['tag', `${name}:1.0.0`, 'stable', '--registry', w.R, ...flags]));
    runs.push(await runCli(['copy', `${name}:1.0.0`, '--from', w.R, '--to', `${w.R}/copied`, ...flags]));
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
  const digest = at(`spectro-packs/archive/${name}:1.0.0`);
  expect(digest).toMatch(/^sha256:/);
  expect(at(`spectro-packs/archive/${name}:stable`)).toBe(digest);
  expect(at(`copied/spectro-packs/archive/${name}:1.0.0`)).toBe(digest);
}
