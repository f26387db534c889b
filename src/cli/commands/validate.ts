import { PackpubError } from '../../errors.js';
import type { CommandSpec } from '../context.js';

export const validateCommand: CommandSpec = {
  command: 'validate',
  describe: '(not implemented yet)',
  builder: (y) => y,
  run: async () => {
    throw new PackpubError('INTERNAL', 'validate is not implemented yet');
  },
};
