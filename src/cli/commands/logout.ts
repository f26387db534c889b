import type { CommandSpec } from '../context.js';
import { EXIT_OK, userPath, writeLine } from '../io.js';
import { declareOwnFlags } from '../target-flags.js';

export const logoutCommand: CommandSpec = {
  command: 'logout <host>',
  describe: 'Remove saved credentials for a registry (from its credential helper and the Docker config)',
  builder: (y) =>
    declareOwnFlags(y, {
      positionals: { host: { type: 'string', describe: 'Registry host[:port]' } },
      options: { 'registry-config': { type: 'string', describe: 'Docker config file to change, under a lock file beside it (default $DOCKER_CONFIG/config.json, else ~/.docker/config.json)' } },
    }),
  run: async (args, ctx) => {
    const { loginHost, loginNotNeeded, logout } = await import('../../operations/login.js');
    const result = await logout({
      host: String(args['host']),
      env: ctx.io.env,
      ...(args['registryConfig'] === undefined ? {} : { registryConfig: userPath(ctx.io, args['registryConfig'] as string) }),
    });
    if (!result.removed) {
      writeLine(ctx.io.stdout, `Not logged in to ${result.host}: nothing stored in ${result.configPath}`);
      if (loginNotNeeded(loginHost(result.host).host) !== undefined) {
        writeLine(ctx.io.stdout, 'ECR registry passwords are minted on demand from AWS credentials and never stored.');
      }
      return EXIT_OK;
    }
    const where = result.removedFrom.map((s) => (s.kind === 'helper' ? s.program : s.path)).join(' and ');
    writeLine(ctx.io.stdout, `Removed credentials for ${result.host} from ${where}`);
    return EXIT_OK;
  },
};
