import { PackpubError } from '../../errors.js';
import type { CommandSpec } from '../context.js';

export const initCommand: CommandSpec = {
  command: 'init',
  describe: '(not implemented yet)',
  builder: (y) => y,
  run: async () => {
    throw new PackpubError('INTERNAL', 'init is not implemented yet');
  },
};
