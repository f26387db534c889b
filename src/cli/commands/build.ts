import { PackpubError } from '../../errors.js';
import type { CommandSpec } from '../context.js';

export const buildCommand: CommandSpec = {
  command: 'build',
  describe: '(not implemented yet)',
  builder: (y) => y,
  run: async () => {
    throw new PackpubError('INTERNAL', 'build is not implemented yet');
  },
};
