import { join } from 'node:path';
import { startHarborStandin, type HarborStandin, type HarborStandinOptions } from './harbor-standin.js';
import { writePack } from './packs.js';
import type { Stage } from './stage.js';

/*
 * The set-up the Harbor end-to-end tests share: a temp folder, packs `<name>:1.0.0` written in it (`hello` first),
 * and a Harbor stand-in, torn down with `stack`; `env()` is the environment a run gets (its own HOME and Docker
 * config, a fixed SOURCE_DATE_EPOCH so digests repeat).
 */

export interface HarborWorld {
  root: string;
  /** The folder of the first pack (`hello` unless named otherwise). */
  pack: string;
  /** Every pack's folder by name. */
  packs: Record<string, string>;
  harbor: HarborStandin;
  env(): Record<string, string>;
}

export async function harborWorld(stack: Stage, options: HarborStandinOptions, names: string[] = ['hello']): Promise<HarborWorld> {
  const root = await stack.tempDir();
  const packs: Record<string, string> = {};
  for (const name of names) packs[name] = await writePack(join(root, name), { name, version: '1.0.0' });
  const harbor = stack.add(await startHarborStandin(options));
  return {
    root,
    pack: packs[names[0] ?? 'hello'] ?? '',
    packs,
    harbor,
    env: () => ({ HOME: join(root, 'home'), DOCKER_CONFIG: join(root, 'docker'), SOURCE_DATE_EPOCH: '1700000000' }),
  };
}
