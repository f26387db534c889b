import type { CommandSpec } from '../context.js';
import { buildCommand } from './build.js';
import { completionCommand } from './completion.js';
import { copyCommand } from './copy.js';
import { deleteCommand } from './delete.js';
import { initCommand } from './init.js';
import { inspectCommand } from './inspect.js';
import { listCommand } from './list.js';
import { loginCommand } from './login.js';
import { logoutCommand } from './logout.js';
import { paletteCommand } from './palette.js';
import { pullCommand } from './pull.js';
import { pushCommand } from './push.js';
import { tagCommand } from './tag.js';
import { validateCommand } from './validate.js';

/** In the order `--help` lists them. */
export const commands: CommandSpec[] = [
  validateCommand,
  buildCommand,
  pushCommand,
  listCommand,
  inspectCommand,
  pullCommand,
  tagCommand,
  deleteCommand,
  copyCommand,
  paletteCommand,
  loginCommand,
  logoutCommand,
  initCommand,
  completionCommand,
];
