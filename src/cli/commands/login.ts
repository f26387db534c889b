import { PackpubError } from '../../errors.js';
import type { CommandSpec } from '../context.js';

export const loginCommand: CommandSpec = {
  command: 'login',
  describe: '(not implemented yet)',
  builder: (y) => y,
  run: async () => {
    throw new PackpubError('INTERNAL', 'login is not implemented yet');
  },
};
