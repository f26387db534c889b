import { join } from 'node:path';
import { expect } from 'vitest';
import type { CliRun } from './cli.js';
import { startPaletteStandin, type PaletteStandin } from './palette-standin.js';
import { sharedRegistry, startRegistry, type RunningRegistry } from './registry.js';
import type { Stage } from './stage.js';

export interface PaletteLabWorld {
  root: string;
  registry: RunningRegistry;
  palette: PaletteStandin;
  /** The uid of the one pack registry Palette knows, serving `registry` under `under(base)`. */
  uid: string;
  /**
   * `path` as a base path of this lab on `registry`: under the base path the worker's shared registry handed
   * it (`shared`), else `path` itself. Every repository the lab's tests use goes under one.
   */
  under: (path: string) => string;
  /** A user of this Palette: HOME and DOCKER_CONFIG in `root`, the stand-in's endpoint, the tenant-admin key. */
  env: { HOME: string; DOCKER_CONFIG: string; SPECTROCLOUD_HOST: string; SPECTROCLOUD_APIKEY: string };
  /** The target flags of the lab's base path on `registry` (`--registry <host>/<under(base)>`). */
  at: string[];
}

/**
 * A registry on loopback and a Palette stand-in that knows it: a tenant-admin `key`, one basic pack registry
 * `name` serving the registry under `under(base)` (sync supported, no auth), Palette's clock `clock`; `repositories`:
 * what Palette's sync finds there (default: the registry's catalog, of which the stand-in reads only what is
 * under the registry's base path, as Palette does). `shared`: the registry is the worker's shared one
 * (sharedRegistry) rather than one of the lab's own; a test then names every repository through `under`. `env`: a user
 * of that Palette with the key; `at`: the target flags of `under(base)`. Torn down with the stage.
 */
export async function startPaletteLab(
  stack: Stage,
  options: { prefix: string; key: string; name: string; base: string; clock?: { now(): number }; repositories?: () => Iterable<string>; shared?: boolean },
): Promise<PaletteLabWorld> {
  const root = await stack.tempDir(options.prefix);
  const shared = options.shared === true ? await sharedRegistry() : undefined;
  const registry = shared ?? stack.add(await startRegistry());
  const under = (path: string): string => (shared === undefined ? path : `${shared.base}/${path}`);
  const lab = { url: registry.url, ...(options.repositories === undefined ? {} : { repositories: options.repositories }) };
  const palette = stack.add(
    await startPaletteStandin({ keys: { [options.key]: { role: 'tenant-admin' } }, labs: { [registry.host]: lab }, ...(options.clock === undefined ? {} : { clock: options.clock }) }),
  );
  const uid = palette.addRegistry('basic', options.name, { endpoint: `http://${registry.host}`, baseContentPath: under(options.base), providerType: 'pack', isSyncSupported: true, auth: { type: 'noAuth' } });
  const env = { HOME: join(root, 'home'), DOCKER_CONFIG: join(root, 'docker'), SPECTROCLOUD_HOST: palette.url, SPECTROCLOUD_APIKEY: options.key };
  return { root, registry, palette, uid, under, env, at: ['--registry', `${registry.host}/${under(options.base)}`] };
}

/**
 * A run that synced registry `uid` once and confirmed the one pack `name` 1.0.0 (`palette sync`): exit 0, its
 * output exactly the `visible in Palette` line with the packUid Palette gave the pack, nothing Palette's API refuses.
 */
export function expectSyncedVisible(run: CliRun, palette: PaletteStandin, uid: string, name: string): void {
  expect(run.code, run.stderr).toBe(0);
  const packUid = palette.registries.get(uid)?.index.get(name)?.get('1.0.0')?.packUid;
  expect(packUid).toMatch(/^[0-9a-f]{24}$/);
  expect(run.stdout).toBe(`visible in Palette ${name}:1.0.0 (packUid ${packUid})\n`);
  expect(palette.registries.get(uid)?.syncRequests).toHaveLength(1);
  expect(palette.violations()).toEqual([]);
}
