import { PackpubError } from '../../errors.js';
import type { CommandSpec } from '../context.js';

export const listCommand: CommandSpec = {
  command: 'list',
  describe: '(not implemented yet)',
  builder: (y) => y,
  run: async () => {
    throw new PackpubError('INTERNAL', 'list is not implemented yet');
  },
};
