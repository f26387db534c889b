import { envValue } from '../../credentials/env.js';
import { PackpubError } from '../../errors.js';
import type { CommandSpec, CliContext } from '../context.js';
import { EXIT_OK, readStdinSecret, userPath, writeLine } from '../io.js';
import { promptLine, stdinIsTty } from '../prompt.js';
import { declareNamedFlags, declareOwnFlags, type OwnFlags } from '../target-flags.js';
import { registryOnlySettings, retryFlags } from '../target-options.js';


/** Read a line from a terminal without echoing it (raw mode); Ctrl-C cancels. */
async function promptHidden(ctx: CliContext, question: string): Promise<string> {
  const stdin = ctx.io.stdin as NodeJS.ReadStream;
  ctx.io.stderr.write(question);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let value = '';
      const onData = (text: string) => {
        for (const ch of text) {
          if (ch === '\r' || ch === '\n' || ch === '\u0004') {
            stdin.off('data', onData);
            resolve(value);
            return;
          }
          if (ch === '\u0003') {
            stdin.off('data', onData);
            reject(new PackpubError('ABORTED', 'login cancelled'));
            return;
          }
          value = ch === '\u007f' || ch === '\b' ? value.slice(0, -1) : value + ch;
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    ctx.io.stderr.write('\n');
  }
}

const NET_GROUP = 'Network:';

/** login's own flags: its credential and network flags say what login does with them (it saves credentials). */
const LOGIN_FLAGS: OwnFlags = {
  positionals: { host: { type: 'string', describe: 'Registry host[:port], e.g. harbor.example.com' } },
  options: {
    username: { alias: 'u', type: 'string', describe: 'User or robot account (env PACKPUB_USERNAME); quote robot names: -u \'robot$proj+ci\'' },
    'password-stdin': { type: 'boolean', default: false, describe: 'Read the password or token from standard input (else PACKPUB_PASSWORD, else a prompt on a terminal)' },
    'registry-config': {
      type: 'string',
      describe: 'Docker config file to write, under a lock file beside it (default $DOCKER_CONFIG/config.json, else ~/.docker/config.json)',
    },
    'plain-http': { type: 'boolean', group: NET_GROUP, describe: 'Use HTTP instead of HTTPS (default: on for localhost, 127.0.0.0/8 and [::1]; --no-plain-http forces HTTPS there)' },
    'ca-file': { type: 'string', group: NET_GROUP, describe: 'PEM file of CA certificates to trust for the registry' },
    insecure: { type: 'boolean', default: false, group: NET_GROUP, describe: 'Skip TLS certificate verification (warns)' },
    resolve: { type: 'string', array: true, group: NET_GROUP, describe: 'Connect to ADDRESS for HOST:PORT, as curl --resolve (repeatable); not for a host reached through a proxy (HTTPS_PROXY), which resolves it' },
    'allow-cross-host-auth': { type: 'boolean', default: false, describe: 'Send credentials to a token service on another host than the registry (not needed for one on a domain above its name: gitlab.com for registry.gitlab.com)' },
  },
  examples: [["echo \"$HARBOR_TOKEN\" | $0 login harbor.example.com -u 'robot$spectro+ci' --password-stdin", 'Log in with a Harbor robot account']],
};

export const loginCommand: CommandSpec = {
  command: 'login <host>',
  describe: 'Check credentials against a registry and save them where Docker, ORAS, Helm and skopeo find them',
  // The network limits every command takes: a registry that never answers ends a CI step at --request-timeout.
  // login asks the registry (and its token service) only: an ECR host is answered without a request (loginNotNeeded).
  builder: (y) =>
    declareOwnFlags(
      declareNamedFlags(y, ['cert-file', 'key-file', 'header', 'retry-attempts', 'request-timeout', 'retry-deadline', 'retry-delay'], {
        'request-timeout': 'Seconds to wait for a response or body progress from the registry or its token service, and for the credential helper that saves them (default 60)',
        'retry-delay': 'Seconds to wait before the first retry, doubling per retry up to 3 s, with jitter; Retry-After answers still win when they ask longer, up to 60 s (default 0.25; 0 to 60)',
      }),
      LOGIN_FLAGS,
    ),
  run: async (args, ctx) => {
    // Loaded on use: the registry client stays out of CLI start-up.
    const { login, loginHost, loginNotNeeded } = await import('../../operations/login.js');
    const io = ctx.io;
    const hostArg = String(args['host']);
    // Flag mistakes are refused before any prompt or request.
    const registryOnly = registryOnlySettings(args, ctx);
    const notNeeded = loginNotNeeded(loginHost(hostArg).host);
    if (notNeeded !== undefined) {
      writeLine(io.stdout, `${notNeeded}.`);
      writeLine(io.stdout, 'Nothing was saved. Run packpub push / list / pull directly.');
      return EXIT_OK;
    }
    const interactive = stdinIsTty(io);
    // From the environment without one trailing line break, blanks as empty, as every other reader of these variables takes them.
    let username = (args['username'] as string | undefined) ?? (envValue(io.env, 'PACKPUB_USERNAME') || undefined);
    if (username === undefined) {
      if (args['passwordStdin'] === true || !interactive) {
        throw new PackpubError('USAGE', 'login needs a user name', { hint: 'pass -u USER (or set PACKPUB_USERNAME)' });
      }
      username = await promptLine(io, 'Username: ');
    }
    let password: string;
    const envPassword = envValue(io.env, 'PACKPUB_PASSWORD');
    if (args['passwordStdin'] === true) password = await readStdinSecret(io);
    else if (envPassword !== undefined && envPassword !== '') password = envPassword;
    else if (interactive) password = await promptHidden(ctx, 'Password: ');
    else {
      throw new PackpubError('USAGE', 'no password given and standard input is not a terminal to ask for one', {
        hint: 'pipe it in: echo "$TOKEN" | packpub login HOST -u USER --password-stdin',
      });
    }
    if (args['insecure'] === true) writeLine(io.stderr, 'warning: --insecure: TLS certificates are not verified');
    const debugOn = args['debug'] === true;
    const retry = retryFlags(args);
    const result = await login({
      host: hostArg,
      username,
      password,
      env: io.env,
      ...(args['registryConfig'] === undefined ? {} : { registryConfig: userPath(io, args['registryConfig'] as string) }),
      ...(args['plainHttp'] === undefined ? {} : { plainHttp: args['plainHttp'] as boolean }),
      ...(args['caFile'] === undefined ? {} : { caFile: userPath(io, args['caFile'] as string) }),
      insecure: args['insecure'] === true,
      ...registryOnly,
      ...(args['resolve'] === undefined ? {} : { resolve: args['resolve'] as string[] }),
      allowCrossHostAuth: args['allowCrossHostAuth'] === true,
      ...(retry === undefined ? {} : { retry }),
      // The credential helper that saves them gets one --request-timeout too, as every helper a target asks does.
      ...(retry?.requestTimeoutMs === undefined ? {} : { helper: { timeoutMs: retry.requestTimeoutMs } }),
      ...(debugOn ? { debug: (line: string) => writeLine(io.stderr, `debug: ${line}`) } : {}),
    });
    if (!result.checked) {
      writeLine(io.stderr, `warning: ${result.host} answered /v2/ without asking for credentials, so they were saved without being checked`);
    }
    if (result.storedIn.kind === 'helper') {
      writeLine(io.stdout, `Login succeeded: credentials for ${result.host} stored with ${result.storedIn.program}`);
    } else {
      writeLine(io.stdout, `Login succeeded: credentials for ${result.host} saved in ${result.storedIn.path}`);
      writeLine(
        io.stderr,
        'note: the password is stored base64-encoded, not encrypted (mode 0600); set "credsStore" in that file to keep it in a credential helper instead',
      );
    }
    return EXIT_OK;
  },
};
