import type { CredentialProvider } from '../credentials/types.js';

export type RegistryType = 'generic' | 'harbor' | 'ecr';

/** ECR repository settings used when packpub creates repositories (fixed at creation by ECR). */
export interface EcrRepositoryOptions {
  /** Create missing repositories before pushing (default true). */
  create?: boolean;
  tagMutability?: 'MUTABLE' | 'IMMUTABLE' | 'MUTABLE_WITH_EXCLUSION' | 'IMMUTABLE_WITH_EXCLUSION';
  encryption?: 'AES256' | 'KMS' | 'KMS_DSSE';
  kmsKey?: string;
  tags?: Record<string, string>;
}

export interface RetryOptions {
  /** Total attempts per request, first included (default 6: five retries, as oras-go). */
  attempts?: number;
  /** Per-request timeout in ms for headers and for each body chunk (default 60 000). */
  requestTimeoutMs?: number;
  /** Give up retrying a request after this many ms in all (default 600 000). */
  deadlineMs?: number;
}

/** Everything needed to open a registry as a pack target. */
export interface RegistryConnectionOptions {
  /** `host[:port]` */
  host: string;
  /** generic / harbor / ecr; auto-detected from the host when undefined (ECR host pattern), else generic. */
  type?: RegistryType;
  /** Talk HTTP instead of HTTPS (automatic for localhost and 127.0.0.0/8). */
  plainHttp?: boolean;
  /** PEM file with extra CA certificates to trust. */
  caFile?: string;
  /** Skip TLS verification (the CLI warns every run). */
  insecure?: boolean;
  /** curl-style `HOST:PORT:ADDRESS` overrides of DNS resolution. */
  resolve?: string[];
  /** Where credentials come from; the default chain when undefined. */
  credentials?: CredentialProvider;
  /** Allow sending credentials to a token realm on another host than the registry. */
  allowCrossHostAuth?: boolean;
  retry?: RetryOptions;
  /** ECR: API endpoint override (else AWS_ENDPOINT_URL_ECR, else the SDK default). */
  ecrEndpoint?: string;
  awsProfile?: string;
  awsRoleArn?: string;
  ecrRepositories?: EcrRepositoryOptions;
  /** Harbor: create the project when it is missing. */
  createProject?: boolean;
  /** Debug trace sink: redacted request lines. */
  debug?: (line: string) => void;
  /** Warnings for the user (e.g. --insecure). */
  warn?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  userAgent?: string;
}
