import type { Argv } from 'yargs';
import { configFileFlag } from '../config-flags.js';
import type { CommandSpec } from '../context.js';

type Side = 'from' | 'to';
const SIDE_GROUP: Record<Side, string> = { from: 'Source (--from):', to: 'Destination (--to):' };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function sideFlags(y: Argv<any>, side: Side): Argv<any> {
  const group = SIDE_GROUP[side];
  const env = `PACKPUB_${side.toUpperCase()}`;
  return y
    .option(`${side}-username`, { type: 'string', group, describe: `User name for the ${side === 'from' ? 'source' : 'destination'} registry (env ${env}_USERNAME)` })
    .option(`${side}-password-stdin`, {
      type: 'boolean',
      default: false,
      group,
      describe: `Read its password or token from standard input (env ${env}_PASSWORD)`,
    })
    .option(`${side}-registry-type`, { type: 'string', choices: ['generic', 'harbor', 'ecr'], group, describe: 'Registry flavour (default: ecr for ECR hosts, else generic)' })
    .option(`${side}-plain-http`, { type: 'boolean', group, describe: 'Use HTTP (default: on for localhost and 127.0.0.0/8)' })
    .option(`${side}-ca-file`, { type: 'string', group, describe: 'PEM file of CA certificates to trust' })
    .option(`${side}-insecure`, { type: 'boolean', default: false, group, describe: 'Skip TLS certificate verification (warns every run)' });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function copyFlags(y: Argv<any>): Argv<any> {
  const shared = 'Both sides:';
  const dest = SIDE_GROUP.to;
  const core = y
    .positional('ref', { type: 'string', describe: '<name>:<version>, or <name> with --all; leave out with --all to copy every pack' })
    .option('from', {
      type: 'string',
      demandOption: true,
      describe: 'Source: HOST[:PORT]/BASE-PATH, oci:DIR for an OCI layout, or a target named in packpub.yaml',
    })
    .option('to', {
      type: 'string',
      demandOption: true,
      describe: 'Destination: HOST[:PORT]/BASE-PATH, oci:DIR for an OCI layout, or a target named in packpub.yaml',
    })
    .option('all', { type: 'boolean', default: false, describe: 'Every version of <name>, or without a name every pack under the source base path' })
    // No yargs defaults on flags used with .conflicts(): yargs counts a default as given.
    .option('force', { type: 'boolean', describe: 'Replace a version that holds a different manifest (Palette caches digests: avoid)' })
    .option('skip-existing', { type: 'boolean', describe: 'Keep a version that holds a different manifest and report it as skipped' })
    .option('dry-run', { type: 'boolean', default: false, describe: 'Print the plan (new / unchanged / conflict, bytes to copy); write nothing' })
    .option('fail-fast', { type: 'boolean', default: false, describe: 'Stop starting new versions after the first failure' })
    .option('concurrency', { type: 'number', describe: 'Versions copied at once (default: four per core, 4 to 16)' })
    .option('json', { type: 'boolean', describe: 'Print one JSON report on stdout (docs/report.md)' })
    .option('json-lines', { type: 'boolean', describe: 'Print one JSON line per version, then a summary line' });
  return configFileFlag(
    sideFlags(sideFlags(core, 'from'), 'to')
      .option('create-repositories', { type: 'boolean', default: true, group: dest, describe: 'Create missing ECR repositories (--no-create-repositories to turn off)' })
      .option('ecr-tag-mutability', {
        type: 'string',
        choices: ['MUTABLE', 'IMMUTABLE', 'MUTABLE_WITH_EXCLUSION', 'IMMUTABLE_WITH_EXCLUSION'],
        group: dest,
        describe: 'Tag mutability of ECR repositories packpub creates (default MUTABLE)',
      })
      .option('ecr-encryption', { type: 'string', choices: ['AES256', 'KMS', 'KMS_DSSE'], group: dest, describe: 'Encryption of ECR repositories packpub creates' })
      .option('ecr-kms-key', { type: 'string', group: dest, describe: 'KMS key for --ecr-encryption KMS' })
      .option('ecr-tag', { type: 'string', array: true, group: dest, describe: 'Resource tag KEY=VALUE for ECR repositories packpub creates' })
      .option('create-project', { type: 'boolean', default: false, group: dest, describe: 'Create the Harbor project when it is missing' })
      .option('registry-config', { type: 'string', group: shared, describe: 'Docker config file with credentials for both registries' })
      .option('allow-cross-host-auth', { type: 'boolean', default: false, group: shared, describe: 'Send credentials to a token service on another host' })
      .option('resolve', { type: 'string', array: true, group: shared, describe: 'HOST:PORT:ADDRESS, as curl --resolve (repeatable)' })
      .option('retry-attempts', { type: 'number', group: shared, describe: 'Attempts per request, first included (default 6)' })
      .option('request-timeout', { type: 'number', group: shared, describe: 'Seconds to wait for a response or body progress (default 60)' })
      .option('aws-profile', { type: 'string', group: shared, describe: 'AWS profile for ECR (default: the SDK chain)' })
      .option('aws-role-arn', { type: 'string', group: shared, describe: 'Assume this IAM role before calling ECR' })
      .option('ecr-endpoint', { type: 'string', group: shared, describe: 'ECR API endpoint URL (default: AWS_ENDPOINT_URL_ECR, else regional)' }),
  )
    .conflicts('force', 'skip-existing')
    .conflicts('json', 'json-lines')
    .example('$0 copy hello-universe:1.2.0 --from staging.example.com/packs --to prod.example.com/packs', 'Promote one version')
    .example('$0 copy --all --from staging --to prod', 'Every pack, between two targets named in packpub.yaml')
    .example('$0 copy hello-universe --all --from oci:./oci-packs --to harbor.example.com/spectro-oci-registry', 'Every version, from a local layout');
}

export const copyCommand: CommandSpec = {
  command: 'copy [ref]',
  describe: 'Promote published packs between registries (or OCI layouts) by digest, without rebuilding',
  builder: copyFlags,
  run: async (args, ctx) => (await import('../copy-run.js')).runCopy(args, ctx),
};
