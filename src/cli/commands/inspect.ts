import { PackpubError } from '../../errors.js';
import type { CommandSpec } from '../context.js';

export const inspectCommand: CommandSpec = {
  command: 'inspect',
  describe: '(not implemented yet)',
  builder: (y) => y,
  run: async () => {
    throw new PackpubError('INTERNAL', 'inspect is not implemented yet');
  },
};
