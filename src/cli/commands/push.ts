import { PackpubError } from '../../errors.js';
import type { CommandSpec } from '../context.js';

export const pushCommand: CommandSpec = {
  command: 'push',
  describe: '(not implemented yet)',
  builder: (y) => y,
  run: async () => {
    throw new PackpubError('INTERNAL', 'push is not implemented yet');
  },
};
