import { join } from 'node:path';
import type { AwsConnection, EcrClients } from '../aws/ecr-sdk.js';
import type { RegistryClientOptions } from '../registry/stack.js';

export type { RetryOptions } from '../registry/retry.js';

/** The store the CLI publishes to when no registry is given (here, not in open.ts, so the CLI's option code can name it without loading a store). */
export const DEFAULT_OCI_LAYOUT = './oci-packs';

export type RegistryType = 'generic' | 'harbor' | 'ecr';

/** ECR repository settings used when packpub creates repositories (fixed at creation by ECR). */
export interface EcrRepositoryOptions {
  /** Create missing repositories before pushing (default true). */
  create?: boolean;
  tagMutability?: 'MUTABLE' | 'IMMUTABLE' | 'MUTABLE_WITH_EXCLUSION' | 'IMMUTABLE_WITH_EXCLUSION';
  /** Wildcard tag filters of a *_WITH_EXCLUSION tagMutability (1 to 5; ECR requires them there, and refuses them elsewhere). */
  tagMutabilityExclusions?: string[];
  encryption?: 'AES256' | 'KMS' | 'KMS_DSSE';
  kmsKey?: string;
  tags?: Record<string, string>;
}

/** Everything needed to open a registry as a pack target: the client's options plus ECR and Harbor settings. */
export interface RegistryConnectionOptions extends RegistryClientOptions {
  /** generic / harbor / ecr; auto-detected from the host when undefined (ECR host pattern), else generic. */
  type?: RegistryType;
  /** ECR: API endpoint override (else AWS_ENDPOINT_URL_ECR, else the SDK default). */
  ecrEndpoint?: string;
  awsProfile?: string;
  awsRoleArn?: string;
  ecrRepositories?: EcrRepositoryOptions;
  /** ECR: the run's API clients, shared with the ECR token provider (one is made when absent). */
  ecrClients?: EcrClients;
  /** Harbor: create the project when it is missing. */
  createProject?: boolean;
  /** Warnings for the user (e.g. --insecure). */
  warn?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

/**
 * How a registry target's AWS API clients connect (ECR's, ECR Public's): the proxy variables of its environment, and
 * its CA file (--ca-file, tls.caFile), trusted besides Node's roots as its registry connections trust it, with the
 * bundle its environment's AWS_CA_BUNDLE names, as the aws CLI trusts it (the AWS SDK for JavaScript reads no such
 * variable: a runner set up for the aws CLI behind a TLS-intercepting proxy had every ECR call refused). Read (and
 * refused as --ca-file is) only when an AWS client is opened.
 */
export function awsConnectionOf(options: Pick<RegistryConnectionOptions, 'env' | 'caFile' | 'settingNames'>): AwsConnection {
  const env = options.env ?? process.env;
  const caFile = options.caFile;
  const named = env['AWS_CA_BUNDLE'];
  // A leading `~/` is the home folder's, as the AWS shared files' (awsFilesOf).
  const bundle = named === undefined || named === '' ? undefined : named.startsWith('~/') && (env['HOME'] ?? '') !== '' ? join(env['HOME'] as string, named.slice(2)) : named;
  if (caFile === undefined && bundle === undefined) return { env };
  return {
    env,
    trust: async () => {
      const { loadCaFile } = await import('../registry/http.js');
      const own = caFile === undefined ? undefined : loadCaFile(caFile, options.settingNames?.caFile);
      const aws = bundle === undefined ? undefined : loadCaFile(bundle, 'AWS_CA_BUNDLE', "the AWS API's certificate (or a TLS-intercepting proxy's)");
      // Each is Node's roots and NODE_EXTRA_CA_CERTS's certificates, then the file's: the roots once, then both files.
      return own === undefined ? (aws as string[]) : aws === undefined ? own : [...own, aws[aws.length - 1] as string];
    },
  };
}
