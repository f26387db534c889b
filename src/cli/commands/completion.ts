import type { CommandSpec } from '../context.js';
import { EXIT_OK } from '../io.js';
import { declareOwnFlags } from '../target-flags.js';

export const completionCommand: CommandSpec = {
  command: 'completion <shell>',
  describe: 'Print a shell completion script for packpub (bash, zsh or fish)',
  builder: (y) =>
    declareOwnFlags(y, {
      positionals: { shell: { type: 'string', choices: ['bash', 'zsh', 'fish'], describe: 'The shell to complete in' } },
      examples: [
        ['source <(packpub completion bash)', 'Complete packpub in this bash session (add it to ~/.bashrc to keep it)'],
        ['packpub completion fish > ~/.config/fish/completions/packpub.fish', 'Install it for fish'],
      ],
    }),
  run: async (args, ctx) => {
    const [{ completionScript, describeCommands }, commands] = await Promise.all([import('../completion.js'), import('./index.js').then((m) => m.loadCommands())]);
    const script = completionScript(args['shell'] as 'bash' | 'zsh' | 'fish', await describeCommands(commands));
    ctx.io.stdout.write(script);
    return EXIT_OK;
  },
};
