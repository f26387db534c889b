import { PackpubError } from '../../errors.js';
import type { CommandSpec } from '../context.js';

export const pullCommand: CommandSpec = {
  command: 'pull',
  describe: '(not implemented yet)',
  builder: (y) => y,
  run: async () => {
    throw new PackpubError('INTERNAL', 'pull is not implemented yet');
  },
};
