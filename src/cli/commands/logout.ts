import { PackpubError } from '../../errors.js';
import type { CommandSpec } from '../context.js';

export const logoutCommand: CommandSpec = {
  command: 'logout',
  describe: '(not implemented yet)',
  builder: (y) => y,
  run: async () => {
    throw new PackpubError('INTERNAL', 'logout is not implemented yet');
  },
};
