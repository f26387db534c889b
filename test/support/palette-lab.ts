import { startPaletteStandin, type PaletteStandin } from './palette-standin.js';
import { startRegistry, type RunningRegistry } from './registry.js';
import type { Stage } from './stage.js';

export interface PaletteLabWorld {
  root: string;
  registry: RunningRegistry;
  palette: PaletteStandin;
  /** The uid of the one pack registry Palette knows, serving `registry` under `base`. */
  uid: string;
}

/**
 * A registry on loopback and a Palette stand-in that knows it: a tenant-admin `key`, one basic pack registry
 * `name` serving the registry under `base` (sync supported, no auth), Palette's clock `clock`; `repositories`:
 * what Palette's sync finds there (default: the registry's catalog). Torn down with the stage.
 */
export async function startPaletteLab(
  stack: Stage,
  options: { prefix: string; key: string; name: string; base: string; clock?: { now(): number }; repositories?: () => Iterable<string> },
): Promise<PaletteLabWorld> {
  const root = await stack.tempDir(options.prefix);
  const registry = stack.add(await startRegistry());
  const lab = { url: registry.url, ...(options.repositories === undefined ? {} : { repositories: options.repositories }) };
  const palette = stack.add(
    await startPaletteStandin({ keys: { [options.key]: { role: 'tenant-admin' } }, labs: { [registry.host]: lab }, ...(options.clock === undefined ? {} : { clock: options.clock }) }),
  );
  const uid = palette.addRegistry('basic', options.name, { endpoint: `http://${registry.host}`, baseContentPath: options.base, providerType: 'pack', isSyncSupported: true, auth: { type: 'noAuth' } });
  return { root, registry, palette, uid };
}
