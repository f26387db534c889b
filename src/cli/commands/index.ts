import type { CommandSpec } from '../context.js';

/**
 * Every command's module by the command's name, loaded on demand, in the order `--help` lists them. A
 * run whose first word names a command loads that module only (main.ts): publishing one pack should
 * not pay for compiling every other command and what it imports (issue 16).
 */
export const COMMAND_MODULES: ReadonlyArray<readonly [name: string, load: () => Promise<CommandSpec>]> = [
  ['validate', async () => (await import('./validate.js')).validateCommand],
  ['build', async () => (await import('./build.js')).buildCommand],
  ['push', async () => (await import('./push.js')).pushCommand],
  ['list', async () => (await import('./list.js')).listCommand],
  ['inspect', async () => (await import('./inspect.js')).inspectCommand],
  ['pull', async () => (await import('./pull.js')).pullCommand],
  ['tag', async () => (await import('./tag.js')).tagCommand],
  ['delete', async () => (await import('./delete.js')).deleteCommand],
  ['copy', async () => (await import('./copy.js')).copyCommand],
  ['palette', async () => (await import('./palette.js')).paletteCommand],
  ['login', async () => (await import('./login.js')).loginCommand],
  ['logout', async () => (await import('./logout.js')).logoutCommand],
  ['init', async () => (await import('./init.js')).initCommand],
  ['completion', async () => (await import('./completion.js')).completionCommand],
];

/** All commands, in the order `--help` lists them. */
export function loadCommands(): Promise<CommandSpec[]> {
  return Promise.all(COMMAND_MODULES.map(([, load]) => load()));
}
