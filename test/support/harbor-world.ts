import { join } from 'node:path';
import { runCli, type CliRun } from './cli.js';
import { startHarborStandin, type HarborStandin, type HarborStandinOptions } from './harbor-standin.js';
import { writePack } from './packs.js';
import type { Stage } from './stage.js';

/*
 * The set-up the Harbor end-to-end tests share: a temp folder, packs `<name>:1.0.0` written in it (`hello` first),
 * and a Harbor stand-in, torn down with `stack`; `env()` is the environment a run gets (its own HOME and Docker
 * config, a fixed SOURCE_DATE_EPOCH so digests repeat); `runAs(user, args)` a run signed in as one of its users.
 */

export interface HarborWorld {
  root: string;
  /** The folder of the first pack (`hello` unless named otherwise). */
  pack: string;
  /** Every pack's folder by name. */
  packs: Record<string, string>;
  harbor: HarborStandin;
  env(): Record<string, string>;
  /** `packpub <args> --registry-type harbor -u <user> --password-stdin`, the user's password (options.users) on stdin, in env(). */
  runAs(user: string, args: string[]): Promise<CliRun>;
}

export async function harborWorld(stack: Stage, options: HarborStandinOptions, names: string[] = ['hello']): Promise<HarborWorld> {
  const root = await stack.tempDir();
  const packs: Record<string, string> = {};
  for (const name of names) packs[name] = await writePack(join(root, name), { name, version: '1.0.0' });
  const harbor = stack.add(await startHarborStandin(options));
  const env = () => ({ HOME: join(root, 'home'), DOCKER_CONFIG: join(root, 'docker'), SOURCE_DATE_EPOCH: '1700000000' });
  const runAs = (user: string, args: string[]): Promise<CliRun> => {
    const account = options.users[user];
    if (account === undefined) throw new Error(`harborWorld: no user ${user}`);
    return runCli([...args, '--registry-type', 'harbor', '-u', user, '--password-stdin'], { stdin: typeof account === 'string' ? account : account.password, env: env() });
  };
  return { root, pack: packs[names[0] ?? 'hello'] ?? '', packs, harbor, env, runAs };
}
