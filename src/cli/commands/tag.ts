import { PackpubError } from '../../errors.js';
import type { CommandSpec } from '../context.js';

export const tagCommand: CommandSpec = {
  command: 'tag',
  describe: '(not implemented yet)',
  builder: (y) => y,
  run: async () => {
    throw new PackpubError('INTERNAL', 'tag is not implemented yet');
  },
};
