import type { Argv } from 'yargs';
import { PackpubError } from '../errors.js';
import type { OpenTargetOptions } from '../targets/open.js';
import type { RegistryType } from '../targets/options.js';
import type { Args, CliContext } from './context.js';
import { readStdinSecret, writeLine } from './io.js';

const TARGET_GROUP = 'Target:';
const AUTH_GROUP = 'Authentication:';
const ECR_GROUP = 'AWS ECR:';
const NET_GROUP = 'Network:';

/** Flags that choose and reach a target; shared by push, list, inspect, pull, tag. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function targetFlags(y: Argv<any>): Argv<any> {
  return y
    .option('registry', {
      alias: 'r',
      type: 'string',
      group: TARGET_GROUP,
      describe: 'Registry as HOST[:PORT]/BASE-PATH; packs go to BASE-PATH/spectro-packs/archive/<name>:<version> (env PACKPUB_REGISTRY). Unset: the local OCI layout',
    })
    .option('oci-layout', {
      type: 'string',
      group: TARGET_GROUP,
      describe: 'Local OCI image layout directory to use instead of a registry (default when no registry: ./oci-packs)',
    })
    .option('registry-type', {
      type: 'string',
      choices: ['generic', 'harbor', 'ecr'],
      group: TARGET_GROUP,
      describe: 'Registry flavour; default: ecr for ECR host names, harbor when the registry answers Harbor\'s /api/v2.0/systeminfo, else generic',
    })
    .option('username', { alias: 'u', type: 'string', group: AUTH_GROUP, describe: 'Registry user name (env PACKPUB_USERNAME)' })
    .option('password-stdin', {
      type: 'boolean',
      default: false,
      group: AUTH_GROUP,
      describe: 'Read the password or token from standard input (env PACKPUB_PASSWORD)',
    })
    .option('registry-config', {
      type: 'string',
      group: AUTH_GROUP,
      describe: 'Docker config file with credentials (default $DOCKER_CONFIG/config.json, else ~/.docker/config.json)',
    })
    .option('allow-cross-host-auth', {
      type: 'boolean',
      default: false,
      group: AUTH_GROUP,
      describe: 'Send credentials to a token service on another host than the registry',
    })
    .option('plain-http', {
      type: 'boolean',
      group: NET_GROUP,
      describe: 'Use HTTP instead of HTTPS (default: on for localhost and 127.0.0.0/8, off elsewhere; --no-plain-http forces HTTPS there)',
    })
    .option('ca-file', { type: 'string', group: NET_GROUP, describe: 'PEM file of CA certificates to trust for the registry' })
    .option('insecure', { type: 'boolean', default: false, group: NET_GROUP, describe: 'Skip TLS certificate verification (warns every run)' })
    .option('resolve', {
      type: 'string',
      array: true,
      group: NET_GROUP,
      describe: 'Connect to ADDRESS for HOST:PORT, as curl --resolve (repeatable): HOST:PORT:ADDRESS',
    })
    .option('retry-attempts', { type: 'number', group: NET_GROUP, describe: 'Attempts per request, first included (default 6)' })
    .option('request-timeout', { type: 'number', group: NET_GROUP, describe: 'Seconds to wait for a response or body progress (default 60)' })
    .option('retry-deadline', { type: 'number', group: NET_GROUP, describe: 'Seconds after which a request is not retried any more (default 600)' })
    .option('aws-profile', { type: 'string', group: ECR_GROUP, describe: 'AWS profile for ECR (default: the SDK chain, AWS_PROFILE)' })
    .option('aws-role-arn', { type: 'string', group: ECR_GROUP, describe: 'Assume this IAM role (STS) before calling ECR' })
    .option('ecr-endpoint', { type: 'string', group: ECR_GROUP, describe: 'ECR API endpoint URL (default: AWS_ENDPOINT_URL_ECR, else the regional endpoint)' })
    .option('create-repositories', {
      type: 'boolean',
      default: true,
      group: ECR_GROUP,
      describe: 'Create missing ECR repositories before pushing (--no-create-repositories to turn off)',
    })
    .option('ecr-tag-mutability', {
      type: 'string',
      choices: ['MUTABLE', 'IMMUTABLE', 'MUTABLE_WITH_EXCLUSION', 'IMMUTABLE_WITH_EXCLUSION'],
      group: ECR_GROUP,
      describe: 'Tag mutability of repositories packpub creates (default MUTABLE, as ECR)',
    })
    .option('ecr-encryption', {
      type: 'string',
      choices: ['AES256', 'KMS', 'KMS_DSSE'],
      group: ECR_GROUP,
      describe: 'Encryption of repositories packpub creates (default AES256, as ECR)',
    })
    .option('ecr-kms-key', { type: 'string', group: ECR_GROUP, describe: 'KMS key ARN or id for --ecr-encryption KMS' })
    .option('ecr-tag', {
      type: 'string',
      array: true,
      group: ECR_GROUP,
      describe: 'Resource tag KEY=VALUE for repositories packpub creates (repeatable)',
    })
    .option('create-project', {
      type: 'boolean',
      default: false,
      group: 'Harbor:',
      describe: 'Create the Harbor project (first segment of the base path) when it is missing',
    });
}

function parseTags(values: string[] | undefined): Record<string, string> | undefined {
  if (values === undefined || values.length === 0) return undefined;
  const tags: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new PackpubError('USAGE', `--ecr-tag "${v}" is not KEY=VALUE`);
    tags[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return tags;
}

/** Map parsed flags and environment to library options. Reads stdin for --password-stdin. */
export async function targetOptionsFromArgs(args: Args, ctx: CliContext): Promise<OpenTargetOptions> {
  const { defaultCredentialChain } = await import('../credentials/default-chain.js');
  const env = ctx.io.env;
  if (Array.isArray(args['registry'])) {
    throw new PackpubError('USAGE', `--registry was given ${args['registry'].length} times; this command works on one registry`, {
      hint: 'only push takes several targets',
    });
  }
  const registry = (args['registry'] as string | undefined) ?? (env['PACKPUB_REGISTRY'] || undefined);
  const ociLayout = args['ociLayout'] as string | undefined;
  if (args['registry'] !== undefined && ociLayout !== undefined) {
    throw new PackpubError('USAGE', 'give either --registry or --oci-layout, not both');
  }
  const username = args['username'] as string | undefined;
  let password: string | undefined;
  if (args['passwordStdin'] === true) {
    if (username === undefined && (env['PACKPUB_USERNAME'] ?? '') === '') {
      throw new PackpubError('USAGE', '--password-stdin needs --username (or PACKPUB_USERNAME)');
    }
    password = await readStdinSecret(ctx.io);
  } else if (username !== undefined) {
    password = env['PACKPUB_PASSWORD'];
    if (password === undefined) {
      throw new PackpubError('USAGE', `--username ${username} needs a password`, {
        hint: 'pipe it in with --password-stdin, or set PACKPUB_PASSWORD (never put it on the command line)',
      });
    }
  }
  const insecure = args['insecure'] === true;
  const warn = (line: string) => writeLine(ctx.io.stderr, `warning: ${line}`);
  const debugOn = args['debug'] === true;
  const timeout = args['requestTimeout'] as number | undefined;
  const attempts = args['retryAttempts'] as number | undefined;
  const deadline = args['retryDeadline'] as number | undefined;
  for (const [flag, value] of [['--retry-attempts', attempts], ['--request-timeout', timeout], ['--retry-deadline', deadline]] as const) {
    if (value !== undefined && (!Number.isFinite(value) || value <= 0)) {
      throw new PackpubError('USAGE', `${flag} must be a positive number, got ${String(value)}`);
    }
  }
  const options: OpenTargetOptions = {
    ...(registry === undefined ? { ociLayout: ociLayout } : { registry }),
    type: args['registryType'] as RegistryType | undefined,
    plainHttp: args['plainHttp'] as boolean | undefined,
    caFile: args['caFile'] as string | undefined,
    insecure,
    resolve: args['resolve'] as string[] | undefined,
    allowCrossHostAuth: args['allowCrossHostAuth'] === true,
    credentials: defaultCredentialChain({
      username: username ?? (password !== undefined ? env['PACKPUB_USERNAME'] : undefined),
      password,
      env,
      registryConfig: args['registryConfig'] as string | undefined,
      ecrEndpoint: (args['ecrEndpoint'] as string | undefined) ?? (env['AWS_ENDPOINT_URL_ECR'] || undefined),
      awsProfile: args['awsProfile'] as string | undefined,
      awsRoleArn: args['awsRoleArn'] as string | undefined,
    }),
    retry: {
      ...(attempts === undefined ? {} : { attempts }),
      ...(timeout === undefined ? {} : { requestTimeoutMs: timeout * 1000 }),
      ...(deadline === undefined ? {} : { deadlineMs: deadline * 1000 }),
    },
    ecrEndpoint: (args['ecrEndpoint'] as string | undefined) ?? (env['AWS_ENDPOINT_URL_ECR'] || undefined),
    awsProfile: args['awsProfile'] as string | undefined,
    awsRoleArn: args['awsRoleArn'] as string | undefined,
    ecrRepositories: {
      create: args['createRepositories'] !== false,
      tagMutability: args['ecrTagMutability'] as never,
      encryption: args['ecrEncryption'] as never,
      kmsKey: args['ecrKmsKey'] as string | undefined,
      tags: parseTags(args['ecrTag'] as string[] | undefined),
    },
    createProject: args['createProject'] === true,
    warn,
    env,
    ...(debugOn ? { debug: (line: string) => writeLine(ctx.io.stderr, `debug: ${line}`) } : {}),
  };
  if (insecure) warn('--insecure: TLS certificates are not verified; anyone on the network path can read and change what is pushed');
  return options;
}
