import { describe, expect, it } from 'vitest';
import { COMMAND_MODULES, loadCommands } from '../../../src/cli/commands/index.js';

/*
 * main() registers only the command named first, loading it by name from COMMAND_MODULES: a name that
 * loaded another command's module would run the wrong command, or refuse a valid one.
 */
describe('the command modules by name', () => {
  it('each name loads the command of that name; all of them, in help order, are what loadCommands gives', async () => {
    const specs = await loadCommands();
    const first = (command: string | string[]): string => (Array.isArray(command) ? command[0] : command)?.split(' ')[0] ?? '';
    expect(specs.map((s) => first(s.command))).toEqual(COMMAND_MODULES.map(([name]) => name));
    for (const [name, load] of COMMAND_MODULES) expect(first((await load()).command)).toBe(name);
    expect(new Set(COMMAND_MODULES.map(([name]) => name)).size).toBe(COMMAND_MODULES.length);
  });
});
