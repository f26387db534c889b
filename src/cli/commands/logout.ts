import type { CommandSpec } from '../context.js';
import { EXIT_OK, userPath, writeLine } from '../io.js';
import { declareNamedFlags, declareOwnFlags } from '../target-flags.js';
import { retryFlags } from '../target-options.js';

export const logoutCommand: CommandSpec = {
  command: 'logout <host>',
  describe: 'Remove saved credentials for a registry (from its credential helper and the Docker config)',
  builder: (y) =>
    declareOwnFlags(
      declareNamedFlags(y, ['request-timeout'], {
        'request-timeout': 'Seconds to wait for the credential helper that erases them, if any (default 60)',
      }),
      {
        positionals: { host: { type: 'string', describe: 'Registry host[:port]' } },
        options: { 'registry-config': { type: 'string', describe: 'Docker config file to change, under a lock file beside it (default $DOCKER_CONFIG/config.json, else ~/.docker/config.json)' } },
      },
    ),
  run: async (args, ctx) => {
    const { loginHost, loginNotNeeded, logout } = await import('../../operations/login.js');
    // The credential helper that erases them gets one --request-timeout, as login's and every target's helper does.
    const timeoutMs = retryFlags(args)?.requestTimeoutMs;
    const result = await logout({
      host: String(args['host']),
      ...(timeoutMs === undefined ? {} : { helper: { timeoutMs } }),
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
