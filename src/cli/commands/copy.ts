import { PackpubError } from '../../errors.js';
import type { CommandSpec } from '../context.js';

export const copyCommand: CommandSpec = {
  command: 'copy',
  describe: '(not implemented yet)',
  builder: (y) => y,
  run: async () => {
    throw new PackpubError('INTERNAL', 'copy is not implemented yet');
  },
};
